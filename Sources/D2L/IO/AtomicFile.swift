#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Whole-file writes that never leave a half-written target behind.
///
/// `write` puts the bytes in a temporary file next to the target (same directory, so the
/// final `rename` stays on one file system), flushes it to disk with `fsync`, and renames it
/// over the target. A reader, or a run interrupted at any moment, sees either the old
/// file whole or the new file whole. On failure the temporary file is removed and a
/// ``ToolkitError`` of kind `.io` names the path and the system's reason.
public enum AtomicFile {
    /// Replaces the file at `path` with `bytes`, atomically.
    ///
    /// An existing target keeps its permission bits; a new one gets `0644` less the umask.
    /// - Throws: ``ToolkitError`` `.io` naming `path` and the reason (missing directory,
    ///   no permission, disk full, the target is a directory, ...).
    public static func write(_ bytes: [UInt8], to path: String) throws {
        try write(to: path) { file in try bytes.withUnsafeBytes { try file.write($0) } }
    }

    /// Replaces the file at `path`, atomically, with what `produce` writes to the given
    /// ``Writer`` piece by piece (so a large file never has to be in memory whole).
    ///
    /// The pieces go to a temporary file next to the target, which is flushed to disk and
    /// then renamed over the target, as ``write(_:to:)`` does. `beforeReplacing`, when
    /// given, is called with the temporary file's path once it is complete and closed, just
    /// before the rename: it may read it (its name has no `/`, in the target's directory)
    /// and throw to abandon the write. On any error the temporary file is removed and the
    /// target is left as it was.
    /// - Throws: ``ToolkitError`` `.io` as ``write(_:to:)``, or what `produce` or
    ///   `beforeReplacing` throws.
    public static func write(to path: String, beforeReplacing: ((_ temporaryPath: String) throws -> Void)? = nil,
                             _ produce: (Writer) throws -> Void) throws {
        guard !path.isEmpty else { throw ToolkitError(.io, "cannot write a file with an empty path") }
        guard !path.hasSuffix("/") else {
            throw ToolkitError(.io, "cannot write \(path): the path names a directory")
        }
        let (directory, name) = splitPath(path)
        sweepStaleTemporaries(directory: directory, name: name)
        let temp = directory + "." + name + ".tmp-\(getpid())-\(UInt32.random(in: 0 ... .max))"

        // An existing target's permissions carry over to the replacement.
        var mode: mode_t = 0o644
        var info = stat()
        if stat(path, &info) == 0 {
            if (info.st_mode & S_IFMT) == S_IFDIR {
                throw ToolkitError(.io, "cannot write \(path): it is a directory")
            }
            mode = info.st_mode & 0o7777
        }

        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else {
            throw ToolkitError(.io, "cannot write \(path): \(systemReason())")
        }
        var ok = false
        defer {
            if !ok { unlink(temp) }
        }
        do {
            defer { close(fd) }
            let writer = Writer(fd: fd, path: path)
            try produce(writer)
            try writer.flush()
            if fsync(fd) != 0 {
                throw ToolkitError(.io, "cannot write \(path): fsync failed: \(systemReason())")
            }
            // Without this, an existing target's mode would still be reduced by the umask.
            if fchmod(fd, mode) != 0 {
                throw ToolkitError(.io, "cannot write \(path): \(systemReason())")
            }
        }
        try beforeReplacing?(temp)
        guard rename(temp, path) == 0 else {
            throw ToolkitError(.io, "cannot write \(path): \(systemReason())")
        }
        ok = true
        // Make the rename itself durable; a failure here leaves the new file in place.
        let dirFD = open(directory.isEmpty ? "." : directory, O_RDONLY | O_CLOEXEC)
        if dirFD >= 0 {
            _ = fsync(dirFD)
            close(dirFD)
        }
    }

    /// The temporary file of ``AtomicFile/write(to:beforeReplacing:_:)``: bytes written in
    /// order, through a small buffer (large pieces go straight to the file).
    public final class Writer {
        private let fd: Int32
        private let path: String
        private var buffer: [UInt8] = []
        /// The bytes written so far.
        public private(set) var byteCount = 0
        /// Pieces smaller than this are gathered before they are written.
        static let bufferSize = 1 << 20

        fileprivate init(fd: Int32, path: String) {
            self.fd = fd
            self.path = path
            buffer.reserveCapacity(Self.bufferSize)
        }

        /// Appends `bytes`.
        /// - Throws: ``ToolkitError`` `.io` naming the target and the reason (disk full, ...).
        public func write(_ bytes: UnsafeRawBufferPointer) throws {
            byteCount += bytes.count
            if buffer.count + bytes.count <= Self.bufferSize {
                buffer.append(contentsOf: bytes)
                return
            }
            try flush()
            if bytes.count < Self.bufferSize {
                buffer.append(contentsOf: bytes)
            } else {
                try AtomicFile.writeAll(fd, bytes, path: path)
            }
        }

        /// Appends `bytes`.
        public func write(_ bytes: [UInt8]) throws {
            try bytes.withUnsafeBytes { try write($0) }
        }

        fileprivate func flush() throws {
            guard !buffer.isEmpty else { return }
            try buffer.withUnsafeBytes { try AtomicFile.writeAll(fd, $0, path: path) }
            buffer.removeAll(keepingCapacity: true)
        }
    }

    /// Replaces the file at `path` with `text` encoded as UTF-8, atomically.
    /// - Throws: ``ToolkitError`` `.io`, as ``write(_:to:)``.
    public static func write(text: String, to path: String) throws {
        try write(Array(text.utf8), to: path)
    }

    /// Reads the whole file at `path`.
    /// - Throws: ``ToolkitError`` `.io` naming `path` and the reason.
    public static func read(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ToolkitError(.io, "cannot read \(path): \(systemReason())") }
        defer { close(fd) }
        var info = stat()
        if fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
            throw ToolkitError(.io, "cannot read \(path): it is a directory")
        }
        var result: [UInt8] = []
        if info.st_size > 0 { result.reserveCapacity(Int(info.st_size)) }
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { posixRead(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ToolkitError(.io, "cannot read \(path): \(systemReason())")
            }
            if n == 0 { break }
            result.append(contentsOf: chunk[0 ..< n])
        }
        return result
    }

    // MARK: - Stale temporary files

    /// Removes what writes of `name` in `directory` left behind when their process was
    /// killed (`kill -9`, power loss) before it could clean up: the temporary files
    /// `.NAME.tmp-PID-RAND`, and files named after one (`d2l-export`'s
    /// `.NAME.tmp-PID-RAND.check-N.onnx` and its own temporary file, with a second dot),
    /// whose process PID no longer exists. Files of a live process (this one, another
    /// writer of the same target) are kept, as is anything else in the folder. Best effort:
    /// errors are ignored, the write goes on.
    static func sweepStaleTemporaries(directory: String, name: String) {
        guard let dir = opendir(directory.isEmpty ? "." : directory) else { return }
        defer { closedir(dir) }
        var stale: [String] = []
        while let entry = readdir(dir) {
            let entryName = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
            }
            if let pid = temporaryOwner(entryName, target: name), pid != getpid(), kill(pid, 0) != 0, errno == ESRCH {
                stale.append(entryName)
            }
        }
        for entryName in stale {
            var info = stat()
            let full = directory + entryName
            if lstat(full, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG { unlink(full) }
        }
    }

    /// The PID in `entry` if it is a temporary file of a write of `target`
    /// (`.TARGET.tmp-PID-…` or `..TARGET.tmp-PID-…`), else nil.
    static func temporaryOwner(_ entry: String, target: String) -> pid_t? {
        var rest = Substring(entry)
        guard rest.hasPrefix(".") else { return nil }
        rest = rest.dropFirst()
        if rest.hasPrefix(".") { rest = rest.dropFirst() }
        guard rest.hasPrefix(target + ".tmp-") else { return nil }
        rest = rest.dropFirst(target.count + 5)
        let digits = rest.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, rest.dropFirst(digits.count).hasPrefix("-"), let pid = pid_t(digits), pid > 0 else {
            return nil
        }
        return pid
    }

    // MARK: - Helpers

    /// `("dir/", "name")` for `"dir/name"`, `("", "name")` for `"name"`.
    static func splitPath(_ path: String) -> (directory: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return ("", path) }
        return (String(path[...slash]), String(path[path.index(after: slash)...]))
    }

    /// Writes every byte, retrying short writes and interrupted calls.
    static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws {
        try bytes.withUnsafeBytes { try writeAll(fd, $0, path: path) }
    }

    /// Writes every byte of `buffer`, retrying short writes and interrupted calls.
    static func writeAll(_ fd: Int32, _ buffer: UnsafeRawBufferPointer, path: String) throws {
        var offset = 0
        while offset < buffer.count {
            let n = posixWrite(fd, buffer.baseAddress! + offset, buffer.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw ToolkitError(.io, "cannot write \(path): \(systemReason())")
            }
            offset += n
        }
    }

    /// `strerror(errno)` as a String.
    static func systemReason() -> String {
        String(cString: strerror(errno))
    }
}

// `read`/`write` under names that member functions called `read`/`write` cannot shadow.
@inline(__always)
fileprivate func posixRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    read(fd, buffer, count)
}

@inline(__always)
fileprivate func posixWrite(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int {
    write(fd, buffer, count)
}
