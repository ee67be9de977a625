import XCTest
@testable import D2L

/// The repository root (…/Tests/D2LTests/TestSupport.swift → …).
let repositoryRoot: String = {
    var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)
    return parts.joined(separator: "/")
}()

/// Tests/Fixtures/toolkit/<relative>.
func toolkitFixture(_ relative: String) -> String { repositoryRoot + "/Tests/Fixtures/toolkit/" + relative }

/// Asserts elementwise |a − b| ≤ atol + rtol·|b| (b is the reference) and equal shapes.
func assertClose(_ a: Tensor, _ b: Tensor, atol: Float = 1e-5, rtol: Float = 1e-4, _ what: String = "",
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.shape, b.shape, "\(what): shapes", file: file, line: line)
    guard a.shape == b.shape else { return }
    var worst: Float = 0, worstIndex = -1
    for (i, (x, y)) in zip(a.scalars, b.scalars).enumerated() {
        let excess = Swift.abs(x - y) - (atol + rtol * Swift.abs(y))
        if excess > worst || x.isNaN != y.isNaN { worst = Swift.max(excess, worst); worstIndex = i }
    }
    if worstIndex >= 0 {
        XCTFail("\(what): element \(worstIndex): \(a.scalars[worstIndex]) vs reference \(b.scalars[worstIndex])",
                file: file, line: line)
    }
}

/// Checks the autograd gradients of `f` (a scalar function of `inputs`) against central
/// finite differences computed in float32 with step `eps`.
func assertGradientsMatchFiniteDifferences(_ inputs: [Tensor], eps: Float = 1e-2, tolerance: Float = 2e-2,
                                           file: StaticString = #filePath, line: UInt = #line,
                                           _ f: ([Tensor]) -> Tensor) {
    let tracked = inputs.map { $0.requiringGrad() }
    let y = f(tracked)
    XCTAssertEqual(y.count, 1, "function must return a scalar", file: file, line: line)
    y.backward()
    for (k, input) in inputs.enumerated() {
        guard let analytic = tracked[k].grad else {
            XCTFail("input \(k) got no gradient", file: file, line: line)
            continue
        }
        for i in 0..<input.count {
            var plus = input, minus = input
            plus.withUnsafeMutableValues { $0[i] += eps }
            minus.withUnsafeMutableValues { $0[i] -= eps }
            var argsPlus = inputs, argsMinus = inputs
            argsPlus[k] = plus
            argsMinus[k] = minus
            let numeric = (f(argsPlus).item - f(argsMinus).item) / (2 * eps)
            let a = analytic.scalars[i]
            XCTAssertLessThanOrEqual(Swift.abs(a - numeric), tolerance * Swift.max(1, Swift.abs(numeric)),
                                     "input \(k) element \(i): autograd \(a) vs finite difference \(numeric)",
                                     file: file, line: line)
        }
    }
}

/// A fixture file under Tests/Fixtures/toolkit.
func loadFixture(_ relative: String, file: StaticString = #filePath, line: UInt = #line) throws -> SafeTensorsFile {
    try SafeTensorsFile.read(path: toolkitFixture(relative))
}

extension SafeTensorsFile {
    /// Tensor `name` as float32, failing the test when absent.
    func tensor(_ name: String) throws -> Tensor {
        guard let t = self[name] else { throw ToolkitError(.invalidData, "fixture has no tensor \(name)") }
        return Tensor(try t.floats(), shape: t.shape)
    }
    /// Tensor `name` as integers.
    func ints(_ name: String) throws -> [Int] {
        guard let t = self[name] else { throw ToolkitError(.invalidData, "fixture has no tensor \(name)") }
        return try t.int64s().map { Int($0) }
    }
    /// The `param.*` entries as a state dictionary (prefix removed).
    func state(prefix: String = "param.") throws -> [(name: String, value: Tensor)] {
        try names.filter { $0.hasPrefix(prefix) }.map { (String($0.dropFirst(prefix.count)), try tensor($0)) }
    }
}
