import _D2LSystem

/// `RNN`, `GRU` and `LSTM` (versions 7, 14 and 22; GRU's `linear_before_reset`, LSTM's
/// peepholes `P` and `input_forget`), float32, by the ONNX spec:
///
///     inputs  X, W, R, B?, sequence_lens?, initial_h?, initial_c? (LSTM), P? (LSTM)
///     outputs Y?, Y_h?, Y_c? (LSTM)
///
/// With G gates (RNN 1, GRU 3 in the order z r h, LSTM 4 in the order i o f c), H =
/// `hidden_size` and D directions (2 when bidirectional): W is [D, G·H, input], R is
/// [D, G·H, H], B is [D, 2·G·H] (Wb then Rb), P is [D, 3·H] (i o f). Layout 0: X is
/// [seq, batch, input], Y [seq, D, batch, H], states [D, batch, H]; layout 1 (version 14
/// and later): X [batch, seq, input], Y [batch, seq, D, H], states [batch, D, H].
///
/// `sequence_lens` (int32 [batch]): steps at and past a sequence's length are not run,
/// their Y rows are 0, and Y_h / Y_c hold the state after the last valid step (the
/// reverse direction starts at the last valid step). Lengths known at plan time must lie
/// in [0, seq]; lengths given at run time are clamped to that range.
///
/// Activations: Sigmoid, Tanh and Relu in any position (the defaults are Tanh for RNN,
/// Sigmoid/Tanh for GRU, Sigmoid/Tanh/Tanh for LSTM); other functions are refused with
/// D2L_ERR_UNSUPPORTED. `clip` bounds every activation's input to [-clip, clip].
struct Recurrent: OperatorKernel {
    enum Kind {
        case rnn, gru, lstm

        /// Gates per direction.
        var gates: Int {
            switch self {
            case .rnn: return 1
            case .gru: return 3
            case .lstm: return 4
            }
        }

        /// Activation functions per direction (f; f, g; f, g, h).
        var activationCount: Int {
            switch self {
            case .rnn: return 1
            case .gru: return 2
            case .lstm: return 3
            }
        }

        var defaultActivations: [RecurrentActivation] {
            switch self {
            case .rnn: return [.tanh]
            case .gru: return [.sigmoid, .tanh]
            case .lstm: return [.sigmoid, .tanh, .tanh]
            }
        }

        /// Inputs: (required, maximum).
        var arity: (required: Int, maximum: Int) { (3, self == .lstm ? 8 : 6) }
        /// Outputs: every one is optional.
        var outputArity: (required: Int, maximum: Int) { (0, self == .lstm ? 3 : 2) }
    }

    enum Direction { case forward, reverse, bidirectional }

    let kind: Kind
    let direction: Direction
    /// The `hidden_size` attribute, when given (it must then match W).
    let hiddenSizeAttribute: Int?
    /// 0: sequence-major, 1: batch-major.
    let layout: Int
    /// Activation input bound; nil when `clip` is absent.
    let clip: Float?
    let linearBeforeReset: Bool
    let inputForget: Bool
    /// `kind.activationCount` per direction, forward's first.
    let activations: [RecurrentActivation]

    /// Planned sizes and inputs.
    private(set) var shape = RecurrentShape()
    private(set) var scratchElements = 0

    var numDirections: Int { direction == .bidirectional ? 2 : 1 }

    init(_ a: AttributeReader, kind: Kind, version: Int) throws(D2LError) {
        self.kind = kind
        var known = ["activation_alpha", "activation_beta", "activations", "clip", "direction", "hidden_size"]
        if version >= 14 { known.append("layout") }
        if kind == .gru && version >= 3 { known.append("linear_before_reset") }
        if kind == .lstm { known.append("input_forget") }
        try a.allowOnly(known)

        switch try a.string("direction", default: "forward") {
        case "forward": direction = .forward
        case "reverse": direction = .reverse
        case "bidirectional": direction = .bidirectional
        case let other: throw a.invalid("direction", "must be forward, reverse or bidirectional, not \(quoted(other))")
        }
        if a.has("hidden_size") {
            let h = try a.int("hidden_size", default: 0)
            guard h >= 1 else { throw a.invalid("hidden_size", "must be ≥ 1, not \(h)") }
            hiddenSizeAttribute = h
        } else {
            hiddenSizeAttribute = nil
        }
        layout = try a.int("layout", default: 0)
        guard layout == 0 || layout == 1 else { throw a.invalid("layout", "must be 0 or 1, not \(layout)") }
        if a.has("clip") {
            let c = try a.float("clip", default: 0)
            guard c > 0, c.isFinite else { throw a.invalid("clip", "must be a positive number, not \(c)") }
            clip = c
        } else {
            clip = nil
        }
        linearBeforeReset = kind == .gru ? try a.flag("linear_before_reset", default: false) : false
        inputForget = kind == .lstm ? try a.flag("input_forget", default: false) : false

        let directions = direction == .bidirectional ? 2 : 1
        if let names = try a.strings("activations") {
            let perDirection = kind.activationCount
            // The spec lists the functions of every direction; one direction's list is
            // also taken for both (as onnxruntime does).
            guard names.count == perDirection * directions || names.count == perDirection else {
                throw a.invalid("activations", "must list \(perDirection * directions) functions, not \(names.count)")
            }
            var parsed: [RecurrentActivation] = []
            for name in names {
                switch name {
                case "Sigmoid": parsed.append(.sigmoid)
                case "Tanh": parsed.append(.tanh)
                case "Relu": parsed.append(.relu)
                default:
                    throw .unsupported("\(a.label) uses activation \(quoted(name)); libd2l supports Sigmoid, Tanh and Relu in recurrent operators")
                }
            }
            if parsed.count < perDirection * directions { parsed += parsed }
            activations = parsed
        } else {
            var list: [RecurrentActivation] = []
            for _ in 0..<directions { list += kind.defaultActivations }
            activations = list
        }
        // Sigmoid, Tanh and Relu take no alpha or beta: the lists have nothing to say.
        _ = try a.floats("activation_alpha")
        _ = try a.floats("activation_beta")
    }

    mutating func plan(_ inputs: [PlanInput?], _ label: String) throws(D2LError) -> [TensorType] {
        let x = try required(inputs, 0, label), w = try required(inputs, 1, label), r = try required(inputs, 2, label)
        try requireFloat(x, label, "X")
        try requireFloat(w, label, "W")
        try requireFloat(r, label, "R")
        let d = numDirections, gates = kind.gates
        guard x.type.rank == 3 else { throw .shape("\(label): X must be 3-D, got \(x.type.text)") }
        let seq = layout == 0 ? x.type.shape[0] : x.type.shape[1]
        let batch = layout == 0 ? x.type.shape[1] : x.type.shape[0]
        let inputSize = x.type.shape[2]
        let ws = w.type.shape
        guard ws.count == 3, ws[0] == d, ws[2] == inputSize, ws[1] % gates == 0 else {
            throw .shape("\(label): W is \(w.type.text); expected [\(d), \(gates)·hidden_size, \(inputSize)] for X \(x.type.text)")
        }
        let hidden = ws[1] / gates
        if let h = hiddenSizeAttribute, h != hidden {
            throw .shape("\(label): hidden_size is \(h) but W \(w.type.text) has \(ws[1]) rows (\(gates) gates × \(hidden))")
        }
        guard r.type.shape == [d, gates * hidden, hidden] else {
            throw .shape("\(label): R is \(r.type.text); expected \(shapeText([d, gates * hidden, hidden]))")
        }
        var s = RecurrentShape()
        s.seq = seq; s.batch = batch; s.inputSize = inputSize; s.hidden = hidden
        if let b = optionalInput(inputs, 3) {
            try requireFloat(b, label, "B")
            guard b.type.shape == [d, 2 * gates * hidden] else {
                throw .shape("\(label): B is \(b.type.text); expected \(shapeText([d, 2 * gates * hidden]))")
            }
            s.hasBias = true
        }
        if let lens = optionalInput(inputs, 4) {
            guard lens.type.dtype == .int32 else {
                throw .invalidModel("\(label): sequence_lens is \(lens.type.dtype.name); it must be int32")
            }
            guard lens.type.shape == [batch] else {
                throw .shape("\(label): sequence_lens is \(lens.type.text); expected [\(batch)]")
            }
            if let c = lens.constant {
                let values = c.pointer.assumingMemoryBound(to: Int32.self)
                for i in 0..<batch where values[i] < 0 || Int(values[i]) > seq {
                    throw .shape("\(label): sequence_lens[\(i)] is \(values[i]), outside [0, \(seq)]")
                }
            }
            s.hasSequenceLengths = true
        }
        let stateShape = layout == 0 ? [d, batch, hidden] : [batch, d, hidden]
        if let h0 = optionalInput(inputs, 5) {
            try requireFloat(h0, label, "initial_h")
            guard h0.type.shape == stateShape else {
                throw .shape("\(label): initial_h is \(h0.type.text); expected \(shapeText(stateShape))")
            }
            s.hasInitialH = true
        }
        if kind == .lstm {
            if let c0 = optionalInput(inputs, 6) {
                try requireFloat(c0, label, "initial_c")
                guard c0.type.shape == stateShape else {
                    throw .shape("\(label): initial_c is \(c0.type.text); expected \(shapeText(stateShape))")
                }
                s.hasInitialC = true
            }
            if let p = optionalInput(inputs, 7) {
                try requireFloat(p, label, "P")
                guard p.type.shape == [d, 3 * hidden] else {
                    throw .shape("\(label): P is \(p.type.text); expected \(shapeText([d, 3 * hidden]))")
                }
                s.hasPeepholes = true
            }
        }
        // Scratch: the input projections of every step, one step's gates and the states.
        let gateWidth = gates * hidden
        guard let projection = checkedElementCount([seq, batch, gateWidth], limit: maxTensorElements),
              let step = checkedElementCount([batch, gateWidth], limit: maxTensorElements),
              let state = checkedElementCount([batch, hidden], limit: maxTensorElements),
              checkedElementCount([seq, d, batch, hidden], limit: maxTensorElements) != nil else {
            throw .shape("\(label): the recurrence over X \(x.type.text) with hidden_size \(hidden) is too large")
        }
        s.projectionOffset = 0
        s.gatesOffset = alignUp(projection, 16)
        s.hOffset = s.gatesOffset + alignUp(step, 16)
        s.cOffset = s.hOffset + alignUp(state, 16)
        s.resetOffset = s.cOffset + alignUp(state, 16)
        scratchElements = s.resetOffset + alignUp(state, 16)
        shape = s

        let yShape = layout == 0 ? [seq, d, batch, hidden] : [batch, seq, d, hidden]
        var types = [TensorType(.float32, yShape), TensorType(.float32, stateShape)]
        if kind == .lstm { types.append(TensorType(.float32, stateShape)) }
        return types
    }

    func run(_ io: KernelIO, pool: ThreadPool?) {
        func pointer(_ i: Int) -> UnsafePointer<Float>? {
            guard i < io.inputs.count, let v = io.inputs[i] else { return nil }
            return UnsafePointer(v.floats)
        }
        func output(_ i: Int) -> UnsafeMutablePointer<Float>? {
            guard i < io.outputs.count, let v = io.outputs[i] else { return nil }
            return v.floats
        }
        var lengths: UnsafePointer<Int32>?
        if io.inputs.count > 4, let v = io.inputs[4] {
            lengths = UnsafePointer(v.pointer.assumingMemoryBound(to: Int32.self))
        }
        let cell = RecurrentCell(kind: kind, layout: layout, numDirections: numDirections,
                                 reverseOnly: direction == .reverse, clip: clip,
                                 linearBeforeReset: linearBeforeReset, inputForget: inputForget,
                                 activations: activations, shape: shape)
        let x = UnsafePointer(io.input(0).floats), w = UnsafePointer(io.input(1).floats)
        let r = UnsafePointer(io.input(2).floats)
        recurrentKernel(cell, x: x, w: w, r: r,
                        b: shape.hasBias ? pointer(3) : nil,
                        sequenceLengths: shape.hasSequenceLengths ? lengths : nil,
                        initialH: shape.hasInitialH ? pointer(5) : nil,
                        initialC: shape.hasInitialC ? pointer(6) : nil,
                        p: shape.hasPeepholes ? pointer(7) : nil,
                        y: output(0), yH: output(1), yC: kind == .lstm ? output(2) : nil,
                        scratch: io.scratch, pool: pool)
    }
}

/// Input `i` when the node gives it.
private func optionalInput(_ inputs: [PlanInput?], _ i: Int) -> PlanInput? {
    i < inputs.count ? inputs[i] : nil
}

extension Recurrent {
    /// RNN, GRU and LSTM; every output is optional (at least one must be named).
    static let schemas: [OperatorSchema] = [
        recurrent("RNN", [1, 7, 14, 22], .rnn), recurrent("GRU", [1, 3, 7, 14, 22], .gru),
        recurrent("LSTM", [1, 7, 14, 22], .lstm),
    ]

    private static func recurrent(_ name: String, _ versions: [Int], _ kind: Kind) -> OperatorSchema {
        OperatorSchema(name, versions: versions, inputs: kind.arity, outputs: kind.outputArity) { a, version throws(D2LError) in
            .kernel(AnyOperatorKernel(try Recurrent(a, kind: kind, version: version)))
        }
    }
}
