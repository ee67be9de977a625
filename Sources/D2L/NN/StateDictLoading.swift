import D2LRuntime

/// The keys that `loadStateDict(_:strict: false)` did not load (PyTorch's
/// `_IncompatibleKeys`): `missingKeys` are the module's keys absent from the state
/// dictionary, in the module's `stateDict()` order; `unexpectedKeys` the state
/// dictionary's keys the module does not have, in the given order.
public struct StateDictLoadResult: Equatable, Sendable {
    public var missingKeys: [String]
    public var unexpectedKeys: [String]

    public init(missingKeys: [String] = [], unexpectedKeys: [String] = []) {
        self.missingKeys = missingKeys
        self.unexpectedKeys = unexpectedKeys
    }

    /// True when every key matched.
    public var isEmpty: Bool { missingKeys.isEmpty && unexpectedKeys.isEmpty }
}

extension Module {
    /// Loads values by key, as PyTorch's `load_state_dict(state, strict:)`.
    ///
    /// `strict: true` is ``loadStateDict(_:)``: any missing or unexpected key is an error.
    /// `strict: false` loads every key present in both and returns the others (a
    /// pretrained checkpoint without its classifier, `fc.weight` and `fc.bias` missing).
    /// Either way a key whose shape differs from the module's is an error (PyTorch's
    /// "size mismatch", raised even with `strict=False`), and on any error nothing is
    /// changed; the message counts the missing, unexpected and mis-shaped keys and names the
    /// first few of each, the error's `details` every one (`StateDictMismatch`). A
    /// parameter shared under two keys takes the later key's value when both are given.
    /// - Throws: `ToolkitError(.shape)`.
    @discardableResult
    public final func loadStateDict(_ state: [(name: String, value: Tensor)], strict: Bool) throws -> StateDictLoadResult {
        let entries = namedStateEntries()
        let given = Dictionary(state.map { ($0.name, $0.value) }, uniquingKeysWith: { _, last in last })
        let mismatch = StateDictMismatch(entries, given: state.map { ($0.name, $0.value.shape) })
        if !mismatch.misShaped.isEmpty || (strict && !mismatch.isEmpty) { throw mismatch.error(for: self) }
        for (name, parameter) in entries {
            if let value = given[name] { parameter.assign(value) }
        }
        return StateDictLoadResult(missingKeys: mismatch.missing, unexpectedKeys: mismatch.unexpected)
    }
}

/// How a state dictionary's keys differ from a module's (the checks of PyTorch's
/// `load_state_dict`): `missing`, the module's keys not given, in the module's order;
/// `unexpected`, given keys the module lacks, in the given order, once each; `misShaped`,
/// keys of both whose shapes differ, in the module's order (a key given twice: the last).
///
/// Its ``error(_:hint:)`` is the one message of `Module.loadStateDict`, d2l-export's
/// checkpoint loading and `FineTuning.loadPretrained`: the counts, then the first
/// ``keysListed`` keys of each kind (`… and N more`), with every key in the error's
/// `details`.
struct StateDictMismatch {
    var missing: [String]
    var unexpected: [String]
    var misShaped: [(name: String, given: [Int], expected: [Int])]

    /// The most keys of each kind the message names; the error's `details` name them all.
    static let keysListed = 5

    init(_ entries: [(name: String, parameter: Parameter)], given: [(name: String, shape: [Int])]) {
        let shapes = Dictionary(given.map { ($0.name, $0.shape) }, uniquingKeysWith: { _, last in last })
        let known = Set(entries.map(\.name))
        missing = entries.map(\.name).filter { shapes[$0] == nil }
        var seen = Set<String>()
        unexpected = given.map(\.name).filter { !known.contains($0) && seen.insert($0).inserted }
        misShaped = entries.compactMap { entry in
            shapes[entry.name].flatMap { $0 == entry.parameter.shape ? nil : (entry.name, $0, entry.parameter.shape) }
        }
    }

    /// The missing and unexpected keys of `given` for a module whose keys are `expected`
    /// (no shapes compared: none is mis-shaped).
    init(expected: [String], given: [(name: String, shape: [Int])]) {
        let names = Set(given.map(\.name)), known = Set(expected)
        missing = expected.filter { !names.contains($0) }
        var seen = Set<String>()
        unexpected = given.map(\.name).filter { !known.contains($0) && seen.insert($0).inserted }
        misShaped = []
    }

    /// No key missing, unexpected or mis-shaped.
    var isEmpty: Bool { missing.isEmpty && unexpected.isEmpty && misShaped.isEmpty }

    /// `keys: 62 missing, 60 unexpected, 2 mis-shaped`: the counts of the kinds that occur.
    var counts: String {
        let kinds = [(missing.count, "missing"), (unexpected.count, "unexpected"), (misShaped.count, "mis-shaped")]
        return "keys: " + kinds.filter { $0.0 > 0 }.map { "\($0.0) \($0.1)" }.joined(separator: ", ")
    }

    /// The counts, then a line per kind of key that differs, each naming at most `limit`
    /// keys: `missing keys: 1.weight, 1.bias … and 57 more`.
    func lines(limit: Int) -> [String] {
        var lines = [counts]
        if !missing.isEmpty { lines.append("missing keys: " + Self.listed(missing.map(quotedUnlessPlain), limit: limit)) }
        if !unexpected.isEmpty { lines.append("unexpected keys: " + Self.listed(unexpected.map(quotedUnlessPlain), limit: limit)) }
        if !misShaped.isEmpty {
            lines.append("mis-shaped keys: " + Self.listed(misShaped.map {
                "\(quotedUnlessPlain($0.name)): checkpoint \($0.given), model \($0.expected)"
            }, limit: limit, separator: "; "))
        }
        return lines
    }

    /// `ToolkitError(.shape)` of one line: `headline`, then ``lines(limit:)`` with
    /// ``keysListed`` keys of each kind, then `hint` (a guess at the cause), joined by "; ".
    /// Its `details` are the same with every key, one part per line.
    func error(_ headline: String, hint: String? = nil) -> ToolkitError {
        let hintLine = hint.map { [$0] } ?? []
        let summary = [headline] + lines(limit: Self.keysListed) + hintLine
        let full = [headline] + lines(limit: .max) + hintLine
        return ToolkitError(.shape, summary.joined(separator: "; "), details: full.joined(separator: "\n"))
    }

    /// `state dictionary does not match TYPE`, then the keys (``error(_:hint:)``).
    func error(for module: Module) -> ToolkitError {
        error("state dictionary does not match \(type(of: module))")
    }

    /// The first `limit` of `items`, then `… and N more` when there are more.
    static func listed(_ items: [String], limit: Int = keysListed, separator: String = ", ") -> String {
        let shown = items.prefix(max(limit, 0)).joined(separator: separator)
        return items.count > limit ? shown + " … and \(items.count - limit) more" : shown
    }
}
