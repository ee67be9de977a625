import ArgumentParser
import D2L
import Foundation

/// `d2l-cli generate MODEL.onnx PREFIX [N]`: the book's predict_ch8 through libd2l.
struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate text with a recurrent language model (ONNX with d2l.vocab) through libd2l.")

    @Argument(help: "The model file (.onnx).") var model: String
    @Argument(help: "The text to start from.") var prefix: String
    @Argument(help: "Tokens to generate.") var numTokens: Int = 50
    @Option(help: "Sampling temperature (0: greedy).") var temperature: Float = 0
    @Option(help: "Seed of the sampler.") var seed: UInt64 = 0
    @Option(name: .customLong("top-k"), help: "Sample among the k most likely tokens (0: all).") var topK: Int = 0
    @Option(help: "Threads.") var threads: Int = 1

    func run() throws {
        do {
            guard numTokens >= 0 else { throw ToolkitError(.invalidArgument, "the number of tokens must be ≥ 0, got \(numTokens)") }
            let runtime = try RuntimeLanguageModel(path: model, threads: threads)
            print(try runtime.generate(prefix: prefix, numTokens: numTokens, temperature: temperature, topK: topK, seed: seed))
        } catch let error as ToolkitError {
            throw fail(error)
        }
    }
}
