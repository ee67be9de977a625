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
/// does) and returns the failure exit code.
func fail(_ error: Error) -> ExitCode {
    FileHandle.standardError.write(Data("error: \(ToolkitError.line(for: error))\n".utf8))
    return ExitCode.failure
}

/// Runs `body`, turning every error into a one-line message and a non-zero exit.
func reporting(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let code as ExitCode {
        throw code
    } catch {
        throw fail(error)
    }
}
