import _D2LSystem

/// One vertex of the autograd graph: a leaf (a tensor created with `requiresGrad`) that
/// accumulates `grad`, or the result of an operation, which knows its inputs' nodes and
/// how to turn its output's gradient into theirs.
final class GradNode {
    /// Inputs' nodes, in the order `backward` returns their gradients (nil: input untracked).
    let inputs: [GradNode?]
    /// Maps the gradient of this node's output to the gradients of its inputs (nil for
    /// an input that needs none). Runs with gradient recording off.
    let backward: ((Tensor) -> [Tensor?])?
    /// A short name of the operation, for messages and `description`.
    let name: String
    /// Leaves only: the accumulated gradient.
    var grad: Tensor?

    var isLeaf: Bool { backward == nil }

    /// A leaf.
    init() {
        inputs = []
        backward = nil
        name = "leaf"
    }

    /// An operation's node.
    init(name: String, inputs: [GradNode?], backward: @escaping (Tensor) -> [Tensor?]) {
        self.name = name
        self.inputs = inputs
        self.backward = backward
    }
}

/// Whether operations record autograd nodes on the calling thread (off inside
/// `withNoGrad`). Thread-local (kept in `_D2LSystem`), as PyTorch's grad mode: one
/// thread's `withNoGrad` does not stop another thread's training from recording.
enum GradMode {
    static var isEnabled: Bool {
        get { d2l_sys_grad_enabled() != 0 }
        set { d2l_sys_set_grad_enabled(newValue ? 1 : 0) }
    }
}

/// Runs `body` without recording autograd nodes (`torch.no_grad()`): results of
/// operations inside are untracked. Nests; restores the previous mode on exit.
public func withNoGrad<R>(_ body: () throws -> R) rethrows -> R {
    let previous = GradMode.isEnabled
    GradMode.isEnabled = false
    defer { GradMode.isEnabled = previous }
    return try body()
}

extension Tensor {
    /// Whether this tensor is tracked by autograd (a leaf that requires gradients, or a
    /// result computed from one). Setting it to true makes an untracked tensor a leaf;
    /// setting it to false detaches.
    public var requiresGrad: Bool {
        get { node != nil }
        set {
            if newValue { if node == nil { node = GradNode() } } else { node = nil }
        }
    }

    /// This tensor as a leaf that requires gradients.
    public func requiringGrad() -> Tensor {
        var t = self
        t.node = GradNode()
        return t
    }

    /// The same values, untracked (`detach()`); shares storage.
    public func detached() -> Tensor { Tensor(storage: storage, shape: shape) }

    /// The gradient accumulated by `backward()` (leaves only; nil before any backward or
    /// after `zeroGrad`).
    public var grad: Tensor? {
        get { node?.isLeaf == true ? node?.grad : nil }
        nonmutating set {
            precondition(node?.isLeaf == true, "Tensor.grad can only be set on a leaf that requires gradients")
            node?.grad = newValue
        }
    }

    /// Clears the accumulated gradient (leaves).
    public func zeroGrad() { if node?.isLeaf == true { node?.grad = nil } }

    /// Records an operation's result: `value` (untracked) gets a node whose inputs are
    /// `inputs`' nodes, unless recording is off or no input is tracked.
    static func record(_ name: String, _ value: Tensor, inputs: [Tensor],
                       backward: @escaping (Tensor) -> [Tensor?]) -> Tensor {
        guard GradMode.isEnabled, inputs.contains(where: { $0.node != nil }) else { return value }
        var result = value
        result.node = GradNode(name: name, inputs: inputs.map(\.node), backward: backward)
        return result
    }
}
