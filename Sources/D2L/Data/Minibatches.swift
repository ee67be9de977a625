/// Shuffles `indices` in place with Fisher–Yates: for i from n − 1 down to 1, swap
/// element i with element `next() % (i + 1)` of `rng` (the modulo bias is below 2⁻³²
/// for fewer than 2³² elements).
public func shuffleIndices(_ indices: inout [Int], using rng: inout SeededGenerator) {
    guard indices.count > 1 else { return }
    for i in stride(from: indices.count - 1, to: 0, by: -1) {
        indices.swapAt(i, Int(rng.next() % UInt64(i + 1)))
    }
}

/// Splits `0..<count` into minibatches of indices, one epoch per iteration
/// (the book's `data_iter`, PyTorch's `DataLoader` sampler).
///
/// Each element is an array of up to `batchSize` row indices; every index in
/// `0..<count` appears exactly once per epoch, except that `dropLast` leaves out the
/// final short batch.
///
/// Shuffling: each `makeIterator()` (each `for batch in sampler`) starts a new epoch
/// with a new permutation drawn by Fisher–Yates (`shuffleIndices`).
/// - With `seed: nil`, permutations are drawn from `Random.generator`, so
///   `Random.seed(_:)` makes runs reproducible.
/// - With a seed, the sampler owns a `SeededGenerator(seed: seed)` that every epoch
///   advances: epochs differ from one another, and a new sampler with the same seed
///   replays the same sequence of epochs. Copies of a sampler share that generator.
///   `batches(epoch:)` gives the order of a given epoch without advancing it.
public struct MinibatchSampler: Sequence {
    /// The number of rows sampled from (`0..<count`).
    public let count: Int
    /// The largest number of indices per batch.
    public let batchSize: Int
    /// Whether each epoch is a new random permutation (otherwise `0, 1, 2, …`).
    public let shuffle: Bool
    /// The seed of the sampler's own generator, or nil to use `Random.generator`.
    public let seed: UInt64?
    /// Whether to leave out the last batch when it is shorter than `batchSize`.
    public let dropLast: Bool

    /// The generator shared by copies, advanced once per seeded, shuffled epoch.
    private final class GeneratorBox { var generator: SeededGenerator; init(_ g: SeededGenerator) { generator = g } }
    private let box: GeneratorBox?

    /// - Throws: `ToolkitError(.invalidArgument)` when `batchSize ≤ 0` or `count < 0`.
    public init(count: Int, batchSize: Int, shuffle: Bool, seed: UInt64? = nil, dropLast: Bool = false) throws {
        guard batchSize > 0 else {
            throw ToolkitError(.invalidArgument, "MinibatchSampler: batchSize must be positive, got \(batchSize)")
        }
        guard count >= 0 else {
            throw ToolkitError(.invalidArgument, "MinibatchSampler: count must not be negative, got \(count)")
        }
        self.count = count
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.seed = seed
        self.dropLast = dropLast
        box = seed.map { GeneratorBox(SeededGenerator(seed: $0)) }
    }

    /// The number of batches per epoch.
    public var batchCount: Int {
        dropLast ? count / batchSize : (count + batchSize - 1) / batchSize
    }

    /// Starts a new epoch (a new permutation when shuffling).
    public func makeIterator() -> Iterator {
        var order = Array(0..<count)
        if shuffle {
            if let box {
                shuffleIndices(&order, using: &box.generator)
            } else {
                shuffleIndices(&order, using: &Random.generator)
            }
        }
        return Iterator(order: order, batchSize: batchSize, dropLast: dropLast)
    }

    /// The batches of epoch `epoch` (0 = the first) of a seeded sampler, computed from the
    /// seed alone: the same as the `epoch`-th iteration of a fresh sampler with that seed.
    /// Without a seed (or without shuffling) this is the unshuffled order.
    public func batches(epoch: Int) -> [[Int]] {
        var order = Array(0..<count)
        if shuffle, let seed {
            var generator = SeededGenerator(seed: seed)
            for _ in 0...Swift.max(0, epoch) {
                order = Array(0..<count)
                shuffleIndices(&order, using: &generator)
            }
        }
        return Array(IteratorSequence(Iterator(order: order, batchSize: batchSize, dropLast: dropLast)))
    }

    /// Yields consecutive slices of one epoch's order.
    public struct Iterator: IteratorProtocol {
        let order: [Int]
        let batchSize: Int
        let dropLast: Bool
        var position = 0

        public mutating func next() -> [Int]? {
            let end = Swift.min(position + batchSize, order.count)
            guard end > position, !(dropLast && end - position < batchSize) else { return nil }
            defer { position = end }
            return Array(order[position..<end])
        }
    }
}

/// The book's `get_k_fold_data` for every fold: rows `0..<count` are cut into `k`
/// contiguous folds of `count / k` rows (the `count % k` rows at the end are left out,
/// as in the book); split `i` validates on fold `i` and trains on the others, in order.
///
/// - Returns: `k` splits of row indices; `validation` has `count / k` rows, `train`
///   `(k − 1) · (count / k)`.
/// - Throws: `ToolkitError(.invalidArgument)` when `k < 2` or `count < k`.
public func kFoldSplits(count: Int, k: Int) throws -> [(train: [Int], validation: [Int])] {
    guard k >= 2 else {
        throw ToolkitError(.invalidArgument, "kFoldSplits: k must be at least 2, got \(k)")
    }
    guard count >= k else {
        throw ToolkitError(.invalidArgument, "kFoldSplits: \(count) rows cannot make \(k) folds")
    }
    let foldSize = count / k
    return (0..<k).map { i in
        let validation = Array((i * foldSize)..<((i + 1) * foldSize))
        let train = Array(0..<(i * foldSize)) + Array(((i + 1) * foldSize)..<(k * foldSize))
        return (train, validation)
    }
}
