import D2LRuntime
import Foundation
import XCTest
@testable import D2L

/// d2l-export's language models: the char-level GRU of Tests/Fixtures/toolkit/export
/// (tools/make-export-fixtures: the book's RNNModel(nn.GRU(28, 64), 28) trained in PyTorch
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
        XCTAssertEqual(result.model.metadata("d2l.producer"), "d2l-export 0.1 from torch state_dict")
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
