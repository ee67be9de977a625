import Foundation
import XCTest
@testable import D2L

/// Tests/Fixtures/toolkit/checkpoints/<name> (made by tools/fixtures/make-checkpoint-fixtures with real torch).
private func checkpointFixture(_ name: String) -> String { toolkitFixture("checkpoints/" + name) }

/// The `ToolkitError` `body` throws, failing the test when it throws none (or another error).
func checkpointError(_ body: () throws -> Void, file: StaticString = #filePath, line: UInt = #line) -> ToolkitError? {
    do {
        try body()
        XCTFail("expected a ToolkitError, got none", file: file, line: line)
    } catch let error as ToolkitError {
        return error
    } catch {
        XCTFail("expected a ToolkitError, got \(error)", file: file, line: line)
    }
    return nil
}

final class CheckpointReaderTests: XCTestCase {
    /// Reads fixture `name` and compares it with `<name>.expected.safetensors`: the same keys in
    /// the same order, dtypes as saved, shapes, and values bit for bit (float32 from
    /// float16/bfloat16 exactly, from float64 rounded to nearest as torch's `.float()`).
    @discardableResult
    private func assertMatchesExpected(_ name: String, format: PyTorchCheckpoint.Format,
                                       file: StaticString = #filePath, line: UInt = #line) throws -> PyTorchCheckpoint {
        let checkpoint = try PyTorchCheckpoint.load(path: checkpointFixture(name))
        let expected = try SafeTensorsFile.read(path: checkpointFixture(name + ".expected.safetensors"))
        XCTAssertEqual(checkpoint.format, format, file: file, line: line)
        let order = try JSONSerialization.jsonObject(with: Data(expected.metadata["order"]!.utf8)) as! [String]
        let dtypes = try JSONSerialization.jsonObject(with: Data(expected.metadata["dtypes"]!.utf8)) as! [String: String]
        XCTAssertEqual(checkpoint.tensors.map(\.name), order, "\(name): keys in file order", file: file, line: line)
        for (key, tensor) in checkpoint.tensors {
            guard let reference = expected[key] else { XCTFail("\(name): unexpected key \(key)", file: file, line: line); continue }
            XCTAssertEqual(tensor.dtype.rawValue, dtypes[key], "\(name): \(key) dtype", file: file, line: line)
            XCTAssertEqual(tensor.shape, reference.shape, "\(name): \(key) shape", file: file, line: line)
            XCTAssertEqual(tensor.count, reference.count, "\(name): \(key) count", file: file, line: line)
            if reference.dtype == .I64 {
                XCTAssertEqual(tensor.integers, try reference.int64s(), "\(name): \(key) integers", file: file, line: line)
                XCTAssertEqual(tensor.values, try reference.int64s().map { Float($0) }, file: file, line: line)
            } else {
                XCTAssertNil(tensor.integers, file: file, line: line)
                XCTAssertEqual(tensor.values.map(\.bitPattern), try reference.floats().map(\.bitPattern),
                               "\(name): \(key) values", file: file, line: line)
            }
        }
        return checkpoint
    }

    // MARK: Valid files

    func testZipStateDictFolderNamedAfterTheFile() throws {
        let c = try assertMatchesExpected("mlp.params", format: .zip)
        XCTAssertEqual(c.tensors.map(\.name), ["1.weight", "1.bias", "3.weight", "3.bias"])
        XCTAssertEqual(c["1.weight"]?.shape, [8, 20])
        XCTAssertEqual(c.dtypes, [.float32])
        XCTAssertEqual(c.convertedDTypes, [])
        XCTAssertEqual(c.elementCount, 8 * 20 + 8 + 3 * 8 + 3)
        XCTAssertEqual(try PyTorchCheckpoint.read(path: checkpointFixture("mlp.params")).map(\.name), c.tensors.map(\.name))
    }

    func testZipArchiveFolderWithBatchNormBuffers() throws {
        let c = try assertMatchesExpected("lenet-bn.params", format: .zip)
        XCTAssertEqual(c["1.num_batches_tracked"]?.dtype, .int64)
        XCTAssertEqual(c["1.num_batches_tracked"]?.shape, [])
        XCTAssertEqual(c["1.num_batches_tracked"]?.integers, [7])
        XCTAssertEqual(c.dtypes, [.float32, .int64])
        XCTAssertEqual(c.convertedDTypes, [])
    }

    func testSafeTensorsWhoseHeaderLengthStartsWithThePickleByteIsSafeTensors() throws {
        // A header length of 0x…80 puts pickle's PROTO byte first; the "{" at byte 8 and a
        // length that fits the file tell safetensors.
        var found: [UInt8]?
        for padding in 0..<64 {
            let file = SafeTensorsFile(tensors: [("w", try SafeTensor(floats: [1, 2], shape: [2]))],
                                       metadata: ["pad": String(repeating: "x", count: padding)])
            let bytes = try file.encode()
            if bytes[0] == 0x80 { found = bytes; break }
        }
        let bytes = try XCTUnwrap(found, "no padding gave a header length ending in 0x80")
        let checkpoint = try PyTorchCheckpoint.decode(bytes)
        XCTAssertEqual(checkpoint.format, .safetensors)
        XCTAssertEqual(checkpoint.tensors.first?.tensor.values, [1, 2])
        let path = NSTemporaryDirectory() + "d2l-pickle-byte-\(UUID().uuidString).safetensors"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(try PyTorchCheckpoint.load(path: path).format, .safetensors)
    }

    func testLegacyFormat() throws {
        let c = try assertMatchesExpected("legacy.params", format: .legacy)
        XCTAssertEqual(c["steps"]?.integers, [3, -1, 1 << 40])
        XCTAssertEqual(c["0.weight_t"]?.shape, [20, 8])
    }

    func testHalfBFloat16AndFloat64AreConverted() throws {
        XCTAssertEqual(try assertMatchesExpected("half.params", format: .zip).convertedDTypes, [.float16])
        XCTAssertEqual(try assertMatchesExpected("bf16.params", format: .zip).convertedDTypes, [.bfloat16])
        XCTAssertEqual(try assertMatchesExpected("f64.params", format: .zip).convertedDTypes, [.float64])
    }

    func testStridedOffsetAndExpandedViews() throws {
        let c = try assertMatchesExpected("views.params", format: .zip)
        let w = try XCTUnwrap(c["w"]), wt = try XCTUnwrap(c["wt"])
        XCTAssertEqual(wt.shape, [5, 4])
        for i in 0 ..< 4 { for j in 0 ..< 5 { XCTAssertEqual(wt.values[j * 4 + i], w.values[i * 5 + j]) } }
        XCTAssertEqual(c["slice"]?.values, [7, 8, 9, 12, 13, 14].map { w.values[$0] })
        XCTAssertEqual(c["row"]?.values, Array(w.values[10 ..< 15]))
        XCTAssertEqual(c["expand"]?.values, [0, 1, 2, 0, 1, 2])
        XCTAssertEqual(c["scalar"]?.shape, [])
        XCTAssertEqual(c["scalar"]?.values, [2.5])
        XCTAssertEqual(c["empty"]?.shape, [0, 3])
        XCTAssertEqual(c["empty"]?.values, [])
    }

    func testDeflatedZipWithoutZip64() throws {
        try assertMatchesExpected("deflated.params", format: .zip)
    }

    func testSafeTensorsThroughTheSameEntryPoint() throws {
        let c = try assertMatchesExpected("toolkit.safetensors", format: .safetensors)
        XCTAssertEqual(c["bn.num_batches_tracked"]?.integers, [5])
    }

    // MARK: Refusals

    func testWholeModuleIsRefusedWithAdvice() throws {
        for name in ["whole-module.pt", "whole-module-legacy.pt"] {
            let error = checkpointError { _ = try PyTorchCheckpoint.read(path: checkpointFixture(name)) }
            XCTAssertEqual(error?.kind, .unsupported, name)
            XCTAssertTrue(error?.message.contains("__main__.Net") ?? false, error?.message ?? "")
            XCTAssertTrue(error?.message.contains("whole pickled module") ?? false, error?.message ?? "")
            XCTAssertTrue(error?.message.contains("torch.save(net.state_dict(), path)") ?? false, error?.message ?? "")
        }
    }

    func testUnknownGlobalIsNamedAndNeverRun() throws {
        let marker = "/tmp/d2l-checkpoint-pickle-was-executed"
        unlink(marker)
        for name in ["unknown-global.params", "unknown-global.pkl"] {
            let error = checkpointError { _ = try PyTorchCheckpoint.read(path: checkpointFixture(name)) }
            XCTAssertEqual(error?.kind, .unsupported, name)
            XCTAssertTrue(error?.message.contains("refusing to load 'posix.system'") ?? false, error?.message ?? "")
            XCTAssertTrue(error?.message.contains(checkpointFixture(name)) ?? false, error?.message ?? "")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: marker), "the pickle's os.system ran")
    }

    func testNotAStateDict() throws {
        var error = checkpointError { _ = try PyTorchCheckpoint.read(path: checkpointFixture("single-tensor.params")) }
        XCTAssertTrue(error?.message.contains("single tensor, not a state_dict") ?? false, error?.message ?? "")
        error = checkpointError { _ = try PyTorchCheckpoint.read(path: checkpointFixture("training-checkpoint.params")) }
        XCTAssertTrue(error?.message.contains("entry 'model_state_dict' is a dict of tensors") ?? false, error?.message ?? "")
        XCTAssertTrue(error?.message.contains("torch.save(checkpoint['model_state_dict'], path)") ?? false, error?.message ?? "")
    }

    func testTruncatedZip() throws {
        let error = checkpointError { _ = try PyTorchCheckpoint.read(path: checkpointFixture("truncated.params")) }
        XCTAssertEqual(error?.kind, .invalidData)
        XCTAssertTrue(error?.message.contains("truncated") ?? false, error?.message ?? "")
        XCTAssertTrue(error?.message.contains("truncated.params") ?? false, error?.message ?? "")
    }

    func testCorruptCentralDirectory() throws {
        let error = checkpointError { _ = try PyTorchCheckpoint.read(path: checkpointFixture("corrupt.params")) }
        XCTAssertEqual(error?.kind, .invalidData)
        XCTAssertTrue(error?.message.contains("central directory entry 0") ?? false, error?.message ?? "")
        XCTAssertTrue(error?.message.contains("bad signature") ?? false, error?.message ?? "")
    }

    func testCRCMismatch() throws {
        let error = checkpointError { _ = try PyTorchCheckpoint.read(path: checkpointFixture("crc-mismatch.params")) }
        XCTAssertEqual(error?.kind, .invalidData)
        XCTAssertTrue(error?.message.contains("'mlp/data/0' fails its CRC-32 check") ?? false, error?.message ?? "")
    }

    func testStorageShorterThanTensor() throws {
        let error = checkpointError { _ = try PyTorchCheckpoint.read(path: checkpointFixture("short-storage.params")) }
        XCTAssertEqual(error?.kind, .invalidData)
        XCTAssertTrue(error?.message.contains("tensor '1.weight'") ?? false, error?.message ?? "")
        XCTAssertTrue(error?.message.contains("needs 160 elements of mlp/data/0, which holds only 3") ?? false, error?.message ?? "")
    }

    func testBigEndianIsRefused() throws {
        let error = checkpointError { _ = try PyTorchCheckpoint.read(path: checkpointFixture("big-endian.params")) }
        XCTAssertEqual(error?.kind, .unsupported)
        XCTAssertTrue(error?.message.contains("big-endian") ?? false, error?.message ?? "")
    }

    func testMissingAndUnrecognisedFiles() throws {
        var error = checkpointError { _ = try PyTorchCheckpoint.read(path: "/nonexistent/x.params") }
        XCTAssertEqual(error?.kind, .io)
        error = checkpointError { _ = try PyTorchCheckpoint.decode(Array("hello world".utf8), source: "x.txt") }
        XCTAssertEqual(error?.kind, .invalidData)
        XCTAssertTrue(error?.message.contains("x.txt: not a PyTorch checkpoint") ?? false, error?.message ?? "")
        error = checkpointError { _ = try PyTorchCheckpoint.decode([], source: "e") }
        XCTAssertTrue(error?.message.contains("empty") ?? false)
    }

    // MARK: Robustness

    /// Every truncation of a valid file throws (never traps); only the whole file reads.
    func testTruncationsThrowAndNeverCrash() throws {
        for name in ["mlp.params", "legacy.params", "deflated.params", "toolkit.safetensors"] {
            let bytes = try AtomicFile.read(checkpointFixture(name))
            for length in 0 ..< bytes.count {
                XCTAssertThrowsError(try PyTorchCheckpoint.decode(Array(bytes[..<length]), source: name),
                                     "\(name) cut to \(length) bytes")
            }
            XCTAssertNoThrow(try PyTorchCheckpoint.decode(bytes, source: name))
        }
    }

    /// Random byte changes read or throw, never trap (the legacy file has no CRC, so they reach
    /// the pickle reader and the storage table).
    func testRandomCorruptionsNeverCrash() throws {
        var generator = CheckpointFuzzRandom(seed: 6)
        for name in ["legacy.params", "mlp.params", "views.params"] {
            let bytes = try AtomicFile.read(checkpointFixture(name))
            for _ in 0 ..< 1500 {
                var mutated = bytes
                for _ in 0 ..< Int(generator.next() % 4) + 1 {
                    let at = Int(generator.next() % UInt64(mutated.count))
                    mutated[at] = UInt8(truncatingIfNeeded: generator.next())
                }
                _ = try? PyTorchCheckpoint.decode(mutated, source: name)
            }
        }
    }
}

/// A small deterministic generator for the fuzz tests.
struct CheckpointFuzzRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
