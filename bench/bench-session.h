/* The model alone in a benchmark's own process: one session on a constant
 * input of the session's size (the time does not depend on the values),
 * shared by bench-e2e's "model alone at 30 fps" and bench-multicam's
 * saturated throughput. */
#ifndef SEGD_BENCH_SESSION_H
#define SEGD_BENCH_SESSION_H

#include <glib.h>
#include <segmenter/seg.h>

typedef struct
{
  seg_model *model;
  seg_session *session;
  float *input;
  size_t count;
} BenchSession;

/* FALSE (and nothing to close) if the model does not load or plan. */
static inline gboolean
bench_session_open (BenchSession *b, const gchar *path, gint threads)
{
  seg_session_options options = {.threads = threads};
  seg_session_info si;

  *b = (BenchSession){0};
  if (seg_model_load (path, &b->model, NULL) != SEG_OK
      || seg_session_new (b->model, &options, &b->session, NULL) != SEG_OK) {
    seg_model_free (b->model);
    return FALSE;
  }
  seg_session_get_info (b->session, &si);
  b->count = (size_t) si.input_height * si.input_width * si.input_channels;
  b->input = g_new (float, b->count);
  for (size_t i = 0; i < b->count; i++)
    b->input[i] = (float) (i % 255) / 255.0f - 0.5f;
  return TRUE;
}

static inline seg_status
bench_session_run (BenchSession *b)
{
  return seg_session_run (b->session, b->input, b->count);
}

static inline void
bench_session_close (BenchSession *b)
{
  g_free (b->input);
  seg_session_free (b->session);
  seg_model_free (b->model);
}

#endif /* SEGD_BENCH_SESSION_H */
