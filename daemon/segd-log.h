/* segd-log — log output for the daemon: journald's structured fields when
 * stderr is connected to the journal, "segd: level: message" lines on
 * stderr otherwise, filtered by verbosity.
 */
#ifndef SEGD_LOG_H
#define SEGD_LOG_H

#include <glib.h>

G_BEGIN_DECLS

/* 0: errors, warnings, messages and info; 1 and more: debug too. */
void segd_log_init (int verbosity);

G_END_DECLS

#endif /* SEGD_LOG_H */
