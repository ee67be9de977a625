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

// MARK: - Kernel variants

/// Runs `body` once under every kernel variant (Sources/_D2LKernels) this CPU runs, with
/// that variant active, and restores the active one afterwards. The variants this build
/// has for this architecture but the CPU lacks are printed as skipped, by name, so a log
/// shows which ones a run covered. Failures inside can name the variant with `kernelISA`.
func forEachKernelVariant(_ test: String = #function, _ body: (String) throws -> Void) rethrows {
    let previous = kernelISA
    defer { selectKernelVariant(previous) }
    for variant in kernelVariants {
        guard variant.runs else {
            print("\(test): kernel variant \(variant.name) skipped: this CPU does not run it")
            continue
        }
        guard selectKernelVariant(variant.name) else {
            XCTFail("\(test): kernel variant \(variant.name) is listed as runnable but cannot be selected")
            continue
        }
        try body(variant.name)
    }
}

/// The best variant this CPU runs and the SSE2/scalar baseline of this architecture (the
/// zoo runs under both).
var bestAndBaselineKernelVariants: [String] {
    let runnable = kernelVariants.filter(\.runs).map(\.name)
    let baseline = runnable.contains("sse2") ? "sse2" : "scalar"
    return runnable.first == baseline ? [baseline] : [runnable.first ?? baseline, baseline]
}
