/* Subscription accounting and ZAP decisions for the publisher (see
 * pub-internal.h for why frames are attributed per connection). Pure
 * functions over plain data: no sockets, no clocks, no allocation per
 * frame beyond a connection's first interesting subscription. */
#include "pub-internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Departed-pipe unsubscriptions collected before they are matched. */
#define MAX_BATCH 4096
/* Connections thought gone that may yet turn out alive (see header). */
#define GRAVEYARD 32
/* Live connections with an interesting subscription. Past this, new ones
 * are not tracked; it is far above any real deployment (each costs about
 * 100 bytes) and only bounds what a flood of connections can cost us. */
#define MAX_CONNS 65536

typedef struct
{
  uint64_t id;
  uint64_t last_event; /* when it last sent a frame */
  uint8_t *bits;       /* prefixes it holds, by index */
} Conn;

struct segmask_track
{
  char *mask, *status;
  size_t mlen, slen, nbits, nbytes;
  Conn *conns;
  size_t nconns, cap;
  Conn dead[GRAVEYARD];
  uint64_t dead_at[GRAVEYARD];
  size_t ndead;
  uint16_t *batch; /* per index: departures pending */
  size_t batch_len;
  uint64_t event;
  int subscribers;
};

segmask_track *
segmask_track_new (const char *mask_topic, const char *status_topic)
{
  segmask_track *t = calloc (1, sizeof (*t));

  if (!t)
    return NULL;
  t->mask = strdup (mask_topic);
  t->status = strdup (status_topic);
  if (!t->mask || !t->status) {
    segmask_track_free (&t);
    return NULL;
  }
  t->mlen = strlen (mask_topic);
  t->slen = strlen (status_topic);
  /* Index 0: the empty prefix (selects both); 1..mlen: mask prefixes by
   * length; mlen+1..mlen+slen: status prefixes. Only a prefix of one of
   * our topics can select our messages; others are not ours to track. */
  t->nbits = 1 + t->mlen + t->slen;
  t->nbytes = (t->nbits + 7) / 8;
  if (!(t->batch = calloc (t->nbits, sizeof (*t->batch))))
    segmask_track_free (&t);
  return t;
}

void
segmask_track_free (segmask_track **tp)
{
  segmask_track *t = tp ? *tp : NULL;

  if (!t)
    return;
  for (size_t i = 0; i < t->nconns; i++)
    free (t->conns[i].bits);
  for (size_t i = 0; i < t->ndead; i++)
    free (t->dead[i].bits);
  free (t->conns);
  free (t->batch);
  free (t->mask);
  free (t->status);
  free (t);
  *tp = NULL;
}

int
segmask_track_subscribers (const segmask_track *t)
{
  return t ? t->subscribers : 0;
}

uint64_t
segmask_track_parse_user_id (const char *s)
{
  uint64_t v = 0;

  if (!s || strncmp (s, "segd-", 5) != 0 || !s[5])
    return 0;
  for (s += 5; *s; s++) {
    if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10)
      return 0;
    v = v * 10 + (uint64_t) (*s - '0');
  }
  return v;
}

static long
prefix_index (const segmask_track *t, const uint8_t *p, size_t n)
{
  if (n == 0)
    return 0;
  if (n <= t->mlen && memcmp (p, t->mask, n) == 0)
    return (long) n;
  if (n <= t->slen && memcmp (p, t->status, n) == 0)
    return (long) (t->mlen + n);
  return -1;
}

static int
bit (const uint8_t *bits, size_t i)
{
  return (bits[i / 8] >> (i % 8)) & 1;
}

static int
selects_mask (const segmask_track *t, const uint8_t *bits)
{
  for (size_t i = 0; i <= t->mlen; i++)
    if (bit (bits, i))
      return 1;
  return 0;
}

static int
empty (const segmask_track *t, const uint8_t *bits)
{
  for (size_t i = 0; i < t->nbytes; i++)
    if (bits[i])
      return 0;
  return 1;
}

static size_t
popcount (const segmask_track *t, const uint8_t *bits)
{
  size_t n = 0;

  for (size_t i = 0; i < t->nbits; i++)
    n += (size_t) bit (bits, i);
  return n;
}

static Conn *
find (segmask_track *t, uint64_t id)
{
  for (size_t i = 0; i < t->nconns; i++)
    if (t->conns[i].id == id)
      return &t->conns[i];
  return NULL;
}

static Conn *
add_conn (segmask_track *t, uint64_t id, uint8_t *bits)
{
  if (t->nconns == MAX_CONNS)
    return NULL;
  if (t->nconns == t->cap) {
    size_t cap = t->cap ? t->cap * 2 : 16;
    Conn *c = realloc (t->conns, cap * sizeof (*c));

    if (!c)
      return NULL;
    t->conns = c;
    t->cap = cap;
  }
  if (!bits && !(bits = calloc (1, t->nbytes)))
    return NULL;
  t->conns[t->nconns] = (Conn){id, t->event, bits};
  return &t->conns[t->nconns++];
}

/* Removes conns[i]; into the graveyard if `bury`, else its bits are
 * freed. */
static void
remove_conn (segmask_track *t, size_t i, int bury)
{
  Conn c = t->conns[i];

  t->conns[i] = t->conns[--t->nconns];
  if (!bury) {
    free (c.bits);
    return;
  }
  if (t->ndead == GRAVEYARD) {
    free (t->dead[0].bits);
    memmove (t->dead, t->dead + 1, (GRAVEYARD - 1) * sizeof (Conn));
    memmove (t->dead_at, t->dead_at + 1, (GRAVEYARD - 1) * sizeof (uint64_t));
    t->ndead--;
  }
  t->dead[t->ndead] = c;
  t->dead_at[t->ndead++] = t->event;
}

/* A connection we buried spoke: it is alive, so a look-alike (same set
 * when we chose, silent since) is the one that left. */
static Conn *
resurrect (segmask_track *t, uint64_t id)
{
  size_t d;
  Conn c;

  for (d = 0; d < t->ndead; d++)
    if (t->dead[d].id == id)
      break;
  if (d == t->ndead)
    return NULL;
  c = t->dead[d];
  for (size_t i = 0; i < t->nconns; i++) {
    Conn *y = &t->conns[i];

    if (y->last_event <= t->dead_at[d]
        && memcmp (y->bits, c.bits, t->nbytes) == 0) {
      /* Same bits, so the count does not change: just swap identities. */
      y->id = id;
      memmove (t->dead + d, t->dead + d + 1,
          (t->ndead - d - 1) * sizeof (Conn));
      memmove (t->dead_at + d, t->dead_at + d + 1,
          (t->ndead - d - 1) * sizeof (uint64_t));
      t->ndead--;
      free (c.bits);
      return y;
    }
  }
  return NULL;
}

unsigned
segmask_track_flush (segmask_track *t)
{
  unsigned flags = 0;

  if (!t || t->batch_len == 0)
    return 0;
  for (;;) {
    size_t best = SIZE_MAX, best_n = 0;

    /* Largest set that fits in what departed; ties: longest silent. */
    for (size_t i = 0; i < t->nconns; i++) {
      Conn *c = &t->conns[i];
      size_t n;
      int fits = 1;

      for (size_t b = 0; fits && b < t->nbits; b++)
        if (bit (c->bits, b) && t->batch[b] == 0)
          fits = 0;
      if (!fits || (n = popcount (t, c->bits)) == 0)
        continue;
      if (n > best_n
          || (n == best_n && c->last_event < t->conns[best].last_event)) {
        best = i;
        best_n = n;
      }
    }
    if (best == SIZE_MAX)
      break;
    for (size_t b = 0; b < t->nbits; b++)
      if (bit (t->conns[best].bits, b))
        t->batch[b]--;
    if (selects_mask (t, t->conns[best].bits)) {
      t->subscribers--;
      flags |= SEGMASK_TRACK_COUNT;
    }
    remove_conn (t, best, 1);
  }
  /* What matched nobody (a pipe we never saw subscribe) is dropped. */
  memset (t->batch, 0, t->nbits * sizeof (*t->batch));
  t->batch_len = 0;
  return flags;
}

unsigned
segmask_track_frame (segmask_track *t, uint64_t conn, const uint8_t *d,
    size_t len)
{
  unsigned flags = 0;
  long idx;
  int sub, had_mask;
  Conn *c;
  size_t i;

  if (!t || !d || len < 1 || (d[0] != 0 && d[0] != 1))
    return 0;
  sub = d[0] == 1;
  idx = prefix_index (t, d + 1, len - 1);
  if (idx < 0)
    return 0;
  if (conn == 0) {
    /* Only libzmq itself sends frames without our User-Id, and only
     * unsubscriptions of a pipe that went away. */
    if (sub)
      return 0;
    if (t->batch_len == MAX_BATCH)
      flags |= segmask_track_flush (t);
    if (t->batch[idx] < UINT16_MAX) {
      t->batch[idx]++;
      t->batch_len++;
    }
    return flags;
  }
  /* A peer's frame ends any departure batch before it. */
  flags |= segmask_track_flush (t);
  t->event++;
  if (!(c = find (t, conn)) && !(c = resurrect (t, conn))) {
    if (!sub)
      return flags; /* nothing of its own to remove */
    if (!(c = add_conn (t, conn, NULL)))
      return flags;
  }
  c->last_event = t->event;
  had_mask = selects_mask (t, c->bits);
  if (sub == bit (c->bits, (size_t) idx))
    return flags; /* duplicate, or never held: no change */
  c->bits[idx / 8] ^= (uint8_t) (1u << (idx % 8));
  if (sub && (idx == 0 || (size_t) idx > t->mlen))
    flags |= SEGMASK_TRACK_STATUS;
  if (selects_mask (t, c->bits) != had_mask) {
    t->subscribers += had_mask ? -1 : 1;
    flags |= SEGMASK_TRACK_COUNT;
    if (!had_mask)
      flags |= SEGMASK_TRACK_REPLAY;
  }
  if (empty (t, c->bits)) {
    i = (size_t) (c - t->conns);
    remove_conn (t, i, 0);
  }
  return flags;
}

/* ---- ZAP ---- */

static int
frame_is (const segmask_frame *f, const char *s)
{
  size_t n = strlen (s);

  return f->len == n && (n == 0 || memcmp (f->data, s, n) == 0);
}

int
segmask_zap_decide (const segmask_frame *req, size_t n, int curve,
    const segmask_keyring *allowed, uint64_t conn, segmask_zap_reply *r)
{
  memset (r, 0, sizeof (*r));
  r->code = "400";
  r->request_id = n >= 2 ? &req[1] : NULL;
  if (!req || n < 6 || !frame_is (&req[0], "1.0")) {
    r->text = "malformed ZAP request";
    return 0;
  }
  if (frame_is (&req[5], "NULL")) {
    /* libzmq only asks about NULL when the socket is not a CURVE server;
     * refuse anyway if it ever did, and whenever an allow-list is set:
     * a list means listed keys only. */
    if (curve || allowed || n != 6) {
      r->text = "CURVE required";
      return 0;
    }
  } else if (frame_is (&req[5], "CURVE")) {
    if (!curve || n != 7 || req[6].len != 32) {
      r->text = "malformed CURVE credentials";
      return 0;
    }
    if (allowed && !segmask_keyring_contains (allowed, req[6].data)) {
      r->text = segmask_keyring_count (allowed)
          ? "client key not allowed"
          : "allow-list is empty: nobody is admitted";
      return 0;
    }
  } else {
    r->text = "mechanism not supported";
    return 0;
  }
  r->code = "200";
  r->text = "OK";
  snprintf (r->user_id, sizeof (r->user_id), "segd-%llu",
      (unsigned long long) conn);
  return 1;
}
