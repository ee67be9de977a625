import Foundation
import XCTest
@testable import D2L

final class DataFashionMNISTTests: XCTestCase {
    /// The real data set, or a skip when it is not installed.
    private func realDirectory() throws -> String {
        do {
            return try FashionMNIST.directory()
        } catch {
            throw XCTSkip("Fashion-MNIST is not installed: \(error)")
        }
    }

    func testRealTestSet() throws {
        let dir = try realDirectory()
        let test = try FashionMNIST.load(train: false, directory: dir)
        XCTAssertEqual(test.count, 10_000)
        XCTAssertEqual(test.labels.count, 10_000)
        XCTAssertEqual([test.channels, test.height, test.width], [1, 28, 28])
        XCTAssertEqual(test.images.count, 10_000 * 28 * 28)
        XCTAssertEqual(test.labels[0], 9)
        XCTAssertEqual(FashionMNIST.labels[test.labels[0]], "ankle boot")
        XCTAssertEqual(FashionMNIST.textLabels(test.labels.prefix(1)), ["ankle boot"])
        // Every class has 1000 test images.
        var histogram = [Int](repeating: 0, count: 10)
        for label in test.labels { histogram[label] += 1 }
        XCTAssertEqual(histogram, Array(repeating: 1000, count: 10))

        let batch = try test.batch(indices: [0, 1, 2])
        XCTAssertEqual(batch.pixels.count, 3 * 28 * 28)
        XCTAssertEqual(batch.labels, Array(test.labels.prefix(3)))
        XCTAssertTrue(batch.pixels.allSatisfy { $0 >= 0 && $0 <= 1 })
        XCTAssertEqual(batch.pixels.max(), 1)
        let resized = try test.batch(indices: 0..<4, resize: (64, 64))
        XCTAssertEqual(resized.pixels.count, 4 * 64 * 64)
        XCTAssertTrue(resized.pixels.allSatisfy { $0 >= 0 && $0 <= 1 })
    }

    func testRealTrainSet() throws {
        let dir = try realDirectory()
        let train = try FashionMNIST.load(train: true, directory: dir)
        XCTAssertEqual(train.count, 60_000)
        XCTAssertEqual([train.channels, train.height, train.width], [1, 28, 28])
        XCTAssertEqual(train.images.count, 60_000 * 784)
    }

    func testBatchToTensorAndIndexErrors() throws {
        let data = try ImageDataset(
            images: [0, 255, 51, 102, 10, 20, 30, 40], labels: [3, 4], channels: 1, height: 2, width: 2)
        let batch = try data.batch(indices: [1, 0, 1])
        XCTAssertEqual(batch.labels, [4, 3, 4])
        XCTAssertEqual(batch.pixels[4], 0)
        XCTAssertEqual(batch.pixels[5], 1)
        XCTAssertEqual(batch.pixels[6], 0.2, accuracy: 1e-6)
        XCTAssertEqual(batch.pixels[0], 10 / 255, accuracy: 1e-6)
        let image = try data.image(at: 1)
        XCTAssertEqual(image.pixels, Array(batch.pixels[0..<4]))
        assertDataToolkitError(.invalidArgument, containing: ["index 2", "0..<2"]) {
            _ = try data.batch(indices: [0, 2])
        }
        assertDataToolkitError(.invalidArgument, containing: ["positive"]) {
            _ = try data.batch(indices: [0], resize: (0, 4))
        }
        assertDataToolkitError(.shape, containing: ["7 bytes", "2 images"]) {
            _ = try ImageDataset(images: Array(repeating: 0, count: 7), labels: [0, 1], channels: 1, height: 2, width: 2)
        }
    }

    func testResizeConstantImageStaysConstant() throws {
        let data = try ImageDataset(
            images: Array(repeating: 153, count: 2 * 3 * 5 * 7), labels: [0, 1], channels: 3, height: 5, width: 7)
        for size in [(5, 7), (11, 3), (2, 2), (28, 28), (1, 1)] {
            let batch = try data.batch(indices: [0, 1], resize: size)
            XCTAssertEqual(batch.pixels.count, 2 * 3 * size.0 * size.1)
            for value in batch.pixels { XCTAssertEqual(value, 0.6, accuracy: 1e-6) }
        }
    }

    func testBilinearTwoByTwoToFourByFour() throws {
        // torch.nn.functional.interpolate(torch.tensor([[[[0.,1.],[2.,3.]]]]), size=(4,4),
        //     mode="bilinear", align_corners=False)
        let out = try resizeBilinear([0, 1, 2, 3], planes: 1, height: 2, width: 2, outputHeight: 4, outputWidth: 4)
        let expected: [Float] = [
            0.0, 0.25, 0.75, 1.0,
            0.5, 0.75, 1.25, 1.5,
            1.5, 1.75, 2.25, 2.5,
            2.0, 2.25, 2.75, 3.0,
        ]
        for (a, b) in zip(out, expected) { XCTAssertEqual(a, b, accuracy: 1e-6) }
        // Downsampling 4×4 → 2×2 with half-pixel centres averages 2×2 blocks' centres.
        let down = try resizeBilinear(
            (0..<16).map(Float.init), planes: 1, height: 4, width: 4, outputHeight: 2, outputWidth: 2)
        XCTAssertEqual(down, [2.5, 4.5, 10.5, 12.5])
        assertDataToolkitError(.shape, containing: ["5 values"]) {
            _ = try resizeBilinear([0, 1, 2, 3, 4], planes: 1, height: 2, width: 2, outputHeight: 4, outputWidth: 4)
        }
    }

    /// Writes a small Fashion-MNIST-like directory; `tweak` may change the test files.
    private func writeFakeDataSet(
        in dir: String, testImages: Int = 3, testLabels: Int = 3, labelValue: UInt8 = 9, gzip: Bool = true
    ) throws {
        func write(_ bytes: [UInt8], _ stem: String) throws {
            if gzip {
                try writeGzipped(bytes, path: dir + "/" + stem + ".gz")
            } else {
                try Data(bytes).write(to: URL(fileURLWithPath: dir + "/" + stem))
            }
        }
        for (prefix, images, labels) in [("train", 2, 2), ("t10k", testImages, testLabels)] {
            try write(
                IDXFile.encode(magic: IDXFile.imagesMagic, dimensions: [images, 4, 5],
                               data: Array(repeating: 17, count: images * 20)),
                "\(prefix)-images-idx3-ubyte")
            try write(
                IDXFile.encode(magic: IDXFile.labelsMagic, dimensions: [labels],
                               data: Array(repeating: labelValue, count: labels)),
                "\(prefix)-labels-idx1-ubyte")
        }
    }

    func testLoadFromExplicitDirectoryPlainAndGzipped() throws {
        for gzip in [true, false] {
            let dir = try makeDataTestDirectory(self)
            try writeFakeDataSet(in: dir, gzip: gzip)
            XCTAssertEqual(try FashionMNIST.directory(dir), dir)
            let test = try FashionMNIST.load(train: false, directory: dir)
            XCTAssertEqual(test.count, 3)
            XCTAssertEqual([test.channels, test.height, test.width], [1, 4, 5])
            XCTAssertEqual(test.labels, [9, 9, 9])
            XCTAssertEqual(try FashionMNIST.load(train: true, directory: dir).count, 2)
        }
    }

    func testCountMismatchNamesBothCounts() throws {
        let dir = try makeDataTestDirectory(self)
        try writeFakeDataSet(in: dir, testImages: 3, testLabels: 4)
        assertDataToolkitError(.invalidData, containing: ["3 images", "4 labels", "t10k-images", "t10k-labels"]) {
            _ = try FashionMNIST.load(train: false, directory: dir)
        }
    }

    func testLabelOutOfRange() throws {
        let dir = try makeDataTestDirectory(self)
        try writeFakeDataSet(in: dir, labelValue: 10)
        assertDataToolkitError(.invalidData, containing: ["label 10", "0..<10"]) {
            _ = try FashionMNIST.load(train: false, directory: dir)
        }
    }

    func testCorruptFilesInDataSet() throws {
        let dir = try makeDataTestDirectory(self)
        try writeFakeDataSet(in: dir)
        // Swap the test images and labels: wrong magic.
        let images = dir + "/t10k-images-idx3-ubyte.gz"
        let labels = dir + "/t10k-labels-idx1-ubyte.gz"
        let imageBytes = try Data(contentsOf: URL(fileURLWithPath: images))
        try Data(contentsOf: URL(fileURLWithPath: labels)).write(to: URL(fileURLWithPath: images))
        assertDataToolkitError(.invalidData, containing: [images, "expected 0x00000803", "0x00000801"]) {
            _ = try FashionMNIST.load(train: false, directory: dir)
        }
        // Corrupt gzip.
        try Data(imageBytes.prefix(imageBytes.count - 6)).write(to: URL(fileURLWithPath: images))
        assertDataToolkitError(.invalidData, containing: [images, "corrupt gzip"]) {
            _ = try FashionMNIST.load(train: false, directory: dir)
        }
    }

    func testDirectoryErrorListsWhereItLooked() throws {
        let dir = try makeDataTestDirectory(self)
        try writeGzipped([0], path: dir + "/train-images-idx3-ubyte.gz")
        assertDataToolkitError(.io, containing: [dir, "missing", "t10k-labels-idx1-ubyte"]) {
            _ = try FashionMNIST.directory(dir)
        }
        assertDataToolkitError(.io, containing: [dir + "/absent", "no such directory"]) {
            _ = try FashionMNIST.directory(dir + "/absent")
        }
    }

    func testDirectoryFromEnvironment() throws {
        let root = try makeDataTestDirectory(self)
        let dir = root + "/fashion-mnist"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try writeFakeDataSet(in: dir)
        let previous = ProcessInfo.processInfo.environment["D2L_DATA_DIR"]
        setenv("D2L_DATA_DIR", root, 1)
        defer {
            if let previous { setenv("D2L_DATA_DIR", previous, 1) } else { unsetenv("D2L_DATA_DIR") }
        }
        XCTAssertEqual(try FashionMNIST.directory(), dir)
        XCTAssertEqual(try FashionMNIST.load(train: false).count, 3)
    }
}
