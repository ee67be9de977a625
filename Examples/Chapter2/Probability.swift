import D2L

/// 2.6 Probability: rolling a fair die by sampling a multinomial distribution, relative
/// frequencies as estimates of the probabilities, and how the estimates converge to 1/6
/// as the experiments accumulate.
enum Probability {
    static let section = BookSection(name: "probability", number: "2.6", title: "Probability", run: run)

    static func run(_ book: BookContext) throws {
        var generator = SeededGenerator(seed: 42)

        // Basic probability theory: a fair die, each face with probability 1/6.
        let fairProbs = Tensor.ones([6]) / 6
        let one = try Tensor.multinomial(probabilities: fairProbs, count: 1, using: &generator)
        book.show("Multinomial(1, fair_probs).sample()", one, decimals: 1)
        book.check(one.sum().item == 1 && one.max().item == 1, "one draw puts a single 1 in one of the six places")
        book.show("Multinomial(10, fair_probs).sample()", try Tensor.multinomial(probabilities: fairProbs, count: 10, using: &generator),
                  decimals: 1)

        // Relative frequency as the estimate of each face's probability, from 1000 rolls.
        let counts = try Tensor.multinomial(probabilities: fairProbs, count: 1000, using: &generator)
        let frequencies = counts / 1000
        book.show("counts / 1000", frequencies, decimals: 3)
        book.check(counts.sum().item == 1000, "the 1000 rolls are all counted")
        book.check((frequencies - 1.0 / 6).abs().max().item < 0.05, "each frequency of 1000 rolls is within 0.05 of 1/6")

        // 500 groups of 10 rolls: the estimates after each group, converging to the true 1/6.
        let groups = try Tensor.multinomial(probabilities: fairProbs, count: 10, experiments: 500, using: &generator)
        let cumCounts = groups.cumsum(axis: 0)
        let estimates = cumCounts / cumCounts.sum(axis: 1, keepDims: true)
        book.show("estimates after 500 groups", estimates[499], decimals: 3)
        book.check((estimates[499] - 1.0 / 6).abs().max().item < 0.03, "after 5000 rolls each estimate is within 0.03 of 1/6")
        let early = (estimates[9] - 1.0 / 6).abs().max().item, late = (estimates[499] - 1.0 / 6).abs().max().item
        print("largest error after 10 groups \(formatNumber(early, decimals: 3)), after 500 groups \(formatNumber(late, decimals: 3))")
        book.check(late < early, "the estimates are closer to 1/6 after 500 groups than after 10")

        var chart = CurveChart(xLabel: "Groups of experiments", yLabel: "Estimated probability", width: 6 * 80, height: 4.5 * 80)
        let rows = estimates.rows
        chart.series = (0..<6).map { i in
            ("P(die=\(i + 1))", rows.enumerated().map { (Double($0.offset), Double($0.element[i])) })
        }
        chart.referenceLines = [("1/6", 1.0 / 6)]  // the book: axhline(y=0.167, color="black", linestyle="dashed")
        try book.save(chart, as: "estimates")
    }
}
