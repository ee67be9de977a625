import Foundation
import XCTest
@testable import D2L

final class TextVocabTests: XCTestCase {
    private func checkVocab(_ vocab: Vocab, against record: [String: Any], _ what: String,
                            file: StaticString = #filePath, line: UInt = #line) {
        let head = record["idx_to_token"] as? [String] ?? []
        XCTAssertEqual(vocab.count, record["count"] as? Int, "\(what): count", file: file, line: line)
        XCTAssertEqual(Array(vocab.idxToToken.prefix(head.count)), head, "\(what): idx_to_token", file: file, line: line)
        XCTAssertEqual(SHA1.hexDigest(text: vocab.idxToToken.joined(separator: "\n")),
                       record["idx_to_token_sha1"] as? String, "\(what): all of idx_to_token", file: file, line: line)
        let freqs = (record["token_freqs_head"] as? [[Any]] ?? []).map { ($0[0] as? String ?? "", $0[1] as? Int ?? -1) }
        XCTAssertEqual(vocab.tokenFrequencies.count, record["token_freqs_count"] as? Int, "\(what)", file: file, line: line)
        XCTAssertEqual(vocab.tokenFrequencies.prefix(freqs.count).map(\.0), freqs.map(\.0), "\(what)", file: file, line: line)
        XCTAssertEqual(vocab.tokenFrequencies.prefix(freqs.count).map(\.1), freqs.map(\.1), "\(what)", file: file, line: line)
    }

    func testCharVocabularyMatchesTheBook() throws {
        let lines = try readTimeMachine(path: try timeMachinePath())
        let fixture = try textFixture("vocab-char.json")
        let vocab = Vocab(tokens: tokenize(lines, token: .char))
        checkVocab(vocab, against: fixture, "char")
        XCTAssertEqual(vocab.idxToToken, fixture["idx_to_token"] as? [String], "the whole char vocabulary")
        XCTAssertEqual(vocab.idxToToken.prefix(5), ["<unk>", " ", "e", "t", "a"])
    }

    func testWordVocabularyMatchesTheBook() throws {
        let lines = try readTimeMachine(path: try timeMachinePath())
        let fixture = try textFixture("vocab-word.json")
        let tokens = tokenize(lines, token: .word)
        checkVocab(Vocab(tokens: tokens), against: fixture, "word")
        let reserved = try XCTUnwrap(fixture["min_freq_2_reserved"] as? [String: Any])
        let vocab = Vocab(tokens: tokens, minFreq: reserved["min_freq"] as? Int ?? -1,
                          reservedTokens: reserved["reserved_tokens"] as? [String] ?? [])
        checkVocab(vocab, against: reserved, "word, min_freq 2, reserved")
        // The book's section 8.2 output.
        XCTAssertEqual(Array(Vocab(tokens: tokens).idxToToken.prefix(6)), ["<unk>", "the", "i", "and", "of", "a"])
    }

    func testSmallCasesMatchPython() throws {
        let cases = try XCTUnwrap(try textFixture("vocab-small.json")["cases"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 5)
        for (n, c) in cases.enumerated() {
            let minFreq = c["min_freq"] as? Int ?? -1
            let reserved = c["reserved_tokens"] as? [String] ?? []
            let vocab: Vocab
            if let lines = c["tokens"] as? [[String]] {
                vocab = Vocab(tokens: lines, minFreq: minFreq, reservedTokens: reserved)
            } else {
                vocab = Vocab(tokens: c["tokens"] as? [String] ?? [], minFreq: minFreq, reservedTokens: reserved)
            }
            XCTAssertEqual(vocab.idxToToken, c["idx_to_token"] as? [String], "case \(n)")
            let freqs = (c["token_freqs"] as? [[Any]] ?? []).map { ($0[0] as? String ?? "", $0[1] as? Int ?? -1) }
            XCTAssertEqual(vocab.tokenFrequencies.map(\.0), freqs.map(\.0), "case \(n)")
            XCTAssertEqual(vocab.tokenFrequencies.map(\.1), freqs.map(\.1), "case \(n)")
            // countCorpus is the book's count_corpus, sorted as token_freqs.
            let counted = (c["tokens"] as? [[String]]).map { countCorpus($0) } ?? countCorpus(c["tokens"] as? [String] ?? [])
            XCTAssertEqual(counted.map(\.0), freqs.map(\.0), "case \(n): countCorpus")
            XCTAssertEqual(counted.map(\.1), freqs.map(\.1), "case \(n): countCorpus")
            for (token, index) in c["lookup"] as? [String: Int] ?? [:] {
                XCTAssertEqual(vocab[token], index, "case \(n): vocab[\(token)]")
            }
        }
    }

    func testUnknownTokensAndLookups() throws {
        let vocab = Vocab(tokens: [["t", "h", "e"], ["t", "i", "m", "e"]])
        XCTAssertEqual(vocab.unk, 0)
        XCTAssertEqual(vocab.idxToToken, ["<unk>", "t", "e", "h", "i", "m"])
        XCTAssertEqual(vocab["<unk>"], 0)
        XCTAssertEqual(vocab["z"], 0)
        XCTAssertEqual(vocab["T"], 0, "case-sensitive")
        XCTAssertFalse(vocab.contains("z"))
        XCTAssertTrue(vocab.contains("m"))
        XCTAssertEqual(vocab.indices(of: ["t", "i", "z", "e"]), [1, 4, 0, 2])
        XCTAssertEqual(try vocab.token(at: 3), "h")
        XCTAssertEqual(try vocab.tokens(at: [1, 3, 2, 0]), ["t", "h", "e", "<unk>"])
        assertTextError(.invalidArgument, containing: ["index 6", "0..<6"]) { _ = try vocab.token(at: 6) }
        assertTextError(.invalidArgument, containing: ["index -1"]) { _ = try vocab.tokens(at: [1, -1]) }
        // Python compares code points: "é" and "e" + combining acute are different tokens.
        let accents = Vocab(tokens: ["\u{E9}", "e\u{301}", "e\u{301}"])
        XCTAssertEqual(accents.count, 3)
        XCTAssertEqual(accents["e\u{301}"], 1)
        XCTAssertEqual(accents["\u{E9}"], 2)
    }

    func testJSONRoundTrip() throws {
        let tokens = ["<unk>", "<pad>", " ", "\"quoted\"", "back\\slash", "new\nline", "tab\t", "\u{1}", "\u{7F}",
                      "caf\u{E9}", "e\u{301}", "日本", "🙂", "/"]
        let vocab = try Vocab(idxToToken: tokens)
        let json = vocab.json()
        XCTAssertTrue(json.hasPrefix("[\"<unk>\",\"<pad>\",\" \",\"\\\"quoted\\\"\",\"back\\\\slash\",\"new\\nline\""), json)
        XCTAssertTrue(json.contains("\"\\u0001\""), json)
        let restored = try Vocab(json: json)
        XCTAssertEqual(restored, vocab)
        XCTAssertEqual(restored.idxToToken.map { Array($0.unicodeScalars) }, tokens.map { Array($0.unicodeScalars) })
        XCTAssertEqual(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String], tokens)
        XCTAssertEqual(restored["🙂"], 12)
        XCTAssertTrue(restored.tokenFrequencies.isEmpty)

        let built = Vocab(tokens: [["b", "a", "b"]], reservedTokens: ["<pad>"])
        XCTAssertEqual(built.json(), "[\"<unk>\",\"<pad>\",\"b\",\"a\"]")
        let back = try Vocab(json: built.json())
        XCTAssertEqual(back, built)
        XCTAssertEqual(back.indices(of: ["a", "b", "<pad>", "?"]), built.indices(of: ["a", "b", "<pad>", "?"]))

        assertTextError(.invalidData, containing: ["empty"]) { _ = try Vocab(idxToToken: []) }
        assertTextError(.invalidData, containing: ["index 0 is 'the'", "<unk>"]) { _ = try Vocab(idxToToken: ["the", "<unk>"]) }
        assertTextError(.invalidData, containing: ["JSON array of strings"]) { _ = try Vocab(json: "{\"a\": 1}") }
        assertTextError(.invalidData, containing: ["JSON array of strings"]) { _ = try Vocab(json: "[\"<unk>\", 3]") }
    }
}
