/* What cmd_show.c, show_network.c and procview.c share. */
#ifndef AGENTTRACE_CLI_SHOW_H
#define AGENTTRACE_CLI_SHOW_H

#include <jansson.h>
#include <stdint.h>

#include "agenttrace/container.h"
#include "agenttrace/event.h"
#include "fdview.h"
#include "netview.h"

/* An event as `show --events` lists it: a line (after `mark`), or an object for --json;
 * `fn` what it did to a file (fdview.h), `blob` the id of the content it refers to. */
void show_event_line(const char *mark, const at_event *ev, const struct fdview_note *fn);
json_t *show_event_json(const at_event *ev, int pid, const char *key, const struct fdview_note *fn,
                        const char *blob);
/* Bytes as a JSON string with one code point per byte (ISO-8859-1). */
json_t *show_latin1_json(const uint8_t *p, size_t len);
/* Replaces a blob reference's payload by the content (*content: to free; hex: its id). */
void show_resolve_blob(const char *home, at_event *ev, void **content, char *hex);
/* `in` for a terminal: control bytes as '?', cut to `width` bytes with "..." (never inside
 * a UTF-8 sequence). Returns `out`. */
const char *show_printable(const char *in, size_t width, char *out, size_t cap);
/* Groups every stream's socket traffic into `nv`; returns an exit status, after saying
 * what went wrong. A trace without socket calls is not read. */
int show_network_scan(at_trace *t, const char *id, const char *home, json_t *meta,
                      struct netview *nv);
/* The HTTP and LLM sections of the summary (nothing when there was no traffic). */
void show_network_print(const struct netview *nv, int processes);
/* Adds "http", "llm_calls" and "raw_connections" to the summary object. */
void show_network_json(const struct netview *nv, json_t *out);

#endif
