import D2LRuntime
import Foundation
import XCTest
@testable import D2L

/// d2l-export's language models: the char-level GRU of Tests/Fixtures/toolkit/export
/// (tools/fixtures/make-export-fixtures: the book's RNNModel(nn.GRU(28, 64), 28) trained in PyTorch
/// with train_ch8 on The Time Machine) converts, and greedy generation through libd2l gives
/// exactly the book's predict_ch8 text.
final class ConversionLanguageModelTests: XCTestCase {
    struct Expected: Decodable {
        struct Case: Decodable {
            var prefix: String
            var num_tokens: Int
            var text: String
            var min_logit_gap: Double
        }
        var vocab_size: Int
        var cases: [Case]
    }

    static func expected() throws -> Expected {
        try JSONDecoder().decode(Expected.self, from: Data(AtomicFile.read(toolkitFixture("export/gru-lm.expected.json"))))
    }

    static let checkpoint = toolkitFixture("export/gru-lm.params")
    static let vocabFile = toolkitFixture("export/gru-lm.vocab.json")

    /// Converts gru-lm.params with `vocab` into a temporary file; returns the result and the path.
    static func convert(vocab: Vocab, in dir: String, options: (inout ConversionOptions) -> Void = { _ in })
        throws -> (ConversionResult, String) {
        var o = ConversionOptions(arch: "gru-lm", vocab: vocab)
        options(&o)
        let path = dir + "/gru-lm-\(UUID().uuidString).onnx"
        return (try CheckpointConverter.convert(inputPath: checkpoint, outputPath: path, options: o), path)
    }

    func temporaryDirectory() throws -> String {
        let dir = NSTemporaryDirectory() + "d2l-conversion-lm-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        return dir
    }

    /// Greedy generation through the runtime equals the book's predict_ch8 for every case.
    func assertGeneratesPredictCh8(_ path: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let model = try RuntimeLanguageModel(path: path)
        for c in try Self.expected().cases {
            XCTAssertGreaterThan(c.min_logit_gap, 1e-3, file: file, line: line)
            let text = try model.generate(prefix: c.prefix, numTokens: c.num_tokens)
            XCTAssertEqual(text, c.text, "libd2l greedy vs predict_ch8 from '\(c.prefix)'", file: file, line: line)
        }
    }

    func testConvertWithVocabFileGeneratesPredictCh8() throws {
        let dir = try temporaryDirectory()
        let vocab = try LanguageModelVocabulary.load(json: Self.vocabFile)
        XCTAssertEqual(vocab.count, try Self.expected().vocab_size)
        let (result, path) = try Self.convert(vocab: vocab, in: dir)
        XCTAssertEqual(result.model.metadata("d2l.producer"), "d2l-export 0.1.0 from torch state_dict")
        XCTAssertEqual(result.model.metadata("d2l.task"), "char-lm")
        XCTAssertEqual(result.model.metadata("d2l.vocab"), vocab.json())
        XCTAssertEqual(result.model.inputs.map(\.name), ["tokens", "h0"])
        XCTAssertEqual(result.model.outputs.map(\.name), ["logits", "hn"])
        XCTAssertEqual(result.vocab, vocab)
        XCTAssertTrue(result.notes.contains { $0.contains("hidden 64, 1 layer, one direction inferred") }, "\(result.notes)")
        XCTAssertLessThanOrEqual(try XCTUnwrap(result.checkDifference), 1e-5)
        try assertGeneratesPredictCh8(path)

        // The toolkit's own predict on the loaded module agrees too.
        let model = try XCTUnwrap(result.module as? RNNModel)
        for c in try Self.expected().cases {
            XCTAssertEqual(try model.predict(prefix: c.prefix, numTokens: c.num_tokens, idxToToken: vocab.idxToToken), c.text)
        }
        // Given explicitly, the same shape converts; another opset too.
        let (explicit, path2) = try Self.convert(vocab: vocab, in: dir) {
            $0.hidden = 64; $0.layers = 1; $0.bidirectional = false; $0.opset = 20
        }
        XCTAssertTrue(explicit.notes.isEmpty, "\(explicit.notes)")
        XCTAssertEqual(explicit.model.opset, 20)
        try assertGeneratesPredictCh8(path2)
    }

    func testConvertWithVocabCorpusRebuildsTheSameVocabulary() throws {
        let corpus = try timeMachinePath()
        let rebuilt = try LanguageModelVocabulary.rebuild(corpus: corpus, token: .char)
        XCTAssertEqual(rebuilt, try LanguageModelVocabulary.load(json: Self.vocabFile))
        XCTAssertEqual(rebuilt, try loadCorpusTimeMachine(path: corpus).vocab)
        let dir = try temporaryDirectory()
        let (result, path) = try Self.convert(vocab: rebuilt, in: dir)
        XCTAssertEqual(result.model.metadata("d2l.vocab"), rebuilt.json())
        try assertGeneratesPredictCh8(path)
        // Word tokens: a vocabulary of another size, refused with both numbers.
        let words = try LanguageModelVocabulary.rebuild(corpus: corpus, token: .word)
        XCTAssertThrowsError(try Self.convert(vocab: words, in: dir)) {
            XCTAssertTrue("\($0)".contains("the vocabulary has \(words.count) tokens but \(Self.checkpoint) predicts 28"), "\($0)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), [(path as NSString).lastPathComponent])
    }

    /// A word-level language model: a tiny two-layer LSTM over a word vocabulary rebuilt from
    /// a small corpus (`--vocab-corpus FILE --token word`), saved by the toolkit, converts
    /// through d2l-export's file path; libd2l's logits are the toolkit's, and libd2l's greedy
    /// generation (which splits the prefix into words) is the toolkit's `predict` on words.
    func testWordLevelModelConvertsLogitsAndGenerationMatchTheToolkit() throws {
        let dir = try temporaryDirectory()
        let corpus = dir + "/corpus.txt"
        try AtomicFile.write(text: """
            The Time Machine, by H. G. Wells
            The Time Traveller (for so it will be convenient to speak of him) was expounding
            a recondite matter to us. His grey eyes shone and twinkled, and his usually pale
            face was flushed and animated. The fire burned brightly, and the soft radiance of
            the incandescent lights in the lilies of silver caught the bubbles that flashed and
            passed in our glasses.
            """, to: corpus)
        let vocab = try LanguageModelVocabulary.rebuild(corpus: corpus, token: .word)
        XCTAssertEqual(vocab.idxToToken[0], "<unk>")
        XCTAssertTrue(vocab.idxToToken.contains("traveller"), "\(vocab.idxToToken)")
        Random.seed(7)
        let net = try LanguageModels.make("lstm-lm", vocabSize: vocab.count, hidden: 16, layers: 2)
        let checkpoint = dir + "/word-lm.safetensors"
        try net.saveCheckpoint(to: checkpoint)

        let output = dir + "/word-lm.onnx"
        let options = ConversionOptions(arch: "lstm-lm", vocab: vocab, token: .word)
        let report = try CheckpointConverter.convertFile(inputPath: checkpoint, outputPath: output, options: options)
        XCTAssertEqual(report.model.metadata("d2l.task"), "word-lm")
        XCTAssertEqual(report.model.metadata("d2l.vocab"), vocab.json())
        XCTAssertEqual(report.vocab, vocab)
        XCTAssertEqual(report.model.inputs.map(\.name), ["tokens", "h0", "c0"])
        XCTAssertLessThanOrEqual(try XCTUnwrap(report.checkDifference), 1e-5)
        // The streamed file is the in-memory conversion's bytes.
        let inMemory = try CheckpointConverter.convert(PyTorchCheckpoint.load(path: checkpoint), options: options, source: checkpoint)
        XCTAssertEqual(try AtomicFile.read(output), inMemory.bytes)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).sorted(),
                       ["corpus.txt", "word-lm.onnx", "word-lm.safetensors"])

        // Logits (and states) through libd2l equal the toolkit's on two word sequences.
        var index: [String: Int] = [:]
        for (i, t) in vocab.idxToToken.enumerated() where index[t] == nil { index[t] = i }
        let sequences = [["the", "time", "traveller", "was"], ["his", "grey", "eyes", "shone"]]
        let ids = sequences.map { $0.map { index[$0] ?? 0 } }
        XCTAssertFalse(ids.joined().contains(0))
        net.eval()
        let start = net.beginState(batchSize: 2)
        let (logits, state) = try withNoGrad { try net(ids, start) }
        var inputs = [RuntimeRunner.Input(dtype: .int64, shape: [2, 4],
                                          bytes: ids.joined().map(Int64.init).withUnsafeBytes { Array($0) })]
        for t in start.tensors {
            inputs.append(RuntimeRunner.Input(dtype: .float32, shape: t.shape, bytes: t.scalars.withUnsafeBytes { Array($0) }))
        }
        let outputs = try RuntimeRunner.run(D2LRuntime.Model(path: output), source: output, inputs: inputs)
        let expected = [logits] + state.tensors
        XCTAssertEqual(outputs.count, expected.count)
        for (theirs, mine) in zip(outputs, expected) {
            XCTAssertEqual(theirs.shape, mine.shape, theirs.name)
            XCTAssertLessThanOrEqual(maxDifference(theirs.values, mine.scalars), 1e-5, theirs.name)
        }

        // Greedy generation from a word prefix: libd2l's text generation = the toolkit's predict.
        let runtime = try RuntimeLanguageModel(path: output)
        for prefix in ["the time traveller", "his grey eyes", "fire"] {
            var sampler = try TokenSampler(temperature: 0, vocabSize: vocab.count)
            let predicted = try net.predict(prefixIDs: prefix.split(separator: " ").map { index[String($0)] ?? 0 },
                                            numTokens: 12, sampler: &sampler)
            let text = try runtime.generate(prefix: prefix, numTokens: 12)
            XCTAssertEqual(text, predicted.map { vocab.idxToToken[$0] }.joined(separator: " "), "from '\(prefix)'")
            XCTAssertTrue(text.hasPrefix(prefix + " "), text)
        }
    }

    func testRefusals() throws {
        let dir = try temporaryDirectory()
        let vocab = try LanguageModelVocabulary.load(json: Self.vocabFile)
        // Vocabulary size ≠ linear.weight rows: both numbers.
        let short = try Vocab(idxToToken: Array(vocab.idxToToken.prefix(27)))
        XCTAssertThrowsError(try Self.convert(vocab: short, in: dir)) {
            let message = "\($0)"
            XCTAssertTrue(message.contains("the vocabulary has 27 tokens but"), message)
            XCTAssertTrue(message.contains("predicts 28 (linear.weight has 28 rows)"), message)
        }
        // No vocabulary.
        XCTAssertThrowsError(try CheckpointConverter.convert(inputPath: Self.checkpoint, outputPath: dir + "/m.onnx",
                                                             options: ConversionOptions(arch: "gru-lm"))) {
            XCTAssertTrue("\($0)".contains("--vocab"), "\($0)")
        }
        // The wrong recurrent cell: the shapes say so, and which architecture it looks like.
        XCTAssertThrowsError(try CheckpointConverter.convert(inputPath: Self.checkpoint, outputPath: dir + "/m.onnx",
                                                             options: ConversionOptions(arch: "lstm-lm", vocab: vocab))) {
            let message = "\($0)"
            XCTAssertTrue(message.contains("mis-shaped keys: rnn.weight_ih_l0: checkpoint [192, 28], model [256, 28]"), message)
            XCTAssertTrue(message.contains("a checkpoint of --arch gru-lm?"), message)
        }
        // A wrong explicit shape.
        XCTAssertThrowsError(try Self.convert(vocab: vocab, in: dir) { $0.layers = 2 }) {
            XCTAssertTrue("\($0)".contains("missing keys: rnn.weight_ih_l1"), "\($0)")
        }
        XCTAssertThrowsError(try Self.convert(vocab: vocab, in: dir) { $0.bidirectional = true }) {
            XCTAssertTrue("\($0)".contains("rnn.weight_ih_l0_reverse"), "\($0)")
        }
        // A classifier's checkpoint, classifier options, language-model options for a classifier.
        XCTAssertThrowsError(try CheckpointConverter.convert(inputPath: toolkitFixture("export/lenet.params"), outputPath: dir + "/m.onnx",
                                                             options: ConversionOptions(arch: "gru-lm", vocab: vocab))) {
            XCTAssertTrue("\($0)".contains("not a checkpoint of the book's RNNModel (no rnn.weight_hh_l0, linear.weight)"), "\($0)")
        }
        XCTAssertThrowsError(try Self.convert(vocab: vocab, in: dir) { $0.labels = ["a"] }) {
            XCTAssertTrue("\($0)".contains("--labels applies to the classifiers"), "\($0)")
        }
        XCTAssertThrowsError(try CheckpointConverter.convert(inputPath: toolkitFixture("export/lenet.params"), outputPath: dir + "/m.onnx",
                                                             options: ConversionOptions(arch: "lenet", vocab: vocab))) {
            XCTAssertTrue("\($0)".contains("--vocab applies to the language models"), "\($0)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), [], "no output after a failure")

        // Vocabulary files.
        try Data("[\"a\", \"b\"]".utf8).write(to: URL(fileURLWithPath: dir + "/bad.json"))
        XCTAssertThrowsError(try LanguageModelVocabulary.load(json: dir + "/bad.json")) {
            XCTAssertTrue("\($0)".contains("<unk>"), "\($0)")
        }
        try Data("{}".utf8).write(to: URL(fileURLWithPath: dir + "/object.json"))
        XCTAssertThrowsError(try LanguageModelVocabulary.load(json: dir + "/object.json")) {
            XCTAssertTrue("\($0)".contains("not a JSON array of strings"), "\($0)")
        }
        XCTAssertThrowsError(try LanguageModelVocabulary.load(json: dir + "/nowhere.json"))
        XCTAssertThrowsError(try LanguageModelVocabulary.rebuild(corpus: dir + "/nowhere.txt", token: .char))
    }

    func testInspectLanguageModelFiles() throws {
        let lines = try FileInspection.lines(path: Self.checkpoint)
        XCTAssertTrue(lines.contains { $0.hasPrefix("rnn.weight_hh_l0") && $0.contains("[192, 64]  float32") }, "\(lines)")
        let dir = try temporaryDirectory()
        let (_, path) = try Self.convert(vocab: try LanguageModelVocabulary.load(json: Self.vocabFile), in: dir)
        let model = try FileInspection.lines(path: path)
        XCTAssertTrue(model.contains("input  tokens: int64 [batch, steps]"), "\(model)")
        XCTAssertTrue(model.contains("metadata d2l.task = char-lm"), "\(model)")
    }
}
