import ArgumentParser
import D2L
import Foundation

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run an ONNX model through libd2l on reference inputs and compare with the reference outputs.",
        discussion: "DIR holds the ONNX backend-test layout: DIR/test_data_set_0/input_0.pb, output_0.pb, … (serialized TensorProtos).")

    @Argument(help: "The ONNX model.") var model: String
    @Option(help: "The reference folder (test_data_set_*/input_<k>.pb, output_<k>.pb).") var reference: String
    @Option(help: "The largest max |difference| accepted.") var tolerance: Float = 1e-4

    func run() throws {
        try reporting {
            let report = try ModelVerification(modelPath: model, referenceDirectory: reference)
            for c in report.comparisons {
                print(String(format: "%@ output %d '%@' [%@]: max |difference| %.3e", c.dataSet, c.index, c.name,
                             c.shape.map(String.init).joined(separator: ", "), Double(c.maxDifference)))
            }
            let worst = report.maxDifference
            guard worst <= tolerance else {
                throw ToolkitError(.numerical, String(format: "%@: max |difference| %.3e exceeds the tolerance %.1e", model,
                                                      Double(worst), Double(tolerance)))
            }
            print(String(format: "ok: %@ within %.1e of the reference (max %.3e)", counted(report.comparisons.count, "output"),
                         Double(tolerance), Double(worst)))
        }
    }
}
