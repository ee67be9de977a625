import Foundation
import XCTest
@testable import D2L

/// Hex text to bytes.
private func bytes(hex: String) -> [UInt8] {
    var out: [UInt8] = []
    var index = hex.startIndex
    while index < hex.endIndex {
        let next = hex.index(index, offsetBy: 2)
        out.append(UInt8(hex[index ..< next], radix: 16)!)
        index = next
    }
    return out
}

/// CRC-32 (IEEE), bit by bit: the test's own, independent of zlib.
private func crc32(_ data: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xffff_ffff
    for b in data {
        crc ^= UInt32(b)
        for _ in 0 ..< 8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xedb8_8320 : crc >> 1 }
    }
    return ~crc
}

private func le(_ v: Int, _ n: Int) -> [UInt8] { (0 ..< n).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }

/// A stored (uncompressed) zip of `entries`, without zip64.
private func makeZip(_ entries: [(String, [UInt8])]) -> [UInt8] {
    var out: [UInt8] = [], central: [UInt8] = []
    for (name, data) in entries {
        let offset = out.count
        let crc = Int(crc32(data))
        let n = Array(name.utf8)
        out += le(0x0403_4b50, 4) + le(20, 2) + le(0, 2) + le(0, 2) + le(0, 4) + le(crc, 4)
            + le(data.count, 4) + le(data.count, 4) + le(n.count, 2) + le(0, 2) + n + data
        central += le(0x0201_4b50, 4) + le(20, 2) + le(20, 2) + le(0, 2) + le(0, 2) + le(0, 4) + le(crc, 4)
            + le(data.count, 4) + le(data.count, 4) + le(n.count, 2) + le(0, 2) + le(0, 2) + le(0, 2) + le(0, 2)
            + le(0, 4) + le(offset, 4) + n
    }
    let cdOffset = out.count
    out += central
    out += le(0x0605_4b50, 4) + le(0, 2) + le(0, 2) + le(entries.count, 2) + le(entries.count, 2)
        + le(central.count, 4) + le(cdOffset, 4) + le(0, 2)
    return out
}

/// A protocol-2 pickle of {'w': _rebuild_tensor_v2(storage('0', FloatStorage, numel), offset, shape, strides)}.
private func statePickle(numel: Int, offset: Int, shape: [Int], strides: [Int]) -> [UInt8] {
    func str(_ s: String) -> [UInt8] { [0x58] + le(s.utf8.count, 4) + Array(s.utf8) }
    func int(_ v: Int) -> [UInt8] { [0x4a] + le(v, 4) }
    func tuple(_ items: [[UInt8]]) -> [UInt8] { [0x28] + items.flatMap { $0 } + [0x74] }
    var p: [UInt8] = [0x80, 0x02, 0x7d, 0x28] + str("w")  // PROTO 2, EMPTY_DICT, MARK, 'w'
    p += Array("ctorch._utils\n_rebuild_tensor_v2\n".utf8)
    p += [0x28]  // MARK of the arguments
    p += tuple([str("storage"), Array("ctorch\nFloatStorage\n".utf8), str("0"), str("cpu"), int(numel)]) + [0x51]
    p += int(offset) + tuple(shape.map(int)) + tuple(strides.map(int)) + [0x89]
    p += Array("ccollections\nOrderedDict\n".utf8) + [0x29, 0x52]  // OrderedDict()
    p += [0x74, 0x52, 0x75, 0x2e]  // TUPLE, REDUCE, SETITEMS, STOP
    return p
}

private func floats(_ values: [Float]) -> [UInt8] { values.flatMap { le(Int($0.bitPattern), 4) } }

final class CheckpointFormatTests: XCTestCase {
    // MARK: Pickle

    /// pickle.dumps(OrderedDict([('a', 2), ('b', [1.5, True, None, 'x', b'y', (1, 2, 3), -5, 70000,
    /// -2**40, 2**70, 'üüü'])]), protocol=4): FRAME, MEMOIZE, STACK_GLOBAL, LONG1, ...
    func testProtocol4Values() throws {
        let data = bytes(hex: "80049573000000000000008c0b636f6c6c656374696f6e73948c0b4f72646572656444696374949394295294288c0161944b028c0162945d9428473ff8000000000000884e8c017894430179944b014b024b0387944afbffffff4a701101008a060000000000ff8a090000000000000000408c06c3bcc3bcc3bc9465752e")
        let (value, end) = try PickleReader.load(data, source: "p4")
        XCTAssertEqual(end, data.count)
        guard case .dict(let dict) = value else { return XCTFail("not a dict: \(value.kindName)") }
        XCTAssertTrue(dict.isOrdered)
        XCTAssertEqual(dict.entries.count, 2)
        guard case .int(2) = dict.entries[0].value, case .list(let list) = dict.entries[1].value else { return XCTFail() }
        XCTAssertEqual(list.items.map(\.kindName), ["float", "bool", "None", "str", "bytes", "tuple", "int", "int", "int", "int", "str"])
        guard case .float(1.5) = list.items[0], case .int(-5) = list.items[6], case .int(70000) = list.items[7],
              case .int(-1_099_511_627_776) = list.items[8], case .bigInt = list.items[9],
              case .string("üüü") = list.items[10] else { return XCTFail("values") }
    }

    func testUnknownOpcodeIsNamedWithItsOffset() {
        let error = checkpointError { _ = try PickleReader.load([0x80, 0x02, 0x4e, 0xff, 0x2e], source: "bad.pkl") }
        XCTAssertEqual(error?.kind, .invalidData)
        XCTAssertEqual(error?.message.contains("opcode 0xff at offset 3"), true, error?.message ?? "")
        // A text-protocol opcode state dicts never use: INT ('I').
        let text = checkpointError { _ = try PickleReader.load([0x80, 0x02, 0x49, 0x31, 0x0a, 0x2e], source: "t.pkl") }
        XCTAssertEqual(text?.message.contains("opcode 0x49 ('I') at offset 2"), true, text?.message ?? "")
    }

    /// Containers that hold themselves (`d["self"] = d`, a list in a dict in that list) are
    /// refused, and the cycle cut so that nothing leaks (found by tools/dev/fuzz pickle under
    /// LeakSanitizer; tools/dev/test-asan runs this test).
    func testSelfReferencingContainersAreRefused() throws {
        let selfDict: [UInt8] = [128, 2, 125, 113, 0, 88, 4, 0, 0, 0, 115, 101, 108, 102, 113, 1, 104, 0, 115, 46]
        let listDictList: [UInt8] = [128, 2, 93, 113, 0, 125, 113, 1, 88, 1, 0, 0, 0, 108, 113, 2, 104, 0, 115, 97, 46]
        for (name, bytes) in [("self-dict.pkl", selfDict), ("list-dict-list.pkl", listDictList)] {
            let error = checkpointError { _ = try PickleReader.load(bytes, source: name) }
            XCTAssertEqual(error?.message, "\(name): the pickle's lists or dicts contain themselves (a cycle), which a state_dict never does")
        }
        // Shared, acyclic references stay allowed: x = []; [x, {"a": x}].
        let shared: [UInt8] = [128, 2, 93, 113, 0, 40, 93, 113, 1, 125, 113, 2, 88, 1, 0, 0, 0, 97, 113, 3, 104, 1, 115, 101, 46]
        let (value, _) = try PickleReader.load(shared, source: "shared.pkl")
        guard case .list(let outer) = value, outer.items.count == 2, case .list(let x) = outer.items[0],
              case .dict(let d) = outer.items[1], case .list(let y) = d.entries[0].value else { return XCTFail("shape") }
        XCTAssertTrue(x === y)
    }

    /// A storage class must be an identifier: torch.<ESC>[31mFloatStorage is refused, quoted
    /// (found by tools/dev/fuzz checkpoint: the bytes reached the message unescaped).
    func testStorageClassNamesMustBeIdentifiers() {
        let p: [UInt8] = [0x80, 0x02] + Array("ctorch\n\u{1B}[31mFloatStorage\n".utf8) + [0x2e]
        let error = checkpointError { _ = try PickleReader.load(p, source: "s.pkl") }
        XCTAssertEqual(error?.message.hasPrefix("s.pkl: refusing to load 'torch.\\x1b[31mFloatStorage'"), true, error?.message ?? "")
    }

    func testGlobalsOutsideTheAllowListAreRefusedByName() {
        for (module, name) in [("builtins", "eval"), ("torch", "load"), ("collections", "defaultdict"), ("torch._utils", "_rebuild_qtensor")] {
            let p: [UInt8] = [0x80, 0x02] + Array("c\(module)\n\(name)\n".utf8) + [0x29, 0x52, 0x2e]
            let error = checkpointError { _ = try PickleReader.load(p, source: "g.pkl") }
            XCTAssertEqual(error?.message.contains("refusing to load '\(module).\(name)'"), true, error?.message ?? "")
        }
        let module: [UInt8] = [0x80, 0x02] + Array("ctorch.nn.modules.linear\nLinear\n".utf8) + [0x29, 0x81, 0x2e]
        let error = checkpointError { _ = try PickleReader.load(module, source: "m.pkl") }
        XCTAssertEqual(error?.message.contains("'torch.nn.modules.linear.Linear': the file holds a whole pickled module"), true, error?.message ?? "")
    }

    func testMalformedPicklesThrow() {
        for p: [UInt8] in [[], [0x80], [0x80, 0x01, 0x2e], [0x80, 0x02, 0x2e], [0x80, 0x02, 0x74, 0x2e],
                           [0x80, 0x02, 0x28, 0x61, 0x2e], [0x80, 0x02, 0x68, 0x05, 0x2e], [0x80, 0x02, 0x58, 0xff, 0xff, 0xff, 0x7f],
                           [0x80, 0x02, 0x4e, 0x4e, 0x2e], [0x80, 0x02, 0x4e, 0x4e, 0x52, 0x2e], [0x80, 0x02, 0x4e, 0x51, 0x2e]] {
            XCTAssertThrowsError(try PickleReader.load(p, source: "m"), "\(p)")
        }
    }

    /// A pickle global and zip entry names holding ANSI escapes, newlines and 200 more
    /// characters come out escaped and cut at 80 characters (issue 14, item 5).
    func testFileTextInMessagesIsEscapedAndCapped() {
        let long = String(repeating: "x", count: 200)
        let global: [UInt8] = [0x80, 0x02] + Array("cos\u{1b}[31m\(long)\nsystem\n".utf8) + [0x29, 0x52, 0x2e]
        let pickle = checkpointError { _ = try PickleReader.load(global, source: "g.pkl") }
        let entry = checkpointError {
            _ = try PyTorchCheckpoint.decode(makeZip([("x/\u{1b}]0;title\u{7}\n\(long)", [1])]), source: "z.zip")
        }
        for (error, expected) in [(pickle, "refusing to load 'os\\x1b[31mxxx"), (entry, "entries ('x/\\x1b]0;title\\x07\\nxxx")] {
            let message = error?.message ?? ""
            XCTAssertTrue(message.contains(expected), message)
            XCTAssertTrue(message.contains("…' ("), message)  // cut, then the whole length
            XCTAssertFalse(message.contains("\u{1b}") || message.contains("\n") || message.contains("\u{7}"), message)
            XCTAssertFalse(message.contains(String(repeating: "x", count: 81)), message)
        }
    }

    // MARK: Zip archives made here

    func testHandMadeZipWithOffsetStridedView() throws {
        // w = storage[1:].view(2, 3).t(): offset 1, shape [3, 2], strides [1, 3].
        let zip = makeZip([("ckpt/data.pkl", statePickle(numel: 7, offset: 1, shape: [3, 2], strides: [1, 3])),
                           ("ckpt/byteorder", Array("little".utf8)),
                           ("ckpt/data/0", floats([9, 0, 1, 2, 3, 4, 5]))])
        let c = try PyTorchCheckpoint.decode(zip, source: "hand.zip")
        XCTAssertEqual(c.format, .zip)
        XCTAssertEqual(c["w"]?.shape, [3, 2])
        XCTAssertEqual(c["w"]?.values, [0, 3, 1, 4, 2, 5])
    }

    func testHandMadeBigEndianZipIsRefused() {
        let zip = makeZip([("archive/data.pkl", statePickle(numel: 1, offset: 0, shape: [], strides: [])),
                           ("archive/byteorder", Array("big".utf8)),
                           ("archive/data/0", [0x3f, 0x80, 0, 0])])
        let error = checkpointError { _ = try PyTorchCheckpoint.decode(zip, source: "be.pt") }
        XCTAssertEqual(error?.kind, .unsupported)
        XCTAssertEqual(error?.message.hasPrefix("be.pt: the checkpoint was saved on a big-endian machine (byteorder 'big')"), true, error?.message ?? "")
    }

    func testHandMadeZipErrors() {
        let good = statePickle(numel: 6, offset: 0, shape: [2, 3], strides: [3, 1])
        // Missing storage entry.
        var error = checkpointError { _ = try PyTorchCheckpoint.decode(makeZip([("a/data.pkl", good)]), source: "m.pt") }
        XCTAssertEqual(error?.message.contains("tensor 'w' refers to storage 'a/data/0', which the archive does not hold"), true, error?.message ?? "")
        // A view reaching past its storage through its offset.
        let past = statePickle(numel: 6, offset: 1, shape: [2, 3], strides: [3, 1])
        error = checkpointError {
            _ = try PyTorchCheckpoint.decode(makeZip([("a/data.pkl", past), ("a/data/0", floats([0, 1, 2, 3, 4, 5]))]), source: "m.pt")
        }
        XCTAssertEqual(error?.message.contains("tensor 'w' (float32, shape [2, 3], strides [3, 1], storage offset 1) needs 7 elements of a/data/0, which holds only 6"), true, error?.message ?? "")
        // No data.pkl at all.
        error = checkpointError { _ = try PyTorchCheckpoint.decode(makeZip([("x/readme", [1])]), source: "z.zip") }
        XCTAssertEqual(error?.message.contains("no <folder>/data.pkl"), true, error?.message ?? "")
        // An unknown opcode inside data.pkl names the entry and the offset.
        error = checkpointError {
            _ = try PyTorchCheckpoint.decode(makeZip([("a/data.pkl", [0x80, 0x02, 0xfe])]), source: "o.pt")
        }
        XCTAssertEqual(error?.message.contains("o.pt (a/data.pkl): unknown or unsupported pickle opcode 0xfe at offset 2"), true, error?.message ?? "")
    }

    func testZipReaderAgainstTorchsZip64Archive() throws {
        let data = try AtomicFile.read(toolkitFixture("checkpoints/mlp.params"))
        let archive = try ZipArchive(bytes: data, source: "mlp.params")
        XCTAssertEqual(Set(archive.entries.map(\.name)).isSuperset(of: ["mlp/data.pkl", "mlp/byteorder", "mlp/version", "mlp/data/0"]), true)
        XCTAssertEqual(try archive.data(named: "mlp/byteorder"), Array("little".utf8))
        XCTAssertEqual(try archive.data(named: "mlp/data/0")?.count, 8 * 20 * 4)
        XCTAssertNil(try archive.data(named: "nope"))
    }
}
