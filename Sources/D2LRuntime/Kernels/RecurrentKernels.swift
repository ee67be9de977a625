import _D2LSystem

/// Reference kernels of the recurrent operators (`RNN`, `GRU`, `LSTM`; see
/// Ops/Recurrent.swift for the tensor layouts). Per direction: one `gemm` projects the
/// inputs of every step at once (X · Wᵀ + Wb), then each step multiplies the previous
/// hidden state by Rᵀ (plus Rb) and applies the cell's gate equations. All memory is the
/// caller's scratch; nothing is allocated.
///
/// The toolkit's training forward (`D2L/NN/RecurrentCells.swift`) has its own copy of the
/// cell equations, in PyTorch's gate order, because it keeps every step's gates for
/// back-propagation through time; it shares this file's GEMM and vector tanh/sigmoid.

/// An activation function of a recurrent cell.
enum RecurrentActivation {
    case sigmoid, tanh, relu
}

/// Applies `f` to p[0..<n] in place, after bounding the values to [-clip, clip].
@inline(__always)
func applyRecurrentActivation(_ f: RecurrentActivation, _ p: UnsafeMutablePointer<Float>, _ n: Int, clip: Float?) {
    if let clip {
        for j in 0..<n {
            let v = p[j]
            p[j] = v < -clip ? -clip : (v > clip ? clip : v)
        }
    }
    switch f {
    case .sigmoid: sigmoidVector(p, p, n)
    case .tanh: tanhVector(p, p, n)
    case .relu: reluVector(p, p, n)
    }
}

/// Sizes and inputs a recurrent operator was planned for, and where its buffers lie in
/// the float scratch.
struct RecurrentShape {
    var seq = 0, batch = 0, inputSize = 0, hidden = 0
    var hasBias = false, hasSequenceLengths = false, hasInitialH = false, hasInitialC = false
    var hasPeepholes = false
    /// Scratch offsets (floats): X·Wᵀ + Wb for every step [seq·batch, G·H]; one step's
    /// gates [batch, G·H]; hidden state [batch, H]; cell state [batch, H]; GRU's r ⊙ H
    /// [batch, H].
    var projectionOffset = 0, gatesOffset = 0, hOffset = 0, cOffset = 0, resetOffset = 0
}

/// What `recurrentKernel` needs besides the tensors.
struct RecurrentCell {
    var kind: Recurrent.Kind
    var layout: Int
    var numDirections: Int
    /// One direction, run in reverse (`direction` = reverse).
    var reverseOnly: Bool
    var clip: Float?
    var linearBeforeReset: Bool
    var inputForget: Bool
    /// `kind.activationCount` per direction.
    var activations: [RecurrentActivation]
    var shape: RecurrentShape
}

/// Runs a planned RNN, GRU or LSTM. Optional inputs and outputs are nil when absent;
/// `sequenceLengths` values are clamped to [0, seq]. `scratch` holds at least the
/// operator's `scratchElements` floats.
func recurrentKernel(_ cell: RecurrentCell, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                     r: UnsafePointer<Float>, b: UnsafePointer<Float>?,
                     sequenceLengths: UnsafePointer<Int32>?, initialH: UnsafePointer<Float>?,
                     initialC: UnsafePointer<Float>?, p: UnsafePointer<Float>?,
                     y: UnsafeMutablePointer<Float>?, yH: UnsafeMutablePointer<Float>?,
                     yC: UnsafeMutablePointer<Float>?, scratch: UnsafeMutablePointer<Float>,
                     pool: ThreadPool?) {
    let s = cell.shape
    let seq = s.seq, batch = s.batch, hidden = s.hidden, inputSize = s.inputSize
    let gates = cell.kind.gates, width = gates * hidden
    let directions = cell.numDirections
    let layout0 = cell.layout == 0
    let projection = scratch + s.projectionOffset
    let gateBuffer = scratch + s.gatesOffset
    let h = scratch + s.hOffset, c = scratch + s.cOffset, resetH = scratch + s.resetOffset

    /// Row of X (and of the projection) for step t of batch entry n.
    @inline(__always) func row(_ t: Int, _ n: Int) -> Int { layout0 ? t * batch + n : n * seq + t }
    /// Offset of a state vector (initial_h, Y_h, ...) of direction d, batch entry n.
    @inline(__always) func stateOffset(_ d: Int, _ n: Int) -> Int {
        layout0 ? (d * batch + n) * hidden : (n * directions + d) * hidden
    }
    /// Offset of Y's vector at step t, direction d, batch entry n.
    @inline(__always) func yOffset(_ t: Int, _ d: Int, _ n: Int) -> Int {
        layout0 ? ((t * directions + d) * batch + n) * hidden : ((n * seq + t) * directions + d) * hidden
    }
    @inline(__always) func length(_ n: Int) -> Int {
        guard let sequenceLengths else { return seq }
        let v = Int(sequenceLengths[n])
        return v < 0 ? 0 : (v > seq ? seq : v)
    }

    for d in 0..<directions {
        let reverse = cell.reverseOnly || d == 1
        let wd = w + d * width * inputSize, rd = r + d * width * hidden
        let wb: UnsafePointer<Float>? = b.map { $0 + d * 2 * width }
        let rb: UnsafePointer<Float>? = b.map { $0 + d * 2 * width + width }
        let pd: UnsafePointer<Float>? = p.map { $0 + d * 3 * hidden }
        // This direction's f, g, h (planning guarantees `activationCount` per direction).
        let first = d * cell.kind.activationCount, acts = cell.activations
        let f = first < acts.count ? acts[first] : .tanh
        let g = first + 1 < acts.count ? acts[first + 1] : f
        let hAct = first + 2 < acts.count ? acts[first + 2] : g

        // Input projections of every step: X · Wᵀ (+ Wb), rows in X's order.
        gemm(transA: false, transB: true, m: seq * batch, n: width, k: inputSize, alpha: 1,
             a: x, lda: inputSize, b: wd, ldb: inputSize, beta: 0, c: projection, ldc: width, pool: pool)
        if let wb {
            for i in 0..<(seq * batch) {
                let out = projection + i * width
                addVector(out, wb, out, width)
            }
        }

        // Initial states.
        for n in 0..<batch {
            if let initialH { memcpy(h + n * hidden, initialH + stateOffset(d, n), hidden * 4) }
            else { memset(h + n * hidden, 0, hidden * 4) }
            if cell.kind == .lstm {
                if let initialC { memcpy(c + n * hidden, initialC + stateOffset(d, n), hidden * 4) }
                else { memset(c + n * hidden, 0, hidden * 4) }
            }
        }

        for step in 0..<seq {
            let t = reverse ? seq - 1 - step : step
            // Recurrent products H · Rᵀ (+ Rb). GRU without linear_before_reset takes the
            // h gate's product later, from r ⊙ H.
            let gruResetFirst = cell.kind == .gru && !cell.linearBeforeReset
            let recurrentWidth = gruResetFirst ? 2 * hidden : width
            gemm(transA: false, transB: true, m: batch, n: recurrentWidth, k: hidden, alpha: 1,
                 a: h, lda: hidden, b: rd, ldb: hidden, beta: 0, c: gateBuffer, ldc: width, pool: nil)
            if let rb {
                for n in 0..<batch {
                    let out = gateBuffer + n * width
                    addVector(out, rb, out, recurrentWidth)
                }
            }

            switch cell.kind {
            case .rnn:
                for n in 0..<batch where t < length(n) {
                    let gt = gateBuffer + n * width, xt = projection + row(t, n) * width
                    for j in 0..<hidden { gt[j] += xt[j] }
                    applyRecurrentActivation(f, gt, hidden, clip: cell.clip)
                    memcpy(h + n * hidden, gt, hidden * 4)
                }

            case .gru:
                // z and r.
                for n in 0..<batch where t < length(n) {
                    let gt = gateBuffer + n * width, xt = projection + row(t, n) * width
                    for j in 0..<(2 * hidden) { gt[j] += xt[j] }
                    applyRecurrentActivation(f, gt, 2 * hidden, clip: cell.clip)
                }
                if gruResetFirst {
                    // (r ⊙ H) · Rhᵀ + Rbh.
                    for n in 0..<batch {
                        let gt = gateBuffer + n * width, hn = h + n * hidden, out = resetH + n * hidden
                        for j in 0..<hidden { out[j] = gt[hidden + j] * hn[j] }
                    }
                    gemm(transA: false, transB: true, m: batch, n: hidden, k: hidden, alpha: 1,
                         a: resetH, lda: hidden, b: rd + 2 * hidden * hidden, ldb: hidden, beta: 0,
                         c: gateBuffer + 2 * hidden, ldc: width, pool: nil)
                    if let rb {
                        for n in 0..<batch {
                            let out = gateBuffer + n * width + 2 * hidden
                            for j in 0..<hidden { out[j] += rb[2 * hidden + j] }
                        }
                    }
                }
                for n in 0..<batch where t < length(n) {
                    let gt = gateBuffer + n * width, xt = projection + row(t, n) * width
                    let z = gt, rg = gt + hidden, hh = gt + 2 * hidden, xh = xt + 2 * hidden
                    if gruResetFirst {
                        for j in 0..<hidden { hh[j] += xh[j] }
                    } else {
                        for j in 0..<hidden { hh[j] = xh[j] + rg[j] * hh[j] }
                    }
                    applyRecurrentActivation(g, hh, hidden, clip: cell.clip)
                    let hn = h + n * hidden
                    for j in 0..<hidden { hn[j] = (1 - z[j]) * hh[j] + z[j] * hn[j] }
                }

            case .lstm:
                for n in 0..<batch where t < length(n) {
                    let gt = gateBuffer + n * width, xt = projection + row(t, n) * width
                    for j in 0..<width { gt[j] += xt[j] }
                    let ig = gt, og = gt + hidden, fg = gt + 2 * hidden, cg = gt + 3 * hidden
                    let cn = c + n * hidden, hn = h + n * hidden
                    if let pd {
                        for j in 0..<hidden {
                            ig[j] += pd[j] * cn[j]
                            fg[j] += pd[2 * hidden + j] * cn[j]
                        }
                    }
                    applyRecurrentActivation(f, ig, hidden, clip: cell.clip)
                    if cell.inputForget {
                        for j in 0..<hidden { fg[j] = 1 - ig[j] }
                    } else {
                        applyRecurrentActivation(f, fg, hidden, clip: cell.clip)
                    }
                    applyRecurrentActivation(g, cg, hidden, clip: cell.clip)
                    for j in 0..<hidden { cn[j] = fg[j] * cn[j] + ig[j] * cg[j] }
                    if let pd {
                        for j in 0..<hidden { og[j] += pd[hidden + j] * cn[j] }
                    }
                    applyRecurrentActivation(f, og, hidden, clip: cell.clip)
                    // h(C) in the c gate's place (its value is no longer needed).
                    memcpy(cg, cn, hidden * 4)
                    applyRecurrentActivation(hAct, cg, hidden, clip: nil)
                    for j in 0..<hidden { hn[j] = og[j] * cg[j] }
                }
            }

            if let y {
                for n in 0..<batch {
                    let out = y + yOffset(t, d, n)
                    if t < length(n) { memcpy(out, h + n * hidden, hidden * 4) }
                    else { memset(out, 0, hidden * 4) }
                }
            }
        }

        for n in 0..<batch {
            if let yH { memcpy(yH + stateOffset(d, n), h + n * hidden, hidden * 4) }
            if let yC { memcpy(yC + stateOffset(d, n), c + n * hidden, hidden * 4) }
        }
    }
}
