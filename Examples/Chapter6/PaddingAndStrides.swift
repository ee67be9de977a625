import D2L

/// 6.3 Padding and Stride: the output shapes of a convolution on an 8×8 input with
/// padding (keeping the size) and strides (dividing it).
enum PaddingAndStrides {
    static let section = BookSection(name: "padding-and-strides", number: "6.3",
                                     title: "Padding and Stride", run: run)

    /// The book's `comp_conv2d`: adds the batch and channel dimensions (1, 1) to X,
    /// applies the convolution and removes them again.
    static func compConv2d(_ conv2d: Conv2d, _ X: Tensor) throws -> Tensor {
        let Y = try conv2d(X.reshaped([1, 1] + X.shape))
        return Y.reshaped(Array(Y.shape[2...]))
    }

    static func run(_ book: BookContext) throws {
        let X = Tensor.rand([8, 8])
        // (what, the layer, the output shape: ⌊(n + 2p − k) / s⌋ + 1 per dimension)
        let cases: [(String, Conv2d, [Int])] = [
            // Padding: a 3×3 kernel and one row and column on each side keep 8×8.
            ("kernel 3, padding 1",
             Conv2d(inputChannels: 1, outputChannels: 1, kernelSize: 3, padding: 1), [8, 8]),
            // A 5×3 kernel needs padding 2 rows and 1 column on each side.
            ("kernel (5, 3), padding (2, 1)",
             Conv2d(inputChannels: 1, outputChannels: 1, kernelSize: (5, 3), padding: (2, 1)), [8, 8]),
            // Stride: a stride of 2 halves the height and the width.
            ("kernel 3, padding 1, stride 2",
             Conv2d(inputChannels: 1, outputChannels: 1, kernelSize: 3, stride: 2, padding: 1), [4, 4]),
            ("kernel (3, 5), padding (0, 1), stride (3, 4)",
             Conv2d(inputChannels: 1, outputChannels: 1, kernelSize: (3, 5), stride: (3, 4), padding: (0, 1)), [2, 2]),
        ]
        for (what, conv2d, expected) in cases {
            let shape = try compConv2d(conv2d, X).shape
            print("\(what): output shape \(shape)")
            book.check(shape == expected, "\(what) gives \(expected)")
        }
    }
}
