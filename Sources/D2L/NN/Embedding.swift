/// A lookup table of `count` vectors of `dimension` floats (`nn.Embedding`): token ids
/// `[…]` (a tensor of integral float values, or `[Int]`) → `[…, dimension]`. Parameter
/// `weight [count, dimension]`, initialised N(0, 1) as in PyTorch; the backward adds
/// into the rows that were looked up (repeats accumulate).
public final class Embedding: Module {
    public let weight: Parameter
    public let count: Int
    public let dimension: Int

    public init(_ count: Int, _ dimension: Int) {
        self.count = count
        self.dimension = dimension
        weight = Parameter(Tensor.randn([count, dimension]))
        super.init()
        registerExisting("weight", weight)
    }

    /// Vectors for `ids` (each in `0..<count`), shape `[ids.count, dimension]`.
    public func callAsFunction(ids: [Int]) throws -> Tensor {
        if let bad = ids.first(where: { $0 < 0 || $0 >= count }) {
            throw ToolkitError(.invalidArgument, "Embedding(\(count), \(dimension)): id \(bad) outside 0..<\(count)")
        }
        return weight.value.indexSelect(ids)
    }

    public override func forward(_ input: Tensor) throws -> Tensor {
        let ids = input.scalars.map { Int($0) }
        if let bad = zip(ids, input.scalars).first(where: { Float($0.0) != $0.1 }) {
            throw ToolkitError(.invalidArgument, "Embedding(\(count), \(dimension)): id \(bad.1) is not an integer")
        }
        return try self(ids: ids).reshaped(input.shape + [dimension])
    }
}
