/* Global average pooling over H and W of an NHWC activation (ONNX
 * GlobalAveragePool, TFLite AVERAGE_POOL_2D over the whole map and MEAN over
 * axes 1 and 2), with a fused activation. Tasks are blocks of channels so
 * that each thread streams its own columns of the map. With a second input
 * (the load-time passes fold an Add read only by the pool into it) the
 * pool averages the sum of the two, so the sum is never written out.
 */
#include <string.h>

#include "kernels/kernels.h"
#include "ops-impl.h"

/* Channels per task: enough to keep the kernel's inner loop long. */
#define CHANNEL_BLOCK 64

static seg_status
pool_infer (const seg_node *n, seg_value *v, seg_node_plan *plan, seg_err *err)
{
  if (n->nin < 1 || n->in[0] < 0 || n->nout < 1)
    return seg_fail (err, SEG_ERR_FORMAT,
        "node '%s' (GlobalAveragePool): missing input", n->name);
  const seg_value *x = &v[n->in[0]];
  if (x->rank != 4 || x->dtype != SEG_DT_F32)
    return seg_fail (err, SEG_ERR_UNSUPPORTED,
        "node '%s' (GlobalAveragePool): input must be a rank-4 float32 tensor",
        n->name);
  for (int i = 0; i < 4; i++)
    if (x->dims[i] < 1)
      return seg_fail (err, SEG_ERR_SHAPE,
          "node '%s' (GlobalAveragePool): input dim %d is %lld", n->name, i,
          (long long) x->dims[i]);
  if (n->nin > 1 && n->in[1] >= 0) {
    const seg_value *r = &v[n->in[1]];
    if (r->dtype != SEG_DT_F32 || r->rank != 4
        || memcmp (r->dims, x->dims, sizeof x->dims[0] * 4))
      return seg_fail (err, SEG_ERR_SHAPE,
          "node '%s' (GlobalAveragePool): the fused addend must have the "
          "input's shape",
          n->name);
  }
  if ((unsigned) n->a.act > SEG_ACT_SIGMOID)
    return seg_fail (err, SEG_ERR_FORMAT,
        "node '%s' (GlobalAveragePool): bad fused activation %d", n->name,
        (int) n->a.act);
  seg_value *y = &v[n->out[0]];
  y->dtype = SEG_DT_F32;
  y->rank = 4;
  y->dims[0] = x->dims[0];
  y->dims[1] = 1;
  y->dims[2] = 1;
  y->dims[3] = x->dims[3];
  plan->scratch_bytes = 0;
  plan->macs = (uint64_t) seg_shape_elements (4, x->dims);
  return SEG_OK;
}

typedef struct
{
  const seg_f32_kernels *k;
  const float *in, *add;
  float *out;
  size_t pixels, channels, blocks;
  seg_f32_act_params act;
} pool_job;

/* Running sums of in + add per channel, in pixel order as the kernels sum
 * (each pixel's x + y rounded first, as the Add stored it), so the mean is
 * the unfused graph's bit for bit (a fused activation goes through the
 * scalar maths, which the SIMD kernels' may differ from in the last bit).
 * Sums are kept in blocks of a fixed width so that the compiler keeps them
 * in vector registers. */
#define SUM_WIDTH 16

static void
pool_sum_pair (const pool_job *j, size_t b, size_t c0, size_t count, float *out)
{
  size_t base = b * j->pixels * j->channels + c0;
  float scale = 1.0f / (float) j->pixels;
  size_t c = 0;
  for (; c + SUM_WIDTH <= count; c += SUM_WIDTH) {
    float s[SUM_WIDTH] = {0};
    const float *x = j->in + base + c, *y = j->add + base + c;
    for (size_t p = 0; p < j->pixels; p++, x += j->channels, y += j->channels)
      for (int k = 0; k < SUM_WIDTH; k++)
        s[k] += x[k] + y[k];
    for (int k = 0; k < SUM_WIDTH; k++)
      out[c + k] = s[k] * scale;
  }
  for (; c < count; c++) {
    float s = 0.0f;
    const float *x = j->in + base + c, *y = j->add + base + c;
    for (size_t p = 0; p < j->pixels; p++, x += j->channels, y += j->channels)
      s += *x + *y;
    out[c] = s * scale;
  }
  seg_f32_act_apply (&j->act, out, count);
}

static void
pool_task (void *data, size_t task, int thread)
{
  const pool_job *j = data;
  size_t b = task / j->blocks, c0 = task % j->blocks * CHANNEL_BLOCK;
  size_t count =
      j->channels - c0 < CHANNEL_BLOCK ? j->channels - c0 : CHANNEL_BLOCK;
  if (j->add) {
    pool_sum_pair (j, b, c0, count, j->out + b * j->channels + c0);
    return;
  }
  j->k->gavgpool (j->pixels, count, j->in + b * j->pixels * j->channels + c0,
      j->channels, 1.0f / (float) j->pixels, j->out + b * j->channels + c0,
      &j->act);
}

static void
pool_run (const seg_node *n, const seg_value *v, const seg_node_plan *plan,
    const seg_run_ctx *ctx)
{
  const seg_value *x = &v[n->in[0]];
  pool_job j = {
      .k = seg_f32_kernels_get (),
      .in = x->data,
      .add = n->nin > 1 && n->in[1] >= 0 ? v[n->in[1]].data : NULL,
      .out = v[n->out[0]].data,
      .pixels = (size_t) x->dims[1] * x->dims[2],
      .channels = x->dims[3],
      .blocks = ((size_t) x->dims[3] + CHANNEL_BLOCK - 1) / CHANNEL_BLOCK,
      .act = {n->a.act, n->a.act_a, n->a.act_b},
  };
  seg_threadpool_run (ctx->pool, pool_task, &j, (size_t) x->dims[0] * j.blocks);
}

const seg_op_vtable seg_op_global_avg_pool = {
    .infer = pool_infer,
    .run = pool_run,
};
