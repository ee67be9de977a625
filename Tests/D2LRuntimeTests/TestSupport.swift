import Foundation
import XCTest
@testable import D2LRuntime

/// Tests/Fixtures in the checkout.
let fixturesDirectory: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")

/// Folders of Tests/Fixtures (or `root`) that hold a model and backend-test data sets.
func modelFixtureFolders(in root: URL = fixturesDirectory) throws -> [URL] {
    let entries = try FileManager.default.contentsOfDirectory(at: root, includingPropertiesForKeys: nil)
    return entries.filter { FileManager.default.fileExists(atPath: $0.appendingPathComponent("model.onnx").path) }
        .sorted { $0.lastPathComponent < $1.lastPathComponent }
}

/// The `test_data_set_*` folders of a fixture.
func dataSets(_ folder: URL) throws -> [URL] {
    try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
        .filter { $0.lastPathComponent.hasPrefix("test_data_set_") }
        .sorted { $0.lastPathComponent < $1.lastPathComponent }
}

/// Largest |a - b| over two equally long arrays (infinity when lengths differ).
func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
    guard a.count == b.count else { return .infinity }
    var m: Float = 0
    for i in 0..<a.count { m = max(m, abs(a[i] - b[i])) }
    return m
}

/// Runs `body`, failing the test with the runtime's message if it throws.
func expectNoError<T>(_ what: String, file: StaticString = #filePath, line: UInt = #line,
                      _ body: () throws -> T) -> T? {
    do {
        return try body()
    } catch let error as D2LError {
        XCTFail("\(what): \(error.status.name) \(error.message)", file: file, line: line)
        return nil
    } catch {
        XCTFail("\(what): \(error)", file: file, line: line)
        return nil
    }
}
