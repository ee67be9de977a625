import Foundation
import XCTest
@testable import D2L

// Helpers shared by the Text*Tests files.

/// The repository root, from this file's path (…/Tests/D2LTests/<file> → …).
let textRepositoryRoot: String = {
    var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)
    return parts.joined(separator: "/")
}()

/// A JSON file under Tests/Fixtures/toolkit/text, as a dictionary.
func textFixture(_ name: String) throws -> [String: Any] {
    let path = textRepositoryRoot + "/Tests/Fixtures/toolkit/text/" + name
    let data = try Data(contentsOf: URL(fileURLWithPath: path))
    guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
        throw ToolkitError(.invalidData, "\(path) is not a JSON object")
    }
    return object
}

/// The book's timemachine.txt: `$D2L_DATA_DIR/timemachine.txt`, else the repository's
/// `data/timemachine.txt`; a skip when neither exists.
func timeMachinePath() throws -> String {
    var candidates: [String] = []
    if let dir = ProcessInfo.processInfo.environment["D2L_DATA_DIR"], !dir.isEmpty {
        candidates.append(dir + "/timemachine.txt")
    }
    candidates.append(textRepositoryRoot + "/data/timemachine.txt")
    for candidate in candidates where FileManager.default.isReadableFile(atPath: candidate) {
        return candidate
    }
    throw XCTSkip("The Time Machine text is not available (looked at \(candidates.joined(separator: ", "))); "
        + "set D2L_DATA_DIR to a directory holding the book's timemachine.txt")
}

/// Asserts that `body` throws a ToolkitError of `kind` whose message contains every fragment.
func assertTextError(_ kind: ToolkitError.Kind, containing fragments: [String],
                     file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Void) {
    do {
        try body()
        XCTFail("expected a ToolkitError(.\(kind))", file: file, line: line)
    } catch let error as ToolkitError {
        XCTAssertEqual(error.kind, kind, "message: \(error.message)", file: file, line: line)
        for fragment in fragments {
            XCTAssertTrue(error.message.contains(fragment), "'\(error.message)' lacks '\(fragment)'",
                          file: file, line: line)
        }
    } catch {
        XCTFail("expected a ToolkitError, got \(error)", file: file, line: line)
    }
}

/// A fresh temporary directory, removed after the test.
func makeTextTestDirectory(_ test: XCTestCase) throws -> String {
    let dir = NSTemporaryDirectory() + "d2l-text-tests-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
    return dir
}

final class TextPreprocessingTests: XCTestCase {
    // MARK: SHA-1

    func testSHA1KnownVectors() {
        // FIPS 180-2 examples and the classic pangram.
        XCTAssertEqual(SHA1.hexDigest(text: ""), "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        XCTAssertEqual(SHA1.hexDigest(text: "abc"), "a9993e364706816aba3e25717850c26c9cd0d89d")
        XCTAssertEqual(SHA1.hexDigest(text: "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
                       "84983e441c3bd26ebaae4aa1f95129e5e54670f1")
        XCTAssertEqual(SHA1.hexDigest(text: "The quick brown fox jumps over the lazy dog"),
                       "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12")
        XCTAssertEqual(SHA1.hexDigest(of: [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)),
                       "34aa973cd4c4daa4f61eeb2bdbad27316534016f")
        // Padding boundaries (Python's hashlib.sha1(bytes(range(n)))).
        let boundaries: [(Int, String)] = [
            (55, "8ae2d46729cfe68ff927af5eec9c7d1b66d65ac2"), (56, "636e2ec698dac903498e648bd2f3af641d3c88cb"),
            (63, "6d942da0c4392b123528f2905c713a3ce28364bd"), (64, "c6138d514ffa2135bfce0ed0b8fac65669917ec7"),
            (65, "69bd728ad6e13cd76ff19751fde427b00e395746"), (119, "41c89d06001bab4ab78736b44efe7ce18ce6ae08"),
            (120, "d3dbd653bd8597b7475321b60a36891278e6a04a"), (128, "e6434bc401f98603d7eda504790c98c67385d535"),
        ]
        for (n, expected) in boundaries {
            XCTAssertEqual(SHA1.hexDigest(of: (0..<n).map { UInt8($0) }), expected, "length \(n)")
        }
    }

    func testSHA1IncrementalEqualsOneShot() {
        let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
        var sha = SHA1()
        for chunk in [0..<1, 1..<63, 63..<64, 64..<500, 500..<1000] { sha.update(bytes[chunk]) }
        XCTAssertEqual(sha.hexDigest(), SHA1.hexDigest(of: bytes))
        XCTAssertEqual(sha.hexDigest(), sha.hexDigest(), "digest() leaves the hasher unchanged")
        XCTAssertEqual(sha.digest().count, 20)
    }

    func testBookFileHasTheBooksDigest() throws {
        let path = try timeMachinePath()
        XCTAssertEqual(SHA1.hexDigest(of: try AtomicFile.read(path)), TimeMachine.sha1)
    }

    // MARK: Cleaning and tokenizing

    func testCleanLinesMatchesPython() throws {
        // Python: open(..., 'r').readlines() then re.sub('[^A-Za-z]+', ' ', line).strip().lower()
        let bytes = Array("Hello, World!\r\n\r\n  It's 1898...\rcafé AU lait\n\n--\nend".utf8)
        XCTAssertEqual(try TimeMachine.cleanLines(bytes), ["hello world", "", "it s", "caf au lait", "", "", "end"])
        XCTAssertEqual(try TimeMachine.cleanLines(Array("a\n".utf8)), ["a"], "no empty line after a final newline")
        XCTAssertEqual(try TimeMachine.cleanLines(Array("\n".utf8)), [""])
        XCTAssertEqual(try TimeMachine.cleanLines(Array("  \n".utf8)), [""])
    }

    func testTokenizeWordsAndChars() {
        // Python: "  a\tb  c\x1c d\u00a0e\u3000f\n".split() == ['a', 'b', 'c', 'd', 'e', 'f']
        XCTAssertEqual(tokenize(["  a\tb  c\u{1C} d\u{A0}e\u{3000}f\n"], token: .word), [["a", "b", "c", "d", "e", "f"]])
        XCTAssertEqual(tokenize(["the time machine", "", "by h g wells"]),
                       [["the", "time", "machine"], [], ["by", "h", "g", "wells"]])
        XCTAssertEqual(tokenize(["ab c", ""], token: .char), [["a", "b", " ", "c"], []])
        // list('e\u0301') has two code points.
        XCTAssertEqual(tokenize(["e\u{301}"], token: .char).first?.count, 2)
    }

    // MARK: Reading the novel

    func testReadTimeMachineMatchesTheBook() throws {
        let path = try timeMachinePath()
        let fixture = try textFixture("vocab-char.json")
        let lines = try readTimeMachine(path: path)
        XCTAssertEqual(lines.count, fixture["lines"] as? Int)
        XCTAssertEqual(SHA1.hexDigest(text: lines.joined(separator: "\n")), fixture["lines_sha1"] as? String)
        XCTAssertEqual(lines.first, "the time machine by h g wells")
        XCTAssertTrue(lines.allSatisfy { $0.utf8.allSatisfy { $0 == 0x20 || (0x61...0x7A).contains($0) } })
    }

    func testReadErrorsForEmptyBinaryAndMissingFiles() throws {
        let dir = try makeTextTestDirectory(self)
        let empty = dir + "/empty.txt", binary = dir + "/binary.bin", latin1 = dir + "/latin1.txt"
        try AtomicFile.write([], to: empty)
        try AtomicFile.write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00], to: binary)
        try AtomicFile.write([0x63, 0x61, 0x66, 0xE9, 0x0A], to: latin1)  // "café" in Latin-1
        assertTextError(.invalidData, containing: [empty, "empty"]) { _ = try readTimeMachine(path: empty) }
        assertTextError(.invalidData, containing: [binary, "not a text file", "offset 8"]) {
            _ = try readTimeMachine(path: binary)
        }
        assertTextError(.invalidData, containing: [latin1, "not UTF-8"]) { _ = try readTimeMachine(path: latin1) }
        assertTextError(.io, containing: [dir + "/missing.txt"]) { _ = try readTimeMachine(path: dir + "/missing.txt") }
        assertTextError(.invalidData, containing: ["empty"]) { _ = try loadCorpusTimeMachine(path: empty) }
    }

    func testLocateSearchOrderCacheAndDownloadChecks() throws {
        let dir = try makeTextTestDirectory(self)
        let dataDir = dir + "/data", cacheHome = dir + "/cache"
        try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
        let noDownload: (String) throws -> [UInt8] = { _ in throw ToolkitError(.io, "network is unreachable") }

        // D2L_DATA_DIR wins, used as it is.
        try AtomicFile.write(Array("Some text\n".utf8), to: dataDir + "/timemachine.txt")
        XCTAssertEqual(try TimeMachine.locate(path: nil, environment: ["D2L_DATA_DIR": dataDir, "XDG_CACHE_HOME": cacheHome],
                                              download: noDownload), dataDir + "/timemachine.txt")
        XCTAssertEqual(TimeMachine.cachePath(environment: ["XDG_CACHE_HOME": cacheHome]),
                       cacheHome + "/d2l/timemachine.txt")
        XCTAssertEqual(TimeMachine.cachePath(environment: ["HOME": "/home/u"]), "/home/u/.cache/d2l/timemachine.txt")

        // Nothing found, no network: the message says what to do.
        let env = ["D2L_DATA_DIR": dir + "/elsewhere", "XDG_CACHE_HOME": cacheHome]
        assertTextError(.io, containing: ["network is unreachable", "D2L_DATA_DIR", "path", TimeMachine.url]) {
            _ = try TimeMachine.locate(path: nil, environment: env, download: noDownload)
        }
        // A download with the wrong digest is refused and not cached.
        assertTextError(.io, containing: ["SHA-1", TimeMachine.sha1, "D2L_DATA_DIR"]) {
            _ = try TimeMachine.locate(path: nil, environment: env, download: { _ in Array("<html>Error</html>".utf8) })
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: cacheHome + "/d2l/timemachine.txt"))

        // A cache file with the wrong digest is downloaded again.
        try FileManager.default.createDirectory(atPath: cacheHome + "/d2l", withIntermediateDirectories: true)
        try AtomicFile.write(Array("stale".utf8), to: cacheHome + "/d2l/timemachine.txt")
        assertTextError(.io, containing: ["SHA-1 differs", "network is unreachable"]) {
            _ = try TimeMachine.locate(path: nil, environment: env, download: noDownload)
        }

        // The real file downloaded: checked, cached, then found in the cache without a download.
        let book = try AtomicFile.read(try timeMachinePath())
        var downloads = 0
        let fake: (String) throws -> [UInt8] = { url in
            XCTAssertEqual(url, TimeMachine.url)
            downloads += 1
            return book
        }
        let cached = try TimeMachine.locate(path: nil, environment: env, download: fake)
        XCTAssertEqual(cached, cacheHome + "/d2l/timemachine.txt")
        XCTAssertEqual(try AtomicFile.read(cached), book)
        XCTAssertEqual(try TimeMachine.locate(path: nil, environment: env, download: noDownload), cached)
        XCTAssertEqual(downloads, 1)
    }

    // MARK: Corpus

    func testCorpusMatchesTheBook() throws {
        let path = try timeMachinePath()
        let fixture = try textFixture("corpus-head.json")
        let (corpus, vocab) = try loadCorpusTimeMachine(path: path)
        XCTAssertEqual(corpus.count, fixture["length"] as? Int)
        XCTAssertEqual(Array(corpus.prefix(200)), fixture["head"] as? [Int])
        XCTAssertEqual(SHA1.hexDigest(text: corpus.map(String.init).joined(separator: ",")),
                       fixture["corpus_sha1"] as? String)
        XCTAssertEqual(vocab.count, 28)
        // Lines run into each other: the corpus length is the sum of the line lengths.
        let lines = try readTimeMachine(path: path)
        XCTAssertEqual(corpus.count, lines.reduce(0) { $0 + $1.count })

        let (short, shortVocab) = try loadCorpusTimeMachine(maxTokens: 10_000, path: path)
        XCTAssertEqual(short, Array(corpus.prefix(10_000)))
        XCTAssertEqual(shortVocab, vocab, "max_tokens cuts the corpus, not the vocabulary")
        let (words, wordVocab) = try loadCorpusTimeMachine(path: path, token: .word)
        XCTAssertEqual(words.count, tokenize(lines).reduce(0) { $0 + $1.count })
        XCTAssertEqual(try wordVocab.tokens(at: Array(words.prefix(3))), ["the", "time", "machine"])
    }
}
