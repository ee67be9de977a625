import _D2LSystem

/// A tiny strict JSON reader for the one shape libd2l's metadata needs: an array of
/// strings (`d2l.vocab`, `d2l.labels`). Whitespace between tokens is allowed; every
/// escape of RFC 8259 is decoded, including `\uXXXX` and surrogate pairs. Anything else
/// (numbers, nested values, trailing commas, unpaired surrogates, raw control
/// characters, trailing text) is refused with nil.
package enum JSONStringArray {
    /// The strings of `text`, or nil when it is not exactly a JSON array of strings.
    package static func parse(_ text: String) -> [String]? {
        var copy = text
        return copy.withUTF8 { bytes -> [String]? in
            var reader = JSONReader(bytes: bytes)
            return reader.stringArrayDocument()
        }
    }
}

/// The token reader under ``JSONStringArray`` and ``ImageInputSpec``: strict RFC 8259
/// strings, numbers and arrays over UTF-8 bytes, read from `i` on. Every method returns
/// nil (with `i` anywhere) on malformed input; none traps.
struct JSONReader {
    let bytes: UnsafeBufferPointer<UInt8>
    var i = 0

    init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    /// Whether the next byte (after whitespace) is `byte`; consumes it when it is.
    mutating func take(_ byte: UInt8) -> Bool {
        skipSpace()
        guard i < bytes.count, bytes[i] == byte else { return false }
        i += 1
        return true
    }

    /// Whether only whitespace is left.
    mutating func atEnd() -> Bool {
        skipSpace()
        return i == bytes.count
    }

    /// A JSON number (`-1`, `0.5`, `1e-3`; no leading zeros, `+`, `.5`, NaN or
    /// infinities), converted by strtod (correctly rounded). A number too large for a
    /// double comes back as ±infinity: callers that need finite values check.
    mutating func number() -> Double? {
        skipSpace()
        let start = i
        func digits(_ r: inout JSONReader) -> Int {
            var n = 0
            while r.i < r.bytes.count, r.bytes[r.i] >= 0x30 && r.bytes[r.i] <= 0x39 { r.i += 1; n += 1 }
            return n
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: "-") { i += 1 }
        guard i < bytes.count else { return nil }
        if bytes[i] == UInt8(ascii: "0") {
            i += 1
        } else if digits(&self) == 0 {
            return nil
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            guard digits(&self) > 0 else { return nil }
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            i += 1
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            guard digits(&self) > 0 else { return nil }
        }
        // The token is at most the whole text; strtod needs it NUL-terminated.
        var token = [CChar](repeating: 0, count: i - start + 1)
        for k in start..<i { token[k - start] = CChar(bitPattern: bytes[k]) }
        return token.withUnsafeBufferPointer { p -> Double? in p.baseAddress.map { strtod($0, nil) } }
    }

    /// A JSON array of numbers, or nil when it holds anything else.
    mutating func numberArray() -> [Double]? {
        guard take(UInt8(ascii: "[")) else { return nil }
        var result: [Double] = []
        if take(UInt8(ascii: "]")) { return result }
        while true {
            guard let v = number() else { return nil }
            result.append(v)
            if take(UInt8(ascii: ",")) { continue }
            return take(UInt8(ascii: "]")) ? result : nil
        }
    }

    /// Skips one JSON value of any kind (objects and arrays nested at most 64 deep).
    /// Returns false when it is malformed.
    mutating func skipValue(depth: Int = 0) -> Bool {
        skipSpace()
        guard i < bytes.count, depth < 64 else { return false }
        switch bytes[i] {
        case UInt8(ascii: "\""):
            return string() != nil
        case UInt8(ascii: "["):
            i += 1
            if take(UInt8(ascii: "]")) { return true }
            while true {
                guard skipValue(depth: depth + 1) else { return false }
                if take(UInt8(ascii: ",")) { continue }
                return take(UInt8(ascii: "]"))
            }
        case UInt8(ascii: "{"):
            i += 1
            if take(UInt8(ascii: "}")) { return true }
            while true {
                skipSpace()
                guard string() != nil, take(UInt8(ascii: ":")), skipValue(depth: depth + 1) else { return false }
                if take(UInt8(ascii: ",")) { continue }
                return take(UInt8(ascii: "}"))
            }
        case UInt8(ascii: "t"): return literal("true")
        case UInt8(ascii: "f"): return literal("false")
        case UInt8(ascii: "n"): return literal("null")
        default:
            return number() != nil
        }
    }

    private mutating func literal(_ word: StaticString) -> Bool {
        let n = word.utf8CodeUnitCount
        guard bytes.count - i >= n else { return false }
        for k in 0..<n where bytes[i + k] != word.utf8Start[k] { return false }
        i += n
        return true
    }

    mutating func skipSpace() {
        while i < bytes.count {
            let b = bytes[i]
            guard b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D else { return }
            i += 1
        }
    }

    /// The whole text as an array of strings (nothing but whitespace after it).
    mutating func stringArrayDocument() -> [String]? {
        skipSpace()
        guard i < bytes.count, bytes[i] == UInt8(ascii: "[") else { return nil }
        i += 1
        var result: [String] = []
        skipSpace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "]") {
            i += 1
        } else {
            while true {
                skipSpace()
                guard let s = string() else { return nil }
                result.append(s)
                skipSpace()
                guard i < bytes.count else { return nil }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                if bytes[i] == UInt8(ascii: "]") { i += 1; break }
                return nil
            }
        }
        skipSpace()
        return i == bytes.count ? result : nil
    }

    mutating func hex4() -> UInt32? {
        guard bytes.count - i >= 4 else { return nil }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let b = bytes[i]
            let d: UInt32
            switch b {
            case 0x30...0x39: d = UInt32(b - 0x30)
            case 0x41...0x46: d = UInt32(b - 0x41 + 10)
            case 0x61...0x66: d = UInt32(b - 0x61 + 10)
            default: return nil
            }
            v = v << 4 | d
            i += 1
        }
        return v
    }

    mutating func string() -> String? {
        guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { return nil }
        i += 1
        var out: [UInt8] = []
        while true {
            guard i < bytes.count else { return nil }
            let b = bytes[i]
            i += 1
            if b == UInt8(ascii: "\"") { break }
            if b < 0x20 { return nil }
            if b != UInt8(ascii: "\\") { out.append(b); continue }
            guard i < bytes.count else { return nil }
            let e = bytes[i]
            i += 1
            switch e {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                guard var scalar = hex4() else { return nil }
                if scalar >= 0xD800 && scalar <= 0xDBFF {
                    guard bytes.count - i >= 6, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else { return nil }
                    i += 2
                    guard let low = hex4(), low >= 0xDC00 && low <= 0xDFFF else { return nil }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if scalar >= 0xDC00 && scalar <= 0xDFFF {
                    return nil
                }
                appendUTF8(scalar, to: &out)
            default: return nil
            }
        }
        // Raw bytes were copied unchanged; refuse invalid UTF-8 rather than repair it.
        guard validUTF8(out) else { return nil }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Appends the UTF-8 encoding of a Unicode scalar value (≤ 0x10FFFF, not a surrogate).
func appendUTF8(_ v: UInt32, to out: inout [UInt8]) {
    if v < 0x80 {
        out.append(UInt8(v))
    } else if v < 0x800 {
        out.append(UInt8(0xC0 | (v >> 6)))
        out.append(UInt8(0x80 | (v & 0x3F)))
    } else if v < 0x10000 {
        out.append(UInt8(0xE0 | (v >> 12)))
        out.append(UInt8(0x80 | ((v >> 6) & 0x3F)))
        out.append(UInt8(0x80 | (v & 0x3F)))
    } else {
        out.append(UInt8(0xF0 | ((v >> 18) & 0x07)))
        out.append(UInt8(0x80 | ((v >> 12) & 0x3F)))
        out.append(UInt8(0x80 | ((v >> 6) & 0x3F)))
        out.append(UInt8(0x80 | (v & 0x3F)))
    }
}

/// Whether `bytes` is well-formed UTF-8 (no overlongs, surrogates or values > 0x10FFFF).
func validUTF8(_ bytes: [UInt8]) -> Bool {
    var i = 0
    let n = bytes.count
    while i < n {
        let b = bytes[i]
        if b < 0x80 { i += 1; continue }
        var need = 0
        var v: UInt32 = 0
        var minimum: UInt32 = 0
        if b & 0xE0 == 0xC0 { need = 1; v = UInt32(b & 0x1F); minimum = 0x80 }
        else if b & 0xF0 == 0xE0 { need = 2; v = UInt32(b & 0x0F); minimum = 0x800 }
        else if b & 0xF8 == 0xF0 { need = 3; v = UInt32(b & 0x07); minimum = 0x10000 }
        else { return false }
        guard n - i > need else { return false }
        for k in 1...need {
            let c = bytes[i + k]
            guard c & 0xC0 == 0x80 else { return false }
            v = v << 6 | UInt32(c & 0x3F)
        }
        guard v >= minimum, v <= 0x10FFFF, !(v >= 0xD800 && v <= 0xDFFF) else { return false }
        i += need + 1
    }
    return true
}
