/* segmenter — run MobileNetV3 + LR-ASPP segmentation models on video frames.
 *
 * The one public header of libsegmenter. A model is loaded once (ONNX or
 * TFLite, validated as untrusted input), then any number of sessions run it;
 * a session plans its memory once for its input size and never allocates on
 * the per-frame path. A session is used from one thread at a time; a model is
 * immutable after loading and may be shared by sessions on several threads.
 *
 * Errors: functions return a seg_status. Functions that take `char **error`
 * store there, on failure, one line naming the file and the offending field
 * (transfer full: release it with free()); pass NULL to ignore it.
 */
#ifndef SEGMENTER_SEG_H
#define SEGMENTER_SEG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* libsegmenter is built with hidden visibility: only what carries SEG_API
 * is exported (tests/segmenter checks the library's symbols against this
 * header). Users of the header need nothing. */
#if defined(SEG_BUILD) && defined(__GNUC__)
#define SEG_API __attribute__ ((visibility ("default")))
#else
#define SEG_API
#endif

typedef enum
{
  SEG_OK = 0,
  SEG_ERR_IO = -1,          /* file could not be read */
  SEG_ERR_FORMAT = -2,      /* malformed, truncated or hostile model file */
  SEG_ERR_UNSUPPORTED = -3, /* valid file, but an op/attribute we do not run */
  SEG_ERR_INVALID = -4,     /* bad argument from the caller */
  SEG_ERR_NOMEM = -5,
  SEG_ERR_SHAPE =
      -6, /* shapes do not fit (e.g. input size the model cannot take) */
} seg_status;

/* A static English name for a status ("format error", ...). */
SEG_API const char *seg_status_str (seg_status status);

typedef struct seg_model seg_model;
typedef struct seg_session seg_session;

typedef enum
{
  SEG_FORMAT_ONNX,
  SEG_FORMAT_TFLITE,
} seg_model_format;

/* Memory layout of the raw input/output tensors, as the model file has them. */
typedef enum
{
  SEG_LAYOUT_NCHW,
  SEG_LAYOUT_NHWC,
} seg_layout;

/* What the model's output channels mean. */
typedef enum
{
  SEG_OUTPUT_LOGITS,      /* C >= 2 class scores; argmax gives the class */
  SEG_OUTPUT_PROBABILITY, /* C == 1, sigmoid already applied: P(foreground) */
} seg_output_kind;

#define SEG_MAX_CLASSES 256

typedef struct
{
  const char *name; /* file name without directories */
  char sha256[65];  /* hex digest of the model file */
  seg_model_format format;
  seg_layout layout;
  /* Input as declared by the file, in N, C, H, W order whatever the layout. */
  int input_channels, input_height, input_width;
  int output_channels, output_height, output_width;
  /* 1 when sessions may choose another input size (all resizes follow the
   * input's shape); 0 when the file fixes it. */
  int resizable;
  seg_output_kind output_kind;
  int num_classes;           /* 2 for a probability output (background, fg) */
  const char *const *labels; /* num_classes entries, never NULL */
  /* Input normalisation: x = (pixel / 255 - mean[c]) / std[c], RGB order. */
  float mean[3], std[3];
  /* Model statistics at the declared input size. */
  uint64_t parameters;
  uint64_t macs;
  int num_nodes;
} seg_model_info;

/* Default of seg_load_options.memory_budget: 1 GiB. A fixed amount, not a
 * multiple of the file size: beyond the weights, what a load and a session
 * need grows with the input size, not the file. LR-ASPP MobileNetV3-Large
 * (13 MB) holds 26 MB once loaded, weights and their packed copy, and an
 * 8-thread session at 97x97 adds 7 MB, activations growing with the pixel
 * count (~180 MB at 1080p). A 24-byte ConstantOfShape shape asks for 2 GiB
 * and is refused. */
#define SEG_DEFAULT_MEMORY_BUDGET ((size_t) 1 << 30)

typedef struct
{
  /* Most bytes a load may create: the constants copied from the file, the
   * ones the load-time passes fold and pack, the values planned from
   * shapes, and the activations a session at the declared input size
   * needs. Each session then gets what the model leaves of it for its own
   * plan-time values, arena and kernel scratch. Going over fails the load
   * with SEG_ERR_FORMAT (a session with SEG_ERR_SHAPE for its arena or
   * scratch) and a message naming the node, before the memory is
   * allocated. 0: SEG_DEFAULT_MEMORY_BUDGET. */
  size_t memory_budget;
} seg_load_options;

/* Loads a model. The format is taken from the file's content, not its name.
 * Metadata defaults come from the model family (torchvision LR-ASPP: ImageNet
 * mean/std, VOC labels for 21 classes; MediaPipe selfie: pixel/255,
 * background/person) and are overridden by an optional sidecar key file
 * PATH.meta if it exists (keys documented in docs/model-metadata.md).
 * On success *model is owned by the caller (free with seg_model_free). */
SEG_API seg_status seg_model_load (const char *path, seg_model **model,
    char **error);

/* Same from memory; `name` is used in messages. The data is copied. */
SEG_API seg_status seg_model_load_from_memory (const void *data, size_t size,
    const char *name, seg_model **model, char **error);

/* The two above with options; NULL options are the defaults, which the two
 * above use. */
SEG_API seg_status seg_model_load_with_options (const char *path,
    const seg_load_options *options, seg_model **model, char **error);
SEG_API seg_status seg_model_load_from_memory_with_options (const void *data,
    size_t size, const char *name, const seg_load_options *options,
    seg_model **model, char **error);

/* NULL is a no-op. The model must outlive its sessions. */
SEG_API void seg_model_free (seg_model *model);

/* (transfer none): valid while the model lives. */
SEG_API const seg_model_info *seg_model_get_info (const seg_model *model);

/* Number of ops of each type in the loaded graph, as "Conv:52 Add:9 ..."
 * written into buf (NUL-terminated, truncated to size). */
SEG_API void
seg_model_describe_ops (const seg_model *model, char *buf, size_t size);

/* One load-time pass over the graph, as it ran when the model was loaded. */
typedef struct
{
  const char *name;    /* "fold-batchnorm", ... (static) */
  double milliseconds; /* wall time of the pass */
  int nodes;           /* nodes left after it */
} seg_pass_info;

/* The passes that rewrote the graph after import, in the order they ran:
 * stores the array in *passes (transfer none: valid while the model lives)
 * and returns its length. */
SEG_API int
seg_model_get_passes (const seg_model *model, const seg_pass_info **passes);

/* The most worker threads a session runs (the calling thread included). */
#define SEG_MAX_THREADS 64

typedef struct
{
  /* 0 or 1: run on the calling thread only. More than SEG_MAX_THREADS runs
   * SEG_MAX_THREADS, so that "one per CPU" works on any host; the number
   * used is seg_session_info.threads. */
  int threads;
  int input_width; /* 0: the model's declared size */
  int input_height;
  /* 1: when the graph ends in a bilinear, half-pixel Resize (torchvision's
   * final upsample), stop before it. seg_session_output() and
   * seg_session_copy_output() then give the scores at the pre-resize size,
   * and class maps / probabilities upsample from them inside the mask pass
   * itself, with the same sampling; the full-resolution score tensor (21 x
   * 520 x 520 floats for LR-ASPP at 520) is never stored. For callers that
   * want masks, not raw scores. */
  int skip_final_resize;
} seg_session_options;

/* Plans memory for the input size and starts the worker threads.
 * (transfer full) *session; free with seg_session_free. */
SEG_API seg_status seg_session_new (const seg_model *model,
    const seg_session_options *options, seg_session **session, char **error);

SEG_API void seg_session_free (seg_session *session);

typedef struct
{
  int input_channels, input_height, input_width;
  int output_channels, output_height, output_width;
  size_t arena_bytes;   /* planned activation memory */
  size_t scratch_bytes; /* per-session kernel scratch (all threads) */
  uint64_t macs;        /* multiply-accumulates per run at this size */
  int threads;
} seg_session_info;

SEG_API void
seg_session_get_info (const seg_session *session, seg_session_info *info);

/* Runs on a raw float tensor in the model's own layout (NCHW for ONNX files,
 * NHWC for TFLite), no preprocessing. `count` must equal N*C*H*W. */
SEG_API seg_status seg_session_run (seg_session *session, const float *input,
    size_t count);

typedef enum
{
  SEG_PIXEL_RGB, /* packed 24-bit */
  SEG_PIXEL_BGR,
  SEG_PIXEL_RGBX, /* packed 32-bit, X ignored */
  SEG_PIXEL_BGRX,
  SEG_PIXEL_XRGB,
  SEG_PIXEL_XBGR,
  SEG_PIXEL_RGBA,
  SEG_PIXEL_BGRA,
  SEG_PIXEL_NV12, /* Y plane + interleaved UV plane, 4:2:0 */
  SEG_PIXEL_I420, /* Y, U, V planes, 4:2:0 */
  SEG_PIXEL_YUY2, /* packed 4:2:2, Y0 U Y1 V */
  SEG_PIXEL_GRAY8,
} seg_pixel_format;

typedef struct
{
  seg_pixel_format format;
  int width, height;
  const uint8_t *planes[3]; /* only the planes the format has */
  int strides[3];           /* bytes per row of each plane */
} seg_frame;

/* Resizes (bilinear), converts to RGB (BT.601 limited range for YUV) and
 * normalises the frame into the model input in one pass, then runs. */
SEG_API seg_status seg_session_run_frame (seg_session *session,
    const seg_frame *frame);

/* The output of the last run, NHWC at model output size (transfer none; valid
 * until the next run). For SEG_OUTPUT_LOGITS these are raw scores. */
SEG_API const float *seg_session_output (const seg_session *session,
    int *height, int *width, int *channels);

/* Copies the last output in the model's own layout (NCHW for ONNX). `count`
 * must equal the output's element count. */
SEG_API seg_status seg_session_copy_output (const seg_session *session,
    float *dst, size_t count);

/* Class index per pixel (argmax of the logits; for a probability output
 * 1 where p >= threshold, else 0), resized bilinearly to width x height
 * before the decision. `threshold` is ignored for logits. */
SEG_API seg_status seg_session_class_map (const seg_session *session,
    uint8_t *dst, int width, int height, int stride, float threshold);

/* Probability of `class_index` per pixel as 0..255 (softmax over logits, or
 * the model's own probability), resized bilinearly to width x height. */
SEG_API seg_status seg_session_probability (const seg_session *session,
    int class_index, uint8_t *dst, int width, int height, int stride);

#ifdef __cplusplus
}
#endif

#endif /* SEGMENTER_SEG_H */
