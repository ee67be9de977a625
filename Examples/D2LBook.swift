import ArgumentParser
import D2L
import Foundation

/// `d2l-book`: the book's sections as programs. `d2l-book list` names them;
/// `d2l-book SECTION [--quick]` runs one and prints what the book's notebook prints,
/// writing its figures under `--out`. A failed check (an estimate too far from the
/// truth, a loss that did not fall) fails the run with exit status 1.
@main
struct D2LBook: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "d2l-book",
        abstract: "Run a section of Dive into Deep Learning with the d2l toolkit.",
        discussion: """
            `d2l-book list` names every section with its number in the book; \
            `d2l-book all --quick` runs them all, as CI does. Each section's source is \
            Examples/ChapterN/<Name>.swift, readable top to bottom like the book's notebook.
            """,
        version: "d2l-book 0.1"
    )

    @Argument(help: "A section's name (see `d2l-book list`), `list`, or `all`.")
    var section: String

    @Flag(help: "A small subset of the data and few epochs: seconds per section (what CI runs).")
    var quick = false

    @Option(help: "Where figures go (default: book-output); each section writes into OUT/SECTION.")
    var out = "book-output"

    @Option(help: "Folder of data sets (Fashion-MNIST, timemachine.txt, kaggle_house_pred_train.csv, banana-detection/); default: $D2L_DATA_DIR, then the system's.")
    var data: String?

    func run() throws {
        if section == "list" {
            for s in bookSections { print("\(s.number.padding(toLength: 6, withPad: " ", startingAt: 0)) \(s.name.padding(toLength: 32, withPad: " ", startingAt: 0)) \(s.title)") }
            return
        }
        let chosen: [BookSection]
        if section == "all" {
            chosen = bookSections
        } else if let found = bookSections.first(where: { $0.name == section }) {
            chosen = [found]
        } else {
            throw ValidationError("no section named \(section.debugDescription); `d2l-book list` names them all")
        }
        var failed: [String] = []
        for s in chosen {
            let book = try BookContext(section: s, quick: quick, outputRoot: out, dataDirectory: data)
            print("== \(s.number) \(s.title) (d2l-book \(s.name)\(quick ? " --quick" : ""))")
            do {
                try s.run(book)
            } catch {
                failed.append("\(s.name): \(error)")
                print("error: \(s.name): \(error)")
                continue
            }
            if book.failedChecks.isEmpty {
                print("all \(book.checkCount) checks passed")
            } else {
                failed.append("\(s.name): \(book.failedChecks.count) of \(book.checkCount) checks failed: "
                              + book.failedChecks.joined(separator: "; "))
            }
        }
        if !failed.isEmpty {
            var stderr = FileHandle.standardError
            for line in failed { print("d2l-book: \(line)", to: &stderr) }
            throw ExitCode.failure
        }
    }
}

extension FileHandle: @retroactive TextOutputStream {
    public func write(_ string: String) { write(Data(string.utf8)) }
}
