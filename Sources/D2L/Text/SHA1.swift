/// SHA-1 (FIPS 180-4), for checking downloaded data files against the digests the book
/// publishes (`d2l.DATA_HUB`). Not for security: SHA-1 is broken for collision resistance;
/// here it only detects truncated or wrong files. (CryptoKit does not exist on Linux.)
///
/// ```swift
/// var sha = SHA1()
/// sha.update(bytes)
/// let hex = sha.hexDigest()         // or SHA1.hexDigest(of: bytes)
/// ```
public struct SHA1: Sendable {
    private var h: (UInt32, UInt32, UInt32, UInt32, UInt32) =
        (0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0)
    /// Bytes not yet compressed (fewer than 64).
    private var pending: [UInt8] = []
    /// The number of bytes hashed so far.
    private var length: UInt64 = 0

    public init() { pending.reserveCapacity(64) }

    /// Hashes more bytes.
    public mutating func update<S: Sequence>(_ bytes: S) where S.Element == UInt8 {
        for byte in bytes {
            pending.append(byte)
            length &+= 1
            if pending.count == 64 {
                compress(pending)
                pending.removeAll(keepingCapacity: true)
            }
        }
    }

    /// Hashes the UTF-8 bytes of `text`.
    public mutating func update(text: String) { update(text.utf8) }

    /// The 20-byte digest of everything hashed so far (the hasher itself is unchanged).
    public func digest() -> [UInt8] {
        var copy = self
        let bitLength = length &* 8
        var tail = pending
        tail.append(0x80)
        while tail.count % 64 != 56 { tail.append(0) }
        for shift in stride(from: 56, through: 0, by: -8) { tail.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift))) }
        for start in stride(from: 0, to: tail.count, by: 64) { copy.compress(tail[start..<start + 64]) }
        var out: [UInt8] = []
        out.reserveCapacity(20)
        for word in [copy.h.0, copy.h.1, copy.h.2, copy.h.3, copy.h.4] {
            for shift in stride(from: 24, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: word >> UInt32(shift))) }
        }
        return out
    }

    /// The digest as 40 lowercase hexadecimal digits (as Python's `hexdigest()`).
    public func hexDigest() -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in digest() {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The hexadecimal SHA-1 of `bytes`.
    public static func hexDigest<S: Sequence>(of bytes: S) -> String where S.Element == UInt8 {
        var sha = SHA1()
        sha.update(bytes)
        return sha.hexDigest()
    }

    /// The hexadecimal SHA-1 of the UTF-8 bytes of `text`.
    public static func hexDigest(text: String) -> String { hexDigest(of: text.utf8) }

    private mutating func compress<C: Collection>(_ block: C) where C.Element == UInt8, C.Index == Int {
        var w = [UInt32](repeating: 0, count: 80)
        let base = block.startIndex
        for i in 0..<16 {
            w[i] = UInt32(block[base + 4 * i]) << 24 | UInt32(block[base + 4 * i + 1]) << 16
                | UInt32(block[base + 4 * i + 2]) << 8 | UInt32(block[base + 4 * i + 3])
        }
        for i in 16..<80 {
            let x = w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]
            w[i] = x << 1 | x >> 31
        }
        var (a, b, c, d, e) = h
        for i in 0..<80 {
            let f: UInt32, k: UInt32
            switch i {
            case 0..<20: f = (b & c) | (~b & d); k = 0x5A82_7999
            case 20..<40: f = b ^ c ^ d; k = 0x6ED9_EBA1
            case 40..<60: f = (b & c) | (b & d) | (c & d); k = 0x8F1B_BCDC
            default: f = b ^ c ^ d; k = 0xCA62_C1D6
            }
            let t = (a << 5 | a >> 27) &+ f &+ e &+ k &+ w[i]
            e = d
            d = c
            c = b << 30 | b >> 2
            b = a
            a = t
        }
        h = (h.0 &+ a, h.1 &+ b, h.2 &+ c, h.3 &+ d, h.4 &+ e)
    }
}
