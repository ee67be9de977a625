import CZlib
import Foundation

/// Writes 8-bit grayscale or RGB images as PNG files (ISO/IEC 15948): the signature, an
/// `IHDR` chunk (bit depth 8, colour type 0 or 2, no interlace), one `IDAT` chunk holding
/// the zlib stream (`compress2`, level 9) of the rows, each with filter byte 0, and `IEND`;
/// each chunk's CRC-32 from zlib's `crc32`. Readers such as PIL and browsers open them.
public enum PNGWriter {
    /// The eight bytes every PNG file starts with.
    public static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// A PNG of `height × width` pixels with `channels` interleaved 8-bit samples each
    /// (1: grayscale, 3: RGB), row-major from the top-left.
    ///
    /// - Throws: `ToolkitError(.invalidArgument)` for a size ≤ 0 or above 2³¹ − 1 or channels
    ///   other than 1 and 3; `.shape` when `pixels.count ≠ height · width · channels`;
    ///   `.io` if zlib fails.
    public static func encode(pixels: [UInt8], width: Int, height: Int, channels: Int) throws -> [UInt8] {
        guard width > 0, height > 0, width <= Int(Int32.max), height <= Int(Int32.max) else {
            throw ToolkitError(.invalidArgument, "PNGWriter: the size must be positive, got \(width)×\(height)")
        }
        guard channels == 1 || channels == 3 else {
            throw ToolkitError(.invalidArgument, "PNGWriter: 1 (grayscale) or 3 (RGB) channels, got \(channels)")
        }
        let rowBytes = width * channels
        guard pixels.count == rowBytes * height else {
            throw ToolkitError(.shape, "PNGWriter: \(pixels.count) bytes do not make \(width)×\(height)×\(channels)")
        }
        // Scanlines, each preceded by filter type 0 (None).
        var raw = [UInt8](repeating: 0, count: (rowBytes + 1) * height)
        for y in 0..<height {
            raw.replaceSubrange((y * (rowBytes + 1) + 1)...(y * (rowBytes + 1) + rowBytes),
                                with: pixels[(y * rowBytes)..<((y + 1) * rowBytes)])
        }
        var header: [UInt8] = []
        header += bigEndian(UInt32(width))
        header += bigEndian(UInt32(height))
        header += [8, channels == 1 ? 0 : 2, 0, 0, 0]  // depth, colour type, compression, filter, interlace
        var png = signature
        png += chunk("IHDR", header)
        png += chunk("IDAT", try zlibCompress(raw))
        png += chunk("IEND", [])
        return png
    }

    /// An image of floats (CHW, 1 or 3 channels) as a PNG: each value clamped to [0, 1],
    /// times 255, rounded (NaN as 0).
    public static func encode(_ image: Image) throws -> [UInt8] {
        try encode(pixels: interleavedBytes(image), width: image.width, height: image.height, channels: image.channels)
    }

    /// Writes ``encode(_:)`` of `image` to `path` (atomically).
    public static func write(_ image: Image, to path: String) throws {
        try AtomicFile.write(try encode(image), to: path)
    }

    /// The image's values as interleaved (HWC) bytes.
    static func interleavedBytes(_ image: Image) -> [UInt8] {
        let plane = image.height * image.width
        var bytes = [UInt8](repeating: 0, count: plane * image.channels)
        for c in 0..<image.channels {
            for i in 0..<plane {
                let v = image.pixels[c * plane + i]
                bytes[i * image.channels + c] = v.isNaN ? 0 : UInt8((Swift.min(Swift.max(v, 0), 1) * 255).rounded())
            }
        }
        return bytes
    }

    /// A chunk: length, type, data, CRC-32 of type and data.
    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let typeAndData = Array(type.utf8) + data
        return bigEndian(UInt32(data.count)) + typeAndData + bigEndian(crc32(typeAndData))
    }

    /// zlib's CRC-32 of `bytes`.
    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBufferPointer { UInt32(truncatingIfNeeded: CZlib.crc32(0, $0.baseAddress, uInt($0.count))) }
    }

    static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }

    /// A zlib stream (RFC 1950) of `bytes`.
    private static func zlibCompress(_ bytes: [UInt8]) throws -> [UInt8] {
        var capacity = compressBound(uLong(bytes.count))
        var out = [UInt8](repeating: 0, count: Int(capacity))
        let status = out.withUnsafeMutableBufferPointer { target in
            bytes.withUnsafeBufferPointer { source in
                compress2(target.baseAddress, &capacity, source.baseAddress, uLong(source.count), 9)
            }
        }
        guard status == Z_OK else { throw ToolkitError(.io, "PNGWriter: zlib compress2 failed with status \(status)") }
        return Array(out.prefix(Int(capacity)))
    }
}
