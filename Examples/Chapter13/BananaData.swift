import D2L
import Foundation

extension BookContext {
    /// The banana-detection folder of 13.6 and 13.7: `DATA/banana-detection`, where DATA is
    /// `--data`, else `$D2L_DATA_DIR`, else `data` in the working directory (a checkout's root).
    var bananaFolder: String {
        let environment = ProcessInfo.processInfo.environment["D2L_DATA_DIR"] ?? ""
        let root = dataDirectory ?? (environment.isEmpty ? "data" : environment)
        return (root as NSString).appendingPathComponent("banana-detection")
    }

    /// The book's `load_data_bananas` without the iterators: the training and validation
    /// sets of ``bananaFolder``, printing "read N training examples" and "read M validation
    /// examples" as the book's `BananasDataset` does.
    /// - Throws: `ToolkitError(.io)` naming `tools/make-bananas` when the folder has no
    ///   `bananas_train/label.csv`; the reader's errors otherwise.
    func loadDataBananas() throws -> (train: DetectionDataset, validation: DetectionDataset) {
        let folder = bananaFolder
        guard FileManager.default.fileExists(atPath: folder + "/bananas_train/label.csv") else {
            throw ToolkitError(.io, "no banana set in \(folder) (no bananas_train/label.csv): make one with "
                               + "`tools/make-bananas --out \(folder)`, or unzip the book's banana-detection.zip there; "
                               + "--data or $D2L_DATA_DIR name the folder that holds banana-detection/")
        }
        let train = try DetectionDataset.loadBananas(root: folder, train: true)
        print("read \(train.count) training examples")
        let validation = try DetectionDataset.loadBananas(root: folder, train: false)
        print("read \(validation.count) validation examples")
        return (train, validation)
    }
}

/// Example `index` of `data` as an RGB ``Image`` in [0, 1].
func bananaImage(_ data: DetectionDataset, _ index: Int) throws -> Image {
    try Image(channels: 3, height: data.height, width: data.width, pixels: data.batch([index]).images.scalars)
}

/// Corner boxes given as fractions of the image (`[count, 4]`) in pixels of a `width × height`
/// image: the book's `bbox * torch.tensor((w, h, w, h))`.
func pixelBoxes(_ fractions: Tensor, width: Int, height: Int) -> Tensor {
    let (w, h) = (Float(width), Float(height))
    return fractions * Tensor([w, h, w, h], shape: [1, 4])
}
