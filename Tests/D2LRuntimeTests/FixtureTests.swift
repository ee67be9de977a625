import Foundation
import XCTest
@testable import D2LRuntime

/// Runs every model fixture of Tests/Fixtures (made by tools/make-fixtures with PyTorch)
/// through the runtime and compares with PyTorch's outputs. New op coverage adds folders.
final class FixtureTests: XCTestCase {
    func testEveryFixtureMatchesPyTorch() throws {
        let folders = try modelFixtureFolders()
        XCTAssertGreaterThanOrEqual(folders.count, 4, "expected the MLP and LeNet fixtures of both exporters")
        for folder in folders {
            let name = folder.lastPathComponent
            guard let model = expectNoError("load \(name)", {
                try Model(path: folder.appendingPathComponent("model.onnx").path)
            }) else { continue }
            let sets = try dataSets(folder)
            XCTAssertFalse(sets.isEmpty, "\(name) has no test_data_set")
            let session = Session(model: model)
            for set in sets {
                var expected: [TensorFile] = []
                var ok = true
                for i in 0..<model.inputs.count {
                    guard let input = expectNoError("\(name) input", {
                        try TensorFile(path: set.appendingPathComponent("input_\(i).pb").path)
                    }) else { ok = false; break }
                    let status: Void? = expectNoError("\(name) set input", {
                        try input.bytes.withUnsafeBytes { raw in
                            try session.setInput(i, dtype: input.type.dtype, data: raw.baseAddress!, shape: input.type.shape)
                        }
                    })
                    ok = ok && status != nil
                }
                for i in 0..<model.outputs.count {
                    guard let output = expectNoError("\(name) output", {
                        try TensorFile(path: set.appendingPathComponent("output_\(i).pb").path)
                    }) else { ok = false; break }
                    expected.append(output)
                }
                guard ok, expectNoError("\(name) run", { try session.run() }) != nil else { continue }
                for (i, want) in expected.enumerated() {
                    guard let got = session.output(i) else { XCTFail("\(name): no output \(i)"); continue }
                    XCTAssertEqual(got.type.shape, want.type.shape, "\(name)/\(set.lastPathComponent) output \(i) shape")
                    let values = Array(UnsafeBufferPointer(start: got.floats, count: got.type.count))
                    let diff = maxAbsDifference(values, want.floats)
                    XCTAssertLessThanOrEqual(diff, 1e-5, "\(name)/\(set.lastPathComponent) output \(i): max |diff| \(diff)")
                }
            }
        }
    }
}
