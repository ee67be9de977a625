import Foundation
import XCTest
@testable import D2L

/// Tests/Fixtures/toolkit/io in the checkout (made by tools/fixtures/make-safetensors-fixture).
private let ioFixtures: String = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures/toolkit/io").path

/// A safetensors file from a header (as JSON text) and a data buffer.
private func rawFile(_ header: String, _ data: [UInt8]) -> [UInt8] {
    var bytes: [UInt8] = []
    IOBinary.appendLittleEndian(&bytes, UInt64(header.utf8.count))
    return bytes + Array(header.utf8) + data
}

/// The python to run (`$D2L_PYTHON`, else `python3` on the PATH) when it can import
/// safetensors and numpy, else nil.
private func pythonWithSafeTensors() -> String? {
    let python = ProcessInfo.processInfo.environment["D2L_PYTHON"] ?? "python3"
    return (try? runPython(python, "import safetensors, numpy")) != nil ? python : nil
}

/// Runs `python -c script`, returning stdout; throws when it fails.
@discardableResult
private func runPython(_ python: String, _ script: String, _ arguments: [String] = []) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [python, "-c", script] + arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let output = out.fileHandleForReading.readDataToEndOfFile()
    let errors = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw ToolkitError(.io, "python failed: " + (String(data: errors, encoding: .utf8) ?? ""))
    }
    return String(data: output, encoding: .utf8) ?? ""
}

final class IOSafeTensorsTests: XCTestCase {
    func testDTypeSizes() {
        XCTAssertEqual(SafeTensorsDType.allCases.map(\.byteSize), [4, 2, 2, 8, 8, 4, 2, 1, 1, 1])
    }

    func testRoundTripInMemory() throws {
        var file = SafeTensorsFile(metadata: ["format": "pt", "quote\"d": "a\\b\nc"])
        file.tensors = [
            (name: "z.weight", tensor: try SafeTensor(floats: [1, -2, 3.5, 0.25, 5, 6], shape: [2, 3])),
            (name: "a.steps", tensor: try SafeTensor(int64s: [Int64.min, -1, 0, Int64.max], shape: [4])),
            (name: "m.mask", tensor: try SafeTensor(uint8s: [0, 1, 255], shape: [3])),
            (name: "scalar", tensor: try SafeTensor(floats: [42], shape: [])),
            (name: "empty", tensor: try SafeTensor(floats: [], shape: [0, 3])),
            (name: "h", tensor: try SafeTensor(floats: [1, -2.5, 65504], shape: [3], dtype: .F16)),
            (name: "b", tensor: try SafeTensor(floats: [1, -3.5, 0.15625], shape: [3], dtype: .BF16)),
            (name: "d", tensor: try SafeTensor(floats: [0.1], shape: [1], dtype: .F64)),
            (name: "ünï \"names\"", tensor: try SafeTensor(floats: [7], shape: [1, 1])),
        ]
        let bytes = try file.encode()
        let headerLength = Int(bytes[0]) | Int(bytes[1]) << 8 | Int(bytes[2]) << 16
        XCTAssertEqual(headerLength % 8, 0)
        XCTAssertEqual(bytes[8], UInt8(ascii: "{"))

        let back = try SafeTensorsFile.decode(bytes)
        XCTAssertEqual(back.metadata, file.metadata)
        XCTAssertEqual(Set(back.names), Set(file.names))
        for (name, tensor) in file.tensors {
            XCTAssertEqual(back[name], tensor, name)
        }
        XCTAssertEqual(try back["z.weight"]?.floats(), [1, -2, 3.5, 0.25, 5, 6])
        XCTAssertEqual(try back["a.steps"]?.int64s(), [Int64.min, -1, 0, Int64.max])
        XCTAssertEqual(try back["m.mask"]?.floats(), [0, 1, 255])
        XCTAssertEqual(try back["h"]?.floats(), [1, -2.5, 65504])
        XCTAssertEqual(try back["b"]?.floats(), [1, -3.5, 0.15625])
        XCTAssertEqual(try back["d"]?.floats(), [0.1])
        XCTAssertEqual(back["scalar"]?.shape, [])
        XCTAssertEqual(back["empty"]?.shape, [0, 3])
        XCTAssertNil(back["missing"])

        // Data laid out as the reference does: decreasing dtype alignment, then name.
        XCTAssertEqual(back.names, ["a.steps", "d", "empty", "scalar", "z.weight", "ünï \"names\"", "b", "h", "m.mask"])
        // Encoding is deterministic.
        XCTAssertEqual(try back.encode(), bytes)
    }

    func testEmptyFileMatchesReference() throws {
        // The reference implementation's own test vectors (safetensors/src/tensor.rs, test_empty).
        XCTAssertEqual(try SafeTensorsFile().encode(), [8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32])
        let withMetadata = try SafeTensorsFile(metadata: ["framework": "pt"]).encode()
        XCTAssertEqual(withMetadata, [40, 0, 0, 0, 0, 0, 0, 0] + Array("{\"__metadata__\":{\"framework\":\"pt\"}}     ".utf8))
        // test_serialization: one F32 tensor, byte for byte.
        let one = SafeTensorsFile(tensors: [(name: "attn.0", tensor: try SafeTensor(floats: [0, 1, 2, 3, 4, 5], shape: [1, 2, 3]))])
        let expected: [UInt8] = [
            64, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 46, 48, 34, 58, 123, 34, 100,
            116, 121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34,
            58, 91, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102, 115,
            101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 0, 0, 0, 0, 0, 0, 128, 63,
            0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64,
        ]
        XCTAssertEqual(try one.encode(), expected)
    }

    func testReadsPythonFixture() throws {
        let path = ioFixtures + "/small.safetensors"
        let file = try SafeTensorsFile.read(path: path)
        XCTAssertEqual(file.metadata, ["format": "np", "source": "make-safetensors-fixture"])
        XCTAssertEqual(file.names, ["steps", "scalar", "weight", "counts", "brain", "half", "mask"])
        XCTAssertEqual(file["weight"]?.dtype, .F32)
        XCTAssertEqual(file["weight"]?.shape, [2, 3])
        XCTAssertEqual(try file["weight"]?.floats(), [-1, -0.5, 0, 0.5, 1, 1.5])
        XCTAssertEqual(file["half"]?.dtype, .F16)
        XCTAssertEqual(try file["half"]?.floats(), [1, -2.5, Float(bitPattern: 0x38d1_c000), 65504])
        XCTAssertEqual(file["brain"]?.dtype, .BF16)
        XCTAssertEqual(file["brain"]?.shape, [2, 2])
        XCTAssertEqual(try file["brain"]?.floats(), [1, -3.5, 0.15625, Float(bitPattern: 0x7149_0000)])
        XCTAssertEqual(try file["steps"]?.int64s(), [0, -7, 1 << 40])
        XCTAssertEqual(try file["steps"]?.floats(), [0, -7, 1_099_511_627_776])
        XCTAssertEqual(file["scalar"]?.shape, [])
        XCTAssertEqual(try file["scalar"]?.floats(), [3.25])
        XCTAssertEqual(try file["mask"]?.int64s(), [0, 1, 255, 7, 128])
        XCTAssertEqual(try file["counts"]?.int64s(), [-2_147_483_648, 2_147_483_647])
        XCTAssertEqual(try file["counts"]?.floats(), [-2_147_483_648, 2_147_483_647])
        ioAssertThrows(.unsupported, ["F32"]) { try file["weight"]!.int64s() }

        // Re-encoding lays the data out exactly as Python's safetensors did.
        let original = try AtomicFile.read(path)
        let reencoded = try file.encode()
        let originalHeader = Int(original[0]) | Int(original[1]) << 8
        let newHeader = Int(reencoded[0]) | Int(reencoded[1]) << 8
        XCTAssertEqual(Array(reencoded[(8 + newHeader)...]), Array(original[(8 + originalHeader)...]))
    }

    func testWriteFromSwiftLoadInPython() throws {
        guard let python = pythonWithSafeTensors() else {
            throw XCTSkip("python3 with safetensors and numpy is not available")
        }
        let dir = try ioTemporaryDirectory(self)
        let path = dir + "/from-swift.safetensors"
        let file = SafeTensorsFile(tensors: [
            (name: "fc.weight", tensor: try SafeTensor(floats: [1, 2, 3, 4, 5, 6], shape: [2, 3])),
            (name: "fc.bias", tensor: try SafeTensor(floats: [-0.5, 0.5], shape: [2])),
            (name: "steps", tensor: try SafeTensor(int64s: [3, -4], shape: [2])),
            (name: "half", tensor: try SafeTensor(floats: [0.1, -65504, 6e-8], shape: [3], dtype: .F16)),
            (name: "bytes", tensor: try SafeTensor(uint8s: [9, 8, 7], shape: [3])),
        ], metadata: ["format": "pt", "epoch": "3"])
        try file.write(to: path)
        let script = """
        import sys, json
        import numpy as np
        from safetensors import safe_open
        from safetensors.numpy import load_file
        t = load_file(sys.argv[1])
        with safe_open(sys.argv[1], framework="np") as f:
            meta = f.metadata()
        out = {k: {"dtype": str(v.dtype), "shape": list(v.shape), "values": v.astype(np.float64).ravel().tolist()} for k, v in t.items()}
        print(json.dumps({"tensors": out, "metadata": meta}, sort_keys=True))
        """
        let output = try runPython(python, script, [path])
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
        XCTAssertEqual(json["metadata"] as? [String: String], ["format": "pt", "epoch": "3"])
        let tensors = try XCTUnwrap(json["tensors"] as? [String: [String: Any]])
        XCTAssertEqual(Set(tensors.keys), ["fc.weight", "fc.bias", "steps", "half", "bytes"])
        XCTAssertEqual(tensors["fc.weight"]?["dtype"] as? String, "float32")
        XCTAssertEqual(tensors["fc.weight"]?["shape"] as? [Int], [2, 3])
        XCTAssertEqual(tensors["fc.weight"]?["values"] as? [Double], [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(tensors["fc.bias"]?["values"] as? [Double], [-0.5, 0.5])
        XCTAssertEqual(tensors["steps"]?["dtype"] as? String, "int64")
        XCTAssertEqual(tensors["steps"]?["values"] as? [Double], [3, -4])
        XCTAssertEqual(tensors["half"]?["dtype"] as? String, "float16")
        let halves = try XCTUnwrap(file["half"]?.floats()).map(Double.init)
        XCTAssertEqual(tensors["half"]?["values"] as? [Double], halves)
        XCTAssertEqual(tensors["bytes"]?["dtype"] as? String, "uint8")
        XCTAssertEqual(tensors["bytes"]?["values"] as? [Double], [9, 8, 7])

        // And Python's own serialization of the same dictionary is byte-identical (no metadata:
        // its key order is unspecified).
        let plain = SafeTensorsFile(tensors: file.tensors)
        try plain.write(to: path)
        let check = """
        import sys
        from safetensors.numpy import load_file, save
        sys.stdout.write(save(load_file(sys.argv[1])).hex())
        """
        XCTAssertEqual(try runPython(python, check, [path]), try plain.encode().map { String(format: "%02x", $0) }.joined())
    }

    func testHalfConversionsAgreeWithFloat16() throws {
        #if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
        for bits in 0 ... UInt16.max {
            let expected = Float(Float16(bitPattern: bits))
            let actual = IOBinary.halfBitsToFloat(bits)
            if expected.isNaN {
                XCTAssertTrue(actual.isNaN, "\(bits)")
            } else if expected.bitPattern != actual.bitPattern {
                XCTFail("half \(bits): \(actual) != \(expected)")
                return
            }
        }
        var generator = SystemRandomNumberGenerator()
        var samples: [Float] = [0, -0, 1, 65504, 65519.99, 65520, 1e-8, 2.98e-8, 2.9802322e-8, 5.96e-8, 6e-8, 3e-5,
                                6.1035156e-5, 6.097555e-5, .infinity, -.infinity, .greatestFiniteMagnitude, 1.00048828125, 1.000732421875]
        for _ in 0 ..< 20000 { samples.append(Float(bitPattern: UInt32.random(in: 0 ... .max, using: &generator))) }
        for f in samples {
            let expected = Float16(f).bitPattern
            let actual = IOBinary.floatToHalfBits(f)
            if f.isNaN {
                XCTAssertTrue(Float16(bitPattern: actual).isNaN)
            } else if expected != actual {
                XCTFail("float \(f) (\(String(f.bitPattern, radix: 16))): half \(String(actual, radix: 16)) != \(String(expected, radix: 16))")
                return
            }
        }
        #else
        throw XCTSkip("Float16 is not available on macOS x86-64")
        #endif
        // bfloat16: rounding to nearest even.
        XCTAssertEqual(IOBinary.floatToBFloat16Bits(Float(bitPattern: 0x3f80_8000)), 0x3f80)  // tie, even stays
        XCTAssertEqual(IOBinary.floatToBFloat16Bits(Float(bitPattern: 0x3f81_8000)), 0x3f82)  // tie, odd rounds up
        XCTAssertEqual(IOBinary.floatToBFloat16Bits(Float(bitPattern: 0x3f80_8001)), 0x3f81)
        XCTAssertTrue(Float(bitPattern: UInt32(IOBinary.floatToBFloat16Bits(.nan)) << 16).isNaN)
    }

    func testInitialisersRejectBadInput() {
        ioAssertThrows(.shape, ["[2, 3]", "6", "5"]) { try SafeTensor(floats: [1, 2, 3, 4, 5], shape: [2, 3]) }
        ioAssertThrows(.shape, ["[2]"]) { try SafeTensor(int64s: [1], shape: [2]) }
        ioAssertThrows(.invalidArgument, ["negative"]) { try SafeTensor(floats: [], shape: [-1, 0]) }
        ioAssertThrows(.shape, ["F32", "8 bytes", "7"]) { try SafeTensor(dtype: .F32, shape: [2], bytes: [0, 0, 0, 0, 0, 0, 0]) }
        ioAssertThrows(.unsupported, ["I32"]) { try SafeTensor(floats: [1], shape: [1], dtype: .I32) }
        ioAssertThrows(.invalidArgument, ["too large"]) { try SafeTensor(dtype: .F64, shape: [1 << 40, 1 << 40], bytes: []) }
        let t = try! SafeTensor(floats: [1], shape: [1])
        ioAssertThrows(.invalidArgument, ["\"w\""]) { try SafeTensorsFile(tensors: [(name: "w", tensor: t), (name: "w", tensor: t)]).encode() }
        ioAssertThrows(.invalidArgument, ["__metadata__"]) { try SafeTensorsFile(tensors: [(name: "__metadata__", tensor: t)]).encode() }
    }

    func testRejectsInvalidFiles() throws {
        let f32x2: [UInt8] = [0, 0, 128, 63, 0, 0, 0, 64]
        let good = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
        XCTAssertEqual(try SafeTensorsFile.decode(rawFile(good, f32x2))["a"]?.floats(), [1, 2])

        let cases: [(String, [UInt8], [String])] = [
            ("tiny", [1, 2, 3], ["8-byte"]),
            ("header past end", [200, 0, 0, 0, 0, 0, 0, 0] + Array("{}".utf8), ["header length 200", "past the end"]),
            ("huge header", [255, 255, 255, 255, 255, 255, 255, 255], ["exceeds"]),
            ("bad json", rawFile(#"{"a":{"dtype":"#, []), ["not valid JSON"]),
            ("not object", rawFile("[1, 2]", []), ["not a JSON object"]),
            ("unknown dtype", rawFile(#"{"a":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}}"#, [0, 0]), ["'a'", "F8_E4M3"]),
            ("missing dtype", rawFile(#"{"a":{"shape":[2],"data_offsets":[0,8]}}"#, f32x2), ["'a'", "dtype"]),
            ("size mismatch", rawFile(#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, f32x2), ["'a'", "12 bytes", "span 8"]),
            ("negative dim", rawFile(#"{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#, f32x2), ["'a'", "negative"]),
            ("fractional dim", rawFile(#"{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,8]}}"#, f32x2), ["'a'", "shape"]),
            ("bool dim", rawFile(#"{"a":{"dtype":"F32","shape":[true],"data_offsets":[0,4]}}"#, [0, 0, 0, 0]), ["'a'", "shape"]),
            ("out of buffer", rawFile(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#, f32x2), ["'a'", "past the data buffer"]),
            ("reversed", rawFile(#"{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}"#, f32x2), ["'a'", "increasing"]),
            ("one offset", rawFile(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0]}}"#, f32x2), ["'a'", "pair"]),
            ("hole", rawFile(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, f32x2), ["'a'", "hole"]),
            ("leftover", rawFile(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, f32x2), ["left over"]),
            ("overlap", rawFile(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, f32x2),
             ["'b'", "overlap"]),
            ("metadata not strings", rawFile(#"{"__metadata__":{"k":1}}"#, []), ["__metadata__", "'k'"]),
        ]
        for (what, bytes, parts) in cases {
            ioAssertThrows(.invalidData, ["model.st"] + parts) { try SafeTensorsFile.decode(bytes, source: "model.st") }
            _ = what
        }
    }

    /// A tensor name and dtype holding ANSI escapes and control characters, 200 characters
    /// long, come out escaped and cut at 80 characters (issue 14, item 5).
    func testHostileNamesAreEscapedAndCapped() {
        let name = "\\u001b[2J\\n" + String(repeating: "n", count: 200)
        let dtype = "\\u001b[31m" + String(repeating: "d", count: 200)
        let bytes = rawFile(#"{""# + name + #"":{"dtype":""# + dtype + #"","shape":[1],"data_offsets":[0,4]}}"#, [0, 0, 0, 0])
        do {
            _ = try SafeTensorsFile.decode(bytes, source: "h.st")
            XCTFail("decoded a hostile header")
        } catch let error as ToolkitError {
            XCTAssertTrue(error.message.contains("tensor '\\x1b[2J\\nnnn"), error.message)
            XCTAssertTrue(error.message.contains("dtype '\\x1b[31mddd"), error.message)
            XCTAssertTrue(error.message.contains("…' (205 bytes)"), error.message)
            XCTAssertFalse(error.message.contains("\u{1b}") || error.message.contains("\n"), error.message)
            XCTAssertFalse(error.message.contains(String(repeating: "n", count: 81)), error.message)
            XCTAssertFalse(error.message.contains(String(repeating: "d", count: 81)), error.message)
        } catch {
            XCTFail("\(error)")
        }
    }

    func testReadNamesPathOnErrors() throws {
        let dir = try ioTemporaryDirectory(self)
        let path = dir + "/broken.safetensors"
        try AtomicFile.write(rawFile("{nope", []), to: path)
        ioAssertThrows(.invalidData, [path, "JSON"]) { try SafeTensorsFile.read(path: path) }
        ioAssertThrows(.io, [dir + "/missing.safetensors"]) { try SafeTensorsFile.read(path: dir + "/missing.safetensors") }
    }
}
