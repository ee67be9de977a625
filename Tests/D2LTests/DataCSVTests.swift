import Foundation
import XCTest
@testable import D2L

final class DataCSVTests: XCTestCase {
    /// The book's `house_tiny.csv` (section 2.2).
    let houseTiny = "NumRooms,Alley,Price\nNA,Pave,127500\n2,NA,106000\n4,NA,178100\nNA,NA,140000\n"

    func testBooksExample() throws {
        let dir = try makeDataTestDirectory(self)
        let path = dir + "/house_tiny.csv"
        try houseTiny.write(toFile: path, atomically: true, encoding: .utf8)
        let data = try CSVTable.load(path: path)
        XCTAssertEqual(data.columns, ["NumRooms", "Alley", "Price"])
        XCTAssertEqual(data.rows.count, 4)
        XCTAssertEqual(data.rows[0], [nil, "Pave", "127500"])
        XCTAssertEqual(data.rows[3], [nil, nil, "140000"])

        // inputs, targets = data.iloc[:, 0:2], data.iloc[:, 2]
        let inputs = try data.selecting(columnIndices: 0..<2)
        let targets = try data.selecting(columnIndices: [2])
        let x = try inputs.numericMatrix(fillingMissing: true, oneHotCategoricals: true)
        XCTAssertEqual(x.columns, ["NumRooms", "Alley_Pave", "Alley_nan"])
        XCTAssertEqual(x.values, [
            3, 1, 0,
            2, 0, 1,
            4, 0, 1,
            3, 0, 1,
        ])
        let y = try targets.numericMatrix()
        XCTAssertEqual(y.columns, ["Price"])
        XCTAssertEqual(y.values, [127500, 106000, 178100, 140000])
        XCTAssertEqual(try data.selecting(columns: ["Price", "NumRooms"]).columns, ["Price", "NumRooms"])
        XCTAssertEqual(try data.column(named: "Alley"), ["Pave", nil, nil, nil])
    }

    func testNumericColumnsFirstCategoriesSortedNanLast() throws {
        let table = try CSVTable(parsing: "Kind,Size,Colour\nb,1.5,red\na,,\"dark, blue\"\nb,2.5,red\n")
        let result = try table.numericMatrix()
        XCTAssertEqual(result.columns, ["Size", "Kind_a", "Kind_b", "Kind_nan", "Colour_dark, blue", "Colour_red", "Colour_nan"])
        XCTAssertEqual(result.values, [
            1.5, 0, 1, 0, 0, 1, 0,
            2.0, 1, 0, 0, 1, 0, 0,
            2.5, 0, 1, 0, 0, 1, 0,
        ])
        let unfilled = try table.selecting(columns: ["Size"]).numericMatrix(fillingMissing: false)
        XCTAssertTrue(unfilled.values[1].isNaN)
        assertDataToolkitError(.invalidData, containing: ["'Kind'", "not numeric", "'b'"]) {
            _ = try table.numericMatrix(oneHotCategoricals: false)
        }
    }

    func testParsingDetails() throws {
        let table = try CSVTable(parsing: "a,b\r\n\"x \"\"q\"\"\",\"line\nbreak\"\r\n\r\n1,n/a\r\n")
        XCTAssertEqual(table.rows.count, 2)
        XCTAssertEqual(table.rows[0], ["x \"q\"", "line\nbreak"])
        XCTAssertEqual(table.rows[1], ["1", nil])
        XCTAssertTrue(table.isNumeric(column: 0) == false)
        XCTAssertTrue(table.isNumeric(column: 1) == false)
        let noFinalNewline = try CSVTable(parsing: "a,b\n1,2")
        XCTAssertEqual(noFinalNewline.rows, [["1", "2"]])
    }

    func testErrors() throws {
        assertDataToolkitError(.invalidData, containing: ["line 3", "2 fields", "the header has 3"]) {
            _ = try CSVTable(parsing: "a,b,c\n1,2,3\n4,5\n")
        }
        assertDataToolkitError(.invalidData, containing: ["not closed"]) { _ = try CSVTable(parsing: "a\n\"open\n") }
        assertDataToolkitError(.invalidData, containing: ["no header"]) { _ = try CSVTable(parsing: "") }
        assertDataToolkitError(.io, containing: ["/nonexistent/x.csv"]) { _ = try CSVTable.load(path: "/nonexistent/x.csv") }
        let table = try CSVTable(parsing: "a,b\nNA,x\n")
        assertDataToolkitError(.invalidArgument, containing: ["no column 'z'", "the columns are 'a', 'b'"]) {
            _ = try table.selecting(columns: ["z"])
        }
        assertDataToolkitError(.invalidArgument, containing: ["index 5"]) { _ = try table.selecting(columnIndices: [5]) }
        assertDataToolkitError(.invalidData, containing: ["'a'", "no values"]) { _ = try table.numericMatrix() }
        assertDataToolkitError(.shape, containing: ["row 0", "1 fields"]) { _ = try CSVTable(columns: ["a", "b"], rows: [["1"]]) }
    }
}
