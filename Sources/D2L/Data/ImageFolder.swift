#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A folder of labelled images in torchvision's `ImageFolder` layout, listed in its order:
///
/// ```
/// root/cat/001.jpg        classes = the sub-folders of root, sorted ("cat", "dog")
/// root/cat/more/002.png   a class's images: every file under its folder, sub-folders too
/// root/dog/a.JPEG         (symbolic links followed), whose name ends in .jpg, .jpeg or
///                         .png in any case, sorted by path
/// ```
///
/// Sorting is by Unicode code points, as Python's `sorted`: classes by name, then (as
/// `sorted(os.walk(class_folder))`) the folders of a class by path and the files of each
/// folder by name. Labels are class indices: `classToIndex[classes[i]] == i`. Only paths
/// are listed; images are decoded on demand (``image(at:mode:)``, ``loadImages(at:mode:skippingUnreadable:)``)
/// with ``ImageDecoder`` (PIL's `convert("RGB")`, so 3 × H × W in [0, 1]).
///
/// Unlike torchvision, the other extensions of its `IMG_EXTENSIONS` (.bmp, .ppm, .pgm,
/// .tif, .tiff, .webp) are not listed: the toolkit reads only PNG and JPEG.
///
/// Corrupt files: ``loadImages(at:mode:skippingUnreadable:)`` skips an image that cannot be
/// decoded and reports it once (one warning line naming the file); the folder remembers it
/// and skips it silently afterwards, so an epoch loop warns once per bad file.
///
/// ```swift
/// let folder = try ImageFolder(root: "data/hotdog/train")
/// let batch = try folder.loadImages(at: Array(0..<32))
/// for line in batch.warnings { print(line) }
/// ```
public final class ImageFolder: @unchecked Sendable {
    /// The extensions listed (compared lowercased).
    public static let extensions = [".jpg", ".jpeg", ".png"]

    /// The folder, as given.
    public let root: String
    /// The class names: the sub-folders of `root`, sorted.
    public let classes: [String]
    /// Each class name's index in `classes`.
    public let classToIndex: [String: Int]
    /// Every image's path (`root/<class>/…`) and label, in torchvision's order.
    public let samples: [(path: String, label: Int)]
    /// The number of images.
    public var count: Int { samples.count }

    /// Paths found unreadable so far (guarded by `lock`).
    private var unreadable: Set<String> = []
    private let lock = NSLock()

    /// Lists `root`.
    /// - Throws: ``ToolkitError`` `.io` naming `root` when it is not a readable folder;
    ///   `.invalidData` when it has no class folders, or when a class folder has no
    ///   .jpg/.jpeg/.png file (naming every such class).
    public init(root: String) throws {
        self.root = root
        var info = stat()
        guard stat(root, &info) == 0 else {
            throw ToolkitError(.io, "cannot read the image folder \(root): \(String(cString: strerror(errno)))")
        }
        guard info.st_mode & S_IFMT == S_IFDIR else {
            throw ToolkitError(.io, "cannot read the image folder \(root): it is not a directory")
        }
        let classes = try ImageFolder.entries(of: root).filter { ImageFolder.isDirectory(root + "/" + $0) }
            .sorted(by: ImageFolder.codePointOrder)
        guard !classes.isEmpty else {
            throw ToolkitError(.invalidData, "\(root): no class folders (an image folder holds root/<class>/<image>.jpg, .jpeg or .png)")
        }
        var samples: [(path: String, label: Int)] = []
        var empty: [String] = []
        for (label, name) in classes.enumerated() {
            let files = try ImageFolder.imageFiles(under: root + "/" + name)
            if files.isEmpty { empty.append(name) }
            samples += files.map { (path: $0, label: label) }
        }
        guard empty.isEmpty else {
            throw ToolkitError(.invalidData, "\(root): no .jpg, .jpeg or .png file in the class folder\(empty.count == 1 ? "" : "s") \(empty.joined(separator: ", "))")
        }
        self.classes = classes
        classToIndex = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
        self.samples = samples
    }

    /// Image `index`, decoded in `mode` (default RGB: 3 × H × W in [0, 1]).
    /// - Throws: ``ToolkitError`` `.invalidArgument` for an index out of range, or
    ///   ``ImageDecoder``'s error naming the file.
    public func image(at index: Int, mode: ImageDecoder.Mode = .rgb) throws -> Image {
        guard samples.indices.contains(index) else {
            throw ToolkitError(.invalidArgument, "ImageFolder \(root): index \(index) is out of range (\(count) images)")
        }
        return try ImageDecoder.decode(path: samples[index].path, mode: mode)
    }

    /// What ``loadImages(at:mode:skippingUnreadable:)`` returns: the decoded images with their
    /// labels and sample indices (the readable ones, in the order asked), and one warning line
    /// for each file found unreadable in this call.
    public struct LoadedImages: Sendable {
        public var images: [Image]
        public var labels: [Int]
        /// The sample index of each image.
        public var indices: [Int]
        /// `warning: skipping PATH: REASON`, once per file over the folder's life.
        public var warnings: [String]
    }

    /// Decodes the images at `indices` (all when nil) in `mode` (default RGB).
    ///
    /// With `skippingUnreadable` (the default), an image that cannot be decoded is left
    /// out: the first time with a warning naming the file, afterwards silently (without
    /// reading it again). Without it the first unreadable image throws.
    /// - Throws: ``ToolkitError`` `.invalidArgument` for an index out of range; with
    ///   `skippingUnreadable: false`, the decoder's error naming the file.
    public func loadImages(at indices: [Int]? = nil, mode: ImageDecoder.Mode = .rgb,
                           skippingUnreadable: Bool = true) throws -> LoadedImages {
        let indices = indices ?? Array(samples.indices)
        var result = LoadedImages(images: [], labels: [], indices: [], warnings: [])
        for index in indices {
            guard samples.indices.contains(index) else {
                throw ToolkitError(.invalidArgument, "ImageFolder \(root): index \(index) is out of range (\(count) images)")
            }
            let (path, label) = samples[index]
            if skippingUnreadable, lock.withLock({ unreadable.contains(path) }) { continue }
            do {
                result.images.append(try ImageDecoder.decode(path: path, mode: mode))
                result.labels.append(label)
                result.indices.append(index)
            } catch {
                guard skippingUnreadable else { throw error }
                if lock.withLock({ unreadable.insert(path).inserted }) {
                    let reason = ToolkitError.line(for: error)
                    result.warnings.append("warning: skipping \(reason.hasPrefix(path) ? reason : path + ": " + reason)")
                }
            }
        }
        return result
    }

    /// The paths found unreadable so far by ``loadImages(at:mode:skippingUnreadable:)``, sorted.
    public var unreadablePaths: [String] { lock.withLock { unreadable.sorted(by: ImageFolder.codePointOrder) } }

    // MARK: - Listing

    /// Python's string order: lexicographic by Unicode code points.
    static func codePointOrder(_ a: String, _ b: String) -> Bool {
        a.unicodeScalars.lexicographicallyPrecedes(b.unicodeScalars)
    }

    /// The names in directory `path` (not `.` and `..`), unsorted.
    static func entries(of path: String) throws -> [String] {
        guard let directory = opendir(path) else {
            throw ToolkitError(.io, "cannot read the image folder \(path): \(String(cString: strerror(errno)))")
        }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name != ".", name != ".." { names.append(name) }
        }
        return names
    }

    /// Whether `path` is a directory, following symbolic links (Python's `is_dir()`).
    public static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR
    }

    /// The image files under `folder`, in `sorted(os.walk(folder, followlinks=True))`
    /// order: folders by path, each folder's files by name. A folder reached twice through
    /// links (a cycle) is walked once.
    static func imageFiles(under folder: String) throws -> [String] {
        var folders: [(relative: String, files: [String])] = []
        var seen: Set<[UInt64]> = []
        func walk(_ relative: String) throws {
            let path = relative.isEmpty ? folder : folder + "/" + relative
            var info = stat()
            guard stat(path, &info) == 0, seen.insert([UInt64(info.st_dev), UInt64(info.st_ino)]).inserted else { return }
            var files: [String] = []
            for name in try entries(of: path) {
                let child = relative.isEmpty ? name : relative + "/" + name
                if isDirectory(path + "/" + name) {
                    try walk(child)
                } else if extensions.contains(where: { name.lowercased().hasSuffix($0) }) {
                    files.append(name)
                }
            }
            folders.append((relative, files.sorted(by: codePointOrder)))
        }
        try walk("")
        // os.walk yields `folder` then `folder/sub…`; sorting the full paths is sorting these.
        folders.sort { codePointOrder(folder + "/" + $0.relative, folder + "/" + $1.relative) }
        return folders.flatMap { entry in
            entry.files.map { entry.relative.isEmpty ? folder + "/" + $0 : folder + "/" + entry.relative + "/" + $0 }
        }
    }
}
