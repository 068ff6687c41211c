/* segd-status — the snapshot's one function: freeing what it holds. */
#include "segd-status.h"

#include <string.h>

void
segd_status_clear (SegdStatus *st)
{
  g_free (st->stream);
  g_free (st->source);
  g_free (st->camera_detail);
  g_free (st->model);
  g_free (st->model_error);
  g_free (st->status_line);
  memset (st, 0, sizeof *st);
}
