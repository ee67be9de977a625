import Foundation

/// A cap on the tensor elements that building one model may create, so that a model whose
/// size comes from user options (`--image-size 20000`, `--hidden 1e10`) is refused with a
/// message instead of aborting in the allocator or trapping on an overflowing size.
///
/// Inside `withLimit(_:_:)` every tensor the calling thread creates through
/// `Tensor.full`/`zeros`/`ones`/`rand`/`randn` (all of a module's parameters and buffers)
/// counts its elements, computed with overflow checks. Once the total would pass the
/// limit, further tensors are created empty (shape `[0]`, nothing allocated) and
/// `withLimit` throws after the body returns, so the half-built model is discarded.
/// Other threads are not counted or affected. Outside a scope the cost is one
/// `pthread_getspecific`.
///
///     let net = try ConstructionBudget.withLimit(1 << 30, what: "lenet") { try build() }
public enum ConstructionBudget {
    /// One thread's scope. Only the thread that owns it (through `key`) touches it.
    final class Scope {
        let limit: Int
        var counted = 0
        var exceeded = false
        init(limit: Int) { self.limit = limit }
    }

    /// The thread-specific slot holding the calling thread's active scope (or NULL).
    static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    static var current: Scope? {
        guard let raw = pthread_getspecific(key) else { return nil }
        return Unmanaged<Scope>.fromOpaque(raw).takeUnretainedValue()
    }

    /// Runs `body` with at most `limit` tensor elements created on this thread; throws
    /// `ToolkitError(.invalidArgument)` naming `what` when it would create more. A scope
    /// nested in another on the same thread is counted by the outer one. The message is
    /// "`what` would hold more than `limit` values`advice`" (advice: the limit in MiB and
    /// "choose smaller sizes" when nil).
    public static func withLimit<R>(_ limit: Int, what: String, advice: String? = nil,
                                    _ body: () throws -> R) throws -> R {
        if current != nil { return try body() }
        let scope = Scope(limit: limit)
        let retained = Unmanaged.passRetained(scope)
        pthread_setspecific(key, retained.toOpaque())
        defer { pthread_setspecific(key, nil); retained.release() }
        let result = try body()
        if scope.exceeded {
            throw ToolkitError(.invalidArgument, "\(what) would hold more than \(limit) values"
                               + (advice ?? " (\(limit / (1 << 18)) MiB of float32); choose smaller sizes"))
        }
        return result
    }

    /// The elements of `shape` if a tensor of it may be created now; nil when the active
    /// scope's limit (or Int's range) would be passed, which marks the scope exceeded.
    static func admit(_ shape: [Int]) -> Int? {
        guard let scope = current else { return shape.reduce(1, *) }
        if scope.exceeded { return nil }
        var n = 1
        for d in shape {
            let (product, overflow) = n.multipliedReportingOverflow(by: Swift.max(d, 0))
            if overflow { scope.exceeded = true; return nil }
            n = product
        }
        let (total, overflow) = scope.counted.addingReportingOverflow(n)
        if overflow || total > scope.limit { scope.exceeded = true; return nil }
        scope.counted = total
        return n
    }

    /// Physical memory in float32 elements, divided by `share` (at least 2^24): the default
    /// limit for models built for training, where parameters, gradients and optimizer
    /// state each take one copy.
    public static func memoryElements(share: Int) -> Int {
        let bytes = Int(clamping: ProcessInfo.processInfo.physicalMemory)
        return Swift.max(1 << 24, bytes / 4 / Swift.max(share, 1))
    }
}
