/// Quoting text copied from a file (a node or tensor name, an operator type, a metadata
/// value, a pickle global, a zip entry, a CSV cell) for an error message, so that what a
/// file holds can neither break the message's line, drive the terminal (ANSI escapes),
/// nor flood the message: the one quoting helper of the runtime and the toolkit.
///
/// The result is `'text'`: printable characters as they are; `\n`, `\r`, `\t`, `\\` and
/// `\'` escaped; other control characters (C0, DEL, C1), line and paragraph separators and
/// bidirectional controls as `\xNN` or `\u{NNNN}`; bytes that are not UTF-8 as `\xNN`.
/// At most ``quotedTextLimit`` characters of the quote are shown (an escape is never cut,
/// nor a multi-byte character split); past that it ends in `…'` followed by the whole
/// text's length, e.g. `'conv1…' (1012 bytes)`. No Foundation, no trap: Embedded Swift.

/// The most characters a quote shows between its quote marks (escapes count as written).
public let quotedTextLimit = 80

/// `text` quoted for a message (see the file's header).
public func quoted(_ text: String) -> String {
    quoted(bytes: text.utf8)
}

/// `bytes` (meant to be UTF-8, but any bytes) quoted for a message (see the file's header).
public func quoted<Bytes: Sequence>(bytes: Bytes) -> String where Bytes.Element == UInt8 {
    var writer = QuoteWriter()
    var decoder = QuoteUTF8Decoder()
    for byte in bytes {
        writer.totalBytes += 1
        if writer.full { continue }
        for piece in decoder.feed(byte) { writer.append(piece) }
    }
    if !writer.full { for piece in decoder.finish() { writer.append(piece) } }
    return writer.result()
}

/// One decoded unit of the quoted bytes: a Unicode scalar, or a byte that is not part of
/// valid UTF-8.
private enum QuotePiece {
    case scalar(UInt32)
    case invalid(UInt8)
}

/// A UTF-8 decoder that never fails: a byte that cannot begin or continue a well-formed
/// sequence (overlong forms, surrogates and values past U+10FFFF included) comes out as
/// `.invalid`, and decoding resumes at the next byte.
private struct QuoteUTF8Decoder {
    /// The bytes of the sequence being read.
    private var pending: [UInt8] = []
    /// How many bytes the sequence being read has in all.
    private var needed = 0

    /// The pieces completed by `byte` (none while a sequence is incomplete).
    mutating func feed(_ byte: UInt8) -> [QuotePiece] {
        var out: [QuotePiece] = []
        if needed > 0 {
            if continues(byte) {
                pending.append(byte)
                if pending.count == needed {
                    out.append(.scalar(scalarValue()))
                    pending.removeAll(keepingCapacity: true)
                    needed = 0
                }
                return out
            }
            // A broken sequence: its bytes are invalid, and `byte` starts afresh.
            out.append(contentsOf: finish())
        }
        switch byte {
        case 0x00...0x7F: out.append(.scalar(UInt32(byte)))
        case 0xC2...0xDF: pending = [byte]; needed = 2
        case 0xE0...0xEF: pending = [byte]; needed = 3
        case 0xF0...0xF4: pending = [byte]; needed = 4
        default: out.append(.invalid(byte))
        }
        return out
    }

    /// The bytes of an unfinished sequence, as invalid pieces.
    mutating func finish() -> [QuotePiece] {
        let out = pending.map { QuotePiece.invalid($0) }
        pending.removeAll(keepingCapacity: true)
        needed = 0
        return out
    }

    /// Whether `byte` may come next in the sequence in `pending` (the second byte's range
    /// excludes overlong forms, surrogates and values past U+10FFFF).
    private func continues(_ byte: UInt8) -> Bool {
        guard let lead = pending.first else { return false }
        if pending.count == 1 {
            switch lead {
            case 0xE0: return byte >= 0xA0 && byte <= 0xBF
            case 0xED: return byte >= 0x80 && byte <= 0x9F
            case 0xF0: return byte >= 0x90 && byte <= 0xBF
            case 0xF4: return byte >= 0x80 && byte <= 0x8F
            default: break
            }
        }
        return byte >= 0x80 && byte <= 0xBF
    }

    /// The scalar of the complete sequence in `pending`.
    private func scalarValue() -> UInt32 {
        guard let lead = pending.first else { return 0 }
        let leadBits: UInt32
        switch pending.count {
        case 2: leadBits = UInt32(lead & 0x1F)
        case 3: leadBits = UInt32(lead & 0x0F)
        default: leadBits = UInt32(lead & 0x07)
        }
        var value = leadBits
        for byte in pending.dropFirst() { value = value << 6 | UInt32(byte & 0x3F) }
        return value
    }
}

/// The quote being written: UTF-8 bytes, how many characters they show, and whether the
/// limit was reached.
private struct QuoteWriter {
    private var out: [UInt8] = [UInt8(ascii: "'")]
    private var shown = 0
    private(set) var full = false
    /// The length of the whole quoted text, in bytes.
    var totalBytes = 0

    mutating func append(_ piece: QuotePiece) {
        if full { return }
        var text: [UInt8] = []
        var width = 1
        switch piece {
        case .invalid(let byte):
            text = hexEscape(byte)
            width = text.count
        case .scalar(let value):
            switch value {
            case 0x0A: text = Array("\\n".utf8)
            case 0x0D: text = Array("\\r".utf8)
            case 0x09: text = Array("\\t".utf8)
            case 0x5C: text = Array("\\\\".utf8)
            case 0x27: text = Array("\\'".utf8)
            case 0x00...0x1F, 0x7F: text = hexEscape(UInt8(truncatingIfNeeded: value))
            case 0x80...0x9F, 0x2028, 0x2029, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069, 0xFEFF:
                text = unicodeEscape(value)
            default:
                appendUTF8(value, to: &text)
            }
            if text.count > 1 && text.first == UInt8(ascii: "\\") { width = text.count }
        }
        guard shown + width <= quotedTextLimit else {
            full = true
            return
        }
        out.append(contentsOf: text)
        shown += width
    }

    /// The finished quote: `'text'`, or `'text…' (N bytes)` when the limit was reached.
    func result() -> String {
        var bytes = out
        if full {
            bytes.append(contentsOf: Array("…' (".utf8))
            bytes.append(contentsOf: Array("\(totalBytes) bytes)".utf8))
        } else {
            bytes.append(UInt8(ascii: "'"))
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

private let quoteHexDigits: [UInt8] = Array("0123456789abcdef".utf8)

/// `\xNN`, two lowercase hex digits.
private func hexEscape(_ byte: UInt8) -> [UInt8] {
    [UInt8(ascii: "\\"), UInt8(ascii: "x"), quoteHexDigits[Int(byte >> 4)], quoteHexDigits[Int(byte & 0x0F)]]
}

/// `\u{N…}`, lowercase hex digits without leading zeros.
private func unicodeEscape(_ value: UInt32) -> [UInt8] {
    var digits: [UInt8] = []
    var v = value
    repeat {
        digits.append(quoteHexDigits[Int(v & 0x0F)])
        v >>= 4
    } while v > 0
    return Array("\\u{".utf8) + digits.reversed() + [UInt8(ascii: "}")]
}

/// `text` as it is when it is a plain name (1 to ``quotedTextLimit`` ASCII letters,
/// digits, `_`, `.`, `-` or `:`, as operator types are), else ``quoted(_:)``: for
/// words a message shows bare, such as the operator type in `Conv node 'conv1'`.
public func quotedUnlessPlain(_ text: String) -> String {
    var count = 0
    for byte in text.utf8 {
        count += 1
        let plain = (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
            || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ":")
        if !plain || count > quotedTextLimit { return quoted(text) }
    }
    return count == 0 ? quoted(text) : text
}
