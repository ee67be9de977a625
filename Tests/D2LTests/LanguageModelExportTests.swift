import Foundation
import XCTest
import D2LRuntime
@testable import D2L

/// `exportLanguageModel`: the exported RNNModel runs in libd2l's runtime (and onnxruntime)
/// with the toolkit's logits and states, and libd2l's text generation gives the toolkit's
/// `predict` text exactly.
final class LanguageModelExportTests: XCTestCase {
    static let vocab = try! Vocab(idxToToken: ["<unk>", " "] + (UInt8(ascii: "a")...UInt8(ascii: "z")).map {
        String(UnicodeScalar($0))
    })

    /// The variants of the issue: name, kind, layers, bidirectional.
    static let variants: [(name: String, kind: String, layers: Int, bidirectional: Bool)] = [
        ("rnn", "rnn", 1, false), ("rnn-relu", "rnn-relu", 1, false), ("gru", "gru", 1, false),
        ("lstm", "lstm", 1, false), ("lstm-2layer", "lstm", 2, false), ("gru-bidir", "gru", 1, true),
        ("gru-2layer-bidir", "gru", 2, true),
    ]

    /// A small random RNNModel over the 28-token vocabulary; the output layer is scaled up so
    /// that the logits are well apart (sampling and argmax are not decided by rounding).
    func makeModel(_ kind: String, layers: Int, bidirectional: Bool, hidden: Int = 8, seed: UInt64) -> RNNModel {
        Random.seed(seed)
        let V = Self.vocab.count
        let rnn: RecurrentLayer
        switch kind {
        case "rnn": rnn = RNN(inputSize: V, hiddenSize: hidden, numLayers: layers, bidirectional: bidirectional)
        case "rnn-relu": rnn = RNN(inputSize: V, hiddenSize: hidden, numLayers: layers, bidirectional: bidirectional,
                                   nonlinearity: .relu)
        case "gru": rnn = GRU(inputSize: V, hiddenSize: hidden, numLayers: layers, bidirectional: bidirectional)
        default: rnn = LSTM(inputSize: V, hiddenSize: hidden, numLayers: layers, bidirectional: bidirectional)
        }
        let net = RNNModel(rnn, vocabSize: V)
        for (_, p) in rnn.namedParameters() { p.assign(p.value * 3) }
        net.linear.weight.assign(net.linear.weight.value * 8)
        return net
    }

    /// Runs the exported model in a libd2l session: tokens [batch][steps], then the states.
    func runRuntime(_ session: Session, tokens: [[Int]], states: [Tensor]) throws -> [Tensor] {
        let ids = tokens.flatMap { $0.map(Int64.init) }
        try ids.withUnsafeBytes { try session.setInput(0, dtype: .int64, data: $0.baseAddress!, shape: [tokens.count, tokens[0].count]) }
        for (k, s) in states.enumerated() {
            try s.withUnsafeValues { try session.setInput(k + 1, dtype: .float32, data: UnsafeRawPointer($0.baseAddress!), shape: s.shape) }
        }
        try session.run()
        return (0...states.count).map { k in
            let out = session.output(k)!
            return Tensor(Array(UnsafeBufferPointer(start: out.floats, count: out.type.count)), shape: out.type.shape)
        }
    }

    func randomState(_ net: RNNModel, batch: Int) -> RecurrentState {
        let shape = net.rnn.stateShape(batchSize: batch)
        return RecurrentState(h: Tensor.randn(shape), c: net.rnn.kind == .lstm ? Tensor.randn(shape) : nil)
    }

    func testExportRunsInLibd2lWithTheToolkitsOutputs() throws {
        for (index, v) in Self.variants.enumerated() {
            let net = makeModel(v.kind, layers: v.layers, bidirectional: v.bidirectional, seed: UInt64(100 + index))
            let bytes = try exportLanguageModel(net, vocab: Self.vocab)
            let model = try bytes.withUnsafeBytes { try D2LRuntime.Model(bytes: $0) }
            XCTAssertEqual(model.inputs.map(\.name), v.kind == "lstm" ? ["tokens", "h0", "c0"] : ["tokens", "h0"], v.name)
            XCTAssertEqual(model.outputs.map(\.name), v.kind == "lstm" ? ["logits", "hn", "cn"] : ["logits", "hn"], v.name)
            XCTAssertEqual(model.metadata("d2l.task"), "char-lm")
            XCTAssertEqual(model.metadata("d2l.vocab"), Self.vocab.json())
            XCTAssertNotNil(model.metadata("d2l.producer"))
            let session = Session(model: model)
            // Several shapes through one session (re-planned), from random states.
            for (batch, steps) in [(3, 5), (1, 1), (2, 7)] {
                Random.seed(UInt64(batch * 10 + steps))
                let tokens = (0..<batch).map { _ in (0..<steps).map { _ in Int(Random.generator.next() % 28) } }
                let state = randomState(net, batch: batch)
                let (logits, final) = try withNoGrad { try net(tokens, state) }
                let outs = try runRuntime(session, tokens: tokens, states: state.tensors)
                let what = "\(v.name) batch \(batch) steps \(steps)"
                assertClose(outs[0], logits, atol: 1e-5, rtol: 1e-5, "\(what) logits")
                assertClose(outs[1], final.h, atol: 1e-5, rtol: 1e-5, "\(what) hn")
                if let c = final.c { assertClose(outs[2], c, atol: 1e-5, rtol: 1e-5, "\(what) cn") }
            }
        }
    }

    func testLibd2lGenerationEqualsPredict() throws {
        for (index, v) in Self.variants.enumerated() {
            let net = makeModel(v.kind, layers: v.layers, bidirectional: v.bidirectional, seed: UInt64(200 + index))
            let bytes = try exportLanguageModel(net, vocab: Self.vocab)
            let session = Session(model: try bytes.withUnsafeBytes { try D2LRuntime.Model(bytes: $0) })
            for (temperature, topK, seed) in [(Float(0), 0, UInt64(0)), (0.8, 5, 42), (1.0, 0, 7)] {
                let ours = try net.predict(prefix: "time traveller", numTokens: 50, idxToToken: Self.vocab.idxToToken,
                                           temperature: temperature, topK: topK, seed: seed)
                let theirs = try session.generate(prefix: "time traveller", count: 50, temperature: temperature,
                                                  topK: topK, seed: seed)
                XCTAssertEqual(theirs, ours, "\(v.name) temperature \(temperature) top-k \(topK) seed \(seed)")
                XCTAssertTrue(ours.hasPrefix("time traveller"))
            }
        }
    }

    func testOnnxCheckerAndOnnxruntimeAgree() throws {
        guard (try? python(["-c", "import onnx, onnxruntime, numpy"]))?.status == 0 else {
            throw XCTSkip("python3 with onnx, onnxruntime and numpy is not available")
        }
        let dir = NSTemporaryDirectory() + "d2l-lm-export-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var cases: [String] = []
        for (index, v) in Self.variants.enumerated() {
            let net = makeModel(v.kind, layers: v.layers, bidirectional: v.bidirectional, seed: UInt64(300 + index))
            let path = "\(dir)/\(v.name).onnx"
            try exportLanguageModel(net, vocab: Self.vocab, path: path)
            Random.seed(UInt64(index))
            let tokens = (0..<3).map { _ in (0..<4).map { _ in Int(Random.generator.next() % 28) } }
            let state = randomState(net, batch: 3)
            let (logits, final) = try withNoGrad { try net(tokens, state) }
            func json(_ t: Tensor) -> String { "{\"shape\": \(t.shape), \"values\": \(t.scalars)}" }
            let inputs = [json(Tensor(tokens.flatMap { $0.map(Float.init) }, shape: [3, 4]))] + state.tensors.map(json)
            let outputs = [logits, final.h] + (final.c.map { [$0] } ?? [])
            let text = "{\"inputs\": [\(inputs.joined(separator: ","))], \"outputs\": [\(outputs.map(json).joined(separator: ","))]}"
            try text.write(toFile: "\(dir)/\(v.name).json", atomically: true, encoding: .utf8)
            cases.append("\(dir)/\(v.name)")
        }
        let script = """
        import json, sys
        import numpy as np, onnx, onnxruntime as ort
        for base in sys.argv[1:]:
            model = onnx.load(base + ".onnx")
            onnx.checker.check_model(model, full_check=True)
            meta = {p.key: p.value for p in model.metadata_props}
            assert meta["d2l.task"] == "char-lm" and json.loads(meta["d2l.vocab"])[0] == "<unk>", meta
            case = json.load(open(base + ".json"))
            arrays = [np.array(t["values"], dtype=np.float32).reshape(t["shape"]) for t in case["inputs"]]
            arrays[0] = arrays[0].astype(np.int64)
            sess = ort.InferenceSession(base + ".onnx", providers=["CPUExecutionProvider"])
            feeds = {i.name: a for i, a in zip(sess.get_inputs(), arrays)}
            got = sess.run(None, feeds)
            for g, t in zip(got, case["outputs"]):
                want = np.array(t["values"], dtype=np.float32).reshape(t["shape"])
                assert g.shape == want.shape, (base, g.shape, want.shape)
                diff = float(np.abs(g - want).max())
                assert diff < 1e-4, (base, diff)
        print("ok", len(sys.argv) - 1)
        """
        let result = try python(["-c", script] + cases)
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertTrue(result.output.contains("ok \(cases.count)"), result.output)
    }

    func testBadArguments() throws {
        let net = makeModel("gru", layers: 1, bidirectional: false, seed: 1)
        let small = try Vocab(idxToToken: ["<unk>", "a", "b"])
        XCTAssertThrowsError(try exportLanguageModel(net, vocab: small)) { error in
            XCTAssertEqual((error as? ToolkitError)?.kind, .invalidArgument)
            XCTAssertTrue("\(error)".contains("3 tokens") && "\(error)".contains("28"), "\(error)")
        }
        XCTAssertThrowsError(try exportLanguageModel(net, vocab: Self.vocab, task: "classification")) { error in
            XCTAssertTrue("\(error)".contains("char-lm or word-lm"), "\(error)")
        }
        XCTAssertThrowsError(try exportLanguageModel(net, vocab: Self.vocab, opset: 9))
        // word-lm is accepted and recorded.
        let bytes = try exportLanguageModel(net, vocab: Self.vocab, task: "word-lm")
        let model = try bytes.withUnsafeBytes { try D2LRuntime.Model(bytes: $0) }
        XCTAssertEqual(model.metadata("d2l.task"), "word-lm")
    }

    /// Runs `python3 arguments` and returns its exit status and combined output.
    private func python(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [ProcessInfo.processInfo.environment["D2L_PYTHON"] ?? "python3"] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
