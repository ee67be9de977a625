import D2L

/// One section of the book as a program: its name on the command line
/// (`linear-regression-scratch`), its number in the book (`3.2`), its title, and the
/// function that runs it. Registered in one line in `BookSections.swift`.
struct BookSection {
    let name: String
    let number: String
    let title: String
    let run: (BookContext) throws -> Void
}
