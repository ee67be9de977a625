import CZlib
import D2LRuntime
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// A minimal ZIP reader for the archives `torch.save` writes (PKWARE APPNOTE 6.3):
//
//   [local header 30 B + name + extra][data] ...   one per entry (torch: stored, 64-byte aligned)
//   [central directory header 46 B + name + extra + comment] ...
//   [zip64 end-of-central-directory record 56 B][zip64 locator 20 B]   (when needed; torch: always)
//   [end-of-central-directory record 22 B + comment]
//
// All integers are little-endian. Stored (method 0) and deflated (method 8, raw deflate
// through zlib) entries are read; CRC-32s are checked on first access. Anything that does
// not add up (offsets past the end, bad signatures, size mismatches) is a
// ``ToolkitError`` `.invalidData` naming the archive and what is wrong.

/// Random access to the bytes of a file, or of an array in memory.
///
/// A file is read with `pread` where needed (``BoundedFile``), so that reading a checkpoint
/// holds one storage at a time in memory rather than the whole file.
final class CheckpointBytes {
    /// The number of bytes.
    let count: Int
    private let memory: [UInt8]?
    private let file: BoundedFile?

    /// Bytes in memory.
    init(_ bytes: [UInt8]) {
        memory = bytes
        count = bytes.count
        file = nil
    }

    /// The regular file at `path`, opened for reading (FIFOs, devices and directories are refused).
    /// - Throws: ``ToolkitError`` `.io` naming `path`.
    convenience init(path: String) throws {
        self.init(try BoundedFile(path: path))
    }

    /// An open regular file.
    init(_ file: BoundedFile) {
        self.file = file
        memory = nil
        count = file.size
    }

    /// The bytes `[offset, offset + length)`.
    /// - Throws: ``ToolkitError`` `.invalidData` when the range does not lie within `count`
    ///   (callers check first; this is the last guard, not a trap), `.io` when reading fails.
    func read(_ offset: Int, _ length: Int) throws -> [UInt8] {
        guard offset >= 0, length >= 0, offset <= count, length <= count - offset else {
            throw ToolkitError(.invalidData, "\(length) bytes at offset \(offset) run past the end of the data (\(count) bytes)")
        }
        if let memory { return Array(memory[offset ..< offset + length]) }
        guard let file else { return [] }
        return try file.read(offset, length)
    }

    /// The whole file, at most `limit` bytes (see ``BoundedFile/readAll(limit:what:)``).
    func readAll(limit: Int, what: String) throws -> [UInt8] {
        if let memory { return memory }
        guard let file else { return [] }
        return try file.readAll(limit: limit, what: what)
    }
}

/// A ZIP archive, read on demand from a ``CheckpointBytes``.
final class ZipArchive {
    /// One central-directory entry.
    struct Entry: Sendable {
        /// The entry's name (path inside the archive).
        var name: String
        /// 0 stored, 8 deflated.
        var method: Int
        var flags: Int
        var crc32: UInt32
        var compressedSize: Int
        var uncompressedSize: Int
        var localHeaderOffset: Int
    }

    /// What to call the archive in messages (its path).
    let source: String
    /// The archive's bytes.
    let file: CheckpointBytes
    /// A window of the file kept in memory: the central directory and the end records.
    private var tail: [UInt8] = []
    private var tailStart = 0
    /// The entries, in central-directory order.
    private(set) var entries: [Entry] = []
    private var indexByName: [String: Int] = [:]
    /// Entries whose CRC was checked, by index, and inflated data of deflated entries.
    private var verified = Set<Int>()
    private var inflated: [Int: [UInt8]] = [:]

    /// The largest central directory read (it is held in memory whole): about a million entries.
    static let maxCentralDirectorySize = 256 << 20

    /// Whether `bytes` start like a ZIP archive (a local header, or the end record of an empty one).
    static func looksLikeZip(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 4 && bytes[0] == 0x50 && bytes[1] == 0x4b
            && ((bytes[2] == 3 && bytes[3] == 4) || (bytes[2] == 5 && bytes[3] == 6))
    }

    /// Parses the end records and the central directory of `bytes`.
    /// - Throws: ``ToolkitError`` `.invalidData` naming `source` for a truncated or corrupt archive.
    init(file: CheckpointBytes, source: String) throws {
        self.source = source
        self.file = file
        try readCentralDirectory()
    }

    /// An archive in memory.
    convenience init(bytes: [UInt8], source: String) throws {
        try self.init(file: CheckpointBytes(bytes), source: source)
    }

    private func bad(_ why: String) -> ToolkitError {
        ToolkitError(.invalidData, "\(source): corrupt or truncated zip archive: \(why)")
    }

    // MARK: Little-endian fields, bounds-checked

    /// The `size`-byte little-endian field at `at`: from the window when it lies there, else read.
    private func field(_ at: Int, _ size: Int) throws -> UInt64 {
        guard at >= 0, at <= file.count - size else {
            throw bad("a \(size)-byte field at offset \(at) runs past the end of the file (\(file.count) bytes)")
        }
        let raw: ArraySlice<UInt8>
        if at >= tailStart, at + size <= tailStart + tail.count {
            raw = tail[(at - tailStart) ..< (at - tailStart + size)]
        } else {
            raw = ArraySlice(try file.read(at, size))
        }
        var v: UInt64 = 0
        for (i, b) in raw.enumerated() { v |= UInt64(b) << (8 * UInt64(i)) }
        return v
    }

    private func u16(_ at: Int) throws -> Int { Int(try field(at, 2)) }
    private func u32(_ at: Int) throws -> Int { Int(try field(at, 4)) }

    private func u64(_ at: Int) throws -> Int {
        let v = try field(at, 8)
        guard v <= UInt64(Int.max) else { throw bad("an 8-byte field at offset \(at) holds \(v), which is too large") }
        return Int(v)
    }

    // MARK: End records and central directory

    private func readCentralDirectory() throws {
        let n = file.count
        guard n >= 22 else {
            throw bad("the file has only \(n) bytes; the smallest zip archive (its end record) has 22")
        }
        // The end-of-central-directory record: 22 bytes plus a comment of at most 65535.
        var eocd = -1
        let lowest = max(0, n - 22 - 65535)
        tailStart = lowest
        tail = try file.read(lowest, n - lowest)
        var i = n - 22
        while i >= lowest {
            let k = i - lowest
            if tail[k] == 0x50, tail[k + 1] == 0x4b, tail[k + 2] == 5, tail[k + 3] == 6,
               try i + 22 + u16(i + 20) == n {
                eocd = i
                break
            }
            i -= 1
        }
        guard eocd >= 0 else {
            throw bad("no end-of-central-directory record at the end of the file (\(n) bytes): the file is truncated or not a zip archive")
        }
        var count = try u16(eocd + 10)
        var cdSize = try u32(eocd + 12)
        var cdOffset = try u32(eocd + 16)

        // A zip64 locator right before the end record points at the zip64 end record.
        let locator = eocd - 20
        if locator >= 0, try u32(locator) == 0x0706_4b50 {
            let record = try u64(locator + 8)
            guard record + 56 <= locator else {
                throw bad("the zip64 end-of-central-directory record at offset \(record) runs past its locator at \(locator)")
            }
            guard try u32(record) == 0x0606_4b50 else {
                throw bad("no zip64 end-of-central-directory record at offset \(record) (bad signature)")
            }
            count = try u64(record + 32)
            cdSize = try u64(record + 40)
            cdOffset = try u64(record + 48)
        } else if count == 0xffff || cdSize == 0xffff_ffff || cdOffset == 0xffff_ffff {
            throw bad("the end record says the archive is zip64 but there is no zip64 locator before it")
        }
        let cdEnd = cdOffset.addingReportingOverflow(cdSize)
        guard !cdEnd.overflow, cdEnd.partialValue <= eocd else {
            throw bad("the central directory at offset \(cdOffset) (\(cdSize) bytes) runs past the end records at offset \(eocd)")
        }
        guard cdSize <= ZipArchive.maxCentralDirectorySize else {
            throw bad("the central directory claims \(cdSize) bytes, more than the \(BoundedFile.sizeText(ZipArchive.maxCentralDirectorySize)) read (a torch.save archive's index is a few KiB)")
        }
        guard count <= cdSize / 46 else {
            throw bad("the end record claims \(count) entries but the central directory has room for \(cdSize / 46)")
        }
        if cdOffset < tailStart {  // keep the whole central directory in the window
            tailStart = cdOffset
            tail = try file.read(cdOffset, n - cdOffset)
        }

        var position = cdOffset
        entries.reserveCapacity(count)
        for index in 0 ..< count {
            guard try u32(position) == 0x0201_4b50 else {
                throw bad("central directory entry \(index) at offset \(position) has a bad signature")
            }
            let flags = try u16(position + 8)
            let method = try u16(position + 10)
            let crc = UInt32(try u32(position + 16))
            var compressed = try u32(position + 20)
            var uncompressed = try u32(position + 24)
            let nameLength = try u16(position + 28)
            let extraLength = try u16(position + 30)
            let commentLength = try u16(position + 32)
            var local = try u32(position + 42)
            let nameStart = position + 46
            let next = nameStart + nameLength + extraLength + commentLength
            guard next <= cdEnd.partialValue else {
                throw bad("central directory entry \(index) at offset \(position) runs past the end of the central directory")
            }
            let name = String(decoding: tail[(nameStart - tailStart) ..< (nameStart - tailStart + nameLength)], as: UTF8.self)

            // Zip64 extended information: the 64-bit values of the fields set to 0xFFFFFFFF, in order.
            var extra = nameStart + nameLength
            let extraEnd = extra + extraLength
            while extra + 4 <= extraEnd {
                let id = try u16(extra)
                let size = try u16(extra + 2)
                guard extra + 4 + size <= extraEnd else {
                    throw bad("entry \(quoted(name)): an extra field runs past the end of its header")
                }
                if id == 0x0001 {
                    var field = extra + 4
                    func next64() throws -> Int {
                        guard field + 8 <= extra + 4 + size else {
                            throw bad("entry \(quoted(name)): the zip64 extra field is too short")
                        }
                        defer { field += 8 }
                        return try u64(field)
                    }
                    if uncompressed == 0xffff_ffff { uncompressed = try next64() }
                    if compressed == 0xffff_ffff { compressed = try next64() }
                    if local == 0xffff_ffff { local = try next64() }
                }
                extra += 4 + size
            }
            if flags & 1 != 0 { throw ToolkitError(.unsupported, "\(source): zip entry \(quoted(name)) is encrypted") }
            guard method == 0 || method == 8 else {
                throw ToolkitError(.unsupported, "\(source): zip entry \(quoted(name)) uses compression method \(method); only stored (0) and deflate (8) are read")
            }
            if method == 0, compressed != uncompressed {
                throw bad("stored entry \(quoted(name)) has compressed size \(compressed) but uncompressed size \(uncompressed)")
            }
            guard local < cdOffset else {
                throw bad("entry \(quoted(name)): its local header offset \(local) is not before the central directory (\(cdOffset))")
            }
            let entry = Entry(name: name, method: method, flags: flags, crc32: crc, compressedSize: compressed,
                              uncompressedSize: uncompressed, localHeaderOffset: local)
            if indexByName[name] == nil { indexByName[name] = entries.count }
            entries.append(entry)
            position = next
        }
    }

    // MARK: Entries

    /// The index of the entry called `name`, or nil.
    func index(of name: String) -> Int? { indexByName[name] }

    /// The byte range of entry `index`'s (possibly compressed) data, checked against the file.
    private func dataRange(_ index: Int) throws -> Range<Int> {
        let entry = entries[index]
        let local = entry.localHeaderOffset
        guard try u32(local) == 0x0403_4b50 else {
            throw bad("entry \(quoted(entry.name)): no local header at offset \(local) (bad signature)")
        }
        let start = local + 30 + (try u16(local + 26)) + (try u16(local + 28))
        let end = start.addingReportingOverflow(entry.compressedSize)
        guard !end.overflow, end.partialValue <= file.count else {
            throw bad("entry \(quoted(entry.name)): its \(entry.compressedSize) bytes of data at offset \(start) run past the end of the file (\(file.count) bytes)")
        }
        return start ..< end.partialValue
    }

    /// Calls `body` with the (uncompressed, CRC-checked) data of entry `index`, without a copy
    /// for stored entries.
    /// - Throws: ``ToolkitError`` `.invalidData` naming the entry when its data are out of
    ///   bounds, do not inflate, or fail the CRC-32 check.
    func withData<R>(_ index: Int, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        let entry = entries[index]
        if entry.method == 8 {
            if inflated[index] == nil { inflated[index] = try inflate(index) }
            return try inflated[index]!.withUnsafeBytes(body)
        }
        let range = try dataRange(index)
        let data = try file.read(range.lowerBound, range.count)
        return try data.withUnsafeBytes { raw in
            if !verified.contains(index) {
                try checkCRC(entry, raw)
                verified.insert(index)
            }
            return try body(raw)
        }
    }

    /// A copy of entry `index`'s data.
    func data(_ index: Int) throws -> [UInt8] {
        try withData(index) { Array($0) }
    }

    /// A copy of the data of the entry called `name`, or nil when there is none.
    func data(named name: String) throws -> [UInt8]? {
        guard let index = index(of: name) else { return nil }
        return try data(index)
    }

    private func checkCRC(_ entry: Entry, _ data: UnsafeRawBufferPointer) throws {
        var crc: UInt = 0
        var offset = 0
        while offset < data.count {  // zlib's crc32 takes a 32-bit length
            let chunk = min(data.count - offset, 1 << 30)
            crc = CZlib.crc32(crc, data.baseAddress!.advanced(by: offset).assumingMemoryBound(to: UInt8.self), UInt32(chunk))
            offset += chunk
        }
        guard UInt32(truncatingIfNeeded: crc) == entry.crc32 else {
            throw bad("entry \(quoted(entry.name)) fails its CRC-32 check (stored \(checkpointHex(entry.crc32)), computed \(checkpointHex(UInt32(truncatingIfNeeded: crc))))")
        }
    }

    private func inflate(_ index: Int) throws -> [UInt8] {
        let entry = entries[index]
        let fileRange = try dataRange(index)
        guard entry.uncompressedSize <= fileRange.count * 1032 + 1024 else {  // deflate's largest ratio is 1032:1
            throw bad("entry \(quoted(entry.name)) claims \(entry.uncompressedSize) uncompressed bytes from \(fileRange.count) compressed ones")
        }
        var output = [UInt8](repeating: 0, count: entry.uncompressedSize)
        var stream = z_stream()
        guard inflateInit2_(&stream, -15, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw ToolkitError(.io, "\(source): zlib could not start inflating entry \(quoted(entry.name))")
        }
        defer { inflateEnd(&stream) }
        var status: Int32 = Z_OK
        var produced = 0
        let compressed = try file.read(fileRange.lowerBound, fileRange.count)
        let range = 0 ..< compressed.count
        try compressed.withUnsafeBytes { raw in
            try output.withUnsafeMutableBytes { out in
                var inOffset = range.lowerBound
                var spare: UInt8 = 0  // a place to point at for empty buffers
                while true {
                    let inChunk = min(range.upperBound - inOffset, 1 << 30)
                    stream.next_in = inChunk > 0
                        ? UnsafeMutablePointer(mutating: raw.baseAddress!.advanced(by: inOffset).assumingMemoryBound(to: UInt8.self))
                        : withUnsafeMutablePointer(to: &spare) { $0 }
                    stream.avail_in = UInt32(inChunk)
                    let outChunk = min(out.count - produced, 1 << 30)
                    stream.next_out = outChunk > 0
                        ? out.baseAddress!.advanced(by: produced).assumingMemoryBound(to: UInt8.self)
                        : withUnsafeMutablePointer(to: &spare) { $0 }
                    stream.avail_out = UInt32(outChunk)
                    status = CZlib.inflate(&stream, Z_NO_FLUSH)
                    inOffset += inChunk - Int(stream.avail_in)
                    produced += outChunk - Int(stream.avail_out)
                    if status == Z_STREAM_END { break }
                    guard status == Z_OK else {
                        let why = stream.msg.map { String(cString: $0) } ?? "zlib status \(status)"
                        throw bad("entry \(quoted(entry.name)) does not inflate: \(why)")
                    }
                    if produced == out.count, inOffset == range.upperBound { break }
                    if inChunk == Int(stream.avail_in), outChunk == Int(stream.avail_out) {
                        break  // no progress: input or output exhausted
                    }
                }
            }
        }
        guard status == Z_STREAM_END else {
            throw bad("entry \(quoted(entry.name)): the deflate stream ends early (\(produced) of \(entry.uncompressedSize) bytes)")
        }
        guard produced == entry.uncompressedSize else {
            throw bad("entry \(quoted(entry.name)) inflates to \(produced) bytes, not the \(entry.uncompressedSize) its header claims")
        }
        try output.withUnsafeBytes { try checkCRC(entry, $0) }
        return output
    }
}

/// `0x` and eight hex digits.
func checkpointHex(_ v: UInt32) -> String {
    let digits = String(v, radix: 16)
    return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
}
