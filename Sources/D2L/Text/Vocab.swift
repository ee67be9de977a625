import D2LRuntime
import Foundation

/// A token compared and hashed by its exact Unicode scalars, as Python compares `str`
/// (Swift's `String ==` identifies canonically equivalent strings, such as "é" and
/// "e\u{301}", which Python keeps apart).
struct ExactToken: Hashable {
    let text: String
    init(_ text: String) { self.text = text }
    static func == (a: ExactToken, b: ExactToken) -> Bool { a.text.utf8.elementsEqual(b.text.utf8) }
    func hash(into hasher: inout Hasher) {
        for byte in text.utf8 { hasher.combine(byte) }
        hasher.combine(0xFF as UInt8)  // never a UTF-8 byte: ends the token
    }
}

/// The book's `Vocab`: token ↔ index, built from token frequencies.
///
/// Indices are exactly the book's (d2l 0.17 `d2l/torch.py`):
/// - index 0 is `<unk>`, the index of every unknown token;
/// - then `reservedTokens`, in order;
/// - then the tokens by descending frequency, ties in the order the tokens first appear
///   (the book sorts `collections.Counter(tokens).items()`, which keeps first-seen order,
///   with the stable `sorted(..., key=lambda x: x[1], reverse=True)`), stopping at the
///   first token whose frequency is below `minFreq`; a token already present (`<unk>`
///   itself, or a reserved token that also occurs in the text) is not added again.
///
/// Tokens are compared exactly (by Unicode scalars), as Python compares strings.
/// Duplicates in `reservedTokens` stay in `idxToToken` as in the book, and a lookup gives
/// the last of their indices (the book's `token_to_idx` dict comprehension).
public struct Vocab: Sendable, Equatable {
    /// The index of `<unk>`, which unknown tokens map to.
    public let unk = 0
    /// The tokens in index order (`idx_to_token`); `idxToToken[0] == "<unk>"`.
    public let idxToToken: [String]
    /// The counted tokens with their frequencies, most frequent first, ties in first-seen
    /// order (`token_freqs`); includes the tokens that `minFreq` left out. Empty for a
    /// vocabulary restored with `init(idxToToken:)`.
    public let tokenFrequencies: [(String, Int)]
    private let tokenToIdx: [ExactToken: Int]

    /// Builds the vocabulary of lines of tokens (`Vocab(tokens, min_freq, reserved_tokens)`
    /// with a 2-D token list, as `tokenize` returns).
    public init(tokens: [[String]], minFreq: Int = 0, reservedTokens: [String] = []) {
        self.init(counting: tokens.lazy.flatMap { $0 }, minFreq: minFreq, reservedTokens: reservedTokens)
    }

    /// Builds the vocabulary of a flat token list (the book's 1-D case).
    public init(tokens: [String], minFreq: Int = 0, reservedTokens: [String] = []) {
        self.init(counting: tokens, minFreq: minFreq, reservedTokens: reservedTokens)
    }

    private init<S: Sequence>(counting tokens: S, minFreq: Int, reservedTokens: [String]) where S.Element == String {
        let frequencies = countCorpus(tokens)
        var idxToToken = ["<unk>"] + reservedTokens
        var tokenToIdx: [ExactToken: Int] = [:]
        for (i, token) in idxToToken.enumerated() { tokenToIdx[ExactToken(token)] = i }  // later wins
        for (token, frequency) in frequencies {
            if frequency < minFreq { break }
            let key = ExactToken(token)
            if tokenToIdx[key] == nil {
                idxToToken.append(token)
                tokenToIdx[key] = idxToToken.count - 1
            }
        }
        self.idxToToken = idxToToken
        self.tokenToIdx = tokenToIdx
        self.tokenFrequencies = frequencies
    }

    /// Restores a vocabulary from its tokens in index order: a model's `d2l.vocab`
    /// metadata, or `json()`'s output decoded. A token listed twice maps to its last index,
    /// as the book's `token_to_idx` would.
    ///
    /// - Throws: `ToolkitError(.invalidData)` when the list is empty or does not start with `<unk>`.
    public init(idxToToken: [String]) throws {
        guard let first = idxToToken.first else {
            throw ToolkitError(.invalidData, "Vocab: the token list is empty (index 0 must be \"<unk>\")")
        }
        guard first == "<unk>" else {
            throw ToolkitError(.invalidData, "Vocab: index 0 is \(quoted(first)), expected \"<unk>\"")
        }
        var tokenToIdx: [ExactToken: Int] = [:]
        for (i, token) in idxToToken.enumerated() { tokenToIdx[ExactToken(token)] = i }
        self.idxToToken = idxToToken
        self.tokenToIdx = tokenToIdx
        self.tokenFrequencies = []
    }

    /// Restores a vocabulary from a JSON array of tokens (`json()`, `d2l.vocab`).
    ///
    /// - Throws: `ToolkitError(.invalidData)` when `json` is not a JSON array of strings, or
    ///   as `init(idxToToken:)`.
    public init(json: String) throws {
        let tokens: [String]
        do {
            tokens = try JSONDecoder().decode([String].self, from: Data(json.utf8))
        } catch {
            throw ToolkitError(.invalidData, "Vocab: not a JSON array of strings (\(error))")
        }
        try self.init(idxToToken: tokens)
    }

    /// The number of tokens, `<unk>` and reserved tokens included (`len(vocab)`).
    public var count: Int { idxToToken.count }

    /// The index of `token`, or 0 (`<unk>`) when it is not in the vocabulary (`vocab[token]`).
    public subscript(token: String) -> Int { tokenToIdx[ExactToken(token)] ?? unk }

    /// Whether `token` has an index of its own.
    public func contains(_ token: String) -> Bool { tokenToIdx[ExactToken(token)] != nil }

    /// The indices of `tokens` (`vocab[list]`), unknown tokens as 0.
    public func indices(of tokens: [String]) -> [Int] { tokens.map { self[$0] } }

    /// The token at `index` (`to_tokens(index)`).
    /// - Throws: `ToolkitError(.invalidArgument)` when `index` is outside `0..<count`.
    public func token(at index: Int) throws -> String {
        guard idxToToken.indices.contains(index) else {
            throw ToolkitError(.invalidArgument,
                               "Vocab: index \(index) is out of range 0..<\(idxToToken.count)")
        }
        return idxToToken[index]
    }

    /// The tokens at `indices` (`to_tokens(list)`).
    /// - Throws: `ToolkitError(.invalidArgument)` naming the first index outside `0..<count`.
    public func tokens(at indices: [Int]) throws -> [String] { try indices.map { try token(at: $0) } }

    /// The tokens in index order as a JSON array: the value of a model's `d2l.vocab`
    /// metadata. Compact (no spaces); `"`, `\` and control characters escaped, everything
    /// else written as UTF-8.
    public func json() -> String {
        "[" + idxToToken.map(jsonStringLiteral).joined(separator: ",") + "]"
    }

    /// Two vocabularies are equal when they have the same tokens in the same order (exactly,
    /// by Unicode scalars); frequencies are not compared.
    public static func == (a: Vocab, b: Vocab) -> Bool {
        a.idxToToken.count == b.idxToToken.count
            && zip(a.idxToToken, b.idxToToken).allSatisfy { ExactToken($0) == ExactToken($1) }
    }

}

/// The book's `count_corpus` sorted as `Vocab` sorts it: every distinct token with its
/// count, most frequent first, equal counts in first-seen order
/// (`sorted(collections.Counter(tokens).items(), key=lambda x: x[1], reverse=True)`;
/// `Vocab.tokenFrequencies`). Tokens compare by their exact characters (as Python's str).
public func countCorpus<S: Sequence>(_ tokens: S) -> [(String, Int)] where S.Element == String {
    var slot: [ExactToken: Int] = [:]
    var counted: [(String, Int)] = []
    for token in tokens {
        let key = ExactToken(token)
        if let i = slot[key] {
            counted[i].1 += 1
        } else {
            slot[key] = counted.count
            counted.append((token, 1))
        }
    }
    // sorted(..., key=freq, reverse=True) is stable: equal frequencies keep their order.
    return counted.enumerated()
        .sorted { $0.element.1 != $1.element.1 ? $0.element.1 > $1.element.1 : $0.offset < $1.offset }
        .map(\.element)
}

/// `countCorpus` of lines of tokens (the book's 2-D case, flattened).
public func countCorpus(_ lines: [[String]]) -> [(String, Int)] { countCorpus(lines.lazy.flatMap { $0 }) }
