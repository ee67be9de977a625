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
            var reader = Reader(bytes: bytes)
            return reader.array()
        }
    }

    private struct Reader {
        let bytes: UnsafeBufferPointer<UInt8>
        var i = 0

        init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

        mutating func skipSpace() {
            while i < bytes.count {
                let b = bytes[i]
                guard b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D else { return }
                i += 1
            }
        }

        mutating func array() -> [String]? {
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
