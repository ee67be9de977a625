import Foundation
import XCTest
@testable import D2LRuntime

/// Runs every model fixture of Tests/Fixtures (made by tools/fixtures/make-fixtures with PyTorch)
/// through the runtime and compares with PyTorch's outputs. New op coverage adds folders.
final class FixtureTests: XCTestCase {
    func testEveryFixtureMatchesPyTorch() throws {
        let folders = try modelFixtureFolders()
        XCTAssertGreaterThanOrEqual(folders.count, 4, "expected the MLP and LeNet fixtures of both exporters")
        try checkFixtures(folders)
    }

    /// The zoo under the baseline kernel variant of this architecture (SSE2 on x86-64) as
    /// well as the best one (the test above; a model loaded under one variant runs under
    /// another, since packed weights use layouts every variant reads).
    func testEveryFixtureMatchesPyTorchUnderBaselineKernels() throws {
        let previous = kernelISA
        defer { selectKernelVariant(previous) }
        for variant in bestAndBaselineKernelVariants.dropFirst() {
            XCTAssertTrue(selectKernelVariant(variant), variant)
            try checkFixtures(try modelFixtureFolders())
        }
    }

    /// Opt-in: the book-size models of Tests/Fixtures-large (`tools/fixtures/make-fixtures --large`,
    /// not committed). Runs when D2L_LARGE_FIXTURES=1:
    ///   D2L_LARGE_FIXTURES=1 swift test --filter FixtureTests.testLargeFixturesMatchPyTorch
    func testLargeFixturesMatchPyTorch() throws {
        guard ProcessInfo.processInfo.environment["D2L_LARGE_FIXTURES"] == "1" else {
            throw XCTSkip("set D2L_LARGE_FIXTURES=1 (after tools/fixtures/make-fixtures --large) to check the full-size models")
        }
        let root = fixturesDirectory.deletingLastPathComponent().appendingPathComponent("Fixtures-large")
        let folders = try modelFixtureFolders(in: root)
        XCTAssertFalse(folders.isEmpty, "no models in \(root.path): run tools/fixtures/make-fixtures --large")
        try checkFixtures(folders, tolerance: 1e-4)
    }

    private func checkFixtures(_ folders: [URL], tolerance: Float = 1e-5) throws {
        for folder in folders {
            let name = "[\(kernelISA)] " + folder.lastPathComponent
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
                    XCTAssertLessThanOrEqual(diff, tolerance, "\(name)/\(set.lastPathComponent) output \(i): max |diff| \(diff)")
                }
            }
        }
    }
}
