import ArgumentParser
import D2L
import D2LRuntime
import Foundation

/// `d2l-export`: convert PyTorch state dicts and the toolkit's checkpoints into ONNX models
/// for libd2l, inspect checkpoints and models, verify a model against reference outputs.
/// Argument parsing and messages only; the work is in the D2L library (D2L/Conversion).
@main
struct D2LExport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "d2l-export",
        abstract: "Convert checkpoints (torch.save state dicts, safetensors) into ONNX models for libd2l.",
        version: "\(CheckpointConverter.version) (kernels: \(kernelISA))",
        subcommands: [Convert.self, Inspect.self, Verify.self])
}

/// Prints `error` as one line on standard error (`ToolkitError.line(for:)`, as d2l-cli
/// does), with `verbose` its details below it (indented), and returns the failure exit code.
func fail(_ error: Error, verbose: Bool = false) -> ExitCode {
    var text = "error: \(ToolkitError.line(for: error))\n"
    if verbose { text += ToolkitError.detailLines(for: error).map { "  \($0)\n" }.joined() }
    FileHandle.standardError.write(Data(text.utf8))
    return ExitCode.failure
}

/// Runs `body`, turning every error into a one-line message (and with `verbose`, its
/// details) and a non-zero exit.
func reporting(verbose: Bool = false, _ body: () throws -> Void) throws {
    do {
        try body()
    } catch let code as ExitCode {
        throw code
    } catch {
        throw fail(error, verbose: verbose)
    }
}
