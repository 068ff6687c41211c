/* segtemporal — the segmenter element's temporal filter, plain C.
 *
 * Steadies a stream of foreground probability masks without making them
 * lag: where the scene is still the probability is averaged over
 * inferences and the foreground decision has hysteresis, so camera noise
 * does not make edge pixels toggle; where the frame itself changed (a
 * tile's luma differs from the previous inference's frame) the mask follows
 * the new inference at once. Between inferences (`interval`) it moves the
 * last mask along the motion measured on the frames.
 *
 * The frame is seen only through a 64x64 luma thumbnail (up to 4x4 samples
 * per thumbnail pixel, so noise averages out and the cost does not grow
 * with the frame size); motion is decided per tile of 4x4 thumbnail pixels
 * (16x16 tiles over the frame, whatever the mask size).
 *
 * Use: seg_temporal_observe() on every frame that gets a mask, then either
 * seg_temporal_filter() on a fresh inference's planes (which also makes
 * that frame the reference) or seg_temporal_track() and, if it found
 * motion, seg_temporal_warp() to carry the reference mask to the observed
 * frame. One instance per stream, one thread at a
 * time; buffers are allocated when the mask or frame size changes, never
 * per frame.
 */
#ifndef SEGD_SEGTEMPORAL_H
#define SEGD_SEGTEMPORAL_H

#include <segmenter/seg.h>
#include <stdint.h>

#define SEG_TEMPORAL_THUMB 64 /* thumbnail side, pixels */
#define SEG_TEMPORAL_TILE 4   /* tile side, thumbnail pixels */
#define SEG_TEMPORAL_TILES (SEG_TEMPORAL_THUMB / SEG_TEMPORAL_TILE)

typedef struct
{
  /* Weight of the past in still tiles, 0..0.99; 0 turns the whole filter
   * off (seg_temporal_filter leaves the planes as they are). */
  float strength;
  /* Half-width of the band around `threshold`, in probability (0..0.5),
   * inside which a still pixel keeps its previous class. */
  float hysteresis;
  /* Foreground cut, in probability (0..1). */
  float threshold;
  /* Mean absolute luma change of a tile (levels of 255) from which it
   * counts as moving; from half of it the filter starts to let go. */
  float motion;
} seg_temporal_params;

typedef struct seg_temporal seg_temporal;

/* (transfer full); NULL when out of memory. */
seg_temporal *seg_temporal_new (void);

/* NULL is a no-op. */
void seg_temporal_free (seg_temporal *t);

/* For tests: makes `t` run the baseline (SSE2) build of the filter even
 * where the CPU has AVX-512. Returns whether it was running a wider one. */
int seg_temporal_use_baseline (seg_temporal *t);

/* Forgets the history: the next filtered mask passes unchanged. */
void seg_temporal_reset (seg_temporal *t);

/* Takes the luma thumbnail of `frame` (any seg_pixel_format). A change of
 * frame size resets the history. Returns SEG_ERR_INVALID for a frame
 * without pixels. */
seg_status seg_temporal_observe (seg_temporal *t, const seg_frame *frame);

/* Filters a fresh inference of the last observed frame in place: `prob`
 * (foreground probability 0..255) and, when `derive_classes`, `classes`
 * (1 = foreground) decided from the filtered probability with hysteresis;
 * otherwise `classes` is left as given (multi-class models). Both planes
 * are w x h with `stride` bytes per row. The observed frame becomes the
 * reference for the next call and for seg_temporal_warp(). A change of
 * mask size resets the history. Returns SEG_ERR_NOMEM if the state cannot
 * be allocated (the planes are then left unfiltered). */
seg_status seg_temporal_filter (seg_temporal *t,
    const seg_temporal_params *params, uint8_t *prob, uint8_t *classes, int w,
    int h, int stride, int derive_classes);

/* Measures the motion between the reference frame (the one last
 * filtered) and the last observed frame, where it matters for the
 * reference mask (`src_*`, the planes last filtered, which the caller
 * keeps: w x h, `stride` bytes per row). Returns 0 if no tile moved (the
 * reference mask still fits as it is); 1 if some did (call
 * seg_temporal_warp); 2 if no shift explains most of the frame (a cut: the
 * reference mask is of another scene, a new inference is due); or
 * SEG_ERR_INVALID when there is no reference or observed frame, or the
 * history is of another mask size than w x h. */
int seg_temporal_track (seg_temporal *t, const seg_temporal_params *params,
    const uint8_t *src_prob, const uint8_t *src_classes, int w, int h,
    int stride);

/* Carries the reference mask `src_*` (as given to seg_temporal_track)
 * along the motion the last seg_temporal_track() that returned 1
 * measured, into dst_* (same size and stride).
 * Classes are re-derived from the moved probability when
 * `derive_classes`, else moved by nearest sample. */
void
seg_temporal_warp (const seg_temporal *t, const seg_temporal_params *params,
    const uint8_t *src_prob, const uint8_t *src_classes, uint8_t *dst_prob,
    uint8_t *dst_classes, int w, int h, int stride, int derive_classes);

/* Largest tile motion gate (0..1) found by the last filter or warp call:
 * how much of the scene was treated as moving. For tests and tuning. */
float seg_temporal_last_motion (const seg_temporal *t);

#endif
