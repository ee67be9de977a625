#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A regular file opened for reading what a format needs, and no more: readers take its
/// size first, read a bounded header, and refuse what cannot be a valid file before
/// reading (or allocating for) the rest.
///
/// Only regular files are opened: a FIFO, socket, device (`/dev/zero`) or directory is
/// refused with one line, without blocking (the file is opened with `O_NONBLOCK`, so a
/// FIFO nobody writes to does not hang the open) and without reading.
///
/// ```swift
/// let file = try BoundedFile(path: path)
/// let head = try file.read(0, min(8, file.size))
/// ```
final class BoundedFile {
    /// The path, as given (for messages).
    let path: String
    /// The file's size in bytes when it was opened.
    let size: Int
    /// The open descriptor (for zlib's `gzdopen` on a `dup` of it); closed with the object.
    let descriptor: Int32

    /// Opens the regular file at `path`.
    /// - Throws: ``ToolkitError`` `.io` naming `path` when it cannot be opened or is not a
    ///   regular file.
    init(path: String) throws {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw ToolkitError(.io, "cannot read \(path): \(String(cString: strerror(errno)))") }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw ToolkitError(.io, "cannot read \(path): \(reason)")
        }
        let type = info.st_mode & S_IFMT
        guard type == S_IFREG else {
            close(fd)
            throw ToolkitError(.io, "cannot read \(path): \(BoundedFile.kindName(type)), not a regular file")
        }
        self.descriptor = fd
        self.path = path
        size = Int(info.st_size)
    }

    deinit { close(descriptor) }

    /// What a non-regular file is, for messages.
    private static func kindName(_ type: mode_t) -> String {
        switch type {
        case S_IFDIR: return "it is a directory"
        case S_IFIFO: return "it is a FIFO (named pipe)"
        case S_IFCHR: return "it is a character device"
        case S_IFBLK: return "it is a block device"
        case S_IFSOCK: return "it is a socket"
        default: return "it is a special file"
        }
    }

    /// The bytes `[offset, offset + length)`.
    /// - Throws: ``ToolkitError`` `.invalidData` when the range does not lie within the
    ///   file, `.io` when reading fails or the file is shorter than it was.
    func read(_ offset: Int, _ length: Int) throws -> [UInt8] {
        guard offset >= 0, length >= 0, offset <= size, length <= size - offset else {
            throw ToolkitError(.invalidData, "\(path): \(length) bytes at offset \(offset) run past the end of the file (\(size) bytes)")
        }
        var out = [UInt8](repeating: 0, count: length)
        try out.withUnsafeMutableBytes { buffer in
            guard let base = buffer.baseAddress else { return }
            var done = 0
            while done < length {
                let n = pread(descriptor, base + done, min(length - done, 1 << 30), off_t(offset + done))
                if n < 0, errno == EINTR { continue }
                guard n > 0 else {
                    let reason = n < 0 ? String(cString: strerror(errno)) : "the file ended early (it changed while being read?)"
                    throw ToolkitError(.io, "cannot read \(path): \(reason)")
                }
                done += n
            }
        }
        return out
    }

    /// The first `count` bytes, or the whole file when it is shorter.
    func head(_ count: Int) throws -> [UInt8] {
        try read(0, min(max(count, 0), size))
    }

    /// The whole file, after checking its size against `limit`.
    /// - Parameter what: what the file should be, for the message (`a CSV file`).
    /// - Throws: ``ToolkitError`` `.invalidData` when the file is larger than `limit`.
    func readAll(limit: Int, what: String) throws -> [UInt8] {
        guard size <= limit else {
            throw ToolkitError(.invalidData, "\(path): \(size) bytes is more than \(what) may have (at most \(BoundedFile.sizeText(limit)))")
        }
        return try read(0, size)
    }

    /// The whole regular file at `path`, at most `limit` bytes (see ``readAll(limit:what:)``).
    static func read(path: String, limit: Int, what: String) throws -> [UInt8] {
        try BoundedFile(path: path).readAll(limit: limit, what: what)
    }

    /// `limit` in words: `2 GiB`, `100 MB`, or bytes.
    static func sizeText(_ limit: Int) -> String {
        if limit >= 1 << 30, limit % (1 << 30) == 0 { return "\(limit >> 30) GiB" }
        if limit >= 1 << 20, limit % (1 << 20) == 0 { return "\(limit >> 20) MiB" }
        if limit >= 1_000_000, limit % 1_000_000 == 0 { return "\(limit / 1_000_000) MB" }
        return "\(limit) bytes"
    }
}
