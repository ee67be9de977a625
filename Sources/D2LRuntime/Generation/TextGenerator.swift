import _D2LSystem

/// Text generation with a recurrent language model (docs/FORMAT.md's recurrent convention).
extension Session {
    /// The checked recurrent contract of the session's model.
    struct RecurrentContract {
        var stateTypes: [TensorType]
    }

    func recurrentContract(vocabulary: Vocabulary) throws(D2LError) -> RecurrentContract {
        let inputs = model.inputs
        let outputs = model.outputs
        guard let first = inputs.first, !outputs.isEmpty else {
            throw .invalidModel("a language model needs token ids as input 0 and logits as output 0")
        }
        guard first.type.dtype == .int64, first.type.dims.count == 2 else {
            throw .invalidModel("input 0 \(quoted(first.name)) must be int64 token ids [batch, steps], not \(first.type.dtype.name)\(describeDeclared(first.type.dims))")
        }
        for (i, d) in first.type.dims.enumerated() {
            if let d, d != 1 {
                throw .unsupported("input 0 \(quoted(first.name)) has fixed dimension \(i) = \(d); generation feeds one token at a time ([1, 1])")
            }
        }
        guard outputs[0].type.dtype == .float32 else {
            throw .invalidModel("output 0 \(quoted(outputs[0].name)) (logits) must be float32, not \(outputs[0].type.dtype.name)")
        }
        if let last = outputs[0].type.dims.last, let d = last, d != vocabulary.count {
            throw .invalidModel("output 0 \(quoted(outputs[0].name)) has \(d) logits per token but d2l.vocab has \(vocabulary.count) tokens")
        }
        guard inputs.count == outputs.count else {
            throw .invalidModel("recurrent inputs and outputs do not pair up: \(inputs.count) inputs, \(outputs.count) outputs")
        }
        var states: [TensorType] = []
        for k in 1..<max(inputs.count, 1) {
            guard inputs[k].type.dtype == outputs[k].type.dtype else {
                throw .invalidModel("recurrent inputs and outputs do not pair up: input \(k) \(quoted(inputs[k].name)) is \(inputs[k].type.dtype.name), output \(k) \(quoted(outputs[k].name)) is \(outputs[k].type.dtype.name)")
            }
            let shape = inputs[k].type.dims.map { $0 ?? 1 }
            guard checkedElementCount(shape, limit: maxTensorElements) != nil else {
                throw .shape("state input \(quoted(inputs[k].name)) \(shapeText(shape)) is too large")
            }
            states.append(TensorType(inputs[k].type.dtype, shape))
        }
        return RecurrentContract(stateTypes: states)
    }

    /// Generates text as the book's `predict_ch8`: the prefix's tokens, then `count`
    /// tokens picked by `Sampler` (greedy when temperature is 0). On error the session
    /// stays usable (set inputs again before the next run).
    public func generate(prefix: String, count: Int, temperature: Float, topK: Int, seed: UInt64) throws(D2LError) -> String {
        let vocabulary = try Vocabulary(model: model)
        let contract = try recurrentContract(vocabulary: vocabulary)
        var sampler = try Sampler(temperature: temperature, topK: topK, seed: seed, classCount: vocabulary.count)
        guard count >= 0 else { throw .invalidArgument("num_tokens \(count) is too large") }
        var ids = vocabulary.encode(prefix)
        guard !ids.isEmpty else { throw .invalidArgument("the prefix is empty (it needs at least one token)") }
        guard count <= maxTensorElements else { throw .invalidArgument("num_tokens \(count) is too large") }

        // Initial states: zeros of the declared shapes (symbolic dimensions as 1).
        for (j, type) in contract.stateTypes.enumerated() {
            let zeros = try AlignedBuffer(byteCount: type.byteCount)
            memset(zeros.pointer, 0, zeros.byteCount)
            try setInput(j + 1, dtype: type.dtype, data: UnsafeRawPointer(zeros.pointer), shape: type.shape)
        }
        let tokenBuffer = try AlignedBuffer(byteCount: 8)

        // One step: feed `token`, then carry the states over. Leaves the logits in output 0.
        func step(_ token: Int) throws(D2LError) {
            tokenBuffer.pointer.storeBytes(of: Int64(token), as: Int64.self)
            try setInput(0, dtype: .int64, data: UnsafeRawPointer(tokenBuffer.pointer), shape: [1, 1])
            try run()
            for k in 1..<max(model.inputs.count, 1) {
                guard let out = output(k), out.type == inputType(k) else {
                    let got = output(k).map { $0.type.text } ?? "nothing"
                    throw .invalidModel("recurrent inputs and outputs do not pair up: output \(k) \(quoted(model.outputs[k].name)) is \(got), input \(k) \(quoted(model.inputs[k].name)) is \(inputType(k)?.text ?? "unset")")
                }
                try setInput(k, dtype: out.type.dtype, data: UnsafeRawPointer(out.pointer), shape: out.type.shape)
            }
        }

        func nextLogits() throws(D2LError) -> UnsafeBufferPointer<Float> {
            guard let out = output(0), out.type.dtype == .float32 else {
                throw .invalidModel("output 0 (logits) is not float32")
            }
            guard out.type.shape.last == vocabulary.count, out.type.count >= vocabulary.count else {
                throw .invalidModel("output 0 has shape \(shapeText(out.type.shape)); its last dimension must be the vocabulary size \(vocabulary.count)")
            }
            return UnsafeBufferPointer(start: out.floats + (out.type.count - vocabulary.count), count: vocabulary.count)
        }

        // predict_ch8: outputs = [prefix[0]]; for y in prefix[1:]: run on the last output,
        // append y; then num_preds times: run on the last output, append the pick.
        var outputs = [ids[0]]
        for y in ids.dropFirst() {
            try step(outputs[outputs.count - 1])
            outputs.append(y)
        }
        for _ in 0..<count {
            try step(outputs[outputs.count - 1])
            outputs.append(sampler.pick(try nextLogits()))
        }
        ids = outputs
        return vocabulary.decode(ids)
    }
}
