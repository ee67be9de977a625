import D2L

/// 6.4 Multiple Input and Multiple Output Channels: cross-correlation summed over input
/// channels, one kernel per output channel, and the 1×1 convolution as a matrix product.
enum Channels {
    static let section = BookSection(name: "channels", number: "6.4",
                                     title: "Multiple Input and Multiple Output Channels", run: run)

    /// One cross-correlation per input channel of X `[ci, h, w]` with K `[ci, kh, kw]`,
    /// summed.
    static func corr2dMultiIn(_ X: Tensor, _ K: Tensor) -> Tensor {
        (1..<X.shape[0]).reduce(corr2d(X[0], K[0])) { sum, i in sum + corr2d(X[i], K[i]) }
    }

    /// One multi-input cross-correlation per output channel of K `[co, ci, kh, kw]`,
    /// stacked: `[co, h', w']`.
    static func corr2dMultiInOut(_ X: Tensor, _ K: Tensor) -> Tensor {
        Tensor.stack((0..<K.shape[0]).map { corr2dMultiIn(X, K[$0]) }, axis: 0)
    }

    /// The 1×1 convolution as a fully connected layer on every pixel: K `[co, ci, 1, 1]`
    /// as a `[co, ci]` matrix times X as `[ci, h·w]`.
    static func corr2dMultiInOut1x1(_ X: Tensor, _ K: Tensor) -> Tensor {
        let (ci, h, w) = (X.shape[0], X.shape[1], X.shape[2])
        let co = K.shape[0]
        let Y = K.reshaped([co, ci]).matmul(X.reshaped([ci, h * w]))
        return Y.reshaped([co, h, w])
    }

    static func run(_ book: BookContext) throws {
        // Multiple input channels: two channels, two 2×2 kernels.
        let X = Tensor([[[0, 1, 2], [3, 4, 5], [6, 7, 8]], [[1, 2, 3], [4, 5, 6], [7, 8, 9]]].flatMap { $0.flatMap { $0 } },
                       shape: [2, 3, 3])
        var K = Tensor([0, 1, 2, 3, 1, 2, 3, 4], shape: [2, 2, 2])
        let multiIn = corr2dMultiIn(X, K)
        book.show("corr2d_multi_in(X, K)", multiIn)
        book.check(multiIn.scalars == [56, 72, 104, 120], "corr2d_multi_in(X, K) is [[56, 72], [104, 120]]")

        // Multiple output channels: three kernels K, K + 1, K + 2.
        K = Tensor.stack([K, K + 1, K + 2], axis: 0)
        print("K.shape = \(K.shape)")
        let multiInOut = corr2dMultiInOut(X, K)
        book.show("corr2d_multi_in_out(X, K)", multiInOut)
        book.check(multiInOut.shape == [3, 2, 2] && multiInOut[0].scalars == multiIn.scalars,
                   "three output channels, the first one corr2d_multi_in(X, K)")

        // The 1×1 convolutional layer equals the matrix product.
        Random.seed(64)
        let X1 = Tensor.randn([3, 3, 3]), K1 = Tensor.randn([2, 3, 1, 1])
        let Y1 = corr2dMultiInOut1x1(X1, K1), Y2 = corr2dMultiInOut(X1, K1)
        let difference = (Y1 - Y2).abs().sum().item
        print("sum |Y1 − Y2| = \(difference)")
        book.check(Y1.shape == [2, 3, 3] && difference < 1e-6, "the 1×1 convolution as a matrix product equals corr2d_multi_in_out")
    }
}
