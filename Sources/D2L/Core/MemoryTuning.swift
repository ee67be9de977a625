import _D2LSystem

/// Allocator settings for training loops.
///
/// A training step allocates and frees the same large activation and gradient buffers
/// again and again. With glibc's defaults each of them may come back from the kernel as
/// fresh zeroed pages (allocations above the mmap threshold, and heap tops trimmed on
/// free), which costs about a third of a LeNet step. `keepFreedMemory()` raises both
/// thresholds so freed buffers are reused; the process keeps its peak heap instead of
/// returning it. The trainer and the benchmarks call it once; it is process-wide and
/// harmless to call again.
public enum MemoryTuning {
    nonisolated(unsafe) private static var applied = false

    public static func keepFreedMemory() {
        if applied { return }
        applied = true
        d2l_sys_keep_freed_memory()
    }
}
