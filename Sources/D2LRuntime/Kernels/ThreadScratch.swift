import _D2LSystem

/// Runs `body` with `count` uninitialised floats, 64-byte aligned, from the calling
/// thread's scratch buffer `slot` (`D2L_SYS_SCRATCH_*` of `d2l_system.h`: kept between
/// calls, so a repeated run allocates nothing), or from a temporary allocation when the
/// scratch cannot grow. One user per thread and slot at a time: `body` must not use
/// the same slot (the kernels give each nested use its own).
@inline(__always)
func withThreadScratch(_ slot: Int, floats count: Int, _ body: (UnsafeMutablePointer<Float>) -> Void) {
    let bytes = max(count, 1) &* 4
    if let raw = d2l_sys_thread_scratch(Int32(truncatingIfNeeded: slot), bytes) {
        body(raw.bindMemory(to: Float.self, capacity: max(count, 1)))
        return
    }
    withUnsafeTemporaryAllocation(byteCount: bytes, alignment: 64) { raw in
        guard let base = raw.baseAddress else { return }
        body(base.bindMemory(to: Float.self, capacity: max(count, 1)))
    }
}
