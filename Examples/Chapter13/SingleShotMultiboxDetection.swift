import D2L
import Foundation

/// 13.7 Single Shot Multibox Detection: the book's shape checks of the class predictor,
/// `concat_preds`, `down_sample_blk`, `base_net` and `TinySSD` (13.7.1); training TinySSD on
/// the banana set with the book's settings, reporting class error and bbox MAE (13.7.2); and
/// `predict` + `display` on a validation image, the boxes above the threshold drawn (13.7.3).
/// The book predicts on its photo `banana.jpg`; here on the first validation image.
///
/// Then, beyond the book, the share of validation images whose most confident box is on the
/// banana (``DetectionValidation``). `--quick` trains a few steps on a few images (checking
/// that the loss falls) and displays the most confident box whatever its score; the full run
/// is the book's 20 epochs on the whole training set with threshold 0.9, and checks that the
/// top box finds the banana in at least half of the validation images.
enum SingleShotMultiboxDetection {
    static let section = BookSection(name: "single-shot-multibox-detection", number: "13.7", title: "Single Shot Multibox Detection",
                                     run: run)

    /// The book's `cls_predictor`: a 3×3 convolution with `numAnchors · (numClasses + 1)` outputs.
    static func clsPredictor(_ numInputs: Int, _ numAnchors: Int, _ numClasses: Int) -> Conv2d {
        Conv2d(inputChannels: numInputs, outputChannels: numAnchors * (numClasses + 1), kernelSize: 3, padding: 1)
    }

    /// The book's `predict(X)`: the detections of image `x` (`[1, 3, H, W]`) that
    /// `multibox_detection` keeps (class ≠ −1), rows (class, confidence, x1, y1, x2, y2) as
    /// fractions, most confident first.
    static func predict(_ net: TinySSD, _ x: Tensor) throws -> [[Float]] {
        net.eval()
        let outputs = try withNoGrad { try net.detect(x) }
        let output = try multiboxDetection(classProbabilities: outputs.classProbabilities, offsets: outputs.boxPredictions, anchors: outputs.anchors)
        let rows = output.scalars
        return (0..<output.shape[1]).map { Array(rows[($0 * 6)..<($0 * 6 + 6)]) }.filter { $0[0] != -1 }
    }

    static func run(_ book: BookContext) throws {
        // 13.7.1: the model's parts and their output shapes.
        Random.seed(0)
        let y1 = try clsPredictor(8, 5, 10)(Tensor.zeros([2, 8, 20, 20]))
        let y2 = try clsPredictor(16, 3, 10)(Tensor.zeros([2, 16, 10, 10]))
        print("Y1.shape = \(y1.shape)")
        print("Y2.shape = \(y2.shape)")
        let concatenated = TinySSD.concatPredictions([y1, y2])
        print("concat_preds([Y1, Y2]).shape = \(concatenated.shape)")
        book.check(concatenated.shape == [2, 55 * 20 * 20 + 33 * 10 * 10], "concat_preds joins 55·20·20 and 33·10·10 predictions per example")
        let halved = try TinySSD.downSampleBlock(3, 10)(Tensor.zeros([2, 3, 20, 20]))
        print("forward(torch.zeros((2, 3, 20, 20)), down_sample_blk(3, 10)).shape = \(halved.shape)")
        let base = try TinySSD.baseNet()(Tensor.zeros([2, 3, 256, 256]))
        print("forward(torch.zeros((2, 3, 256, 256)), base_net()).shape = \(base.shape)")
        book.check(halved.shape == [2, 10, 10, 10] && base.shape == [2, 64, 32, 32],
                   "down_sample_blk halves height and width; base_net divides them by 8")
        let shapeNet = TinySSD(classes: 1)
        let outputs = try withNoGrad { try shapeNet.detect(Tensor.zeros([32, 3, 256, 256])) }
        print("output anchors: \(outputs.anchors.shape)")
        print("output class preds: \(outputs.classPredictions.shape)")
        print("output bbox preds: \(outputs.boxPredictions.shape)")
        let anchorCount = TinySSD.anchorsPerPixel * [32, 16, 8, 4, 1].map { $0 * $0 }.reduce(0, +)
        book.check(outputs.anchors.shape == [1, anchorCount, 4] && outputs.classPredictions.shape == [32, anchorCount, 2]
                   && outputs.boxPredictions.shape == [32, anchorCount * 4],
                   "4 anchors on each pixel of the 32², 16², 8², 4² and 1² maps: \(anchorCount)")

        // 13.7.2: training.
        let (train, validation) = try book.loadDataBananas()
        let data = book.quick ? train.prefix(4) : train
        var configuration = TrainingConfiguration(epochs: book.choose(full: 20, quick: 4), batchSize: book.choose(full: 32, quick: 4),
                                                  learningRate: 0.2)
        configuration.weightDecay = 5e-4
        configuration.showProgress = false
        Random.seed(0)
        let net = TinySSD(classes: 1)
        let trainer = try DetectionTrainer(model: net, configuration: configuration)
        trainer.onEpoch = { m in
            print(String(format: "epoch %d: loss %.4f, class err %.2e, bbox mae %.2e", m.epoch, m.loss, m.classError, m.boxMAE))
        }
        let start = DispatchTime.now().uptimeNanoseconds
        let history = try trainer.fit(data)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        guard let first = history.first, let last = history.last else { throw ToolkitError(.invalidArgument, "no epochs were run") }
        print(String(format: "class err %.2e, bbox mae %.2e", last.classError, last.boxMAE))
        print(String(format: "%.1f examples/sec on cpu", Double(data.count * history.count) / max(seconds, 1e-9)))
        try book.save(trainer.curves(), as: "training")
        book.check(last.loss < first.loss, "the training loss falls (\(String(format: "%.4f → %.4f", first.loss, last.loss)))")
        if !book.quick {
            book.check(last.classError < first.classError && last.boxMAE < first.boxMAE, "class error and bbox mae fall")
        }

        // 13.7.3: prediction on a validation image, the boxes above the threshold drawn in white.
        let (x, truth) = validation.batch([0])
        let output = try predict(net, x)
        book.check(!output.isEmpty && output.allSatisfy { (0...1).contains($0[1]) }
                   && zip(output, output.dropFirst()).allSatisfy { $0[1] >= $1[1] },
                   "predict keeps boxes with confidences in [0, 1], most confident first")
        let threshold = book.quick ? (output.first?[1] ?? 1) : 0.9
        let img = try bananaImage(validation, 0)
        let (w, h) = (Float(img.width), Float(img.height))
        let shown = output.filter { $0[1] >= threshold }
        for row in shown {
            print(String(format: "detection: class %d, score %.2f, box (%.1f, %.1f, %.1f, %.1f)", Int(row[0]), row[1],
                         row[2] * w, row[3] * h, row[4] * w, row[5] * h))
        }
        let t = truth.scalars
        print(String(format: "the label: box (%.1f, %.1f, %.1f, %.1f)", t[1] * w, t[2] * h, t[3] * w, t[4] * h))
        print("display(img, output, threshold=\(book.quick ? String(format: "%.4f (the top box's score)", threshold) : "0.9")): "
              + "\(shown.count) box\(shown.count == 1 ? "" : "es")")
        let boxes = pixelBoxes(Tensor(shown.flatMap { $0[2..<6] }, shape: [shown.count, 4]), width: img.width, height: img.height)
        let path = try book.outputPath("prediction.png")
        try PNGWriter.write(try drawBoxes(boxes, on: img, colors: [.white]), to: path)
        print("figure: \(path)")

        // Beyond the book's one picture: the top box over the whole validation set.
        let found = try net.validate(on: validation)
        print("validation: \(found.summary)")
        if !book.quick {
            book.check(found.foundShare >= 0.5, String(format: "the most confident box is on the banana (IoU ≥ 0.5) in at least half "
                                                       + "of the validation images (%.0f%%)", 100 * found.foundShare))
        }
    }
}
