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
        subcommands: [Train.self, FineTune.self, Eval.self, Generate.self, Augment.self, BenchImages.self, BenchTrain.self, BenchTrainLM.self])

    /// Runs the command; an option that cannot be parsed (`--seed -1`, `--epochs ten`) is
    /// one line on standard error and exit 1, as the commands' own checks are.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            guard exitCode(for: error) == .validationFailure else { exit(withError: error) }
            Foundation.exit(fail(ToolkitError(.invalidArgument, message(for: error) + " (see --help)")).rawValue)
        }
    }
}

/// Prints `error` as one line on standard error (`ToolkitError.line(for:)`, as d2l-export
/// does) and returns the failure exit code.
func fail(_ error: Error) -> ExitCode {
    FileHandle.standardError.write(Data("error: \(ToolkitError.line(for: error))\n".utf8))
    return ExitCode.failure
}
