import Foundation
import XCTest
@testable import D2L
import D2LRuntime

/// Runs an exported model in D2LRuntime on `x` and returns output 0.
func exportTestRunRuntime(_ bytes: [UInt8], _ x: Tensor, file: StaticString = #filePath, line: UInt = #line) throws -> Tensor {
    let model = try bytes.withUnsafeBytes { raw in try Model(bytes: raw) }
    let session = Session(model: model)
    try x.withUnsafeValues { values in
        try session.setInput(0, dtype: .float32, data: UnsafeRawPointer(values.baseAddress!), shape: x.shape)
    }
    try session.run()
    guard let out = session.output(0) else { throw ToolkitError(.invalidData, "the runtime gave no output") }
    return Tensor(Array(UnsafeBufferPointer(start: out.floats, count: out.type.count)), shape: out.type.shape)
}

/// Gives every BatchNorm non-trivial affine parameters and running statistics (like the
/// toolkit fixtures: γ U[0.5, 1.5), β 0.5·N(0, 1), μ 0.5·N(0, 1), σ² U[0.5, 2)).
func exportTestRandomizeBatchNorm(_ module: Module) {
    module.apply { m in
        guard let bn = m as? BatchNormBase else { return }
        bn.weight.assign(Tensor.rand([bn.numFeatures], low: 0.5, high: 1.5))
        bn.bias.assign(Tensor.randn([bn.numFeatures], std: 0.5))
        bn.runningMean.assign(Tensor.randn([bn.numFeatures], std: 0.5))
        bn.runningVar.assign(Tensor.rand([bn.numFeatures], low: 0.5, high: 2))
    }
}

/// The small variant of every architecture (reduced widths and inputs, as in
/// tools/fixtures/make-fixtures), with a batch-2 input shape.
let exportTestSmallZoo: [(name: String, arch: String, options: ModelOptions)] = [
    ("softmax", "softmax", ModelOptions()),
    ("mlp", "mlp", ModelOptions()),
    ("mlp-block", "mlp-block", ModelOptions()),
    ("lenet", "lenet", ModelOptions()),
    ("lenet-bn", "lenet-bn", ModelOptions()),
    ("alexnet-small", "alexnet", ModelOptions(imageSize: 96, widthDivisor: 32)),
    ("vgg11-small", "vgg11", ModelOptions(imageSize: 64, hidden: 128, widthDivisor: 32)),
    ("nin-small", "nin", ModelOptions(imageSize: 96, widthDivisor: 16)),
    ("googlenet-small", "googlenet", ModelOptions(imageSize: 64, widthDivisor: 16)),
    ("resnet18-small", "resnet18", ModelOptions(imageSize: 64, widthDivisor: 32)),
    ("densenet-small", "densenet", ModelOptions(imageSize: 64, widthDivisor: 8)),
    ("torchvision-resnet18-small", "torchvision-resnet18", ModelOptions(imageSize: 32, widthDivisor: 32)),
]

/// A module without an ONNX lowering.
private final class Unlowerable: Module {
    override func forward(_ input: Tensor) throws -> Tensor { input * 2 }
}

final class ModuleExportTests: XCTestCase {
    override func setUp() {
        super.setUp()
        Random.seed(17)
    }

    /// Exports `module` for inputs of `shape` (batch first) and checks that the runtime's
    /// output on a random input equals the toolkit's evaluation-mode forward.
    @discardableResult
    func checkExport(_ module: Module, _ shape: [Int], foldBatchNorm: Bool = false, _ what: String,
                     file: StaticString = #filePath, line: UInt = #line) throws -> [UInt8] {
        let bytes = try exportONNX(module, inputShape: [1] + shape.dropFirst(), foldBatchNorm: foldBatchNorm)
        let wasTraining = module.isTraining
        module.eval()
        let x = Tensor.rand(shape)
        let expected = try module(x)
        module.train(wasTraining)
        let got = try exportTestRunRuntime(bytes, x)
        assertClose(got, expected, atol: 1e-5, rtol: 1e-4, "\(what) fold=\(foldBatchNorm)", file: file, line: line)
        return bytes
    }

    /// The context after lowering `module` (to look at initializers and nodes).
    func lowered(_ module: Module, _ shape: [Int], foldBatchNorm: Bool = false) throws -> ONNXExportContext {
        var builder = ONNXGraphBuilder()
        builder.addInput(name: "x", shape: ["batch"] + shape.dropFirst().map { .fixed($0) })
        var context = ONNXExportContext(builder: builder, foldBatchNorm: foldBatchNorm)
        _ = try context.lower(module, ONNXExportValue(name: "x", shape: shape), prefix: "")
        return context
    }

    // MARK: - Layers

    func testConvolutionsAndPoolingMatchTheToolkit() throws {
        let net = Sequential(
            Conv2d(inputChannels: 2, outputChannels: 4, kernelSize: 3, stride: 2, padding: 1, groups: 2),
            Tanh(),
            MaxPool2d(kernelSize: 3, stride: 1, padding: 1),
            Conv2d(inputChannels: 4, outputChannels: 3, kernelSize: (3, 1), stride: (1, 2), padding: (1, 0), bias: false),
            Sigmoid(),
            AvgPool2d(kernelSize: 3, stride: 2, padding: 1),
            AdaptiveAvgPool2d(outputSize: (3, 1)))
        try checkExport(net, [2, 2, 11, 12], "conv/pool stack")
        let ops = try lowered(net, [1, 2, 11, 12]).builder.nodes.map(\.opType)
        XCTAssertEqual(ops, ["Conv", "Tanh", "MaxPool", "Conv", "Sigmoid", "AveragePool", "AveragePool"])
    }

    /// Rectangular pooling windows export as ONNX `kernel_shape`, `strides` and `pads`
    /// ([top, left, bottom, right]) and run in the runtime with the toolkit's output.
    func testRectangularPoolingExports() throws {
        let net = Sequential(
            MaxPool2d(kernelSize: (2, 3), stride: (2, 3), padding: (0, 1)),
            AvgPool2d(kernelSize: (3, 2), stride: (1, 2), padding: (1, 0)))
        try checkExport(net, [2, 3, 8, 13], "rectangular pools")
        let nodes = try lowered(net, [1, 3, 8, 13]).builder.nodes
        XCTAssertEqual(nodes.map(\.opType), ["MaxPool", "AveragePool"])
        func ints(_ node: ONNXNode, _ key: String) -> [Int]? {
            for attribute in node.attributes { if case .ints(key, let values) = attribute { return values } }
            return nil
        }
        XCTAssertEqual(ints(nodes[0], "kernel_shape"), [2, 3]); XCTAssertEqual(ints(nodes[0], "strides"), [2, 3])
        XCTAssertEqual(ints(nodes[0], "pads"), [0, 1, 0, 1]); XCTAssertEqual(ints(nodes[1], "pads"), [1, 0, 1, 0])
        // The book's 6.5 case, in the runtime: [[5, 7], [13, 15]] from arange(16).
        let book = MaxPool2d(kernelSize: (2, 3), stride: (2, 3), padding: (0, 1))
        let bytes = try exportONNX(book, inputShape: [1, 1, 4, 4])
        XCTAssertEqual(try exportTestRunRuntime(bytes, Tensor.arange(16).reshaped([1, 1, 4, 4])).scalars, [5, 7, 13, 15])
    }

    func testGlobalAveragePoolAndAdaptivePoolLimits() throws {
        let net = Sequential(AdaptiveAvgPool2d(1), Flatten())
        try checkExport(net, [3, 2, 5, 7], "global pool")
        XCTAssertEqual(try lowered(net, [1, 2, 5, 7]).builder.nodes.map(\.opType), ["GlobalAveragePool", "Flatten"])
        XCTAssertThrowsError(try exportONNX(AdaptiveAvgPool2d(2), inputShape: [1, 1, 5, 5])) { error in
            XCTAssertEqual((error as? ToolkitError)?.kind, .unsupported, "\(error)")
        }
    }

    func testLinearOnHigherRanksAndFlattenFromOtherAxes() throws {
        let net = Sequential(Flatten(startAxis: 2), Linear(12, 5), ReLU(), Linear(5, 3, bias: false), Flatten())
        try checkExport(net, [2, 4, 3, 4], "rank-3 linear")
        let ops = try lowered(net, [1, 4, 3, 4]).builder.nodes.map(\.opType)
        XCTAssertEqual(ops, ["Reshape", "Transpose", "MatMul", "Add", "Relu", "Transpose", "MatMul", "Flatten"])
        let gemm = Sequential(Flatten(), Linear(6, 2, bias: false))
        try checkExport(gemm, [3, 2, 3], "Gemm without bias")
    }

    func testDropoutIsOmittedAndBatchNormUsesRunningStatistics() throws {
        let net = Sequential(Flatten(), Linear(8, 6), BatchNorm1d(6), Dropout(0.5), ReLU(), Linear(6, 2))
        exportTestRandomizeBatchNorm(net)
        net.train()
        try checkExport(net, [4, 2, 4], "linear + BN1d")
        XCTAssertTrue(net.isTraining, "export restores training mode")
        XCTAssertTrue((net[3] as! Dropout).isTraining)
        let ops = try lowered(net, [1, 2, 4]).builder.nodes.map(\.opType)
        XCTAssertEqual(ops, ["Flatten", "Gemm", "BatchNormalization", "Relu", "Gemm"])
        try checkExport(net, [4, 2, 4], foldBatchNorm: true, "linear + BN1d folded")
        XCTAssertEqual(try lowered(net, [1, 2, 4], foldBatchNorm: true).builder.nodes.map(\.opType),
                       ["Flatten", "Gemm", "Relu", "Gemm"])
    }

    func testExportRestoresEveryModulesMode() throws {
        let net = Sequential(Linear(3, 3), Sequential(Dropout(0.1), ReLU()))
        net.train()
        (net[1] as! Sequential).eval()
        try exportONNX(net, inputShape: [1, 3])
        XCTAssertTrue(net.isTraining)
        XCTAssertTrue(net[0].isTraining)
        XCTAssertFalse(net[1].isTraining)
        XCTAssertFalse((net[1] as! Sequential)[0].isTraining)
    }

    func testBatchNorm2dKeptAndFolded() throws {
        let net = Sequential(Conv2d(inputChannels: 3, outputChannels: 5, kernelSize: 3, padding: 1), BatchNorm2d(5), ReLU(),
                             BatchNorm2d(5), Conv2d(inputChannels: 5, outputChannels: 2, kernelSize: 1, bias: false), BatchNorm2d(2))
        exportTestRandomizeBatchNorm(net)
        try checkExport(net, [2, 3, 6, 6], "conv + BN2d")
        try checkExport(net, [2, 3, 6, 6], foldBatchNorm: true, "conv + BN2d")
        XCTAssertEqual(try lowered(net, [1, 3, 6, 6], foldBatchNorm: true).builder.nodes.map(\.opType),
                       ["Conv", "Relu", "BatchNormalization", "Conv"], "a BatchNorm after ReLU stays")
    }

    func testInitializersAreTheStateDictKeys() throws {
        for (name, arch, options) in exportTestSmallZoo {
            let net = try Models.make(arch: arch, options: options)
            let shape = [1] + (try Models.inputShape(arch: arch, options: options))
            let context = try lowered(net, shape)
            let keys = net.stateDict().map(\.name).filter { !$0.hasSuffix("num_batches_tracked") }
            XCTAssertEqual(Set(context.builder.initializers.map(\.name)), Set(keys), name)
            let folded = try lowered(net, shape, foldBatchNorm: true)
            XCTAssertFalse(folded.builder.nodes.contains { $0.opType == "BatchNormalization" } && arch != "densenet",
                           "\(name): every BatchNorm follows a convolution or linear layer")
            XCTAssertTrue(Set(folded.builder.initializers.map(\.name)).isSubset(of: Set(keys)), name)
        }
    }

    func testUnsupportedModuleNamesItsKey() {
        let net = Sequential(Linear(2, 2), Sequential(ReLU(), Unlowerable()))
        XCTAssertThrowsError(try exportONNX(net, inputShape: [1, 2])) { error in
            guard let e = error as? ToolkitError else { return XCTFail("\(error)") }
            XCTAssertEqual(e.kind, .unsupported)
            XCTAssertTrue(e.message.contains("Unlowerable") && e.message.contains("'1.1'"), e.message)
        }
    }

    func testShapeMismatchAndBadArgumentsThrow() {
        XCTAssertThrowsError(try exportONNX(Models.mlp(), inputShape: [1, 1, 20, 20])) { error in
            XCTAssertEqual((error as? ToolkitError)?.kind, .shape, "\(error)")
        }
        XCTAssertThrowsError(try exportONNX(Models.mlp(), inputShape: []))
        XCTAssertThrowsError(try exportONNX(Models.mlp(), inputShape: [1, 784], opset: 11))
        XCTAssertThrowsError(try exportONNX(Models.mlp(), inputShape: [1, 784], outputName: "x"))
        XCTAssertThrowsError(try exportONNX(Models.mlp(), inputShape: [1, 784], outputName: "1.weight"))
        XCTAssertThrowsError(try exportONNX(Models.mlp(), inputShape: [1, 784],
                                            metadata: [("d2l.task", "classification"), ("d2l.task", "regression")]))
    }

    func testIdentityModelGetsAnIdentityNode() throws {
        let bytes = try checkExport(Sequential(Dropout(0.3)), [2, 3], "dropout only")
        let model = try bytes.withUnsafeBytes { try Model(bytes: $0) }
        XCTAssertEqual(model.outputs.map(\.name), ["logits"])
    }

    // MARK: - The file

    func testMetadataNamesAndFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("d2l-export-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("lenet.onnx").path
        let net = try Models.lenet()
        let metadata = ONNXExportMetadata.classification(labels: FashionMNIST.labels, mean: [0.286], std: [0.353])
        let bytes = try exportONNX(net, inputShape: [1, 1, 28, 28], metadata: metadata + [("d2l.arch", "lenet")], path: path)
        XCTAssertEqual(try AtomicFile.read(path), bytes)

        let model = try Model(path: path)
        XCTAssertEqual(model.opset, 17)
        XCTAssertGreaterThanOrEqual(model.irVersion, 8)
        XCTAssertEqual(model.inputs.map(\.name), ["x"])
        XCTAssertEqual(model.outputs.map(\.name), ["logits"])
        XCTAssertEqual(model.metadata("d2l.task"), "classification")
        XCTAssertEqual(model.metadata("d2l.arch"), "lenet")
        XCTAssertEqual(model.metadata("d2l.producer"), "d2l toolkit exportONNX from Sequential")
        XCTAssertEqual(model.metadata("d2l.input"),
                       "{\"layout\": \"NCHW\", \"range\": [0.0, 1.0], \"mean\": [0.286], \"std\": [0.353]}")
        let labels = try JSONSerialization.jsonObject(with: Data(model.metadata("d2l.labels")!.utf8)) as? [String]
        XCTAssertEqual(labels, FashionMNIST.labels)
        XCTAssertEqual(model.metadata.first?.key, "d2l.producer")

        // The batch dimension is symbolic: batch 3 runs too.
        let x = Tensor.rand([3, 1, 28, 28])
        net.eval()
        assertClose(try exportTestRunRuntime(bytes, x), try net(x), "batch 3")

        // A caller's producer replaces the default; other opsets and names work.
        let custom = try exportONNX(Models.softmaxRegression(), inputShape: [1, 1, 28, 28], inputName: "image",
                                    outputName: "scores", metadata: [("d2l.producer", "d2l-export 0.1.0 from torch state_dict")],
                                    opset: 20)
        let customModel = try custom.withUnsafeBytes { try Model(bytes: $0) }
        XCTAssertEqual(customModel.opset, 20)
        XCTAssertEqual(customModel.inputs.map(\.name), ["image"])
        XCTAssertEqual(customModel.outputs.map(\.name), ["scores"])
        XCTAssertEqual(customModel.metadata("d2l.producer"), "d2l-export 0.1.0 from torch state_dict")
        XCTAssertEqual(customModel.metadata.count, 1)
    }

    func testMetadataJSONEscapes() {
        XCTAssertEqual(ONNXExportMetadata.labels(["a \"b\"", "c\\d", "é\n"]), "[\"a \\\"b\\\"\", \"c\\\\d\", \"é\\n\"]")
        XCTAssertEqual(ONNXExportMetadata.input(mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], size: (224, 224)),
                       "{\"layout\": \"NCHW\", \"range\": [0.0, 1.0], \"mean\": [0.485, 0.456, 0.406], "
                       + "\"std\": [0.229, 0.224, 0.225], \"size\": [224, 224]}")
    }

    func testEveryAcceptedOpsetRunsInTheRuntime() throws {
        let net = try Models.make(arch: "resnet18", options: ModelOptions(imageSize: 32, widthDivisor: 32))
        exportTestRandomizeBatchNorm(net)
        net.eval()
        let x = Tensor.rand([1, 1, 32, 32])
        let y = try net(x)
        for opset in 13...22 {
            let bytes = try exportONNX(net, inputShape: [1, 1, 32, 32], opset: opset)
            assertClose(try exportTestRunRuntime(bytes, x), y, "opset \(opset)")
        }
        let flatten = Sequential(Flatten(startAxis: 2), Linear(4, 2))
        for opset in [13, 14, 22] {
            let bytes = try exportONNX(flatten, inputShape: [1, 3, 2, 2], opset: opset)
            let x = Tensor.rand([2, 3, 2, 2])
            assertClose(try exportTestRunRuntime(bytes, x), try flatten(x), "Reshape at opset \(opset)")
        }
    }

    // MARK: - The zoo

    /// Every architecture's small variant with random weights (and non-trivial BatchNorm
    /// statistics): the runtime's output equals the toolkit's, BatchNorm kept and folded.
    func testEverySmallModelExportsAndRunsInTheRuntime() throws {
        for (name, arch, options) in exportTestSmallZoo {
            let net = try Models.make(arch: arch, options: options)
            exportTestRandomizeBatchNorm(net)
            let shape = [2] + (try Models.inputShape(arch: arch, options: options))
            try checkExport(net, shape, name)
            if net.namedBuffers().isEmpty == false {
                try checkExport(net, shape, foldBatchNorm: true, name)
            }
        }
    }

    /// With BatchNorm folded, each graph has the operators PyTorch's exporter writes for the
    /// same model (Tests/Fixtures/README.md, `*-opset17`; lenet-bn: its BatchNorm1d layers
    /// are folded here too, as the dynamo exporter does).
    func testOperatorCountsMatchPyTorchsExport() throws {
        let expected: [String: [String: Int]] = [
            "softmax": ["Flatten": 1, "Gemm": 1],
            "mlp": ["Flatten": 1, "Gemm": 2, "Relu": 1],
            "lenet": ["AveragePool": 2, "Conv": 2, "Flatten": 1, "Gemm": 3, "Sigmoid": 4],
            "lenet-bn": ["AveragePool": 2, "Conv": 2, "Flatten": 1, "Gemm": 3, "Sigmoid": 4],
            "alexnet-small": ["Conv": 5, "Flatten": 1, "Gemm": 3, "MaxPool": 3, "Relu": 7],
            "vgg11-small": ["Conv": 8, "Flatten": 1, "Gemm": 3, "MaxPool": 5, "Relu": 10],
            "nin-small": ["Conv": 12, "Flatten": 1, "GlobalAveragePool": 1, "MaxPool": 3, "Relu": 12],
            "googlenet-small": ["Concat": 9, "Conv": 57, "Flatten": 1, "Gemm": 1, "GlobalAveragePool": 1, "MaxPool": 13,
                                "Relu": 57],
            "resnet18-small": ["Add": 8, "Conv": 20, "Flatten": 1, "Gemm": 1, "GlobalAveragePool": 1, "MaxPool": 1, "Relu": 17],
            "densenet-small": ["AveragePool": 3, "BatchNormalization": 20, "Concat": 16, "Conv": 20, "Flatten": 1, "Gemm": 1,
                               "GlobalAveragePool": 1, "MaxPool": 1, "Relu": 21],
            "torchvision-resnet18-small": ["Add": 8, "Conv": 20, "Flatten": 1, "Gemm": 1, "GlobalAveragePool": 1,
                                           "MaxPool": 1, "Relu": 17],
        ]
        for (name, arch, options) in exportTestSmallZoo {
            guard let want = expected[name] else { continue }
            let net = try Models.make(arch: arch, options: options)
            let shape = [1] + (try Models.inputShape(arch: arch, options: options))
            let ops = try lowered(net, shape, foldBatchNorm: true).builder.nodes.map(\.opType)
            XCTAssertEqual(Dictionary(ops.map { ($0, 1) }, uniquingKeysWith: +), want, name)
        }
    }

    /// onnx.checker (full check) accepts every small model's file and onnxruntime's
    /// output equals the toolkit's. Needs python3 with onnx, onnxruntime and numpy.
    func testOnnxCheckerAndOnnxRuntimeAgree() throws {
        guard let python = exportTestPython() else { throw XCTSkip("python3 with onnx, onnxruntime and numpy not found") }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("d2l-export-ort-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var cases: [String] = []
        for (name, arch, options) in exportTestSmallZoo {
            let net = try Models.make(arch: arch, options: options)
            exportTestRandomizeBatchNorm(net)
            let shape = try Models.inputShape(arch: arch, options: options)
            let x = Tensor.rand([2] + shape)
            net.eval()
            let y = try net(x)
            for fold in net.namedBuffers().isEmpty ? [false] : [false, true] {
                let stem = "\(name)\(fold ? "-folded" : "")"
                let metadata = ONNXExportMetadata.classification(labels: FashionMNIST.labels, channels: shape[0])
                try exportONNX(net, inputShape: [1] + shape, metadata: metadata, foldBatchNorm: fold,
                               path: directory.appendingPathComponent(stem + ".onnx").path)
                try exportTestWriteFloats(x, directory.appendingPathComponent(stem + ".input").path)
                try exportTestWriteFloats(y, directory.appendingPathComponent(stem + ".output").path)
                cases.append("\(stem) \(x.shape.map(String.init).joined(separator: ",")) \(y.shape.map(String.init).joined(separator: ","))")
            }
        }
        try cases.joined(separator: "\n").write(to: directory.appendingPathComponent("cases.txt"), atomically: true, encoding: .utf8)
        let script = """
        import sys, os
        import numpy as np, onnx, onnxruntime as ort
        d = sys.argv[1]
        failures = []
        for line in open(os.path.join(d, "cases.txt")).read().splitlines():
            stem, xs, ys = line.split()
            path = os.path.join(d, stem + ".onnx")
            try:
                onnx.checker.check_model(path, full_check=True)
                m = onnx.load(path)
                assert m.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch", "batch not symbolic"
                meta = {p.key: p.value for p in m.metadata_props}
                assert meta.get("d2l.task") == "classification", meta
                x = np.fromfile(os.path.join(d, stem + ".input"), dtype="<f4").reshape([int(v) for v in xs.split(",")])
                want = np.fromfile(os.path.join(d, stem + ".output"), dtype="<f4").reshape([int(v) for v in ys.split(",")])
                s = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
                got = s.run(None, {"x": x})[0]
                assert got.shape == want.shape, (got.shape, want.shape)
                excess = np.abs(got - want) - (1e-5 + 1e-4 * np.abs(want))
                assert excess.max() <= 0, "max |diff| %g" % np.abs(got - want).max()
                print("ok", stem)
            except Exception as e:
                failures.append("%s: %s" % (stem, e))
        for f in failures:
            print("FAIL", f)
        sys.exit(1 if failures else 0)
        """
        let (status, output) = try exportTestRunProcess(python, ["-c", script, directory.path])
        XCTAssertEqual(status, 0, output)
        XCTAssertEqual(output.split(separator: "\n").filter { $0.hasPrefix("ok ") }.count, cases.count, output)
    }
}

/// Writes `t`'s values as little-endian float32.
func exportTestWriteFloats(_ t: Tensor, _ path: String) throws {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(t.count * 4)
    for v in t.scalars { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

/// python3 when it imports onnx, onnxruntime and numpy.
func exportTestPython() -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin"
    let candidates = path.split(separator: ":").map { String($0) + "/python3" }
    for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate) {
        if let (status, _) = try? exportTestRunProcess(candidate, ["-c", "import onnx, onnxruntime, numpy"]), status == 0 {
            return candidate
        }
    }
    return nil
}

/// Runs a program and returns its exit status and its stdout and stderr together.
func exportTestRunProcess(_ program: String, _ arguments: [String]) throws -> (Int32, String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: program)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}
