import D2L
import Foundation

/// 4.10 Predicting House Prices on Kaggle: a CSV with missing values and categorical
/// columns, preprocessed as the book does (standardised numeric columns, missing
/// numbers set to 0, one-hot categoricals with a column for "missing"), a linear model
/// trained with Adam on the squared error of the price, judged by the RMSE of log
/// prices, and chosen by K-fold cross-validation.
///
/// Kaggle's `kaggle_house_pred_train.csv` (a download) is read from the data folder when
/// it is there; otherwise `house-prices-sample.csv`, made by `tools/make-house-prices`
/// (synthetic, the same 81 columns, 800 rows).
enum KaggleHousePrice {
    static let section = BookSection(name: "kaggle-house-price", number: "4.10",
                                     title: "Predicting House Prices on Kaggle", run: run)

    /// The Kaggle file in the data folder (`--data`, then `$D2L_DATA_DIR`), else the generated
    /// sample (there, in `data/` of the working directory, or in the checkout this was built from).
    static func trainFile(_ book: BookContext) throws -> String {
        let checkout = ((#filePath as NSString).deletingLastPathComponent as NSString)  // …/Examples/Chapter4
            .deletingLastPathComponent.appending("/../data")
        let folders = [book.dataDirectory, ProcessInfo.processInfo.environment["D2L_DATA_DIR"], "data",
                       (checkout as NSString).standardizingPath].compactMap { $0 }
        for name in ["kaggle_house_pred_train.csv", "house-prices-sample.csv"] {
            for folder in folders {
                let path = (folder as NSString).appendingPathComponent(name)
                if FileManager.default.isReadableFile(atPath: path) { return path }
            }
        }
        throw ToolkitError(.io, "no kaggle_house_pred_train.csv or house-prices-sample.csv in \(folders.joined(separator: ", ")) "
                           + "(make one with tools/make-house-prices --out data/house-prices-sample.csv)")
    }

    /// The book's preprocessing of the feature columns: each numeric column standardised
    /// to mean 0 and standard deviation 1 (over its present values; pandas' std, n − 1),
    /// then missing values set to 0 (the mean); each categorical column one-hot, with a
    /// column for "missing" (`pd.get_dummies(all_features, dummy_na=True)`).
    static func preprocess(_ features: CSVTable) throws -> (names: [String], values: Tensor, numericColumns: Int) {
        let numericColumns = features.columns.indices.filter { features.isNumeric(column: $0) }.count
        var (names, values) = try features.numericMatrix(fillingMissing: false, oneHotCategoricals: true)
        let rows = features.rows.count, width = names.count
        for c in 0..<numericColumns {
            let present = (0..<rows).map { values[$0 * width + c] }.filter { !$0.isNaN }.map(Double.init)
            let mean = present.reduce(0, +) / Double(max(present.count, 1))
            let variance = present.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(max(present.count - 1, 1))
            let std = variance.squareRoot()
            for r in 0..<rows {
                let v = values[r * width + c]
                // After standardising, a missing value becomes 0: the mean (`fillna(0)`).
                values[r * width + c] = v.isNaN || std == 0 ? 0 : Float((Double(v) - mean) / std)
            }
        }
        return (names, Tensor(values, shape: [rows, width]), numericColumns)
    }

    /// The book's `log_rmse`: √(mean((log max(ŷ, 1) − log y)²)); predictions below 1 are clamped to 1.
    static func logRmse(_ net: Module, _ features: Tensor, _ labels: Tensor) throws -> Double {
        try withNoGrad {
            let clippedPreds = try net(features).clamped(min: 1)
            return Double(try mseLoss(clippedPreds.log(), labels.log()).sqrt().item)
        }
    }

    /// The book's `train`: Adam on the mean squared error of the price, the train (and
    /// validation) log RMSE after every epoch.
    static func train(_ net: Module, _ trainFeatures: Tensor, _ trainLabels: Tensor, _ testFeatures: Tensor?,
                      _ testLabels: Tensor?, numEpochs: Int, learningRate: Float, weightDecay: Float, batchSize: Int,
                      generator: inout SeededGenerator) throws -> (train: [Double], test: [Double]) {
        var trainLs: [Double] = [], testLs: [Double] = []
        let optimizer = Adam(net.parameters(), learningRate: learningRate, weightDecay: weightDecay)
        try trainRegression(model: net, features: trainFeatures, labels: trainLabels, loss: { try mseLoss($0, $1) },
                            optimizer: optimizer, epochs: numEpochs, batchSize: batchSize, generator: &generator) { _ in
            trainLs.append(try logRmse(net, trainFeatures, trainLabels))
            if let testFeatures, let testLabels { testLs.append(try logRmse(net, testFeatures, testLabels)) }
        }
        return (trainLs, testLs)
    }

    static func run(_ book: BookContext) throws {
        // Reading the data set.
        let path = try trainFile(book)
        let trainData = try CSVTable.load(path: path)
        print("data: \(path.hasSuffix("kaggle_house_pred_train.csv") ? "Kaggle's training set" : "the generated sample (tools/make-house-prices)")")
        print("train_data.shape: (\(trainData.rows.count), \(trainData.columns.count))")
        // The first four rows of the first four and the last three columns.
        let shown = [0, 1, 2, 3, trainData.columns.count - 3, trainData.columns.count - 2, trainData.columns.count - 1]
        print(shown.map { trainData.columns[$0] }.joined(separator: "  "))
        for row in trainData.rows.prefix(4) { print(shown.map { row[$0] ?? "NaN" }.joined(separator: "  ")) }

        // Kaggle's test set (no SalePrice), when it is next to Kaggle's training set.
        let testPath = (path as NSString).deletingLastPathComponent + "/kaggle_house_pred_test.csv"
        let testData = path.hasSuffix("kaggle_house_pred_train.csv") && FileManager.default.isReadableFile(atPath: testPath)
            ? try CSVTable.load(path: testPath) : nil
        if let testData { print("test_data.shape: (\(testData.rows.count), \(testData.columns.count))") }

        // Data preprocessing: drop the Id, keep SalePrice as the label; the training and
        // test features are preprocessed together (all_features), as in the book.
        let featureColumns = trainData.columns.filter { $0 != "Id" && $0 != "SalePrice" }
        let trainRows = try trainData.selecting(columns: featureColumns).rows
        let testRows = try testData?.selecting(columns: featureColumns).rows ?? []
        let (names, allFeatures, numericColumns) = try preprocess(try CSVTable(columns: featureColumns, rows: trainRows + testRows))
        print("all_features.shape: (\(allFeatures.shape[0]), \(allFeatures.shape[1])) "
              + "(\(numericColumns) numeric columns, \(names.count - numericColumns) one-hot columns)")
        book.show("all_features[0, :4]", allFeatures[0].slice(axis: 0, start: 0, end: 4))
        let nTrain = trainRows.count
        let trainFeatures = allFeatures.slice(axis: 0, start: 0, end: nTrain)
        let prices = try trainData.column(named: "SalePrice").map { text -> Float in
            guard let text, let price = Float(text), price > 0 else {
                throw ToolkitError(.invalidData, "\(path): a SalePrice is missing or not a positive number: \(text ?? "NA")")
            }
            return price
        }
        let trainLabels = Tensor(prices, shape: [prices.count, 1])
        book.check(allFeatures.scalars.allSatisfy { $0.isFinite }, "the preprocessed features are all finite (no NaN left)")
        let numeric = allFeatures.slice(axis: 1, start: 0, end: numericColumns)
        book.check(numeric.mean(axis: 0).abs().max().item < 1e-3, "every numeric column has mean 0 after preprocessing")

        // K-fold cross-validation with the book's settings (fewer epochs in quick mode).
        // (Quick mode keeps the book's 100 epochs: Adam with lr 5 needs about a thousand
        // steps to grow the weights to prices of ~200 000, and they take well under a second.)
        let k = 5, numEpochs = 100, lr: Float = 5, weightDecay: Float = 0, batchSize = 64
        Random.seed(42)
        var generator = SeededGenerator(seed: 42)
        var trainLSum = 0.0, validLSum = 0.0
        var allFinite = true, beatsMean = true
        for (i, split) in try kFoldSplits(count: trainFeatures.shape[0], k: k).enumerated() {
            // get_k_fold_data: fold i validates, the other folds train.
            let (xTrain, yTrain) = (trainFeatures.indexSelect(split.train), trainLabels.indexSelect(split.train))
            let (xValid, yValid) = (trainFeatures.indexSelect(split.validation), trainLabels.indexSelect(split.validation))
            let net = Sequential(Linear(trainFeatures.shape[1], 1))  // get_net: a linear model
            let (trainLs, validLs) = try train(net, xTrain, yTrain, xValid, yValid, numEpochs: numEpochs, learningRate: lr,
                                               weightDecay: weightDecay, batchSize: batchSize, generator: &generator)
            trainLSum += trainLs.last!
            validLSum += validLs.last!
            if i == 0 {
                let epochs = (1...numEpochs).map(Double.init)
                try book.save(CurveChart(xLabel: "epoch", yLabel: "rmse",
                                         series: [("train", Array(zip(epochs, trainLs))), ("valid", Array(zip(epochs, validLs)))],
                                         xLimits: (1, Double(numEpochs)), logY: true), as: "k_fold_1")
            }
            print(String(format: "fold %d, train log rmse %f, valid log rmse %f", i + 1, trainLs.last!, validLs.last!))
            // The baseline: predict the training folds' mean price for every house.
            let meanPrice = yTrain.mean().item
            let baseline = Double((yValid.log() - Foundation.log(meanPrice)).squared().mean().sqrt().item)
            allFinite = allFinite && (trainLs + validLs).allSatisfy { $0.isFinite }
            beatsMean = beatsMean && validLs.last! < baseline
            print(String(format: "        predicting the mean price: valid log rmse %f", baseline))
        }
        let (trainL, validL) = (trainLSum / Double(k), validLSum / Double(k))
        print(String(format: "%d-fold validation: avg train log rmse: %f, avg valid log rmse: %f", k, trainL, validL))
        book.check(allFinite, "every fold's train and valid log rmse is finite")
        book.check(beatsMean, "every fold's valid log rmse is below that of predicting the mean price")

        // Submitting predictions: train on all the training data (train_and_pred); with
        // Kaggle's test set, write submission.csv (Id, SalePrice).
        let net = Sequential(Linear(trainFeatures.shape[1], 1))
        let (trainLs, _) = try train(net, trainFeatures, trainLabels, nil, nil, numEpochs: numEpochs, learningRate: lr,
                                     weightDecay: weightDecay, batchSize: batchSize, generator: &generator)
        print(String(format: "train log rmse %f", trainLs.last!))
        book.check(trainLs.last!.isFinite && trainLs.last! < trainLs.first!, "training on all the data: the log rmse falls")
        if let testData {
            let testFeatures = allFeatures.slice(axis: 0, start: nTrain, end: allFeatures.shape[0])
            let preds = try withNoGrad { try net(testFeatures) }.scalars
            let ids = try testData.column(named: "Id")
            let lines = ["Id,SalePrice"] + zip(ids, preds).map { "\($0 ?? ""),\($1)" }
            let submission = try book.outputPath("submission.csv")
            try (lines.joined(separator: "\n") + "\n").write(toFile: submission, atomically: true, encoding: .utf8)
            print("submission: \(submission) (\(preds.count) predictions)")
        }
    }
}
