import Foundation
import XCTest
import D2L
import D2LRuntime

/// ONNXGraphBuilder: graphs it writes load and run in D2LRuntime with hand-computed
/// results, metadata round-trips, validation refuses broken graphs, and (when the onnx
/// Python package is installed) `onnx.checker` accepts what it writes.
final class ExportGraphBuilderTests: XCTestCase {

    // MARK: - Helpers

    /// A float tensor fed to or read from a model.
    struct FloatTensor {
        var shape: [Int]
        var values: [Float]
    }

    /// Loads `bytes` in D2LRuntime, feeds float `inputs` in graph-input order, runs,
    /// and returns every output (all float).
    private func run(_ bytes: [UInt8], _ inputs: [FloatTensor]) throws -> [FloatTensor] {
        let model = try bytes.withUnsafeBytes { raw in try D2LRuntime.Model(bytes: raw) }
        return try run(model, inputs)
    }

    private func run(_ model: D2LRuntime.Model, _ inputs: [FloatTensor]) throws -> [FloatTensor] {
        let session = D2LRuntime.Session(model: model)
        for (i, t) in inputs.enumerated() {
            try t.values.withUnsafeBytes { raw in
                try session.setInput(i, dtype: .float32, data: raw.baseAddress!, shape: t.shape)
            }
        }
        try session.run()
        var results: [FloatTensor] = []
        var i = 0
        while let y = session.output(i) {
            XCTAssertEqual(y.type.dtype, .float32)
            results.append(FloatTensor(shape: y.type.shape, values: Array(UnsafeBufferPointer(start: y.floats, count: y.type.count))))
            i += 1
        }
        return results
    }

    private func assertClose(_ actual: FloatTensor?, shape: [Int], _ expected: [Float], tolerance: Float = 1e-5,
                             file: StaticString = #filePath, line: UInt = #line) {
        guard let actual else { XCTFail("no output", file: file, line: line); return }
        XCTAssertEqual(actual.shape, shape, "shape", file: file, line: line)
        XCTAssertEqual(actual.values.count, expected.count, "count", file: file, line: line)
        for (a, e) in zip(actual.values, expected) where abs(a - e) > tolerance * max(1, abs(e)) {
            XCTFail("\(actual.values) != \(expected)", file: file, line: line)
            return
        }
    }

    /// Asserts that serializing `builder` fails with `.invalidArgument` and a message containing `substring`.
    private func assertInvalid(_ builder: ONNXGraphBuilder, _ substring: String,
                               file: StaticString = #filePath, line: UInt = #line) {
        do {
            _ = try builder.serialize()
            XCTFail("serialized; expected an error mentioning '\(substring)'", file: file, line: line)
        } catch let error as ToolkitError {
            XCTAssertEqual(error.kind, .invalidArgument, error.message, file: file, line: line)
            XCTAssertTrue(error.message.contains(substring), "'\(error.message)' lacks '\(substring)'", file: file, line: line)
        } catch {
            XCTFail("\(error)", file: file, line: line)
        }
    }

    /// Deterministic small values: `(i * 7 % 11 - 5) * scale`.
    private func pattern(_ count: Int, scale: Float = 0.1, offset: Int = 0) -> [Float] {
        (0..<count).map { Float(((($0 + offset) * 7) % 11) - 5) * scale }
    }

    // MARK: - Models used by several tests

    private let fcWeight: [Float] = [0.5, -1, 0.25, 2,
                                     -0.5, 1, 1, 0,
                                     1, 1, -1, -1]
    private let fcBias: [Float] = [0.1, -0.2, 0.3]

    /// y = Relu(x · Wᵀ + b), x: [batch, 4], W: [3, 4].
    private func gemmReluBuilder() -> ONNXGraphBuilder {
        var b = ONNXGraphBuilder()
        b.addInput(name: "x", elementType: .float, dims: [nil, 4])
        let w = b.addInitializer(name: "fc.weight", shape: [3, 4], values: fcWeight)
        let bias = b.addInitializer(name: "fc.bias", shape: [3], values: fcBias)
        let h = b.addNode("Gemm", inputs: ["x", w, bias], outputPrefix: "fc_out", name: "fc",
                          attributes: [.int("transB", 1), .float("alpha", 1), .float("beta", 1)])
        b.addNode("Relu", inputs: [h], outputs: ["y"])
        b.addOutput(name: "y", elementType: .float, shape: ["batch", 3])
        return b
    }

    private func gemmReluReference(_ x: [Float], batch: Int) -> [Float] {
        var y: [Float] = []
        for n in 0..<batch {
            for o in 0..<3 {
                var s = fcBias[o]
                for i in 0..<4 { s += x[n * 4 + i] * fcWeight[o * 4 + i] }
                y.append(max(0, s))
            }
        }
        return y
    }

    private let convW: [Float] = [0.1, 0.2, -0.1, 0, 0.5, 0, -0.3, 0.4, 0.2,
                                  1, 0, 0, 0, -1, 0, 0, 0, 1]
    private let convB: [Float] = [0.05, -0.1]

    /// x [1,1,4,4] → Conv(2 filters 3×3, pad 1) → MaxPool(2, stride 2) → Flatten → Gemm(3) → y [1,3].
    private func convBuilder() -> ONNXGraphBuilder {
        var b = ONNXGraphBuilder(graphName: "lenet_like")
        b.addInput(name: "image", elementType: .float, shape: [1, 1, 4, 4])
        let w = b.addInitializer(name: "conv.weight", shape: [2, 1, 3, 3], values: convW)
        let bias = b.addInitializer(name: "conv.bias", shape: [2], values: convB)
        let c = b.addNode("Conv", inputs: ["image", w, bias], outputPrefix: "conv1_out",
                          attributes: [.ints("kernel_shape", [3, 3]), .ints("pads", [1, 1, 1, 1]),
                                       .ints("strides", [1, 1]), .ints("dilations", [1, 1]), .int("group", 1)])
        // MaxPool's optional Indices output is omitted (""; trailing, so left out of the file).
        let p = b.uniqueName("pool_out")
        b.addNode("MaxPool", inputs: [c], outputs: [p, ""],
                  attributes: [.ints("kernel_shape", [2, 2]), .ints("strides", [2, 2])])
        let f = b.addNode("Flatten", inputs: [p], attributes: [.int("axis", 1)])
        let fw = b.addInitializer(name: "fc.weight", shape: [3, 8], values: pattern(24, scale: 0.25))
        // Gemm without C: the optional bias input is omitted.
        b.addNode("Gemm", inputs: [f, fw, ""], outputs: ["logits"], attributes: [.int("transB", 1)])
        b.addOutput(name: "logits", elementType: .float, shape: [1, 3])
        return b
    }

    private let convInput: [Float] = (0..<16).map { Float($0 % 5) - 1.5 }

    private func convReference() -> [Float] {
        // Conv, padding 1.
        var conv = [Float](repeating: 0, count: 2 * 16)
        for o in 0..<2 {
            for y in 0..<4 {
                for x in 0..<4 {
                    var s = convB[o]
                    for ky in 0..<3 {
                        for kx in 0..<3 {
                            let iy = y + ky - 1, ix = x + kx - 1
                            if iy >= 0 && iy < 4 && ix >= 0 && ix < 4 {
                                s += convInput[iy * 4 + ix] * convW[o * 9 + ky * 3 + kx]
                            }
                        }
                    }
                    conv[o * 16 + y * 4 + x] = s
                }
            }
        }
        // MaxPool 2×2 stride 2, then flatten in (c, y, x) order.
        var pooled: [Float] = []
        for o in 0..<2 {
            for y in 0..<2 {
                for x in 0..<2 {
                    var m = -Float.infinity
                    for dy in 0..<2 { for dx in 0..<2 { m = max(m, conv[o * 16 + (2 * y + dy) * 4 + 2 * x + dx]) } }
                    pooled.append(m)
                }
            }
        }
        let fw = pattern(24, scale: 0.25)
        return (0..<3).map { o in (0..<8).reduce(Float(0)) { $0 + pooled[$1] * fw[o * 8 + $1] } }
    }

    private let bnScale: [Float] = [1, 0.5, 2]
    private let bnBias: [Float] = [0, 1, -1]
    private let bnMean: [Float] = [0.5, -1, 2]
    private let bnVar: [Float] = [1, 4, 0.25]
    private let bnEpsilon: Float = 1e-3

    /// BatchNormalization (inference) over x [batch, 3, 2, 2].
    private func batchNormBuilder() -> ONNXGraphBuilder {
        var b = ONNXGraphBuilder()
        b.addInput(name: "x", shape: ["N", 3, 2, 2])
        let names = ["bn.weight", "bn.bias", "bn.running_mean", "bn.running_var"]
        for (name, values) in zip(names, [bnScale, bnBias, bnMean, bnVar]) {
            b.addInitializer(name: name, shape: [3], values: values)
        }
        b.addNode("BatchNormalization", inputs: ["x"] + names, outputs: ["y"],
                  attributes: [.float("epsilon", bnEpsilon), .float("momentum", 0.9)])
        b.addOutput(name: "y", dims: [nil, 3, 2, 2], symbolicNames: ["N"])
        return b
    }

    /// x [2, 3, 4] → Reshape(shape = int64 initializer [0, -1]) → [2, 12] → Add(Constant scalar).
    private func reshapeBuilder() -> ONNXGraphBuilder {
        var b = ONNXGraphBuilder()
        b.addInput(name: "x", shape: [2, 3, 4])
        let shape = b.addInitializer(name: "flat_shape", shape: [2], int64s: [0, -1])
        let r = b.addNode("Reshape", inputs: ["x", shape], outputPrefix: "reshaped")
        let k = b.addNode("Constant", inputs: [], outputPrefix: "const", attributes: [.tensor("value", .scalar(10))])
        b.addNode("Add", inputs: [r, k], outputs: ["y"])
        b.addOutput(name: "y", shape: [2, 12])
        return b
    }

    // MARK: - Running what the builder writes

    func testGemmReluWithSymbolicBatchRuns() throws {
        let bytes = try gemmReluBuilder().serialize()
        let model = try bytes.withUnsafeBytes { raw in try D2LRuntime.Model(bytes: raw) }
        XCTAssertEqual(model.opset, 17)
        XCTAssertEqual(model.irVersion, 8)
        XCTAssertEqual(model.inputs.map(\.name), ["x"])
        XCTAssertEqual(model.inputs[0].type.dims, [nil, 4])
        XCTAssertEqual(model.outputs.map(\.name), ["y"])

        for batch in [1, 2, 5] {
            let x = pattern(batch * 4, scale: 0.5, offset: batch)
            let y = try run(model, [FloatTensor(shape: [batch, 4], values: x)])
            XCTAssertEqual(y.count, 1)
            assertClose(y.first, shape: [batch, 3], gemmReluReference(x, batch: batch))
        }
        // Relu actually clamps something in this example.
        XCTAssertTrue(gemmReluReference(pattern(20, scale: 0.5, offset: 5), batch: 5).contains(0))
    }

    func testConvMaxPoolFlattenGemmRuns() throws {
        let bytes = try convBuilder().serialize()
        let y = try run(bytes, [FloatTensor(shape: [1, 1, 4, 4], values: convInput)])
        assertClose(y.first, shape: [1, 3], convReference(), tolerance: 1e-4)
    }

    func testBatchNormalizationRuns() throws {
        let bytes = try batchNormBuilder().serialize()
        let x = pattern(2 * 12, scale: 0.3)
        var expected: [Float] = []
        for i in 0..<x.count {
            let c = (i / 4) % 3
            expected.append(bnScale[c] * (x[i] - bnMean[c]) / (bnVar[c] + bnEpsilon).squareRoot() + bnBias[c])
        }
        let y = try run(bytes, [FloatTensor(shape: [2, 3, 2, 2], values: x)])
        assertClose(y.first, shape: [2, 3, 2, 2], expected, tolerance: 1e-4)
    }

    func testReshapeWithInt64InitializerAndConstantRuns() throws {
        let bytes = try reshapeBuilder().serialize()
        let x = (0..<24).map { Float($0) }
        let y = try run(bytes, [FloatTensor(shape: [2, 3, 4], values: x)])
        assertClose(y.first, shape: [2, 12], x.map { $0 + 10 })
    }

    // MARK: - Metadata and model fields

    func testMetadataRoundTripsInOrder() throws {
        var b = gemmReluBuilder()
        b.producerName = "d2l-tests"
        b.producerVersion = "0.1"
        b.docString = "a two-layer test model"
        b.metadata = [(key: "d2l.task", value: "classification"),
                      (key: "d2l.labels", value: #"["a","b","c"]"#),
                      (key: "d2l.producer", value: "ONNXGraphBuilder tests – ünïcödé")]
        let bytes = try b.serialize()
        let model = try bytes.withUnsafeBytes { raw in try D2LRuntime.Model(bytes: raw) }
        XCTAssertEqual(model.metadata.map(\.key), ["d2l.task", "d2l.labels", "d2l.producer"])
        XCTAssertEqual(model.metadata.map(\.value), b.metadata.map(\.value))
        XCTAssertEqual(model.metadata("d2l.labels"), #"["a","b","c"]"#)
        XCTAssertNil(model.metadata("d2l.vocab"))
    }

    func testSerializationIsDeterministicAndCopiesShareNothingMutable() throws {
        let b = convBuilder()
        let first = try b.serialize()
        XCTAssertEqual(first, try b.serialize())
        var copy = b
        copy.metadata.append((key: "extra", value: "1"))
        XCTAssertEqual(first, try b.serialize())
        XCTAssertNotEqual(first, try copy.serialize())
    }

    func testOpsetIsWrittenAsGiven() throws {
        var b = ONNXGraphBuilder(opset: 13)
        b.addInput(name: "x", shape: [2])
        b.addNode("Relu", inputs: ["x"], outputs: ["y"])
        b.addOutput(name: "y", shape: [2])
        let model = try b.serialize().withUnsafeBytes { raw in try D2LRuntime.Model(bytes: raw) }
        XCTAssertEqual(model.opset, 13)
    }

    // MARK: - Names

    func testUniqueNamesAreFreshAndReadable() {
        var b = ONNXGraphBuilder()
        b.addInput(name: "conv1_out_0", shape: [1])
        XCTAssertEqual(b.uniqueName("conv1_out"), "conv1_out_1")
        XCTAssertEqual(b.uniqueName("conv1_out"), "conv1_out_2")
        XCTAssertEqual(b.uniqueName("relu"), "relu_0")
        b.addInitializer(name: "relu_1", shape: [], values: [1])
        XCTAssertEqual(b.uniqueName("relu"), "relu_2")
        let out = b.addNode("Relu", inputs: ["conv1_out_0"])
        XCTAssertEqual(out, "relu_3")
        XCTAssertEqual(b.nodes.last?.outputs, ["relu_3"])
    }

    // MARK: - Validation

    func testDanglingInputIsRefused() {
        var b = ONNXGraphBuilder()
        b.addInput(name: "x", shape: [2])
        b.addNode("Add", inputs: ["x", "missing"], outputs: ["y"])
        b.addOutput(name: "y", shape: [2])
        assertInvalid(b, "reads 'missing'")
    }

    func testUseBeforeDefinitionIsRefused() {
        var b = ONNXGraphBuilder()
        b.addInput(name: "x", shape: [2])
        b.addNode("Relu", inputs: ["h"], outputs: ["y"])
        b.addNode("Relu", inputs: ["x"], outputs: ["h"])
        b.addOutput(name: "y", shape: [2])
        assertInvalid(b, "reads 'h'")
    }

    func testDuplicateNamesAreRefused() {
        var b = ONNXGraphBuilder()
        b.addInput(name: "x", shape: [2])
        b.addInitializer(name: "x", shape: [2], values: [1, 2])
        b.addNode("Relu", inputs: ["x"], outputs: ["y"])
        b.addOutput(name: "y", shape: [2])
        assertInvalid(b, "'x' is used twice")

        var c = ONNXGraphBuilder()
        c.addInput(name: "x", shape: [2])
        c.addNode("Relu", inputs: ["x"], outputs: ["y"])
        c.addNode("Neg", inputs: ["x"], outputs: ["y"])
        c.addOutput(name: "y", shape: [2])
        assertInvalid(c, "'y' is used twice")

        var d = ONNXGraphBuilder()
        d.addInput(name: "x", shape: [2])
        d.addNode("Relu", inputs: ["x"], outputs: ["h"], name: "act")
        d.addNode("Relu", inputs: ["h"], outputs: ["y"], name: "act")
        d.addOutput(name: "y", shape: [2])
        assertInvalid(d, "node name 'act'")

        var e = gemmReluBuilder()
        e.metadata = [(key: "k", value: "1"), (key: "k", value: "2")]
        assertInvalid(e, "metadata key 'k'")

        var f = gemmReluBuilder()
        f.addOutput(name: "y", shape: ["batch", 3])
        assertInvalid(f, "declared twice")

        var g = ONNXGraphBuilder()
        g.addInput(name: "x", shape: [2])
        g.addNode("LeakyRelu", inputs: ["x"], outputs: ["y"], attributes: [.float("alpha", 0.1), .float("alpha", 0.2)])
        g.addOutput(name: "y", shape: [2])
        assertInvalid(g, "attribute 'alpha' twice")
    }

    func testCountMismatchIsRefused() {
        var b = ONNXGraphBuilder()
        b.addInput(name: "x", shape: [2, 3])
        b.addInitializer(name: "w", shape: [2, 3], values: [1, 2, 3, 4, 5])
        b.addNode("Add", inputs: ["x", "w"], outputs: ["y"])
        b.addOutput(name: "y", shape: [2, 3])
        assertInvalid(b, "initializer 'w' has shape [2, 3] (6 elements) but 5 values")

        var c = ONNXGraphBuilder()
        c.addInput(name: "x", shape: [2, 3])
        c.addInitializer(name: "s", shape: [3], int64s: [3, 2])
        c.addNode("Reshape", inputs: ["x", "s"], outputs: ["y"])
        c.addOutput(name: "y", shape: [3, 2])
        assertInvalid(c, "initializer 's' has shape [3] (3 elements) but 2 values")

        var d = ONNXGraphBuilder()
        d.addNode("Constant", inputs: [], outputs: ["y"], attributes: [.tensor("value", ONNXTensor(shape: [2], floats: [1]))])
        d.addOutput(name: "y", shape: [2])
        assertInvalid(d, "attribute 'value' of node 0 (Constant) has shape [2] (2 elements) but 1 values")

        var e = ONNXGraphBuilder()
        e.addInput(name: "x", shape: [-1])
        e.addNode("Relu", inputs: ["x"], outputs: ["y"])
        e.addOutput(name: "y", shape: [2])
        assertInvalid(e, "negative dimension")
    }

    func testOtherStructuralErrorsAreRefused() {
        var b = ONNXGraphBuilder()
        b.addInput(name: "x", shape: [2])
        b.addNode("Relu", inputs: ["x"], outputs: ["h"])
        assertInvalid(b, "no outputs")
        b.addOutput(name: "z", shape: [2])
        assertInvalid(b, "graph output 'z' is not produced")

        var c = ONNXGraphBuilder()
        c.addInput(name: "", shape: [2])
        c.addOutput(name: "", shape: [2])
        assertInvalid(c, "empty name")

        var d = ONNXGraphBuilder()
        d.addInput(name: "x", shape: [2])
        d.addNode("", inputs: ["x"], outputs: ["y"])
        d.addOutput(name: "y", shape: [2])
        assertInvalid(d, "empty op type")
    }

    func testOmittedOptionalInputsAreAccepted() throws {
        var b = ONNXGraphBuilder()
        b.addInput(name: "x", shape: [4])
        let hi = b.addInitializer(name: "hi", shape: [], values: [1])
        b.addNode("Clip", inputs: ["x", "", hi], outputs: ["y"])
        b.addOutput(name: "y", shape: [4])
        let y = try run(b.serialize(), [FloatTensor(shape: [4], values: [-3, 0.5, 1, 7])])
        assertClose(y.first, shape: [4], [-3, 0.5, 1, 1])
    }

    // MARK: - onnx.checker

    /// Every model above passes `onnx.checker.check_model(..., full_check=True)`
    /// (skipped when python3 or its onnx package is missing).
    func testONNXCheckerAcceptsTheModels() throws {
        guard (try? python(["-c", "import onnx"]))?.status == 0 else {
            throw XCTSkip("python3 with the onnx package is not available")
        }
        let folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("d2l-export-builder-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }

        var withMetadata = gemmReluBuilder()
        withMetadata.metadata = [(key: "d2l.task", value: "classification")]
        withMetadata.producerVersion = "0.1"
        withMetadata.docString = "doc"
        let models: [(String, ONNXGraphBuilder)] = [
            ("gemm_relu", withMetadata), ("conv", convBuilder()),
            ("batchnorm", batchNormBuilder()), ("reshape", reshapeBuilder()),
        ]
        let script = """
        import onnx, sys
        for path in sys.argv[1:]:
            onnx.checker.check_model(onnx.load(path), full_check=True)
        print("ok")
        """
        var paths: [String] = []
        for (name, builder) in models {
            let url = folder.appendingPathComponent("\(name).onnx")
            try Data(builder.serialize()).write(to: url)
            paths.append(url.path)
        }
        let result = try python(["-c", script] + paths)
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertTrue(result.output.contains("ok"), result.output)
    }

    /// Runs `python3 arguments` and returns its exit status and combined output.
    private func python(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
