/// One minibatch of a language-model corpus: `x` holds `batchSize` subsequences of
/// `numSteps` token indices, `y` the same subsequences shifted one token to the right
/// (the next-token targets).
public struct SequenceBatch: Equatable, Sendable {
    /// Inputs, `[batchSize][numSteps]` token indices.
    public var x: [[Int]]
    /// Targets, `[batchSize][numSteps]`: `y[i][t]` is the token after `x[i][t]`.
    public var y: [[Int]]

    public init(x: [[Int]], y: [[Int]]) {
        self.x = x
        self.y = y
    }

    /// `x` and `y` as float32 tensors of shape `[batchSize, numSteps]` holding the indices
    /// (exact for indices below 2²⁴), for `oneHot`/embedding layers and cross-entropy targets.
    public func tensors() -> (x: Tensor, y: Tensor) {
        (SequenceBatch.tensor(x), SequenceBatch.tensor(y))
    }

    static func tensor(_ rows: [[Int]]) -> Tensor {
        Tensor(rows.flatMap { $0.map(Float.init) }, shape: [rows.count, rows.first?.count ?? 0])
    }
}

/// The minimum corpus length for one minibatch of `batchSize × numSteps` after dropping
/// `offset` tokens: `batchSize · numSteps + offset + 1` (one more for the last target).
func sequenceTokensNeeded(batchSize: Int, numSteps: Int, offset: Int) -> Int {
    batchSize * numSteps + offset + 1
}

func checkSequenceArguments(_ function: String, corpusCount: Int, batchSize: Int, numSteps: Int,
                            offset: Int, offsetNote: String = "") throws {
    guard batchSize > 0 else {
        throw ToolkitError(.invalidArgument, "\(function): batchSize must be positive, got \(batchSize)")
    }
    guard numSteps > 0 else {
        throw ToolkitError(.invalidArgument, "\(function): numSteps must be positive, got \(numSteps)")
    }
    guard offset >= 0 else {
        throw ToolkitError(.invalidArgument, "\(function): offset must not be negative, got \(offset)")
    }
    let needed = sequenceTokensNeeded(batchSize: batchSize, numSteps: numSteps, offset: offset)
    guard corpusCount >= needed else {
        throw ToolkitError(
            .invalidArgument,
            "\(function): the corpus has \(corpusCount) tokens, but one minibatch of batchSize \(batchSize) × "
                + "numSteps \(numSteps) needs at least \(needed) (\(batchSize * numSteps) + offset \(offset) + 1 "
                + "for the targets)\(offsetNote)")
    }
}

/// The book's `seq_data_iter_random(corpus, batch_size, num_steps)` with its random draws
/// given: the minibatches of random sampling.
///
/// As the book: drop the first `offset` tokens; cut the rest into
/// `numSubsequences = (count − offset − 1) / numSteps` subsequences of `numSteps` tokens
/// starting at `0, numSteps, 2·numSteps, …`; visit them in a shuffled order, `batchSize` at a
/// time; `numSubsequences / batchSize` minibatches (a short last one is dropped). Adjacent
/// minibatches are not adjacent in the text.
///
/// - Parameters:
///   - corpus: the token indices of the whole text, in order (``Vocab`` indices).
///   - batchSize: subsequences per minibatch (> 0).
///   - numSteps: tokens per subsequence, the time steps of a minibatch (> 0).
///   - offset: the tokens dropped first; the book draws `random.randint(0, num_steps - 1)`.
///   - order: the shuffled subsequence numbers, a permutation of `0..<numSubsequences`
///     (the book's shuffled `initial_indices` divided by `num_steps`); nil keeps text order.
/// - Throws: `ToolkitError(.invalidArgument)` when `batchSize` or `numSteps` is not
///   positive, `offset` is negative, the corpus is shorter than one minibatch (the message
///   gives both token counts) or `order` is not such a permutation.
public func seqDataIterRandom(_ corpus: [Int], batchSize: Int, numSteps: Int, offset: Int,
                              order: [Int]? = nil) throws -> [SequenceBatch] {
    try checkSequenceArguments("seqDataIterRandom", corpusCount: corpus.count, batchSize: batchSize,
                               numSteps: numSteps, offset: offset)
    let subsequences = (corpus.count - offset - 1) / numSteps
    let order = order ?? Array(0..<subsequences)
    guard order.count == subsequences else {
        throw ToolkitError(.invalidArgument,
                           "seqDataIterRandom: order has \(order.count) entries, expected \(subsequences) "
                               + "(a permutation of the subsequences 0..<\(subsequences))")
    }
    var seen = [Bool](repeating: false, count: subsequences)
    for k in order {
        guard k >= 0 && k < subsequences && !seen[k] else {
            throw ToolkitError(.invalidArgument,
                               "seqDataIterRandom: order is not a permutation of 0..<\(subsequences) "
                                   + "(\(k) is out of range or repeated)")
        }
        seen[k] = true
    }
    var batches: [SequenceBatch] = []
    batches.reserveCapacity(subsequences / batchSize)
    for start in stride(from: 0, to: (subsequences / batchSize) * batchSize, by: batchSize) {
        var batch = SequenceBatch(x: [], y: [])
        for k in order[start..<start + batchSize] {
            let position = offset + k * numSteps
            batch.x.append(Array(corpus[position..<position + numSteps]))
            batch.y.append(Array(corpus[position + 1..<position + 1 + numSteps]))
        }
        batches.append(batch)
    }
    return batches
}

/// `seqDataIterRandom` with the draws made from `generator`: the offset uniformly in
/// `0..<numSteps` (`next() % numSteps`), then the order by `shuffleIndices`. The numbers
/// differ from Python's `random`; the distribution is the book's.
///
/// - Throws: as the explicit form; the corpus must hold `batchSize · numSteps + numSteps`
///   tokens, enough for a minibatch whatever offset is drawn.
public func seqDataIterRandom(_ corpus: [Int], batchSize: Int, numSteps: Int,
                              using generator: inout SeededGenerator) throws -> [SequenceBatch] {
    try checkSequenceArguments("seqDataIterRandom", corpusCount: corpus.count, batchSize: batchSize,
                               numSteps: numSteps, offset: max(0, numSteps - 1),
                               offsetNote: "; a random offset may be up to numSteps − 1")
    let offset = Int(generator.next() % UInt64(numSteps))
    var order = Array(0..<(corpus.count - offset - 1) / numSteps)
    shuffleIndices(&order, using: &generator)
    return try seqDataIterRandom(corpus, batchSize: batchSize, numSteps: numSteps, offset: offset, order: order)
}

/// The book's `seq_data_iter_sequential(corpus, batch_size, num_steps)` with its offset
/// given: the minibatches of sequential partitioning.
///
/// As the book: after dropping `offset` tokens, the first
/// `((count − offset − 1) / batchSize) · batchSize` tokens are laid out as `batchSize` rows
/// of `rowLength` consecutive tokens each (`Xs.reshape(batch_size, -1)`), the targets
/// likewise one token later; minibatch `j` takes columns `j·numSteps ..< (j+1)·numSteps`
/// of every row, for `rowLength / numSteps` minibatches. So row `i` of minibatch `j + 1`
/// continues row `i` of minibatch `j` in the text (the hidden state can carry over).
///
/// - Parameters:
///   - corpus: the token indices of the whole text, in order (``Vocab`` indices).
///   - batchSize: rows per minibatch, each a run of consecutive text (> 0).
///   - numSteps: tokens per row of a minibatch, its time steps (> 0).
///   - offset: the tokens dropped first; the book draws `random.randint(0, num_steps)`
///     (`num_steps` included, unlike random sampling's `num_steps - 1`).
/// - Throws: `ToolkitError(.invalidArgument)` when `batchSize` or `numSteps` is not
///   positive, `offset` is negative, or the corpus is shorter than one minibatch (the
///   message gives both token counts).
public func seqDataIterSequential(_ corpus: [Int], batchSize: Int, numSteps: Int,
                                  offset: Int) throws -> [SequenceBatch] {
    try checkSequenceArguments("seqDataIterSequential", corpusCount: corpus.count, batchSize: batchSize,
                               numSteps: numSteps, offset: offset)
    let rowLength = (corpus.count - offset - 1) / batchSize
    let batchCount = rowLength / numSteps
    var batches: [SequenceBatch] = []
    batches.reserveCapacity(batchCount)
    for j in 0..<batchCount {
        var batch = SequenceBatch(x: [], y: [])
        for row in 0..<batchSize {
            let position = offset + row * rowLength + j * numSteps
            batch.x.append(Array(corpus[position..<position + numSteps]))
            batch.y.append(Array(corpus[position + 1..<position + 1 + numSteps]))
        }
        batches.append(batch)
    }
    return batches
}

/// `seqDataIterSequential` with the offset drawn from `generator`, uniformly in
/// `0...numSteps` (`next() % (numSteps + 1)`) as the book's `random.randint(0, num_steps)`.
///
/// - Throws: as the explicit form; the corpus must hold `batchSize · numSteps + numSteps + 1`
///   tokens, enough for a minibatch whatever offset is drawn.
public func seqDataIterSequential(_ corpus: [Int], batchSize: Int, numSteps: Int,
                                  using generator: inout SeededGenerator) throws -> [SequenceBatch] {
    try checkSequenceArguments("seqDataIterSequential", corpusCount: corpus.count, batchSize: batchSize,
                               numSteps: numSteps, offset: max(0, numSteps),
                               offsetNote: "; a random offset may be up to numSteps")
    let offset = Int(generator.next() % UInt64(numSteps + 1))
    return try seqDataIterSequential(corpus, batchSize: batchSize, numSteps: numSteps, offset: offset)
}

/// The book's `SeqDataLoader`: minibatches of a token corpus, a new epoch (new random
/// offset, and for random sampling a new order) at every iteration.
///
/// ```swift
/// let (trainIter, vocab) = try loadDataTimeMachine(batchSize: 32, numSteps: 35)
/// for batch in trainIter { let (x, y) = batch.tensors(); … }
/// ```
///
/// Draws: with `seed: nil` from `Random.generator` (so `Random.seed(_:)` makes runs
/// reproducible); with a seed, from the loader's own `SeededGenerator(seed:)`, shared by
/// copies and advanced every epoch (a new loader with the same seed replays the same
/// epochs). `batches(epoch:)` gives an epoch's batches without advancing anything.
public struct SeqDataLoader: Sequence {
    /// The token indices sampled from.
    public let corpus: [Int]
    /// The vocabulary of `corpus`.
    public let vocab: Vocab
    /// Subsequences per minibatch.
    public let batchSize: Int
    /// Tokens per subsequence.
    public let numSteps: Int
    /// Random sampling (`seqDataIterRandom`) instead of sequential partitioning.
    public let useRandomIter: Bool
    /// The `maxTokens` the corpus was cut to (−1: the whole text; 0 for a given corpus).
    public let maxTokens: Int
    /// The seed of the loader's own generator, or nil to use `Random.generator`.
    public let seed: UInt64?

    private final class GeneratorBox { var generator: SeededGenerator; init(_ g: SeededGenerator) { generator = g } }
    private let box: GeneratorBox?

    /// A loader over *The Time Machine* (`loadCorpusTimeMachine(maxTokens:path:)`), as the
    /// book's `SeqDataLoader(batch_size, num_steps, use_random_iter, max_tokens)`.
    ///
    /// - Throws: as `loadCorpusTimeMachine`, and `ToolkitError(.invalidArgument)` as
    ///   `init(corpus:...)`.
    public init(batchSize: Int, numSteps: Int, useRandomIter: Bool = false, maxTokens: Int = 10_000,
                path: String? = nil, seed: UInt64? = nil) throws {
        let (corpus, vocab) = try loadCorpusTimeMachine(maxTokens: maxTokens, path: path)
        try self.init(corpus: corpus, vocab: vocab, batchSize: batchSize, numSteps: numSteps,
                      useRandomIter: useRandomIter, seed: seed)
        self = SeqDataLoader(copying: self, maxTokens: maxTokens)
    }

    /// A loader over any corpus.
    ///
    /// - Throws: `ToolkitError(.invalidArgument)` when `batchSize` or `numSteps` is not
    ///   positive, or the corpus is too short for one minibatch at every offset the sampler
    ///   may draw (`batchSize · numSteps + numSteps` tokens for random sampling, one more for
    ///   sequential); the message gives both token counts.
    public init(corpus: [Int], vocab: Vocab, batchSize: Int, numSteps: Int, useRandomIter: Bool = false,
                seed: UInt64? = nil) throws {
        let name = "SeqDataLoader"
        try checkSequenceArguments(name, corpusCount: corpus.count, batchSize: batchSize, numSteps: numSteps,
                                   offset: useRandomIter ? numSteps - 1 : numSteps,
                                   offsetNote: useRandomIter ? "; a random offset may be up to numSteps − 1"
                                       : "; a random offset may be up to numSteps")
        self.corpus = corpus
        self.vocab = vocab
        self.batchSize = batchSize
        self.numSteps = numSteps
        self.useRandomIter = useRandomIter
        self.maxTokens = 0
        self.seed = seed
        box = seed.map { GeneratorBox(SeededGenerator(seed: $0)) }
    }

    private init(copying other: SeqDataLoader, maxTokens: Int) {
        corpus = other.corpus
        vocab = other.vocab
        batchSize = other.batchSize
        numSteps = other.numSteps
        useRandomIter = other.useRandomIter
        self.maxTokens = maxTokens
        seed = other.seed
        box = other.box
    }

    /// One epoch's minibatches from `generator`.
    func epoch(using generator: inout SeededGenerator) -> [SequenceBatch] {
        // The initializer checked the arguments for every offset, so this cannot throw.
        let batches = useRandomIter
            ? try? seqDataIterRandom(corpus, batchSize: batchSize, numSteps: numSteps, using: &generator)
            : try? seqDataIterSequential(corpus, batchSize: batchSize, numSteps: numSteps, using: &generator)
        return batches ?? []
    }

    /// The state of the loader's own generator (nil without a seed): saved with a checkpoint
    /// and set again when a run resumes, so that the next epochs are the ones it would have had.
    public var generatorState: UInt64? {
        get { box?.generator.state }
        nonmutating set { if let newValue { box?.generator.state = newValue } }
    }

    /// Starts a new epoch.
    public func makeIterator() -> IndexingIterator<[SequenceBatch]> {
        if let box { return epoch(using: &box.generator).makeIterator() }
        return epoch(using: &Random.generator).makeIterator()
    }

    /// The batches of epoch `epoch` (0 = the first) of a seeded loader, from the seed alone:
    /// the same as the `epoch`-th iteration of a fresh loader with that seed. Without a seed,
    /// the epoch of a loader seeded with 0.
    public func batches(epoch: Int) -> [SequenceBatch] {
        var generator = SeededGenerator(seed: seed ?? 0)
        var result: [SequenceBatch] = []
        for _ in 0...Swift.max(0, epoch) { result = self.epoch(using: &generator) }
        return result
    }
}

/// The book's `load_data_time_machine(batch_size, num_steps, use_random_iter, max_tokens)`:
/// a `SeqDataLoader` over *The Time Machine* (character tokens) and its vocabulary.
public func loadDataTimeMachine(batchSize: Int, numSteps: Int, useRandomIter: Bool = false,
                                maxTokens: Int = 10_000, path: String? = nil,
                                seed: UInt64? = nil) throws -> (loader: SeqDataLoader, vocab: Vocab) {
    let loader = try SeqDataLoader(batchSize: batchSize, numSteps: numSteps, useRandomIter: useRandomIter,
                                   maxTokens: maxTokens, path: path, seed: seed)
    return (loader, loader.vocab)
}
