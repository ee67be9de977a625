import Foundation
import XCTest
@testable import D2LRuntime

/// Tests/Fixtures/bad (made by tools/fixtures/make-bad-models): every file must be refused with
/// the status and message listed in expected.tsv, from a path and from memory.
final class BadModelTests: XCTestCase {
    struct Case { var file: String; var status: String; var substring: String }

    func cases() throws -> [Case] {
        let text = try String(contentsOf: fixturesDirectory.appendingPathComponent("bad/expected.tsv"), encoding: .utf8)
        return text.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard parts.count >= 2 else { return nil }
            return Case(file: parts[0], status: parts[1], substring: parts.count > 2 ? parts[2] : "")
        }
    }

    /// Loads, plans and runs with zero inputs; returns the first error, or nil.
    func firstError(_ load: () throws -> Model) -> D2LError? {
        do {
            let model = try load()
            let session = Session(model: model)
            for (i, input) in model.inputs.enumerated() {
                let shape = input.type.dims.map { $0 ?? 1 }
                let zeros = [UInt8](repeating: 0, count: shape.reduce(1, *) * input.type.dtype.size + 8)
                try zeros.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
                    guard let base = raw.baseAddress else { return }
                    try session.setInput(i, dtype: input.type.dtype, data: base, shape: shape)
                }
            }
            try session.run()
            return nil
        } catch let error as D2LError {
            return error
        } catch {
            return D2LError(.internal, "unexpected error \(error)")
        }
    }

    func testBadModelsAreRefusedWithTheirStatusAndMessage() throws {
        let all = try cases()
        XCTAssertGreaterThan(all.count, 15)
        for c in all {
            let path = fixturesDirectory.appendingPathComponent("bad/\(c.file)").path
            let error = firstError { () throws(D2LError) in try Model(path: path) }
            if c.status == "D2L_OK" {
                XCTAssertNil(error, "\(c.file): \(error?.message ?? "")")
                continue
            }
            guard let error else { XCTFail("\(c.file) was accepted; expected \(c.status)"); continue }
            XCTAssertEqual(error.status.name.description, c.status, "\(c.file): \(error.message)")
            XCTAssertTrue(error.message.lowercased().contains(c.substring.lowercased()),
                          "\(c.file): message '\(error.message)' does not mention '\(c.substring)'")

            // From memory: the same refusal, except external data, which memory loads refuse.
            let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            let memoryError = bytes.withUnsafeBytes { raw in
                firstError { () throws(D2LError) in try Model(bytes: raw) }
            }
            XCTAssertNotNil(memoryError, "\(c.file) loaded from memory")
            if !c.file.hasPrefix("external-"), let memoryError {
                XCTAssertEqual(memoryError.status.name.description, c.status, "\(c.file) from memory: \(memoryError.message)")
            }
        }
    }

    func testValidTinyComputesReluOfGemm() throws {
        let model = try Model(path: fixturesDirectory.appendingPathComponent("bad/valid-tiny.onnx").path)
        let session = Session(model: model)
        let x: [Float] = [1, 2, 3, 4]
        try x.withUnsafeBytes { raw in try session.setInput(0, dtype: .float32, data: raw.baseAddress!, shape: [1, 4]) }
        try session.run()
        let y = try XCTUnwrap(session.output(0))
        XCTAssertEqual(Array(UnsafeBufferPointer(start: y.floats, count: y.type.count)), [1, 0, 0])
    }

    func testRunTimeInputErrorsKeepThePreviousInput() throws {
        let model = try Model(path: fixturesDirectory.appendingPathComponent("bad/valid-tiny.onnx").path)
        let session = Session(model: model)
        let x: [Float] = [1, 2, 3, 4]
        XCTAssertThrowsError(try session.run()) { XCTAssertEqual(($0 as? D2LError)?.status, .invalidArgument) }
        try x.withUnsafeBytes { raw in try session.setInput(0, dtype: .float32, data: raw.baseAddress!, shape: [1, 4]) }
        let bad: [(Int, DType, [Int], D2LStatus)] = [
            (1, .float32, [1, 4], .invalidArgument),   // index out of range
            (0, .int64, [1, 4], .invalidArgument),     // wrong dtype
            (0, .float32, [4], .shape),                // wrong rank
            (0, .float32, [1, 5], .shape),             // wrong fixed dimension
            (0, .float32, [1 << 40, 1 << 40], .shape), // wrong and huge
        ]
        let big = [Float](repeating: 9, count: 8)
        for (index, dtype, shape, status) in bad {
            XCTAssertThrowsError(try big.withUnsafeBytes { raw in
                try session.setInput(index, dtype: dtype, data: raw.baseAddress!, shape: shape)
            }) { XCTAssertEqual(($0 as? D2LError)?.status, status, "\(index) \(dtype) \(shape)") }
        }
        try session.run()
        let y = try XCTUnwrap(session.output(0))
        XCTAssertEqual(Array(UnsafeBufferPointer(start: y.floats, count: y.type.count)), [1, 0, 0])
        XCTAssertNil(session.output(1))
    }
}
