/// A named, mutable tensor owned by a module: a trainable parameter (a leaf that
/// requires gradients) or a buffer (BatchNorm's running statistics; no gradients).
///
/// Optimizers and `loadStateDict` update `value` in place (`update(_:)`), so the module
/// and everyone holding this `Parameter` see the new values. A copy of `value` taken
/// before an update keeps the old values (tensors are values).
public final class Parameter {
    /// The current values; trainable parameters are autograd leaves.
    public private(set) var value: Tensor
    /// Whether this is a trainable parameter (false: a buffer).
    public let isTrainable: Bool
    /// Whether checkpoints store it as int64 (BatchNorm's `num_batches_tracked`).
    public let isIntegral: Bool
    /// Whether training leaves it alone (PyTorch's `requires_grad_(False)`): a frozen
    /// parameter is not an autograd leaf, so `backward()` gives it no gradient and every
    /// optimizer skips it (no step, no weight decay, no momentum). It stays in
    /// `parameters()` and in the state dictionary, and loads and saves as before. Setting
    /// it drops the current gradient; unfreezing makes the values a fresh leaf. No effect
    /// on a buffer (never trained).
    public var isFrozen = false {
        didSet {
            guard isTrainable, isFrozen != oldValue else { return }
            value = isFrozen ? value.detached() : value.detached().requiringGrad()
        }
    }

    /// A trainable parameter holding `value` (or a buffer when `trainable` is false).
    public init(_ value: Tensor, trainable: Bool = true, integral: Bool = false) {
        self.isTrainable = trainable
        self.isIntegral = integral
        self.value = trainable ? value.detached().requiringGrad() : value.detached()
    }

    /// The shape of `value`.
    public var shape: [Int] { value.shape }
    /// The gradient accumulated by the last `backward()` calls (nil if none).
    public var grad: Tensor? { value.grad }
    /// Clears the gradient.
    public func zeroGrad() { value.zeroGrad() }

    /// Rewrites the values in place, keeping the autograd leaf (and its gradient).
    public func update(_ body: (inout UnsafeMutableBufferPointer<Float>) -> Void) {
        value.withUnsafeMutableValues { body(&$0) }
    }

    /// Replaces the values with `newValues` (same shape), keeping the leaf and its
    /// gradient. Shares `newValues`' storage instead of copying it (copy-on-write copies
    /// later, on the first in-place update, only if the storage is still shared), so
    /// loading a checkpoint does not hold two copies of the weights.
    public func assign(_ newValues: Tensor) {
        precondition(newValues.shape == value.shape,
                     "Parameter.assign: shape \(newValues.shape) for a parameter of shape \(value.shape)")
        value = Tensor(storage: newValues.storage, shape: value.shape, node: value.node)
    }
}
