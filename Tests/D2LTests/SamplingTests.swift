import XCTest
@testable import D2L

final class SamplingTests: XCTestCase {
    func testCountsSumToTheDrawsAndAreReproducible() throws {
        var a = SeededGenerator(seed: 3), b = SeededGenerator(seed: 3)
        let fair = Tensor.full([6], 1.0 / 6)
        let counts = try Tensor.multinomial(probabilities: fair, count: 10, using: &a)
        XCTAssertEqual(counts.shape, [6])
        XCTAssertEqual(counts.sum().item, 10)
        XCTAssertTrue(counts.scalars.allSatisfy { $0 >= 0 && $0 == $0.rounded() })
        XCTAssertEqual(try Tensor.multinomial(probabilities: fair, count: 10, using: &b).scalars, counts.scalars)
        let experiments = try Tensor.multinomial(probabilities: fair, count: 10, experiments: 500, using: &a)
        XCTAssertEqual(experiments.shape, [500, 6])
        XCTAssertEqual(experiments.sum(axis: 1).scalars, [Float](repeating: 10, count: 500))
        XCTAssertEqual(try Tensor.multinomial(probabilities: fair, count: 0, using: &a).scalars, [0, 0, 0, 0, 0, 0])
    }

    func testFrequenciesMatchTheProbabilities() throws {
        // 200,000 draws: each frequency's standard deviation is at most 0.0011, so 0.005
        // (≈ 4.5σ) passes an unbiased sampler and fails one off by a class or uniform.
        var generator = SeededGenerator(seed: 11)
        let p: [Float] = [0.1, 0.2, 0.3, 0.4]
        let n = 200_000
        let counts = try Tensor.multinomial(probabilities: Tensor(p), count: n, using: &generator).scalars
        for (i, c) in counts.enumerated() { XCTAssertEqual(Double(c) / Double(n), Double(p[i]), accuracy: 0.005, "class \(i)") }
        // Unnormalised weights give the same distribution; categorical agrees with multinomial.
        let indices = try Tensor.categorical(probabilities: Tensor([1, 2, 3, 4]), count: n, using: &generator)
        for i in 0..<4 {
            XCTAssertEqual(Double(indices.filter { $0 == i }.count) / Double(n), Double(p[i]), accuracy: 0.005, "class \(i)")
        }
        XCTAssertTrue(indices.allSatisfy { (0..<4).contains($0) })
        // Bernoulli.
        let coins = try Tensor.bernoulli(0.3, shape: [400, 500], using: &generator)
        XCTAssertEqual(coins.shape, [400, 500])
        XCTAssertTrue(coins.scalars.allSatisfy { $0 == 0 || $0 == 1 })
        XCTAssertEqual(Double(coins.mean().item), 0.3, accuracy: 0.005)
    }

    func testDegenerateDistributions() throws {
        var generator = SeededGenerator(seed: 5)
        XCTAssertEqual(try Tensor.multinomial(probabilities: Tensor([0, 1, 0]), count: 1000, using: &generator).scalars,
                       [0, 1000, 0])
        XCTAssertEqual(Set(try Tensor.categorical(probabilities: Tensor([0, 1, 0]), count: 1000, using: &generator)), [1])
        // A class of probability 0 between others is never drawn; the last class is reached.
        let counts = try Tensor.multinomial(probabilities: Tensor([0.5, 0, 0.5, 0]), count: 10_000, using: &generator).scalars
        XCTAssertEqual(counts[1], 0)
        XCTAssertEqual(counts[3], 0)
        XCTAssertGreaterThan(counts[0], 4_500)
        XCTAssertGreaterThan(counts[2], 4_500)
        XCTAssertEqual(try Tensor.bernoulli(0, shape: [100], using: &generator).scalars, [Float](repeating: 0, count: 100))
        XCTAssertEqual(try Tensor.bernoulli(1, shape: [100], using: &generator).scalars, [Float](repeating: 1, count: 100))
    }

    func testBadProbabilitiesAreRefused() {
        var generator = SeededGenerator(seed: 1)
        assertDataToolkitError(.invalidArgument, containing: ["probability 1", "-0.5", "≥ 0"]) {
            _ = try Tensor.multinomial(probabilities: Tensor([0.5, -0.5, 1]), count: 1, using: &generator)
        }
        assertDataToolkitError(.invalidArgument, containing: ["probability 0", "nan"]) {
            _ = try Tensor.multinomial(probabilities: Tensor([Float.nan, 1]), count: 1, using: &generator)
        }
        assertDataToolkitError(.invalidArgument, containing: ["probability 2", "inf"]) {
            _ = try Tensor.categorical(probabilities: Tensor([1, 1, Float.infinity]), count: 1, using: &generator)
        }
        assertDataToolkitError(.invalidArgument, containing: ["sum to 0"]) {
            _ = try Tensor.multinomial(probabilities: Tensor([0, 0]), count: 1, using: &generator)
        }
        assertDataToolkitError(.invalidArgument, containing: ["vector", "[2, 2]"]) {
            _ = try Tensor.multinomial(probabilities: Tensor([[0.5, 0.5], [0.5, 0.5]]), count: 1, using: &generator)
        }
        assertDataToolkitError(.invalidArgument, containing: ["count", "-1"]) {
            _ = try Tensor.multinomial(probabilities: Tensor([1]), count: -1, using: &generator)
        }
        assertDataToolkitError(.invalidArgument, containing: ["experiments", "-2"]) {
            _ = try Tensor.multinomial(probabilities: Tensor([1]), count: 1, experiments: -2, using: &generator)
        }
        assertDataToolkitError(.invalidArgument, containing: ["[0, 1]", "1.5"]) {
            _ = try Tensor.bernoulli(1.5, shape: [2], using: &generator)
        }
    }
}
