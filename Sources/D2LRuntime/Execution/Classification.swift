import _D2LSystem

/// Top-k classification of a session's last output (`d2l_classify`, Python `Model.classify`).
extension Session {
    /// Top-k of output 0, row `row`, of the last successful run: (class index, softmax
    /// probability in float64), most probable first, ties keeping the lower index. The
    /// rows are output 0's last-dimension vectors: `[B, classes]` has B rows, `[classes]`
    /// one, `[A, B, classes]` A · B (row-major).
    /// - Throws: D2L_ERR_INVALID_ARGUMENT (top_k 0, no run yet, row out of range),
    ///   D2L_ERR_INVALID_MODEL (output 0 not float32), D2L_ERR_SHAPE (output 0 empty).
    public func classify(topK: Int, row: Int = 0) throws(D2LError) -> [(index: Int, probability: Double)] {
        guard topK >= 1 else { throw .invalidArgument("top_k must be at least 1, got \(topK)") }
        guard let out = output(0) else { throw .invalidArgument("no successful run yet") }
        guard out.type.dtype == .float32 else {
            throw .invalidModel("output 0 \(quoted(model.outputs.first?.name ?? "")) is \(out.type.dtype.name); classification needs float32 logits")
        }
        let classes = out.type.shape.last ?? 1
        guard classes >= 1, out.type.count >= classes else { throw .shape("output 0 is empty") }
        let rows = out.type.count / classes
        guard row >= 0 && row < rows else {
            throw .invalidArgument("row \(row) is out of range: output 0 \(shapeText(out.type.shape)) has \(rows) row\(rows == 1 ? "" : "s")")
        }
        let logits = out.floats + row * classes
        var m = -Double.infinity
        for i in 0..<classes where Double(logits[i]) > m { m = Double(logits[i]) }
        var probabilities = [Double](repeating: 0, count: classes)
        var sum = 0.0
        for i in 0..<classes {
            let e = exp(Double(logits[i]) - m)
            probabilities[i] = e
            sum += e
        }
        for i in 0..<classes { probabilities[i] /= sum }
        var order = Array(0..<classes)
        let p = probabilities.map { $0.isNaN ? -Double.infinity : $0 }
        order.sort { a, b in p[a] > p[b] || (p[a] == p[b] && a < b) }
        let k = min(topK, classes)
        var result: [(index: Int, probability: Double)] = []
        for j in 0..<k { result.append((order[j], probabilities[order[j]])) }
        return result
    }
}
