import D2L

/// 2.2 Data Preprocessing: the book's tiny house CSV written and read back, missing
/// numbers filled with their column's mean (`fillna(inputs.mean())`), the categorical
/// column one-hot encoded with a column for missing values (`get_dummies(dummy_na=True)`),
/// and the result as tensors.
enum DataPreprocessing {
    static let section = BookSection(name: "data-preprocessing", number: "2.2", title: "Data Preprocessing", run: run)

    static func run(_ book: BookContext) throws {
        // Reading the dataset: write house_tiny.csv (NA marks a missing value), then load it.
        let dataFile = try book.outputPath("house_tiny.csv")
        try AtomicFile.write(text: """
            NumRooms,Alley,Price
            NA,Pave,127500
            2,NA,106000
            4,NA,178100
            NA,NA,140000

            """, to: dataFile)
        let data = try CSVTable.load(path: dataFile)
        print(data.columns.joined(separator: ","))
        for row in data.rows { print(row.map { $0 ?? "NaN" }.joined(separator: ",")) }
        book.check(data.columns == ["NumRooms", "Alley", "Price"] && data.rows.count == 4, "the table has 3 columns and 4 rows")

        // Handling missing data: inputs are the first two columns, outputs the last.
        let inputs = try data.selecting(columnIndices: 0..<2)
        let outputs = try data.selecting(columnIndices: [2])
        // fillna with the mean of the numeric column: NumRooms' NA become (2 + 4) / 2 = 3.
        let numRooms = try inputs.selecting(columns: ["NumRooms"]).numericMatrix(fillingMissing: true)
        print("NumRooms after fillna(mean) = \(numRooms.values.map { formatNumber($0, decimals: 1) }.joined(separator: ", "))")
        book.check(numRooms.values == [3, 2, 4, 3], "missing NumRooms become the mean, 3")
        // get_dummies(dummy_na=True): Alley becomes Alley_Pave and Alley_nan.
        let encoded = try inputs.numericMatrix(fillingMissing: true, oneHotCategoricals: true)
        print(encoded.columns.joined(separator: ","))
        book.check(encoded.columns == ["NumRooms", "Alley_Pave", "Alley_nan"], "the columns are NumRooms, Alley_Pave, Alley_nan")

        // Conversion to the tensor format.
        let X = Tensor(encoded.values, shape: [data.rows.count, encoded.columns.count])
        let y = Tensor(try outputs.numericMatrix().values)
        book.show("X", X, decimals: 1)
        book.show("y", y, decimals: 0)
        book.check(X.sum(axis: 1).scalars == [4, 3, 5, 4], "each row has its NumRooms and exactly one Alley indicator")
    }
}
