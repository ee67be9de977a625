import Foundation
import XCTest
@testable import D2L

/// ImageDecoder's gray mode, OrderedPrefetcher, ImageFolderData, ImageFolderSplits and
/// FineTuning.loadPretrained, on Tests/Fixtures/images (and its finetune/ folder, made by
/// tools/fixtures/make-finetune-folder).
final class DataImageFolderDataTests: XCTestCase {
    private let finetune = imageFixtures + "/finetune"
    private var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "d2l-folderdata-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    private func copy(_ from: String, _ relative: String) throws {
        let target = directory + "/" + relative
        try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: from, toPath: target)
    }

    /// PIL's L of 8-bit RGB.
    private func luma(_ r: Int, _ g: Int, _ b: Int) -> Int { (19595 * r + 38470 * g + 7471 * b + 0x8000) >> 16 }

    func testGrayModeIsPILLuminanceOfTheRGBDecoding() throws {
        for fixture in try loadImageManifest().images {
            let path = imageFixtures + "/" + fixture.name
            let gray = try ImageDecoder.decode(path: path, mode: .gray)
            let rgb = try ImageDecoder.decode(path: path, mode: .rgb)
            let reference = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path + ".rgb")))
            XCTAssertEqual(gray.channels, 1, fixture.name)
            XCTAssertEqual([gray.height, gray.width], [rgb.height, rgb.width], fixture.name)
            var worstOwn = 0, worstPIL = 0
            for y in 0..<gray.height {
                for x in 0..<gray.width {
                    let level = Int((gray[0, y, x] * 255).rounded())
                    let own = (0..<3).map { Int((rgb[$0, y, x] * 255).rounded()) }
                    worstOwn = max(worstOwn, abs(level - luma(own[0], own[1], own[2])))
                    let p = (y * gray.width + x) * 3
                    worstPIL = max(worstPIL, abs(level - luma(Int(reference[p]), Int(reference[p + 1]), Int(reference[p + 2]))))
                }
            }
            XCTAssertEqual(worstOwn, 0, "\(fixture.name): gray must be L of the RGB decoding")
            XCTAssertLessThanOrEqual(worstPIL, fixture.format == "PNG" ? 0 : 2, "\(fixture.name): gray vs L of PIL's RGB")
        }
    }

    func testPrefetcherYieldsInOrderSkippingNilWithAnyWorkerCount() {
        let expected = (0..<40).filter { $0 % 5 != 3 }.map { $0 * $0 }
        for workers in [0, 1, 3] {
            for prefetch in [1, 4] {
                let prefetcher = OrderedPrefetcher(count: 40, workers: workers, prefetch: prefetch) { (i: Int) -> Int? in
                    if i % 7 == 0 { usleep(2000) }  // finish out of order
                    return i % 5 == 3 ? nil : i * i
                }
                XCTAssertEqual(Array(IteratorSequence(prefetcher)), expected, "workers \(workers), prefetch \(prefetch)")
            }
        }
    }

    func testPrefetcherStaysWithinItsWindowAndStopsWhenDropped() {
        final class Counter: @unchecked Sendable {
            let lock = NSLock()
            var started = 0
        }
        let counter = Counter()
        do {
            let prefetcher = OrderedPrefetcher(count: 1000, workers: 2, prefetch: 3) { (i: Int) -> Int? in
                counter.lock.withLock { counter.started += 1 }
                return i
            }
            XCTAssertEqual(prefetcher.next(), 0)
            XCTAssertEqual(prefetcher.next(), 1)
            usleep(50_000)
            // Taken 2, so indices 2, 3 and 4 may have started; never more.
            XCTAssertLessThanOrEqual(counter.lock.withLock { counter.started }, 5)
        }
        usleep(50_000)
        XCTAssertLessThanOrEqual(counter.lock.withLock { counter.started }, 5, "workers went on after the iterator was dropped")
    }

    private func fineTuneData(workers: Int, warn: @escaping @Sendable (String) -> Void = { _ in }) throws -> ImageFolderData {
        let folder = try ImageFolder(root: finetune + "/folder/train")
        return try ImageFolderData(folder: folder, pipeline: ImagePipelines.named("finetune-train", size: 28).withoutNormalize,
                                   mode: .gray, imageShape: [1, 28, 28], workers: workers, warn: warn)
    }

    func testBatchesAreTheSameWhateverTheWorkers() throws {
        let serial = try fineTuneData(workers: 0), parallel = try fineTuneData(workers: 3)
        XCTAssertEqual(serial.count, 96)
        func epoch(_ data: ImageFolderData, _ e: Int) throws -> [LabelledBatch] {
            Array(try data.batches(batchSize: 20, shuffle: true, seed: 7, epoch: e))
        }
        let a = try epoch(serial, 1), b = try epoch(parallel, 1), c = try epoch(serial, 2)
        XCTAssertEqual(a.map(\.labels.count), [20, 20, 20, 20, 16])
        XCTAssertEqual(a.map(\.labels), b.map(\.labels))
        XCTAssertEqual(a.map(\.images.shape), b.map(\.images.shape))
        XCTAssertEqual(a.map(\.images.scalars), b.map(\.images.scalars))
        XCTAssertEqual(a[0].images.shape, [20, 1, 28, 28])
        XCTAssertNotEqual(a.map(\.labels), c.map(\.labels), "another epoch, another order")
        XCTAssertEqual(Set(a.flatMap(\.labels)), [0, 1])
        // Unshuffled test batches follow the folder's order.
        let labels = try serial.batches(batchSize: 50, shuffle: false, seed: 0, epoch: 0).flatMap(\.labels)
        XCTAssertEqual(labels, serial.folder.samples.map(\.label))
    }

    func testNormalizationIsAppliedPerChannel() throws {
        let folder = try ImageFolder(root: finetune + "/folder/test")
        let test = try ImagePipelines.named("finetune-test", size: 28)
        let plain = try ImageFolderData(folder: folder, pipeline: ImagePipeline(name: "t", transforms: test.transforms.transforms),
                                        mode: .gray, imageShape: [1, 28, 28], workers: 0)
        let normalized = try ImageFolderData(
            folder: folder, pipeline: ImagePipeline(name: "t", transforms: test.transforms.transforms,
                                                    normalize: try Normalize(mean: [0.25], std: [0.5])),
            mode: .gray, imageShape: [1, 28, 28], workers: 2)
        let x = try XCTUnwrap(Array(try plain.batches(batchSize: 8, shuffle: false, seed: 0, epoch: 0)).first)
        let y = try XCTUnwrap(Array(try normalized.batches(batchSize: 8, shuffle: false, seed: 0, epoch: 0)).first)
        for (u, v) in zip(x.images.scalars, y.images.scalars) { XCTAssertEqual(v, (u - 0.25) / 0.5, accuracy: 1e-6) }
    }

    func testUnreadableFilesAreSkippedWithOneWarningEach() throws {
        try copy(imageFixtures + "/rgb.png", "a/1.png")
        try copy(imageFixtures + "/corrupt.jpg", "a/2.jpg")
        try copy(imageFixtures + "/rgb.jpg", "b/3.jpg")
        final class Lines: @unchecked Sendable { let lock = NSLock(); var lines: [String] = [] }
        let warnings = Lines()
        let data = try ImageFolderData(folder: ImageFolder(root: directory), pipeline: ImagePipeline(name: "r", transforms: [try Resize(height: 8, width: 8)]),
                                       imageShape: [3, 8, 8], workers: 2,
                                       warn: { line in warnings.lock.withLock { warnings.lines.append(line) } })
        for epoch in 1...2 {
            let batches = Array(try data.batches(batchSize: 3, shuffle: true, seed: 1, epoch: epoch))
            XCTAssertEqual(batches.map(\.labels.count), [2])
            XCTAssertEqual(batches.first?.labels.sorted(), [0, 1])
        }
        XCTAssertEqual(warnings.lines.count, 1, "\(warnings.lines)")
        XCTAssertTrue(warnings.lines.first?.hasPrefix("warning: skipping \(directory)/a/2.jpg") ?? false, "\(warnings.lines)")
    }

    func testImagesOfAnotherShapeAreSkippedWithAWarning() throws {
        final class Count: @unchecked Sendable { let lock = NSLock(); var n = 0 }
        let count = Count()
        let data = try ImageFolderData(folder: ImageFolder(root: finetune + "/folder/test"), pipeline: ImagePipeline(name: "none", transforms: []),
                                       mode: .gray, imageShape: [1, 28, 28], workers: 1,
                                       warn: { line in if line.contains("gave 1×64×64, not 1×28×28") { count.lock.withLock { count.n += 1 } } })
        XCTAssertEqual(Array(try data.batches(batchSize: 16, shuffle: false, seed: 0, epoch: 0)).count, 0)
        XCTAssertEqual(count.n, 64)
    }

    func testBadArgumentsAreRefused() throws {
        let folder = try ImageFolder(root: finetune + "/folder/test")
        let none = ImagePipeline(name: "none", transforms: [])
        XCTAssertThrowsError(try ImageFolderData(folder: folder, pipeline: none, imageShape: [3, 0, 8]))
        XCTAssertThrowsError(try ImageFolderData(folder: folder, pipeline: none, mode: .rgb, imageShape: [1, 8, 8]))
        XCTAssertThrowsError(try ImageFolderData(folder: folder, pipeline: none, imageShape: [3, 8, 8], workers: -1))
        XCTAssertThrowsError(try ImageFolderData(folder: folder, pipeline: none, imageShape: [3, 8, 8], prefetch: 0))
        XCTAssertThrowsError(try ImageFolderData(folder: folder, pipeline: try ImagePipelines.named("finetune-test", size: 8),
                                                 mode: .gray, imageShape: [1, 8, 8])) { error in
            XCTAssertTrue("\(error)".contains("normalises 3 channels"), "\(error)")
        }
        let data = try ImageFolderData(folder: folder, pipeline: none, imageShape: [3, 8, 8])
        XCTAssertThrowsError(try data.batches(batchSize: 0, shuffle: false, seed: 0, epoch: 0))
    }

    func testSplitsNeedTheSameClasses() throws {
        try copy(imageFixtures + "/rgb.png", "train/cat/1.png")
        try copy(imageFixtures + "/rgb.png", "train/dog/1.png")
        try copy(imageFixtures + "/rgb.png", "test/cat/1.png")
        try copy(imageFixtures + "/rgb.png", "test/emu/1.png")
        XCTAssertTrue(ImageFolderSplits.isSplitFolder(directory))
        XCTAssertThrowsError(try ImageFolderSplits(root: directory)) { error in
            XCTAssertTrue("\(error)".contains("only in train: dog; only in test: emu"), "\(error)")
        }
        XCTAssertEqual(try ImageFolderSplits(root: finetune + "/folder").classes, ["t-shirt", "trouser"])
    }

    func testLoadPretrainedKeepsTheBodyAndReplacesTheHead() throws {
        let path = finetune + "/lenet-fashion-2to9.pth"
        let pretrained = try FineTuning.loadPretrained(arch: "lenet", from: path, imageSize: 28, classes: 2)
        XCTAssertEqual(pretrained.channels, 1)
        XCTAssertEqual(pretrained.checkpointClasses, 8)
        XCTAssertEqual(pretrained.head.weight.shape, [2, 84])
        XCTAssertEqual(pretrained.format, .zip)
        let checkpoint = Dictionary(try PyTorchCheckpoint.read(path: path).map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })
        let state = Dictionary(pretrained.model.namedStateEntries().map { ($0.name, $0.parameter) }, uniquingKeysWith: { a, _ in a })
        for key in ["0.weight", "3.bias", "7.weight", "9.weight"] {
            XCTAssertEqual(state[key]?.value.scalars, checkpoint[key]?.values, key)
        }
        XCTAssertEqual(pretrained.bodyParameters.count, pretrained.model.parameters().count - 2)
        XCTAssertThrowsError(try FineTuning.loadPretrained(arch: "mlp", from: path, imageSize: 28, classes: 2)) { error in
            XCTAssertTrue("\(error)".contains("does not fit mlp"), "\(error)")
            XCTAssertTrue("\(error)".contains("its keys look like those of --arch lenet"), "\(error)")
        }
        XCTAssertThrowsError(try FineTuning.loadPretrained(arch: "lenet", from: path, imageSize: 36, classes: 2)) { error in
            XCTAssertTrue("\(error)".contains("keys: 1 mis-shaped"), "\(error)")
            XCTAssertTrue("\(error)".contains("mis-shaped keys: 7.weight: checkpoint [120, 400], model [120, 784]"), "\(error)")
            XCTAssertFalse("\(error)".contains("look like"), "the right architecture at the wrong size: \(error)")
        }
    }

    func testLoadPretrainedTorchvisionResNetFromAToolkitCheckpoint() throws {
        let source = try Models.make(arch: "torchvision-resnet18")
        let path = directory + "/resnet18.safetensors"
        try source.saveCheckpoint(to: path, metadata: ["d2l.run.input_mean": "0.5,0.5,0.5"])
        let pretrained = try FineTuning.loadPretrained(arch: "torchvision-resnet18", from: path, imageSize: 32, classes: 3)
        XCTAssertEqual(pretrained.channels, 3)
        XCTAssertEqual(pretrained.checkpointClasses, 1000)
        XCTAssertEqual(pretrained.head.weight.shape, [3, 512])
        XCTAssertEqual(pretrained.format, .safetensors)
        XCTAssertEqual(pretrained.metadata["d2l.run.input_mean"], "0.5,0.5,0.5")
        let a = Dictionary(source.namedStateEntries().map { ($0.name, $0.parameter) }, uniquingKeysWith: { x, _ in x })
        for (name, parameter) in pretrained.model.namedStateEntries() where !name.hasPrefix("fc.") {
            XCTAssertEqual(parameter.value.scalars, a[name]?.value.scalars, name)
        }
        pretrained.model.eval()
        let logits = try withNoGrad { try pretrained.model(Tensor.zeros([1, 3, 32, 32])) }
        XCTAssertEqual(logits.shape, [1, 3])
    }

    func testSummedLossWithTheLearningRateOverBIsTheMeanLoss() throws {
        var generator = SeededGenerator(seed: 3)
        let images = (0..<(32 * 16)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        let dataset = try ImageDataset(images: images, labels: (0..<32).map { $0 % 10 }, channels: 1, height: 4, width: 4)
        func trained(_ reduction: LossReduction, lr: Float) throws -> [Float] {
            Random.seed(5)
            let model = try Models.make(arch: "softmax", options: ModelOptions(imageSize: 4))
            var configuration = TrainingConfiguration(epochs: 2, batchSize: 8, learningRate: lr)
            configuration.lossReduction = reduction
            configuration.showProgress = false
            let trainer = try Trainer(model: model, configuration: configuration)
            try trainer.fit(train: dataset, test: nil)
            return model.parameters().flatMap(\.value.scalars)
        }
        let mean = try trained(.mean, lr: 0.4), sum = try trained(.sum, lr: 0.05)
        for (a, b) in zip(mean, sum) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        XCTAssertNotEqual(mean, try trained(.sum, lr: 0.4))
    }

    func testATrainerWithEveryParameterFrozenIsRefused() throws {
        let model = try Models.make(arch: "softmax", options: ModelOptions(imageSize: 4))
        model.freeze()
        XCTAssertThrowsError(try Trainer(model: model, configuration: TrainingConfiguration(epochs: 1, batchSize: 4, learningRate: 0.1))) { error in
            XCTAssertTrue("\(error)".contains("every parameter is frozen"), "\(error)")
        }
        XCTAssertThrowsError(try Trainer(model: model, configuration: TrainingConfiguration(epochs: 1, batchSize: 4, learningRate: 0.1),
                                         parameterGroups: [ParameterGroup(parameters: model.parameters())]))
    }
}

extension ImagePipeline {
    /// The same transforms without the normalisation.
    var withoutNormalize: ImagePipeline { ImagePipeline(name: name, transforms: transforms.transforms) }
}
