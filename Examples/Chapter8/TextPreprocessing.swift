import D2L

/// 8.2 Text Preprocessing: *The Time Machine* read into lines, tokenized into words and
/// characters, a vocabulary, and the corpus as indices (`load_corpus_time_machine`).
enum TextPreprocessing {
    static let section = BookSection(name: "text-preprocessing", number: "8.2", title: "Text Preprocessing", run: run)

    static func run(_ book: BookContext) throws {
        // Reading the data set: lines of lower-case letters and spaces.
        let lines = try readTimeMachine(path: book.timeMachinePath)
        print("# text lines: \(lines.count)")
        print(lines[0])
        print(lines[10])

        // Tokenization: each line split into words.
        let tokens = tokenize(lines)
        for i in 0..<11 { print(pythonList(tokens[i])) }

        // Vocabulary: tokens indexed by frequency, <unk> first.
        let vocab = Vocab(tokens: tokens)
        print(pythonPairs(vocab.idxToToken.prefix(10).enumerated().map { ($0.element, $0.offset) }))
        for i in [0, 10] {
            print("words:", pythonList(tokens[i]))
            print("indices:", vocab.indices(of: tokens[i]))
        }

        // Putting it all together: character tokens, the whole book.
        let (corpus, charVocab) = try loadCorpusTimeMachine(path: book.timeMachinePath)
        print("(\(corpus.count), \(charVocab.count))")
        book.check(charVocab.count == 28, "the character vocabulary has 26 letters, space and <unk>")
        book.check(corpus.allSatisfy { $0 > 0 && $0 < charVocab.count }, "every character of the book is in the vocabulary")
    }
}
