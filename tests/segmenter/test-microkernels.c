/* Tests of the microkernels behind the conv-like ops: every SIMD table
 * (AVX2, AVX-512, NEON, where built and supported by the CPU) against the
 * scalar kernels, with NaN-filled outputs to catch missed or stray stores,
 * padded inputs and sizes below, at, above and at multiples of each tile;
 * then the scalar kernels themselves. Run before the op tests in the
 * 'kernels' suite: a broken SIMD kernel is easier to read here than
 * through an op.
 *
 * Tolerance: |got - ref| <= 1e-5 * (1 + |ref|) per element.
 */
#include "conv-env.h"

/* ---- kernels: SIMD against scalar -------------------------------------- */

static void
test_gemm_kernel (env *e, const seg_f32_kernels *k)
{
  static const size_t ncs[] = {1, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 48, 63,
      64, 65, 80};
  static const size_t kcs[] = {0, 1, 2, 5, 16, 37};
  const seg_f32_kernels *ref_k = seg_f32_kernels_scalar ();
  int index = 0;
  for (size_t mr = 1; mr <= k->gemm_mr; mr++)
    for (size_t ni = 0; ni < sizeof ncs / sizeof ncs[0]; ni++)
      for (size_t ki = 0; ki < sizeof kcs / sizeof kcs[0]; ki++, index++) {
        size_t nc = ncs[ni], kc = kcs[ki];
        size_t a_stride = kc + 3, c_stride = nc + 5, rows = k->gemm_mr + 1;
        seg_f32_act_params act = {(seg_act) (index % 6), 0, 0};
        act_params (act.act, &act.a, &act.b);
        float *a = random_floats (e, rows * a_stride, 1.0f);
        float *b = random_floats (e, nc * kc, 0.5f);
        float *bias = random_floats (e, nc, 1.0f);
        float *pk =
            malloc (seg_f32_gemm_packed_size (k->gemm_nr, nc, kc) * sizeof *pk);
        float *pr = malloc (
            seg_f32_gemm_packed_size (ref_k->gemm_nr, nc, kc) * sizeof *pr);
        float *ck = malloc (rows * c_stride * sizeof *ck);
        float *cr = malloc (rows * c_stride * sizeof *cr);
        double *want = malloc (mr * nc * sizeof *want);
        seg_f32_gemm_pack (k->gemm_nr, nc, kc, b, kc, bias, pk);
        seg_f32_gemm_pack (ref_k->gemm_nr, nc, kc, b, kc, bias, pr);
        for (size_t i = 0; i < rows * c_stride; i++)
          ck[i] = cr[i] = NAN;
        for (size_t i = 0; i < mr; i++)
          for (size_t j = 0; j < nc; j++) {
            double acc = bias[j];
            for (size_t q = 0; q < kc; q++)
              acc += (double) a[i * a_stride + q] * b[j * kc + q];
            want[i * nc + j] = ref_act (act.act, act.a, act.b, acc);
          }
        k->gemm (mr, nc, kc, a, a_stride, pk, ck, c_stride, &act);
        for (size_t r = 0; r < mr; r += ref_k->gemm_mr)
          ref_k->gemm (mr - r < ref_k->gemm_mr ? mr - r : ref_k->gemm_mr, nc,
              kc, a + r * a_stride, a_stride, pr, cr + r * c_stride, c_stride,
              &act);

        char what[128];
        snprintf (what, sizeof what, "gemm %s mr%zu nc%zu kc%zu act%d", k->name,
            mr, nc, kc, (int) act.act);
        e->checks++;
        bool ok = true;
        for (size_t i = 0; i < rows && ok; i++)
          for (size_t j = 0; j < c_stride && ok; j++) {
            float got = ck[i * c_stride + j], sc = cr[i * c_stride + j];
            if (i >= mr || j >= nc) {
              if (!isnan (got)) {
                fail (e, "%s: wrote outside the block at row %zu col %zu", what,
                    i, j);
                ok = false;
              }
              continue;
            }
            double w = want[i * nc + j];
            if (!(fabs (got - w) <= TOLERANCE * (1 + fabs (w)))
                || !(fabs (got - sc) <= TOLERANCE * (1 + fabs (sc)))) {
              fail (e,
                  "%s: row %zu col %zu is %.9g, scalar %.9g, reference "
                  "%.9g",
                  what, i, j, (double) got, (double) sc, w);
              ok = false;
            }
          }
        /* The fused blocks project bands whose last tile has fewer rows
         * than the unfused conv's tiles: a row must get the same bits
         * whatever the tile height (the few-row paths sum in order). */
        float *cf = malloc (rows * c_stride * sizeof *cf);
        k->gemm (k->gemm_mr, nc, kc, a, a_stride, pk, cf, c_stride, &act);
        for (size_t i = 0; i < mr && ok; i++)
          if (memcmp (cf + i * c_stride, ck + i * c_stride, nc * sizeof *cf)
              != 0) {
            fail (e,
                "%s: row %zu differs from the same row in a full "
                "%zu-row tile",
                what, i, k->gemm_mr);
            ok = false;
          }
        free (cf);
        free (a);
        free (b);
        free (bias);
        free (pk);
        free (pr);
        free (ck);
        free (cr);
        free (want);
      }
}

static void
test_dwconv_kernel (env *e, const seg_f32_kernels *k)
{
  static const size_t chans[] = {1, 2, 7, 8, 9, 15, 16, 17, 23, 24, 31, 33, 40};
  static const size_t tapss[] = {1, 9, 25};
  const seg_f32_kernels *ref_k = seg_f32_kernels_scalar ();
  int index = 0;
  for (size_t ci = 0; ci < sizeof chans / sizeof chans[0]; ci++)
    for (size_t ti = 0; ti < 3; ti++)
      for (size_t width = 1; width <= 13; width += width < 5 ? 2 : 4, index++) {
        size_t ch = chans[ci], taps = tapss[ti], stride = ch + 3;
        seg_f32_act_params act = {(seg_act) (index % 6), 0, 0};
        act_params (act.act, &act.a, &act.b);
        /* Distinct input vectors, each exactly ch floats long so that an
         * over-read is an ASan error. */
        size_t nin = width * taps;
        float **vecs = malloc (nin * sizeof *vecs);
        for (size_t i = 0; i < nin; i++)
          vecs[i] = random_floats (e, ch, 1.0f);
        float *kw = random_floats (e, ch * taps, 0.5f);
        float *bias = random_floats (e, ch, 1.0f);
        float *packed = malloc ((1 + taps) * ch * sizeof *packed);
        seg_f32_dwconv_pack (ch, taps, kw, bias, packed);
        float *ok_ = malloc (width * stride * sizeof *ok_);
        float *or_ = malloc (width * stride * sizeof *or_);
        for (size_t i = 0; i < width * stride; i++)
          ok_[i] = or_[i] = NAN;
        k->dwconv (ch, width, taps, (const float *const *) vecs, packed, ok_,
            stride, &act);
        ref_k->dwconv (ch, width, taps, (const float *const *) vecs, packed,
            or_, stride, &act);
        char what[128];
        snprintf (what, sizeof what, "dwconv %s ch%zu taps%zu width%zu act%d",
            k->name, ch, taps, width, (int) act.act);
        e->checks++;
        bool good = true;
        for (size_t x = 0; x < width && good; x++)
          for (size_t c = 0; c < stride && good; c++) {
            float got = ok_[x * stride + c], sc = or_[x * stride + c];
            if (c >= ch) {
              if (!isnan (got)) {
                fail (e, "%s: wrote past the channels at pixel %zu", what, x);
                good = false;
              }
              continue;
            }
            double acc = bias[c];
            for (size_t t = 0; t < taps; t++)
              acc += (double) vecs[x * taps + t][c] * kw[c * taps + t];
            double w = ref_act (act.act, act.a, act.b, acc);
            if (!(fabs (got - w) <= TOLERANCE * (1 + fabs (w)))
                || !(fabs (got - sc) <= TOLERANCE * (1 + fabs (sc)))) {
              fail (e,
                  "%s: pixel %zu channel %zu is %.9g, scalar %.9g, "
                  "reference %.9g",
                  what, x, c, (double) got, (double) sc, w);
              good = false;
            }
          }
        for (size_t i = 0; i < nin; i++)
          free (vecs[i]);
        free (vecs);
        free (kw);
        free (bias);
        free (packed);
        free (ok_);
        free (or_);
      }
}

/* The in-place kernels against the same ISA's table kernels on gathered
 * inputs: the same sums in the same order, so the bits must match. Sizes
 * go below, at and above the 16-pixel tile with steps the AVX-512 kernel
 * specialises (3, 6) and one it does not, and columns below and above one
 * vector. */
static void
test_inplace_kernels (env *e, const seg_f32_kernels *k)
{
  static const size_t ms[] = {1, 5, 12, 16, 17, 34, 45};
  static const size_t steps[][3] = {{3, 3, 3}, {3, 9, 6}, {5, 10, 5},
      {1, 2, 1}}; /* cin, run_len, a_step */
  static const size_t ncs[] = {1, 16, 19, 40};
  int index = 0;
  for (size_t si = 0; si < 4; si++)
    for (size_t mi = 0; mi < 7; mi++)
      for (size_t ni = 0; ni < 4; ni++, index++) {
        size_t runs = 3, len = steps[si][1], step = steps[si][2];
        size_t m = ms[mi], nc = ncs[ni], kc = runs * len, nr = k->gemm_nr;
        size_t row = (m - 1) * step + len;
        seg_f32_act_params act = {(seg_act) (index % 6), 0, 0};
        act_params (act.act, &act.a, &act.b);
        float *in = random_floats (e, runs * row, 1.0f);
        float *wt = random_floats (e, nc * kc, 0.5f);
        float *bias = random_floats (e, nc, 1.0f);
        float *packed = seg_f32_alloc (seg_f32_gemm_packed_size (nr, nc, kc));
        float *col = malloc (m * kc * sizeof *col);
        float *got = malloc (m * (nc + 3) * sizeof *got);
        float *want = malloc (m * (nc + 3) * sizeof *want);
        seg_f32_gemm_pack (nr, nc, kc, wt, kc, bias, packed);
        const float *a[3] = {in, in + row, in + 2 * row};
        for (size_t i = 0; i < m; i++)
          for (size_t r = 0; r < runs; r++)
            memcpy (col + i * kc + r * len, a[r] + i * step, len * sizeof *col);
        for (size_t i = 0; i < m * (nc + 3); i++)
          got[i] = want[i] = NAN;
        for (size_t i = 0; i < m; i += k->gemm_mr)
          k->gemm (m - i < k->gemm_mr ? m - i : k->gemm_mr, nc, kc,
              col + i * kc, kc, packed, want + i * (nc + 3), nc + 3, &act);
        k->igemm (m, nc, runs, len, a, step, packed, got, nc + 3, &act);
        e->checks++;
        if (memcmp (got, want, m * (nc + 3) * sizeof *got)) {
          size_t i = 0;
          while (i < m * (nc + 3)
              && (got[i] == want[i] || (isnan (got[i]) && isnan (want[i]))))
            i++;
          fail (e,
              "igemm %s m%zu nc%zu len%zu step%zu act%d: element "
              "%zu is %.9g, gathered GEMM %.9g",
              k->name, m, nc, len, step, (int) act.act, i, (double) got[i],
              (double) want[i]);
        }
        free (in);
        free (wt);
        free (bias);
        free (packed);
        free (col);
        free (got);
        free (want);
      }

  static const size_t chans[] = {1, 7, 16, 17, 40};
  for (size_t ci = 0; ci < 5; ci++)
    for (size_t width = 1; width <= 17; width += 4)
      for (size_t s = 1; s <= 2; s++, index++) {
        size_t ch = chans[ci], kh = 3, kw = 3, taps = kh * kw, dil = 3 - s;
        size_t xs = s * ch, ks = dil * ch, stride = ch + 2;
        size_t row = (width - 1) * xs + (kw - 1) * ks + ch;
        seg_f32_act_params act = {(seg_act) (index % 6), 0, 0};
        act_params (act.act, &act.a, &act.b);
        float *in = random_floats (e, kh * row, 1.0f);
        float *kwt = random_floats (e, ch * taps, 0.5f);
        float *bias = random_floats (e, ch, 1.0f);
        float *packed = malloc ((1 + taps) * ch * sizeof *packed);
        const float **ind = malloc (width * taps * sizeof *ind);
        float *got = malloc (width * stride * sizeof *got);
        float *want = malloc (width * stride * sizeof *want);
        seg_f32_dwconv_pack (ch, taps, kwt, bias, packed);
        const float *rows[3] = {in, in + row, in + 2 * row};
        for (size_t x = 0; x < width; x++)
          for (size_t t = 0; t < taps; t++)
            ind[x * taps + t] = rows[t / kw] + x * xs + t % kw * ks;
        for (size_t i = 0; i < width * stride; i++)
          got[i] = want[i] = NAN;
        k->dwconv (ch, width, taps, ind, packed, want, stride, &act);
        k->dwconv_rows (ch, width, kh, kw, rows, xs, ks, packed, got, stride,
            &act);
        e->checks++;
        if (memcmp (got, want, width * stride * sizeof *got)) {
          size_t i = 0;
          while (i < width * stride
              && (got[i] == want[i] || (isnan (got[i]) && isnan (want[i]))))
            i++;
          fail (e,
              "dwconv_rows %s ch%zu width%zu step%zu act%d: element "
              "%zu is %.9g, table kernel %.9g",
              k->name, ch, width, xs, (int) act.act, i, (double) got[i],
              (double) want[i]);
        }
        free (in);
        free (kwt);
        free (bias);
        free (packed);
        free (ind);
        free (got);
        free (want);
      }
}

/* Every activation over a wide range through a 1-tap depthwise kernel
 * (weight 1, bias 0): the SIMD epilogues evaluate exp by polynomial and
 * must stay within the tolerance everywhere, saturation included. */
static void
test_act_kernel (env *e, const seg_f32_kernels *k)
{
  enum
  {
    COUNT = 4001
  };
  float *x = malloc (COUNT * sizeof *x), *out = malloc (COUNT * sizeof *out);
  float *packed = malloc (2 * COUNT * sizeof *packed);
  float *ones = malloc (COUNT * sizeof *ones);
  for (int i = 0; i < COUNT; i++) {
    x[i] = -100.0f + 200.0f * (float) i / (COUNT - 1);
    ones[i] = 1.0f;
  }
  seg_f32_dwconv_pack (COUNT, 1, ones, NULL, packed);
  const float *in[1] = {x};
  for (int a = SEG_ACT_NONE; a <= SEG_ACT_SIGMOID; a++) {
    seg_f32_act_params act = {(seg_act) a, 0, 0};
    act_params (act.act, &act.a, &act.b);
    for (int i = 0; i < COUNT; i++)
      out[i] = NAN;
    k->dwconv (COUNT, 1, 1, in, packed, out, COUNT, &act);
    e->checks++;
    for (int i = 0; i < COUNT; i++) {
      double want = ref_act (act.act, act.a, act.b, x[i]);
      if (!(fabs (out[i] - want) <= TOLERANCE * (1 + fabs (want)))) {
        fail (e, "%s activation %d at %.9g: %.9g, reference %.9g", k->name, a,
            (double) x[i], (double) out[i], want);
        break;
      }
    }
  }
  free (x);
  free (out);
  free (packed);
  free (ones);
}

/* One-output-channel dots over blocks of taps against the scalar kernel:
 * the 2x2 path and its channel-count limits, one tap at a time, strided
 * pixels (kernel smaller than the stride); NaN-filled output rows with a
 * gap between them catch stray stores. */
static void
test_vdot_kernel (env *e, const seg_f32_kernels *k)
{
  static const size_t kcs[] = {1, 4, 5, 16, 20, 37, 64, 68};
  static const size_t ns[] = {1, 7, 8, 9, 17, 33};
  static const size_t blocks[][3] = {
      /* th, tw, px_stride */
      {2, 2, 2},
      {1, 1, 1},
      {1, 1, 2},
      {2, 3, 3},
      {2, 2, 3},
  };
  const seg_f32_kernels *ref_k = seg_f32_kernels_scalar ();
  int index = 0;
  for (size_t ki = 0; ki < sizeof kcs / sizeof kcs[0]; ki++)
    for (size_t ni = 0; ni < sizeof ns / sizeof ns[0]; ni++)
      for (size_t bi = 0; bi < sizeof blocks / sizeof blocks[0];
           bi++, index++) {
        size_t kc = kcs[ki], n = ns[ni], th = blocks[bi][0];
        size_t tw = blocks[bi][1], px = blocks[bi][2];
        size_t in_stride = kc + index % 3, row = n * px + 3;
        seg_f32_act_params act = {(seg_act) (index % 6), 0, 0};
        act_params (act.act, &act.a, &act.b);
        float *in = random_floats (e, n * in_stride, 1.0f);
        float *w = random_floats (e, th * tw * kc, 0.5f);
        float bias = test_randf (&e->rng, -1.0f, 1.0f);
        float *got = malloc (th * row * sizeof *got);
        float *want = malloc (th * row * sizeof *want);
        for (size_t i = 0; i < th * row; i++)
          got[i] = want[i] = NAN;
        k->vdot (n, kc, in, in_stride, th, tw, w, bias, got, row, px, &act);
        ref_k->vdot (n, kc, in, in_stride, th, tw, w, bias, want, row, px,
            &act);
        e->checks++;
        for (size_t i = 0; i < th * row; i++) {
          bool written = i % row < n * px && i % row % px < tw;
          bool bad = written
              ? !(fabs (got[i] - want[i]) <= TOLERANCE * (1 + fabs (want[i])))
              : !isnan (got[i]);
          if (bad) {
            fail (e,
                "vdot %s n%zu kc%zu block %zux%zu px%zu act%d: float "
                "%zu is %.9g, scalar %.9g",
                k->name, n, kc, th, tw, px, (int) act.act, i, (double) got[i],
                (double) want[i]);
            break;
          }
        }
        free (in);
        free (w);
        free (got);
        free (want);
      }
}

/* Global average pooling and bilinear rows against the scalar kernels,
 * outputs NaN-filled one float past the channels to catch stray stores. */
static void
test_pool_resize_kernels (env *e, const seg_f32_kernels *k)
{
  static const size_t chans[] = {1, 5, 15, 16, 17, 21, 33, 64, 65, 100};
  const seg_f32_kernels *ref_k = seg_f32_kernels_scalar ();
  for (size_t ci = 0; ci < sizeof chans / sizeof chans[0]; ci++) {
    size_t ch = chans[ci], stride = ch + 3, pixels = 1 + ci * 7;
    seg_f32_act_params act = {(seg_act) (ci % 6), 0, 0};
    act_params (act.act, &act.a, &act.b);
    float *in = random_floats (e, pixels * stride, 2.0f);
    float *got = malloc ((ch + 1) * sizeof *got);
    float *want = malloc ((ch + 1) * sizeof *want);
    for (size_t i = 0; i <= ch; i++)
      got[i] = want[i] = NAN;
    k->gavgpool (pixels, ch, in, stride, 1.0f / (float) pixels, got, &act);
    ref_k->gavgpool (pixels, ch, in, stride, 1.0f / (float) pixels, want, &act);
    e->checks++;
    for (size_t i = 0; i <= ch; i++) {
      bool bad = i == ch
          ? !isnan (got[i])
          : !(fabs (got[i] - want[i]) <= TOLERANCE * (1 + fabs (want[i])));
      if (bad) {
        fail (e,
            "gavgpool %s ch%zu px%zu act%d: channel %zu is %.9g, "
            "scalar %.9g",
            k->name, ch, pixels, (int) act.act, i, (double) got[i],
            (double) want[i]);
        break;
      }
    }
    free (in);
    free (got);
    free (want);

    /* Three source pixels per row, five output pixels between them. */
    enum
    {
      SW = 3,
      OW = 5
    };
    float *row = random_floats (e, SW * ch, 1.0f);
    seg_f32_bilinear_tap taps[OW];
    for (size_t x = 0; x < OW; x++) {
      taps[x].left = (x / 2) * ch;
      taps[x].right = (x / 2 + 1 < SW ? x / 2 + 1 : SW - 1) * ch;
      taps[x].weight = (float) x * 0.23f - (float) (x / 2) * 0.4f;
    }
    /* One to three output rows from one source pair, one float of gap
     * between rows. */
    enum
    {
      ROWS = 3
    };
    static const float wys[ROWS] = {0.3f, 0.0f, 0.85f};
    float *row2 = random_floats (e, SW * ch, 1.0f);
    size_t out_stride = OW * ch + 1, total = ROWS * out_stride;
    got = malloc (total * sizeof *got);
    want = malloc (total * sizeof *want);
    for (size_t rows = 1; rows <= ROWS; rows++) {
      for (size_t i = 0; i < total; i++)
        got[i] = want[i] = NAN;
      k->ibilinear (OW, ch, row, row2, rows, wys, taps, got, out_stride);
      ref_k->ibilinear (OW, ch, row, row2, rows, wys, taps, want, out_stride);
      e->checks++;
      for (size_t i = 0; i < total; i++) {
        bool written = i / out_stride < rows && i % out_stride < OW * ch;
        bool bad = !written
            ? !isnan (got[i])
            : !(fabs (got[i] - want[i]) <= TOLERANCE * (1 + fabs (want[i])));
        if (bad) {
          fail (e,
              "ibilinear %s ch%zu rows%zu: value %zu is %.9g, scalar "
              "%.9g",
              k->name, ch, rows, i, (double) got[i], (double) want[i]);
          break;
        }
      }
    }
    free (row);
    free (row2);
    free (got);
    free (want);
  }
  test_vdot_kernel (e, k);
}

/* Probability to bytes: every length up to past two vectors, both
 * directions, with NaN, infinities, values outside 0..1 and the exact
 * rounding boundaries among random ones; a guard byte after the output
 * catches a store past n. Must equal the scalar kernel byte for byte. */
static void
test_prob_kernel (env *e, const seg_f32_kernels *k)
{
  static const float special[] = {NAN, -INFINITY, INFINITY, -0.0f, 0.0f, 1.0f,
      -1e-30f, 1e-30f, 0.5f / 255.0f, 1.5f / 255.0f, 254.5f / 255.0f,
      0.99999994f, 1.0000001f, -0.5f, 2.0f};
  enum
  {
    N = 40
  };
  uint8_t got[N + 1], want[N + 1];

  for (size_t n = 1; n <= N; n++)
    for (int complement = 0; complement < 2; complement++) {
      float *in = random_floats (e, n, 0.7f);

      for (size_t i = 0; i < n; i++) {
        in[i] += 0.5f;
        if ((i + n) % 3 == 0)
          in[i] = special[(i + n) % (sizeof special / sizeof *special)];
      }
      memset (got, 0xa5, sizeof got);
      memset (want, 0xa5, sizeof want);
      k->prob_u8 (n, in, complement, got);
      seg_f32_prob_u8_ukernel__scalar_1 (n, in, complement, want);
      e->checks++;
      if (memcmp (got, want, sizeof got) != 0)
        for (size_t i = 0; i <= n; i++)
          if (got[i] != want[i]) {
            fail (e, "prob_u8 %s n%zu complement %d: byte %zu is %d, scalar %d",
                k->name, n, complement, i, got[i], want[i]);
            break;
          }
      free (in);
    }
}

int
main (void)
{
  env e = {.rng = 0x5eed5eedu};
  e.pools[0] = seg_threadpool_new (1);
  e.pools[1] = seg_threadpool_new (2);
  if (!e.pools[0] || !e.pools[1]) {
    fprintf (stderr, "FAIL: could not create thread pools\n");
    return 1;
  }

  const seg_f32_kernels *simd[] = {seg_f32_kernels_avx2 (),
      seg_f32_kernels_avx512 (), seg_f32_kernels_neon ()};
  for (size_t i = 0; i < sizeof simd / sizeof simd[0]; i++) {
    if (!simd[i])
      continue;
    e.isa = simd[i]->name;
    int checks = e.checks;
    test_gemm_kernel (&e, simd[i]);
    test_dwconv_kernel (&e, simd[i]);
    if (simd[i]->igemm && simd[i]->dwconv_rows)
      test_inplace_kernels (&e, simd[i]);
    test_act_kernel (&e, simd[i]);
    test_pool_resize_kernels (&e, simd[i]);
    test_prob_kernel (&e, simd[i]);
    printf ("%s kernels against scalar: %d checks\n", simd[i]->name,
        e.checks - checks);
  }
  e.isa = "scalar";
  test_gemm_kernel (&e, seg_f32_kernels_scalar ());
  test_dwconv_kernel (&e, seg_f32_kernels_scalar ());
  test_inplace_kernels (&e, seg_f32_kernels_scalar ());
  test_act_kernel (&e, seg_f32_kernels_scalar ());

  seg_threadpool_free (e.pools[0]);
  seg_threadpool_free (e.pools[1]);
  if (e.failures) {
    fprintf (stderr, "%d of %d checks failed\n", e.failures, e.checks);
    return 1;
  }
  printf ("all %d checks passed\n", e.checks);
  return 0;
}
