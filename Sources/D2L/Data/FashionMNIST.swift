import Foundation

/// The Fashion-MNIST data set (Xiao, Rasul and Vollgraf, 2017): 70,000 grayscale
/// 28×28 images of clothing in 10 classes, 60,000 for training and 10,000 for testing,
/// stored as four IDX files (gzip-compressed or not).
public enum FashionMNIST {
    /// The class names, indexed by label, as the book's `get_fashion_mnist_labels` spells them.
    public static let labels: [String] = [
        "t-shirt", "trouser", "pullover", "dress", "coat",
        "sandal", "shirt", "sneaker", "bag", "ankle boot",
    ]

    /// The directory searched last: Debian's `dataset-fashion-mnist` package.
    public static let systemDirectory = "/usr/share/datasets/fashion-mnist"

    /// The file stems of a split: (images, labels).
    static func stems(train: Bool) -> (images: String, labels: String) {
        train
            ? ("train-images-idx3-ubyte", "train-labels-idx1-ubyte")
            : ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
    }

    /// The path of a stem in `directory`: `stem.gz` if it exists, else `stem`, else nil.
    static func file(_ stem: String, in directory: String) -> String? {
        let base = (directory as NSString).appendingPathComponent(stem)
        for candidate in [base + ".gz", base] where FileManager.default.isReadableFile(atPath: candidate) {
            return candidate
        }
        return nil
    }

    /// Whether `directory` holds any of the four Fashion-MNIST files (so it is meant as
    /// Fashion-MNIST rather than an image folder).
    public static func isFolder(_ directory: String) -> Bool {
        missingFiles(in: directory).count < 4
    }

    /// The stems missing from `directory` (both splits).
    static func missingFiles(in directory: String) -> [String] {
        let (trainImages, trainLabels) = stems(train: true)
        let (testImages, testLabels) = stems(train: false)
        return [trainImages, trainLabels, testImages, testLabels].filter { file($0, in: directory) == nil }
    }

    /// Finds the directory holding the four Fashion-MNIST files.
    ///
    /// A directory qualifies when it holds all four of `train-images-idx3-ubyte`,
    /// `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte` and `t10k-labels-idx1-ubyte`,
    /// each either gzip-compressed (`.gz`) or not. With `explicit`, only that directory is
    /// considered. Otherwise the search order is `$D2L_DATA_DIR/fashion-mnist`,
    /// `$D2L_DATA_DIR`, `$D2L_DATA_DIR/FashionMNIST/raw` (where the book's torchvision
    /// download puts the files), then `/usr/share/datasets/fashion-mnist`.
    ///
    /// - Throws: `ToolkitError(.io)` listing every place looked and what was missing.
    public static func directory(_ explicit: String? = nil) throws -> String {
        var candidates: [String] = []
        if let explicit {
            candidates = [explicit]
        } else {
            if let root = ProcessInfo.processInfo.environment["D2L_DATA_DIR"], !root.isEmpty {
                let base = root as NSString
                candidates += [
                    base.appendingPathComponent("fashion-mnist"), root,
                    base.appendingPathComponent("FashionMNIST/raw"),
                ]
            }
            candidates.append(systemDirectory)
        }
        var report: [String] = []
        for candidate in candidates {
            let missing = missingFiles(in: candidate)
            if missing.isEmpty { return candidate }
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate, isDirectory: &isDirectory), isDirectory.boolValue {
                report.append("\(candidate) (missing \(missing.joined(separator: ", ")))")
            } else {
                report.append("\(candidate) (no such directory)")
            }
        }
        let hint = explicit == nil
            ? "; set D2L_DATA_DIR or install Debian's dataset-fashion-mnist" : ""
        throw ToolkitError(
            .io, "Fashion-MNIST not found; looked in: \(report.joined(separator: "; "))\(hint)")
    }

    /// Loads the training (60,000 images) or test (10,000 images) split.
    ///
    /// - Parameters:
    ///   - train: the training split when true, the test split otherwise.
    ///   - directory: where the files are; searched for as `directory(_:)` does when nil.
    /// - Returns: a data set of `count × 1 × 28 × 28` bytes with labels 0–9.
    /// - Throws: `ToolkitError(.io)` when the files cannot be found or read;
    ///   `.invalidData` for a bad IDX header, truncated file, corrupt gzip stream, label
    ///   outside 0–9, or differing image and label counts (message names both).
    public static func load(train: Bool, directory: String? = nil) throws -> ImageDataset {
        let root = try self.directory(directory)
        let (imageStem, labelStem) = stems(train: train)
        guard let imagePath = file(imageStem, in: root), let labelPath = file(labelStem, in: root) else {
            throw ToolkitError(.io, "Fashion-MNIST files vanished from \(root)")
        }
        let images = try IDXFile.readImages(path: imagePath)
        let labelBytes = try IDXFile.readLabels(path: labelPath)
        guard images.count == labelBytes.count else {
            throw ToolkitError(
                .invalidData,
                "Fashion-MNIST: '\(imagePath)' has \(images.count) images but '\(labelPath)' has \(labelBytes.count) labels")
        }
        if let bad = labelBytes.firstIndex(where: { $0 >= labels.count }) {
            throw ToolkitError(
                .invalidData,
                "Fashion-MNIST: label \(labelBytes[bad]) at index \(bad) of '\(labelPath)' is outside 0..<\(labels.count)")
        }
        return try ImageDataset(
            images: images.pixels, labels: labelBytes.map { Int($0) },
            channels: 1, height: images.rows, width: images.columns)
    }

    /// The class names of some labels (the book's `get_fashion_mnist_labels`);
    /// out-of-range labels read `"label N"`.
    public static func textLabels(_ labels: some Sequence<Int>) -> [String] {
        labels.map { self.labels.indices.contains($0) ? self.labels[$0] : "label \($0)" }
    }
}
