/* 64-bit file offsets for stat and fseeko on 32-bit targets (armv7): files over 2 GiB. */
#define _FILE_OFFSET_BITS 64

#include "d2l_system.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- Thread-local last error ---- */

static _Thread_local char last_error[4096];

void d2l_sys_set_last_error(const char *message, size_t length) {
    if (message == NULL) { last_error[0] = 0; return; }
    if (length >= sizeof last_error) length = sizeof last_error - 1;
    memcpy(last_error, message, length);
    last_error[length] = 0;
}

const char *d2l_sys_last_error(void) { return last_error; }

/* ---- Memory ---- */

void *d2l_sys_aligned_alloc(size_t alignment, size_t size) {
    void *p = NULL;
    if (size == 0) return NULL;
    if (posix_memalign(&p, alignment, size) != 0) return NULL;
    return p;
}

/* Zero, the initial value on every thread, means recording (enabled). */
static _Thread_local int grad_disabled;

int d2l_sys_grad_enabled(void) { return !grad_disabled; }

void d2l_sys_set_grad_enabled(int enabled) { grad_disabled = !enabled; }

static _Thread_local void *thread_scratch[D2L_SYS_SCRATCH_SLOTS];
static _Thread_local size_t thread_scratch_size[D2L_SYS_SCRATCH_SLOTS];
static pthread_key_t thread_scratch_key[D2L_SYS_SCRATCH_SLOTS];
static pthread_once_t thread_scratch_once = PTHREAD_ONCE_INIT;
static int thread_scratch_key_ok;

/* Runs at thread exit with one of the thread's buffers (a key's value). */
static void thread_scratch_release(void *buffer) { free(buffer); }

static void thread_scratch_make_keys(void) {
    for (int slot = 0; slot < D2L_SYS_SCRATCH_SLOTS; slot++)
        if (pthread_key_create(&thread_scratch_key[slot], thread_scratch_release) != 0) return;
    thread_scratch_key_ok = 1;
}

void *d2l_sys_thread_scratch(int slot, size_t bytes) {
    if (slot < 0 || slot >= D2L_SYS_SCRATCH_SLOTS) return NULL;
    if (bytes <= thread_scratch_size[slot] && thread_scratch[slot] != NULL) return thread_scratch[slot];
    pthread_once(&thread_scratch_once, thread_scratch_make_keys);
    if (!thread_scratch_key_ok) return NULL;
    /* Grow by at least half again, so that slowly growing requests reallocate rarely. */
    size_t size = bytes + bytes / 2;
    if (size < bytes || size > ((size_t)-1) / 2) size = bytes;
    size = (size + 63) & ~(size_t)63;
    if (size == 0) size = 64;
    void *grown = d2l_sys_aligned_alloc(64, size);
    if (grown == NULL) return NULL;
    if (pthread_setspecific(thread_scratch_key[slot], grown) != 0) { free(grown); return NULL; }
    free(thread_scratch[slot]);
    thread_scratch[slot] = grown;
    thread_scratch_size[slot] = size;
    return grown;
}

/* ---- Files ---- */

int d2l_sys_errno(void) { return errno; }

/* Opens `path` for reading without blocking (a FIFO nobody writes to would block a
 * plain open) and checks it is a regular file. Returns the descriptor and sets *size,
 * or returns -1 with errno set (D2L_SYS_ENOTREG for a directory, FIFO, device, ...). */
static int open_regular(const char *path, int64_t *size) {
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return -1;
    struct stat st;
    if (fstat(fd, &st) != 0) { int e = errno; close(fd); errno = e; return -1; }
    if (!S_ISREG(st.st_mode)) { close(fd); errno = D2L_SYS_ENOTREG; return -1; }
    *size = (int64_t)st.st_size;
    return fd;
}

/* Reads exactly `length` bytes at `offset`, retrying short and interrupted reads.
 * Returns 0, EIO when the file ends early, or errno. */
static int read_fully(int fd, uint64_t offset, void *destination, size_t length) {
    size_t done = 0;
    while (done < length) {
        size_t chunk = length - done;
        if (chunk > ((size_t)1 << 30)) chunk = (size_t)1 << 30;
        ssize_t n = pread(fd, (char *)destination + done, chunk, (off_t)(offset + done));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return errno ? errno : EIO;
        if (n == 0) return EIO;
        done += (size_t)n;
    }
    return 0;
}

int64_t d2l_sys_file_size(const char *path) {
    int64_t size = 0;
    int fd = open_regular(path, &size);
    if (fd < 0) return -1;
    close(fd);
    return size;
}

int d2l_sys_read_file(const char *path, size_t max_size, void **out_data, size_t *out_size) {
    int64_t size = 0;
    int fd = open_regular(path, &size);
    if (fd < 0) return errno ? errno : EIO;
    if ((uint64_t)size > (uint64_t)max_size) { close(fd); return EFBIG; }
    void *data = malloc(size > 0 ? (size_t)size : 1);
    if (data == NULL) { close(fd); return ENOMEM; }
    int status = read_fully(fd, 0, data, (size_t)size);
    close(fd);
    if (status != 0) { free(data); return status; }
    *out_data = data;
    *out_size = (size_t)size;
    return 0;
}

int d2l_sys_read_file_head(const char *path, void *buffer, size_t capacity, size_t *out_count,
                           int64_t *out_size) {
    int64_t size = 0;
    int fd = open_regular(path, &size);
    if (fd < 0) return errno ? errno : EIO;
    size_t count = (uint64_t)size < (uint64_t)capacity ? (size_t)size : capacity;
    int status = read_fully(fd, 0, buffer, count);
    close(fd);
    if (status != 0) return status;
    *out_count = count;
    *out_size = size;
    return 0;
}

int d2l_sys_read_file_range(const char *path, uint64_t offset, size_t length, void *destination) {
    int64_t size = 0;
    int fd = open_regular(path, &size);
    if (fd < 0) return errno ? errno : EIO;
    if (offset > (uint64_t)size || (uint64_t)length > (uint64_t)size - offset) { close(fd); return EINVAL; }
    int status = read_fully(fd, offset, destination, length);
    close(fd);
    return status;
}

/* ---- Thread pool ----
 * Workers sleep on `wake` until `generation` changes, then take chunk indices from
 * `next` under the mutex until none remain. The caller takes chunks too, then waits on
 * `done` until every chunk has finished. Before sleeping, a worker (and a caller waiting
 * for the last chunks) polls for up to D2L_POOL_SPIN_NS: a model runs many short parallel
 * loops back to back, and waking a sleeping thread costs tens of microseconds each time.
 * `generation`, `stopping` and `finished` change under the mutex and are polled with
 * atomic loads. */

/* How long a thread polls for work (or the caller for completion) before sleeping. */
#define D2L_POOL_SPIN_NS 100000u

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
    __asm__ __volatile__("yield");
#endif
}

struct d2l_sys_pool {
    pthread_mutex_t mutex;
    pthread_cond_t wake;
    pthread_cond_t done;
    pthread_t *threads;
    size_t worker_count;
    uint64_t generation;
    int stopping;
    d2l_sys_pool_fn fn;
    void *context;
    size_t count;
    size_t next;
    size_t finished;
};

static void run_chunks(d2l_sys_pool *pool) {
    /* Called with the mutex held; returns with it held. */
    while (pool->next < pool->count) {
        size_t index = pool->next++;
        d2l_sys_pool_fn fn = pool->fn;
        void *context = pool->context;
        pthread_mutex_unlock(&pool->mutex);
        fn(context, index);
        pthread_mutex_lock(&pool->mutex);
        __atomic_store_n(&pool->finished, pool->finished + 1, __ATOMIC_RELEASE);
        if (pool->finished == pool->count) pthread_cond_broadcast(&pool->done);
    }
}

static void *worker_main(void *arg) {
    d2l_sys_pool *pool = arg;
    uint64_t seen = 0;
    pthread_mutex_lock(&pool->mutex);
    for (;;) {
        if (!pool->stopping && pool->generation == seen) {
            /* Poll a while for the next loop before sleeping. */
            pthread_mutex_unlock(&pool->mutex);
            uint64_t start = d2l_sys_now_ns();
            while (__atomic_load_n(&pool->generation, __ATOMIC_ACQUIRE) == seen
                   && !__atomic_load_n(&pool->stopping, __ATOMIC_ACQUIRE)
                   && d2l_sys_now_ns() - start < D2L_POOL_SPIN_NS) {
                cpu_relax();
            }
            pthread_mutex_lock(&pool->mutex);
        }
        while (!pool->stopping && pool->generation == seen) pthread_cond_wait(&pool->wake, &pool->mutex);
        if (pool->stopping) break;
        seen = pool->generation;
        run_chunks(pool);
    }
    pthread_mutex_unlock(&pool->mutex);
    return NULL;
}

d2l_sys_pool *d2l_sys_pool_create(size_t threads) {
    if (threads < 2 || threads > 1024) return NULL;
    d2l_sys_pool *pool = calloc(1, sizeof *pool);
    if (pool == NULL) return NULL;
    pool->threads = calloc(threads - 1, sizeof(pthread_t));
    if (pool->threads == NULL) { free(pool); return NULL; }
    pthread_mutex_init(&pool->mutex, NULL);
    pthread_cond_init(&pool->wake, NULL);
    pthread_cond_init(&pool->done, NULL);
    for (size_t i = 0; i < threads - 1; i++) {
        if (pthread_create(&pool->threads[i], NULL, worker_main, pool) != 0) {
            d2l_sys_pool_free(pool);
            return NULL;
        }
        pool->worker_count++;
    }
    return pool;
}

void d2l_sys_pool_free(d2l_sys_pool *pool) {
    if (pool == NULL) return;
    pthread_mutex_lock(&pool->mutex);
    __atomic_store_n(&pool->stopping, 1, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->mutex);
    for (size_t i = 0; i < pool->worker_count; i++) pthread_join(pool->threads[i], NULL);
    pthread_mutex_destroy(&pool->mutex);
    pthread_cond_destroy(&pool->wake);
    pthread_cond_destroy(&pool->done);
    free(pool->threads);
    free(pool);
}

void d2l_sys_pool_run(d2l_sys_pool *pool, size_t count, d2l_sys_pool_fn fn, void *context) {
    if (count == 0) return;
    if (pool == NULL || count == 1) {
        for (size_t i = 0; i < count; i++) fn(context, i);
        return;
    }
    pthread_mutex_lock(&pool->mutex);
    pool->fn = fn;
    pool->context = context;
    pool->count = count;
    pool->next = 0;
    __atomic_store_n(&pool->finished, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&pool->generation, pool->generation + 1, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&pool->wake);
    run_chunks(pool);
    if (pool->finished < pool->count) {
        /* Poll a while for the other threads' last chunks before sleeping. */
        pthread_mutex_unlock(&pool->mutex);
        uint64_t start = d2l_sys_now_ns();
        while (__atomic_load_n(&pool->finished, __ATOMIC_ACQUIRE) < count
               && d2l_sys_now_ns() - start < D2L_POOL_SPIN_NS) {
            cpu_relax();
        }
        pthread_mutex_lock(&pool->mutex);
    }
    while (pool->finished < pool->count) pthread_cond_wait(&pool->done, &pool->mutex);
    pool->count = 0;
    pool->next = 0;
    pthread_mutex_unlock(&pool->mutex);
}

size_t d2l_sys_cpu_count(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (size_t)n : 1;
}

uint64_t d2l_sys_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#if defined(__GLIBC__)
#include <malloc.h>
#endif

void d2l_sys_keep_freed_memory(void) {
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, 256 << 20);
    mallopt(M_TRIM_THRESHOLD, 0x7fffffff);
#endif
}
