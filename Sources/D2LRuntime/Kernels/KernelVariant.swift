import _D2LKernels

// The kernel variant layer (Sources/_D2LKernels): the innermost loops are C, compiled
// once per instruction set (scalar, sse2, avx2, avx512 on x86-64; scalar, neon on
// aarch64) and chosen at run time from the CPU's features, capped by the environment
// variable D2L_KERNEL_ISA. Everything above them stays here in Swift: blocking, packing
// order, threading.
//
// An operation fetches the active table once (`Kernels.active`) and makes all of its
// calls through that one table, so a register-tile shape and the kernel that fills it
// always come from the same variant, even if a test switches variants meanwhile. Data
// prepared ahead of time (packed weights) uses layouts every variant reads: row groups
// of `rowGroupRows` rows, column panels of 16 rows.

/// One kernel variant: its shapes and its functions (C function pointers).
struct Kernels {
    let table: UnsafePointer<d2l_k_table>

    /// The variant in use now.
    @inline(__always)
    static var active: Kernels { Kernels(table: d2l_k_active()) }

    /// The variant named `name` when this build has it and the CPU runs it.
    static func named(_ name: String) -> Kernels? {
        guard let t = name.withCString({ d2l_k_table_named($0) }) else { return nil }
        return Kernels(table: t)
    }

    var name: String { String(cString: table.pointee.name) }
}

/// Rows of one group of a row-packed matrix (`packGemmRows`): 12, so that every
/// variant's register tile (6 or 12 rows) covers whole parts of a group.
let rowGroupRows = Int(D2L_K_ROW_GROUP)

/// The name of the kernel variant in use: "avx512", "avx2", "sse2", "neon", "neon-vfpv3" or "scalar"
/// (the best one this CPU runs, or the one `D2L_KERNEL_ISA` caps it at).
public var kernelISA: String { Kernels.active.name }

/// `kernelISA` as a C string in static storage (the variant table's own name).
package var activeKernelVariantName: UnsafePointer<CChar> { Kernels.active.table.pointee.name }

/// Every kernel variant this build has for this architecture, best first, and whether
/// this CPU runs it.
package var kernelVariants: [(name: String, runs: Bool)] {
    var count = 0
    let names = d2l_k_variant_names(&count)
    return (0..<count).map { i in
        let name = String(cString: names[i])
        return (name, Kernels.named(name) != nil)
    }
}

/// Makes `name` the active kernel variant (for tests and benchmarks; operations already
/// running finish with the variant they started with). Returns false, changing nothing,
/// when this build or this CPU lacks it.
@discardableResult
package func selectKernelVariant(_ name: String) -> Bool {
    name.withCString { d2l_k_select($0) } != 0
}
