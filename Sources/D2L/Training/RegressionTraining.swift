import Foundation

/// A regression loss: `(prediction, target) → losses`, e.g. `{ try mseLoss($0, $1, reduction: .none) }`
/// or ``squaredLoss(_:_:)``. It may return one loss per element (the book's
/// `nn.MSELoss(reduction='none')`) or one value, read as the batch's mean.
public typealias RegressionLoss = (_ prediction: Tensor, _ target: Tensor) throws -> Tensor

/// One epoch of ``trainRegression(model:features:labels:loss:optimizer:epochs:batchSize:test:generator:onEpoch:)``.
public struct RegressionEpoch: Equatable, Sendable {
    /// 1-based.
    public var epoch: Int
    /// ``evaluateLoss(_:on:labels:loss:batchSize:)-(Module,_,_,_,_)`` over the whole training set after the epoch.
    public var trainLoss: Double
    /// The same over the test set; NaN without one.
    public var testLoss: Double

    public init(epoch: Int, trainLoss: Double, testLoss: Double) {
        self.epoch = epoch
        self.trainLoss = trainLoss
        self.testLoss = testLoss
    }
}

/// The book's `evaluate_loss(net, data_iter, loss)`: the mean loss over a dataset,
/// `Σ losses / number of losses`, without gradients, in batches of `batchSize` rows.
/// A `loss` that returns one value per batch is read as that batch's mean (weighted by
/// its rows).
///
/// - Parameters:
///   - net: any function of a features batch `[rows, …]` (the book's `lambda X: linreg(X, w, b)`).
///   - features: `[n, …]`, one example per row.
///   - labels: `[n, …]`, the same `n`, shaped like `net`'s output rows.
///   - loss: the ``RegressionLoss`` of a batch's predictions and labels.
///   - batchSize: rows per evaluation batch (≥ 1, default 256).
/// - Throws: `ToolkitError(.shape)` when the row counts differ, `.invalidArgument` for an
///   empty dataset or a batch size below 1; whatever `net` or `loss` throw.
public func evaluateLoss(_ net: (Tensor) throws -> Tensor, on features: Tensor, labels: Tensor,
                         loss: RegressionLoss, batchSize: Int = 256) throws -> Double {
    let n = try regressionRowCount(features, labels, batchSize: batchSize, caller: "evaluateLoss")
    guard n > 0 else { throw ToolkitError(.invalidArgument, "evaluateLoss: the dataset is empty") }
    var total = 0.0, count = 0
    try withNoGrad {
        for start in stride(from: 0, to: n, by: batchSize) {
            let end = min(start + batchSize, n)
            let x = features.slice(axis: 0, start: start, end: end)
            let y = labels.slice(axis: 0, start: start, end: end)
            let l = try loss(try net(x), y)
            if l.count == 1 {
                total += Double(l.item) * Double(end - start)
                count += end - start
            } else {
                total += l.scalars.reduce(0.0) { $0 + Double($1) }
                count += l.count
            }
        }
    }
    return total / Double(max(count, 1))
}

/// ``evaluateLoss(_:on:labels:loss:batchSize:)-((Tensor)->Tensor,_,_,_,_)`` of a module, in eval mode (its mode is
/// restored afterwards), as the book's `net.eval()` inside `evaluate_loss`.
public func evaluateLoss(_ model: Module, on features: Tensor, labels: Tensor,
                         loss: RegressionLoss, batchSize: Int = 256) throws -> Double {
    let wasTraining = model.isTraining
    model.eval()
    defer { model.train(wasTraining) }
    return try evaluateLoss({ try model($0) }, on: features, labels: labels, loss: loss, batchSize: batchSize)
}

/// Trains a regression model with minibatch SGD-style steps, the loop of the book's
/// concise sections (3.3, 4.4 `train`, 4.5 `train_concise`, 4.10 `train`): each epoch
/// shuffles the rows with `generator` (``tensorMinibatches(_:_:batchSize:shuffle:using:)``),
/// and for each minibatch `optimizer.zeroGrad()`, `loss(model(X), y).mean().backward()`,
/// `optimizer.step()`; then the training loss (and the test loss, when `test` is given)
/// is measured with ``evaluateLoss(_:on:labels:loss:batchSize:)-(Module,_,_,_,_)`` and `onEpoch` is called.
///
/// - Parameters:
///   - model: the ``Module`` trained, in training mode during the epochs.
///   - features: `[n, …]`, one example per row.
///   - labels: `[n, …]` shaped like the model's output rows.
///   - loss: the ``RegressionLoss`` of a minibatch's predictions and labels (averaged before
///     the backward pass).
///   - optimizer: built over `model.parameters()` (e.g. `SGD(net.parameters(), learningRate: 0.03)`,
///     with `weightDecay` for 4.5).
///   - epochs: passes over the training set (≥ 0; 0 trains nothing).
///   - batchSize: rows per minibatch (≥ 1; the last one may be shorter).
///   - test: a held-out set, measured after every epoch.
///   - generator: shuffles the rows each epoch.
///   - onEpoch: called after each epoch with its ``RegressionEpoch`` (to print or log it);
///     what it throws ends the training.
/// - Returns: one ``RegressionEpoch`` per epoch.
/// - Throws: `ToolkitError(.invalidArgument)` for epochs < 0 or batchSize < 1, `.shape` when
///   rows differ, `.numerical` when a minibatch loss is not finite; what the model throws.
@discardableResult
public func trainRegression(model: Module, features: Tensor, labels: Tensor, loss: RegressionLoss,
                            optimizer: any Optimizer, epochs: Int, batchSize: Int,
                            test: (features: Tensor, labels: Tensor)? = nil,
                            generator: inout SeededGenerator,
                            onEpoch: ((RegressionEpoch) throws -> Void)? = nil) throws -> [RegressionEpoch] {
    guard epochs >= 0 else { throw ToolkitError(.invalidArgument, "trainRegression: epochs must be ≥ 0, got \(epochs)") }
    _ = try regressionRowCount(features, labels, batchSize: batchSize, caller: "trainRegression")
    if let test { _ = try regressionRowCount(test.features, test.labels, batchSize: batchSize, caller: "trainRegression (test)") }
    var history: [RegressionEpoch] = []
    for epoch in 1...max(epochs, 1) where epochs >= 1 {
        model.train()
        for (batch, (x, y)) in tensorMinibatches(features, labels, batchSize: batchSize, using: &generator).enumerated() {
            optimizer.zeroGrad()
            let l = try loss(try model(x), y).mean()
            guard l.item.isFinite else {
                throw ToolkitError(.numerical, "trainRegression: epoch \(epoch), batch \(batch + 1): the loss is \(l.item)")
            }
            l.backward()
            optimizer.step()
        }
        let trainLoss = try evaluateLoss(model, on: features, labels: labels, loss: loss, batchSize: batchSize)
        let testLoss = try test.map { try evaluateLoss(model, on: $0.features, labels: $0.labels, loss: loss, batchSize: batchSize) } ?? .nan
        let record = RegressionEpoch(epoch: epoch, trainLoss: trainLoss, testLoss: testLoss)
        history.append(record)
        try onEpoch?(record)
    }
    return history
}

/// The shared row count of `features` and `labels`, after checking the batch size.
private func regressionRowCount(_ features: Tensor, _ labels: Tensor, batchSize: Int, caller: String) throws -> Int {
    guard batchSize >= 1 else { throw ToolkitError(.invalidArgument, "\(caller): batch size must be ≥ 1, got \(batchSize)") }
    guard features.rank >= 1, labels.rank >= 1, features.shape[0] == labels.shape[0] else {
        throw ToolkitError(.shape, "\(caller): features of shape \(features.shape) and labels of shape \(labels.shape) differ in rows")
    }
    return features.shape[0]
}
