/* One kernel variant: every kernel template compiled under the variant's defines, and
 * its table. Included by exactly one variant_*.c file per variant, which defines
 * beforehand:
 *   K_NAME         the variant's name ("avx2", ...)
 *   K_TABLE        the table's symbol (d2l_k_table_avx2, ...)
 *   K_VL, K_FMA    (template/vector.h)
 *   K_GEMM_*, K_DOT_*, K_GEMV_VECS (template/gemm.h), K_PANEL_* (template/panels.h)
 * and, for a target attribute, pushes it with `#pragma clang attribute` around this
 * include (system headers are included before it, outside the push). */

#include "../include/d2l_kernels.h"
#include "vector.h"
#include "gemm.h"
#include "panels.h"
#include "elementwise.h"
#include "reduce.h"
#include "winograd.h"
#include "pool.h"
#include "boxes.h"

const d2l_k_table K_TABLE = {
    .name = K_NAME,
    .gemm_rows = K_GEMM_ROWS,
    .gemm_columns = K_GEMM_COLS,
    .gemm_depth = K_GEMM_DEPTH,
    .gemm_tile = gemm_tile,
    .gemm_pack_a = gemm_pack_a,
    .gemm_pack_b = gemm_pack_b,
    .gemv_columns = gemv_columns,
    .gemv_rows = gemv_rows,
    .dot_rows = K_DOT_ROWS,
    .dot_columns = K_DOT_COLS,
    .dot_block = dot_block,
    .panel_columns = K_PANEL_COLS,
    .panel_group = K_PANEL_GROUP,
    .panel_tile = panel_tile,
    .winograd_input = winograd_input,
    .winograd_output = winograd_output,
    .pool2x2_row = pool2x2_row,
    .max_rows = max_rows,
    .max_window = max_window,
    .max_window_strided = max_window_strided,
    .max_pool_planes = max_pool_planes,
    .pool_plane_floats = K_POOL_PLANE_FLOATS,
    .epilogue = epilogue,
    .unary = unary,
    .binary = binary,
    .scale_shift = scale_shift,
    .softmax = softmax,
    .activation_backward = activation_backward,
    .add_block = add_block,
    .copy_block = copy_block,
    .sum = sum,
    .sum_squared_deviation = sum_squared_deviation,
    .dot_centered = dot_centered,
    .first_overlap_above = first_overlap_above,
};
