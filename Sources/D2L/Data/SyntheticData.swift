/// The book's `synthetic_data(w, b, num_examples)`: features X ~ N(0, 1) of shape
/// `[count, w.count]` and labels y = X·w + b + N(0, noise²) of shape `[count, 1]`.
public func syntheticLinearData(weights: Tensor, bias: Float, count: Int, noise: Float = 0.01,
                                using generator: inout SeededGenerator) -> (features: Tensor, labels: Tensor) {
    precondition(weights.rank == 1, "syntheticLinearData: weights must be a vector, got shape \(weights.shape)")
    let x = Tensor.randn([count, weights.count], using: &generator)
    let y = x.mv(weights) + bias + Tensor.randn([count], std: noise, using: &generator)
    return (x, y.reshaped([-1, 1]))
}

/// Minibatches of paired tensors along axis 0 (the book's `data_iter` / `load_array`):
/// rows shuffled with `generator` when `shuffle`, the last batch possibly smaller.
public func tensorMinibatches(_ features: Tensor, _ labels: Tensor, batchSize: Int, shuffle: Bool = true,
                              using generator: inout SeededGenerator) -> [(features: Tensor, labels: Tensor)] {
    precondition(features.shape.first == labels.shape.first,
                 "tensorMinibatches: \(features.shape) features and \(labels.shape) labels differ in rows")
    precondition(batchSize > 0, "tensorMinibatches: batch size must be positive, got \(batchSize)")
    var order = Array(0..<(features.shape.first ?? 0))
    if shuffle { shuffleIndices(&order, using: &generator) }
    return stride(from: 0, to: order.count, by: batchSize).map { start in
        let rows = Array(order[start..<Swift.min(start + batchSize, order.count)])
        return (features.indexSelect(rows), labels.indexSelect(rows))
    }
}
