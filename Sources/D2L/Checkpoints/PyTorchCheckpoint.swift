import Foundation
import D2LRuntime

// Reading PyTorch checkpoints (what `torch.save(net.state_dict(), path)` writes) without PyTorch.
//
// Two layouts of torch.save, and the toolkit's safetensors files, told apart by content:
//
// - zip (torch ≥ 1.6, the default): one top-level folder (`archive/`, or the file's stem in
//   torch 2.x) holding `data.pkl` (the pickled state dict), `data/<key>` (one raw storage
//   per key, little-endian), `byteorder` (`little`), `version`, `.format_version`,
//   `.storage_alignment`, `.data/serialization_id`. Persistent ids in `data.pkl` are
//   `('storage', torch.FloatStorage, key, location, numel)`.
// - legacy (`_use_new_zipfile_serialization=False`): consecutive pickles — the magic
//   number 0x1950a86a20f9469cfc6c, the protocol version 1001, a sys_info dict
//   (`little_endian`), the state dict (persistent ids `('storage', type, key, location,
//   numel, view_metadata)`), the list of storage keys — then for each key an 8-byte
//   little-endian element count and the storage's raw bytes.
// - safetensors (see ``SafeTensorsFile``).
//
// Tensors are `_rebuild_tensor_v2(storage, offset, size, stride, ...)`: views of storages,
// possibly shared, offset or strided. Each is gathered into contiguous row-major values.

/// One tensor of a checkpoint: its dtype as saved, its shape, and its values as float32
/// (and, for integer dtypes, as exact integers).
public struct CheckpointTensor: Equatable, Sendable {
    /// The element type the file stores.
    public let dtype: CheckpointDType
    /// The dimensions, outermost first; `[]` for a scalar.
    public let shape: [Int]
    /// The elements, row-major, as float32: exact for float32, float16, bfloat16 and integers
    /// up to 2^24; float64 and larger integers rounded to nearest.
    public let values: [Float]
    /// The elements as exact integers, for integer and bool dtypes; nil for floating point.
    public let integers: [Int64]?

    /// The number of elements.
    public var count: Int { values.count }

    public init(dtype: CheckpointDType, shape: [Int], values: [Float], integers: [Int64]? = nil) {
        self.dtype = dtype
        self.shape = shape
        self.values = values
        self.integers = integers
    }
}

/// A checkpoint read from a file: named tensors in the file's order.
///
/// ```swift
/// let checkpoint = try PyTorchCheckpoint.load(path: "mlp.params")
/// for (name, tensor) in checkpoint.tensors { print(name, tensor.shape, tensor.dtype) }
/// print(checkpoint.convertedDTypes)   // e.g. [.float16]: values were converted to float32
/// ```
public struct PyTorchCheckpoint {
    /// The file layout a checkpoint came in.
    public enum Format: String, Sendable {
        /// torch.save's zip archive (the default since torch 1.6).
        case zip
        /// torch.save's older format (`_use_new_zipfile_serialization=False`).
        case legacy
        /// A safetensors file (the toolkit's checkpoints).
        case safetensors
    }

    /// The file's layout.
    public let format: Format
    /// The tensors, in the file's order (the state dict's order; for safetensors the data order).
    public let tensors: [(name: String, tensor: CheckpointTensor)]

    /// The distinct dtypes of the tensors, in order of first appearance.
    public var dtypes: [CheckpointDType] {
        var seen: [CheckpointDType] = []
        for (_, t) in tensors where !seen.contains(t.dtype) { seen.append(t.dtype) }
        return seen
    }

    /// The floating-point dtypes other than float32 whose values were converted to float32.
    public var convertedDTypes: [CheckpointDType] {
        dtypes.filter { $0.isFloatingPoint && $0 != .float32 }
    }

    /// The total number of elements of all tensors.
    public var elementCount: Int { tensors.reduce(0) { $0 + $1.tensor.count } }

    /// The tensor called `name`, or nil.
    public subscript(name: String) -> CheckpointTensor? {
        tensors.first(where: { $0.name == name })?.tensor
    }

    /// Reads the checkpoint at `path` (torch zip, torch legacy or safetensors, by content).
    /// - Returns: the tensors in the file's order.
    /// - Throws: ``ToolkitError`` `.io` when the file cannot be read; `.invalidData` naming
    ///   the file (and tensor, entry or offset) when it is truncated or corrupt;
    ///   `.unsupported` for a global outside the state-dict allow-list (named), a whole
    ///   pickled module, a big-endian file or an unsupported dtype.
    public static func read(path: String) throws -> [(name: String, tensor: CheckpointTensor)] {
        try load(path: path).tensors
    }

    /// Reads the checkpoint at `path`, with its format (see ``read(path:)``).
    ///
    /// The file must be a regular file (a FIFO, device or directory is refused without
    /// reading). Its kind is told from its first bytes before anything else is read: a file
    /// that starts like none of the formats (say 2 GiB of zeros) is refused after reading 16
    /// bytes; a zip is read from its end records, entry by entry (one storage in memory at a
    /// time); a safetensors file's header length is checked against the file's size before
    /// the header is read, and each tensor is read by offset.
    public static func load(path: String) throws -> PyTorchCheckpoint {
        try load(BoundedFile(path: path), source: path)
    }

    private static func load(_ file: BoundedFile, source path: String) throws -> PyTorchCheckpoint {
        switch try sniff(file, source: path) {
        case .zip:
            return PyTorchCheckpoint(format: .zip, tensors: try decodeZip(CheckpointBytes(file), source: path))
        case .safetensors:
            return PyTorchCheckpoint(format: .safetensors,
                                     tensors: try checkpointTensors(SafeTensorsFile.read(file, source: path)))
        case .legacy:
            return PyTorchCheckpoint(format: .legacy, tensors: try decodeLegacy(try readLegacy(file), source: path))
        }
    }

    /// Opens the checkpoint at `path` for reading one tensor at a time (see
    /// ``CheckpointReader``): a zip's tensors are decoded on demand; the other formats are
    /// decoded whole, as ``load(path:)`` does.
    static func open(path: String) throws -> CheckpointReader {
        let file = try BoundedFile(path: path)
        if try sniff(file, source: path) == .zip {
            return try zipReader(CheckpointBytes(file), source: path)
        }
        return CheckpointReader(try load(file, source: path))
    }

    /// The most bytes a legacy (non-zip) torch.save file is read into memory with: it is
    /// read whole, as its storages follow its pickles with no index.
    static let legacyFileLimit = Int(truncatingIfNeeded: min(Int64(64) << 30, Int64(Int.max)))

    /// Which format the regular file `file` is, from its first 16 bytes only.
    /// - Throws: ``ToolkitError`` `.invalidData` naming `source` when it is empty or starts
    ///   like none of the formats.
    private static func sniff(_ file: BoundedFile, source: String) throws -> Format {
        guard file.size > 0 else { throw ToolkitError(.invalidData, "\(source): the file is empty") }
        let head = try file.head(16)
        if let format = format(ofHead: head, size: file.size) { return format }
        throw notACheckpoint(head, size: file.size, source: source)
    }

    /// The format a file of `size` bytes starting with `head` (its first 16 bytes, or all)
    /// is in, or nil. safetensors (a little-endian u64 header length, then the JSON header's
    /// `{`) is told before pickle: its length's low byte may be 0x80, pickle's PROTO, with
    /// which torch's legacy format starts; such a file is safetensors when the length fits it.
    static func format(ofHead head: [UInt8], size: Int) -> Format? {
        guard !head.isEmpty else { return nil }
        if ZipArchive.looksLikeZip(head) { return .zip }
        if head.count >= 9, head[8] == UInt8(ascii: "{") {
            // Not a pickle: safetensors, whose reader explains a bad header length.
            guard head[0] == 0x80 else { return .safetensors }
            let length = head[0..<8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            if length >= 2, length <= UInt64(max(size - 8, 0)) { return .safetensors }
        }
        if head[0] == 0x80 { return .legacy }
        return nil
    }

    private static func notACheckpoint(_ bytes: [UInt8], size: Int, source: String) -> ToolkitError {
        let head = bytes.prefix(8).map { String($0, radix: 16) }.joined(separator: " ")
        return ToolkitError(.invalidData, "\(source): not a PyTorch checkpoint (zip or legacy torch.save format) nor a safetensors file (\(size) bytes, starting with bytes \(head))")
    }

    /// A legacy file's bytes, read whole once its first pickle is seen to be torch's magic
    /// number (a small file is read whole anyway, for ``decodeLegacy(_:source:)``'s message).
    private static func readLegacy(_ file: BoundedFile) throws -> [UInt8] {
        let head = try file.head(32)
        let hasMagic = head.count >= 2 + legacyMagic.count
            && (0 ... head.count - legacyMagic.count).contains { Array(head[$0 ..< $0 + legacyMagic.count]) == legacyMagic }
        guard hasMagic || file.size <= 1 << 20 else {
            throw ToolkitError(.invalidData, "\(file.path): a pickle but not a torch.save file: its first bytes hold no torch magic number (\(file.size) bytes); save it with torch.save(net.state_dict(), path)")
        }
        return try file.readAll(limit: legacyFileLimit, what: "a legacy torch.save file")
    }

    /// Decodes a checkpoint held in memory.
    /// - Parameters:
    ///   - bytes: the whole file: a zip `torch.save`, a legacy `torch.save` or a safetensors file.
    ///   - source: what to call the bytes in messages (a path).
    public static func decode(_ bytes: [UInt8], source: String = "checkpoint") throws -> PyTorchCheckpoint {
        guard !bytes.isEmpty else { throw ToolkitError(.invalidData, "\(source): the file is empty") }
        switch format(ofHead: Array(bytes.prefix(16)), size: bytes.count) {
        case .zip?: return PyTorchCheckpoint(format: .zip, tensors: try decodeZip(CheckpointBytes(bytes), source: source))
        case .legacy?: return PyTorchCheckpoint(format: .legacy, tensors: try decodeLegacy(bytes, source: source))
        case .safetensors?: return PyTorchCheckpoint(format: .safetensors, tensors: try decodeSafeTensors(bytes, source: source))
        case nil: throw notACheckpoint(bytes, size: bytes.count, source: source)
        }
    }

    // MARK: - zip

    private static func decodeZip(_ file: CheckpointBytes, source: String) throws -> [(name: String, tensor: CheckpointTensor)] {
        let reader = try zipReader(file, source: source)
        return try reader.entries.indices.map { (reader.entries[$0].name, try reader.tensor($0)) }
    }

    /// A zip checkpoint's index (the pickle read, every storage entry located), its
    /// tensors decoded one at a time on demand.
    static func zipReader(_ file: CheckpointBytes, source: String) throws -> CheckpointReader {
        let archive = try ZipArchive(file: file, source: source)
        let pickles = archive.entries.map(\.name).filter {
            $0 == "data.pkl" || ($0.hasSuffix("/data.pkl") && $0.split(separator: "/", omittingEmptySubsequences: false).count == 2)
        }
        guard pickles.count == 1, let pickleName = pickles.first else {
            if pickles.isEmpty {
                let some = archive.entries.prefix(5).map { "\(quoted($0.name))" }.joined(separator: ", ")
                throw ToolkitError(.invalidData, "\(source): a zip archive but not one torch.save wrote: no <folder>/data.pkl among its \(archive.entries.count) entries (\(some))")
            }
            throw ToolkitError(.invalidData, "\(source): the zip archive holds several pickles (\(pickles.prefix(5).map { quoted($0) }.joined(separator: ", "))); torch.save writes one top-level folder")
        }
        let prefix = String(pickleName.dropLast("data.pkl".count))

        if let order = try archive.data(named: prefix + "byteorder") {
            let text = String(decoding: order, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            switch text {
            case "little": break
            case "big":
                throw ToolkitError(.unsupported, "\(source): the checkpoint was saved on a big-endian machine (byteorder 'big'); only little-endian checkpoints are read: load it with torch on that machine and save it again on a little-endian one (x86-64, ARM)")
            default:
                throw ToolkitError(.invalidData, "\(source): \(prefix)byteorder says \(quoted(text)), expected 'little' or 'big'")
            }
        }

        let pickleIndex = archive.index(of: pickleName)!
        let pickleBytes = try archive.data(pickleIndex)
        let pickleSource = "\(source) (\(pickleName))"
        let (value, _) = try PickleReader.load(pickleBytes, source: pickleSource) { pid in
            try storageFromPersistentID(pid, legacy: false, source: pickleSource)
        }
        let entries = try stateDict(value, source: source)

        var located: [(name: String, tensor: PickledTensor, storageName: String, index: Int)] = []
        located.reserveCapacity(entries.count)
        for (name, t) in entries {
            let storageName = prefix + "data/" + t.storage.key
            guard let index = archive.index(of: storageName) else {
                throw ToolkitError(.invalidData, "\(source): tensor \(quoted(name)) refers to storage \(quoted(storageName)), which the archive does not hold")
            }
            located.append((name, t, storageName, index))
        }
        return CheckpointReader(format: .zip, entries: located.map { ($0.name, $0.tensor.shape, $0.tensor.storage.dtype) }) { i in
            let entry = located[i]
            return try archive.withData(entry.index) { raw in
                try gather(entry.tensor, name: entry.name, storage: raw, storageName: entry.storageName, source: source)
            }
        }
    }

    /// A storage from a persistent id: `('storage', type, key, location, numel[, view_metadata])`.
    private static func storageFromPersistentID(_ pid: PickleValue, legacy: Bool, source: String) throws -> PickleValue {
        guard case .tuple(let items) = pid, let first = items.first, case .string(let kind) = first else {
            throw ToolkitError(.invalidData, "\(source): a persistent id is a \(pid.kindName), not torch's ('storage', ...) tuple")
        }
        if kind == "module" {
            var what = "a module class"
            if items.count > 1, case .global(let m, let n) = items[1] { what = "\(m).\(n)" }
            throw ToolkitError(.unsupported, "\(source): refusing to load \(what): the file holds a whole pickled module, not a state_dict; save it with torch.save(net.state_dict(), path)")
        }
        guard kind == "storage", items.count >= 5 else {
            throw ToolkitError(.invalidData, "\(source): a persistent id of kind \(quoted(kind)) with \(items.count) fields; torch's storage ids are ('storage', type, key, location, numel)")
        }
        guard case .global(let module, let typeName) = items[1] else {
            throw ToolkitError(.invalidData, "\(source): a storage id's type is a \(items[1].kindName), not a torch storage class")
        }
        let dtype: CheckpointDType
        if let d = CheckpointDType.ofStorageClass(typeName) {
            dtype = d
        } else if let d = CheckpointDType.ofTorchName(typeName) {
            dtype = d  // a dtype in place of the class (torch.float32)
        } else {
            throw ToolkitError(.unsupported, "\(source): storage type \(module).\(typeName) is not supported (float32, float16, bfloat16, float64 and integer storages are)")
        }
        let key: String
        switch items[2] {
        case .string(let s): key = s
        case .int(let i): key = String(i)
        default: throw ToolkitError(.invalidData, "\(source): a storage key is a \(items[2].kindName), not a string")
        }
        guard let count = items[4].intValue, count >= 0 else {
            throw ToolkitError(.invalidData, "\(source): storage \(quoted(key)) has an invalid element count (a \(items[4].kindName))")
        }
        var storage = PickledStorage(key: key, dtype: dtype, claimedCount: count, typeName: "\(module).\(typeName)")
        if legacy, items.count >= 6, case .tuple(let view) = items[5] {
            // An old view of a root storage: (view_key, offset, view_size) in elements.
            guard view.count == 3, let offset = view[1].intValue, let size = view[2].intValue, offset >= 0, size >= 0 else {
                throw ToolkitError(.invalidData, "\(source): storage \(quoted(key)) has malformed view metadata")
            }
            storage.viewOffset = offset
            storage.claimedCount = size
        }
        return .storage(storage)
    }

    /// The (name, tensor) entries of a state dict, in order.
    private static func stateDict(_ value: PickleValue, source: String) throws -> [(String, PickledTensor)] {
        guard case .dict(let dict) = value else {
            if case .tensor = value {
                throw ToolkitError(.unsupported, "\(source): the file holds a single tensor, not a state_dict; save a dict of named tensors (torch.save(net.state_dict(), path))")
            }
            throw ToolkitError(.unsupported, "\(source): the file holds a \(value.kindName), not a state_dict (a dict of named tensors); save it with torch.save(net.state_dict(), path)")
        }
        // A training checkpoint ({'epoch': 3, 'model_state_dict': {...}}): point at the state dict.
        for (key, entry) in dict.entries {
            if case .string(let name) = key, case .dict(let inner) = entry,
               inner.entries.contains(where: { if case .tensor = $0.value { return true } else { return false } }) {
                throw ToolkitError(.unsupported, "\(source): entry \(quoted(name)) is a dict of tensors, not a tensor: the file looks like a training checkpoint holding a state_dict; save that state_dict alone (torch.save(checkpoint[\(quoted(name))], path))")
            }
        }
        var out: [(String, PickledTensor)] = []
        out.reserveCapacity(dict.entries.count)
        for (key, entry) in dict.entries {
            guard case .string(let name) = key else {
                throw ToolkitError(.unsupported, "\(source): the dict has a key of type \(key.kindName), not a string: not a state_dict")
            }
            switch entry {
            case .tensor(let t): out.append((name, t))
            default:
                throw ToolkitError(.unsupported, "\(source): entry \(quoted(name)) is not a tensor but a value of type \(entry.kindName): not a state_dict; save one with torch.save(net.state_dict(), path)")
            }
        }
        return out
    }

    // MARK: - legacy

    /// torch's legacy magic number 0x1950a86a20f9469cfc6c, little-endian.
    private static let legacyMagic: [UInt8] = [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19]

    private static func decodeLegacy(_ bytes: [UInt8], source: String) throws -> [(name: String, tensor: CheckpointTensor)] {
        func bad(_ why: String) -> ToolkitError { ToolkitError(.invalidData, "\(source): \(why)") }

        let (magic, afterMagic) = try PickleReader.load(bytes, source: source)
        guard case .bigInt(let m) = magic, m == legacyMagic else {
            throw ToolkitError(.invalidData, "\(source): a pickle but not a torch.save file: it starts with a \(magic.kindName), not torch's magic number; save it with torch.save(net.state_dict(), path)")
        }
        let (version, afterVersion) = try PickleReader.load(bytes, from: afterMagic, source: source)
        guard case .int(1001) = version else {
            throw ToolkitError(.unsupported, "\(source): legacy torch.save protocol version \(version.intValue.map(String.init) ?? version.kindName) is not supported (1001 is)")
        }
        let (sysInfo, afterInfo) = try PickleReader.load(bytes, from: afterVersion, source: source)
        if case .dict(let info) = sysInfo,
           let little = info.entries.first(where: { if case .string("little_endian") = $0.key { return true } else { return false } }),
           case .bool(false) = little.value {
            throw ToolkitError(.unsupported, "\(source): the checkpoint was saved on a big-endian machine (little_endian False); only little-endian checkpoints are read: load it with torch on that machine and save it again on a little-endian one")
        }

        var storages: [String: PickledStorage] = [:]  // root storages by key
        let (value, afterMain) = try PickleReader.load(bytes, from: afterInfo, source: source) { pid in
            let s = try storageFromPersistentID(pid, legacy: true, source: source)
            if case .storage(let storage) = s {
                if let known = storages[storage.key], known.dtype != storage.dtype {
                    throw ToolkitError(.invalidData, "\(source): storage \(quoted(storage.key)) is referred to as both \(known.dtype) and \(storage.dtype)")
                }
                if storages[storage.key] == nil { storages[storage.key] = storage }
            }
            return s
        }
        let entries = try stateDict(value, source: source)
        let (keysValue, afterKeys) = try PickleReader.load(bytes, from: afterMain, source: source)
        guard case .list(let keyList) = keysValue else {
            throw bad("the storage key list after the state dict is a \(keysValue.kindName), not a list")
        }

        // The raw storages: for each key, an 8-byte element count, then the elements.
        var ranges: [String: Range<Int>] = [:]
        var position = afterKeys
        for keyValue in keyList.items {
            guard case .string(let key) = keyValue else { throw bad("a storage key is a \(keyValue.kindName), not a string") }
            guard let storage = storages[key] else {
                throw bad("the storage list names \(quoted(key)), which no tensor refers to (its element size is unknown)")
            }
            guard position + 8 <= bytes.count else {
                throw bad("the file is truncated: storage \(quoted(key)) has no element count at offset \(position) (\(bytes.count) bytes)")
            }
            var count64: UInt64 = 0
            for i in 0 ..< 8 { count64 |= UInt64(bytes[position + i]) << (8 * UInt64(i)) }
            position += 8
            let size = storage.dtype.byteSize
            guard count64 <= UInt64(bytes.count - position) / UInt64(size) else {
                throw bad("the file is truncated: storage \(quoted(key)) (\(storage.dtype)) claims \(count64) elements at offset \(position), but only \(bytes.count - position) bytes remain")
            }
            let length = Int(count64) * size
            ranges[key] = position ..< position + length
            position += length
        }

        var out: [(name: String, tensor: CheckpointTensor)] = []
        out.reserveCapacity(entries.count)
        try bytes.withUnsafeBytes { raw in
            for (name, t) in entries {
                guard let range = ranges[t.storage.key] else {
                    throw bad("tensor \(quoted(name)) refers to storage \(quoted(t.storage.key)), whose data the file does not hold")
                }
                var view = t
                view.offset += t.storage.viewOffset
                let tensor = try gather(view, name: name, storage: UnsafeRawBufferPointer(rebasing: raw[range]),
                                        storageName: "storage \(quoted(t.storage.key))", source: source)
                out.append((name, tensor))
            }
        }
        return out
    }

    // MARK: - safetensors

    private static func decodeSafeTensors(_ bytes: [UInt8], source: String) throws -> [(name: String, tensor: CheckpointTensor)] {
        try checkpointTensors(SafeTensorsFile.decode(bytes, source: source))
    }

    private static func checkpointTensors(_ file: SafeTensorsFile) throws -> [(name: String, tensor: CheckpointTensor)] {
        try file.tensors.map { name, t in
            let dtype: CheckpointDType
            switch t.dtype {
            case .F32: dtype = .float32
            case .F16: dtype = .float16
            case .BF16: dtype = .bfloat16
            case .F64: dtype = .float64
            case .I64: dtype = .int64
            case .I32: dtype = .int32
            case .I16: dtype = .int16
            case .I8: dtype = .int8
            case .U8: dtype = .uint8
            case .BOOL: dtype = .bool
            }
            return (name, CheckpointTensor(dtype: dtype, shape: t.shape, values: try t.floats(),
                                           integers: dtype.isFloatingPoint ? nil : try t.int64s()))
        }
    }

    // MARK: - Gathering a strided view

    /// Above this many elements, a tensor that claims more elements than its storage holds
    /// (a stride-0 expansion) is refused rather than materialised.
    static let expansionLimit = 1 << 26

    /// The contiguous row-major values of the view `t` of `raw` (the storage's bytes).
    static func gather(_ t: PickledTensor, name: String, storage raw: UnsafeRawBufferPointer,
                       storageName: String, source: String) throws -> CheckpointTensor {
        let dtype = t.storage.dtype
        let size = dtype.byteSize
        let available = raw.count / size
        func describe() -> String {
            "tensor \(quoted(name)) (\(dtype), shape \(t.shape), strides \(t.strides), storage offset \(t.offset))"
        }
        guard t.offset >= 0 else { throw ToolkitError(.invalidData, "\(source): \(describe()) has a negative storage offset") }
        var count = 1
        var last = t.offset  // the largest element index the view reaches
        for (d, s) in zip(t.shape, t.strides) {
            guard d >= 0, s >= 0 else {
                throw ToolkitError(.invalidData, "\(source): \(describe()) has a negative size or stride")
            }
            let (c, o1) = count.multipliedReportingOverflow(by: d)
            guard !o1 else { throw ToolkitError(.invalidData, "\(source): \(describe()) is too large") }
            count = c
            if d > 0 {
                let (reach, o2) = (d - 1).multipliedReportingOverflow(by: s)
                let (sum, o3) = last.addingReportingOverflow(reach)
                guard !o2, !o3 else { throw ToolkitError(.invalidData, "\(source): \(describe()) reaches past any storage") }
                last = sum
            }
        }
        if count == 0 {
            return CheckpointTensor(dtype: dtype, shape: t.shape, values: [], integers: dtype.isFloatingPoint ? nil : [])
        }
        guard last < available else {
            throw ToolkitError(.invalidData, "\(source): \(describe()) needs \(last + 1) elements of \(storageName), which holds only \(available) (\(raw.count) bytes): the storage is shorter than the tensor claims")
        }
        guard count <= available || count <= expansionLimit else {
            throw ToolkitError(.unsupported, "\(source): \(describe()) expands \(available) stored elements to \(count); too large to materialise")
        }

        // Element indices in row-major order: an odometer over all but the last dimension.
        func forEachIndex(_ body: (Int, Int) -> Void) {  // (output position, storage index)
            let rank = t.shape.count
            if rank == 0 { body(0, t.offset); return }
            let inner = t.shape[rank - 1], innerStride = t.strides[rank - 1]
            var counter = [Int](repeating: 0, count: rank - 1)
            var base = t.offset
            var out = 0
            while true {
                var index = base
                for _ in 0 ..< inner {
                    body(out, index)
                    out += 1
                    index += innerStride
                }
                var axis = rank - 2
                while axis >= 0 {
                    counter[axis] += 1
                    base += t.strides[axis]
                    if counter[axis] < t.shape[axis] { break }
                    base -= t.strides[axis] * t.shape[axis]
                    counter[axis] = 0
                    axis -= 1
                }
                if axis < 0 { return }
            }
        }

        var values = [Float](repeating: 0, count: count)
        var integers: [Int64]? = nil
        values.withUnsafeMutableBufferPointer { v in
            switch dtype {
            case .float32:
                forEachIndex { o, i in v[o] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
            case .float16:
                forEachIndex { o, i in v[o] = IOBinary.halfBitsToFloat(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) }
            case .bfloat16:
                forEachIndex { o, i in v[o] = Float(bitPattern: UInt32(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) << 16) }
            case .float64:
                forEachIndex { o, i in v[o] = Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)))) }
            default:
                var ints = [Int64](repeating: 0, count: count)
                ints.withUnsafeMutableBufferPointer { n in
                    switch dtype {
                    case .int64: forEachIndex { o, i in n[o] = Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self)) }
                    case .int32: forEachIndex { o, i in n[o] = Int64(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self))) }
                    case .int16: forEachIndex { o, i in n[o] = Int64(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self))) }
                    case .int8: forEachIndex { o, i in n[o] = Int64(Int8(bitPattern: raw[i])) }
                    case .uint8: forEachIndex { o, i in n[o] = Int64(raw[i]) }
                    case .bool: forEachIndex { o, i in n[o] = raw[i] != 0 ? 1 : 0 }
                    default: break
                    }
                    for k in 0 ..< count { v[k] = Float(n[k]) }
                }
                integers = ints
            }
        }
        return CheckpointTensor(dtype: dtype, shape: t.shape, values: values, integers: integers)
    }
}

/// A checkpoint's tensors by index: the names, shapes and dtypes first (for a zip, from the
/// pickle alone), each tensor's values decoded when asked for. Loading a state dict through
/// it holds one decoded tensor at a time besides what the model keeps.
struct CheckpointReader {
    let format: PyTorchCheckpoint.Format
    /// Name, shape and stored dtype of each tensor, in the file's order.
    let entries: [(name: String, shape: [Int], dtype: CheckpointDType)]
    private let load: (Int) throws -> CheckpointTensor

    init(format: PyTorchCheckpoint.Format, entries: [(name: String, shape: [Int], dtype: CheckpointDType)],
         load: @escaping (Int) throws -> CheckpointTensor) {
        self.format = format
        self.entries = entries
        self.load = load
    }

    /// The tensors of a checkpoint already in memory.
    init(_ checkpoint: PyTorchCheckpoint) {
        let tensors = checkpoint.tensors
        self.init(format: checkpoint.format, entries: tensors.map { ($0.name, $0.tensor.shape, $0.tensor.dtype) }) {
            tensors[$0].tensor
        }
    }

    /// Tensor `index`'s values (decoded now; read errors name the file and tensor).
    func tensor(_ index: Int) throws -> CheckpointTensor { try load(index) }

    /// The shape of the tensor called `name`, or nil.
    func shape(_ name: String) -> [Int]? { entries.first(where: { $0.name == name })?.shape }
}
