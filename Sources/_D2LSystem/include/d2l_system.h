/* _D2LSystem: the runtime's window on libc, libm and pthreads.
 *
 * Embedded Swift has no Glibc module, so both the normal and the Embedded build of
 * D2LRuntime import this module instead. It also holds the few helpers that are
 * simpler and safer in C: thread-local error storage and a small thread pool.
 * Internal to the package: no stable API. */
#ifndef D2L_SYSTEM_H
#define D2L_SYSTEM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <errno.h>
#include <pthread.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Thread-local last error ------------------------------------------------------ */

/** Stores a copy of `message[0..<length]` (truncated to 4095 bytes) as this thread's
 *  last error message. Never fails. */
void d2l_sys_set_last_error(const char *message, size_t length);

/** This thread's last error message; "" when none. Borrowed: valid on this thread
 *  until the next call that sets an error. */
const char *d2l_sys_last_error(void);

/* ---- The toolkit's autograd mode ------------------------------------------------- */

/** Whether the calling thread records autograd nodes (the toolkit's `GradMode`, off
 *  inside `withNoGrad`): 1, the default on every thread, or 0. Thread-local, so one
 *  thread's `withNoGrad` leaves the others recording. */
int d2l_sys_grad_enabled(void);

/** Sets the calling thread's autograd mode (non-zero: record). */
void d2l_sys_set_grad_enabled(int enabled);

/* ---- Memory ---------------------------------------------------------------------- */

/** posix_memalign with `alignment` (a power of two ≥ sizeof(void*)); NULL on failure
 *  or when size is 0. Free with free(). */
void *d2l_sys_aligned_alloc(size_t alignment, size_t size);

/** The calling thread's scratch buffers, one per use that may be active at the same
 *  time as another (a product's packing inside a convolution's padding, ...). */
enum {
    D2L_SYS_SCRATCH_GEMM_PACK = 0,  /**< GEMM: packed B panels and A row blocks */
    D2L_SYS_SCRATCH_GEMM_PANEL = 1, /**< GEMM: one packed B panel */
    D2L_SYS_SCRATCH_GEMV = 2,       /**< matrix-vector products: a gathered strided x */
    D2L_SYS_SCRATCH_CONV = 3,       /**< convolutions: a zero-padded input plane */
    D2L_SYS_SCRATCH_POOL = 4,       /**< pooling: a padded row of column maxima */
    D2L_SYS_SCRATCH_SLOTS = 5
};

/** A 64-byte-aligned buffer of at least `bytes` bytes that belongs to the calling
 *  thread, one per `slot` (D2L_SYS_SCRATCH_*): later calls on that thread reuse it
 *  (growing it, without keeping its contents, when more is asked for), and it is freed
 *  when the thread exits. NULL when it cannot be grown (the smaller buffer stays) or
 *  the slot is out of range. One user at a time per thread and slot: a caller must not
 *  hold a slot across a call that may use the same slot. The kernels pack and pad here,
 *  so repeated runs allocate nothing. */
void *d2l_sys_thread_scratch(int slot, size_t bytes);

/* ---- Files ----------------------------------------------------------------------- */

/** What the file functions return (and set errno to) for a path that is not a regular
 *  file (a directory, FIFO, socket or device such as /dev/zero): those are refused
 *  before any read, so that nothing blocks or reads without end. Not an errno value. */
#define D2L_SYS_ENOTREG 0x10001

/** Reads the whole regular file at `path` into a malloc'ed buffer (free with free()).
 *  Returns 0 and sets out_data and out_size on success; on failure returns errno
 *  (or EFBIG when the file exceeds `max_size`) and leaves the out-params untouched. */
int d2l_sys_read_file(const char *path, size_t max_size, void **out_data, size_t *out_size);

/** Reads the first min(capacity, file size) bytes of the regular file at `path` into
 *  `buffer`. Returns 0 and sets out_count (the bytes read) and out_size (the file's
 *  size); on failure returns errno (D2L_SYS_ENOTREG, see above) and leaves them untouched. */
int d2l_sys_read_file_head(const char *path, void *buffer, size_t capacity, size_t *out_count,
                           int64_t *out_size);

/** Reads `length` bytes at `offset` of the file at `path` into `destination`.
 *  Returns 0 on success, errno on failure (EINVAL when the file is too short). */
int d2l_sys_read_file_range(const char *path, uint64_t offset, size_t length, void *destination);

/** This thread's errno (a macro, so Swift cannot read it directly). */
int d2l_sys_errno(void);

/** Size of the regular file at `path`, or -1 with errno set (D2L_SYS_ENOTREG when it is
 *  not a regular file). */
int64_t d2l_sys_file_size(const char *path);

/* ---- Thread pool ----------------------------------------------------------------- */

/** A fixed set of worker threads that run the chunks of one parallel loop at a time. */
typedef struct d2l_sys_pool d2l_sys_pool;

/** Work function: called once for each index in [0, count), on any thread. */
typedef void (*d2l_sys_pool_fn)(void *context, size_t index);

/** Creates a pool that runs loops on `threads` threads in all (the caller's thread
 *  counts as one, so `threads - 1` workers are started). Returns NULL when `threads`
 *  < 2 or a thread cannot be created. Free with d2l_sys_pool_free. */
d2l_sys_pool *d2l_sys_pool_create(size_t threads);

/** Stops and joins the workers. Accepts NULL. */
void d2l_sys_pool_free(d2l_sys_pool *pool);

/** Runs fn(context, i) for every i in [0, count) and returns when all are done.
 *  With pool == NULL the loop runs serially on the calling thread. One loop at a
 *  time per pool: callers serialize (a d2l_session is used by one thread at a time). */
void d2l_sys_pool_run(d2l_sys_pool *pool, size_t count, d2l_sys_pool_fn fn, void *context);

/** Number of online processors (at least 1). */
size_t d2l_sys_cpu_count(void);

/** Monotonic clock in nanoseconds. */
uint64_t d2l_sys_now_ns(void);

/** Keeps freed heap memory for reuse (glibc: raises the mmap and trim thresholds), for
 *  programs that allocate and free the same large buffers repeatedly (training loops).
 *  Process-wide; a no-op where the C library has no mallopt. Not used by libd2l. */
void d2l_sys_keep_freed_memory(void);

#ifdef __cplusplus
}
#endif
#endif
