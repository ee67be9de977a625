import D2L

/// 5.5 File I/O: tensors, a list and a dictionary of tensors saved and loaded
/// (safetensors files), and a model's parameters saved and loaded into a clone.
enum ReadWrite {
    static let section = BookSection(name: "read-write", number: "5.5", title: "File I/O", run: run)

    /// The book's MLP: hidden Linear(20, 256), ReLU, output Linear(256, 10).
    final class MLP: Module {
        let hidden = Linear(20, 256), output = Linear(256, 10)
        override init() {
            super.init()
            registerModule("hidden", hidden)
            registerModule("output", output)
        }
        override func forward(_ x: Tensor) throws -> Tensor { try output(try hidden(x).relu()) }
    }

    /// Saves named tensors as one safetensors file (the book's `torch.save`).
    static func save(_ tensors: [(String, Tensor)], to path: String) throws {
        try SafeTensorsFile(tensors: try tensors.map { ($0.0, try SafeTensor(floats: $0.1.scalars, shape: $0.1.shape)) })
            .write(to: path)
    }

    /// Loads every tensor of a safetensors file, in order (the book's `torch.load`).
    static func load(_ path: String) throws -> [(name: String, tensor: Tensor)] {
        try SafeTensorsFile.read(path: path).tensors.map { ($0.name, Tensor(try $0.tensor.floats(), shape: $0.tensor.shape)) }
    }

    static func run(_ book: BookContext) throws {
        // Loading and saving tensors.
        let x = Tensor.arange(4)
        let xFile = try book.outputPath("x-file.safetensors")
        try save([("x", x)], to: xFile)
        let x2 = try load(xFile)[0].tensor
        book.show("x2", x2)
        book.check(x2.scalars == x.scalars && x2.shape == x.shape, "the loaded tensor equals the saved one")

        // A list of tensors: stored under their positions.
        let y = Tensor.zeros([4])
        let listFile = try book.outputPath("x-files.safetensors")
        try save([("0", x), ("1", y)], to: listFile)
        let loaded = try load(listFile)
        let (xLoaded, yLoaded) = (loaded[0].tensor, loaded[1].tensor)
        book.show("(x2, y2)", Tensor.stack([xLoaded, yLoaded]))
        book.check(loaded.map(\.name) == ["0", "1"] && xLoaded.scalars == x.scalars && yLoaded.scalars == y.scalars,
                   "the list comes back in order")

        // A dictionary from strings to tensors.
        let dictFile = try book.outputPath("mydict.safetensors")
        try save([("x", x), ("y", y)], to: dictFile)
        let mydict2 = Dictionary(uniqueKeysWithValues: try load(dictFile).map { ($0.name, $0.tensor) })
        print("mydict2 keys: " + mydict2.keys.sorted().joined(separator: ", "))
        book.show("mydict2[\"x\"]", mydict2["x"]!)
        book.show("mydict2[\"y\"]", mydict2["y"]!)
        book.check(mydict2["x"]?.scalars == x.scalars && mydict2["y"]?.scalars == y.scalars, "the dictionary comes back by key")

        // Loading and saving model parameters.
        Random.seed(42)
        let net = MLP()
        let X = Tensor.randn([2, 20])
        let Y = try net(X)
        let paramsFile = try book.outputPath("mlp.params.safetensors")
        try net.saveCheckpoint(to: paramsFile)
        let keys = net.stateDict().map(\.name)
        print("mlp.params keys: " + keys.joined(separator: ", "))
        book.check(Set(try SafeTensorsFile.read(path: paramsFile).names) == Set(keys), "the file holds every state-dictionary key")

        // The clone: a fresh MLP (different random weights) given the saved parameters.
        let clone = MLP()
        let before = try clone(X)
        book.check(before.scalars != Y.scalars, "a fresh MLP computes something else before loading")
        try clone.loadCheckpoint(from: paramsFile)
        clone.eval()
        let YClone = try clone(X)
        book.show("Y_clone == Y", YClone .== Y)
        book.check(YClone.scalars == Y.scalars, "the clone's output equals the original's exactly")
    }
}
