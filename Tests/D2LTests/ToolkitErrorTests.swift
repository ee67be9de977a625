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

    func testDetailsArePrintableLinesBelowTheMessage() {
        let error = ToolkitError(.shape, "3 keys differ", details: "missing keys: a, b\n\n  unexpected keys: 'c\u{1B}[2J'\n")
        XCTAssertEqual(ToolkitError.line(for: error), "3 keys differ", "the details are not in the line")
        XCTAssertEqual(ToolkitError.detailLines(for: error), ["missing keys: a, b", "unexpected keys: 'c?[2J'"])
        XCTAssertEqual(ToolkitError.detailLines(for: ToolkitError(.io, "plain")), [])
    }

    func testCountedNouns() {
        XCTAssertEqual(counted(1, "epoch"), "1 epoch")
        XCTAssertEqual(counted(0, "epoch"), "0 epochs")
        XCTAssertEqual(counted(2, "example"), "2 examples")
        XCTAssertEqual(counted(1, "batch", "batches"), "1 batch")
        XCTAssertEqual(counted(12, "batch", "batches"), "12 batches")
        XCTAssertEqual(counted(-1, "class", "classes"), "-1 classes")
    }
}
