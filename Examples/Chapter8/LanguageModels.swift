import D2L
import Foundation

/// 8.3 Language Models and the Data Set: word frequencies of *The Time Machine* (Zipf's
/// law on log-log axes), bigrams and trigrams, and the two ways to cut a long sequence
/// into minibatches (random sampling and sequential partitioning).
enum LanguageModels {
    static let section = BookSection(name: "language-models", number: "8.3",
                                     title: "Language Models and the Dataset", run: run)

    /// The n-grams of `corpus` as single tokens (words joined by a separator no word holds).
    static func nGrams(_ corpus: [String], _ n: Int) -> [String] {
        guard corpus.count >= n else { return [] }
        return (0...(corpus.count - n)).map { corpus[$0..<($0 + n)].joined(separator: "\u{1}") }
    }

    static func run(_ book: BookContext) throws {
        // Natural language statistics: the most frequent words are stop words.
        let tokens = tokenize(try readTimeMachine(path: book.timeMachinePath))
        let corpus = tokens.flatMap { $0 }
        let vocab = Vocab(tokens: corpus)
        print(pythonPairs(Array(vocab.tokenFrequencies.prefix(10))))

        // Zipf's law: frequency falls as a power of the rank.
        let freqs = vocab.tokenFrequencies.map(\.1)
        func rankSeries(_ f: [Int]) -> [(x: Double, y: Double)] { f.enumerated().map { (Double($0.offset + 1), Double($0.element)) } }
        var zipf = CurveChart(xLabel: "token: x", yLabel: "frequency: n(x)", series: [("unigram", rankSeries(freqs))])
        zipf.logX = true
        zipf.logY = true
        try book.save(zipf, as: "zipf")

        // Bigrams and trigrams.
        let bigramFreqs = countCorpus(nGrams(corpus, 2))
        let trigramFreqs = countCorpus(nGrams(corpus, 3))
        func split(_ pairs: [(String, Int)]) -> [([String], Int)] {
            pairs.map { ($0.0.split(separator: "\u{1}", omittingEmptySubsequences: false).map(String.init), $0.1) }
        }
        print(pythonNGramPairs(split(Array(bigramFreqs.prefix(10)))))
        print(pythonNGramPairs(split(Array(trigramFreqs.prefix(10)))))
        var ngrams = zipf
        ngrams.series = [("unigram", rankSeries(freqs)), ("bigram", rankSeries(bigramFreqs.map(\.1))),
                         ("trigram", rankSeries(trigramFreqs.map(\.1)))]
        try book.save(ngrams, as: "ngrams")
        book.check(bigramFreqs.count > vocab.tokenFrequencies.count && trigramFreqs.count > bigramFreqs.count,
                   "there are more distinct trigrams than bigrams than words")
        // Zipf: log-frequency against log-rank is close to a line of slope about −1 over ranks 10…1000.
        let slope = (log10(Double(freqs[999])) - log10(Double(freqs[9]))) / (log10(1000) - log10(10))
        print("Zipf exponent (ranks 10 to 1000): \(formatNumber(Float(-slope), decimals: 2))")
        book.check(slope < -0.7 && slope > -1.3, "word frequencies follow Zipf's law with an exponent near 1")

        // Reading long sequence data: my_seq = 0…34, batch 2, 5 steps.
        let mySeq = Array(0..<35)
        var generator = SeededGenerator(seed: 0)
        var shifted = true, sequentialAdjacent = true
        for batch in try seqDataIterRandom(mySeq, batchSize: 2, numSteps: 5, using: &generator) {
            print("X: ", batch.x, "\nY:", batch.y)
            shifted = shifted && zip(batch.x, batch.y).allSatisfy { x, y in zip(x, y).allSatisfy { $1 == $0 + 1 } }
        }
        var previous: SequenceBatch?
        for batch in try seqDataIterSequential(mySeq, batchSize: 2, numSteps: 5, using: &generator) {
            print("X: ", batch.x, "\nY:", batch.y)
            shifted = shifted && zip(batch.x, batch.y).allSatisfy { x, y in zip(x, y).allSatisfy { $1 == $0 + 1 } }
            // Sequential partitioning: each row continues where the same row of the last minibatch ended.
            if let previous {
                sequentialAdjacent = sequentialAdjacent && zip(previous.x, batch.x).allSatisfy { $0.last! + 1 == $1.first! }
            }
            previous = batch
        }
        book.check(shifted, "every label sequence Y is its X shifted by one token")
        book.check(sequentialAdjacent, "sequential minibatches continue each row of the previous one")
    }
}
