import D2LRuntime

/// The base of every layer and model (PyTorch's `nn.Module`): parameters, buffers and
/// child modules registered by name, so that `namedParameters()` and `stateDict()` use
/// PyTorch's keys for the same structure (`0.weight`, `b1.0.conv1.bias`, …).
///
/// Subclasses register what they own in their initialiser, in PyTorch's order
/// (`registerParameter`, `registerBuffer`, `registerModule`), and override
/// `forward(_:)`. Call a module like a function: `let y = try net(x)`.
/// Not thread-safe: one thread trains a module at a time.
open class Module {
    /// True in training mode (Dropout drops, BatchNorm uses batch statistics).
    public private(set) var isTraining = true
    private var ownParameters: [(name: String, parameter: Parameter)] = []
    private var ownBuffers: [(name: String, parameter: Parameter)] = []
    private var ownChildren: [(name: String, module: Module)] = []

    public init() {}

    /// Registers a trainable parameter under `name`; returns it.
    @discardableResult
    public func registerParameter(_ name: String, _ value: Tensor) -> Parameter {
        let p = Parameter(value)
        ownParameters.append((name, p))
        return p
    }

    /// Registers an existing parameter object (trainable or buffer) under `name`.
    func registerParameterObject(_ name: String, _ parameter: Parameter) {
        if parameter.isTrainable { ownParameters.append((name, parameter)) } else { ownBuffers.append((name, parameter)) }
    }

    /// Registers a buffer (saved in the state dictionary, not trained) under `name`.
    /// `integral` buffers are saved as int64 (`num_batches_tracked`).
    @discardableResult
    public func registerBuffer(_ name: String, _ value: Tensor, integral: Bool = false) -> Parameter {
        let p = Parameter(value, trainable: false, integral: integral)
        ownBuffers.append((name, p))
        return p
    }

    /// Registers a child module under `name`; returns it.
    @discardableResult
    public func registerModule<M: Module>(_ name: String, _ module: M) -> M {
        ownChildren.append((name, module))
        return module
    }

    /// The direct children, in registration order.
    public var children: [(name: String, module: Module)] { ownChildren }

    /// The direct child registered under `name` (nil if none).
    public final func child(named name: String) -> Module? {
        ownChildren.first { $0.name == name }?.module
    }

    /// Which children ``replaceChild(named:with:)`` may swap. The default, `.none`, is for
    /// a subclass that keeps its children in stored properties: its `forward` would go on
    /// calling the old one. A subclass whose `forward` (and ONNX lowering) reads its
    /// children from the registry sets `.any` (``Sequential``) or `.sameType` (typed
    /// properties computed from the registry, as ``TorchvisionResNet``'s `fc`).
    public enum ChildReplacement: Sendable { case none, sameType, any }

    /// The child `name` as `M`, for typed properties computed from the registry (with
    /// `childReplacement` `.sameType`, a replacement keeps the type, so the cast holds).
    final func registered<M: Module>(_ name: String) -> M {
        guard let module = child(named: name) as? M else {
            preconditionFailure("\(type(of: self)): child '\(name)' is not a \(M.self)")
        }
        return module
    }

    /// This module's ``ChildReplacement`` policy (set by a subclass in its initialiser).
    public final var childReplacement: ChildReplacement = .none

    /// Replaces the child at the dotted path `name` (`"fc"`, `"7"`, `"b5.0"`) with `module`,
    /// under the same name and at the same position, so `forward`, `parameters()`,
    /// `stateDict()`, checkpoints and the ONNX export all use the new layer (PyTorch's
    /// `net.fc = nn.Linear(512, 2)`).
    /// - Throws: `ToolkitError(.invalidArgument)` naming the path when no such child
    ///   exists, its parent does not allow replacement (see ``childReplacement``), or
    ///   the parent needs a module of the old one's type.
    public final func replaceChild(named name: String, with module: Module) throws {
        let path = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        var parent: Module = self
        for (depth, part) in path.enumerated() {
            guard let index = parent.ownChildren.firstIndex(where: { $0.name == part }) else {
                let names = parent.ownChildren.map(\.name)
                let at = depth == 0 ? "\(type(of: self))" : "\(path[..<depth].joined(separator: ".")) (\(type(of: parent)))"
                throw ToolkitError(.invalidArgument, "replaceChild: no child '\(part)' in \(at)"
                                   + (names.isEmpty ? ", which has no children" : "; its children: " + names.joined(separator: ", ")))
            }
            if depth < path.count - 1 { parent = parent.ownChildren[index].module; continue }
            let old = parent.ownChildren[index].module
            switch parent.childReplacement {
            case .none:
                throw ToolkitError(.invalidArgument,
                                   "replaceChild: \(type(of: parent)) keeps its children in stored properties; '\(name)' cannot be replaced")
            case .sameType where type(of: old) != type(of: module):
                throw ToolkitError(.invalidArgument,
                                   "replaceChild: '\(name)' must stay a \(type(of: old)), got a \(type(of: module))")
            default:
                parent.ownChildren[index].module = module
            }
        }
    }

    /// Computes the module's output. Throws `ToolkitError(.shape)` when `input` does not fit.
    open func forward(_ input: Tensor) throws -> Tensor {
        throw ToolkitError(.unsupported, "\(type(of: self)) does not implement forward(_:)")
    }

    /// `forward(input)`.
    public func callAsFunction(_ input: Tensor) throws -> Tensor { try forward(input) }

    /// Every trainable parameter with its dotted name, depth first in registration order,
    /// each parameter object once (PyTorch's `named_parameters()`): a module or parameter
    /// registered under two names (a shared layer used twice in a `Sequential`) is listed
    /// under the first name only, so an optimizer updates it once per step. The state
    /// dictionary (``namedStateEntries()``) keeps every name, as PyTorch's `state_dict()`.
    public func namedParameters() -> [(name: String, parameter: Parameter)] {
        uniqueByIdentity(allNamedParameters())
    }

    /// Every (name, parameter) registration, duplicates included.
    private final func allNamedParameters() -> [(name: String, parameter: Parameter)] {
        var result = ownParameters
        for (name, child) in ownChildren {
            result += child.allNamedParameters().map { (name + "." + $0.name, $0.parameter) }
        }
        return result
    }

    /// Every trainable parameter.
    public func parameters() -> [Parameter] { namedParameters().map(\.parameter) }

    /// Every buffer with its dotted name, each buffer object once (first name wins, as
    /// PyTorch's `named_buffers()`).
    public func namedBuffers() -> [(name: String, parameter: Parameter)] {
        uniqueByIdentity(allNamedBuffers())
    }

    /// Every (name, buffer) registration, duplicates included.
    private final func allNamedBuffers() -> [(name: String, parameter: Parameter)] {
        var result = ownBuffers
        for (name, child) in ownChildren {
            result += child.allNamedBuffers().map { (name + "." + $0.name, $0.parameter) }
        }
        return result
    }

    /// Parameters and buffers in PyTorch's `state_dict()` order: a module's own
    /// parameters, then its own buffers, then each child's entries.
    public func namedStateEntries() -> [(name: String, parameter: Parameter)] {
        var result = ownParameters + ownBuffers
        for (name, child) in ownChildren {
            result += child.namedStateEntries().map { (name + "." + $0.name, $0.parameter) }
        }
        return result
    }

    /// The state dictionary: every parameter and buffer by PyTorch key, values copied.
    public func stateDict() -> [(name: String, value: Tensor)] {
        namedStateEntries().map { ($0.name, $0.parameter.value.detached()) }
    }

    /// Loads values by key (`load_state_dict(strict: true)`): every key must be present
    /// with this module's shape and no other key may appear; otherwise nothing is
    /// changed and the error lists every missing, unexpected and mis-shaped key. A
    /// parameter shared under two keys (a layer used twice) needs both and takes the
    /// value of the later one, as in PyTorch. ``loadStateDict(_:strict:)`` with
    /// `strict: false` loads what fits and returns the keys that did not.
    public func loadStateDict(_ state: [(name: String, value: Tensor)]) throws {
        try loadStateDict(state, strict: true)
    }

    /// Sets training mode on this module and every descendant.
    public func train(_ on: Bool = true) {
        isTraining = on
        for (_, child) in ownChildren { child.train(on) }
    }

    /// Sets evaluation mode (`train(false)`).
    public func eval() { train(false) }

    /// Runs `body` in evaluation mode, then gives every module its own mode back (ancestors
    /// first, so that `train(_:)` on a parent does not overwrite a child's own mode).
    public func evaluating<T>(_ body: () throws -> T) rethrows -> T {
        var modes: [(Module, Bool)] = []
        apply { modes.append(($0, $0.isTraining)) }
        eval()
        defer { for (m, training) in modes.reversed() { m.train(training) } }
        return try body()
    }

    /// Clears every parameter's gradient.
    public func zeroGrad() { for p in parameters() { p.zeroGrad() } }

    /// Calls `body` on this module and every descendant, children first (`apply`).
    public func apply(_ body: (Module) -> Void) {
        for (_, child) in ownChildren { child.apply(body) }
        body(self)
    }

    /// The number of trainable scalars.
    public var parameterCount: Int { parameters().reduce(0) { $0 + $1.value.count } }
}

/// `entries` without the repeats of a parameter object already listed (first name kept).
private func uniqueByIdentity(_ entries: [(name: String, parameter: Parameter)]) -> [(name: String, parameter: Parameter)] {
    var seen = Set<ObjectIdentifier>()
    return entries.filter { seen.insert(ObjectIdentifier($0.parameter)).inserted }
}

/// Modules applied in order (`nn.Sequential`); children are named "0", "1", ….
public final class Sequential: Module {
    /// The layers in order: the registered children, so a layer swapped by
    /// ``Module/replaceChild(named:with:)`` (`net[7] = …`) is the one `forward` calls.
    public var layers: [Module] { children.map(\.module) }

    public init(_ layers: [Module]) {
        super.init()
        childReplacement = .any
        for layer in layers { append(layer) }
    }

    public convenience init(_ layers: Module...) { self.init(layers) }

    /// Adds a layer at the end, named by its position.
    public func append(_ layer: Module) {
        registerModule(String(count), layer)
    }

    /// The layer at `index`.
    public subscript(_ index: Int) -> Module { children[index].module }
    public var count: Int { children.count }

    public override func forward(_ input: Tensor) throws -> Tensor {
        var x = input
        for layer in layers { x = try layer(x) }
        return x
    }
}
