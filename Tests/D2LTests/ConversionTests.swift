import D2LRuntime
import Foundation
import XCTest
@testable import D2L

/// d2l-export's library side (D2L/Conversion) against PyTorch: every checkpoint of
/// Tests/Fixtures/toolkit/export (tools/fixtures/make-export-fixtures) converts, and libd2l runs the
/// result with PyTorch's eval-mode outputs.
final class ConversionTests: XCTestCase {
    struct Fixture {
        var name: String
        var options: ConversionOptions
    }

    /// models.json: each fixture's architecture and d2l-export options.
    static func fixtures() throws -> [Fixture] {
        let path = toolkitFixture("export/models.json")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
        guard let models = json as? [String: [String: Any]] else { throw ToolkitError(.invalidData, "models.json: not an object") }
        return models.keys.sorted().map { name in
            let entry = models[name]!
            let o = entry["options"] as? [String: Int] ?? [:]
            return Fixture(name: name, options: ConversionOptions(
                arch: entry["arch"] as! String, imageSize: o["image-size"], hidden: o["hidden"], widthDivisor: o["width-divisor"]))
        }
    }

    /// A reference folder's input 0 and output 0.
    static func reference(_ folder: String) throws -> (input: TensorFile, output: Tensor) {
        let dir = toolkitFixture("export/\(folder)/test_data_set_0/")
        let input = try TensorFile(path: dir + "input_0.pb")
        let output = try TensorFile(path: dir + "output_0.pb")
        return (input, Tensor(output.floats, shape: output.type.shape))
    }

    /// Runs serialized model `bytes` through libd2l on `input`; returns output 0.
    static func runLibd2l(_ bytes: [UInt8], _ input: TensorFile) throws -> Tensor {
        let outputs = try RuntimeRunner.run(bytes: bytes, source: "test model", inputs: [
            RuntimeRunner.Input(dtype: input.type.dtype, shape: input.type.shape, bytes: input.bytes)])
        return Tensor(outputs[0].values, shape: outputs[0].shape)
    }

    static func convert(_ file: String, _ options: ConversionOptions) throws -> ConversionResult {
        let path = toolkitFixture("export/" + file)
        return try CheckpointConverter.convert(PyTorchCheckpoint.load(path: path), options: options, source: path)
    }

    func testEveryFixtureConvertsAndMatchesPyTorch() throws {
        let fixtures = try Self.fixtures()
        XCTAssertEqual(fixtures.count, 11)
        for fixture in fixtures {
            let result = try Self.convert(fixture.name + ".params", fixture.options)
            let (input, expected) = try Self.reference(fixture.name + "-ref")
            let ours = try Self.runLibd2l(result.bytes, input)
            assertClose(ours, expected, atol: 1e-5, rtol: 1e-4, "\(fixture.name) through libd2l vs PyTorch")
            let toolkit = try withNoGrad { try result.module(Tensor(input.floats, shape: input.type.shape)) }
            assertClose(toolkit, expected, atol: 1e-5, rtol: 1e-4, "\(fixture.name) in the toolkit vs PyTorch")
            XCTAssertLessThanOrEqual(try XCTUnwrap(result.checkDifference), 1e-5, fixture.name)
            XCTAssertEqual(result.model.metadata("d2l.producer"), "d2l-export 0.1.0 from torch state_dict")
            XCTAssertEqual(result.model.metadata("d2l.task"), "classification")
            XCTAssertEqual(result.model.metadata("d2l.arch"), fixture.options.arch)
            XCTAssertEqual(result.model.metadata("d2l.labels"), ONNXExportMetadata.labels(FashionMNIST.labels))
            XCTAssertEqual(result.checkpoint.format, .zip)
            XCTAssertEqual(result.model.opset, 17)
            XCTAssertEqual(result.model.inputs.first?.dims.first, "batch")
        }
    }

    /// `convertFile` (d2l-export's low-memory path: tensors decoded one at a time, the model
    /// streamed to the file, the check run from the written file) writes exactly the bytes of
    /// the in-memory conversion, describes them as parsing them would, checks them, and
    /// leaves no temporary file.
    func testConvertFileWritesTheSameModel() throws {
        let dir = NSTemporaryDirectory() + "d2l-conversion-file-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for fixture in try Self.fixtures() {
            for fold in [true, false] {
                var options = fixture.options
                options.foldBatchNorm = fold
                let input = toolkitFixture("export/" + fixture.name + ".params")
                let output = dir + "/" + fixture.name + ".onnx"
                let report = try CheckpointConverter.convertFile(inputPath: input, outputPath: output, options: options)
                let inMemory = try Self.convert(fixture.name + ".params", options)
                let bytes = try AtomicFile.read(output)
                XCTAssertEqual(bytes, inMemory.bytes, "\(fixture.name), fold \(fold)")
                let parsed = try ONNXModelSummary(bytes: bytes)
                XCTAssertEqual(report.model.lines, parsed.lines, fixture.name)
                XCTAssertEqual(report.model.opsets.map(\.domain), parsed.opsets.map(\.domain))
                XCTAssertEqual(report.model.inputs, parsed.inputs)
                XCTAssertEqual(report.model.outputs, parsed.outputs)
                XCTAssertLessThanOrEqual(try XCTUnwrap(report.checkDifference), 1e-5, fixture.name)
                XCTAssertEqual(report.parameterCount, inMemory.parameterCount)
                XCTAssertEqual(report.bufferCount, inMemory.bufferCount)
                XCTAssertEqual(report.metadata.map(\.key), inMemory.metadata.map(\.key))
                XCTAssertEqual(report.checkpoint.text, inMemory.checkpoint.text)
            }
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).count, try Self.fixtures().count)
        // Without the check, and refusals leave nothing behind.
        var options = ConversionOptions(arch: "lenet")
        options.check = false
        let report = try CheckpointConverter.convertFile(inputPath: toolkitFixture("export/lenet.params"),
                                                         outputPath: dir + "/nocheck.onnx", options: options)
        XCTAssertNil(report.checkDifference)
        XCTAssertThrowsError(try CheckpointConverter.convertFile(inputPath: toolkitFixture("export/lenet.params"),
                                                                 outputPath: dir + "/bad.onnx", options: ConversionOptions(arch: "alexnet")))
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/bad.onnx"))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).count, try Self.fixtures().count + 1)
    }

    func testFoldingBatchNormChangesNothing() throws {
        for name in ["lenet-bn", "resnet18-small", "densenet-small"] {
            let fixture = try XCTUnwrap(try Self.fixtures().first { $0.name == name })
            var options = fixture.options
            options.foldBatchNorm = true
            let folded = try Self.convert(name + ".params", options)
            options.foldBatchNorm = false
            let kept = try Self.convert(name + ".params", options)
            // DenseNet's BatchNorms come before their convolutions: only b1's folds.
            func batchNorms(_ r: ConversionResult) -> Int { r.model.opCounts.first { $0.op == "BatchNormalization" }?.count ?? 0 }
            XCTAssertLessThan(batchNorms(folded), batchNorms(kept), name)
            if name != "densenet-small" { XCTAssertEqual(batchNorms(folded), 0, name) }
            let (input, expected) = try Self.reference(name + "-ref")
            let a = try Self.runLibd2l(folded.bytes, input), b = try Self.runLibd2l(kept.bytes, input)
            XCTAssertLessThanOrEqual(maxDifference(a.scalars, b.scalars), 1e-5, name)
            assertClose(b, expected, atol: 1e-5, rtol: 1e-4, "\(name) without folding vs PyTorch")
        }
    }

    func testLegacyFormatAndFloat16() throws {
        let options = try XCTUnwrap(try Self.fixtures().first { $0.name == "densenet-small" }).options
        let legacy = try Self.convert("densenet-small-legacy.params", options)
        XCTAssertEqual(legacy.checkpoint.format, .legacy)
        let (input, expected) = try Self.reference("densenet-small-ref")
        assertClose(try Self.runLibd2l(legacy.bytes, input), expected, "legacy format vs PyTorch")

        let half = try Self.convert("densenet-small-fp16.params", options)
        XCTAssertEqual(half.checkpoint.convertedDTypes, [.float16])
        XCTAssertEqual(half.checkpoint.dtypes, [.float16, .int64])
        let ours = try Self.runLibd2l(half.bytes, input)
        // Against PyTorch with the fp16-rounded weights: as tight as float32.
        assertClose(ours, try Self.reference("densenet-small-fp16-ref").output, "fp16 vs the fp16-rounded reference")
        // Against the float32 weights: within fp16 rounding.
        assertClose(ours, expected, atol: 2e-2, rtol: 2e-2, "fp16 vs the float32 reference")
    }

    func testSafeTensorsCheckpoints() throws {
        // From PyTorch through safetensors.torch.save_file.
        let tiny = try Self.convert("tiny-softmax.safetensors", ConversionOptions(arch: "softmax", imageSize: 8))
        XCTAssertEqual(tiny.checkpoint.format, .safetensors)
        XCTAssertEqual(tiny.model.metadata("d2l.producer"), "d2l-export 0.1.0 from safetensors")
        XCTAssertEqual(tiny.model.metadata("d2l.input"),
                       #"{"layout": "NCHW", "range": [0.0, 1.0], "mean": [0.0], "std": [1.0], "size": [8, 8]}"#)
        let (input, expected) = try Self.reference("tiny-softmax-ref")
        assertClose(try Self.runLibd2l(tiny.bytes, input), expected, "tiny softmax (safetensors) vs PyTorch")

        // The toolkit's own checkpoint, round trip.
        let dir = NSTemporaryDirectory() + "d2l-conversion-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        Random.seed(3)
        let net = try Models.make(arch: "lenet-bn")
        try net.saveCheckpoint(to: dir + "/lenet-bn.safetensors")
        let result = try CheckpointConverter.convert(inputPath: dir + "/lenet-bn.safetensors", outputPath: dir + "/m.onnx",
                                                     options: ConversionOptions(arch: "lenet-bn"))
        XCTAssertEqual(result.checkpoint.format, .safetensors)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/m.onnx"))
        let x = Tensor((0..<(2 * 784)).map { Float($0 % 17) / 17 }, shape: [2, 1, 28, 28])
        net.eval()
        let theirs = try RuntimeModel(path: dir + "/m.onnx").run(x)
        assertClose(theirs, try withNoGrad { try net(x) }, "toolkit checkpoint through d2l-export")
    }

    func testEveryArchitectureIsRecognisedByItsKeys() throws {
        XCTAssertEqual(ArchitectureGuess.keyLists.map(\.arch), CheckpointConverter.architectures, "every --arch has its keys")
        for (arch, keys) in ArchitectureGuess.keyLists where !LanguageModels.names.contains(arch) {
            XCTAssertFalse(keys.isEmpty, arch)
            XCTAssertEqual(ArchitectureGuess.best(for: keys.map { ($0, [1]) }), [arch], "\(arch)'s keys are its own")
            XCTAssertNil(ArchitectureGuess.hint(for: keys.map { ($0, [1]) }, notArch: arch))
        }
        // The language models share their keys; rnn.weight_hh_l0's rows per hidden unit tell them apart.
        let lmKeys = try XCTUnwrap(ArchitectureGuess.keys(of: "gru-lm"))
        XCTAssertEqual(ArchitectureGuess.best(for: lmKeys.map { ($0, [2]) }), ["rnn-lm", "gru-lm", "lstm-lm"])
        for (gates, arch) in [(1, "rnn-lm"), (3, "gru-lm"), (4, "lstm-lm")] {
            let keys = lmKeys.map { (name: $0, shape: $0 == "rnn.weight_hh_l0" ? [gates * 64, 64] : [2]) }
            XCTAssertEqual(ArchitectureGuess.hint(for: keys, notArch: "mlp"), "its keys look like those of --arch \(arch)")
        }
        XCTAssertEqual(ArchitectureGuess.hint(for: lmKeys.map { ($0, [2]) }), "its keys look like those of --arch rnn-lm, gru-lm or lstm-lm")
        // Keys like none of them: no guess.
        XCTAssertEqual(ArchitectureGuess.best(for: [("encoder.weight", [2]), ("decoder.weight", [2])]), [])
        XCTAssertEqual(ArchitectureGuess.best(for: []), [])
        // The guess leaves the random state alone (it builds small models once).
        Random.seed(7)
        let before = Random.generator.state
        _ = ArchitectureGuess.best(for: [("1.weight", [1])])
        XCTAssertEqual(Random.generator.state, before)
    }

    func testStateDictMismatchSummary() {
        let entries = Sequential(Linear(2, 2), ReLU(), Linear(2, 2)).namedStateEntries()
        let given: [(name: String, shape: [Int])] = [("0.weight", [3, 2]), ("0.bias", [2])] + (0..<8).map { ("extra.\($0)", [1]) }
        let mismatch = StateDictMismatch(entries, given: given)
        XCTAssertEqual(mismatch.lines(limit: 5), [
            "keys: 2 missing, 8 unexpected, 1 mis-shaped",
            "missing keys: 2.weight, 2.bias",
            "unexpected keys: extra.0, extra.1, extra.2, extra.3, extra.4 … and 3 more",
            "mis-shaped keys: 0.weight: checkpoint [3, 2], model [2, 2]",
        ])
        let error = mismatch.error("x.pth does not fit", hint: "a hint")
        XCTAssertEqual(ToolkitError.line(for: error), "x.pth does not fit; " + mismatch.lines(limit: 5).joined(separator: "; ") + "; a hint")
        XCTAssertEqual(error.details, (["x.pth does not fit"] + mismatch.lines(limit: .max) + ["a hint"]).joined(separator: "\n"))
        XCTAssertTrue(error.details?.contains("extra.7") ?? false)
        XCTAssertEqual(StateDictMismatch(expected: ["a", "b"], given: [("b", [1]), ("c", [1]), ("c", [2])]).lines(limit: 5),
                       ["keys: 1 missing, 1 unexpected", "missing keys: a", "unexpected keys: c"])
        XCTAssertEqual(StateDictMismatch.listed(["a", "b", "c"], limit: 3), "a, b, c")
        XCTAssertEqual(StateDictMismatch.listed(["a", "b", "c"], limit: 2), "a, b … and 1 more")
    }

    func testMismatchesNameEveryKey() throws {
        let tiny = ConversionOptions(arch: "softmax", imageSize: 8)
        XCTAssertThrowsError(try Self.convert("tiny-renamed-key.params", tiny)) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("missing keys: 1.weight"), message)
            XCTAssertTrue(message.contains("unexpected keys: 1.weights"), message)
            XCTAssertFalse(message.contains("\n"), "one line: \(message)")
        }
        XCTAssertThrowsError(try Self.convert("tiny-wrong-shape.params", tiny)) { error in
            XCTAssertTrue("\(error)".contains("mis-shaped keys: 1.bias: checkpoint [11], model [10]"), "\(error)")
        }
        // LeNet's checkpoint into LeNet-BN: the counts, the first five keys of each kind, the
        // architecture the keys are; every key in the error's details.
        XCTAssertThrowsError(try Self.convert("lenet.params", ConversionOptions(arch: "lenet-bn"))) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("keys: 26 missing, 6 unexpected, 2 mis-shaped"), message)
            XCTAssertTrue(message.contains("missing keys: 1.weight, 1.bias, 1.running_mean, 1.running_var, 1.num_batches_tracked … and 21 more"), message)
            XCTAssertTrue(message.contains("unexpected keys: 3.weight, 3.bias, 7.weight, 7.bias, 11.weight … and 1 more"), message)
            XCTAssertTrue(message.contains("mis-shaped keys: 9.weight: checkpoint [84, 120], model [120, 256]"), message)
            XCTAssertTrue(message.contains("its keys look like those of --arch lenet"), message)
            XCTAssertFalse(message.contains("13.running_var"), "only the first keys in the message: \(message)")
            let details = (error as? ToolkitError)?.details ?? ""
            for key in ["1.weight", "1.running_mean", "1.num_batches_tracked", "13.running_var", "15.bias", "11.bias"] {
                XCTAssertTrue(details.contains(key), "\(key) in \(details)")
            }
        }
        // A model far larger than the checkpoint (ResNet-18's keys as an MLP): the keys,
        // not the options, are what is wrong.
        XCTAssertThrowsError(try Self.convert("resnet18-small.params", ConversionOptions(arch: "mlp"))) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("keys: 4 missing, 127 unexpected"), message)
            XCTAssertTrue(message.contains("… and 122 more"), message)
            XCTAssertTrue(message.hasSuffix("its keys look like those of --arch resnet18"), message)
        }
        // The right keys, a model too large: the options are named.
        XCTAssertThrowsError(try Self.convert("lenet.params", ConversionOptions(arch: "lenet", imageSize: 20000))) {
            XCTAssertTrue("\($0)".contains("check --num-classes"), "\($0)")
        }
        // Wrong width divisor: the shapes say so.
        XCTAssertThrowsError(try Self.convert("resnet18-small.params", ConversionOptions(arch: "resnet18", widthDivisor: 16))) {
            XCTAssertTrue("\($0)".contains("mis-shaped keys: 0.0.weight: checkpoint [2, 1, 7, 7], model [4, 1, 7, 7]"), "\($0)")
        }
    }

    func testRefusals() throws {
        let tiny = ConversionOptions(arch: "softmax", imageSize: 8)
        XCTAssertThrowsError(try Self.convert("tiny-whole-module.pt", tiny)) {
            XCTAssertTrue("\($0)".contains("state_dict"), "\($0)")
        }
        XCTAssertThrowsError(try Self.convert("tiny-softmax.params", ConversionOptions(arch: "resnet99"))) {
            XCTAssertTrue("\($0)".contains("unknown architecture 'resnet99'; valid names: softmax, mlp"), "\($0)")
        }
        for arch in CheckpointConverter.languageModels {
            XCTAssertThrowsError(try Self.convert("tiny-softmax.params", ConversionOptions(arch: arch))) {
                XCTAssertTrue("\($0)".contains("needs the vocabulary: --vocab"), "\($0)")
            }
        }
        XCTAssertThrowsError(try Self.convert("tiny-softmax.params",
                                              ConversionOptions(arch: "softmax", classes: 10, imageSize: 8, labels: ["a", "b"]))) {
            XCTAssertTrue("\($0)".contains("--labels lists 2 labels but --num-classes is 10"), "\($0)")
        }
        XCTAssertThrowsError(try Self.convert("tiny-softmax.params", ConversionOptions(arch: "softmax", imageSize: 8, opset: 9))) {
            XCTAssertTrue("\($0)".contains("opset 9"), "\($0)")
        }

        // No output file after any failure; missing folders refused before any work.
        let dir = NSTemporaryDirectory() + "d2l-conversion-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let output = dir + "/out.onnx"
        for (file, options) in [("tiny-renamed-key.params", tiny), ("tiny-whole-module.pt", tiny),
                                ("tiny-softmax.params", ConversionOptions(arch: "gru-lm")),
                                ("no-such-file.params", tiny)] {
            XCTAssertThrowsError(try CheckpointConverter.convert(inputPath: toolkitFixture("export/" + file),
                                                                 outputPath: output, options: options))
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), [], file)
        }
        XCTAssertThrowsError(try CheckpointConverter.convert(inputPath: toolkitFixture("export/tiny-softmax.params"),
                                                             outputPath: dir + "/missing/out.onnx", options: tiny)) {
            XCTAssertTrue("\($0)".contains("the folder \(dir)/missing does not exist"), "\($0)")
        }
        XCTAssertThrowsError(try CheckpointConverter.convert(inputPath: toolkitFixture("export/tiny-softmax.params"),
                                                             outputPath: dir, options: tiny)) {
            XCTAssertTrue("\($0)".contains("it is a folder"), "\($0)")
        }
        // A truncated checkpoint.
        let bytes = try AtomicFile.read(toolkitFixture("export/tiny-softmax.params"))
        try AtomicFile.write(Array(bytes.prefix(bytes.count / 2)), to: dir + "/truncated.params")
        XCTAssertThrowsError(try CheckpointConverter.convert(inputPath: dir + "/truncated.params", outputPath: output, options: tiny))
        XCTAssertFalse(FileManager.default.fileExists(atPath: output))
    }

    func testOptionsLabelsAndMetadata() throws {
        // Custom labels set the class count; the size appears in d2l.input when not 28x28.
        let labels = (0..<10).map { "class \($0)" }
        let result = try Self.convert("resnet18-small.params",
                                      ConversionOptions(arch: "resnet18", imageSize: 32, widthDivisor: 32, labels: labels))
        XCTAssertEqual(result.model.metadata("d2l.labels"), ONNXExportMetadata.labels(labels))
        XCTAssertTrue(result.model.metadata("d2l.input")?.contains("\"size\": [32, 32]") == true)
        XCTAssertEqual(result.inputShape, [1, 1, 32, 32])
        // vgg11's ratio from the checkpoint, or given.
        let vgg = try Self.convert("vgg11-small.params", ConversionOptions(arch: "vgg11", imageSize: 32, hidden: 64))
        XCTAssertEqual(vgg.modelOptions.widthDivisor, 32)
        XCTAssertTrue(vgg.notes.contains { $0.contains("ratio 32") })
        XCTAssertThrowsError(try Self.convert("vgg11-small.params", ConversionOptions(arch: "vgg11", imageSize: 32, hidden: 64, widthDivisor: 4)))
        // mlp-block: a vector input, no d2l.input.
        let block = try Self.convert("mlp-block.params", ConversionOptions(arch: "mlp-block"))
        XCTAssertEqual(block.inputShape, [1, 20])
        XCTAssertNil(block.model.metadata("d2l.input"))
        // Another opset.
        let opset20 = try Self.convert("lenet.params", ConversionOptions(arch: "lenet", opset: 20))
        XCTAssertEqual(opset20.model.opset, 20)
        let (input, expected) = try Self.reference("lenet-ref")
        assertClose(try Self.runLibd2l(opset20.bytes, input), expected, "lenet at opset 20")
    }

    func testVerificationAndInspection() throws {
        let dir = NSTemporaryDirectory() + "d2l-conversion-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try CheckpointConverter.convert(inputPath: toolkitFixture("export/lenet.params"), outputPath: dir + "/lenet.onnx",
                                        options: ConversionOptions(arch: "lenet"))
        let good = try ModelVerification(modelPath: dir + "/lenet.onnx", referenceDirectory: toolkitFixture("export/lenet-ref"))
        XCTAssertEqual(good.comparisons.count, 1)
        XCTAssertLessThanOrEqual(good.maxDifference, 1e-5)
        // Another model's outputs differ.
        let bad = try ModelVerification(modelPath: dir + "/lenet.onnx", referenceDirectory: toolkitFixture("export/lenet-bn-ref"))
        XCTAssertGreaterThan(bad.maxDifference, 1e-3)
        XCTAssertThrowsError(try ModelVerification(modelPath: dir + "/lenet.onnx", referenceDirectory: dir + "/nowhere"))
        XCTAssertThrowsError(try ModelVerification(modelPath: dir + "/lenet.onnx", referenceDirectory: toolkitFixture("export/mlp-block-ref"))) {
            XCTAssertTrue("\($0)".contains("input"), "\($0)")
        }

        let onnx = try FileInspection.lines(path: dir + "/lenet.onnx")
        XCTAssertTrue(onnx.contains("input  x: float32 [batch, 1, 28, 28]"), "\(onnx)")
        XCTAssertTrue(onnx.contains("output logits: float32 [batch, 10]"), "\(onnx)")
        XCTAssertTrue(onnx.contains("opset: ai.onnx 17"), "\(onnx)")
        XCTAssertTrue(onnx.contains { $0.hasPrefix("12 nodes: Conv×2, Sigmoid×4, AveragePool×2") }, "\(onnx)")
        XCTAssertTrue(onnx.contains("metadata d2l.task = classification"), "\(onnx)")
        let checkpoint = try FileInspection.lines(path: toolkitFixture("export/lenet-bn.params"))
        XCTAssertTrue(checkpoint.contains { $0.hasPrefix("1.num_batches_tracked") && $0.hasSuffix("[]  int64") }, "\(checkpoint)")
        XCTAssertEqual(checkpoint.last, "total: 30 tensors, 45334 values; dtypes float32, int64")
        XCTAssertTrue(try FileInspection.lines(path: toolkitFixture("export/densenet-small-fp16.params")).last!
            .contains("float16 converted to float32"))
    }
}
