import Foundation
import XCTest
import D2LRuntime
@testable import D2L

/// The book's RNNModel (ch. 9) and RNNModelScratch (ch. 8.5) against PyTorch, predict_ch8,
/// and docs/FORMAT.md's sampling rule.
final class RecurrentModelTests: XCTestCase {
    static let vocab = ["<unk>", " "] + (UInt8(ascii: "a")...UInt8(ascii: "z")).map { String(UnicodeScalar($0)) }

    func tokenRows(_ f: SafeTensorsFile, _ name: String) throws -> [[Int]] {
        let t = try XCTUnwrap(f[name])
        let ids = try f.ints(name)
        return (0..<t.shape[0]).map { Array(ids[($0 * t.shape[1])..<(($0 + 1) * t.shape[1])]) }
    }

    /// targets.T.reshape(-1): time-major, like the logits.
    func timeMajor(_ rows: [[Int]]) -> [Int] {
        (0..<rows[0].count).flatMap { t in rows.map { $0[t] } }
    }

    func testGRULanguageModelMatchesPyTorch() throws {
        let f = try loadFixture("recurrent/gru-lm.safetensors")
        let net = RNNModel(GRU(inputSize: 28, hiddenSize: 32), vocabSize: 28)
        XCTAssertEqual(net.stateDict().map(\.name), [
            "rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0", "rnn.bias_hh_l0", "linear.weight", "linear.bias",
        ])
        try net.loadStateDict(try f.state())
        let tokens = try tokenRows(f, "tokens"), targets = try tokenRows(f, "targets")
        let (logits, state) = try net(tokens, net.beginState(batchSize: 2))
        assertClose(logits, try f.tensor("logits"), "logits")
        assertClose(state.h, try f.tensor("hn"), "hn")
        let loss = try crossEntropy(logits, timeMajor(targets))
        assertClose(loss, try f.tensor("loss"), "loss")
        loss.backward()
        for (key, p) in net.namedParameters() {
            assertClose(try XCTUnwrap(p.grad, key), try f.tensor("grad.\(key)"), "grad.\(key)")
        }
        // Token ids as a [batch, steps] tensor give the same logits (Module.forward).
        let asTensor = Tensor(tokens.flatMap { $0.map(Float.init) }, shape: [2, 5])
        XCTAssertEqual(try net(asTensor).scalars, logits.scalars)
    }

    func testScratchRNNMatchesPyTorch() throws {
        let f = try loadFixture("recurrent/rnn-scratch-lm.safetensors")
        let net = RNNModelScratch(vocabSize: 28, hiddenSize: 16)
        XCTAssertEqual(net.stateDict().map(\.name), ["W_xh", "W_hh", "b_h", "W_hq", "b_q"])
        try net.loadStateDict(try f.state())
        let tokens = try tokenRows(f, "tokens"), targets = try tokenRows(f, "targets")
        let (logits, state) = try net(tokens, nil)
        assertClose(logits, try f.tensor("logits"), "logits")
        assertClose(state.h, try f.tensor("hn"), "hn")
        let loss = try crossEntropy(logits, timeMajor(targets))
        assertClose(loss, try f.tensor("loss"), "loss")
        loss.backward()
        for (key, p) in net.namedParameters() {
            assertClose(try XCTUnwrap(p.grad, key), try f.tensor("grad.\(key)"), "grad.\(key)")
        }
    }

    func testScratchRNNInitIsTheBooks() {
        let net = RNNModelScratch(vocabSize: 28, hiddenSize: 64)
        XCTAssertEqual(net.namedParameters().map(\.parameter.shape), [[28, 64], [64, 64], [64], [64, 28], [28]])
        XCTAssertTrue(net.bH.value.scalars.allSatisfy { $0 == 0 })
        XCTAssertLessThan(net.wXH.value.scalars.map { Swift.abs($0) }.max()!, 0.06)
    }

    func testPredictMatchesTheBook() throws {
        let f = try loadFixture("recurrent/gru-lm.safetensors")
        let net = RNNModel(GRU(inputSize: 28, hiddenSize: 32), vocabSize: 28)
        try net.loadStateDict(try f.state())
        let vocab = Self.vocab
        let greedy = try f.ints("predict_greedy")
        XCTAssertEqual(try net.predict(prefix: "time traveller", numTokens: 20, idxToToken: vocab),
                       greedy.map { vocab[$0] }.joined())
        let sampled = try f.ints("predict_sample")
        XCTAssertEqual(try net.predict(prefix: "time traveller", numTokens: 20, idxToToken: vocab,
                                       temperature: 0.8, topK: 5, seed: 42),
                       sampled.map { vocab[$0] }.joined())
        // Closures instead of a token list; unknown characters become <unk> (index 0).
        let index = Dictionary(uniqueKeysWithValues: vocab.enumerated().map { ($1, $0) })
        let text = try net.predict(prefix: "T!", numTokens: 3, tokenToIndex: { index[$0] ?? 0 },
                                   indexToToken: { vocab[$0] })
        XCTAssertTrue(text.hasPrefix("<unk><unk>"), text)
        XCTAssertThrowsError(try net.predict(prefix: "", numTokens: 3, idxToToken: vocab))
        XCTAssertThrowsError(try net.predict(prefix: "a", numTokens: 3, idxToToken: vocab, temperature: -1))
        XCTAssertThrowsError(try net.predict(prefix: "a", numTokens: 3, idxToToken: vocab, temperature: 1, topK: 29))
        XCTAssertThrowsError(try net.predict(prefix: "a", numTokens: 3, idxToToken: Array(vocab.dropLast())))
    }

    func testPredictWorksForEveryModelKind() throws {
        Random.seed(3)
        let models: [RecurrentLanguageModel] = [
            RNNModel(RNN(inputSize: 28, hiddenSize: 8), vocabSize: 28),
            RNNModel(LSTM(inputSize: 28, hiddenSize: 8, numLayers: 2), vocabSize: 28),
            RNNModel(GRU(inputSize: 28, hiddenSize: 8, bidirectional: true), vocabSize: 28),
            RNNModelScratch(vocabSize: 28, hiddenSize: 8),
        ]
        for net in models {
            let a = try net.predict(prefix: "time", numTokens: 10, idxToToken: Self.vocab, temperature: 1, seed: 7)
            let b = try net.predict(prefix: "time", numTokens: 10, idxToToken: Self.vocab, temperature: 1, seed: 7)
            XCTAssertEqual(a, b)
            XCTAssertTrue(a.hasPrefix("time"))
            var sampler = try TokenSampler(vocabSize: 28)
            XCTAssertEqual(try net.predict(prefixIDs: [1], numTokens: 5, sampler: &sampler).count, 6)
        }
    }

    func testSeededGeneratorIsTheRuntimesSplitMix64() {
        for seed: UInt64 in [0, 1, 42, 0xDEAD_BEEF_CAFE_F00D] {
            var a = SeededGenerator(seed: seed), b = SplitMix64(seed: seed)
            for _ in 0..<100 { XCTAssertEqual(a.next(), b.next()) }
        }
        // The reference value of SplitMix64 from seed 0 (Vigna's splitmix64.c).
        var g = SplitMix64(seed: 0)
        XCTAssertEqual(g.next(), 0xE220_A839_7B1D_CDAF)
    }

    func testSamplingRule() throws {
        // Greedy: ties go to the lowest index.
        var greedy = try TokenSampler(vocabSize: 4)
        XCTAssertEqual(greedy.pick([0, 3, 3, 1]), 1)
        // The rule by hand: softmax over top-2 of logits/temperature, one draw.
        let logits: [Float] = [1.0, 2.5, 0.5, 2.0]
        var sampler = try TokenSampler(temperature: 0.5, topK: 2, seed: 9, vocabSize: 4)
        var draws = SplitMix64(seed: 9)
        for _ in 0..<50 {
            let u = Double(draws.next() >> 11) * 0x1p-53
            let e1 = exp(2.5 / 0.5 - 2.5 / 0.5), e3 = exp(2.0 / 0.5 - 2.5 / 0.5)   // kept: 1 and 3
            let expected = e1 / (e1 + e3) > u ? 1 : 3
            XCTAssertEqual(sampler.pick(logits), expected)
        }
    }

    func testModelShapeErrors() throws {
        let net = RNNModel(LSTM(inputSize: 28, hiddenSize: 8), vocabSize: 28)
        XCTAssertThrowsError(try net([[1, 2], [3]], nil))
        XCTAssertThrowsError(try net([[1, 28]], nil)) { XCTAssertEqual(($0 as? ToolkitError)?.kind, .invalidArgument) }
        XCTAssertThrowsError(try net([[1, 2]], RecurrentState(h: Tensor.zeros([1, 2, 8]), c: Tensor.zeros([1, 2, 8])))) {
            XCTAssertEqual(($0 as? ToolkitError)?.kind, .shape)
        }
        XCTAssertThrowsError(try net(Tensor.zeros([2]))) { XCTAssertEqual(($0 as? ToolkitError)?.kind, .shape) }
        let state = net.beginState(batchSize: 3)
        XCTAssertEqual(state.h.shape, [1, 3, 8])
        XCTAssertEqual(state.c?.shape, [1, 3, 8])
        let (logits, next) = try net([[1, 2], [3, 4], [5, 6]], state)
        XCTAssertEqual(logits.shape, [6, 28])
        XCTAssertEqual(next.h.shape, [1, 3, 8])
        let bi = RNNModel(GRU(inputSize: 28, hiddenSize: 8, numLayers: 2, bidirectional: true), vocabSize: 28)
        XCTAssertEqual(bi.linear.weight.shape, [28, 16])
        XCTAssertEqual(bi.beginState(batchSize: 2).h.shape, [4, 2, 8])
        XCTAssertNil(bi.beginState(batchSize: 2).c)
    }

    /// The speed case of the issue: a 2-layer LSTM LM (hidden 256, batch 32, 35 steps,
    /// vocab 28), forward + backward. Prints the time; asserts nothing about it (tests
    /// never assert timings). Runs only with D2L_RECURRENT_BENCH=1, e.g.
    ///   D2L_RECURRENT_BENCH=1 D2L_TARGET_CPU=native swift test -c release --filter testLSTMSpeed
    func testLSTMSpeed() throws {
        guard ProcessInfo.processInfo.environment["D2L_RECURRENT_BENCH"] == "1" else {
            throw XCTSkip("set D2L_RECURRENT_BENCH=1 to time the 2-layer LSTM")
        }
        Random.seed(1)
        MemoryTuning.keepFreedMemory()   // as the trainer does
        let threads = Int(ProcessInfo.processInfo.environment["D2L_RECURRENT_BENCH_THREADS"] ?? "") ?? 1
        let previousThreads = ComputeThreads.count
        ComputeThreads.set(threads)
        defer { ComputeThreads.set(previousThreads) }
        let net = RNNModel(LSTM(inputSize: 28, hiddenSize: 256, numLayers: 2), vocabSize: 28)
        var generator = SeededGenerator(seed: 5)
        let tokens = (0..<32).map { _ in (0..<35).map { _ in Int(generator.next() % 28) } }
        let targets = timeMajor((0..<32).map { _ in (0..<35).map { _ in Int(generator.next() % 28) } })
        var times: [Double] = [], forwardTimes: [Double] = [], cpuTimes: [Double] = []
        func cpuNow() -> Double {
            var ts = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
            return Double(ts.tv_sec) * 1e3 + Double(ts.tv_nsec) / 1e6
        }
        for _ in 0..<12 {
            let cpuStart = cpuNow()
            net.zeroGrad()
            let start = DispatchTime.now().uptimeNanoseconds
            let (logits, _) = try net(tokens, nil)
            let loss = try crossEntropy(logits, targets)
            let middle = DispatchTime.now().uptimeNanoseconds
            loss.backward()
            let end = DispatchTime.now().uptimeNanoseconds
            times.append(Double(end - start) / 1e6)
            cpuTimes.append(cpuNow() - cpuStart)
            forwardTimes.append(Double(middle - start) / 1e6)
        }
        let sorted = times.dropFirst(2).sorted(), forward = forwardTimes.dropFirst(2).sorted()
        print(String(format: "2-layer LSTM (H 256, batch 32, 35 steps, vocab 28) forward+backward: median %.1f ms, min %.1f ms (forward: median %.1f ms; this thread's CPU time: min %.1f ms), threads %d",
                     sorted[sorted.count / 2], sorted[0], forward[forward.count / 2], cpuTimes.dropFirst(2).min()!, ComputeThreads.count))
    }
}
