/// The token vocabulary of a language model (`d2l.vocab`: a JSON array of tokens, index
/// 0 being `<unk>`) and how text splits into tokens (`d2l.task`: `word-lm` splits on
/// spaces and joins with single spaces; anything else, `char-lm` or absent, uses
/// Unicode scalars). Unknown characters or words map to index 0, as the book does.
public struct Vocabulary {
    public let tokens: [String]
    public let words: Bool
    private let index: [[UInt8]: Int]

    public init(model: Model) throws(D2LError) {
        guard let text = model.metadata("d2l.vocab") else {
            throw .invalidModel("the model has no d2l.vocab metadata (a language model needs its vocabulary)")
        }
        guard let tokens = JSONStringArray.parse(text) else {
            throw .invalidModel("metadata d2l.vocab is not a JSON array of strings")
        }
        guard !tokens.isEmpty else { throw .invalidModel("metadata d2l.vocab is empty") }
        try self.init(tokens: tokens, words: model.metadata("d2l.task") == "word-lm")
    }

    public init(tokens: [String], words: Bool) throws(D2LError) {
        self.tokens = tokens
        self.words = words
        var index: [[UInt8]: Int] = [:]
        for (i, t) in tokens.enumerated() {
            let key = Array(t.utf8)
            if index[key] == nil { index[key] = i }  // the first of duplicates wins
        }
        self.index = index
    }

    public var count: Int { tokens.count }

    /// The token ids of `text` (unknown tokens are 0).
    public func encode(_ text: String) -> [Int] {
        var ids: [Int] = []
        if words {
            var word: [UInt8] = []
            for b in text.utf8 {
                if b == 0x20 {
                    if !word.isEmpty { ids.append(index[word] ?? 0); word.removeAll(keepingCapacity: true) }
                } else {
                    word.append(b)
                }
            }
            if !word.isEmpty { ids.append(index[word] ?? 0) }
        } else {
            var scalar: [UInt8] = []
            for s in text.unicodeScalars {
                scalar.removeAll(keepingCapacity: true)
                appendUTF8(s.value, to: &scalar)
                ids.append(index[scalar] ?? 0)
            }
        }
        return ids
    }

    /// The text of `ids` (characters concatenated, or words joined with single spaces).
    public func decode(_ ids: [Int]) -> String {
        var out = ""
        for (n, id) in ids.enumerated() {
            if words && n > 0 { out += " " }
            if id >= 0 && id < tokens.count { out += tokens[id] }
        }
        return out
    }
}
