/// Buffers reused from one node-by-node run to the next (`EagerExecution`): a run takes
/// a buffer for each value it computes and gives it back after the value's last reader,
/// so a run at the shapes of the one before allocates none. A request is served by the
/// smallest free buffer that holds it and is at most twice its size (plus the tensor
/// alignment), else by a new buffer. Buffers left untaken through a whole run are freed
/// at its end, so the pool holds no more than the runs at hand need. Not thread-safe.
final class BufferPool {
    /// Free buffers from earlier runs, and those given back during this one.
    private var earlier: [AlignedBuffer] = []
    private var freed: [AlignedBuffer] = []
    /// Buffers allocated since the pool was made (for tests and diagnostics).
    private(set) var allocations = 0

    /// A buffer of at least `byteCount` bytes. Throws D2L_ERR_OUT_OF_MEMORY.
    func take(byteCount: Int) throws(D2LError) -> AlignedBuffer {
        if let buffer = BufferPool.removeBestFit(&freed, byteCount) ?? BufferPool.removeBestFit(&earlier, byteCount) {
            return buffer
        }
        allocations += 1
        return try AlignedBuffer(byteCount: byteCount)
    }

    /// Returns `buffer` (taken from this pool, no longer read) for later requests.
    func giveBack(_ buffer: AlignedBuffer) { freed.append(buffer) }

    /// Ends a run: frees the earlier runs' buffers this one did not take.
    func endRun() {
        earlier = freed
        freed = []
    }

    private static func removeBestFit(_ list: inout [AlignedBuffer], _ byteCount: Int) -> AlignedBuffer? {
        let most = byteCount > Int.max / 2 ? Int.max : 2 * byteCount + tensorAlignment
        var best = -1
        for (i, b) in list.enumerated() where b.byteCount >= byteCount && b.byteCount <= most {
            if best < 0 || b.byteCount < list[best].byteCount { best = i }
        }
        return best < 0 ? nil : list.remove(at: best)
    }
}
