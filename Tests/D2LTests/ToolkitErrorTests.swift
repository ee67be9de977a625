import XCTest
@testable import D2L

/// The one line both commands print for an error.
final class ToolkitErrorTests: XCTestCase {
    func testLineJoinsLinesAndHidesControlCharacters() {
        let error = ToolkitError(.invalidData, "bad key 'a\u{1B}[31mred'\nsecond line\r\n  third\u{0}")
        XCTAssertEqual(ToolkitError.line(for: error), "bad key 'a?[31mred'; second line; third?")
    }

    func testLineOfOtherErrorsIsTheirDescription() {
        struct Other: Error, CustomStringConvertible { var description: String { "other\tfailure" } }
        XCTAssertEqual(ToolkitError.line(for: Other()), "other?failure")
        XCTAssertEqual(ToolkitError.line(for: ToolkitError(.io, "plain")), "plain")
    }
}
