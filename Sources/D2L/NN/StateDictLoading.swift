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
        let known = Set(entries.map(\.name))
        let missing = entries.map(\.name).filter { given[$0] == nil }
        var seenUnexpected = Set<String>()
        let unexpected = state.map(\.name).filter { !known.contains($0) && seenUnexpected.insert($0).inserted }
        var misShaped: [String] = []
        for (name, parameter) in entries {
            if let value = given[name], value.shape != parameter.shape {
                misShaped.append("\(quotedUnlessPlain(name)): checkpoint \(value.shape), model \(parameter.shape)")
            }
        }
        if !misShaped.isEmpty || (strict && (!missing.isEmpty || !unexpected.isEmpty)) {
            var lines: [String] = ["state dictionary does not match \(type(of: self))"]
            if !missing.isEmpty { lines.append("missing keys: " + missing.map(quotedUnlessPlain).joined(separator: ", ")) }
            if !unexpected.isEmpty { lines.append("unexpected keys: " + unexpected.map(quotedUnlessPlain).joined(separator: ", ")) }
            if !misShaped.isEmpty { lines.append("mis-shaped keys: " + misShaped.joined(separator: "; ")) }
            throw ToolkitError(.shape, lines.joined(separator: "\n  "))
        }
        for (name, parameter) in entries {
            if let value = given[name] { parameter.assign(value) }
        }
        return StateDictLoadResult(missingKeys: missing, unexpectedKeys: unexpected)
    }
}
