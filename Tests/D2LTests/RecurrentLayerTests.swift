import XCTest
import D2LRuntime
@testable import D2L

/// RNN, GRU and LSTM against PyTorch (tools/fixtures/make-recurrent-toolkit-fixtures), finite
/// differences, and shape errors.
final class RecurrentLayerTests: XCTestCase {
    static let variants: [(name: String, layers: Int, bidirectional: Bool)] = [
        ("1layer", 1, false), ("2layer", 2, false), ("bidir", 1, true), ("2layer-bidir", 2, true),
    ]

    func makeLayer(_ kind: String, layers: Int, bidirectional: Bool, input: Int = 5, hidden: Int = 4) -> RecurrentLayer {
        switch kind {
        case "rnn": return RNN(inputSize: input, hiddenSize: hidden, numLayers: layers, bidirectional: bidirectional)
        case "gru": return GRU(inputSize: input, hiddenSize: hidden, numLayers: layers, bidirectional: bidirectional)
        default: return LSTM(inputSize: input, hiddenSize: hidden, numLayers: layers, bidirectional: bidirectional)
        }
    }

    func checkFixture(_ kind: String, _ variant: (name: String, layers: Int, bidirectional: Bool)) throws {
        let name = "\(kind)-\(variant.name)"
        let f = try loadFixture("recurrent/\(name).safetensors")
        let layer = makeLayer(kind, layers: variant.layers, bidirectional: variant.bidirectional)
        let state = try f.state()
        // Same keys as PyTorch's state_dict (safetensors sorts them; the order is checked
        // in testParameterNamesShapesAndInit).
        XCTAssertEqual(layer.stateDict().map(\.name).sorted(), state.map(\.name).sorted(), "\(name): state-dict keys")
        try layer.loadStateDict(state)
        let x = try f.tensor("input").requiringGrad()
        let h0 = try f.tensor("h0").requiringGrad()
        let isLSTM = kind == "lstm"
        let c0 = isLSTM ? try f.tensor("c0").requiringGrad() : nil
        let (y, final) = try layer(x, RecurrentState(h: h0, c: c0))
        assertClose(y, try f.tensor("output"), "\(name) output")
        assertClose(final.h, try f.tensor("hn"), "\(name) hn")
        let gradOutput = try f.tensor("grad_output"), gradHn = try f.tensor("grad_hn")
        var loss = (y * gradOutput).sum() + (final.h * gradHn).sum()
        if isLSTM {
            let cn = try XCTUnwrap(final.c)
            assertClose(cn, try f.tensor("cn"), "\(name) cn")
            let gradCn = try f.tensor("grad_cn")
            loss = loss + (cn * gradCn).sum()
        } else {
            XCTAssertNil(final.c)
        }
        loss.backward()
        for (key, parameter) in layer.namedParameters() {
            assertClose(try XCTUnwrap(parameter.grad, "\(name) grad.\(key)"), try f.tensor("grad.\(key)"), "\(name) grad.\(key)")
        }
        assertClose(try XCTUnwrap(x.grad), try f.tensor("grad_input"), "\(name) grad_input")
        assertClose(try XCTUnwrap(h0.grad), try f.tensor("grad_h0"), "\(name) grad_h0")
        if isLSTM { assertClose(try XCTUnwrap(c0?.grad), try f.tensor("grad_c0"), "\(name) grad_c0") }
    }

    func testRNNMatchesPyTorch() throws { for v in Self.variants { try checkFixture("rnn", v) } }
    func testGRUMatchesPyTorch() throws { for v in Self.variants { try checkFixture("gru", v) } }
    func testLSTMMatchesPyTorch() throws { for v in Self.variants { try checkFixture("lstm", v) } }

    func testParameterNamesShapesAndInit() {
        let lstm = LSTM(inputSize: 7, hiddenSize: 16, numLayers: 2, bidirectional: true)
        let entries = lstm.namedParameters()
        XCTAssertEqual(entries.map(\.name), [
            "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
            "weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse", "bias_hh_l0_reverse",
            "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1",
            "weight_ih_l1_reverse", "weight_hh_l1_reverse", "bias_ih_l1_reverse", "bias_hh_l1_reverse",
        ])
        XCTAssertEqual(entries[0].parameter.shape, [64, 7])
        XCTAssertEqual(entries[1].parameter.shape, [64, 16])
        XCTAssertEqual(entries[2].parameter.shape, [64])
        XCTAssertEqual(entries[8].parameter.shape, [64, 32])
        let bound: Float = 0.25
        for (_, p) in entries {
            XCTAssertTrue(p.value.scalars.allSatisfy { $0 >= -bound && $0 <= bound })
        }
        XCTAssertGreaterThan(entries[0].parameter.value.scalars.map { Swift.abs($0) }.max()!, 0.2)
        XCTAssertEqual(GRU(inputSize: 3, hiddenSize: 5).namedParameters().map(\.parameter.shape),
                       [[15, 3], [15, 5], [15], [15]])
        XCTAssertEqual(RNN(inputSize: 3, hiddenSize: 5).parameterCount, 5 * 3 + 5 * 5 + 10)
        XCTAssertEqual(lstm.summary, "LSTM(7, 16, num_layers=2, bidirectional=True)")
    }

    func testZeroStateEqualsExplicitZeros() throws {
        let gru = GRU(inputSize: 3, hiddenSize: 4, numLayers: 2)
        let x = Tensor.randn([4, 2, 3])
        let (a, sa) = try gru(x, nil)
        let (b, sb) = try gru(x, gru.beginState(batchSize: 2))
        XCTAssertEqual(a.scalars, b.scalars)
        XCTAssertEqual(sa.h.scalars, sb.h.scalars)
        XCTAssertEqual(try gru(x).scalars, a.scalars)
        // Running two halves with the state carried over equals one run.
        let (first, mid) = try gru(x[0..<2], nil)
        let (second, end) = try gru(x[2..<4], mid)
        assertClose(Tensor.concat([first, second], axis: 0), a, "carried state")
        assertClose(end.h, sa.h, "carried final state")
    }

    func testBidirectionalFinalStates() throws {
        // The reverse direction's final state is its output at step 0; the forward's at the last step.
        let lstm = LSTM(inputSize: 2, hiddenSize: 3, bidirectional: true)
        let (y, state) = try lstm(Tensor.randn([5, 2, 2]), nil)
        XCTAssertEqual(y.shape, [5, 2, 6])
        XCTAssertEqual(state.h.shape, [2, 2, 3])
        XCTAssertEqual(state.c?.shape, [2, 2, 3])
        XCTAssertEqual(y[.at(4), .all, .range(0..<3)].scalars, state.h[0].scalars)
        XCTAssertEqual(y[.at(0), .all, .range(3..<6)].scalars, state.h[1].scalars)
    }

    /// Per cell: weight_ih, weight_hh, bias_ih, bias_hh.
    func weights(_ layer: RecurrentLayer) -> [Tensor] {
        layer.cells.flatMap { [$0.weightIH.value.detached(), $0.weightHH.value.detached(),
                               $0.biasIH.value.detached(), $0.biasHH.value.detached()] }
    }

    func grouped(_ flat: ArraySlice<Tensor>) -> [[Tensor]] {
        stride(from: flat.startIndex, to: flat.endIndex, by: 4).map { Array(flat[$0..<($0 + 4)]) }
    }

    func testGRUGradientsMatchFiniteDifferences() {
        Random.seed(11)
        let gru = GRU(inputSize: 3, hiddenSize: 2, bidirectional: true)
        let x = Tensor.randn([3, 2, 3]), h0 = Tensor.randn([2, 2, 2]) * 0.5
        let probe = Tensor.randn([3, 2, 4]), probeH = Tensor.randn([2, 2, 2])
        assertGradientsMatchFiniteDifferences([x, h0] + weights(gru), eps: 1e-2, tolerance: 1e-2) { args in
            let (y, s) = try! gru.run(args[0], RecurrentState(h: args[1]), weights: self.grouped(args[2...]))
            return (y * probe).sum() + (s.h * probeH).sum()
        }
    }

    func testLSTMGradientsMatchFiniteDifferences() {
        Random.seed(12)
        let lstm = LSTM(inputSize: 3, hiddenSize: 2, numLayers: 2)
        let x = Tensor.randn([3, 2, 3]), h0 = Tensor.randn([2, 2, 2]) * 0.5, c0 = Tensor.randn([2, 2, 2]) * 0.5
        let probe = Tensor.randn([3, 2, 2]), probeC = Tensor.randn([2, 2, 2])
        assertGradientsMatchFiniteDifferences([x, h0, c0] + weights(lstm), eps: 1e-2, tolerance: 1e-2) { args in
            let (y, s) = try! lstm.run(args[0], RecurrentState(h: args[1], c: args[2]), weights: self.grouped(args[3...]))
            return (y * probe).sum() + (s.h * s.h).sum() + (s.c! * probeC).sum()
        }
    }

    func testBidirectionalLSTMGradientsMatchFiniteDifferences() {
        Random.seed(14)
        let lstm = LSTM(inputSize: 2, hiddenSize: 2, bidirectional: true)
        let x = Tensor.randn([3, 1, 2])
        let probe = Tensor.randn([3, 1, 4]), probeC = Tensor.randn([2, 1, 2])
        assertGradientsMatchFiniteDifferences([x] + weights(lstm), eps: 1e-2, tolerance: 1e-2) { args in
            let (y, s) = try! lstm.run(args[0], nil, weights: self.grouped(args[1...]))
            return (y * probe).sum() + (s.c! * probeC).sum()
        }
    }

    func testRNNGradientsMatchFiniteDifferences() {
        Random.seed(13)
        for nonlinearity in [RNN.Nonlinearity.tanh, .relu] {
            let rnn = RNN(inputSize: 2, hiddenSize: 3, numLayers: 2, nonlinearity: nonlinearity)
            let x = Tensor.randn([4, 2, 2]), h0 = Tensor.randn([2, 2, 3])
            assertGradientsMatchFiniteDifferences([x, h0] + weights(rnn), eps: 1e-3, tolerance: 1e-2) { args in
                let (y, s) = try! rnn.run(args[0], RecurrentState(h: args[1]), weights: self.grouped(args[2...]))
                return (y * y).sum() + s.h.sum()
            }
        }
    }

    func testShapeErrors() throws {
        let gru = GRU(inputSize: 5, hiddenSize: 4, numLayers: 2)
        XCTAssertThrowsError(try gru(Tensor.zeros([3, 2, 6]), nil)) { error in
            let e = error as? ToolkitError
            XCTAssertEqual(e?.kind, .shape)
            XCTAssertTrue(e?.message.contains("[3, 2, 6]") == true, e?.message ?? "")
            XCTAssertTrue(e?.message.contains("[steps, batch, 5]") == true, e?.message ?? "")
        }
        XCTAssertThrowsError(try gru(Tensor.zeros([3, 5]), nil)) { error in
            XCTAssertEqual((error as? ToolkitError)?.kind, .shape)
        }
        XCTAssertThrowsError(try gru(Tensor.zeros([3, 2, 5]), RecurrentState(h: Tensor.zeros([1, 2, 4])))) { error in
            let e = error as? ToolkitError
            XCTAssertEqual(e?.kind, .shape)
            XCTAssertTrue(e?.message.contains("[1, 2, 4]") == true && e?.message.contains("[2, 2, 4]") == true, e?.message ?? "")
        }
        XCTAssertThrowsError(try gru(Tensor.zeros([3, 2, 5]), RecurrentState(h: Tensor.zeros([2, 3, 4])))) { error in
            XCTAssertEqual((error as? ToolkitError)?.kind, .shape)
        }
        XCTAssertThrowsError(try gru(Tensor.zeros([3, 2, 5]), RecurrentState(h: Tensor.zeros([2, 2, 4]), c: Tensor.zeros([2, 2, 4]))))
        let lstm = LSTM(inputSize: 5, hiddenSize: 4)
        XCTAssertThrowsError(try lstm(Tensor.zeros([3, 2, 5]), RecurrentState(h: Tensor.zeros([1, 2, 4])))) { error in
            XCTAssertEqual((error as? ToolkitError)?.kind, .invalidArgument)
        }
        XCTAssertThrowsError(try lstm(Tensor.zeros([3, 2, 5]), RecurrentState(h: Tensor.zeros([1, 2, 4]), c: Tensor.zeros([1, 2, 3])))) { error in
            let e = error as? ToolkitError
            XCTAssertEqual(e?.kind, .shape)
            XCTAssertTrue(e?.message.contains("[1, 2, 3]") == true, e?.message ?? "")
        }
        XCTAssertThrowsError(try lstm(Tensor.zeros([0, 2, 5]), nil))
    }
}
