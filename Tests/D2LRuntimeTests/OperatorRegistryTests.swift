import Foundation
import XCTest
@testable import D2LRuntime

/// The operator registry is the one list of what libd2l runs: the conformance run's
/// `tools/dev/conformance/supported-ops.txt` and the README's list are checked against it, and
/// each schema against the loader's rules.
final class OperatorRegistryTests: XCTestCase {
    let repositoryRoot = fixturesDirectory.deletingLastPathComponent().deletingLastPathComponent()

    var registered: [String] { Operator.registry.map(\.name) }

    func testNamesAreUniqueAndVersionsAscendWithinTheOpsetRange() {
        XCTAssertEqual(Set(registered).count, registered.count, "an operator is registered twice: \(registered)")
        for schema in Operator.registry {
            XCTAssertFalse(schema.versions.isEmpty, schema.name)
            XCTAssertEqual(schema.versions, schema.versions.sorted(), "\(schema.name): versions out of order")
            XCTAssertEqual(Set(schema.versions).count, schema.versions.count, "\(schema.name): a version twice")
            XCTAssertLessThanOrEqual(schema.versions.last ?? 0, maximumOpset, schema.name)
            XCTAssertNotNil(schema.version(forOpset: minimumOpset),
                            "\(schema.name) has no version for opset \(minimumOpset)")
            XCTAssertLessThanOrEqual(schema.inputs.required, schema.inputs.maximum, schema.name)
            XCTAssertLessThanOrEqual(schema.outputs.required, schema.outputs.maximum, schema.name)
            for position in schema.planTimeInputs {
                XCTAssertLessThan(position, schema.inputs.maximum, "\(schema.name): plan-time input \(position)")
            }
        }
    }

    func testVersionSelectionPicksTheNewestNotAboveTheOpset() throws {
        let reshape = try Operator.schema("Reshape", opset: 17)
        XCTAssertEqual(reshape.version(forOpset: 13), 13)
        XCTAssertEqual(reshape.version(forOpset: 18), 14)
        XCTAssertEqual(reshape.version(forOpset: 27), 25)
        XCTAssertNil(reshape.version(forOpset: 0))
        XCTAssertThrowsError(try Operator.schema("Frobnicate", opset: 17)) { error in
            guard let error = error as? D2LError else { return XCTFail("\(error)") }
            XCTAssertEqual(error.status, .unsupported)
            XCTAssertTrue(error.message.contains("'Frobnicate'"), error.message)
        }
    }

    func testSupportedOpsFileListsExactlyTheRegistry() throws {
        let path = repositoryRoot.appendingPathComponent("tools/dev/conformance/supported-ops.txt").path
        let listed = try String(contentsOfFile: path, encoding: .utf8)
            .split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
        XCTAssertEqual(Set(listed).count, listed.count, "supported-ops.txt names an operator twice")
        XCTAssertEqual(Set(listed).subtracting(registered).sorted(), [], "in supported-ops.txt but not registered")
        XCTAssertEqual(Set(registered).subtracting(listed).sorted(), [], "registered but not in supported-ops.txt")
    }

    /// The README's sentence "operators supported today (N, …): A, B, …, Z." names each
    /// registered operator once, and N is their count.
    func testReadmeListsExactlyTheRegistry() throws {
        let readme = try String(contentsOfFile: repositoryRoot.appendingPathComponent("README.md").path, encoding: .utf8)
        guard let start = readme.range(of: "operators supported today (") else {
            return XCTFail("README.md has no \"operators supported today (\" sentence")
        }
        let rest = readme[start.upperBound...]
        let count = Int(rest.prefix(while: { $0.isNumber }))
        XCTAssertEqual(count, registered.count, "the README's operator count")
        guard let colon = rest.range(of: "):"), let end = rest.range(of: ".", range: colon.upperBound..<rest.endIndex) else {
            return XCTFail("README.md: the operator list does not end with a period")
        }
        let names = rest[colon.upperBound..<end.lowerBound]
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        XCTAssertEqual(Set(names).count, names.count, "the README names an operator twice")
        XCTAssertEqual(Set(names).subtracting(registered).sorted(), [], "in the README but not registered")
        XCTAssertEqual(Set(registered).subtracting(names).sorted(), [], "registered but not in the README")
    }

    /// Each schema's arity is what the graph builder enforces: one input too many is refused
    /// by name.
    func testGraphBuilderEnforcesTheSchemasArity() throws {
        let relu = try Operator.schema("Relu", opset: 17)
        XCTAssertEqual(relu.inputs.maximum, 1)
        let x = f32("x", [1], [1])
        XCTAssertThrowsError(try runNode("Relu", inputs: [x], nodeInputs: ["x", "x"])) { error in
            XCTAssertTrue("\(error)".contains("takes at most 1"), "\(error)")
        }
    }

    /// An operator seen only through `AnyOperatorKernel` (here Softmax along the last axis):
    /// each plan is a value of its own, and planning leaves the unplanned operator as it
    /// was, so two sessions can plan one model's graph for different shapes.
    func testPlanningAnOpaqueOperatorReturnsANewValue() throws {
        let schema = try Operator.schema("Softmax", opset: 17)
        let node = NodeDescription(name: "s", opType: "Softmax", domain: "", inputs: ["x"], outputs: ["y"], attributes: [])
        let unplanned = try schema.make(AttributeReader(node, label: "Softmax node 's'"), 13)
        guard case .kernel = unplanned else { return XCTFail("Softmax should be an opaque kernel") }
        var wide = unplanned, tall = unplanned
        XCTAssertEqual(try wide.plan([PlanInput(type: TensorType(.float32, [1, 4]), constant: nil)], label: "s"),
                       [TensorType(.float32, [1, 4])])
        XCTAssertEqual(try tall.plan([PlanInput(type: TensorType(.float32, [2, 2]), constant: nil)], label: "s"),
                       [TensorType(.float32, [2, 2])])
        func run(_ op: Operator, _ x: [Float]) -> [Float] {
            var input = x, output = [Float](repeating: .nan, count: x.count), scratch = [Float](repeating: 0, count: 16)
            input.withUnsafeMutableBufferPointer { xp in
                output.withUnsafeMutableBufferPointer { yp in
                    scratch.withUnsafeMutableBufferPointer { sp in
                        let type = TensorType(.float32, [x.count])
                        op.run(KernelIO(inputs: [TensorView(pointer: UnsafeMutableRawPointer(xp.baseAddress!), type: type)],
                                        outputs: [TensorView(pointer: UnsafeMutableRawPointer(yp.baseAddress!), type: type)],
                                        scratch: sp.baseAddress!), pool: nil)
                    }
                }
            }
            return output
        }
        let x: [Float] = [0, 0, 0, 0]
        // One row of 4 (wide) against two rows of 2 (tall): 1/4 each against 1/2 each.
        XCTAssertEqual(run(wide, x), [0.25, 0.25, 0.25, 0.25])
        XCTAssertEqual(run(tall, x), [0.5, 0.5, 0.5, 0.5])
        XCTAssertThrowsError(try { var again = unplanned
            _ = try again.plan([PlanInput(type: TensorType(.int64, [2]), constant: nil)], label: "s") }())
    }
}
