import XCTest
@testable import D2L

final class DataSamplerTests: XCTestCase {
    func testEveryIndexOncePerEpoch() throws {
        for shuffle in [false, true] {
            let sampler = try MinibatchSampler(count: 103, batchSize: 10, shuffle: shuffle, seed: 42)
            XCTAssertEqual(sampler.batchCount, 11)
            for _ in 0..<3 {
                let batches = Array(sampler)
                XCTAssertEqual(batches.count, 11)
                XCTAssertEqual(batches.map(\.count), Array(repeating: 10, count: 10) + [3])
                XCTAssertEqual(batches.flatMap { $0 }.sorted(), Array(0..<103))
                if !shuffle { XCTAssertEqual(batches.flatMap { $0 }, Array(0..<103)) }
            }
        }
    }

    func testSameSeedSameOrderAndEpochsDiffer() throws {
        let a = try MinibatchSampler(count: 50, batchSize: 8, shuffle: true, seed: 7)
        let b = try MinibatchSampler(count: 50, batchSize: 8, shuffle: true, seed: 7)
        let a0 = Array(a), a1 = Array(a)
        let b0 = Array(b), b1 = Array(b)
        XCTAssertEqual(a0, b0)
        XCTAssertEqual(a1, b1)
        XCTAssertNotEqual(a0, a1)
        XCTAssertNotEqual(a0.flatMap { $0 }, Array(0..<50))
        XCTAssertEqual(a.batches(epoch: 0), a0)
        XCTAssertEqual(a.batches(epoch: 1), a1)
        let c = try MinibatchSampler(count: 50, batchSize: 8, shuffle: true, seed: 8)
        XCTAssertNotEqual(Array(c), a0)
    }

    func testUnseededUsesDefaultGenerator() throws {
        let sampler = try MinibatchSampler(count: 30, batchSize: 4, shuffle: true)
        Random.seed(123)
        let first = Array(sampler)
        Random.seed(123)
        XCTAssertEqual(Array(sampler), first)
        XCTAssertNotEqual(Array(sampler), first)
    }

    func testDropLastAndEdgeCases() throws {
        let sampler = try MinibatchSampler(count: 23, batchSize: 5, shuffle: true, seed: 1, dropLast: true)
        XCTAssertEqual(sampler.batchCount, 4)
        let batches = Array(sampler)
        XCTAssertEqual(batches.map(\.count), [5, 5, 5, 5])
        XCTAssertEqual(Set(batches.flatMap { $0 }).count, 20)
        XCTAssertEqual(Array(try MinibatchSampler(count: 0, batchSize: 5, shuffle: true)).count, 0)
        XCTAssertEqual(Array(try MinibatchSampler(count: 3, batchSize: 5, shuffle: false, dropLast: true)).count, 0)
        XCTAssertEqual(Array(try MinibatchSampler(count: 3, batchSize: 5, shuffle: false)), [[0, 1, 2]])
        assertDataToolkitError(.invalidArgument, containing: ["batchSize", "0"]) {
            _ = try MinibatchSampler(count: 10, batchSize: 0, shuffle: false)
        }
        assertDataToolkitError(.invalidArgument, containing: ["count", "-1"]) {
            _ = try MinibatchSampler(count: -1, batchSize: 2, shuffle: false)
        }
    }

    func testShuffleIsAPermutation() {
        var rng = SeededGenerator(seed: 99)
        var indices = Array(0..<1000)
        shuffleIndices(&indices, using: &rng)
        XCTAssertEqual(indices.sorted(), Array(0..<1000))
        XCTAssertNotEqual(indices, Array(0..<1000))
    }

    func testKFoldLikeTheBook() throws {
        // count 11, k 3: fold size 3, rows 9 and 10 dropped.
        let splits = try kFoldSplits(count: 11, k: 3)
        XCTAssertEqual(splits.count, 3)
        XCTAssertEqual(splits[0].validation, [0, 1, 2])
        XCTAssertEqual(splits[0].train, [3, 4, 5, 6, 7, 8])
        XCTAssertEqual(splits[1].validation, [3, 4, 5])
        XCTAssertEqual(splits[1].train, [0, 1, 2, 6, 7, 8])
        XCTAssertEqual(splits[2].validation, [6, 7, 8])
        XCTAssertEqual(splits[2].train, [0, 1, 2, 3, 4, 5])
        // The book's house prices: 1460 rows, k = 5.
        let house = try kFoldSplits(count: 1460, k: 5)
        XCTAssertTrue(house.allSatisfy { $0.validation.count == 292 && $0.train.count == 1168 })
        assertDataToolkitError(.invalidArgument, containing: ["k must be at least 2"]) { _ = try kFoldSplits(count: 10, k: 1) }
        assertDataToolkitError(.invalidArgument, containing: ["2 rows", "3 folds"]) { _ = try kFoldSplits(count: 2, k: 3) }
    }
}
