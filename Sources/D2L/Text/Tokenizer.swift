/// What `tokenize` splits a line into (the book's `token='word'` / `token='char'`).
public enum TokenKind: String, Sendable, CaseIterable {
    /// Words: the line split on runs of whitespace (Python's `line.split()`).
    case word
    /// Characters: one token per Unicode scalar (Python's `list(line)`, which iterates
    /// code points, not grapheme clusters: "e\u{301}" gives two tokens).
    case char
}

/// The book's `tokenize(lines, token)`: splits each line into word or character tokens.
///
/// - `.word`: Python's `str.split()` with no argument: runs of whitespace separate tokens,
///   and leading or trailing whitespace gives no empty tokens (an empty or all-space line
///   gives `[]`). Whitespace is Unicode's `White_Space` property plus U+001C…U+001F, which
///   is what Python's `str.isspace` accepts.
/// - `.char`: every Unicode scalar of the line, spaces included (`list(line)`).
///
/// Lines from `readTimeMachine` hold only `a`–`z` and single spaces, where both rules are
/// the obvious ones.
public func tokenize(_ lines: [String], token: TokenKind = .word) -> [[String]] {
    switch token {
    case .word: return lines.map(splitWords)
    case .char: return lines.map { line in line.unicodeScalars.map { String(Character($0)) } }
    }
}

/// Whether Python's `str.split()` treats `scalar` as whitespace.
@inline(__always)
func isPythonWhitespace(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.value {
    case 0x20, 0x09...0x0D, 0x1C...0x1F: return true
    case 0..<0x80: return false
    default: return scalar.properties.isWhitespace
    }
}

/// `line.split()`.
func splitWords(_ line: String) -> [String] {
    var words: [String] = []
    var current = String.UnicodeScalarView()
    for scalar in line.unicodeScalars {
        if isPythonWhitespace(scalar) {
            if !current.isEmpty {
                words.append(String(current))
                current = String.UnicodeScalarView()
            }
        } else {
            current.append(scalar)
        }
    }
    if !current.isEmpty { words.append(String(current)) }
    return words
}
