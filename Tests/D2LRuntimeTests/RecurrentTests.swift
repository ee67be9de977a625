import Foundation
import XCTest
@testable import D2LRuntime

/// RNN, GRU and LSTM against the fixtures of tools/fixtures/make-recurrent-fixtures
/// (Tests/Fixtures/recurrent-*: expected outputs from a float64 transcription of the ONNX
/// spec, cross-checked with onnxruntime), and the models they must refuse
/// (Tests/Fixtures/recurrent-bad).
final class RecurrentTests: XCTestCase {
    /// Runs one backend-test folder; returns the largest |difference| over all outputs.
    @discardableResult
    func runFixture(_ folder: URL, tolerance: Float = 1e-5, file: StaticString = #filePath, line: UInt = #line) throws -> Float {
        let name = folder.lastPathComponent
        let model = try Model(path: folder.appendingPathComponent("model.onnx").path)
        let session = Session(model: model)
        var worst: Float = 0
        let sets = try dataSets(folder)
        XCTAssertFalse(sets.isEmpty, "\(name) has no test_data_set", file: file, line: line)
        for set in sets {
            for i in 0..<model.inputs.count {
                let input = try TensorFile(path: set.appendingPathComponent("input_\(i).pb").path)
                try input.bytes.withUnsafeBytes { raw in
                    try session.setInput(i, dtype: input.type.dtype, data: raw.baseAddress!, shape: input.type.shape)
                }
            }
            try session.run()
            for i in 0..<model.outputs.count {
                let want = try TensorFile(path: set.appendingPathComponent("output_\(i).pb").path)
                let got = try XCTUnwrap(session.output(i), "\(name): no output \(i)", file: file, line: line)
                XCTAssertEqual(got.type.shape, want.type.shape, "\(name) output \(i) shape", file: file, line: line)
                let values = Array(UnsafeBufferPointer(start: got.floats, count: got.type.count))
                let diff = maxAbsDifference(values, want.floats)
                XCTAssertLessThanOrEqual(diff, tolerance, "\(name) output \(i): max |diff| \(diff)", file: file, line: line)
                worst = max(worst, diff)
            }
        }
        return worst
    }

    func fixtures(_ prefix: String) throws -> [URL] {
        try modelFixtureFolders().filter { $0.lastPathComponent.hasPrefix("recurrent-\(prefix)-") }
    }

    func checkAll(_ prefix: String, expecting names: [String]) throws {
        let folders = try fixtures(prefix)
        let found = Set(folders.map { $0.lastPathComponent })
        for name in names {
            XCTAssertTrue(found.contains("recurrent-\(prefix)-\(name)"), "missing fixture recurrent-\(prefix)-\(name)")
        }
        for folder in folders {
            do {
                try runFixture(folder)
            } catch let error as D2LError {
                XCTFail("\(folder.lastPathComponent): \(error.status.name) \(error.message)")
            }
        }
    }

    func testRNNMatchesTheSpec() throws {
        try forEachKernelVariant { _ in
            try checkAll("rnn", expecting: ["forward", "forward-batch1-nobias", "reverse", "bidirectional",
                                            "bidirectional-nobias-batch1", "seqlens", "layout1", "relu-clip",
                                            "yh-only-opset13"])
        }
    }

    func testGRUMatchesTheSpec() throws {
        try forEachKernelVariant { _ in
            try checkAll("gru", expecting: ["forward", "forward-lbr1", "reverse-batch1-nobias", "reverse-lbr1",
                                            "bidirectional", "bidirectional-lbr1", "seqlens", "seqlens-lbr1-constant",
                                            "layout1", "clip-activations", "opset13"])
        }
    }

    func testLSTMMatchesTheSpec() throws {
        try forEachKernelVariant { _ in
            try checkAll("lstm", expecting: ["forward", "forward-batch1-nobias", "reverse", "bidirectional",
                                             "bidirectional-nobias-batch1", "peepholes", "peepholes-bidirectional",
                                             "seqlens", "seqlens-constant", "layout1", "layout1-forward",
                                             "input-forget-clip", "activations", "yh-yc-only", "opset13"])
        }
    }

    /// Lengths given at run time outside [0, seq] are clamped, never read past X or Y.
    func testRunTimeSequenceLengthsAreClamped() throws {
        let folder = fixturesDirectory.appendingPathComponent("recurrent-lstm-seqlens")
        let model = try Model(path: folder.appendingPathComponent("model.onnx").path)
        let set = folder.appendingPathComponent("test_data_set_0")
        func run(_ lengths: [Int32]) throws -> [[Float]] {
            let session = Session(model: model)
            for i in 0..<model.inputs.count {
                if model.inputs[i].name == "sequence_lens" {
                    try lengths.withUnsafeBytes { raw in
                        try session.setInput(i, dtype: .int32, data: raw.baseAddress!, shape: [lengths.count])
                    }
                    continue
                }
                let input = try TensorFile(path: set.appendingPathComponent("input_\(i).pb").path)
                try input.bytes.withUnsafeBytes { raw in
                    try session.setInput(i, dtype: input.type.dtype, data: raw.baseAddress!, shape: input.type.shape)
                }
            }
            try session.run()
            return (0..<model.outputs.count).map { i in
                guard let v = session.output(i) else { return [] }
                return Array(UnsafeBufferPointer(start: v.floats, count: v.type.count))
            }
        }
        let clamped = try run([1000, -5, 2])
        let plain = try run([4, 0, 2])
        XCTAssertEqual(clamped, plain)
        // A length of 0 leaves the initial state in Y_h and zeros in Y.
        let y = plain[0]
        let hidden = 5, batch = 3, directions = 2
        for t in 0..<4 {
            for d in 0..<directions {
                let offset = ((t * directions + d) * batch + 1) * hidden
                XCTAssertEqual(Array(y[offset..<(offset + hidden)]), [Float](repeating: 0, count: hidden))
            }
        }
    }

    func testBadRecurrentModelsAreRefused() throws {
        let folder = fixturesDirectory.appendingPathComponent("recurrent-bad")
        let text = try String(contentsOf: folder.appendingPathComponent("expected.tsv"), encoding: .utf8)
        let lines = text.split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
        XCTAssertGreaterThanOrEqual(lines.count, 12)
        var opsSeen = Set<String>()
        for parts in lines where parts.count >= 3 {
            let file = parts[0], status = parts[1], substring = parts[2]
            opsSeen.insert(String(file.prefix { $0 != "-" }))
            do {
                let model = try Model(path: folder.appendingPathComponent(file).path)
                // Planning runs at load for fixed shapes; also plan and run through a session.
                let session = Session(model: model)
                for (i, input) in model.inputs.enumerated() {
                    let shape = input.type.dims.map { $0 ?? 1 }
                    let zeros = [UInt8](repeating: 0, count: shape.reduce(1, *) * input.type.dtype.size + 8)
                    try zeros.withUnsafeBytes { raw in
                        try session.setInput(i, dtype: input.type.dtype, data: raw.baseAddress!, shape: shape)
                    }
                }
                try session.run()
                XCTFail("\(file) was accepted; expected \(status)")
            } catch let error as D2LError {
                XCTAssertEqual(error.status.name.description, status, "\(file): \(error.message)")
                XCTAssertTrue(error.message.contains(substring), "\(file): message '\(error.message)' does not mention '\(substring)'")
            }
        }
        XCTAssertEqual(opsSeen, ["rnn", "gru", "lstm"])
    }
}
