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
    /// changed; the message lists every missing, unexpected and mis-shaped key. A
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
struct StateDictMismatch {
    var missing: [String]
    var unexpected: [String]
    var misShaped: [(name: String, given: [Int], expected: [Int])]

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

    /// No key missing, unexpected or mis-shaped.
    var isEmpty: Bool { missing.isEmpty && unexpected.isEmpty && misShaped.isEmpty }

    /// `state dictionary does not match TYPE`, then a line per kind of key that differs.
    func error(for module: Module) -> ToolkitError {
        var lines: [String] = ["state dictionary does not match \(type(of: module))"]
        if !missing.isEmpty { lines.append("missing keys: " + missing.map(quotedUnlessPlain).joined(separator: ", ")) }
        if !unexpected.isEmpty { lines.append("unexpected keys: " + unexpected.map(quotedUnlessPlain).joined(separator: ", ")) }
        if !misShaped.isEmpty {
            lines.append("mis-shaped keys: " + misShaped.map { "\(quotedUnlessPlain($0.name)): checkpoint \($0.given), model \($0.expected)" }
                .joined(separator: "; "))
        }
        return ToolkitError(.shape, lines.joined(separator: "\n  "))
    }
}
