import ArgumentParser
import D2L
import D2LRuntime
import Foundation

/// `d2l-cli`: train the book's models, evaluate exported models through libd2l, and
/// generate text. Argument parsing and messages only; the work is in the D2L library.
@main
struct D2LCLI: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "d2l-cli",
        abstract: "Train the book's models, evaluate ONNX models through libd2l, generate text.",
        version: "\(CheckpointConverter.version) (kernels: \(kernelISA))",
        subcommands: [Train.self, Eval.self, Generate.self, BenchTrain.self, BenchTrainLM.self])
}

/// Prints `error` as one line on standard error (`ToolkitError.line(for:)`, as d2l-export
/// does) and returns the failure exit code.
func fail(_ error: Error) -> ExitCode {
    FileHandle.standardError.write(Data("error: \(ToolkitError.line(for: error))\n".utf8))
    return ExitCode.failure
}
