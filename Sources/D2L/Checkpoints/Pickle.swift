// A pickle reader (protocols 2–5) for what PyTorch state dictionaries contain — strictly data.
//
// It interprets the opcodes `torch.save` emits for a state dict and builds plain values; it
// never imports, calls or executes anything the file names. GLOBAL / STACK_GLOBAL resolve
// only an allow-list (collections.OrderedDict, torch._utils._rebuild_tensor[_v2],
// torch._utils._rebuild_parameter[_with_state], torch.*Storage, torch.UntypedStorage, torch
// dtypes) to markers; REDUCE / NEWOBJ / BUILD apply only those markers' known meaning.
// Anything else is refused with a ``ToolkitError`` naming the global, the opcode or the offset.
import D2LRuntime

/// A mutable pickled list (shared through the memo, as Python's are).
final class PickleList {
    var items: [PickleValue]
    init(_ items: [PickleValue] = []) { self.items = items }
}

/// A mutable pickled dict (or OrderedDict), keeping insertion order.
final class PickleDict {
    enum Key: Hashable { case string(String), int(Int64) }
    var entries: [(key: PickleValue, value: PickleValue)] = []
    private var index: [Key: Int] = [:]
    /// Attributes set by BUILD (an OrderedDict's `_metadata`); kept, never interpreted.
    var attributes: [(name: String, value: PickleValue)] = []
    let isOrdered: Bool
    init(ordered: Bool) { isOrdered = ordered }

    /// d[key] = value: replaces the value of an existing string or int key in place.
    func set(_ key: PickleValue, _ value: PickleValue) {
        let hashable: Key?
        switch key {
        case .string(let s): hashable = .string(s)
        case .int(let i): hashable = .int(i)
        default: hashable = nil
        }
        if let h = hashable, let i = index[h] {
            entries[i].value = value
            return
        }
        if let h = hashable { index[h] = entries.count }
        entries.append((key, value))
    }
}

/// The element type of a torch storage (and so of the tensors over it).
public enum CheckpointDType: String, CaseIterable, Sendable {
    case float32, float16, bfloat16, float64, int64, int32, int16, int8, uint8, bool

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .float64, .int64: return 8
        case .float32, .int32: return 4
        case .float16, .bfloat16, .int16: return 2
        case .int8, .uint8, .bool: return 1
        }
    }

    /// Whether the values are floating point (and so converted to float32 unless already float32).
    public var isFloatingPoint: Bool {
        switch self {
        case .float32, .float16, .bfloat16, .float64: return true
        default: return false
        }
    }

    /// The dtype of torch's legacy typed storage class `name` (`FloatStorage` → float32), or nil.
    static func ofStorageClass(_ name: String) -> CheckpointDType? {
        switch name {
        case "FloatStorage": return .float32
        case "HalfStorage": return .float16
        case "BFloat16Storage": return .bfloat16
        case "DoubleStorage": return .float64
        case "LongStorage": return .int64
        case "IntStorage": return .int32
        case "ShortStorage": return .int16
        case "CharStorage": return .int8
        case "ByteStorage", "UntypedStorage": return .uint8
        case "BoolStorage": return .bool
        default: return nil
        }
    }

    /// The dtype called `torch.<name>`, or nil.
    static func ofTorchName(_ name: String) -> CheckpointDType? {
        switch name {
        case "float32", "float": return .float32
        case "float16", "half": return .float16
        case "bfloat16": return .bfloat16
        case "float64", "double": return .float64
        case "int64", "long": return .int64
        case "int32", "int": return .int32
        case "int16", "short": return .int16
        case "int8": return .int8
        case "uint8": return .uint8
        case "bool": return .bool
        default: return nil
        }
    }
}

/// A storage a persistent id referred to: its key (`data/<key>` in a zip, a key of the
/// legacy storage table), element type, element count as the id claims, and for a legacy
/// view the element offset into its root storage.
struct PickledStorage: Sendable {
    var key: String
    var dtype: CheckpointDType
    var claimedCount: Int
    var viewOffset: Int = 0
    /// The storage class's name as the file wrote it (`torch.FloatStorage`).
    var typeName: String
}

/// A tensor as `_rebuild_tensor_v2` describes it: a view of a storage.
struct PickledTensor: Sendable {
    var storage: PickledStorage
    var offset: Int
    var shape: [Int]
    var strides: [Int]
}

/// A value of a state-dict pickle.
indirect enum PickleValue {
    case none
    case bool(Bool)
    case int(Int64)
    /// An integer too large for Int64: little-endian two's-complement bytes (LONG1/LONG4).
    case bigInt([UInt8])
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case tuple([PickleValue])
    case list(PickleList)
    case dict(PickleDict)
    /// An allow-listed global (`collections.OrderedDict`, `torch.FloatStorage`, ...).
    case global(module: String, name: String)
    case storage(PickledStorage)
    case tensor(PickledTensor)

    /// A short name of the value's type, for messages.
    var kindName: String {
        switch self {
        case .none: return "None"
        case .bool: return "bool"
        case .int, .bigInt: return "int"
        case .float: return "float"
        case .string: return "str"
        case .bytes: return "bytes"
        case .tuple: return "tuple"
        case .list: return "list"
        case .dict(let d): return d.isOrdered ? "OrderedDict" : "dict"
        case .global(let m, let n): return "\(m).\(n)"
        case .storage: return "storage"
        case .tensor: return "tensor"
        }
    }

    var intValue: Int? {
        if case .int(let v) = self, let i = Int(exactly: v) { return i }
        return nil
    }
}

/// The unpickler. One instance reads one pickle starting at `position`.
struct PickleReader {
    /// What to call the data in messages (a path, `path:archive/data.pkl`).
    let source: String
    let bytes: [UInt8]
    private(set) var position: Int
    /// Turns a persistent id (BINPERSID) into a value; torch's ids name storages.
    let persistentLoad: (PickleValue) throws -> PickleValue

    private var stack: [PickleValue] = []
    private var marks: [Int] = []
    private var memo: [Int: PickleValue] = [:]
    private var opcodeOffset = 0
    /// Every list and dict made, so that a pickle whose containers hold themselves can be
    /// refused and its cycles cut (see ``cutCycles()``).
    private var lists: [PickleList] = []
    private var dicts: [PickleDict] = []

    /// Reads the pickle that starts at `start`, returning its value and the offset after its STOP.
    /// - Throws: ``ToolkitError`` `.invalidData` for malformed or truncated data, an unknown
    ///   opcode (named with its offset), or a global outside the allow-list (named).
    static func load(_ bytes: [UInt8], from start: Int = 0, source: String,
                     persistentLoad: @escaping (PickleValue) throws -> PickleValue = { pid in
                         throw ToolkitError(.invalidData, "unexpected persistent id (a \(pid.kindName))")
                     }) throws -> (value: PickleValue, end: Int) {
        var reader = PickleReader(source: source, bytes: bytes, position: start, persistentLoad: persistentLoad)
        let value: PickleValue
        do {
            value = try reader.run()
        } catch {
            reader.cutCycles()
            throw error
        }
        if reader.cutCycles() {
            throw ToolkitError(.invalidData, "\(source): the pickle's lists or dicts contain themselves (a cycle), "
                               + "which a state_dict never does")
        }
        return (value, reader.position)
    }

    private mutating func newList() -> PickleValue {
        let list = PickleList()
        lists.append(list)
        return .list(list)
    }

    private mutating func newDict(ordered: Bool) -> PickleDict {
        let dict = PickleDict(ordered: ordered)
        dicts.append(dict)
        return dict
    }

    /// Whether the lists and dicts made form a cycle; when they do, empties them all, so that
    /// they are freed with the values that hold them (reference counting never frees a
    /// cycle). Iterative: no recursion on the file's nesting depth.
    @discardableResult
    private func cutCycles() -> Bool {
        var listsByID: [ObjectIdentifier: PickleList] = [:]
        var dictsByID: [ObjectIdentifier: PickleDict] = [:]
        for l in lists { listsByID[ObjectIdentifier(l)] = l }
        for d in dicts { dictsByID[ObjectIdentifier(d)] = d }
        /// The containers `id` holds, directly or through tuples.
        func children(_ id: ObjectIdentifier) -> [ObjectIdentifier] {
            var pending: [PickleValue]
            if let list = listsByID[id] { pending = list.items }
            else if let dict = dictsByID[id] { pending = dict.entries.flatMap { [$0.key, $0.value] } + dict.attributes.map(\.value) }
            else { return [] }
            var out: [ObjectIdentifier] = []
            while let value = pending.popLast() {
                switch value {
                case .list(let l): out.append(ObjectIdentifier(l))
                case .dict(let d): out.append(ObjectIdentifier(d))
                case .tuple(let items): pending.append(contentsOf: items)
                default: break
                }
            }
            return out
        }
        var done: [ObjectIdentifier: Bool] = [:]  // false: on the current path; true: explored
        var cyclic = false
        search: for root in Array(listsByID.keys) + Array(dictsByID.keys) where done[root] == nil {
            var path: [(id: ObjectIdentifier, next: [ObjectIdentifier])] = [(root, children(root))]
            done[root] = false
            while !path.isEmpty {
                if let child = path[path.count - 1].next.popLast() {
                    switch done[child] {
                    case .some(false): cyclic = true; break search
                    case .some(true): continue
                    case .none: done[child] = false; path.append((child, children(child)))
                    }
                } else {
                    done[path.removeLast().id] = true
                }
            }
        }
        if cyclic {
            for l in lists { l.items = [] }
            for d in dicts { d.entries = []; d.attributes = [] }
        }
        return cyclic
    }

    private init(source: String, bytes: [UInt8], position: Int, persistentLoad: @escaping (PickleValue) throws -> PickleValue) {
        self.source = source
        self.bytes = bytes
        self.position = position
        self.persistentLoad = persistentLoad
    }

    private func bad(_ why: String) -> ToolkitError {
        ToolkitError(.invalidData, "\(source): \(why)")
    }

    // MARK: Reading bytes

    private mutating func take(_ count: Int) throws -> ArraySlice<UInt8> {
        guard count >= 0, count <= bytes.count - position else {
            throw bad("the pickle is truncated: opcode at offset \(opcodeOffset) needs \(count) bytes, \(max(0, bytes.count - position)) remain")
        }
        defer { position += count }
        return bytes[position ..< position + count]
    }

    private mutating func byte() throws -> UInt8 { try take(1).first! }

    private mutating func uintLE(_ count: Int) throws -> UInt64 {
        var v: UInt64 = 0
        for (i, b) in try take(count).enumerated() { v |= UInt64(b) << (8 * UInt64(i)) }
        return v
    }

    private mutating func length(_ count: Int) throws -> Int {
        let v = try uintLE(count)
        guard v <= UInt64(bytes.count - position) else {
            throw bad("the pickle is truncated or corrupt: opcode at offset \(opcodeOffset) announces \(v) bytes, \(bytes.count - position) remain")
        }
        return Int(v)
    }

    private mutating func line() throws -> String {
        guard let newline = bytes[position...].firstIndex(of: 0x0a) else {
            throw bad("the pickle is truncated: GLOBAL at offset \(opcodeOffset) has no newline")
        }
        defer { position = newline + 1 }
        return String(decoding: bytes[position ..< newline], as: UTF8.self)
    }

    private mutating func utf8(_ count: Int) throws -> String {
        let slice = try take(count)
        guard let s = String(validating: slice, as: UTF8.self) else {
            throw bad("a string at offset \(opcodeOffset) is not valid UTF-8")
        }
        return s
    }

    // MARK: Stack

    private mutating func pop() throws -> PickleValue {
        guard stack.count > (marks.last ?? 0) else {
            throw bad("pickle stack underflow at offset \(opcodeOffset)")
        }
        return stack.removeLast()
    }

    private mutating func top() throws -> PickleValue {
        guard let v = stack.last, stack.count > (marks.last ?? 0) else {
            throw bad("pickle stack underflow at offset \(opcodeOffset)")
        }
        return v
    }

    /// The values above the last MARK, removing them and the mark.
    private mutating func popMark() throws -> [PickleValue] {
        guard let mark = marks.popLast() else { throw bad("the opcode at offset \(opcodeOffset) needs a MARK and there is none") }
        let items = Array(stack[mark...])
        stack.removeSubrange(mark...)
        return items
    }

    private mutating func memoize(_ index: Int) throws {
        memo[index] = try top()
    }

    private func fetch(_ index: Int) throws -> PickleValue {
        guard let v = memo[index] else { throw bad("pickle memo entry \(index) read at offset \(opcodeOffset) was never stored") }
        return v
    }

    // MARK: The loop

    private mutating func run() throws -> PickleValue {
        while true {
            opcodeOffset = position
            guard position < bytes.count else {
                throw bad("the pickle is truncated at offset \(position) (no STOP opcode)")
            }
            let op = try byte()
            switch op {
            case 0x80:  // PROTO
                let version = try byte()
                guard version >= 2 && version <= 5 else {
                    throw bad("pickle protocol \(version) at offset \(opcodeOffset) is not supported (2 to 5 are)")
                }
            case 0x95:  // FRAME: a length we do not need
                _ = try uintLE(8)
            case 0x2e:  // STOP
                guard marks.isEmpty, stack.count == 1 else {
                    throw bad("the pickle ends at offset \(opcodeOffset) with \(stack.count) values on its stack")
                }
                return stack[0]
            case 0x28: marks.append(stack.count)  // MARK
            case 0x7d: stack.append(.dict(newDict(ordered: false)))  // EMPTY_DICT
            case 0x5d: stack.append(newList())  // EMPTY_LIST
            case 0x29: stack.append(.tuple([]))  // EMPTY_TUPLE
            case 0x8f: stack.append(newList())  // EMPTY_SET (a list will do)
            case 0x85: stack.append(.tuple([try pop()]))  // TUPLE1
            case 0x86:  // TUPLE2
                let b = try pop(), a = try pop()
                stack.append(.tuple([a, b]))
            case 0x87:  // TUPLE3
                let c = try pop(), b = try pop(), a = try pop()
                stack.append(.tuple([a, b, c]))
            case 0x74: stack.append(.tuple(try popMark()))  // TUPLE
            case 0x91: stack.append(.tuple(try popMark()))  // FROZENSET (a tuple will do)
            case 0x61:  // APPEND
                let v = try pop()
                guard case .list(let list) = try top() else { throw bad("APPEND at offset \(opcodeOffset) to a \(try top().kindName), not a list") }
                list.items.append(v)
            case 0x65, 0x90:  // APPENDS, ADDITEMS
                let items = try popMark()
                guard case .list(let list) = try top() else { throw bad("APPENDS at offset \(opcodeOffset) to a \(try top().kindName), not a list") }
                list.items.append(contentsOf: items)
            case 0x73:  // SETITEM
                let v = try pop(), k = try pop()
                guard case .dict(let dict) = try top() else { throw bad("SETITEM at offset \(opcodeOffset) on a \(try top().kindName), not a dict") }
                dict.set(k, v)
            case 0x75:  // SETITEMS
                let items = try popMark()
                guard items.count % 2 == 0 else { throw bad("SETITEMS at offset \(opcodeOffset) with an odd number of values") }
                guard case .dict(let dict) = try top() else { throw bad("SETITEMS at offset \(opcodeOffset) on a \(try top().kindName), not a dict") }
                for i in stride(from: 0, to: items.count, by: 2) { dict.set(items[i], items[i + 1]) }
            case 0x58: stack.append(.string(try utf8(try length(4))))  // BINUNICODE
            case 0x8c: stack.append(.string(try utf8(try length(1))))  // SHORT_BINUNICODE
            case 0x8d: stack.append(.string(try utf8(try length(8))))  // BINUNICODE8
            case 0x54: stack.append(.string(String(decoding: try take(try length(4)), as: UTF8.self)))  // BINSTRING
            case 0x55: stack.append(.string(String(decoding: try take(try length(1)), as: UTF8.self)))  // SHORT_BINSTRING
            case 0x42: stack.append(.bytes(Array(try take(try length(4)))))  // BINBYTES
            case 0x43: stack.append(.bytes(Array(try take(try length(1)))))  // SHORT_BINBYTES
            case 0x8e, 0x96: stack.append(.bytes(Array(try take(try length(8)))))  // BINBYTES8, BYTEARRAY8
            case 0x4a: stack.append(.int(Int64(Int32(truncatingIfNeeded: try uintLE(4)))))  // BININT
            case 0x4b: stack.append(.int(Int64(try byte())))  // BININT1
            case 0x4d: stack.append(.int(Int64(try uintLE(2))))  // BININT2
            case 0x8a: stack.append(try long(try length(1)))  // LONG1
            case 0x8b: stack.append(try long(try length(4)))  // LONG4
            case 0x47:  // BINFLOAT: big-endian
                var v: UInt64 = 0
                for b in try take(8) { v = v << 8 | UInt64(b) }
                stack.append(.float(Double(bitPattern: v)))
            case 0x88: stack.append(.bool(true))  // NEWTRUE
            case 0x89: stack.append(.bool(false))  // NEWFALSE
            case 0x4e: stack.append(.none)  // NONE
            case 0x71: try memoize(Int(try byte()))  // BINPUT
            case 0x72: try memoize(Int(try uintLE(4)))  // LONG_BINPUT
            case 0x94: try memoize(memo.count)  // MEMOIZE
            case 0x68: stack.append(try fetch(Int(try byte())))  // BINGET
            case 0x6a: stack.append(try fetch(Int(try uintLE(4))))  // LONG_BINGET
            case 0x32: stack.append(try top())  // DUP
            case 0x30:  // POP
                if let mark = marks.last, mark == stack.count { marks.removeLast() } else { _ = try pop() }
            case 0x31: _ = try popMark()  // POP_MARK
            case 0x63:  // GLOBAL "module\nname\n"
                let module = try line()
                let name = try line()
                stack.append(try resolveGlobal(module: module, name: name))
            case 0x93:  // STACK_GLOBAL
                let nameValue = try pop(), moduleValue = try pop()
                guard case .string(let module) = moduleValue, case .string(let name) = nameValue else {
                    throw bad("STACK_GLOBAL at offset \(opcodeOffset) needs two strings, got a \(moduleValue.kindName) and a \(nameValue.kindName)")
                }
                stack.append(try resolveGlobal(module: module, name: name))
            case 0x52:  // REDUCE
                let args = try pop(), callable = try pop()
                stack.append(try reduce(callable, args))
            case 0x81:  // NEWOBJ
                let args = try pop(), cls = try pop()
                stack.append(try newObject(cls, args))
            case 0x92:  // NEWOBJ_EX
                _ = try pop()  // kwargs
                let args = try pop(), cls = try pop()
                stack.append(try newObject(cls, args))
            case 0x62:  // BUILD
                let state = try pop()
                try build(try top(), state)
            case 0x51:  // BINPERSID
                let pid = try pop()
                stack.append(try persistentLoad(pid))
            default:
                let printable = (0x21 ... 0x7e).contains(op) ? " ('\(Character(UnicodeScalar(op)))')" : ""
                throw bad("unknown or unsupported pickle opcode 0x\(String(op, radix: 16, uppercase: false))\(printable) at offset \(opcodeOffset); a state_dict pickle does not use it")
            }
        }
    }

    private mutating func long(_ count: Int) throws -> PickleValue {
        let raw = Array(try take(count))
        if raw.isEmpty { return .int(0) }
        if raw.count <= 8 {
            var v: UInt64 = 0
            for (i, b) in raw.enumerated() { v |= UInt64(b) << (8 * UInt64(i)) }
            if raw.count < 8, raw.last! & 0x80 != 0 { v |= ~0 << (8 * UInt64(raw.count)) }  // sign-extend
            return .int(Int64(bitPattern: v))
        }
        return .bigInt(raw)
    }

    // MARK: Globals: the allow-list

    static let tensorRebuilders: Set<String> = ["_rebuild_tensor_v2", "_rebuild_tensor", "_rebuild_parameter", "_rebuild_parameter_with_state"]

    private func resolveGlobal(module: String, name: String) throws -> PickleValue {
        let allowed: Bool
        switch module {
        case "collections": allowed = name == "OrderedDict"
        case "torch._utils": allowed = Self.tensorRebuilders.contains(name)
        case "torch", "torch.storage":
            // A storage class is a Python identifier ending in Storage (torch.FloatStorage).
            let identifier = !name.isEmpty && name.utf8.allSatisfy { b in
                (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F
            }
            allowed = (identifier && name.hasSuffix("Storage")) || CheckpointDType.ofTorchName(name) != nil
        default: allowed = false
        }
        if allowed { return .global(module: module, name: name) }
        let qualified = "\(module).\(name)"
        if module == "__main__" || module.hasPrefix("torch.nn.") || module == "torch.nn"
            || module.hasPrefix("torchvision.models") || module.hasPrefix("d2l.") {
            throw ToolkitError(.unsupported, "\(source): refusing to load \(quoted(qualified)): the file holds a whole pickled module, not a state_dict; save it with torch.save(net.state_dict(), path)")
        }
        throw ToolkitError(.unsupported, "\(source): refusing to load \(quoted(qualified)): the pickle names a global outside what a state_dict holds (tensors, OrderedDict, numbers, strings); nothing in the file was run. If it is a whole pickled model or a training checkpoint, save the model's state_dict alone with torch.save(net.state_dict(), path)")
    }

    // MARK: Calls

    private mutating func reduce(_ callable: PickleValue, _ args: PickleValue) throws -> PickleValue {
        guard case .global(let module, let name) = callable else {
            throw bad("REDUCE at offset \(opcodeOffset) calls a \(callable.kindName), not an allowed global")
        }
        guard case .tuple(let a) = args else {
            throw bad("REDUCE at offset \(opcodeOffset): the arguments of \(module).\(name) are a \(args.kindName), not a tuple")
        }
        switch (module, name) {
        case ("collections", "OrderedDict"):
            let dict = newDict(ordered: true)
            if let items = a.first {
                let pairs: [PickleValue]
                switch items {
                case .list(let l): pairs = l.items
                case .tuple(let t): pairs = t
                case .dict(let d): pairs = d.entries.map { .tuple([$0.key, $0.value]) }
                default: throw bad("OrderedDict at offset \(opcodeOffset) built from a \(items.kindName)")
                }
                for pair in pairs {
                    guard case .tuple(let kv) = pair, kv.count == 2 else { throw bad("OrderedDict at offset \(opcodeOffset) built from something other than pairs") }
                    dict.set(kv[0], kv[1])
                }
            }
            return .dict(dict)
        case ("torch._utils", "_rebuild_tensor_v2"), ("torch._utils", "_rebuild_tensor"):
            guard a.count >= 4, case .storage(let storage) = a[0], let offset = a[1].intValue,
                  let shape = intTuple(a[2]), let strides = intTuple(a[3]) else {
                throw bad("\(name) at offset \(opcodeOffset) has unexpected arguments (\(a.map(\.kindName).joined(separator: ", ")))")
            }
            guard shape.count == strides.count else {
                throw bad("\(name) at offset \(opcodeOffset): shape \(shape) and strides \(strides) differ in length")
            }
            return .tensor(PickledTensor(storage: storage, offset: offset, shape: shape, strides: strides))
        case ("torch._utils", "_rebuild_parameter"), ("torch._utils", "_rebuild_parameter_with_state"):
            guard let data = a.first, case .tensor = data else {
                throw bad("\(name) at offset \(opcodeOffset) wraps a \(a.first?.kindName ?? "nothing"), not a tensor")
            }
            return data
        default:
            throw bad("\(module).\(name) at offset \(opcodeOffset) is not something a state_dict calls")
        }
    }

    private mutating func newObject(_ cls: PickleValue, _ args: PickleValue) throws -> PickleValue {
        if case .global("collections", "OrderedDict") = cls { return .dict(newDict(ordered: true)) }
        throw bad("NEWOBJ at offset \(opcodeOffset) of a \(cls.kindName): not something a state_dict holds")
    }

    private func build(_ object: PickleValue, _ state: PickleValue) throws {
        switch object {
        case .dict(let dict):
            // An OrderedDict's instance attributes: torch's `_metadata` (kept, not interpreted).
            switch state {
            case .none: return
            case .dict(let attributes):
                for (key, value) in attributes.entries {
                    guard case .string(let name) = key else { throw bad("BUILD at offset \(opcodeOffset) sets an attribute named by a \(key.kindName)") }
                    dict.attributes.append((name, value))
                }
            case .tuple(let t) where t.count == 2:
                if case .dict = t[0] { try build(object, t[0]) }
            default:
                throw bad("BUILD at offset \(opcodeOffset) gives a dict a \(state.kindName) as its state")
            }
        case .tensor:
            return  // tensor attributes (a Parameter's state): not needed
        default:
            throw bad("BUILD at offset \(opcodeOffset) on a \(object.kindName): not something a state_dict holds")
        }
    }

    private func intTuple(_ v: PickleValue) -> [Int]? {
        switch v {
        case .tuple(let items): return items.allSatisfy { $0.intValue != nil } ? items.map { $0.intValue! } : nil
        case .list(let l): return l.items.allSatisfy { $0.intValue != nil } ? l.items.map { $0.intValue! } : nil
        default: return nil
        }
    }
}
