import Foundation
import XCTest
@testable import D2L

/// ImageFolder on small trees built in a temporary directory from Tests/Fixtures/images.
final class DataImageFolderTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "d2l-imagefolder-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Copies fixture `name` to `directory/relative`, making folders.
    private func place(_ name: String, _ relative: String) throws {
        let target = directory + "/" + relative
        try FileManager.default.createDirectory(
            atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: imageFixtures + "/" + name, toPath: target)
    }

    private func write(_ text: String, _ relative: String) throws {
        let target = directory + "/" + relative
        try FileManager.default.createDirectory(
            atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: target))
    }

    func testTorchvisionOrderAndLabels() throws {
        // What torchvision's ImageFolder lists for this tree (sorted classes; per class
        // sorted(os.walk(...)) folders, then sorted file names; extensions lowercased).
        try place("rgb.png", "dog/b.png")
        try place("rgb.jpg", "dog/A.JPG")
        try place("gray.jpg", "dog/sub/c.jpeg")
        try place("rgb.png", "dog/sub-x/d.png")
        try place("rgb.jpg", "cat/z.jpg")
        try place("palette8.png", "cat/_a.Png")
        try write("not listed", "cat/notes.txt")
        try place("rgb.png", "cat/kitten.bmp")
        try write("a file at the top is not a class", "README.md")
        try place("rgb.png", "Zebra/1.png")
        let folder = try ImageFolder(root: directory)
        XCTAssertEqual(folder.classes, ["Zebra", "cat", "dog"])
        XCTAssertEqual(folder.classToIndex, ["Zebra": 0, "cat": 1, "dog": 2])
        XCTAssertEqual(folder.count, 7)
        let listed = folder.samples.map { (String($0.path.dropFirst(directory.count + 1)), $0.label) }
        let expected: [(String, Int)] = [
            ("Zebra/1.png", 0),
            ("cat/_a.Png", 1), ("cat/z.jpg", 1),
            // "dog" < "dog/sub" < "dog/sub-x" as Python sorts the walked folders' paths
            ("dog/A.JPG", 2), ("dog/b.png", 2), ("dog/sub/c.jpeg", 2), ("dog/sub-x/d.png", 2),
        ]
        XCTAssertEqual(listed.map(\.0), expected.map(\.0))
        XCTAssertEqual(listed.map(\.1), expected.map(\.1))
        let first = try folder.image(at: 5)
        XCTAssertEqual(first, try ImageDecoder.decode(path: imageFixtures + "/gray.jpg"))
        XCTAssertEqual(first.channels, 3)
        XCTAssertThrowsError(try folder.image(at: 7))
    }

    func testCorruptImageIsSkippedWithOneWarning() throws {
        try place("rgb.png", "a/1.png")
        try place("truncated.png", "a/2.png")
        try place("rgb.jpg", "b/1.jpg")
        try place("text.jpg", "b/2.jpg")
        let folder = try ImageFolder(root: directory)
        XCTAssertEqual(folder.count, 4)
        let loaded = try folder.loadImages()
        XCTAssertEqual(loaded.indices, [0, 2])
        XCTAssertEqual(loaded.labels, [0, 1])
        XCTAssertEqual(loaded.images.count, 2)
        XCTAssertEqual(loaded.warnings.count, 2)
        XCTAssertTrue(loaded.warnings[0].hasPrefix("warning: skipping \(directory)/a/2.png: "), loaded.warnings[0])
        XCTAssertTrue(loaded.warnings[1].hasPrefix("warning: skipping \(directory)/b/2.jpg: "), loaded.warnings[1])
        // The next epoch skips them silently.
        let again = try folder.loadImages(at: [3, 2, 1])
        XCTAssertEqual(again.indices, [2])
        XCTAssertEqual(again.warnings, [])
        XCTAssertEqual(folder.unreadablePaths, [directory + "/a/2.png", directory + "/b/2.jpg"])
        // Not skipping: the first bad file throws, naming it.
        XCTAssertThrowsError(try folder.loadImages(skippingUnreadable: false)) { error in
            XCTAssertTrue((error as? ToolkitError)?.message.contains("a/2.png") ?? false, "\(error)")
        }
    }

    func testErrorsNameTheFolder() throws {
        XCTAssertThrowsError(try ImageFolder(root: directory)) { error in
            let message = (error as? ToolkitError)?.message ?? ""
            XCTAssertTrue(message.contains(directory) && message.contains("no class folders"), message)
        }
        try place("rgb.png", "full/1.png")
        try write("text", "empty/readme.txt")
        try FileManager.default.createDirectory(atPath: directory + "/also-empty", withIntermediateDirectories: true)
        XCTAssertThrowsError(try ImageFolder(root: directory)) { error in
            let message = (error as? ToolkitError)?.message ?? ""
            XCTAssertTrue(message.contains("also-empty, empty"), message)
            XCTAssertFalse(message.contains("\n"))
        }
        XCTAssertThrowsError(try ImageFolder(root: directory + "/missing")) { error in
            XCTAssertEqual((error as? ToolkitError)?.kind, .io)
            XCTAssertTrue((error as? ToolkitError)?.message.contains("missing") ?? false)
        }
        XCTAssertThrowsError(try ImageFolder(root: directory + "/full/1.png")) { error in
            XCTAssertTrue((error as? ToolkitError)?.message.contains("not a directory") ?? false)
        }
    }

    func testSymbolicLinkCycleIsWalkedOnce() throws {
        try place("rgb.png", "a/1.png")
        try FileManager.default.createSymbolicLink(atPath: directory + "/a/loop", withDestinationPath: directory + "/a")
        let folder = try ImageFolder(root: directory)
        XCTAssertEqual(folder.samples.map(\.path), [directory + "/a/1.png"])
    }
}
