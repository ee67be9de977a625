import _D2LSystem

/// A fixed set of threads that runs the chunks of one parallel loop at a time
/// (pthreads through `_D2LSystem`). With one thread it runs loops on the caller's
/// thread. Not thread-safe: a pool belongs to one session, used by one thread at a time.
package final class ThreadPool {
    /// Threads in all, the caller's included (≥ 1).
    package let threadCount: Int
    private let pool: OpaquePointer?

    /// A pool of `threadCount` threads; nil when threads cannot be started.
    package init?(threadCount: Int) {
        if threadCount <= 1 {
            self.threadCount = 1
            self.pool = nil
        } else {
            guard let p = d2l_sys_pool_create(threadCount) else { return nil }
            self.threadCount = threadCount
            self.pool = p
        }
    }

    deinit { d2l_sys_pool_free(pool) }

    /// Runs `body(i)` for each i in 0..<count, spread over the pool's threads, and
    /// returns when all are done. `body` must not throw or trap; chunks run concurrently.
    package func parallelFor(_ count: Int, _ body: (Int) -> Void) {
        if count <= 0 { return }
        if pool == nil || count == 1 {
            for i in 0..<count { body(i) }
            return
        }
        withoutActuallyEscaping(body) { escapable in
            var box = ClosureBox(body: escapable)
            withUnsafeMutablePointer(to: &box) { ctx in
                d2l_sys_pool_run(pool, count, { context, index in
                    guard let context else { return }
                    let box = context.assumingMemoryBound(to: ClosureBox.self)
                    box.pointee.body(Int(index))
                }, UnsafeMutableRawPointer(ctx))
            }
        }
    }
}

private struct ClosureBox {
    var body: (Int) -> Void
}
