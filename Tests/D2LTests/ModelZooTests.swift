import Foundation
import XCTest
@testable import D2L

/// The model zoo against PyTorch: state-dict keys and shapes (Tests/Fixtures/toolkit/models/keys.json)
/// and evaluation-mode outputs of the small variants (`<name>.safetensors`).
final class ModelZooTests: XCTestCase {
    /// keys.json's model names → the toolkit's definition. Full-size models only allocate
    /// their parameters here.
    static let keyModels: [(name: String, make: () throws -> Module)] = [
        ("softmax", { Models.softmaxRegression() }),
        ("mlp", { Models.mlp() }),
        ("lenet", { try Models.lenet() }),
        ("lenet-bn", { try Models.lenetBN() }),
        ("alexnet", { try Models.alexnet() }),
        ("vgg11", { try Models.vgg11() }),
        ("vgg11-ratio4", { try Models.vgg11(ratio: 4) }),
        ("nin", { try Models.nin() }),
        ("googlenet", { try Models.googlenet() }),
        ("resnet18", { try Models.resnet18() }),
        ("densenet", { try Models.densenet() }),
        ("alexnet-small", { try Models.alexnet(imageSize: 96, widthDivisor: 32) }),
        ("vgg11-small", { try Models.vgg11(ratio: 32, fc: 128, imageSize: 64) }),
        ("nin-small", { try Models.nin(widthDivisor: 16) }),
        ("googlenet-small", { try Models.googlenet(widthDivisor: 16) }),
        ("resnet18-small", { try Models.resnet18(widthDivisor: 32) }),
        ("densenet-small", { try Models.densenet(widthDivisor: 8) }),
    ]

    /// keys.json's models through the registry (`d2l-export --arch` names and options).
    static let registryModels: [(name: String, arch: String, options: ModelOptions)] = [
        ("softmax", "softmax", ModelOptions()),
        ("mlp", "mlp", ModelOptions()),
        ("lenet", "lenet", ModelOptions()),
        ("lenet-bn", "lenet-bn", ModelOptions()),
        ("alexnet-small", "alexnet", ModelOptions(imageSize: 96, widthDivisor: 32)),
        ("vgg11-small", "vgg11", ModelOptions(imageSize: 64, hidden: 128, widthDivisor: 32)),
        ("nin-small", "nin", ModelOptions(imageSize: 96, widthDivisor: 16)),
        ("googlenet-small", "googlenet", ModelOptions(imageSize: 64, widthDivisor: 16)),
        ("resnet18-small", "resnet18", ModelOptions(imageSize: 64, widthDivisor: 32)),
        ("densenet-small", "densenet", ModelOptions(imageSize: 64, widthDivisor: 8)),
        ("googlenet", "googlenet", ModelOptions()),
        ("resnet18", "resnet18", ModelOptions()),
        ("densenet", "densenet", ModelOptions()),
        ("nin", "nin", ModelOptions()),
        ("vgg11-ratio4", "vgg11", ModelOptions(widthDivisor: 4)),
    ]

    struct KeysEntry {
        var inputShape: [Int]
        var outputShape: [Int]
        var numParameters: Int
        var buffers: [String]
        var stateDict: [(key: String, shape: [Int], dtype: String)]
    }

    static func loadKeys() throws -> [String: KeysEntry] {
        let path = toolkitFixture("models/keys.json")
        guard FileManager.default.fileExists(atPath: path) else { throw XCTSkip("no \(path)") }
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
        guard let models = json as? [String: [String: Any]] else { throw ToolkitError(.invalidData, "keys.json: not an object") }
        var result: [String: KeysEntry] = [:]
        for (name, entry) in models {
            let rows = entry["state_dict"] as? [[Any]] ?? []
            result[name] = KeysEntry(
                inputShape: entry["input_shape"] as? [Int] ?? [],
                outputShape: entry["output_shape"] as? [Int] ?? [],
                numParameters: entry["num_parameters"] as? Int ?? -1,
                buffers: entry["buffers"] as? [String] ?? [],
                stateDict: rows.map { ($0[0] as? String ?? "", $0[1] as? [Int] ?? [], $0[2] as? String ?? "") })
        }
        return result
    }

    /// Compares `module`'s state dictionary (order, keys, shapes, integral buffers),
    /// parameter count and buffers with keys.json's entry.
    func assertMatchesKeys(_ module: Module, _ entry: KeysEntry, _ name: String,
                           file: StaticString = #filePath, line: UInt = #line) {
        let ours = module.namedStateEntries()
        XCTAssertEqual(ours.map(\.name), entry.stateDict.map(\.key), "\(name): state-dict keys", file: file, line: line)
        for ((key, parameter), (theirKey, shape, dtype)) in zip(ours, entry.stateDict) where key == theirKey {
            XCTAssertEqual(parameter.shape, shape, "\(name): shape of \(key)", file: file, line: line)
            XCTAssertEqual(parameter.isIntegral, dtype == "I64", "\(name): dtype of \(key)", file: file, line: line)
        }
        XCTAssertEqual(module.parameterCount, entry.numParameters, "\(name): parameter count", file: file, line: line)
        XCTAssertEqual(module.namedBuffers().map(\.name), entry.buffers, "\(name): buffers", file: file, line: line)
    }

    func testStateDictKeysAndShapesMatchPyTorch() throws {
        let keys = try Self.loadKeys()
        for (name, make) in Self.keyModels {
            guard let entry = keys[name] else { XCTFail("keys.json has no \(name)"); continue }
            let module = try make()
            assertMatchesKeys(module, entry, name)
        }
        let covered = Set(Self.keyModels.map(\.name))
        XCTAssertEqual(Set(keys.keys).subtracting(covered), [], "keys.json models without a toolkit definition in this test")
    }

    func testRegistryBuildsTheSameModelsAndInputShapes() throws {
        let keys = try Self.loadKeys()
        for (name, arch, options) in Self.registryModels {
            guard let entry = keys[name] else { XCTFail("keys.json has no \(name)"); continue }
            let module = try Models.make(arch: arch, options: options)
            assertMatchesKeys(module, entry, "\(arch) \(options)")
            XCTAssertEqual([1] + (try Models.inputShape(arch: arch, options: options)), entry.inputShape, "\(name): input shape")
        }
    }

    func testOutputShapesOfTheSmallVariantsMatchKeys() throws {
        let keys = try Self.loadKeys()
        for (name, make) in Self.keyModels where name.hasSuffix("-small") || ["softmax", "mlp", "lenet", "lenet-bn"].contains(name) {
            guard let entry = keys[name] else { continue }
            let module = try make()
            module.eval()
            let y = try module(Tensor.rand(entry.inputShape))
            XCTAssertEqual(y.shape, entry.outputShape, "\(name): output shape")
        }
    }

    func testDefaultInputShapesAreTheBooks() throws {
        let expected: [String: [Int]] = [
            "softmax": [1, 28, 28], "mlp": [1, 28, 28], "mlp-block": [20], "lenet": [1, 28, 28], "lenet-bn": [1, 28, 28],
            "alexnet": [1, 224, 224], "vgg11": [1, 224, 224], "nin": [1, 224, 224],
            "googlenet": [1, 96, 96], "resnet18": [1, 96, 96], "densenet": [1, 96, 96],
            "torchvision-resnet18": [3, 224, 224],
        ]
        XCTAssertEqual(Set(Models.architectures), Set(expected.keys))
        for (arch, shape) in expected { XCTAssertEqual(try Models.inputShape(arch: arch), shape, arch) }
        XCTAssertEqual(try Models.inputShape(arch: "resnet18", options: ModelOptions(inChannels: 3, imageSize: 64)), [3, 64, 64])
        for arch in ["softmax", "mlp", "mlp-block", "lenet", "lenet-bn", "resnet18", "densenet"] {
            XCTAssertNoThrow(try Models.make(arch: arch), arch)
        }
    }

    func testUnknownArchitectureListsTheValidNames() {
        XCTAssertThrowsError(try Models.make(arch: "resnet50")) { error in
            guard let e = error as? ToolkitError else { return XCTFail("\(error)") }
            XCTAssertEqual(e.kind, .invalidArgument)
            XCTAssertTrue(e.message.contains("resnet50"), e.message)
            for arch in ["softmax", "mlp", "mlp-block", "lenet", "lenet-bn", "alexnet", "vgg11", "nin",
                         "googlenet", "resnet18", "densenet"] {
                XCTAssertTrue(e.message.contains(arch), "message lacks \(arch): \(e.message)")
            }
        }
        XCTAssertThrowsError(try Models.inputShape(arch: "lenet5"))
    }

    func testBadOptionsThrowInsteadOfTrapping() {
        XCTAssertThrowsError(try Models.make(arch: "alexnet", options: ModelOptions(imageSize: 32))) { error in
            XCTAssertEqual((error as? ToolkitError)?.kind, .invalidArgument, "\(error)")
        }
        XCTAssertThrowsError(try Models.make(arch: "resnet18", options: ModelOptions(widthDivisor: 128)))
        XCTAssertThrowsError(try Models.make(arch: "mlp", options: ModelOptions(classes: 0)))
        XCTAssertThrowsError(try Models.make(arch: "vgg11", options: ModelOptions(imageSize: 16)))
    }

    func testOptionsChangeClassesAndChannels() throws {
        let net = try Models.make(arch: "resnet18", options: ModelOptions(classes: 5, inChannels: 3, imageSize: 32, widthDivisor: 16))
        net.eval()
        XCTAssertEqual(try net(Tensor.rand([1, 3, 32, 32])).shape, [1, 5])
        let keys = Dictionary(uniqueKeysWithValues: net.stateDict().map { ($0.name, $0.value.shape) })
        XCTAssertEqual(keys["0.0.weight"], [4, 3, 7, 7])
        XCTAssertEqual(keys["7.weight"], [5, 32])
        let mlp = try Models.make(arch: "mlp", options: ModelOptions(classes: 3, imageSize: 8, hidden: 16))
        XCTAssertEqual(mlp.stateDict().map(\.value.shape), [[16, 64], [16], [3, 16], [3]])
    }

    func testMLPBlockHasChapterFiveKeys() throws {
        let block = try Models.make(arch: "mlp-block")
        XCTAssertEqual(block.stateDict().map(\.name), ["hidden.weight", "hidden.bias", "output.weight", "output.bias"])
        XCTAssertEqual(block.stateDict().map(\.value.shape), [[256, 20], [256], [10, 256], [10]])
        block.eval()
        let x = Tensor.rand([2, 20])
        let mlp = block as! MLPBlock
        let expected = Tensor.linear(Tensor.linear(x, weight: mlp.hidden.weight.value, bias: mlp.hidden.bias?.value).relu(),
                                     weight: mlp.output.weight.value, bias: mlp.output.bias?.value)
        assertClose(try block(x), expected, "MLPBlock forward")
    }

    /// torchvision.models.resnet18's state dictionary: 122 entries, 11,689,512 parameters.
    func testTorchvisionResNet18HasTorchvisionKeys() throws {
        let net = try Models.torchvisionResNet18()
        let state = net.stateDict()
        XCTAssertEqual(state.count, 122)
        XCTAssertEqual(net.parameterCount, 11_689_512)
        let shapes = Dictionary(uniqueKeysWithValues: state.map { ($0.name, $0.value.shape) })
        XCTAssertEqual(shapes["conv1.weight"], [64, 3, 7, 7])
        XCTAssertNil(shapes["conv1.bias"])
        XCTAssertEqual(shapes["bn1.running_var"], [64])
        XCTAssertEqual(shapes["layer1.0.conv1.weight"], [64, 64, 3, 3])
        XCTAssertNil(shapes["layer1.0.downsample.0.weight"])
        XCTAssertEqual(shapes["layer2.0.downsample.0.weight"], [128, 64, 1, 1])
        XCTAssertEqual(shapes["layer2.0.downsample.1.num_batches_tracked"], [])
        XCTAssertEqual(shapes["layer4.1.bn2.weight"], [512])
        XCTAssertEqual(shapes["fc.weight"], [1000, 512])
        XCTAssertEqual(shapes["fc.bias"], [1000])
        XCTAssertEqual(Array(state.map(\.name).prefix(7)),
                       ["conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var",
                        "bn1.num_batches_tracked", "layer1.0.conv1.weight"])
        XCTAssertEqual(Array(state.map(\.name).suffix(2)), ["fc.weight", "fc.bias"])
        let registry = try Models.make(arch: "torchvision-resnet18", options: ModelOptions(imageSize: 32, widthDivisor: 32))
        registry.eval()
        XCTAssertEqual(try registry(Tensor.rand([1, 3, 32, 32])).shape, [1, 1000])
    }

    // MARK: - PyTorch outputs

    /// The small models with PyTorch outputs in Tests/Fixtures/toolkit/models.
    static let fixtureModels: [(name: String, arch: String, options: ModelOptions)] = [
        ("softmax", "softmax", ModelOptions()),
        ("lenet-bn", "lenet-bn", ModelOptions()),
        ("alexnet-small", "alexnet", ModelOptions(imageSize: 96, widthDivisor: 32)),
        ("vgg11-small", "vgg11", ModelOptions(imageSize: 64, hidden: 128, widthDivisor: 32)),
        ("nin-small", "nin", ModelOptions(imageSize: 96, widthDivisor: 16)),
        ("googlenet-small", "googlenet", ModelOptions(imageSize: 64, widthDivisor: 16)),
        ("resnet18-small", "resnet18", ModelOptions(imageSize: 64, widthDivisor: 32)),
        ("densenet-small", "densenet", ModelOptions(imageSize: 64, widthDivisor: 8)),
    ]

    /// Loads PyTorch's parameters, runs the evaluation-mode forward and compares with
    /// PyTorch's output; then exports (BatchNorm kept and folded) and runs the file in
    /// D2LRuntime: both equal the toolkit's output.
    func testEvalForwardMatchesPyTorchAndTheExportMatchesTheToolkit() throws {
        var found = 0
        for (name, arch, options) in Self.fixtureModels {
            let path = "models/\(name).safetensors"
            guard FileManager.default.fileExists(atPath: toolkitFixture(path)) else { continue }
            found += 1
            let fixture = try loadFixture(path)
            let net = try Models.make(arch: arch, options: options)
            try net.loadStateDict(try fixture.state())
            net.eval()
            let x = try fixture.tensor("input")
            let y = try net(x)
            assertClose(y, try fixture.tensor("output"), atol: 1e-5, rtol: 1e-4, "\(name): toolkit vs PyTorch")

            let shape = [1] + (try Models.inputShape(arch: arch, options: options))
            for fold in [false, true] {
                let bytes = try exportONNX(net, inputShape: shape, foldBatchNorm: fold)
                let runtime = try exportTestRunRuntime(bytes, x)
                assertClose(runtime, y, atol: 1e-5, rtol: 1e-4, "\(name) fold=\(fold): runtime vs toolkit")
            }
        }
        if found == 0 { throw XCTSkip("no model fixtures in Tests/Fixtures/toolkit/models") }
    }
}
