import Foundation

/// Makes elements `0..<count` on worker threads, at most `prefetch` ahead of the one the
/// consumer is waiting for, and hands them out in index order (PyTorch's `DataLoader` with
/// `num_workers` and `prefetch_factor`): while the training step runs on batch i, the
/// workers load batches i + 1 … i + prefetch.
///
/// `make` runs on the worker threads, several at once, so it must be safe to call
/// concurrently; an element it returns nil for is skipped. With `workers == 0` elements
/// are made on the consumer's thread when asked for. Dropping the iterator early stops
/// the workers after the element each is making.
///
/// Thread-safety: one consumer (the iterator is not shared between threads).
public final class OrderedPrefetcher<Element>: IteratorProtocol {
    private final class State: @unchecked Sendable {
        let condition = NSCondition()
        /// Finished elements not yet consumed (nil: made, but skipped).
        var finished: [Int: Element?] = [:]
        var nextToStart = 0
        /// The index the consumer takes next; workers start indices below it + prefetch.
        var consumedUpTo = 0
        var cancelled = false
    }

    public let count: Int
    private let workers: Int
    private let prefetch: Int
    private let make: (Int) -> Element?
    private let state = State()
    private var nextToTake = 0

    /// - Parameters:
    ///   - count: how many elements there are, indices `0..<count` (a negative count is 0).
    ///   - workers: threads making elements (0: none, make on demand).
    ///   - prefetch: how many elements past the awaited one may be made or waiting (≥ 1).
    ///   - make: makes the element of an index, or nil to skip it; called on the worker
    ///     threads, several at once, so it must be safe to call concurrently.
    public init(count: Int, workers: Int, prefetch: Int = 2, make: @escaping (Int) -> Element?) {
        self.count = max(count, 0)
        self.workers = max(workers, 0)
        self.prefetch = max(prefetch, 1)
        self.make = make
        let state = self.state, total = self.count, ahead = self.prefetch
        for _ in 0..<min(self.workers, self.count) {
            let thread = Thread {
                while true {
                    state.condition.lock()
                    // Wait until an element inside the window is free to start.
                    while !state.cancelled, state.nextToStart < total,
                          state.nextToStart >= state.consumedUpTo + ahead {
                        state.condition.wait()
                    }
                    guard !state.cancelled, state.nextToStart < total else {
                        state.condition.unlock()
                        return
                    }
                    let index = state.nextToStart
                    state.nextToStart += 1
                    state.condition.unlock()
                    let element = make(index)
                    state.condition.lock()
                    state.finished[index] = .some(element)
                    state.condition.broadcast()
                    state.condition.unlock()
                }
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    public func next() -> Element? {
        while nextToTake < count {
            let index = nextToTake
            nextToTake += 1
            if workers == 0 {
                if let element = make(index) { return element }
                continue
            }
            state.condition.lock()
            while state.finished[index] == nil { state.condition.wait() }
            let element = state.finished.removeValue(forKey: index)!
            state.consumedUpTo = index + 1
            state.condition.broadcast()
            state.condition.unlock()
            if let element { return element }
        }
        return nil
    }

    deinit {
        state.condition.lock()
        state.cancelled = true
        state.condition.broadcast()
        state.condition.unlock()
    }
}
