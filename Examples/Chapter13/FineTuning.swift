import D2L
import Foundation

/// 13.2 Fine-Tuning: `train_fine_tuning` on a pretrained network with a new output layer
/// and the head at 10× the learning rate, against the same network trained from scratch
/// (all parameters at 10×, `param_group=False`), with the book's `train_augs`/`test_augs`
/// and the summed loss of `train_ch13`.
///
/// With `--data DIR` holding the book's `hotdog/` folder and torchvision's
/// `resnet18-f37072fd.pth`, this is the book's run (torchvision-resnet18, 224×224, ImageNet
/// normalisation, lr 5e-5, batch 128, 5 epochs). Otherwise it is the same recipe on the
/// checkout's small set (Tests/Fixtures/images/finetune): a LeNet that PyTorch trained on
/// 8 Fashion-MNIST classes, fine-tuned on t-shirts and trousers it has never seen.
enum FineTuningSection {
    static let section = BookSection(name: "fine-tuning", number: "13.2", title: "Fine-Tuning", run: run)

    struct Setting {
        var arch: String, checkpoint: String, data: String
        var size: Int, lr: Float, batchSize: Int, epochs: Int
        var normalize: Normalize?
    }

    static func setting(_ book: BookContext) -> Setting {
        if let dir = book.dataDirectory, ImageFolderSplits.isSplitFolder(dir + "/hotdog"),
           FileManager.default.isReadableFile(atPath: dir + "/resnet18-f37072fd.pth") {
            return Setting(arch: "torchvision-resnet18", checkpoint: dir + "/resnet18-f37072fd.pth", data: dir + "/hotdog",
                           size: 224, lr: 5e-5, batchSize: 128, epochs: book.choose(full: 5, quick: 1),
                           normalize: ImageNetStatistics.normalize)
        }
        let fixtures = (((#filePath as NSString).deletingLastPathComponent as NSString)  // …/Examples/Chapter13
            .deletingLastPathComponent as NSString).appendingPathComponent("../Tests/Fixtures/images/finetune")
        let root = (fixtures as NSString).standardizingPath
        return Setting(arch: "lenet", checkpoint: root + "/lenet-fashion-2to9.pth", data: root + "/folder",
                       size: 28, lr: 0.01, batchSize: 16, epochs: book.choose(full: 5, quick: 3), normalize: nil)
    }

    /// The book's `train_fine_tuning(net, learning_rate, param_group)`: returns the last
    /// epoch's metrics.
    static func trainFineTuning(_ net: Module, head: [Parameter], _ s: Setting, lr: Float, paramGroup: Bool,
                                splits: ImageFolderSplits, channels: Int) throws -> EpochMetrics {
        let (train, test) = try splits.fineTuningData(size: s.size, channels: channels, normalize: s.normalize, workers: 2)
        var configuration = TrainingConfiguration(epochs: s.epochs, batchSize: s.batchSize, learningRate: lr)
        configuration.weightDecay = 0.001
        configuration.lossReduction = .sum
        configuration.showProgress = false
        let headIDs = Set(head.map(ObjectIdentifier.init))
        let groups = paramGroup
            ? [ParameterGroup(parameters: net.parameters().filter { !headIDs.contains(ObjectIdentifier($0)) }),
               ParameterGroup(parameters: head, learningRate: lr * 10)]
            : [ParameterGroup(parameters: net.parameters())]
        let trainer = try Trainer(model: net, configuration: configuration, parameterGroups: groups)
        let history = try trainer.fit(trainData: train, testData: test)
        guard let last = history.last else { throw ToolkitError(.invalidArgument, "no epochs were run") }
        print(String(format: "loss %.3f, train acc %.3f, test acc %.3f", last.trainLoss, last.trainAccuracy, last.testAccuracy))
        print(String(format: "%.1f examples/sec", last.examplesPerSecond))
        return last
    }

    static func run(_ book: BookContext) throws {
        let s = setting(book)
        let splits = try ImageFolderSplits(root: s.data)
        print("data: \(s.data): \(splits.train.count) training and \(splits.test.count) test images, classes \(splits.classes)")
        Random.seed(0)
        // finetune_net = resnet18(pretrained=True); finetune_net.fc = nn.Linear(in_features, 2)
        let pretrained = try FineTuning.loadPretrained(arch: s.arch, from: s.checkpoint, imageSize: s.size,
                                                       classes: splits.classes.count)
        print("pretrained \(s.arch) from \(s.checkpoint): \(pretrained.checkpointClasses) classes; new output layer "
              + "\(pretrained.head.weight.shape) (Xavier uniform)")
        book.check(pretrained.head.weight.shape == [splits.classes.count, pretrained.head.inFeatures],
                   "the new output layer has one row per class folder")
        print("fine-tuning, the output layer at 10× the learning rate:")
        let tuned = try trainFineTuning(pretrained.model, head: pretrained.head.parameters(), s, lr: s.lr, paramGroup: true,
                                        splits: splits, channels: pretrained.channels)

        // scratch_net = resnet18(); scratch_net.fc = nn.Linear(in_features, 2); lr × 10, one group
        Random.seed(0)
        let scratch = try Models.make(arch: s.arch, options: ModelOptions(classes: splits.classes.count,
                                                                          inChannels: pretrained.channels, imageSize: s.size))
        print("from scratch, every parameter at 10× the learning rate:")
        let fromScratch = try trainFineTuning(scratch, head: [], s, lr: s.lr * 10, paramGroup: false,
                                              splits: splits, channels: pretrained.channels)
        book.check(tuned.testAccuracy > fromScratch.testAccuracy,
                   String(format: "the fine-tuned model beats the one trained from scratch (test acc %.3f vs %.3f)",
                          tuned.testAccuracy, fromScratch.testAccuracy))
    }
}
