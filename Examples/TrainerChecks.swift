import D2L

extension Trainer {
    /// Whether the last quarter's mean minibatch loss is below the first quarter's
    /// (false with fewer than 4 minibatches): what the sections check after training.
    var lossFell: Bool { lossQuarterMeans.map { $0.last < $0.first } ?? false }
}
