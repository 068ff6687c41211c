/* Model loading: read the file, pick the importer by content, run the
 * load-time passes, plan once at the declared size to fill in the info, and
 * attach metadata (family defaults, then the optional sidecar file). */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import/import.h"
#include "model.h"
#include "passes.h"
#include "sha256.h"

/* Far above any segmentation model we run; keeps a mistaken path (a video
 * file, /dev/zero) from being read into memory whole. */
#define MAX_MODEL_BYTES ((size_t) 512 << 20)
/* Used for statistics when the file leaves the input size open. */
#define DEFAULT_SIZE 256

static const char *const voc_labels[21] = {
    "background",
    "aeroplane",
    "bicycle",
    "bird",
    "boat",
    "bottle",
    "bus",
    "car",
    "cat",
    "chair",
    "cow",
    "diningtable",
    "dog",
    "horse",
    "motorbike",
    "person",
    "pottedplant",
    "sheep",
    "sofa",
    "train",
    "tvmonitor",
};

const char *
seg_status_str (seg_status status)
{
  switch (status) {
    case SEG_OK:
      return "success";
    case SEG_ERR_IO:
      return "I/O error";
    case SEG_ERR_FORMAT:
      return "malformed model";
    case SEG_ERR_UNSUPPORTED:
      return "unsupported model feature";
    case SEG_ERR_INVALID:
      return "invalid argument";
    case SEG_ERR_NOMEM:
      return "out of memory";
    case SEG_ERR_SHAPE:
      return "shape mismatch";
  }
  return "unknown error";
}

static void
set_error (char **error, const char *fmt, ...)
{
  if (!error)
    return;
  va_list ap;
  va_start (ap, fmt);
  if (vasprintf (error, fmt, ap) < 0)
    *error = NULL;
  va_end (ap);
}

void
seg_model_free (seg_model *m)
{
  if (!m)
    return;
  seg_graph_free (m->g);
  if (m->labels)
    for (int i = 0; i < m->info.num_classes; i++)
      free (m->labels[i]);
  free (m->labels);
  free (m->name);
  free (m);
}

const seg_model_info *
seg_model_get_info (const seg_model *m)
{
  return &m->info;
}

static seg_status
set_labels (seg_model *m, int count, const char *const *names)
{
  if (m->labels)
    for (int i = 0; i < m->info.num_classes; i++)
      free (m->labels[i]);
  free (m->labels);
  m->info.num_classes = 0;
  m->info.labels = NULL;
  m->labels = calloc ((size_t) count + 1, sizeof *m->labels);
  if (!m->labels)
    return SEG_ERR_NOMEM;
  for (int i = 0; i < count; i++) {
    if (names)
      m->labels[i] = strdup (names[i]);
    else if (asprintf (&m->labels[i], "class%d", i) < 0)
      m->labels[i] = NULL;
    if (!m->labels[i])
      return SEG_ERR_NOMEM;
    m->info.num_classes = i + 1;
  }
  m->info.labels = (const char *const *) m->labels;
  return SEG_OK;
}

/* Family defaults: TFLite files with one output channel are the MediaPipe
 * selfie models (RGB / 255, sigmoid output); ONNX files are torchvision
 * LR-ASPP exports (ImageNet normalisation, logits). */
static seg_status
set_defaults (seg_model *m)
{
  seg_model_info *info = &m->info;
  static const char *const selfie[2] = {"background", "person"};
  if (info->output_channels == 1) {
    info->output_kind = SEG_OUTPUT_PROBABILITY;
  } else {
    info->output_kind = SEG_OUTPUT_LOGITS;
  }
  if (info->format == SEG_FORMAT_ONNX) {
    static const float mean[3] = {0.485f, 0.456f, 0.406f};
    static const float std[3] = {0.229f, 0.224f, 0.225f};
    memcpy (info->mean, mean, sizeof mean);
    memcpy (info->std, std, sizeof std);
  } else {
    for (int c = 0; c < 3; c++) {
      info->mean[c] = 0.0f;
      info->std[c] = 1.0f;
    }
  }
  if (info->output_channels == 1)
    return set_labels (m, 2, selfie);
  if (info->output_channels == 21)
    return set_labels (m, 21, voc_labels);
  return set_labels (m, info->output_channels, NULL);
}

static char *
trim (char *s)
{
  while (isspace ((unsigned char) *s))
    s++;
  char *e = s + strlen (s);
  while (e > s && isspace ((unsigned char) e[-1]))
    *--e = '\0';
  return s;
}

static bool
parse_floats (char *value, float *out, int count)
{
  char *p = value;
  for (int i = 0; i < count; i++) {
    char *end;
    errno = 0;
    out[i] = strtof (p, &end);
    if (end == p || errno)
      return false;
    p = trim (end);
    if (i + 1 < count) {
      if (*p != ',')
        return false;
      p++;
    }
  }
  return *p == '\0';
}

/* Sidecar "MODEL.meta": `key = value` lines, '#' comments. Keys: labels
 * (comma-separated, one per class), mean and std (three floats, RGB), output
 * (logits | probability). Documented in docs/model-metadata.md. */
static seg_status
load_sidecar (seg_model *m, const char *path, char **error)
{
  FILE *f = fopen (path, "r");
  if (!f)
    return errno == ENOENT
        ? SEG_OK
        : (set_error (error, "%s: %s", path, strerror (errno)), SEG_ERR_IO);
  char line[4096];
  int lineno = 0;
  seg_status st = SEG_OK;
  while (st == SEG_OK && fgets (line, sizeof line, f)) {
    lineno++;
    if (!strchr (line, '\n') && !feof (f)) {
      set_error (error, "%s:%d: line longer than %zu bytes", path, lineno,
          sizeof line - 2);
      st = SEG_ERR_FORMAT;
      break;
    }
    char *s = trim (line);
    if (*s == '\0' || *s == '#')
      continue;
    char *eq = strchr (s, '=');
    if (!eq) {
      set_error (error, "%s:%d: expected 'key = value'", path, lineno);
      st = SEG_ERR_FORMAT;
      break;
    }
    *eq = '\0';
    char *key = trim (s), *value = trim (eq + 1);
    if (strcmp (key, "mean") == 0 || strcmp (key, "std") == 0) {
      float v[3];
      bool is_std = key[0] == 's';
      if (!parse_floats (value, v, 3)
          || (is_std && (v[0] <= 0 || v[1] <= 0 || v[2] <= 0))) {
        set_error (error,
            "%s:%d: %s: expected three %s numbers separated by commas", path,
            lineno, key, is_std ? "positive" : "");
        st = SEG_ERR_FORMAT;
        break;
      }
      memcpy (is_std ? m->info.std : m->info.mean, v, sizeof v);
    } else if (strcmp (key, "output") == 0) {
      if (strcmp (value, "logits") == 0 && m->info.output_channels >= 2) {
        m->info.output_kind = SEG_OUTPUT_LOGITS;
      } else if (strcmp (value, "probability") == 0
          && m->info.output_channels == 1) {
        m->info.output_kind = SEG_OUTPUT_PROBABILITY;
      } else {
        set_error (error,
            "%s:%d: output: '%s' does not fit a model with %d output "
            "channel(s) "
            "(logits needs >= 2, probability exactly 1)",
            path, lineno, value, m->info.output_channels);
        st = SEG_ERR_FORMAT;
      }
    } else if (strcmp (key, "labels") == 0) {
      const char *names[SEG_MAX_CLASSES];
      int count = 0;
      int want = m->info.output_channels == 1 ? 2 : m->info.output_channels;
      for (char *tok = value, *next; tok && count < SEG_MAX_CLASSES;
           tok = next) {
        next = strchr (tok, ',');
        if (next)
          *next++ = '\0';
        names[count++] = trim (tok);
      }
      if (count != want) {
        set_error (error, "%s:%d: labels: %d given, the model has %d classes",
            path, lineno, count, want);
        st = SEG_ERR_FORMAT;
        break;
      }
      st = set_labels (m, count, names);
    } else {
      set_error (error,
          "%s:%d: unknown key '%s' (known: labels, mean, std, output)", path,
          lineno, key);
      st = SEG_ERR_FORMAT;
    }
  }
  fclose (f);
  return st;
}

/* Most activation bytes alive at once in the execution order, and the node
 * running then: what any arena for this plan needs at least (the session's
 * greedy placement comes close to it). One sweep; the placement itself is
 * the session's. */
static seg_status
peak_activations (const seg_graph *g, const seg_value *v, const int *exec,
    int nexec, size_t *peak, int *at)
{
  int *first = malloc (((size_t) g->ntensors + 1) * sizeof *first);
  int *last = malloc (((size_t) g->ntensors + 1) * sizeof *last);
  size_t *born = calloc ((size_t) nexec + 1, sizeof *born);
  size_t *freed = calloc ((size_t) nexec + 1, sizeof *freed);
  seg_status st = SEG_ERR_NOMEM;
  if (!first || !last || !born || !freed)
    goto out;
  for (int t = 0; t < g->ntensors; t++)
    first[t] = last[t] = -1;
  first[g->inputs[0]] = last[g->inputs[0]] = 0;
  for (int k = 0; k < nexec; k++) {
    const seg_node *n = &g->nodes[exec[k]];
    for (int j = 0; j < n->nin; j++)
      if (n->in[j] >= 0 && v[n->in[j]].kind == SEG_VAL_ACT)
        last[n->in[j]] = k;
    for (int j = 0; j < n->nout; j++)
      first[n->out[j]] = last[n->out[j]] = k;
  }
  if (nexec > 0)
    last[g->outputs[0]] = nexec - 1;
  for (int t = 0; t < g->ntensors; t++) {
    if (first[t] < 0 || v[t].kind != SEG_VAL_ACT)
      continue;
    born[first[t]] += v[t].nbytes;
    freed[last[t]] += v[t].nbytes;
  }
  size_t live = 0;
  *peak = 0;
  *at = nexec > 0 ? exec[0] : -1;
  for (int k = 0; k <= nexec; k++) {
    live += born[k];
    if (live > *peak) {
      *peak = live;
      *at = k < nexec ? exec[k] : *at;
    }
    live -= freed[k];
  }
  st = SEG_OK;
out:
  free (first);
  free (last);
  free (born);
  free (freed);
  return st;
}

/* Plans the graph at h x w and reports the output shape and MACs. Values
 * computed at plan time and the activations a session at this size needs
 * are charged to a copy of budget: the load refuses a model no session
 * could run. */
static seg_status
dry_plan (const seg_graph *g, int h, int w, const seg_budget *budget,
    int out_dims[3], uint64_t *macs, seg_err *err)
{
  seg_budget b = *budget;
  seg_value *v = calloc ((size_t) g->ntensors, sizeof *v);
  seg_node_plan *plans = calloc ((size_t) g->nnodes + 1, sizeof *plans);
  int *exec = calloc ((size_t) g->nnodes + 1, sizeof *exec);
  int nexec = 0;
  seg_status st;
  if (!v || !plans || !exec) {
    st = seg_fail (err, SEG_ERR_NOMEM, "out of memory");
    goto out;
  }
  st = seg_plan_shapes (g, h, w, v, plans, exec, &nexec, &b, err);
  size_t peak;
  int at;
  if (st == SEG_OK
      && (st = peak_activations (g, v, exec, nexec, &peak, &at)) != SEG_OK)
    seg_fail (err, st, "out of memory");
  if (st == SEG_OK) {
    char what[96];
    snprintf (what, sizeof what,
        "holding the activations live here at "
        "input size %dx%d",
        w, h);
    st = seg_budget_charge (&b, peak, at >= 0 ? &g->nodes[at] : NULL, what,
        SEG_ERR_FORMAT, err);
  }
  if (st == SEG_OK) {
    const seg_value *o = &v[g->outputs[0]];
    out_dims[0] = (int) o->dims[3];
    out_dims[1] = (int) o->dims[1];
    out_dims[2] = (int) o->dims[2];
    *macs = 0;
    for (int k = 0; k < nexec; k++)
      *macs += plans[exec[k]].macs;
  }
  seg_values_clear (v, g->ntensors);
out:
  free (v);
  free (plans);
  free (exec);
  return st;
}

static seg_status
check_io (const seg_graph *g, seg_err *err)
{
  if (g->ninputs != 1 || g->noutputs != 1)
    return seg_fail (err, SEG_ERR_UNSUPPORTED,
        "the model has %d inputs and %d outputs; segd runs models with one of "
        "each",
        g->ninputs, g->noutputs);
  const seg_tensor *in = &g->tensors[g->inputs[0]];
  if (in->rank != 4 || in->dtype != SEG_DT_F32 || in->dims[3] <= 0
      || in->dims[3] > SEG_MAX_DIM || (in->dims[0] != 1 && in->dims[0] != -1))
    return seg_fail (err, SEG_ERR_UNSUPPORTED,
        "input '%s' must be a float32 NHWC/NCHW tensor with batch 1 and known "
        "channels",
        in->name);
  return SEG_OK;
}

/* Everything after import: passes, planning, info, metadata. Takes m->g.
 * The budget starts with the constants the importer copied out of the
 * file. */
static seg_status
finish (seg_model *m, const char *name, const char *sidecar, char **error)
{
  seg_err err = {""};
  seg_status st;
  seg_budget budget = {m->memory_budget, 0};
  size_t constants = 0;
  for (int t = 0; t < m->g->ntensors; t++)
    constants += m->g->tensors[t].data ? m->g->tensors[t].nbytes : 0;
  if ((st = seg_budget_charge (&budget, constants, NULL,
           "holding the constants", SEG_ERR_FORMAT, &err))
          != SEG_OK
      || (st = seg_passes_run (m->g, name, &budget, m->passes, &err)) != SEG_OK
      || (st = check_io (m->g, &err)) != SEG_OK)
    goto fail_named;
  m->memory_used = budget.used;

  const seg_tensor *in = &m->g->tensors[m->g->inputs[0]];
  m->declared_h =
      in->dims[1] > 0 && in->dims[1] <= 8192 ? (int) in->dims[1] : 0;
  m->declared_w =
      in->dims[2] > 0 && in->dims[2] <= 8192 ? (int) in->dims[2] : 0;
  int h = m->declared_h ? m->declared_h : DEFAULT_SIZE;
  int w = m->declared_w ? m->declared_w : DEFAULT_SIZE;
  int out[3], out2[3];
  uint64_t macs, macs2;
  if ((st = dry_plan (m->g, h, w, &budget, out, &macs, &err)) != SEG_OK)
    goto fail_named;
  /* Resizable when another size plans and the output follows the input; a
   * graph whose resizes have constant targets keeps its output size. */
  seg_err ignored;
  m->info.resizable =
      dry_plan (m->g, h + 32, w + 32, &budget, out2, &macs2, &ignored) == SEG_OK
      && (out2[1] != out[1] || out2[2] != out[2]);
  if (!m->declared_h || !m->declared_w) {
    if (!m->info.resizable) {
      st = seg_fail (&err, SEG_ERR_UNSUPPORTED,
          "the input size is not declared and the graph does not follow it");
      goto fail_named;
    }
    m->declared_h = h;
    m->declared_w = w;
  }

  m->info.input_channels = (int) in->dims[3];
  m->info.input_height = m->declared_h;
  m->info.input_width = m->declared_w;
  m->info.output_channels = out[0];
  m->info.output_height = out[1];
  m->info.output_width = out[2];
  m->info.macs = macs;
  m->info.num_nodes = m->g->nnodes;
  for (int t = 0; t < m->g->ntensors; t++) {
    const seg_tensor *x = &m->g->tensors[t];
    if (x->data && (x->dtype == SEG_DT_F32 || x->dtype == SEG_DT_F16))
      m->info.parameters += x->nbytes / seg_dtype_size (x->dtype);
  }
  if (m->info.output_channels < 1
      || m->info.output_channels > SEG_MAX_CLASSES) {
    st = seg_fail (&err, SEG_ERR_UNSUPPORTED,
        "the output has %d channels (1..%d supported)", m->info.output_channels,
        SEG_MAX_CLASSES);
    goto fail_named;
  }
  if ((st = set_defaults (m)) != SEG_OK)
    return st;
  if (sidecar)
    return load_sidecar (m, sidecar, error);
  return SEG_OK;

fail_named:
  set_error (error, "%s: %s", name, err.msg);
  return st;
}

static seg_model *
model_new (const char *name, seg_model_format format,
    const seg_load_options *options)
{
  seg_model *m = calloc (1, sizeof *m);
  if (!m)
    return NULL;
  m->memory_budget = options && options->memory_budget
      ? options->memory_budget
      : SEG_DEFAULT_MEMORY_BUDGET;
  m->name = strdup (name);
  if (!m->name) {
    free (m);
    return NULL;
  }
  m->info.name = m->name;
  m->info.format = format;
  m->info.layout =
      format == SEG_FORMAT_ONNX ? SEG_LAYOUT_NCHW : SEG_LAYOUT_NHWC;
  return m;
}

static seg_status
load (const uint8_t *data, size_t size, const char *name, const char *sidecar,
    const seg_load_options *options, seg_model **model, char **error)
{
  seg_err err = {""};
  seg_status st;
  bool tflite = size >= 8 && memcmp (data + 4, "TFL3", 4) == 0;
  seg_model *m =
      model_new (name, tflite ? SEG_FORMAT_TFLITE : SEG_FORMAT_ONNX, options);
  if (!m) {
    set_error (error, "%s: out of memory", name);
    return SEG_ERR_NOMEM;
  }
  seg_sha256_hex (data, size, m->info.sha256);
  if (tflite)
    st = seg_import_tflite (data, size, name, &m->g, &err);
  else
    st = seg_import_onnx (data, size, name, &m->g, &err);
  if (st != SEG_OK)
    set_error (error, "%s", err.msg); /* importers name the file */
  else
    st = finish (m, name, sidecar, error);
  if (st != SEG_OK) {
    if (st == SEG_ERR_NOMEM && error && !*error)
      set_error (error, "%s: out of memory", name);
    seg_model_free (m);
    return st;
  }
  *model = m;
  return SEG_OK;
}

seg_status
seg_model_new_from_graph (seg_graph *g, seg_model_format format,
    const char *name, seg_model **model, char **error)
{
  seg_status st;
  seg_model *m = model_new (name, format, NULL);
  if (error)
    *error = NULL;
  *model = NULL;
  if (!m) {
    seg_graph_free (g);
    return SEG_ERR_NOMEM;
  }
  m->g = g;
  memset (m->info.sha256, '0', 64);
  if ((st = finish (m, name, NULL, error)) != SEG_OK) {
    seg_model_free (m);
    return st;
  }
  *model = m;
  return SEG_OK;
}

seg_status
seg_model_load_from_memory (const void *data, size_t size, const char *name,
    seg_model **model, char **error)
{
  return seg_model_load_from_memory_with_options (data, size, name, NULL, model,
      error);
}

seg_status
seg_model_load_from_memory_with_options (const void *data, size_t size,
    const char *name, const seg_load_options *options, seg_model **model,
    char **error)
{
  if (error)
    *error = NULL;
  if (!model)
    return SEG_ERR_INVALID;
  *model = NULL;
  if (!data || size == 0) {
    set_error (error, "%s: empty model", name ? name : "model");
    return SEG_ERR_FORMAT;
  }
  return load (data, size, name ? name : "model", NULL, options, model, error);
}

seg_status
seg_model_load (const char *path, seg_model **model, char **error)
{
  return seg_model_load_with_options (path, NULL, model, error);
}

seg_status
seg_model_load_with_options (const char *path, const seg_load_options *options,
    seg_model **model, char **error)
{
  if (error)
    *error = NULL;
  if (!model || !path)
    return SEG_ERR_INVALID;
  *model = NULL;

  FILE *f = fopen (path, "rb");
  if (!f) {
    set_error (error, "%s: %s", path, strerror (errno));
    return SEG_ERR_IO;
  }
  uint8_t *data = NULL;
  size_t size = 0, cap = 0;
  seg_status st = SEG_OK;
  for (;;) {
    if (size == cap) {
      if (cap >= MAX_MODEL_BYTES) {
        set_error (error, "%s: larger than %zu MiB, not a model segd runs",
            path, MAX_MODEL_BYTES >> 20);
        st = SEG_ERR_FORMAT;
        break;
      }
      cap = cap ? cap * 2 : (size_t) 1 << 20;
      uint8_t *grown = realloc (data, cap);
      if (!grown) {
        set_error (error, "%s: out of memory", path);
        st = SEG_ERR_NOMEM;
        break;
      }
      data = grown;
    }
    size_t got = fread (data + size, 1, cap - size, f);
    size += got;
    if (got == 0) {
      if (ferror (f)) {
        set_error (error, "%s: read error", path);
        st = SEG_ERR_IO;
      }
      break;
    }
  }
  fclose (f);
  if (st == SEG_OK && size == 0) {
    set_error (error, "%s: empty file", path);
    st = SEG_ERR_FORMAT;
  }
  if (st == SEG_OK) {
    char *sidecar = NULL;
    if (asprintf (&sidecar, "%s.meta", path) < 0)
      sidecar = NULL;
    st = sidecar ? load (data, size, path, sidecar, options, model, error)
                 : SEG_ERR_NOMEM;
    free (sidecar);
    /* info.name: the file name without directories */
    if (st == SEG_OK) {
      const char *base = strrchr ((*model)->name, '/');
      (*model)->info.name = base ? base + 1 : (*model)->name;
    }
  }
  free (data);
  return st;
}

void
seg_model_describe_ops (const seg_model *m, char *buf, size_t size)
{
  int counts[SEG_OP_COUNT_] = {0};
  size_t used = 0;
  if (!size)
    return;
  buf[0] = '\0';
  for (int i = 0; i < m->g->nnodes; i++)
    counts[m->g->nodes[i].op]++;
  for (int op = 0; op < SEG_OP_COUNT_; op++) {
    if (!counts[op])
      continue;
    int n = snprintf (buf + used, size - used, "%s%s:%d", used ? " " : "",
        seg_op_name ((seg_op) op), counts[op]);
    if (n < 0 || (size_t) n >= size - used)
      break;
    used += (size_t) n;
  }
}

int
seg_model_get_passes (const seg_model *m, const seg_pass_info **passes)
{
  *passes = m->passes;
  return SEG_NPASSES;
}
