import CZlib
import Foundation

/// Reads a whole file into memory, decompressing it when it is gzip-compressed.
///
/// zlib's `gzread` reads plain (uncompressed) files transparently, so the same call
/// serves `train-images-idx3-ubyte.gz` and `train-images-idx3-ubyte`.
///
/// - Parameter path: the file to read.
/// - Returns: the file's (decompressed) bytes.
/// - Throws: `ToolkitError(.io)` naming the path when the file is missing or cannot be
///   read, and `ToolkitError(.invalidData)` when the gzip stream is corrupt or truncated
///   (with zlib's message).
public func readPossiblyGzipped(path: String) throws -> [UInt8] {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
        throw ToolkitError(.io, "cannot read '\(path)': no such file")
    }
    if isDirectory.boolValue {
        throw ToolkitError(.io, "cannot read '\(path)': it is a directory")
    }
    // A FIFO or device is refused here, before zlib could block on it or read it forever.
    let stream = try GzipStream(BoundedFile(path: path))
    var result: [UInt8] = []
    while true {
        let chunk = try stream.read(upTo: 1 << 20)
        if chunk.isEmpty { break }
        result.append(contentsOf: chunk)
    }
    try stream.finish()
    return result
}

/// A regular file read through zlib's `gzread` (gzip-compressed or plain, transparently),
/// as much as the caller asks for at a time, so that a reader can stop decompressing once
/// it has what the format allows.
final class GzipStream {
    let path: String
    private let file: gzFile
    private var closed = false

    /// Starts reading `file` from its beginning (through a duplicate of its descriptor).
    /// - Throws: ``ToolkitError`` `.io` when zlib cannot open it.
    init(_ file: BoundedFile) throws {
        path = file.path
        let fd = dup(file.descriptor)
        guard fd >= 0 else { throw ToolkitError(.io, "cannot open '\(file.path)': \(String(cString: strerror(errno)))") }
        guard let handle = gzdopen(fd, "rb") else {
            close(fd)
            throw ToolkitError(.io, "cannot open '\(file.path)': zlib could not start reading it")
        }
        self.file = handle
        _ = gzbuffer(handle, 1 << 17)
    }

    deinit { if !closed { gzclose(file) } }

    /// Up to `count` more decompressed bytes; fewer only at the end of the data.
    /// - Throws: ``ToolkitError`` `.invalidData` for corrupt gzip data, `.io` when reading fails.
    func read(upTo count: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: max(0, count))
        var done = 0
        try out.withUnsafeMutableBytes { buffer in
            guard let base = buffer.baseAddress else { return }
            while done < buffer.count {
                let got = gzread(file, base + done, UInt32(min(buffer.count - done, 1 << 30)))
                if got < 0 { throw gzipError(file, path: path) }
                if got == 0 { break }
                done += Int(got)
            }
        }
        out.removeSubrange(done...)
        return out
    }

    /// Checks that the stream so far is sound (not cut off) and closes it.
    /// - Throws: ``ToolkitError`` `.invalidData` for a corrupt or truncated stream.
    func finish() throws {
        // A stream that ends in the middle leaves Z_BUF_ERROR ("unexpected end of file")
        // without gzread returning -1.
        var errorNumber: Int32 = 0
        let message = gzerror(file, &errorNumber)
        if errorNumber != Z_OK {
            let text = message.map { String(cString: $0) } ?? "zlib error \(errorNumber)"
            throw ToolkitError(.invalidData, "corrupt gzip data in '\(path)': \(withoutPath(text, path))")
        }
        closed = true
        let status = gzclose(file)
        if status == Z_BUF_ERROR {
            throw ToolkitError(.invalidData, "corrupt gzip data in '\(path)': the stream is truncated")
        }
        if status != Z_OK {
            throw ToolkitError(.io, "cannot close '\(path)': zlib status \(status)")
        }
    }

    /// Whether the file is gzip-compressed (starts with the gzip magic `1f 8b`).
    static func isGzip(_ file: BoundedFile) throws -> Bool {
        try file.head(2) == [0x1F, 0x8B]
    }
}

/// The error for a failed `gzread`: an operating-system failure is `.io`, anything
/// else (bad header, bad checksum, bad deflate data) is `.invalidData`.
private func gzipError(_ file: gzFile, path: String) -> ToolkitError {
    var errorNumber: Int32 = 0
    let message = gzerror(file, &errorNumber).map { String(cString: $0) } ?? "unknown zlib error"
    if errorNumber == Z_ERRNO {
        return ToolkitError(.io, "cannot read '\(path)': \(String(cString: strerror(errno)))")
    }
    return ToolkitError(.invalidData, "corrupt gzip data in '\(path)': \(withoutPath(message, path))")
}

/// zlib prefixes its messages with "path: "; the toolkit's message already names the path.
private func withoutPath(_ message: String, _ path: String) -> String {
    message.hasPrefix(path + ": ") ? String(message.dropFirst(path.count + 2)) : message
}

/// Writes bytes to a gzip-compressed file (zlib's `gzwrite`, default compression level),
/// replacing any file at `path`.
///
/// - Throws: `ToolkitError(.io)` naming the path when the file cannot be created or written.
public func writeGzipped(_ bytes: [UInt8], path: String) throws {
    guard let file = gzopen(path, "wb") else {
        throw ToolkitError(.io, "cannot create '\(path)': \(String(cString: strerror(errno)))")
    }
    var offset = 0
    while offset < bytes.count {
        let length = min(bytes.count - offset, 1 << 20)
        let written = bytes.withUnsafeBytes { buffer in
            gzwrite(file, buffer.baseAddress! + offset, UInt32(length))
        }
        if written <= 0 {
            var errorNumber: Int32 = 0
            let message = gzerror(file, &errorNumber).map { String(cString: $0) } ?? "zlib error"
            gzclose(file)
            throw ToolkitError(.io, "cannot write '\(path)': \(message)")
        }
        offset += Int(written)
    }
    let status = gzclose(file)
    guard status == Z_OK else {
        throw ToolkitError(.io, "cannot finish writing '\(path)': zlib status \(status)")
    }
}
