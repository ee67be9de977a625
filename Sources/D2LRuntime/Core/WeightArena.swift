import _D2LSystem

/// Alignment of every tensor the runtime allocates, in bytes (a cache line; enough for
/// any SIMD type the kernels use).
let tensorAlignment = 64

/// An owned, 64-byte-aligned block of memory, freed on deinit. Zero-sized blocks have a
/// valid (non-null) pointer that must not be read. The memory is not initialized: every
/// user writes what it reads (weights, inputs, kernel outputs), and leaving untouched
/// pages unwritten keeps a large arena from being committed before it is used.
package final class AlignedBuffer {
    package let pointer: UnsafeMutableRawPointer
    package let byteCount: Int

    /// Allocates `byteCount` bytes; throws D2L_ERR_OUT_OF_MEMORY on failure.
    package init(byteCount: Int) throws(D2LError) {
        guard byteCount >= 0 else { throw D2LError(.outOfMemory, "negative allocation size \(byteCount)") }
        let size = max(byteCount, tensorAlignment)
        guard let p = d2l_sys_aligned_alloc(tensorAlignment, size) else {
            throw D2LError(.outOfMemory, "could not allocate \(byteCount) bytes")
        }
        pointer = p
        self.byteCount = byteCount
    }

    deinit { free(pointer) }
}

/// A constant tensor (an initializer or a folded Constant node) whose data lives in a
/// `WeightArena` (or, for small attribute tensors, its own buffer).
package struct ConstantTensor {
    package var dtype: DType
    package var shape: [Int]
    /// The buffer holding the data (kept alive by this reference).
    package var storage: AlignedBuffer
    /// Byte offset of the first element in `storage`.
    package var offset: Int

    package var elementCount: Int { shape.reduce(1, *) }
    package var byteCount: Int { elementCount * dtype.size }
    package var pointer: UnsafeMutableRawPointer { storage.pointer + offset }

    /// The elements as Int, for int64/int32 shape-like constants.
    func integers() -> [Int] {
        var result: [Int] = []
        let n = elementCount
        result.reserveCapacity(n)
        switch dtype {
        case .int64:
            let p = pointer.assumingMemoryBound(to: Int64.self)
            for i in 0..<n { result.append(Int(clamping: p[i])) }  // INT64_MAX (Slice ends) stays the largest Int on 32-bit
        case .int32:
            let p = pointer.assumingMemoryBound(to: Int32.self)
            for i in 0..<n { result.append(Int(p[i])) }
        case .uint8, .bool:
            let p = pointer.assumingMemoryBound(to: UInt8.self)
            for i in 0..<n { result.append(Int(p[i])) }
        case .float32:
            // Not an integer tensor; callers check the dtype first.
            break
        }
        return result
    }
}

/// Lays out tensors back to back (each 64-byte aligned) in one buffer: first reserve
/// every tensor's size, then allocate once, then fill.
package struct WeightArenaBuilder {
    private(set) var totalBytes = 0

    /// Reserves `byteCount` bytes and returns their offset; nil when the total overflows.
    mutating func reserve(_ byteCount: Int) -> Int? {
        let offset = alignUp(totalBytes, tensorAlignment)
        guard let end = checkedAdd(offset, byteCount), end <= Int.max / 2 else { return nil }
        totalBytes = end
        return offset
    }
}

/// The one buffer that holds a model's weights.
package typealias WeightArena = AlignedBuffer
