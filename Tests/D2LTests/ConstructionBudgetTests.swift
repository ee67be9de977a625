import Foundation
import XCTest
@testable import D2L

/// `ConstructionBudget`: models whose sizes come from user options are refused before
/// they are allocated; other threads and code outside a scope are untouched.
final class ConstructionBudgetTests: XCTestCase {
    func testTensorsWithinTheLimitAreBuiltAndCounted() throws {
        let (a, b) = try ConstructionBudget.withLimit(100, what: "test") { (Tensor.zeros([4, 5]), Tensor.ones([80])) }
        XCTAssertEqual(a.shape, [4, 5])
        XCTAssertEqual(b.count, 80)
    }

    func testPassingTheLimitThrowsNamingWhatAndCreatesNothingLarge() {
        var made: [Tensor] = []
        XCTAssertThrowsError(try ConstructionBudget.withLimit(100, what: "--arch test") {
            made.append(Tensor.zeros([90]))
            made.append(Tensor.randn([1 << 20, 1 << 20]))  // 2^40 values: never allocated
            made.append(Tensor.zeros([5]))                 // after the limit: empty too
        }) { error in
            let e = error as? ToolkitError
            XCTAssertEqual(e?.kind, .invalidArgument)
            XCTAssertTrue(e?.message.hasPrefix("--arch test would hold more than 100 values") == true, "\(error)")
        }
        XCTAssertEqual(made.map(\.count), [90, 0, 0])
    }

    func testAnOverflowingShapeIsRefusedNotTrapped() {
        XCTAssertThrowsError(try ConstructionBudget.withLimit(Int.max, what: "huge") {
            _ = Tensor.zeros([Int.max / 2, 3])
        })
    }

    func testNestedScopesAreCountedByTheOuterOne() {
        XCTAssertThrowsError(try ConstructionBudget.withLimit(10, what: "outer") {
            try ConstructionBudget.withLimit(1000, what: "inner") { _ = Tensor.zeros([20]) }
        }) { error in
            XCTAssertTrue("\(error)".contains("outer would hold more than 10"), "\(error)")
        }
    }

    func testOtherThreadsAndLaterCodeAreNotCounted() throws {
        try ConstructionBudget.withLimit(10, what: "scope") {
            final class Count: @unchecked Sendable { var value = 0 }  // written before the signal
            let elsewhere = Count(), done = DispatchSemaphore(value: 0)
            Thread { elsewhere.value = Tensor.zeros([1000]).count; done.signal() }.start()
            done.wait()
            XCTAssertEqual(elsewhere.value, 1000)
        }
        XCTAssertEqual(Tensor.zeros([1000]).count, 1000)
    }

    func testModelOptionsBeyondTheLimitsAreRefusedBeforeBuilding() {
        for (options, text) in [
            (ModelOptions(imageSize: 3_037_000_500), "the image size must be at most 65536"),
            (ModelOptions(classes: 10_000_000_000), "the number of classes must be at most"),
            (ModelOptions(inChannels: 100_000_000), "the number of input channels must be at most"),
        ] {
            XCTAssertThrowsError(try Models.make(arch: "lenet", options: options)) { error in
                XCTAssertTrue("\(error)".contains(text), "\(error)")
            }
        }
        XCTAssertThrowsError(try Models.make(arch: "mlp", options: ModelOptions(hidden: 1 << 30)))
        XCTAssertThrowsError(try LanguageModels.make("gru-lm", vocabSize: 28, hidden: 32, layers: 100_000))
    }

    func testAModelPastMaxValuesIsRefusedAndOneWithinIsBuilt() throws {
        XCTAssertThrowsError(try Models.make(arch: "lenet", options: ModelOptions(imageSize: 20000))) { error in
            XCTAssertTrue("\(error)".contains("would hold more than"), "\(error)")
        }
        XCTAssertThrowsError(try Models.make(arch: "lenet", maxValues: 61705))
        let lenet = try Models.make(arch: "lenet", maxValues: 61706)  // exactly LeNet's parameters
        XCTAssertEqual(lenet.parameters().reduce(0) { $0 + $1.value.count }, 61706)
        XCTAssertThrowsError(try LanguageModels.make("gru-lm", vocabSize: 28, hidden: 32, maxValues: 100))
    }
}
