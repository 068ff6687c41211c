/* Child-process plumbing and PNG reading for the model-level tests. Output
 * goes to files rather than pipes so a chatty child can never block on a
 * full pipe while we wait for it. */
#include "util.h"

#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <png.h>

extern char **environ;

static char *
slurp (const char *path)
{
  FILE *f = fopen (path, "rb");
  char *buf = NULL;
  size_t len = 0, cap = 0, n;

  if (!f) {
    fprintf (stderr, "FAIL: cannot reopen %s\n", path);
    exit (1);
  }
  do {
    if (cap - len < 4096) {
      cap = cap ? cap * 2 : 8192;
      buf = realloc (buf, cap);
      if (!buf) {
        fprintf (stderr, "FAIL: out of memory\n");
        exit (1);
      }
    }
    n = fread (buf + len, 1, cap - len - 1, f);
    len += n;
  } while (n > 0);
  fclose (f);
  buf[len] = '\0';
  return buf;
}

void
run_tool (char *const argv[], const char *scratch_dir, tool_result *result)
{
  char out_path[4096], err_path[4096];
  posix_spawn_file_actions_t fa;
  pid_t pid;
  int status, rc;

  memset (result, 0, sizeof *result);
  snprintf (out_path, sizeof out_path, "%s/tool.stdout", scratch_dir);
  snprintf (err_path, sizeof err_path, "%s/tool.stderr", scratch_dir);
  posix_spawn_file_actions_init (&fa);
  posix_spawn_file_actions_addopen (&fa, STDIN_FILENO, "/dev/null", O_RDONLY,
      0);
  posix_spawn_file_actions_addopen (&fa, STDOUT_FILENO, out_path,
      O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen (&fa, STDERR_FILENO, err_path,
      O_WRONLY | O_CREAT | O_TRUNC, 0600);
  rc = posix_spawn (&pid, argv[0], &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy (&fa);
  if (rc != 0) {
    fprintf (stderr, "FAIL: cannot run %s: %s\n", argv[0], strerror (rc));
    exit (1);
  }
  if (waitpid (pid, &status, 0) < 0) {
    perror ("FAIL: waitpid");
    exit (1);
  }
  if (WIFEXITED (status)) {
    result->status = WEXITSTATUS (status);
  } else {
    result->status = -1;
    result->signal = WIFSIGNALED (status) ? WTERMSIG (status) : 0;
  }
  result->out = slurp (out_path);
  result->err = slurp (err_path);
  unlink (out_path);
  unlink (err_path);
}

void
tool_result_clear (tool_result *result)
{
  free (result->out);
  free (result->err);
  memset (result, 0, sizeof *result);
}

void
tool_result_dump (char *const argv[], const tool_result *result)
{
  fprintf (stderr, "  command:");
  for (int i = 0; argv[i]; i++)
    fprintf (stderr, " %s", argv[i]);
  if (result->status < 0)
    fprintf (stderr, "\n  killed by signal %d", result->signal);
  else
    fprintf (stderr, "\n  exit status %d", result->status);
  fprintf (stderr, "\n  stdout: <<%s>>\n  stderr: <<%s>>\n", result->out,
      result->err);
}

char *
make_scratch_dir (const char *tag)
{
  const char *tmp = getenv ("TMPDIR");
  char *path;

  if (!tmp || !*tmp)
    tmp = "/tmp";
  if (asprintf (&path, "%s/seg-%s-XXXXXX", tmp, tag) < 0 || !mkdtemp (path)) {
    fprintf (stderr, "FAIL: cannot create a scratch directory in %s\n", tmp);
    exit (1);
  }
  return path;
}

void
remove_scratch_dir (char *path)
{
  DIR *d = opendir (path);
  struct dirent *e;
  char file[4096];

  if (d) {
    while ((e = readdir (d))) {
      if (strcmp (e->d_name, ".") == 0 || strcmp (e->d_name, "..") == 0)
        continue;
      snprintf (file, sizeof file, "%s/%s", path, e->d_name);
      unlink (file);
    }
    closedir (d);
  }
  rmdir (path);
  free (path);
}

int
read_indexed_png (const char *path, image *out, uint8_t *palette,
    int *palette_entries)
{
  FILE *f = fopen (path, "rb");
  png_structp png = NULL;
  png_infop info = NULL;
  png_colorp pal;
  png_bytep *volatile rows = NULL;
  int n;

  memset (out, 0, sizeof *out);
  if (!f)
    return -1;
  png = png_create_read_struct (PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  info = png ? png_create_info_struct (png) : NULL;
  if (!info || setjmp (png_jmpbuf (png))) {
    png_destroy_read_struct (&png, &info, NULL);
    free (rows);
    image_clear (out);
    fclose (f);
    return -1;
  }
  png_init_io (png, f);
  png_read_info (png, info);
  if (png_get_color_type (png, info) != PNG_COLOR_TYPE_PALETTE
      || png_get_bit_depth (png, info) != 8
      || png_get_PLTE (png, info, &pal, &n) != PNG_INFO_PLTE)
    png_error (png, "not an 8-bit palette PNG");
  *palette_entries = n;
  for (int i = 0; i < n; i++) {
    palette[3 * i + 0] = pal[i].red;
    palette[3 * i + 1] = pal[i].green;
    palette[3 * i + 2] = pal[i].blue;
  }
  if (image_alloc (out, (int) png_get_image_width (png, info),
          (int) png_get_image_height (png, info), 1)
      < 0)
    png_error (png, "bad size");
  rows = malloc ((size_t) out->height * sizeof *rows);
  if (!rows)
    png_error (png, "out of memory");
  for (int y = 0; y < out->height; y++)
    rows[y] = out->pixels + (size_t) y * (size_t) out->width;
  png_read_image (png, rows);
  png_read_end (png, NULL);
  png_destroy_read_struct (&png, &info, NULL);
  free (rows);
  fclose (f);
  return 0;
}
