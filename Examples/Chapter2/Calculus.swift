import D2L
import Foundation

/// 2.4 Calculus: the derivative of f(x) = 3x² − 4x at x = 1 as the limit of difference
/// quotients, and the plot of f with its tangent line y = 2x − 3 at x = 1.
enum Calculus {
    static let section = BookSection(name: "calculus", number: "2.4", title: "Calculus", run: run)

    static func f(_ x: Double) -> Double { 3 * x * x - 4 * x }

    /// (f(x + h) − f(x)) / h.
    static func numericalLim(_ f: (Double) -> Double, _ x: Double, _ h: Double) -> Double { (f(x + h) - f(x)) / h }

    static func run(_ book: BookContext) throws {
        // Derivatives and differentiation: as h → 0 the quotient approaches f'(1) = 6·1 − 4 = 2.
        var h = 0.1
        var limits: [Double] = []
        for _ in 0..<5 {
            let limit = numericalLim(f, 1, h)
            limits.append(limit)
            print(String(format: "h=%.5f, numerical limit=%.5f", h, limit))
            h *= 0.1
        }
        book.check(zip(limits, limits.dropFirst()).allSatisfy { abs($1 - 2) < abs($0 - 2) }, "each smaller h brings the quotient closer to 2")
        book.check(abs(limits.last! - 2) < 1e-4, "with h = 0.00001 the quotient is within 0.0001 of 2")

        // Plotting f and its tangent line at x = 1: y = f'(1)(x − 1) + f(1) = 2x − 3.
        let xs = (0..<30).map { Double($0) * 0.1 }
        var chart = CurveChart(xLabel: "x", yLabel: "f(x)")
        chart.series = [
            ("f(x)", xs.map { ($0, f($0)) }),
            ("Tangent line (x=1)", xs.map { ($0, 2 * $0 - 3) }),
        ]
        try book.save(chart, as: "tangent")
        book.check(abs(f(1) - (2 * 1 - 3)) < 1e-12, "the tangent line touches f at x = 1")
    }
}
