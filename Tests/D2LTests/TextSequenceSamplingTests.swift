import Foundation
import XCTest
@testable import D2L

final class TextSequenceSamplingTests: XCTestCase {
    private func batches(_ record: [String: Any]) -> [SequenceBatch] {
        (record["batches"] as? [[String: Any]] ?? []).map {
            SequenceBatch(x: $0["X"] as? [[Int]] ?? [], y: $0["Y"] as? [[Int]] ?? [])
        }
    }

    private func digest(_ batches: [SequenceBatch]) -> String {
        SHA1.hexDigest(text: batches.flatMap { $0.x + $0.y }.flatMap { $0 }.map(String.init).joined(separator: ","))
    }

    private func check(_ got: [SequenceBatch], _ record: [String: Any], _ what: String,
                       file: StaticString = #filePath, line: UInt = #line) {
        let expected = batches(record)
        XCTAssertFalse(expected.isEmpty, file: file, line: line)
        XCTAssertEqual(got.count, record["num_batches"] as? Int, "\(what): batch count", file: file, line: line)
        XCTAssertEqual(Array(got.prefix(expected.count)), expected, "\(what): first batches", file: file, line: line)
        XCTAssertEqual(digest(got), record["all_batches_sha1"] as? String, "\(what): all batches", file: file, line: line)
    }

    func testToyExampleMatchesTheBook() throws {
        let fixture = try textFixture("toy.json")
        let corpus = Array(0..<35)
        let sequential = try XCTUnwrap(fixture["sequential"] as? [String: Any])
        check(try seqDataIterSequential(corpus, batchSize: 2, numSteps: 5, offset: sequential["offset"] as? Int ?? -1),
              sequential, "sequential")
        let random = try XCTUnwrap(fixture["random"] as? [String: Any])
        check(try seqDataIterRandom(corpus, batchSize: 2, numSteps: 5, offset: random["offset"] as? Int ?? -1,
                                    order: random["order"] as? [Int]), random, "random")
    }

    func testTimeMachineBatchesMatchTheBook() throws {
        let path = try timeMachinePath()
        for name in ["sequential.json", "random.json"] {
            let record = try textFixture(name)
            let (corpus, _) = try loadCorpusTimeMachine(maxTokens: record["max_tokens"] as? Int ?? -1, path: path)
            XCTAssertEqual(corpus.count, record["corpus_length"] as? Int)
            let batchSize = record["batch_size"] as? Int ?? -1, numSteps = record["num_steps"] as? Int ?? -1
            let offset = record["offset"] as? Int ?? -1
            if let order = record["order"] as? [Int] {
                let head = record["initial_indices_head"] as? [Int] ?? []
                XCTAssertEqual(order.prefix(head.count).map { $0 * numSteps }, head)
                check(try seqDataIterRandom(corpus, batchSize: batchSize, numSteps: numSteps, offset: offset, order: order),
                      record, name)
            } else {
                check(try seqDataIterSequential(corpus, batchSize: batchSize, numSteps: numSteps, offset: offset),
                      record, name)
            }
        }
    }

    func testBatchStructure() throws {
        let corpus = (0..<103).map { $0 * 10 }
        // Sequential: 2 rows of (103 − 2 − 1) / 2 = 50 tokens; 50 / 7 = 7 batches.
        let sequential = try seqDataIterSequential(corpus, batchSize: 2, numSteps: 7, offset: 2)
        XCTAssertEqual(sequential.count, 7)
        XCTAssertEqual(sequential[0].x, [Array(corpus[2..<9]), Array(corpus[52..<59])])
        for (j, batch) in sequential.enumerated() {
            XCTAssertEqual(batch.x.count, 2)
            for row in 0..<2 {
                XCTAssertEqual(batch.y[row], batch.x[row].map { $0 + 10 }, "targets are the next tokens")
                XCTAssertEqual(batch.x[row][0], corpus[2 + row * 50 + j * 7], "rows continue across batches")
            }
        }
        // Random, text order: (103 − 3 − 1) / 7 = 14 subsequences, 14 / 4 = 3 batches.
        let inOrder = try seqDataIterRandom(corpus, batchSize: 4, numSteps: 7, offset: 3)
        XCTAssertEqual(inOrder.count, 3)
        XCTAssertEqual(inOrder[1].x[0], Array(corpus[31..<38]))
        let order = Array((0..<14).reversed())
        let reversed = try seqDataIterRandom(corpus, batchSize: 4, numSteps: 7, offset: 3, order: order)
        XCTAssertEqual(reversed[0].x[0], Array(corpus[94..<101]))
        XCTAssertEqual(reversed[0].y[0], Array(corpus[95..<102]))

        let (x, y) = sequential[1].tensors()
        XCTAssertEqual(x.shape, [2, 7])
        XCTAssertEqual(y.shape, [2, 7])
        XCTAssertEqual(x.scalars, sequential[1].x.flatMap { $0.map(Float.init) })
        XCTAssertEqual(y.scalars, sequential[1].y.flatMap { $0.map(Float.init) })
    }

    func testSeededDrawsAreReproducibleAndValid() throws {
        let corpus = Array(0..<200)
        var g1 = SeededGenerator(seed: 7), g2 = SeededGenerator(seed: 7)
        let a = try seqDataIterRandom(corpus, batchSize: 3, numSteps: 5, using: &g1)
        let b = try seqDataIterRandom(corpus, batchSize: 3, numSteps: 5, using: &g2)
        XCTAssertEqual(a, b)
        let starts = a.flatMap { $0.x.map { $0[0] } }
        XCTAssertEqual(Set(starts).count, starts.count, "each subsequence at most once per epoch")
        let offset = starts[0] % 5
        XCTAssertTrue(starts.allSatisfy { $0 % 5 == offset }, "one offset per epoch")
        XCTAssertEqual(a.count, ((200 - offset - 1) / 5) / 3)
        XCTAssertNotEqual(starts, starts.sorted(), "shuffled")

        var offsets = Set<Int>()
        var g = SeededGenerator(seed: 1)
        for _ in 0..<60 {
            let epoch = try seqDataIterSequential(corpus, batchSize: 2, numSteps: 5, using: &g)
            offsets.insert(epoch[0].x[0][0])
        }
        XCTAssertEqual(offsets, Set(0...5), "randint(0, num_steps): num_steps included")
    }

    func testErrorsNameTheTokenCounts() {
        let ten = Array(0..<10)
        assertTextError(.invalidArgument, containing: ["10 tokens", "at least 11"]) {
            _ = try seqDataIterSequential(ten, batchSize: 2, numSteps: 5, offset: 0)
        }
        assertTextError(.invalidArgument, containing: ["10 tokens", "at least 13", "offset 2"]) {
            _ = try seqDataIterRandom(ten, batchSize: 2, numSteps: 5, offset: 2)
        }
        XCTAssertEqual(try seqDataIterSequential(Array(0..<11), batchSize: 2, numSteps: 5, offset: 0).count, 1)
        XCTAssertEqual(try seqDataIterRandom(Array(0..<11), batchSize: 2, numSteps: 5, offset: 0).count, 1)
        var g = SeededGenerator(seed: 0)
        assertTextError(.invalidArgument, containing: ["11 tokens", "at least 16"]) {
            _ = try seqDataIterSequential(Array(0..<11), batchSize: 2, numSteps: 5, using: &g)
        }
        assertTextError(.invalidArgument, containing: ["batchSize", "0"]) {
            _ = try seqDataIterSequential(ten, batchSize: 0, numSteps: 5, offset: 0)
        }
        assertTextError(.invalidArgument, containing: ["numSteps", "-1"]) {
            _ = try seqDataIterRandom(ten, batchSize: 1, numSteps: -1, offset: 0)
        }
        assertTextError(.invalidArgument, containing: ["offset", "-3"]) {
            _ = try seqDataIterRandom(ten, batchSize: 1, numSteps: 2, offset: -3)
        }
        assertTextError(.invalidArgument, containing: ["order has 3 entries", "expected 4"]) {
            _ = try seqDataIterRandom(ten, batchSize: 1, numSteps: 2, offset: 0, order: [0, 1, 2])
        }
        assertTextError(.invalidArgument, containing: ["not a permutation", "0..<4"]) {
            _ = try seqDataIterRandom(ten, batchSize: 1, numSteps: 2, offset: 0, order: [0, 1, 1, 3])
        }
        let vocab = Vocab(tokens: ["a"])
        assertTextError(.invalidArgument, containing: ["SeqDataLoader", "20 tokens", "at least 26"]) {
            _ = try SeqDataLoader(corpus: Array(0..<20), vocab: vocab, batchSize: 4, numSteps: 5)
        }
        assertTextError(.invalidArgument, containing: ["SeqDataLoader", "batchSize must be positive"]) {
            _ = try SeqDataLoader(corpus: Array(0..<20), vocab: vocab, batchSize: 0, numSteps: 5)
        }
    }

    func testLoaderEpochs() throws {
        let vocab = Vocab(tokens: ["a"])
        for useRandom in [false, true] {
            let loader = try SeqDataLoader(corpus: Array(0..<100), vocab: vocab, batchSize: 2, numSteps: 5,
                                           useRandomIter: useRandom, seed: 42)
            let first = Array(loader), second = Array(loader)
            XCTAssertEqual(first, loader.batches(epoch: 0))
            XCTAssertEqual(second, loader.batches(epoch: 1))
            let replay = try SeqDataLoader(corpus: Array(0..<100), vocab: vocab, batchSize: 2, numSteps: 5,
                                           useRandomIter: useRandom, seed: 42)
            XCTAssertEqual(Array(replay), first)
            XCTAssertFalse(first.isEmpty)
            XCTAssertTrue(first.allSatisfy { $0.x.count == 2 && $0.x.allSatisfy { $0.count == 5 } })
        }
        Random.seed(3)
        let unseeded = try SeqDataLoader(corpus: Array(0..<100), vocab: vocab, batchSize: 2, numSteps: 5,
                                         useRandomIter: true)
        let a = Array(unseeded)
        Random.seed(3)
        XCTAssertEqual(Array(unseeded), a, "Random.seed makes unseeded loaders reproducible")
    }

    func testLoadDataTimeMachine() throws {
        let path = try timeMachinePath()
        let (loader, vocab) = try loadDataTimeMachine(batchSize: 32, numSteps: 35, path: path, seed: 0)
        XCTAssertEqual(vocab.count, 28)
        XCTAssertEqual(loader.corpus.count, 10_000)
        XCTAssertEqual(loader.maxTokens, 10_000)
        XCTAssertFalse(loader.useRandomIter)
        let batches = Array(loader)
        XCTAssertGreaterThanOrEqual(batches.count, (9_964 / 32) / 35)
        XCTAssertEqual(batches[0].tensors().x.shape, [32, 35])
        let (randomLoader, _) = try loadDataTimeMachine(batchSize: 32, numSteps: 35, useRandomIter: true,
                                                        path: path, seed: 0)
        XCTAssertTrue(randomLoader.useRandomIter)
        XCTAssertEqual(Array(randomLoader).first?.y.count, 32)
    }
}
