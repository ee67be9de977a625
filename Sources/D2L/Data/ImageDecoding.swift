#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import CJPEG
import CPNG

/// Reads PNG and JPEG files into an ``Image`` (`channels × height × width` floats in
/// [0, 1], byte / 255), with the results of PIL's `Image.open(path).convert("RGB")`,
/// the loader of torchvision's `ImageFolder`.
///
/// The format is told by the file's signature (`89 50 4E 47 0D 0A 1A 0A` for PNG,
/// `FF D8 FF` for JPEG), never by its name. With ``Mode/rgb`` every image has 3 channels:
///
/// - PNG (libpng): grayscale, gray+alpha, RGB, RGBA, palette, 1/2/4/8/16 bits, interlaced
///   or not. Gray is repeated in R, G and B; alpha is dropped without compositing (as
///   PIL's convert does); palette entries are looked up, tRNS ignored; bit depths below 8
///   are scaled to 8 bits (1-bit: 0 or 255; 2-bit: ×85; 4-bit: ×17). 16-bit samples are
///   reduced as PIL does: RGB, RGBA and gray+alpha keep their **high byte**, while
///   16-bit grayscale (PIL's mode `I;16`) is **clipped** to 255 (`min(v, 255)`; so most of
///   a 16-bit gray photo is white, as with PIL). No gamma correction (gAMA, sRGB, iCCP
///   are ignored, as by PIL).
/// - JPEG (libjpeg): baseline and progressive, grayscale, YCbCr/RGB, and 4-channel CMYK or
///   YCCK, which (as PIL) is taken as Adobe's inverted CMYK and converted with PIL's
///   formula `R = (255 − K) − (C·(255 − K))/255` (rounded as PIL's `MULDIV255`), C and K
///   PIL's (un-inverted) values. libjpeg's defaults (islow DCT, fancy upsampling), as PIL;
///   other libjpeg builds may differ from PIL's by a level or two. EXIF orientation is
///   ignored (as by PIL's `open`). Warnings are ignored as by PIL, except a file that ends
///   before its last scan: it is refused, as PIL refuses it.
///
/// ``Mode/native`` keeps one channel for images that are grayscale in the file (PNG gray,
/// gray+alpha, 1–16-bit gray; JPEG grayscale), with the same values; others are RGB.
///
/// An image larger than ``maxDecodedBytes`` (width · height · channels of the decoded
/// bytes) is refused before anything is allocated for it; files larger than
/// ``maxFileBytes`` are refused before they are read.
///
/// ```swift
/// let image = try ImageDecoder.decode(path: "cat.jpg")   // 3 × H × W
/// ```
public enum ImageDecoder {
    /// The channels of decoded images.
    public enum Mode: Sendable {
        /// Always 3 channels (R, G, B): PIL's `convert("RGB")`.
        case rgb
        /// 1 channel for a grayscale file, 3 otherwise.
        case native
        /// Always 1 channel: PIL's `convert("L")`. Gray files keep their values; colour
        /// is converted with PIL's `L = (19595 R + 38470 G + 7471 B + 2¹⁵) >> 16` on the
        /// 8-bit RGB values (CMYK JPEGs after their RGB conversion).
        case gray
    }

    /// The file formats recognized by signature.
    public enum Format: String, Sendable {
        case png = "PNG"
        case jpeg = "JPEG"
    }

    /// The largest decoded image, in bytes of 8-bit samples (width · height · channels,
    /// the file's channels before RGB conversion): 2^28 (256 MiB, e.g. 9,000 × 9,000 RGBA).
    public static let maxDecodedBytes = 1 << 28
    /// The largest file read: 256 MiB.
    public static let maxFileBytes = 1 << 28

    /// The format of `bytes` by its signature, or nil.
    public static func format(of bytes: [UInt8]) -> Format? {
        if bytes.count >= 8, bytes[0..<8].elementsEqual([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if bytes.count >= 3, bytes[0] == 0xFF, bytes[1] == 0xD8, bytes[2] == 0xFF { return .jpeg }
        return nil
    }

    /// Decodes the PNG or JPEG file at `path` (read with `BoundedFile`).
    /// - Throws: ``ToolkitError`` naming `path`: `.io` when it cannot be read, `.invalidData`
    ///   when it is empty, not a PNG or JPEG, corrupt, truncated, or too large.
    public static func decode(path: String, mode: Mode = .rgb) throws -> Image {
        let bytes = try BoundedFile.read(path: path, limit: maxFileBytes, what: "an image file")
        return try decode(bytes: bytes, name: path, mode: mode)
    }

    /// Decodes PNG or JPEG `bytes`; `name` (a path or a label) is named in errors. Images
    /// whose decoded samples (width · height · the file's channels) exceed `maxBytes` are
    /// refused before anything is allocated.
    /// - Throws: ``ToolkitError`` `.invalidData` naming `name` (see ``decode(path:mode:)``).
    public static func decode(bytes: [UInt8], name: String, mode: Mode = .rgb,
                              maxBytes: Int = maxDecodedBytes) throws -> Image {
        guard !bytes.isEmpty else {
            throw ToolkitError(.invalidData, "\(name): the file is empty, not a PNG or JPEG image")
        }
        switch format(of: bytes) {
        case .png?: return try decodePNG(bytes, name: name, mode: mode, maxBytes: maxBytes)
        case .jpeg?: return try decodeJPEG(bytes, name: name, mode: mode, maxBytes: maxBytes)
        case nil:
            throw ToolkitError(.invalidData, "\(name): not a PNG or JPEG image (unknown signature)")
        }
    }

    // MARK: - PNG

    private static func decodePNG(_ bytes: [UInt8], name: String, mode: Mode, maxBytes: Int) throws -> Image {
        var result = d2l_png_result()
        var raw: UnsafeMutablePointer<UInt8>? = nil
        let status = bytes.withUnsafeBufferPointer {
            d2l_png_decode($0.baseAddress, $0.count, maxBytes, &raw, &result)
        }
        defer { free(raw) }
        guard status == 0, let raw else {
            throw ToolkitError(.invalidData, "\(name): not a readable PNG image: \(message(&result.message))")
        }
        let width = Int(result.width), height = Int(result.height), fileChannels = Int(result.channels)
        let plane = width * height
        let gray = fileChannels <= 2
        let channels = mode == .gray || (gray && mode == .native) ? 1 : 3
        var pixels = [Float](repeating: 0, count: channels * plane)
        pixels.withUnsafeMutableBufferPointer { out in
            for i in 0..<plane {
                if result.gray16 != 0 {
                    // PIL's I;16 → RGB (and → L) clips: min(v, 255).
                    let v = Int(raw[2 * i]) << 8 | Int(raw[2 * i + 1])
                    let value = Float(min(v, 255)) / 255
                    for c in 0..<channels { out[c * plane + i] = value }
                } else if gray {
                    let value = Float(raw[i * fileChannels]) / 255
                    for c in 0..<channels { out[c * plane + i] = value }
                } else if channels == 1 {
                    let p = i * fileChannels
                    out[i] = luma(Int(raw[p]), Int(raw[p + 1]), Int(raw[p + 2]))
                } else {
                    for c in 0..<3 { out[c * plane + i] = Float(raw[i * fileChannels + c]) / 255 }
                }
            }
        }
        return Image(unchecked: channels, height, width, pixels)
    }

    // MARK: - JPEG

    private static func decodeJPEG(_ bytes: [UInt8], name: String, mode: Mode, maxBytes: Int) throws -> Image {
        var result = d2l_jpeg_result()
        var raw: UnsafeMutablePointer<UInt8>? = nil
        let status = bytes.withUnsafeBufferPointer {
            d2l_jpeg_decode($0.baseAddress, $0.count, maxBytes, &raw, &result)
        }
        defer { free(raw) }
        guard status == 0, let raw else {
            throw ToolkitError(.invalidData, "\(name): not a readable JPEG image: \(message(&result.message))")
        }
        let width = Int(result.width), height = Int(result.height), fileChannels = Int(result.channels)
        let plane = width * height
        let channels = mode == .gray || (fileChannels == 1 && mode == .native) ? 1 : 3
        var pixels = [Float](repeating: 0, count: channels * plane)
        pixels.withUnsafeMutableBufferPointer { out in
            for i in 0..<plane {
                switch fileChannels {
                case 1:
                    let value = Float(raw[i]) / 255
                    for c in 0..<channels { out[c * plane + i] = value }
                case 3 where channels == 1:
                    out[i] = luma(Int(raw[3 * i]), Int(raw[3 * i + 1]), Int(raw[3 * i + 2]))
                case 3:
                    for c in 0..<3 { out[c * plane + i] = Float(raw[3 * i + c]) / 255 }
                default:
                    // libjpeg gives Adobe's inverted CMYK; PIL un-inverts it (CMYK;I), then
                    // converts: nk − MULDIV255(c, nk) with nk = 255 − k.
                    let nk = Int(raw[4 * i + 3])
                    var rgb = (0, 0, 0)
                    for c in 0..<3 {
                        let t = (255 - Int(raw[4 * i + c])) * nk + 128
                        let value = max(0, min(255, nk - (((t >> 8) + t) >> 8)))
                        if c == 0 { rgb.0 = value } else if c == 1 { rgb.1 = value } else { rgb.2 = value }
                        if channels == 3 { out[c * plane + i] = Float(value) / 255 }
                    }
                    if channels == 1 { out[i] = luma(rgb.0, rgb.1, rgb.2) }
                }
            }
        }
        return Image(unchecked: channels, height, width, pixels)
    }

    /// PIL's `L` of 8-bit R, G, B, scaled to [0, 1].
    @inline(__always)
    private static func luma(_ r: Int, _ g: Int, _ b: Int) -> Float {
        Float((19595 * r + 38470 * g + 7471 * b + 0x8000) >> 16) / 255
    }

    /// A C message buffer as one line.
    private static func message<T>(_ buffer: inout T) -> String {
        let text = withUnsafeBytes(of: &buffer) { raw -> String in
            let bytes = raw.bindMemory(to: UInt8.self)
            let end = bytes.firstIndex(of: 0) ?? bytes.count
            return String(decoding: bytes[0..<end], as: UTF8.self)
        }
        return text.isEmpty ? "unknown error" : text
    }
}
