import Foundation
import D2LRuntime

// The recurrence of one direction of one layer of `RNN`, `GRU` and `LSTM`, as one autograd
// operation: the forward runs every step (one GEMM by the hidden weights per step, then the
// cell's gate equations, vectorized) and keeps what the backward needs; the backward is
// back-propagation through time over the whole sequence, with the hidden-weight gradient
// as one GEMM over all steps at the end. The input projections of all steps (X · W_ihᵀ +
// b_ih) are computed before, by one `Tensor.linear`, so autograd handles W_ih and X.
//
// Gate layout and equations are PyTorch's (`torch.nn.RNN`/`GRU`/`LSTM`):
//   RNN:  h' = act(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh)                   (act = tanh or relu)
//   GRU:  gates r, z, n;  r = σ(x_r + h_r), z = σ(x_z + h_z),
//         n = tanh(x_n + r ⊙ (W_hn h + b_hn)),  h' = (1 − z) ⊙ n + z ⊙ h
//   LSTM: gates i, f, g, o; c' = σ(f) ⊙ c + σ(i) ⊙ tanh(g),  h' = σ(o) ⊙ tanh(c')
// where x_* includes b_i* and h_* includes b_h*.
//
// A second copy of the cell equations beside the runtime's (`D2LRuntime/Kernels/
// RecurrentKernels.swift`), for now: this forward keeps every step's activated gates, cell
// states and GRU's W_hn·h for back-propagation through time, in PyTorch's gate order
// (i, f, g, o; r, z, n), while the runtime's kernel follows ONNX's order (i, o, f, c; z, r, h),
// writes no intermediates and supports ONNX's clip and activation attributes. Both share
// the GEMM and the vector tanh/sigmoid; the exported models are checked against this
// forward (`RecurrentLayerTests`, the LM fixtures). Unifying the step kernels (gate order
// converted once at export) is an open item of the architecture work.

/// The cell of a recurrent layer.
public enum RecurrentCellKind: String, Sendable, CaseIterable {
    /// Elman RNN with tanh (`nn.RNN(nonlinearity='tanh')`).
    case rnnTanh
    /// Elman RNN with ReLU (`nn.RNN(nonlinearity='relu')`).
    case rnnReLU
    /// Gated recurrent unit (`nn.GRU`).
    case gru
    /// Long short-term memory (`nn.LSTM`).
    case lstm

    /// Gates per cell: the row blocks of `weight_ih`/`weight_hh` (1, 3 or 4).
    public var gateCount: Int {
        switch self {
        case .rnnTanh, .rnnReLU: return 1
        case .gru: return 3
        case .lstm: return 4
        }
    }

    /// The PyTorch class name (`RNN`, `GRU`, `LSTM`).
    public var torchName: String {
        switch self {
        case .rnnTanh, .rnnReLU: return "RNN"
        case .gru: return "GRU"
        case .lstm: return "LSTM"
        }
    }
}

// MARK: - Vectorized activations

/// tanh(p[j]) in place for j < n, through the runtime's vectorised tanh (the active
/// kernel variant's; within ≈ 2·10⁻⁷ of libm).
@inline(__always)
func recurrentTanhInPlace(_ p: UnsafeMutablePointer<Float>, _ n: Int) {
    tanhVector(p, p, n)
}

/// σ(p[j]) in place for j < n.
@inline(__always)
func recurrentSigmoidInPlace(_ p: UnsafeMutablePointer<Float>, _ n: Int) {
    sigmoidVector(p, p, n)
}

/// A heap buffer of floats owned by the backward closure of one recurrence.
final class RecurrentBuffer {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int
    init(_ count: Int) {
        self.count = count
        pointer = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(count, 1))
    }
    convenience init(zeros count: Int) {
        self.init(count)
        pointer.initialize(repeating: 0, count: count)
    }
    convenience init(copying tensor: Tensor) {
        self.init(tensor.count)
        tensor.withUnsafeValues { v in
            if let base = v.baseAddress { pointer.update(from: base, count: tensor.count) }
        }
    }
    deinit { pointer.deallocate() }
}

// MARK: - The recurrence as one operation

extension Tensor {
    /// Runs one direction of one recurrent layer over a sequence.
    ///
    /// - `projection`: `[steps·batch, G·H]`, the inputs' projections X·W_ihᵀ + b_ih, rows in
    ///   time-major order (row t·batch + b).
    /// - `hiddenWeight` `[G·H, H]`, `hiddenBias` `[G·H]`, `h0` `[batch, H]`, `c0` `[batch, H]`
    ///   (LSTM only; required there).
    /// - `reverse`: run from the last step to the first (the reverse direction of a
    ///   bidirectional layer); outputs stay in time order.
    ///
    /// Returns `[steps, batch, H]`, the hidden state after each time step in time order
    /// (so the final state is row steps−1, or row 0 when `reverse`); for LSTM
    /// `[steps + 1, batch, H]`, whose extra last row is the final cell state.
    static func recurrentSequence(_ kind: RecurrentCellKind, projection: Tensor, hiddenWeight: Tensor,
                                  hiddenBias: Tensor, h0: Tensor, c0: Tensor?,
                                  steps: Int, batch: Int, reverse: Bool) -> Tensor {
        let H = hiddenWeight.shape[1], G = kind.gateCount, GH = G * H, BH = batch * H
        let T = steps
        precondition(projection.shape == [T * batch, GH] && hiddenWeight.shape == [GH, H]
                     && hiddenBias.shape == [GH] && h0.shape == [batch, H]
                     && (kind != .lstm || c0?.shape == [batch, H]),
                     "recurrentSequence: inconsistent shapes")
        let isLSTM = kind == .lstm, isGRU = kind == .gru

        // Saved for the backward.
        let ys = RecurrentBuffer(T * BH)                         // h_t, time order
        let acts = RecurrentBuffer(isLSTM || isGRU ? T * batch * GH : 0)  // activated gates
        let cs = RecurrentBuffer(isLSTM ? T * BH : 0)            // c_t
        let tanhCs = RecurrentBuffer(isLSTM ? T * BH : 0)        // tanh(c_t)
        let hiddenN = RecurrentBuffer(isGRU ? T * BH : 0)        // W_hn h + b_hn
        let h0Buffer = RecurrentBuffer(copying: h0)
        let c0Buffer = isLSTM ? RecurrentBuffer(copying: c0!) : RecurrentBuffer(0)
        let bias = RecurrentBuffer(copying: hiddenBias)
        let hh = RecurrentBuffer(batch * GH)                     // one step's h·W_hhᵀ

        projection.withUnsafeValues { projectionValues in
            hiddenWeight.withUnsafeValues { weightValues in
                let P = projectionValues.baseAddress!, W = weightValues.baseAddress!
                let b = bias.pointer, hhp = hh.pointer
                for s in 0..<T {
                    let t = reverse ? T - 1 - s : s
                    let tPrev = reverse ? t + 1 : t - 1
                    let hPrev = s == 0 ? UnsafePointer(h0Buffer.pointer) : UnsafePointer(ys.pointer + tPrev * BH)
                    gemmInto(transA: false, transB: true, m: batch, n: GH, k: H, hPrev, W, hhp)
                    let y = ys.pointer + t * BH
                    switch kind {
                    case .rnnTanh, .rnnReLU:
                        for n in 0..<batch {
                            let p = P + (t * batch + n) * GH, q = hhp + n * GH, out = y + n * H
                            for j in 0..<H { out[j] = p[j] + q[j] + b[j] }
                        }
                        if kind == .rnnTanh {
                            recurrentTanhInPlace(y, BH)
                        } else {
                            for j in 0..<BH where !(y[j] > 0) { y[j] = y[j].isNaN ? y[j] : 0 }
                        }
                    case .lstm:
                        let cPrev = s == 0 ? UnsafePointer(c0Buffer.pointer) : UnsafePointer(cs.pointer + tPrev * BH)
                        for n in 0..<batch {
                            let p = P + (t * batch + n) * GH, q = hhp + n * GH
                            let a = acts.pointer + (t * batch + n) * GH
                            for j in 0..<GH { a[j] = p[j] + q[j] + b[j] }
                            recurrentSigmoidInPlace(a, 2 * H)           // i, f
                            recurrentTanhInPlace(a + 2 * H, H)          // g
                            recurrentSigmoidInPlace(a + 3 * H, H)       // o
                            let c = cs.pointer + t * BH + n * H, tc = tanhCs.pointer + t * BH + n * H
                            let cp = cPrev + n * H
                            for j in 0..<H { c[j] = a[H + j] * cp[j] + a[j] * a[2 * H + j] }
                            tc.update(from: c, count: H)
                            recurrentTanhInPlace(tc, H)
                            let out = y + n * H
                            for j in 0..<H { out[j] = a[3 * H + j] * tc[j] }
                        }
                    case .gru:
                        for n in 0..<batch {
                            let p = P + (t * batch + n) * GH, q = hhp + n * GH
                            let a = acts.pointer + (t * batch + n) * GH
                            let hn = hiddenN.pointer + t * BH + n * H
                            for j in 0..<(2 * H) { a[j] = p[j] + q[j] + b[j] }
                            recurrentSigmoidInPlace(a, 2 * H)           // r, z
                            for j in 0..<H {
                                let v = q[2 * H + j] + b[2 * H + j]
                                hn[j] = v
                                a[2 * H + j] = p[2 * H + j] + a[j] * v
                            }
                            recurrentTanhInPlace(a + 2 * H, H)          // n
                            let hp = hPrev + n * H, out = y + n * H
                            for j in 0..<H {
                                let z = a[H + j]
                                out[j] = (1 - z) * a[2 * H + j] + z * hp[j]
                            }
                        }
                    }
                }
            }
        }

        let outSteps = isLSTM ? T + 1 : T
        let value = Tensor.make(shape: [outSteps, batch, H]) { out in
            out.update(from: ys.pointer, count: T * BH)
            if isLSTM {
                let last = reverse ? 0 : T - 1
                (out + T * BH).update(from: cs.pointer + last * BH, count: BH)
            }
        }
        var inputs = [projection, hiddenWeight, hiddenBias, h0]
        if isLSTM { inputs.append(c0!) }
        let needWeight = hiddenWeight.node != nil, needBias = hiddenBias.node != nil
        let weight = hiddenWeight.detached()

        return record(kind.torchName.lowercased() + "Sequence", value, inputs: inputs) { g in
            // dG: gradient of the pre-activation gates of each step, laid out like the
            // projection ([T·batch, G·H]); for GRU, dHidden is the gradient of h·W_hhᵀ + b_hh
            // (its n block is scaled by r), dG the gradient of the projection.
            let dG = RecurrentBuffer(T * batch * GH)
            let dHidden = isGRU ? RecurrentBuffer(T * batch * GH) : dG
            let dhNext = RecurrentBuffer(zeros: BH)
            let dcNext = RecurrentBuffer(zeros: isLSTM ? BH : 0)
            let dh = RecurrentBuffer(BH)
            g.withUnsafeValues { gv in
                let gY = gv.baseAddress!
                if isLSTM { dcNext.pointer.update(from: gY + T * BH, count: BH) }
                weight.withUnsafeValues { wv in
                    let W = wv.baseAddress!
                    for s in stride(from: T - 1, through: 0, by: -1) {
                        let t = reverse ? T - 1 - s : s
                        let tPrev = reverse ? t + 1 : t - 1
                        let hPrev = s == 0 ? UnsafePointer(h0Buffer.pointer) : UnsafePointer(ys.pointer + tPrev * BH)
                        let d = dh.pointer, y = ys.pointer + t * BH
                        for j in 0..<BH { d[j] = gY[t * BH + j] + dhNext.pointer[j] }
                        let dGt = dG.pointer + t * batch * GH
                        switch kind {
                        case .rnnTanh:
                            for j in 0..<BH { dGt[j] = d[j] * (1 - y[j] * y[j]) }
                        case .rnnReLU:
                            for j in 0..<BH { dGt[j] = y[j] > 0 ? d[j] : 0 }
                        case .lstm:
                            let cPrev = s == 0 ? UnsafePointer(c0Buffer.pointer) : UnsafePointer(cs.pointer + tPrev * BH)
                            for n in 0..<batch {
                                let a = acts.pointer + (t * batch + n) * GH, dg = dGt + n * GH
                                let tc = tanhCs.pointer + t * BH + n * H, cp = cPrev + n * H
                                let dhn = d + n * H, dc = dcNext.pointer + n * H
                                for j in 0..<H {
                                    let i = a[j], f = a[H + j], gg = a[2 * H + j], o = a[3 * H + j]
                                    let tcj = tc[j]
                                    let dcj = dc[j] + dhn[j] * o * (1 - tcj * tcj)
                                    dg[j] = dcj * gg * i * (1 - i)
                                    dg[H + j] = dcj * cp[j] * f * (1 - f)
                                    dg[2 * H + j] = dcj * i * (1 - gg * gg)
                                    dg[3 * H + j] = dhn[j] * tcj * o * (1 - o)
                                    dc[j] = dcj * f
                                }
                            }
                        case .gru:
                            let dHt = dHidden.pointer + t * batch * GH
                            for n in 0..<batch {
                                let a = acts.pointer + (t * batch + n) * GH, dg = dGt + n * GH, dhh = dHt + n * GH
                                let hn = hiddenN.pointer + t * BH + n * H, hp = hPrev + n * H
                                let dhn = d + n * H, direct = dhNext.pointer + n * H
                                for j in 0..<H {
                                    let r = a[j], z = a[H + j], nn = a[2 * H + j]
                                    let dnPre = dhn[j] * (1 - z) * (1 - nn * nn)
                                    let dzPre = dhn[j] * (hp[j] - nn) * z * (1 - z)
                                    let drPre = dnPre * hn[j] * r * (1 - r)
                                    dg[j] = drPre; dg[H + j] = dzPre; dg[2 * H + j] = dnPre
                                    dhh[j] = drPre; dhh[H + j] = dzPre; dhh[2 * H + j] = dnPre * r
                                    direct[j] = dhn[j] * z
                                }
                            }
                        }
                        // dh_{t-1} = dHidden_t · W_hh (+ the direct path of GRU, already in dhNext).
                        gemmInto(transA: false, transB: false, m: batch, n: H, k: GH,
                                 dHidden.pointer + t * batch * GH, W, dhNext.pointer, beta: isGRU ? 1 : 0)
                    }
                }
            }
            let dProjection = Tensor.make(shape: [T * batch, GH]) { $0.update(from: dG.pointer, count: T * batch * GH) }
            var dWeight: Tensor? = nil
            if needWeight {
                // Σ_t dHidden_tᵀ · h_{t-1}: the previous states of all steps as one matrix.
                let previous = RecurrentBuffer(T * BH)
                for t in 0..<T {
                    let tPrev = reverse ? t + 1 : t - 1
                    let source = (tPrev < 0 || tPrev >= T) ? UnsafePointer(h0Buffer.pointer) : UnsafePointer(ys.pointer + tPrev * BH)
                    (previous.pointer + t * BH).update(from: source, count: BH)
                }
                dWeight = Tensor.make(shape: [GH, H]) { out in
                    gemmInto(transA: true, transB: false, m: GH, n: H, k: T * batch,
                             dHidden.pointer, previous.pointer, out)
                }
            }
            var dBias: Tensor? = nil
            if needBias {
                dBias = Tensor.make(shape: [GH]) { out in
                    out.initialize(repeating: 0, count: GH)
                    for r in 0..<(T * batch) {
                        let row = dHidden.pointer + r * GH
                        for j in 0..<GH { out[j] += row[j] }
                    }
                }
            }
            let dh0 = Tensor.make(shape: [batch, H]) { $0.update(from: dhNext.pointer, count: BH) }
            var grads: [Tensor?] = [dProjection, dWeight, dBias, dh0]
            if isLSTM { grads.append(Tensor.make(shape: [batch, H]) { $0.update(from: dcNext.pointer, count: BH) }) }
            return grads
        }
    }
}
