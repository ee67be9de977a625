import Foundation
import XCTest
@testable import D2L

/// The toolkit API of fine-tuning (ch. 13.2): `loadStateDict(_:strict: false)` against
/// PyTorch's missing/unexpected keys (Tests/Fixtures/toolkit/finetune/state-dict-keys.json,
/// from tools/fixtures/make-finetune-fixtures), replacing a model's classifier head, and
/// freezing parameters.
final class ModuleFineTuningTests: XCTestCase {
    override func setUp() {
        super.setUp()
        Random.seed(23)
    }

    /// The fixture's cases: name → ("missing", "unexpected") or ("size_mismatch").
    func pytorchCases() throws -> [String: [String: [String]]] {
        let data = try Data(contentsOf: URL(fileURLWithPath: toolkitFixture("finetune/state-dict-keys.json")))
        let document = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        return try XCTUnwrap(document["cases"] as? [String: [String: [String]]])
    }

    func without(_ state: [(name: String, value: Tensor)], prefix: String) -> [(name: String, value: Tensor)] {
        state.filter { !$0.name.hasPrefix(prefix) }
    }

    /// Every key of `state` that `model` has holds `state`'s values.
    func assertLoaded(_ model: Module, from state: [(name: String, value: Tensor)], _ what: String,
                      file: StaticString = #filePath, line: UInt = #line) {
        let loaded = Dictionary(model.stateDict().map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
        var checked = 0
        for (name, value) in state {
            guard let got = loaded[name] else { continue }
            XCTAssertEqual(got.scalars, value.scalars, "\(what): \(name)", file: file, line: line)
            checked += 1
        }
        XCTAssertGreaterThan(checked, 0, what, file: file, line: line)
    }

    func assertSameState(_ a: [(name: String, value: Tensor)], _ b: [(name: String, value: Tensor)], _ what: String,
                         file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.map(\.name), b.map(\.name), what, file: file, line: line)
        for (x, y) in zip(a, b) { XCTAssertEqual(x.value.scalars, y.value.scalars, "\(what): \(x.name)", file: file, line: line) }
    }

    // MARK: - loadStateDict(strict: false)

    func testNonStrictLoadReportsPyTorchsKeysAndLoadsTheRest() throws {
        let cases = try pytorchCases()
        let pretrained = try Models.torchvisionResNet18(classes: 1000, width: 2).stateDict()

        let noFC = try Models.torchvisionResNet18(classes: 2, width: 2)
        let state = without(pretrained, prefix: "fc.")
        let result = try noFC.loadStateDict(state, strict: false)
        XCTAssertEqual(result.missingKeys, cases["torchvision-no-fc"]?["missing"])
        XCTAssertEqual(result.unexpectedKeys, cases["torchvision-no-fc"]?["unexpected"])
        assertLoaded(noFC, from: state, "torchvision-no-fc")

        let short = TorchvisionResNet(layers: [2, 2, 2, 1], classes: 2, width: 2)
        let fcBefore = short.fc.weight.value.scalars
        let shortResult = try short.loadStateDict(state, strict: false)
        XCTAssertEqual(shortResult.missingKeys, cases["torchvision-short-layer4"]?["missing"])
        XCTAssertEqual(shortResult.unexpectedKeys, cases["torchvision-short-layer4"]?["unexpected"])
        XCTAssertFalse(shortResult.isEmpty)
        assertLoaded(short, from: state, "torchvision-short-layer4")
        XCTAssertEqual(short.fc.weight.value.scalars, fcBefore, "a missing key keeps its values")

        let net = try Models.lenet()
        let lenetState = without(try Models.lenet().stateDict(), prefix: "11.")
        let lenetResult = try net.loadStateDict(lenetState, strict: false)
        XCTAssertEqual(lenetResult.missingKeys, cases["lenet-no-head"]?["missing"])
        XCTAssertEqual(lenetResult.unexpectedKeys, cases["lenet-no-head"]?["unexpected"])
        assertLoaded(net, from: lenetState, "lenet-no-head")
    }

    func testNonStrictLoadOfASharedLayerUnderOneOfItsNames() throws {
        let cases = try pytorchCases()
        func make() -> (Sequential, Linear) {
            let shared = Linear(8, 8)
            return (Sequential(Linear(4, 8), ReLU(), shared, ReLU(), shared, ReLU(), Linear(8, 1)), shared)
        }
        let (source, _) = make()
        let (net, shared) = make()
        let state = without(source.stateDict(), prefix: "4.")
        let result = try net.loadStateDict(state, strict: false)
        XCTAssertEqual(result.missingKeys, cases["shared-one-name"]?["missing"])
        XCTAssertEqual(result.unexpectedKeys, cases["shared-one-name"]?["unexpected"])
        XCTAssertEqual(shared.weight.value.scalars, state.first { $0.name == "2.weight" }!.value.scalars)
        XCTAssertEqual(net.stateDict().first { $0.name == "4.bias" }!.value.scalars,
                       state.first { $0.name == "2.bias" }!.value.scalars, "4.* is the same layer")
    }

    func testSizeMismatchThrowsNamingTheKeysAndChangesNothing() throws {
        let cases = try pytorchCases()
        let pretrained = try Models.torchvisionResNet18(classes: 1000, width: 2).stateDict()
        let net = try Models.torchvisionResNet18(classes: 2, width: 2)
        let before = net.stateDict()
        for strict in [false, true] {
            XCTAssertThrowsError(try net.loadStateDict(pretrained, strict: strict)) { error in
                let message = "\(error)"
                for key in cases["torchvision-1000-into-2"]?["size_mismatch"] ?? ["(fixture)"] {
                    XCTAssertTrue(message.contains("\(key): checkpoint"), "strict \(strict): \(message)")
                }
                XCTAssertFalse(message.contains("conv1.weight"), message)
            }
            assertSameState(net.stateDict(), before, "strict \(strict): nothing loaded")
        }
    }

    func testStrictLoadStillRejectsMissingAndUnexpectedKeys() throws {
        let net = try Models.lenet()
        let before = net.stateDict()
        let state = without(try Models.lenet().stateDict(), prefix: "11.") + [("extra.weight", Tensor.zeros([1]))]
        XCTAssertThrowsError(try net.loadStateDict(state)) { error in
            XCTAssertTrue("\(error)".contains("missing keys: 11.weight, 11.bias"), "\(error)")
            XCTAssertTrue("\(error)".contains("unexpected keys: extra.weight"), "\(error)")
        }
        XCTAssertThrowsError(try net.loadStateDict(state, strict: true))
        assertSameState(net.stateDict(), before, "strict: nothing loaded")
        let result = try net.loadStateDict(state, strict: false)
        XCTAssertEqual(result, StateDictLoadResult(missingKeys: ["11.weight", "11.bias"], unexpectedKeys: ["extra.weight"]))
        XCTAssertTrue(try net.loadStateDict(net.stateDict(), strict: false).isEmpty)
    }

    // MARK: - Replacing the classifier head

    /// The small variants the tests run, and their full-size head shapes.
    let heads: [(arch: String, options: ModelOptions, key: String, fullInFeatures: Int)] = [
        ("torchvision-resnet18", ModelOptions(imageSize: 32, widthDivisor: 32), "fc", 512),
        ("resnet18", ModelOptions(imageSize: 64, widthDivisor: 32), "7", 512),
        ("lenet", ModelOptions(), "11", 84),
    ]

    func testReplacingTheHeadChangesForwardParametersAndStateDict() throws {
        for (arch, options, key, _) in heads {
            let net = try Models.make(arch: arch, options: options)
            let old = try XCTUnwrap(net.child(named: key) as? Linear, arch)
            let head = try Models.replaceClassifierHead(of: net, arch: arch, classes: 2)
            XCTAssertEqual(try Models.classifierHeadName(arch: arch), key)
            XCTAssertTrue(net.child(named: key) === head, arch)
            XCTAssertEqual(net.children.map(\.name), try Models.make(arch: arch, options: options).children.map(\.name),
                           "\(arch): same names, same order")
            let x = Tensor.rand([3] + (try Models.inputShape(arch: arch, options: options)))
            XCTAssertEqual(try net(x).shape, [3, 2], arch)
            let parameters = net.parameters()
            XCTAssertTrue(parameters.contains { $0 === head.weight } && parameters.contains { $0 === head.bias! }, arch)
            XCTAssertFalse(parameters.contains { $0 === old.weight }, arch)
            let state = Dictionary(uniqueKeysWithValues: net.stateDict().map { ($0.name, $0.value) })
            XCTAssertEqual(state["\(key).weight"]?.shape, [2, old.inFeatures], arch)
            XCTAssertEqual(state["\(key).bias"]?.shape, [2], arch)
            XCTAssertEqual(net.stateDict().map(\.name), try Models.make(arch: arch, options: options).stateDict().map(\.name),
                           "\(arch): same keys in the same order")
            // Xavier-uniform: U(±√(6 / (in + out))).
            let bound = Float((6.0 / Double(old.inFeatures + 2)).squareRoot())
            XCTAssertTrue(head.weight.value.scalars.allSatisfy { Swift.abs($0) <= bound }, arch)
            XCTAssertGreaterThan(head.weight.value.scalars.map { Swift.abs($0) }.max()!, bound / 4, arch)
        }
    }

    func testFullSizeHeadsAreTheBooks() throws {
        for (arch, _, key, inFeatures) in heads where arch != "resnet18" {
            let net = try Models.make(arch: arch)
            try Models.replaceClassifierHead(of: net, arch: arch, classes: 2)
            let state = Dictionary(uniqueKeysWithValues: net.stateDict().map { ($0.name, $0.value.shape) })
            XCTAssertEqual(state["\(key).weight"], [2, inFeatures], arch)
        }
        let resnet = try Models.make(arch: "resnet18")
        try Models.replaceClassifierHead(of: resnet, arch: "resnet18", classes: 2)
        XCTAssertEqual(resnet.stateDict().first { $0.name == "7.weight" }?.value.shape, [2, 512])
    }

    func testTheBooksAssignmentAndReplaceChildErrors() throws {
        let net = try Models.torchvisionResNet18(classes: 1000, width: 2)
        let fc = Linear(net.fc.inFeatures, 2)
        net.fc = fc
        XCTAssertTrue(net.fc === fc && net.child(named: "fc") === fc)
        XCTAssertEqual(try net(Tensor.rand([2, 3, 32, 32])).shape, [2, 2])
        XCTAssertEqual(net.children.last?.name, "fc")

        XCTAssertThrowsError(try net.replaceChild(named: "head", with: Linear(16, 2))) {
            XCTAssertTrue("\($0)".contains("no child 'head'") && "\($0)".contains("fc"), "\($0)")
        }
        XCTAssertThrowsError(try net.replaceChild(named: "fc", with: Sequential(Linear(16, 2)))) {
            XCTAssertTrue("\($0)".contains("must stay a Linear"), "\($0)")
        }
        XCTAssertThrowsError(try net.replaceChild(named: "layer1.0.conv1", with: Conv2d(inputChannels: 2, outputChannels: 2, kernelSize: 3))) {
            XCTAssertTrue("\($0)".contains("BasicBlock") && "\($0)".contains("layer1.0.conv1"), "\($0)")
        }
        // A nested Sequential: the dotted path reaches it, and forward uses the new layer.
        let seq = Sequential(Sequential(Linear(3, 4), ReLU()), Linear(4, 1))
        let inner = Linear(3, 4)
        try seq.replaceChild(named: "0.0", with: inner)
        XCTAssertTrue((seq[0] as! Sequential)[0] === inner)
        XCTAssertTrue(seq.parameters()[0] === inner.weight)
        XCTAssertThrowsError(try seq.replaceChild(named: "0.5", with: ReLU())) {
            XCTAssertTrue("\($0)".contains("no child '5' in 0 (Sequential)"), "\($0)")
        }
        XCTAssertThrowsError(try Models.replaceClassifierHead(of: seq, arch: "lenet", classes: 2))
        XCTAssertThrowsError(try Models.replaceClassifierHead(of: try Models.lenet(), arch: "lenet", classes: 0))
        XCTAssertThrowsError(try Models.classifierHeadName(arch: "nin"))
        // Every architecture with a head: its named child is a Linear.
        XCTAssertEqual(Set(exportTestSmallZoo.map(\.arch)), Set(Models.architectures))
        for (_, arch, options) in exportTestSmallZoo where arch != "nin" {
            let model = try Models.make(arch: arch, options: options)
            XCTAssertTrue(model.child(named: try Models.classifierHeadName(arch: arch)) is Linear, arch)
            XCTAssertEqual(try Models.replaceClassifierHead(of: model, arch: arch, classes: 3).outFeatures, 3, arch)
            XCTAssertEqual(try model(Tensor.rand([2] + (try Models.inputShape(arch: arch, options: options)))).shape, [2, 3], arch)
        }
    }

    // MARK: - Freezing

    func testFrozenBodyOnlyTheHeadMoves() throws {
        for (arch, options, key, _) in heads {
            let net = try Models.make(arch: arch, options: options)
            let head = try Models.replaceClassifierHead(of: net, arch: arch, classes: 2)
            net.freeze()
            head.unfreeze()
            XCTAssertEqual(net.trainableParameters().count, 2, arch)
            XCTAssertEqual(net.parameters().count, try Models.make(arch: arch, options: options).parameters().count,
                           "\(arch): frozen parameters stay in parameters()")
            let before = net.namedParameters().map { ($0.name, $0.parameter.value.scalars) }
            let sgd = SGD(net.parameters(), learningRate: 0.1, momentum: 0.9, weightDecay: 0.01)
            let x = Tensor.rand([4] + (try Models.inputShape(arch: arch, options: options)))
            for _ in 0..<2 {
                sgd.zeroGrad()
                let loss = try crossEntropy(try net(x), [0, 1, 1, 0])
                loss.backward()
                sgd.step()
            }
            for ((name, old), (_, parameter)) in zip(before, net.namedParameters()) {
                if name.hasPrefix(key + ".") {
                    XCTAssertNotEqual(parameter.value.scalars, old, "\(arch): \(name) trains")
                } else {
                    XCTAssertNil(parameter.grad, "\(arch): \(name) frozen")
                    XCTAssertEqual(parameter.value.scalars, old, "\(arch): \(name) frozen")
                }
            }
            // Frozen parameters still save and load, and stay frozen.
            let state = try Models.make(arch: arch, options: options).stateDict().filter { !$0.name.hasPrefix(key + ".") }
            let result = try net.loadStateDict(state, strict: false)
            XCTAssertEqual(result.missingKeys, ["\(key).weight", "\(key).bias"], arch)
            assertLoaded(net, from: state, arch)
            XCTAssertEqual(net.trainableParameters().count, 2, arch)
            net.unfreeze()
            XCTAssertEqual(net.trainableParameters().count, net.parameters().count, arch)
            sgd.zeroGrad()
            try crossEntropy(try net(x), [0, 1, 1, 0]).backward()
            XCTAssertTrue(net.parameters().allSatisfy { $0.grad != nil }, "\(arch): unfrozen parameters get gradients")
        }
    }

    func testFreezingABufferDoesNothing() {
        let bn = BatchNorm2d(3)
        bn.runningMean.isFrozen = true
        XCTAssertFalse(bn.runningMean.value.requiresGrad)
        bn.weight.isFrozen = true
        XCTAssertFalse(bn.weight.value.requiresGrad)
        bn.weight.isFrozen = false
        XCTAssertTrue(bn.weight.value.requiresGrad)
    }

    // MARK: - Export and checkpoints of the modified model

    func testReplacedModelExportsAndRoundTripsThroughACheckpoint() throws {
        let dir = NSTemporaryDirectory() + "d2l-finetune-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (arch, options, _, _) in heads {
            let net = try Models.make(arch: arch, options: options)
            try Models.replaceClassifierHead(of: net, arch: arch, classes: 2)
            exportTestRandomizeBatchNorm(net)
            net.eval()
            let shape = try Models.inputShape(arch: arch, options: options)
            let x = Tensor.rand([2] + shape)
            let expected = try net(x)
            XCTAssertEqual(expected.shape, [2, 2], arch)
            let bytes = try exportONNX(net, inputShape: [1] + shape)
            assertClose(try exportTestRunRuntime(bytes, x), expected, atol: 1e-5, rtol: 1e-4, "\(arch): ONNX")

            let path = "\(dir)/\(arch).safetensors"
            try net.saveCheckpoint(to: path)
            let restored = try Models.make(arch: arch, options: options)
            XCTAssertThrowsError(try restored.loadCheckpoint(from: path), "\(arch): a 10-class model does not take it")
            try Models.replaceClassifierHead(of: restored, arch: arch, classes: 2)
            try restored.loadCheckpoint(from: path)
            restored.eval()
            assertClose(try restored(x), expected, atol: 0, rtol: 0, "\(arch): checkpoint round trip")
        }
    }
}
