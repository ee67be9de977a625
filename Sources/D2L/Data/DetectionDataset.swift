import Foundation

/// Images with one labelled box each, in memory: the book's banana-detection set (13.6,
/// `load_data_bananas`). Images are `count × 3 × height × width` bytes (RGB, row-major);
/// each label is (class, x1, y1, x2, y2) with the corners divided by the image size, as
/// the book's `torch.tensor(targets).unsqueeze(1) / 256`.
public struct DetectionDataset: Sendable {
    public var images: [UInt8]
    /// `count × 5`: class, x1, y1, x2, y2 (fractions of the width and height).
    public var labels: [Float]
    public let height: Int
    public let width: Int
    public var count: Int { labels.count / 5 }

    /// The most bytes a label.csv may have.
    static let maxLabelFileBytes = 64 << 20

    /// Reads the book's layout: `root/bananas_train` (or `bananas_val` when `train` is
    /// false) with `label.csv` (header `img_name,label,xmin,ymin,xmax,ymax`, pixel corners)
    /// and `images/<img_name>` (PNG or JPEG, all the same size), in the CSV's order.
    /// - Throws: ``ToolkitError`` `.io` naming a file that cannot be read; `.invalidData`
    ///   for a CSV without those columns, a row whose numbers do not parse or whose box is
    ///   not inside the image, images of different sizes, or an image that does not decode.
    public static func loadBananas(root: String, train: Bool) throws -> DetectionDataset {
        let folder = root + (train ? "/bananas_train" : "/bananas_val")
        let csvPath = folder + "/label.csv"
        let text = String(decoding: try BoundedFile.read(path: csvPath, limit: maxLabelFileBytes, what: "a label.csv"), as: UTF8.self)
        let table = try CSVTable(parsing: text, source: csvPath)
        let wanted = ["img_name", "label", "xmin", "ymin", "xmax", "ymax"]
        let columns = try wanted.map { name -> Int in
            guard let index = table.columns.firstIndex(of: name) else {
                throw ToolkitError(.invalidData, "\(csvPath): no column '\(name)' (the header must be \(wanted.joined(separator: ",")))")
            }
            return index
        }
        guard !table.rows.isEmpty else { throw ToolkitError(.invalidData, "\(csvPath): no images listed") }
        var images: [UInt8] = [], labels: [Float] = []
        var size: (height: Int, width: Int)?
        for (r, row) in table.rows.enumerated() {
            let line = r + 2
            guard let name = row[columns[0]], !name.isEmpty, !name.contains("/"), !name.contains("\0") else {
                throw ToolkitError(.invalidData, "\(csvPath), line \(line): img_name must be a file name in images/")
            }
            let numbers = try columns.dropFirst().map { c -> Float in
                guard let text = row[c], let value = Float(text), value.isFinite else {
                    throw ToolkitError(.invalidData, "\(csvPath), line \(line): '\(row[c] ?? "")' is not a number")
                }
                return value
            }
            let image = try ImageDecoder.decode(path: folder + "/images/" + name)
            if let size, size != (image.height, image.width) {
                throw ToolkitError(.invalidData, "\(folder)/images/\(name) is \(image.height)×\(image.width), the others \(size.height)×\(size.width)")
            }
            size = (image.height, image.width)
            let (w, h) = (Float(image.width), Float(image.height))
            guard numbers[0] >= 0, numbers[1] >= 0, numbers[2] >= 0, numbers[3] <= w, numbers[4] <= h,
                  numbers[1] < numbers[3], numbers[2] < numbers[4] else {
                throw ToolkitError(.invalidData, "\(csvPath), line \(line): box (\(numbers[1]), \(numbers[2]), \(numbers[3]), \(numbers[4])) "
                                   + "is not inside the \(image.width)×\(image.height) image (or class \(numbers[0]) < 0)")
            }
            labels += [numbers[0].rounded(.towardZero), numbers[1] / w, numbers[2] / h, numbers[3] / w, numbers[4] / h]
            images += image.pixels.map { UInt8(($0 * 255).rounded()) }
        }
        guard let size else { throw ToolkitError(.invalidData, "\(csvPath): no images listed") }
        return DetectionDataset(images: images, labels: labels, height: size.height, width: size.width)
    }

    /// The first `count` examples (or all).
    public func prefix(_ count: Int) -> DetectionDataset {
        let n = Swift.min(Swift.max(count, 0), self.count), size = 3 * height * width
        return DetectionDataset(images: Array(images[0..<(n * size)]), labels: Array(labels[0..<(n * 5)]), height: height, width: width)
    }

    /// Examples `indices` as images `[B, 3, H, W]` in [0, 1] and labels `[B, 1, 5]`.
    public func batch(_ indices: [Int]) -> (images: Tensor, labels: Tensor) {
        let size = 3 * height * width
        var pixels = [Float](), boxes = [Float]()
        pixels.reserveCapacity(indices.count * size)
        for i in indices {
            pixels += images[(i * size)..<((i + 1) * size)].map { Float($0) / 255 }
            boxes += labels[(i * 5)..<(i * 5 + 5)]
        }
        return (Tensor(pixels, shape: [indices.count, 3, height, width]), Tensor(boxes, shape: [indices.count, 1, 5]))
    }
}
