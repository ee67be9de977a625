import Foundation

/// How a loss combines per-example values.
public enum LossReduction: Sendable {
    /// The mean over examples (PyTorch's default).
    case mean
    /// The sum over examples.
    case sum
    /// One value per example.
    case none
}

/// Mean squared error (`nn.MSELoss`): (prediction − target)² reduced. The shapes must be
/// equal (no silent broadcasting: the message names both).
public func mseLoss(_ prediction: Tensor, _ target: Tensor, reduction: LossReduction = .mean) throws -> Tensor {
    guard prediction.shape == target.shape else {
        throw ToolkitError(.shape, "mseLoss: prediction of shape \(prediction.shape) and target of shape \(target.shape) differ")
    }
    let squared = (prediction - target.detached()).squared()
    switch reduction {
    case .mean: return squared.mean()
    case .sum: return squared.sum()
    case .none: return squared
    }
}

/// The book's `squared_loss`: (ŷ − y)² / 2 for each element, unreduced, with `target`
/// reshaped to `prediction`'s shape (`y.reshape(y_hat.shape)`); the counts must agree.
/// Half of `mseLoss(reduction: .none)`, so its gradient is ŷ − y.
public func squaredLoss(_ prediction: Tensor, _ target: Tensor) throws -> Tensor {
    guard prediction.count == target.count else {
        throw ToolkitError(.shape, "squaredLoss: prediction of shape \(prediction.shape) and target of shape \(target.shape) differ in size")
    }
    return (prediction - target.detached().reshaped(prediction.shape)).squared() / 2
}

/// Cross-entropy from unnormalised logits `[n, classes]` and class indices (`n` of them,
/// each in `0..<classes`), like `nn.CrossEntropyLoss`: log Σ exp(z) − z[label] per row,
/// computed stably (the row maximum subtracted first). The backward is
/// (softmax(z) − onehot(label)) · dL/dloss.
public func crossEntropy(_ logits: Tensor, _ labels: [Int], reduction: LossReduction = .mean) throws -> Tensor {
    guard logits.rank == 2 else {
        throw ToolkitError(.shape, "crossEntropy: logits must be [batch, classes], got shape \(logits.shape)")
    }
    let n = logits.shape[0], classes = logits.shape[1]
    guard labels.count == n else {
        throw ToolkitError(.shape, "crossEntropy: logits of shape \(logits.shape) and \(labels.count) labels differ in batch size")
    }
    if let bad = labels.first(where: { $0 < 0 || $0 >= classes }) {
        throw ToolkitError(.invalidArgument, "crossEntropy: label \(bad) outside 0..<\(classes)")
    }
    // Per-row log-sum-exp and the softmax, kept for the backward.
    var probabilities = [Float](repeating: 0, count: n * classes)
    let losses = Tensor.make(shape: [n]) { out in
        logits.withUnsafeValues { z in
            for r in 0..<n {
                let row = z.baseAddress! + r * classes
                var m = -Float.infinity
                for c in 0..<classes { m = Swift.max(m, row[c]) }
                var s: Float = 0
                for c in 0..<classes {
                    let e = Foundation.exp(row[c] - m)
                    probabilities[r * classes + c] = e
                    s += e
                }
                let inv = 1 / s
                for c in 0..<classes { probabilities[r * classes + c] *= inv }
                out[r] = Foundation.log(s) + m - row[labels[r]]
            }
        }
    }
    let perExample = Tensor.record("crossEntropy", losses, inputs: [logits]) { g in
        let grad = Tensor.make(shape: [n, classes]) { out in
            g.withUnsafeValues { gv in
                for r in 0..<n {
                    let scale = gv[r]
                    for c in 0..<classes { out[r * classes + c] = probabilities[r * classes + c] * scale }
                    out[r * classes + labels[r]] -= scale
                }
            }
        }
        return [grad]
    }
    switch reduction {
    case .mean: return perExample.mean()
    case .sum: return perExample.sum()
    case .none: return perExample
    }
}

/// The fraction of rows whose largest logit is at the label (the book's `accuracy`,
/// divided by the count).
public func accuracy(_ logits: Tensor, _ labels: [Int]) -> Float {
    Float(correctCount(logits, labels)) / Float(Swift.max(labels.count, 1))
}

/// How many rows have their largest logit at the label.
public func correctCount(_ logits: Tensor, _ labels: [Int]) -> Int {
    let predicted = logits.argmax(axis: 1).scalars
    return zip(predicted, labels).filter { Int($0) == $1 }.count
}
