import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// *The Time Machine* by H. G. Wells, the book's text corpus (ch. 8), as the book gets it:
/// `d2l.DATA_HUB['time_machine']`.
///
/// Where the text comes from (`locate(path:)`), first match wins:
/// 1. an explicit `path`;
/// 2. `$D2L_DATA_DIR/timemachine.txt`;
/// 3. the cache file `$XDG_CACHE_HOME/d2l/timemachine.txt` (default `~/.cache/d2l/…`),
///    when its SHA-1 is the book's;
/// 4. a download of `url` with Foundation's `URLSession`, checked against `sha1` and
///    saved to the cache file.
/// Explicit and `D2L_DATA_DIR` files are used as they are (no digest check), so a
/// different text can be used on purpose.
public enum TimeMachine {
    /// The largest text file `readTimeMachine(path:)` reads (1 GiB), checked before reading.
    public static let maxTextSize = 1 << 30
    /// The book's download address (`d2l.DATA_URL + 'timemachine.txt'`).
    public static let url = "http://d2l-data.s3-accelerate.amazonaws.com/timemachine.txt"
    /// The book's SHA-1 of that file.
    public static let sha1 = "090b5e7e70c295757f55df93cb0a180b9691891a"
    /// The file name looked for in `D2L_DATA_DIR` and the cache.
    public static let fileName = "timemachine.txt"

    /// The cache file: `$XDG_CACHE_HOME/d2l/timemachine.txt`, else `~/.cache/d2l/timemachine.txt`.
    public static func cachePath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        let base: String
        if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty {
            base = xdg
        } else {
            let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
            base = (home as NSString).appendingPathComponent(".cache")
        }
        return ((base as NSString).appendingPathComponent("d2l") as NSString).appendingPathComponent(fileName)
    }

    /// The path of the text: `path` itself, or found or downloaded as the type describes.
    ///
    /// - Throws: `ToolkitError(.io)` when `path` does not exist, or when nothing is found and
    ///   the download fails or its SHA-1 is wrong; the message says to pass a path or to set
    ///   `D2L_DATA_DIR`.
    public static func locate(path: String? = nil) throws -> String {
        try locate(path: path, environment: ProcessInfo.processInfo.environment, download: downloadWithURLSession)
    }

    /// `locate(path:)` with the environment and the downloader injected (for tests).
    static func locate(path: String?, environment: [String: String],
                       download: (String) throws -> [UInt8]) throws -> String {
        let fm = FileManager.default
        if let path {
            guard fm.fileExists(atPath: path) else {
                throw ToolkitError(.io, "The Time Machine: no file at \(path)")
            }
            return path
        }
        var looked: [String] = []
        if let dir = environment["D2L_DATA_DIR"], !dir.isEmpty {
            let candidate = (dir as NSString).appendingPathComponent(fileName)
            if fm.isReadableFile(atPath: candidate) { return candidate }
            looked.append("\(candidate) (no such file)")
        } else {
            looked.append("D2L_DATA_DIR (not set)")
        }
        let cache = cachePath(environment: environment)
        if fm.isReadableFile(atPath: cache) {
            // The book's file is 178 KB: a cache much larger cannot be it, and is not read.
            if let bytes = try? BoundedFile.read(path: cache, limit: 1 << 20, what: "the cached book"),
               SHA1.hexDigest(of: bytes) == sha1 { return cache }
            looked.append("\(cache) (SHA-1 differs from the book's; downloading again)")
        } else {
            looked.append("\(cache) (no such file)")
        }
        let hint = "pass the file's path (readTimeMachine(path:)) or set D2L_DATA_DIR to a directory holding \(fileName)"
        let bytes: [UInt8]
        do {
            bytes = try download(url)
        } catch {
            throw ToolkitError(.io, "The Time Machine: not found (looked at \(looked.joined(separator: "; "))) "
                + "and the download of \(url) failed: \(error); \(hint)")
        }
        let digest = SHA1.hexDigest(of: bytes)
        guard digest == sha1 else {
            throw ToolkitError(.io, "The Time Machine: the download of \(url) has SHA-1 \(digest) "
                + "(\(bytes.count) bytes), expected \(sha1); \(hint)")
        }
        do {
            try fm.createDirectory(atPath: (cache as NSString).deletingLastPathComponent,
                                   withIntermediateDirectories: true)
            try AtomicFile.write(bytes, to: cache)
        } catch {
            throw ToolkitError(.io, "The Time Machine: downloaded, but could not save it to \(cache): \(error); \(hint)")
        }
        return cache
    }

    /// Downloads `address` with `URLSession` (60 s timeout), failing on HTTP errors.
    static func downloadWithURLSession(_ address: String) throws -> [UInt8] {
        guard let url = URL(string: address) else {
            throw ToolkitError(.invalidArgument, "not a URL: \(address)")
        }
        final class Result: @unchecked Sendable { var data: Data?; var failure: String? }
        let result = Result()
        let done = DispatchSemaphore(value: 0)
        var request = URLRequest(url: url)
        request.timeoutInterval = 60
        let task = URLSession.shared.dataTask(with: request) { data, response, error in
            if let error {
                result.failure = "\(error.localizedDescription)"
            } else if let http = response as? HTTPURLResponse, !(200..<300).contains(http.statusCode) {
                result.failure = "HTTP status \(http.statusCode)"
            } else {
                result.data = data
            }
            done.signal()
        }
        task.resume()
        if done.wait(timeout: .now() + 90) == .timedOut {
            task.cancel()
            throw ToolkitError(.io, "timed out")
        }
        if let failure = result.failure { throw ToolkitError(.io, failure) }
        guard let data = result.data else { throw ToolkitError(.io, "no data received") }
        return [UInt8](data)
    }

    /// The book's cleaning of raw text: split into lines as Python's text mode does
    /// (`\n`, `\r\n` and `\r` end a line; no empty last line after a final newline), then
    /// per line `re.sub('[^A-Za-z]+', ' ', line).strip().lower()`.
    ///
    /// - Throws: `ToolkitError(.invalidData)` for an empty file, a file with NUL bytes
    ///   (binary), or one that is not UTF-8; `what` names it in the message.
    public static func cleanLines(_ bytes: [UInt8], what: String = "the text") throws -> [String] {
        guard !bytes.isEmpty else {
            throw ToolkitError(.invalidData, "\(what) is empty (expected the text of The Time Machine)")
        }
        if let zero = bytes.firstIndex(of: 0) {
            throw ToolkitError(.invalidData, "\(what) is not a text file (a NUL byte at offset \(zero); binary data?)")
        }
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw ToolkitError(.invalidData, "\(what) is not UTF-8 text (\(bytes.count) bytes; binary data?)")
        }
        // Every byte of a non-ASCII UTF-8 sequence is ≥ 0x80, so it is never a letter,
        // a line end or a space: cleaning byte by byte equals cleaning by characters.
        var lines: [String] = []
        var line: [UInt8] = []
        var pendingSpace = false
        func finishLine() {
            lines.append(String(decoding: line, as: UTF8.self))
            line.removeAll(keepingCapacity: true)
            pendingSpace = false
        }
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"):
                if pendingSpace && !line.isEmpty { line.append(0x20) }  // strip(): none in front
                pendingSpace = false
                line.append(b | 0x20)  // lower()
            case UInt8(ascii: "\n"):
                finishLine()
            case UInt8(ascii: "\r"):
                if i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "\n") { i += 1 }
                finishLine()
            default:
                pendingSpace = true  // a run of non-letters becomes one space (dropped at the end: strip())
            }
            i += 1
        }
        if let last = bytes.last, last != UInt8(ascii: "\n"), last != UInt8(ascii: "\r") { finishLine() }
        return lines
    }
}

/// The book's `read_time_machine()`: the lines of *The Time Machine*, each reduced to
/// lowercase letters and single spaces (`re.sub('[^A-Za-z]+', ' ', line).strip().lower()`);
/// empty lines are kept as "". The book's file gives 3221 lines.
///
/// - Parameter path: the text file; nil to find or download it (see `TimeMachine`).
/// - Throws: `ToolkitError(.io)` when the file cannot be found, read or downloaded;
///   `ToolkitError(.invalidData)` when it is empty, binary or not UTF-8.
public func readTimeMachine(path: String? = nil) throws -> [String] {
    let file = try TimeMachine.locate(path: path)
    return try TimeMachine.cleanLines(try BoundedFile.read(path: file, limit: TimeMachine.maxTextSize, what: "a text corpus"),
                                      what: file)
}

/// The book's `load_corpus_time_machine(max_tokens)`: the novel as token indices and its
/// vocabulary. Lines are tokenized (`.char` as in the book, or `.word`), the vocabulary is
/// built from all of them (`Vocab(tokens)`), and the corpus is every line's indices
/// concatenated with nothing in between (the last character of a line runs into the first
/// of the next). With `maxTokens > 0` only the first `maxTokens` indices are kept (the
/// vocabulary still covers the whole text).
///
/// - Throws: as `readTimeMachine(path:)`.
public func loadCorpusTimeMachine(maxTokens: Int = -1, path: String? = nil,
                                  token: TokenKind = .char) throws -> (corpus: [Int], vocab: Vocab) {
    let tokens = tokenize(try readTimeMachine(path: path), token: token)
    let vocab = Vocab(tokens: tokens)
    var corpus: [Int] = []
    corpus.reserveCapacity(tokens.reduce(0) { $0 + $1.count })
    for line in tokens { for t in line { corpus.append(vocab[t]) } }
    if maxTokens > 0 && corpus.count > maxTokens { corpus.removeSubrange(maxTokens...) }
    return (corpus, vocab)
}
