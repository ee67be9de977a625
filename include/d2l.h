/*
 * d2l.h — the C API of libd2l, the d2l inference runtime.
 *
 * libd2l loads an ONNX model (the d2l model format), validates it completely, plans
 * its memory for the input shapes it is given, and runs it on the CPU.
 *
 *     d2l_model *model = NULL;
 *     if (d2l_model_load_file("lenet.onnx", &model) != D2L_OK) {
 *         fprintf(stderr, "%s\n", d2l_last_error());
 *         return 1;
 *     }
 *     d2l_session *session = NULL;
 *     int64_t shape[4] = {1, 1, 28, 28};
 *     const void *logits; const int64_t *out_shape; size_t rank; d2l_dtype dtype;
 *     if (d2l_session_create(model, &session) != D2L_OK
 *         || d2l_session_set_input(session, 0, D2L_FLOAT32, pixels, shape, 4) != D2L_OK
 *         || d2l_session_run(session) != D2L_OK
 *         || d2l_session_get_output(session, 0, &dtype, &logits, &out_shape, &rank) != D2L_OK) {
 *         fprintf(stderr, "%s\n", d2l_last_error());
 *     }
 *     d2l_session_free(session);   // accepts NULL
 *     d2l_model_free(model);
 *
 * Conventions, for every function below:
 *  - Fallible calls return d2l_status (marked D2L_NODISCARD: check it). D2L_OK is 0. On
 *    any other status out-parameters are left untouched, d2l_last_error() holds a
 *    one-line message that names the problem, and the call has changed nothing, with
 *    two exceptions stated at their declarations: a failed d2l_session_run discards the
 *    previous run's outputs, and d2l_generate replaces the session's inputs. Either way
 *    the handle stays usable.
 *  - Ownership: what a _load or _create function returns belongs to the caller and is
 *    released by the matching _free, which accepts NULL. Pointers described as
 *    "borrowed" belong to the library; the declaration says how long they stay valid.
 *  - Threads: a d2l_model is immutable after loading and may be used by any number of
 *    threads at once. A d2l_session holds mutable state (inputs, activations, outputs)
 *    and must be used by one thread at a time; different sessions are independent.
 *  - Versioning: changes are additive. D2L_API_VERSION grows when functions are added;
 *    a name is marked D2L_DEPRECATED("use ...") for at least one API version before it is
 *    removed. Check d2l_api_version() at run time.
 *  - Symbols: libd2l exports exactly the functions declared here (marked D2L_API); its
 *    internals are hidden by a linker version script.
 *
 * Linking: `cc app.c -Iinclude -Lpath/to/lib -ld2l` (libd2l.so needs libprotobuf-c.so.1
 * and, unless built with the Swift runtime linked in statically, the Swift runtime
 * libraries). See README.md for the static library.
 */
#ifndef D2L_H
#define D2L_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------------------ */
/* Declaration attributes                                                               */
/* ------------------------------------------------------------------------------------ */

#if defined(__GNUC__) || defined(__clang__)
/** Marks a function libd2l exports. */
#define D2L_API __attribute__((visibility("default")))
/** The result must be used: every d2l_status-returning function. */
#define D2L_NODISCARD __attribute__((warn_unused_result))
/** A name that will be removed; `msg` says what to use instead. */
#define D2L_DEPRECATED(msg) __attribute__((deprecated(msg)))
#else
#define D2L_API
#define D2L_NODISCARD
#define D2L_DEPRECATED(msg)
#endif

/** The version of this header's API. d2l_api_version() returns the library's. */
#define D2L_API_VERSION 3

/* ------------------------------------------------------------------------------------ */
/* Status codes and element types                                                       */
/* ------------------------------------------------------------------------------------ */

/** Result of every fallible call. Values are stable. */
typedef enum {
    D2L_OK = 0,                   /**< Success. */
    D2L_ERR_INVALID_ARGUMENT = 1, /**< A NULL pointer, an index out of range, a bad value. */
    D2L_ERR_IO = 2,               /**< A file could not be opened or read. */
    D2L_ERR_INVALID_MODEL = 3,    /**< The model is malformed: bad protobuf, dangling names,
                                       cycles, data lengths that do not match shapes. */
    D2L_ERR_UNSUPPORTED = 4,      /**< Valid ONNX that libd2l does not run: an operator,
                                       domain, opset, attribute value or dtype. */
    D2L_ERR_SHAPE = 5,            /**< Input or intermediate shapes that do not fit. */
    D2L_ERR_OUT_OF_MEMORY = 6,    /**< An allocation failed or sizes overflowed. */
    D2L_ERR_INTERNAL = 7          /**< A bug in libd2l; please report it with the message. */
} d2l_status;

/** Element types, numbered as ONNX's TensorProto.DataType. */
typedef enum {
    D2L_FLOAT32 = 1,
    D2L_UINT8 = 2,
    D2L_INT32 = 6,
    D2L_INT64 = 7,
    D2L_BOOL = 9
} d2l_dtype;

/** A loaded, validated model. Opaque; immutable after load; shareable across threads. */
typedef struct d2l_model d2l_model;

/** Per-run state of one model: inputs, planned activations, outputs. Opaque; one
 *  thread at a time. */
typedef struct d2l_session d2l_session;

/* ------------------------------------------------------------------------------------ */
/* Library information and errors                                                       */
/* ------------------------------------------------------------------------------------ */

/** The API version of the loaded library (compare with D2L_API_VERSION).
 *  Thread-safe; never fails. */
D2L_API int d2l_api_version(void);

/** The library version, e.g. "0.1.0". Borrowed, static storage. Thread-safe. */
D2L_API const char *d2l_version_string(void);

/** (API version 3.) The kernel variant the library's innermost loops run: "avx512",
 *  "avx2" (with FMA), "sse2" (the x86-64 baseline), "neon" (with FMA), "neon-vfpv3"
 *  (armv7 NEON without FMA, e.g. Cortex-A8/A9) or "scalar". The library picks
 *  the best variant this CPU runs the first time any kernel needs one (or this is
 *  called); the environment variable D2L_KERNEL_ISA, set to one of those words, caps the
 *  choice (for tests and benchmarks). A cap the CPU cannot honour, or a word this
 *  architecture has no variant for, gives the best variant it runs: this function says
 *  which was chosen. Results of different variants agree to rounding.
 *  Borrowed, static storage. Thread-safe; never fails. */
D2L_API const char *d2l_kernel_isa(void);

/** A constant name for `status`, e.g. "D2L_ERR_SHAPE"; "D2L_ERR_UNKNOWN" for values not
 *  in d2l_status. Borrowed, static storage. Thread-safe. */
D2L_API const char *d2l_status_string(d2l_status status);

/** The message of the last failed call on this thread ("" if none). Borrowed: valid
 *  until the next failing call on the same thread. Never NULL. Thread-safe (each thread
 *  has its own message). Successful calls do not clear it. */
D2L_API const char *d2l_last_error(void);

/* ------------------------------------------------------------------------------------ */
/* Models                                                                               */
/* ------------------------------------------------------------------------------------ */

/** Loads and validates the ONNX model at `path`. Weights stored as external data are
 *  read from files in the model's folder (absolute locations and ".." are refused).
 *  On success *out_model receives a new model owned by the caller (free it with
 *  d2l_model_free). Errors: D2L_ERR_INVALID_ARGUMENT (NULL path or out_model),
 *  D2L_ERR_IO (unreadable file), D2L_ERR_INVALID_MODEL, D2L_ERR_UNSUPPORTED,
 *  D2L_ERR_SHAPE, D2L_ERR_OUT_OF_MEMORY; *out_model is untouched on error.
 *  Thread-safe. */
D2L_API D2L_NODISCARD d2l_status d2l_model_load_file(const char *path, d2l_model **out_model);

/** Like d2l_model_load_file, from `size` bytes at `data`. The buffer is only read
 *  during the call (the caller keeps ownership; the model keeps no pointer into it).
 *  A model whose weights are stored as external data is refused with
 *  D2L_ERR_INVALID_MODEL (load it with d2l_model_load_file instead). Thread-safe. */
D2L_API D2L_NODISCARD d2l_status d2l_model_load_memory(const void *data, size_t size, d2l_model **out_model);

/** Releases a model. Accepts NULL. Every session created from the model must be freed
 *  first. Not thread-safe with respect to other uses of the same model. */
D2L_API void d2l_model_free(d2l_model *model);

/** Number of graph inputs the caller provides (initializers are not counted); 0 when
 *  model is NULL. Thread-safe. */
D2L_API size_t d2l_model_input_count(const d2l_model *model);

/** Number of graph outputs; 0 when model is NULL. Thread-safe. */
D2L_API size_t d2l_model_output_count(const d2l_model *model);

/** Name of input `index`; NULL when model is NULL or index is out of range. Borrowed:
 *  valid until d2l_model_free. Thread-safe. */
D2L_API const char *d2l_model_input_name(const d2l_model *model, size_t index);

/** Name of output `index`; NULL when model is NULL or index is out of range. Borrowed:
 *  valid until d2l_model_free. Thread-safe. */
D2L_API const char *d2l_model_output_name(const d2l_model *model, size_t index);

/** Declared shape of input `index`: *out_shape receives `*out_rank` dimensions, -1 for
 *  a symbolic or unknown dimension (such as the batch). The array is borrowed, valid
 *  until d2l_model_free. Errors: D2L_ERR_INVALID_ARGUMENT (NULL pointer, index out of
 *  range). Thread-safe. */
D2L_API D2L_NODISCARD d2l_status d2l_model_input_shape(const d2l_model *model, size_t index,
                                                       const int64_t **out_shape, size_t *out_rank);

/** Declared shape of output `index`, as d2l_model_input_shape (-1 for symbolic or
 *  unknown dimensions). Thread-safe. */
D2L_API D2L_NODISCARD d2l_status d2l_model_output_shape(const d2l_model *model, size_t index,
                                                        const int64_t **out_shape, size_t *out_rank);

/** Element type of input `index`. Errors: D2L_ERR_INVALID_ARGUMENT. Thread-safe. */
D2L_API D2L_NODISCARD d2l_status d2l_model_input_dtype(const d2l_model *model, size_t index, d2l_dtype *out_dtype);

/** Element type of output `index`. Errors: D2L_ERR_INVALID_ARGUMENT. Thread-safe. */
D2L_API D2L_NODISCARD d2l_status d2l_model_output_dtype(const d2l_model *model, size_t index, d2l_dtype *out_dtype);

/** (API version 3.) The index of the input named `name` (a NUL-terminated string,
 *  compared byte for byte with d2l_model_input_name's), for d2l_session_set_input and
 *  friends. On success *out_index receives it. Errors: D2L_ERR_INVALID_ARGUMENT (NULL
 *  model, name or out_index; no input of that name: the message lists the model's inputs,
 *  the first eight when it has more); *out_index is untouched on error. Thread-safe. */
D2L_API D2L_NODISCARD d2l_status d2l_model_input_index(const d2l_model *model, const char *name, size_t *out_index);

/** (API version 3.) The index of the output named `name`, as d2l_model_input_index (for
 *  d2l_session_get_output). Errors: D2L_ERR_INVALID_ARGUMENT (NULL pointer, unknown name:
 *  the message lists the model's outputs). Thread-safe. */
D2L_API D2L_NODISCARD d2l_status d2l_model_output_index(const d2l_model *model, const char *name, size_t *out_index);

/** (API version 3.) The dimension names of input `index`: *out_names receives an array of
 *  *out_rank entries (the rank of d2l_model_input_shape), entry d the `dim_param` name of
 *  dimension d when it is symbolic and named (e.g. "batch"), NULL for a fixed dimension or
 *  one with no name. Array and strings are borrowed, valid until d2l_model_free (for rank
 *  0 the array holds no entry). Errors: D2L_ERR_INVALID_ARGUMENT (NULL pointer, index out
 *  of range); out-params untouched on error. Thread-safe. */
D2L_API D2L_NODISCARD d2l_status d2l_model_input_dim_names(const d2l_model *model, size_t index,
                                                           const char *const **out_names, size_t *out_rank);

/** (API version 3.) The dimension names of output `index`, as d2l_model_input_dim_names.
 *  Thread-safe. */
D2L_API D2L_NODISCARD d2l_status d2l_model_output_dim_names(const d2l_model *model, size_t index,
                                                            const char *const **out_names, size_t *out_rank);

/** The value of metadata entry `key` (ModelProto.metadata_props, e.g. "d2l.labels");
 *  NULL when model or key is NULL or the key is absent. Borrowed: valid until
 *  d2l_model_free. Thread-safe. */
D2L_API const char *d2l_model_metadata(const d2l_model *model, const char *key);

/** Number of metadata entries; 0 when model is NULL. Thread-safe. */
D2L_API size_t d2l_model_metadata_count(const d2l_model *model);

/** Key of metadata entry `index`, in file order; NULL when out of range. Borrowed: valid
 *  until d2l_model_free. Thread-safe. */
D2L_API const char *d2l_model_metadata_key(const d2l_model *model, size_t index);

/** The default-domain opset the model imports (13 or later). 0 when model is NULL. */
D2L_API int64_t d2l_model_opset(const d2l_model *model);

/* ------------------------------------------------------------------------------------ */
/* Sessions                                                                             */
/* ------------------------------------------------------------------------------------ */

/** Creates a session for `model`. The model must outlive the session. On success
 *  *out_session receives a new session owned by the caller (free it with
 *  d2l_session_free). Memory is planned on the first run and again only when input
 *  shapes change. Errors: D2L_ERR_INVALID_ARGUMENT, D2L_ERR_OUT_OF_MEMORY; untouched
 *  out-param on error. Thread-safe with respect to the model. */
D2L_API D2L_NODISCARD d2l_status d2l_session_create(const d2l_model *model, d2l_session **out_session);

/** Releases a session and everything it owns (borrowed outputs become invalid).
 *  Accepts NULL. */
D2L_API void d2l_session_free(d2l_session *session);

/** Number of threads the session's kernels use (1 = run on the caller's thread only,
 *  the default; 0 = one per processor). Errors: D2L_ERR_INVALID_ARGUMENT (NULL, more
 *  than 256), D2L_ERR_OUT_OF_MEMORY (threads could not be started; the setting is
 *  unchanged). */
D2L_API D2L_NODISCARD d2l_status d2l_session_set_threads(d2l_session *session, size_t threads);

/** Copies an input tensor into the session: `data` holds the product of `shape[0..rank)`
 *  elements of `dtype`, row-major, and is only read during the call. The dtype must be
 *  the input's; the rank and every fixed dimension must match the declared shape (a
 *  symbolic dimension takes any size ≥ 1). Errors: D2L_ERR_INVALID_ARGUMENT (NULL
 *  pointer, index out of range, bad dtype), D2L_ERR_SHAPE (rank or dimension mismatch),
 *  D2L_ERR_OUT_OF_MEMORY. On error the session's previous input is kept. */
D2L_API D2L_NODISCARD d2l_status d2l_session_set_input(d2l_session *session, size_t index, d2l_dtype dtype,
                                                       const void *data, const int64_t *shape, size_t rank);

/** (API version 3.) Prepares input `index` from an 8-bit image and sets it, as the
 *  model's `d2l.input` metadata says (docs/FORMAT.md in the source repository), so that a
 *  caller needs no preprocessing code of its own. `pixels` holds height * width * channels
 *  bytes, row-major, channels interleaved: 1 = grayscale, 3 = RGB, 4 = RGBA (alpha is
 *  dropped); it is only read during the call. The input must be float32 [N, C, H, W] with
 *  N symbolic or 1; it is set to [1, C, H', W']:
 *   - channels: an RGB image becomes grayscale for C = 1 (PIL's "L": (19595 R + 38470 G +
 *     7471 B + 32768) >> 16), a grayscale image is repeated for C > 1 (a symbolic C is 1
 *     for a grayscale image, else 3);
 *   - size: H' x W' is d2l.input's "size": [H, W], else the input's fixed H and W, else
 *     the image's own size; a different image is resized with PIL's bilinear filter
 *     (Image.resize(BILINEAR): antialiased when shrinking; computed in double precision
 *     and rounded once, so within one level of PIL's 8-bit result);
 *   - values: pixel p of channel c becomes (lo + p * (hi - lo) / 255 - mean[c]) / std[c]
 *     with d2l.input's "range": [lo, hi], "mean" and "std" (one value, or one per
 *     channel). A model without d2l.input gets range [0, 1], mean 0, std 1.
 *  Errors: D2L_ERR_INVALID_ARGUMENT (NULL session or pixels, index out of range, height or
 *  width 0, channels not 1, 3 or 4, sizes whose product overflows, an input that is not
 *  float32 or not of rank 4), D2L_ERR_INVALID_MODEL (d2l.input malformed, or its "size"
 *  differs from the input's fixed H and W; the message says why), D2L_ERR_SHAPE (a fixed
 *  batch other than 1, an RGB image for an input of 2 or more than 3 channels, a prepared
 *  input too large), D2L_ERR_OUT_OF_MEMORY. On error the session's previous input is kept.
 *  Thread-safety: as other session calls (one thread at a time per session). */
D2L_API D2L_NODISCARD d2l_status d2l_session_set_image_u8(d2l_session *session, size_t index, const uint8_t *pixels,
                                                          size_t height, size_t width, size_t channels);

/** Runs the model on the inputs set so far (all must have been set). Plans memory when
 *  the input shapes differ from the previous run; repeated runs at the same shapes
 *  allocate nothing. (In a model whose shapes depend on values it computes, such as
 *  NonMaxSuppression on a network's own boxes, the nodes from there on run node by node
 *  after the planned rest, in buffers reused from run to run.) Errors:
 *  D2L_ERR_INVALID_ARGUMENT (NULL, an input not set), D2L_ERR_SHAPE (shapes that the
 *  graph cannot take), D2L_ERR_OUT_OF_MEMORY. After an error, earlier outputs are no
 *  longer available but the session stays usable. */
D2L_API D2L_NODISCARD d2l_status d2l_session_run(d2l_session *session);

/** Output `index` of the last successful run. *out_data points to the elements
 *  (row-major), *out_shape to *out_rank dimensions. Both are borrowed: valid until the
 *  next d2l_session_run, d2l_session_set_threads or d2l_session_free on this session.
 *  Errors: D2L_ERR_INVALID_ARGUMENT (NULL pointer, index out of range, no successful
 *  run yet); out-params untouched on error. */
D2L_API D2L_NODISCARD d2l_status d2l_session_get_output(d2l_session *session, size_t index, d2l_dtype *out_dtype,
                                                        const void **out_data, const int64_t **out_shape,
                                                        size_t *out_rank);

/* ------------------------------------------------------------------------------------ */
/* Text generation and classification (API version 2)                                  */
/* ------------------------------------------------------------------------------------ */

/** Generates text with a recurrent language model, as the book's predict_ch8 does:
 *  returns the prefix followed by `num_tokens` generated tokens (the prefix as tokens, so
 *  characters outside the vocabulary come back as "<unk>"; words are joined with single
 *  spaces).
 *
 *  The model follows the recurrent-model convention: input 0 takes int64 token ids
 *  [batch, steps] (fed as [1, 1]), every further input is a state (zeros of its declared
 *  shape at the start, symbolic dimensions as 1), output 0 holds the logits (its last
 *  `vocab size` values are the next token's) and output k >= 1 is the new value of
 *  input k. Metadata d2l.vocab is a JSON array of tokens (index 0 is "<unk>");
 *  d2l.task "word-lm" tokenizes the prefix on spaces, anything else by character.
 *
 *  `prefix` is UTF-8 and must hold at least one token. Temperature 0 picks the highest
 *  logit (ties: lowest index); a positive temperature samples: the logits divided by the
 *  temperature, the top_k largest kept (0 = all), softmax in float64, u in [0, 1) as the
 *  top 53 bits of the next SplitMix64 output (state = seed, one draw per token) times
 *  2^-53, and the first token, in index order, whose cumulative probability exceeds u.
 *  The same arguments give the same text on every platform and binding (docs/FORMAT.md
 *  in the source repository gives SplitMix64 and the rule in full).
 *
 *  On success *out_text receives a NUL-terminated UTF-8 string owned by the caller;
 *  free it with d2l_text_free. Errors: D2L_ERR_INVALID_ARGUMENT (NULL pointer, empty
 *  prefix, negative or NaN temperature, top_k larger than the vocabulary),
 *  D2L_ERR_INVALID_MODEL (d2l.vocab missing or not a JSON array of strings, logits that
 *  do not match the vocabulary, recurrent inputs and outputs that do not pair up),
 *  D2L_ERR_UNSUPPORTED (a fixed token dimension other than 1), D2L_ERR_SHAPE,
 *  D2L_ERR_OUT_OF_MEMORY. The session's inputs and outputs are replaced by the
 *  generation's; on error it stays usable (set inputs again before d2l_session_run).
 *  Thread-safety: as other session calls (one thread at a time per session). */
D2L_API D2L_NODISCARD d2l_status d2l_generate(d2l_session *session, const char *prefix, size_t num_tokens,
                                              float temperature, size_t top_k, uint64_t seed, char **out_text);

/** Frees text returned by d2l_generate. Accepts NULL. Thread-safe. */
D2L_API void d2l_text_free(char *text);

/** Top-k classes of output 0, row 0 (its first last-dimension values) of the session's
 *  last successful run: the softmax (float64) of the float32 logits, indices sorted by
 *  probability descending (ties: lower index first). top_k is capped at the class count.
 *  out_indices and out_probabilities have room for top_k entries; out_labels (may be
 *  NULL) receives, for each entry, a borrowed label from d2l.labels (valid until
 *  d2l_model_free), NULL when the model has no labels or none for that index;
 *  *out_count receives the number of entries written.
 *  Errors: D2L_ERR_INVALID_ARGUMENT (NULL session, out_indices, out_probabilities or
 *  out_count, top_k 0, no successful run yet), D2L_ERR_INVALID_MODEL (output 0 not
 *  float32, or d2l.labels present but not a JSON array of strings when out_labels is
 *  given), D2L_ERR_SHAPE (output 0 empty). Nothing is written on error. Thread-safety:
 *  as other session calls (one thread at a time per session). */
D2L_API D2L_NODISCARD d2l_status d2l_classify(d2l_session *session, size_t top_k, size_t *out_indices,
                                              double *out_probabilities, const char **out_labels, size_t *out_count);

/** (API version 3.) d2l_classify for row `row` of output 0: the rows are its last-dimension
 *  vectors (their number is the product of every dimension but the last, 1 for a rank-1
 *  output), so that a batch of B images, logits [B, classes], gives row b for image b.
 *  d2l_classify is d2l_classify_row with row 0. Outputs, ownership and errors are
 *  d2l_classify's, plus D2L_ERR_INVALID_ARGUMENT for a row out of range (the message gives
 *  the row count). Nothing is written on error. Thread-safety: as other session calls. */
D2L_API D2L_NODISCARD d2l_status d2l_classify_row(d2l_session *session, size_t row, size_t top_k, size_t *out_indices,
                                                  double *out_probabilities, const char **out_labels,
                                                  size_t *out_count);

/* ------------------------------------------------------------------------------------ */
/* Object detection helpers (API version 3): the book's 13.3-13.4, no model needed        */
/* ------------------------------------------------------------------------------------ */
/*
 * Boxes are float32 in corner format (x1, y1, x2, y2), row-major [count, 4], x to the
 * right and y down (pixels, or fractions of the image as multibox_prior's anchors). These
 * functions check every pointer, count and value before computing and write their outputs
 * only on success (D2L_ERR_INVALID_ARGUMENT otherwise, nothing written): a pointer may be
 * NULL only when its count is 0; values must be finite; counts whose products overflow
 * size_t are refused. They keep no state and may be called from any thread at once.
 */

/** Intersection over union of every pair (the book's box_iou): out_iou[i * count2 + j] =
 *  IoU(boxes1[i], boxes2[j]) = intersection / (area1 + area2 - intersection), 0 when the
 *  union is 0 (two zero-area boxes). out_iou has room for count1 * count2 floats. */
D2L_API D2L_NODISCARD d2l_status d2l_box_iou(const float *boxes1, size_t count1, const float *boxes2, size_t count2,
                                             float *out_iou);

/** The book's multibox_prior for a height x width feature map: for each pixel (row-major)
 *  size_count + ratio_count - 1 anchors centred on ((x + 0.5) / width, (y + 0.5) / height),
 *  first (sizes[i], ratios[0]) for every size, then (sizes[0], ratios[j]) for j >= 1, each
 *  of width s * sqrt(r) * height / width and height s / sqrt(r), in [0, 1] image
 *  coordinates. out_anchors has room for height * width * (size_count + ratio_count - 1)
 *  * 4 floats. Errors: height or width 0, no sizes or ratios, a size or ratio <= 0 or not
 *  finite, a count that overflows. */
D2L_API D2L_NODISCARD d2l_status d2l_multibox_prior(size_t height, size_t width, const float *sizes, size_t size_count,
                                                    const float *ratios, size_t ratio_count, float *out_anchors);

/** Non-maximum suppression (the book's nms): boxes in descending score order, ties by the
 *  lower index first, each kept unless its IoU with a box already kept exceeds
 *  iou_threshold (in [0, 1]). out_keep (room for count indices) receives the kept indices
 *  in that order, *out_kept their number. */
D2L_API D2L_NODISCARD d2l_status d2l_nms(const float *boxes, const float *scores, size_t count, float iou_threshold,
                                         size_t *out_keep, size_t *out_kept);

/** The book's multibox_detection for one image. class_probs is [class_count, anchor_count]
 *  (row 0 the background; class_count >= 2), offsets [anchor_count, 4] (the predicted
 *  (dx, dy, dw, dh) of each anchor), anchors [anchor_count, 4]. Each anchor's box is its
 *  anchor moved by its offsets (center + d_xy * anchor size / 10, size * exp(d_wh / 5)),
 *  its class the most probable non-background class (0-based: class_probs row c + 1; the
 *  first on ties) and its confidence that probability. out_detections ([anchor_count, 6])
 *  receives rows (class, confidence, x1, y1, x2, y2): the boxes d2l_nms keeps at
 *  nms_threshold, by confidence, then the other anchors in index order with class -1; a
 *  row whose confidence is below pos_threshold gets class -1 and confidence
 *  1 - confidence. Both thresholds are in [0, 1] (the book: 0.5 and 0.009999999). */
D2L_API D2L_NODISCARD d2l_status d2l_multibox_detection(const float *class_probs, const float *offsets,
                                                        const float *anchors, size_t class_count, size_t anchor_count,
                                                        float nms_threshold, float pos_threshold, float *out_detections);

#ifdef __cplusplus
}
#endif

#endif /* D2L_H */
