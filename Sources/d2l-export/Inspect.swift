import ArgumentParser
import D2L
import Foundation

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a checkpoint's tensors (shapes, dtypes, totals) or an ONNX model's inputs, outputs, operators, opset and metadata.")

    @Argument(help: "A checkpoint (torch.save zip or legacy, safetensors) or an ONNX model (.onnx or by content).")
    var file: String

    func run() throws {
        try reporting {
            for line in try FileInspection.lines(path: file) { print(line) }
        }
    }
}
