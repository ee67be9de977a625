import XCTest
@testable import D2LRuntime

/// `quoted(_:)`: text copied from files, made safe for a one-line message.
final class QuotedTextTests: XCTestCase {
    func testPlainTextIsQuotedAsIs() {
        XCTAssertEqual(quoted("conv1.weight"), "'conv1.weight'")
        XCTAssertEqual(quoted(""), "''")
        XCTAssertEqual(quoted("héllo ✓"), "'héllo ✓'")
    }

    func testControlCharactersAreEscaped() {
        XCTAssertEqual(quoted("a\nb\rc\td"), "'a\\nb\\rc\\td'")
        XCTAssertEqual(quoted("\u{1b}[31mred"), "'\\x1b[31mred'")
        XCTAssertEqual(quoted("\u{0}\u{7f}"), "'\\x00\\x7f'")
        XCTAssertEqual(quoted("back\\slash 'q'"), "'back\\\\slash \\'q\\''")
        // C1 controls (U+009B is a terminal's CSI), line separators and bidi overrides.
        XCTAssertEqual(quoted("\u{9b}31m\u{2028}\u{202e}"), "'\\u{9b}31m\\u{2028}\\u{202e}'")
    }

    func testInvalidUTF8BytesAreHexEscaped() {
        XCTAssertEqual(quoted(bytes: [0x61, 0xff, 0x62]), "'a\\xffb'")
        XCTAssertEqual(quoted(bytes: [0xc3]), "'\\xc3'")                 // cut-off sequence
        XCTAssertEqual(quoted(bytes: [0xc3, 0x41]), "'\\xc3A'")          // broken sequence
        XCTAssertEqual(quoted(bytes: [0xc0, 0xaf]), "'\\xc0\\xaf'")      // overlong '/'
        XCTAssertEqual(quoted(bytes: [0xed, 0xa0, 0x80]), "'\\xed\\xa0\\x80'")  // a surrogate
        XCTAssertEqual(quoted(bytes: [0xc3, 0xa9]), "'é'")
        XCTAssertEqual(quoted(bytes: [0xf0, 0x9f, 0x98, 0x80]), "'😀'")
    }

    func testLongTextIsCutAtTheLimitWithItsLength() {
        let long = String(repeating: "x", count: 1000)
        let q = quoted(long)
        XCTAssertEqual(q, "'" + String(repeating: "x", count: quotedTextLimit) + "…' (1000 bytes)")
        // Exactly the limit: shown whole.
        let exact = String(repeating: "y", count: quotedTextLimit)
        XCTAssertEqual(quoted(exact), "'\(exact)'")
    }

    func testMultiByteCharactersAndEscapesAreNeverSplit() {
        // 79 ASCII characters, then a 2-byte character: 80 characters fit.
        let text = String(repeating: "a", count: 79) + "éé"
        XCTAssertEqual(quoted(text), "'" + String(repeating: "a", count: 79) + "é…' (83 bytes)")
        // An escape that would cross the limit is left out whole.
        let escaped = String(repeating: "b", count: 78) + "\u{1b}"
        XCTAssertEqual(quoted(escaped), "'" + String(repeating: "b", count: 78) + "…' (79 bytes)")
        // Binary: every shown piece is a whole \xNN.
        let binary = quoted(bytes: [UInt8](repeating: 0x80, count: 1200))
        XCTAssertEqual(binary, "'" + String(repeating: "\\x80", count: 20) + "…' (1200 bytes)")
        XCTAssertFalse(binary.contains("\n"))
    }

    func testPlainNamesStayBare() {
        XCTAssertEqual(quotedUnlessPlain("Conv"), "Conv")
        XCTAssertEqual(quotedUnlessPlain("com.example:Op-1_x"), "com.example:Op-1_x")
        XCTAssertEqual(quotedUnlessPlain(""), "''")
        XCTAssertEqual(quotedUnlessPlain("Relu\n"), "'Relu\\n'")
        XCTAssertEqual(quotedUnlessPlain("has space"), "'has space'")
    }
}
