import ArgumentParser
import D2L
import Foundation

struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Convert a checkpoint into an ONNX model (written atomically: whole or not at all).",
        discussion: "Architectures: " + CheckpointConverter.architectures.joined(separator: ", ")
            + ". The language models (rnn-lm, gru-lm, lstm-lm: the book's RNNModel) need --vocab or --vocab-corpus;"
            + " their hidden size, layers and directions are inferred from the checkpoint.")

    @Option(help: "The book's model definition (\(CheckpointConverter.architectures.joined(separator: ", "))).") var arch: String
    @Option(help: "The checkpoint: torch.save(net.state_dict(), ...) (zip or legacy format) or a safetensors file.")
    var input: String
    @Option(help: "The ONNX model to write.") var output: String
    @Option(name: .customLong("num-classes"), help: "Output classes (default: the number of --labels, else 10).")
    var numClasses: Int?
    @Option(name: .customLong("in-channels"), help: "Input channels (default 1).") var inChannels: Int?
    @Option(name: .customLong("image-size"), help: "Input height and width (default: the book's for the architecture).")
    var imageSize: Int?
    @Option(help: "Hidden width of mlp, mlp-block (256) and vgg11's fully connected layers (4096); a language model's hidden size (default: from rnn.weight_hh_l0).")
    var hidden: Int?
    @Option(help: "Language models: recurrent layers (default: from the rnn.weight_ih_l<k> keys).") var layers: Int?
    @Flag(inversion: .prefixedNo, help: "Language models: a bidirectional recurrent layer (default: when there are _reverse keys).")
    var bidirectional: Bool?
    @Option(help: "Language models: a JSON array of the tokens in index order (vocab.idx_to_token; index 0 \"<unk>\").")
    var vocab: String?
    @Option(name: .customLong("vocab-corpus"),
            help: "Language models: rebuild the book's Vocab from this text (read_time_machine's cleaning, tokenize, Vocab).")
    var vocabCorpus: String?
    @Option(help: "Language models: char or word tokens (--vocab-corpus; d2l.task char-lm or word-lm).") var token: String = "char"
    @Option(name: .customLong("width-divisor"),
            help: "Reduced-width variant: every channel count divided by D (vgg11: the book's ratio, inferred from the checkpoint when not given).")
    var widthDivisor: Int?
    @Option(help: "A JSON array of class names, index order (default: the ten Fashion-MNIST classes).") var labels: String?
    @Option(help: "Default-domain ONNX opset to write (13 to 22).") var opset: Int = 17
    @Flag(name: .customLong("fold-bn"), inversion: .prefixedNo,
          help: "Fold BatchNorm into the preceding convolution or linear layer.")
    var foldBN: Bool = true
    @Flag(name: .customLong("no-check"), help: "Skip running the export through libd2l against the toolkit's forward.")
    var noCheck: Bool = false
    @Flag(help: "On an error with more to say (a checkpoint that does not fit --arch), print all of it below the one-line message: every missing, unexpected and mis-shaped key.")
    var verbose = false

    func run() throws {
        try reporting(verbose: verbose) {
            guard let tokenKind = TokenKind(rawValue: token) else {
                throw ToolkitError(.invalidArgument, "--token \(token): expected char or word")
            }
            var options = ConversionOptions(arch: arch, classes: numClasses, inChannels: inChannels, imageSize: imageSize,
                                            hidden: hidden, widthDivisor: widthDivisor, opset: opset,
                                            foldBatchNorm: foldBN, check: !noCheck, layers: layers,
                                            bidirectional: bidirectional, token: tokenKind)
            if let labels { options.labels = try readLabels(labels) }
            let isLanguageModel = CheckpointConverter.languageModels.contains(arch)
            var vocabSource: String?
            switch (vocab, vocabCorpus) {
            case (.some, .some):
                throw ToolkitError(.invalidArgument, "give --vocab or --vocab-corpus, not both")
            case (let path?, nil):
                if isLanguageModel {
                    try CheckpointConverter.checkArchitecture(arch)
                    try CheckpointConverter.checkWritable(output, input: input)
                }
                options.vocab = try LanguageModelVocabulary.load(json: path)
                vocabSource = path
            case (nil, let path?):
                guard isLanguageModel else {
                    throw ToolkitError(.invalidArgument, "--vocab-corpus applies to the language models (\(CheckpointConverter.languageModels.joined(separator: ", "))), not to --arch \(arch)")
                }
                try CheckpointConverter.checkArchitecture(arch)
                try CheckpointConverter.checkWritable(output, input: input)
                options.vocab = try LanguageModelVocabulary.rebuild(corpus: path, token: tokenKind)
                vocabSource = "the \(token) tokens of \(path)"
            case (nil, nil):
                break
            }
            let result = try CheckpointConverter.convertFile(inputPath: input, outputPath: output, options: options)
            let c = result.checkpoint
            print("read \(input) (\(c.formatName)): \(c.text)")
            if let vocab = result.vocab, let vocabSource { print("vocabulary: \(counted(vocab.count, "token")) from \(vocabSource)") }
            print("loaded into \(arch): \(counted(result.parameterCount, "parameter"))"
                  + (result.bufferCount > 0 ? ", \(counted(result.bufferCount, "buffer value"))" : "")
                  + ", all \(counted(c.tensors.count, "key")) matched")
            for note in result.notes { print("note: \(note)") }
            let m = result.model
            print("wrote \(output): \(m.byteCount) bytes, opset \(m.opset ?? 0), IR version \(m.irVersion)"
                  + (foldBN && !isLanguageModel ? ", BatchNorm folded" : ""))
            for v in m.inputs { print("  input  \(v.text)") }
            for v in m.outputs { print("  output \(v.text)") }
            print("  \(counted(m.nodeCount, "node")): \(m.opCountText)")
            for (key, value) in result.metadata {
                let shown = value.count > 200 ? String(value.prefix(160)) + "… (\(value.count) characters)" : value
                print("  \(key) = \(shown)")
            }
            if let difference = result.checkDifference {
                print(String(format: "check: libd2l vs the toolkit on a random batch of 2%@, max |difference| %.2e",
                             isLanguageModel ? " sequences of 4 tokens (logits and state)" : "", difference))
            }
        }
    }

    func readLabels(_ path: String) throws -> [String] {
        // A regular file of at most 16 MiB, checked before reading (a FIFO or /dev/zero
        // would block or never end).
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        if let type = attributes?[.type] as? FileAttributeType, type != .typeRegular {
            throw ToolkitError(.io, "--labels: cannot read \(path): not a regular file")
        }
        if let size = attributes?[.size] as? Int, size > 16 << 20 {
            throw ToolkitError(.invalidData, "--labels: \(path) has \(size) bytes, more than a list of labels may have (at most 16 MiB)")
        }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw ToolkitError(.io, "--labels: cannot read \(path)")
        }
        guard let json = try? JSONSerialization.jsonObject(with: data), let names = json as? [String] else {
            throw ToolkitError(.invalidData, "--labels: \(path) is not a JSON array of strings (e.g. [\"cat\", \"dog\"])")
        }
        return names
    }
}
