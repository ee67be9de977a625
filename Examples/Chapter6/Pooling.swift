import D2L

/// 6.5 Pooling: maximum and average pooling from scratch, then the framework's pooling
/// layers with padding and stride (square and rectangular windows) and several channels.
enum Pooling {
    static let section = BookSection(name: "pooling", number: "6.5", title: "Pooling", run: run)

    enum Mode { case max, avg }

    /// The book's `pool2d`: the maximum or the mean of every `poolSize` window of X `[h, w]`.
    static func pool2d(_ X: Tensor, _ poolSize: (Int, Int), _ mode: Mode = .max) -> Tensor {
        let (pH, pW) = poolSize
        var Y = Tensor.zeros([X.shape[0] - pH + 1, X.shape[1] - pW + 1])
        for i in 0..<Y.shape[0] {
            for j in 0..<Y.shape[1] {
                let window = X[.range(i..<(i + pH)), .range(j..<(j + pW))]
                switch mode {
                case .max: Y[.at(i), .at(j)] = window.max()
                case .avg: Y[.at(i), .at(j)] = window.mean()
                }
            }
        }
        return Y
    }

    static func run(_ book: BookContext) throws {
        // Maximum pooling and average pooling, from scratch.
        var X = Tensor([[0, 1, 2], [3, 4, 5], [6, 7, 8]])
        let maxPooled = pool2d(X, (2, 2)), avgPooled = pool2d(X, (2, 2), .avg)
        book.show("pool2d(X, (2, 2))", maxPooled)
        book.show("pool2d(X, (2, 2), \"avg\")", avgPooled)
        book.check(maxPooled.scalars == [4, 5, 7, 8], "max pooling gives [[4, 5], [7, 8]]")
        book.check(avgPooled.scalars == [2, 3, 5, 6], "average pooling gives [[2, 3], [5, 6]]")

        // Padding and stride: the framework's layer on a 1×1×4×4 input.
        X = Tensor.arange(16).reshaped([1, 1, 4, 4])
        book.show("X", X)
        let pool3 = try MaxPool2d(3)(X)  // the stride defaults to the window: one 3×3 window fits
        book.show("MaxPool2d(3)(X)", pool3)
        book.check(pool3.shape == [1, 1, 1, 1] && pool3.item == 10, "MaxPool2d(3) gives [[[[10]]]]")
        let padded = try MaxPool2d(3, padding: 1, stride: 2)(X)
        book.show("MaxPool2d(3, padding: 1, stride: 2)(X)", padded)
        book.check(padded.scalars == [5, 7, 13, 15], "MaxPool2d(3, padding: 1, stride: 2) gives [[5, 7], [13, 15]]")
        // A rectangular window with its own stride and padding per dimension.
        let rectangular = try MaxPool2d(kernelSize: (2, 3), stride: (2, 3), padding: (0, 1))(X)
        book.show("MaxPool2d((2, 3), stride: (2, 3), padding: (0, 1))(X)", rectangular)
        book.check(rectangular.shape == [1, 1, 2, 2] && rectangular.scalars == [5, 7, 13, 15],
                   "the (2, 3) window with stride (2, 3) and padding (0, 1) gives [[5, 7], [13, 15]]")

        // Multiple channels: pooling each channel on its own keeps the channel count.
        X = Tensor.concat([X, X + 1], axis: 1)
        book.show("X", X)
        let twoChannels = try MaxPool2d(3, padding: 1, stride: 2)(X)
        book.show("MaxPool2d(3, padding: 1, stride: 2)(X)", twoChannels)
        book.check(twoChannels.shape == [1, 2, 2, 2]
                   && twoChannels[.all, .at(1)].scalars == twoChannels[.all, .at(0)].scalars.map { $0 + 1 },
                   "two channels in, two channels out, the second one the first plus 1")
    }
}
