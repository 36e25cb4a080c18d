/* The plan for `replay --step N --then live` (live_plan.h). */
#include "live_plan.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agenttrace/errors.h"
#include "agenttrace/world.h"

/* A private copy of what the program wrote to `path`, for descriptor `fd`: its path in
 * `out`. */
static int write_copy(const char *run_dir, int fd, const uint8_t *content, size_t len, char *out,
                      size_t cap)
{
	snprintf(out, cap, "%s/" AT_REPLAY_LIVE_PLAN "-%d", run_dir, fd);
	int c = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FILE *f = c >= 0 ? fdopen(c, "w") : NULL;
	if (!f) {
		if (c >= 0)
			close(c);
		return errno == ENOSPC ? AT_ENOSPC : AT_EIO;
	}
	int bad = fwrite(content, 1, len, f) != len;
	bad |= fclose(f) != 0;
	return bad ? (errno == ENOSPC ? AT_ENOSPC : AT_EIO) : 0;
}

int live_plan_write(at_trace *t, unsigned stream, uint64_t step, const char *run_dir,
                    void (*damaged)(void *ctx, uint64_t at, int rc), void *ctx)
{
	at_world *w = at_world_new();
	uint64_t kf;
	int rc = w ? at_world_seek(t, stream, step, &w, &kf, damaged, ctx) : AT_ENOMEM;
	json_t *world = !rc && w ? at_world_json(w) : NULL;
	if (!rc && !world)
		rc = AT_ENOMEM;
	char path[4096], copy[4200];
	snprintf(path, sizeof path, "%s/" AT_REPLAY_LIVE_PLAN, run_dir);
	FILE *f = rc ? NULL : fopen(path, "we");
	if (!rc && !f)
		rc = AT_EIO;
	json_t *d;
	size_t i;
	json_array_foreach(json_object_get(world, "descriptors"), i, d)
	{
		if (rc)
			break;
		int fd = (int)json_integer_value(json_object_get(d, "fd"));
		const char *kind = json_string_value(json_object_get(d, "kind"));
		const char *p = json_string_value(json_object_get(d, "path"));
		int flags = (int)json_integer_value(json_object_get(d, "flags"));
		json_int_t offset = json_integer_value(json_object_get(d, "offset"));
		if (!strcmp(kind, "std") || (p && strchr(p, '\n')))
			continue; /* real already; a path on several lines cannot be planned */
		size_t len;
		const uint8_t *content =
		    p && !strcmp(kind, "file") ? at_world_content(w, p, &len) : NULL;
		if (content) { /* the program wrote it: a copy that holds what it wrote */
			rc = write_copy(run_dir, fd, content, len, copy, sizeof copy);
			fprintf(f, "%d copy %d %" JSON_INTEGER_FORMAT " %s\n", fd,
			        flags & ~(O_CREAT | O_EXCL | O_TRUNC), offset, copy);
		} else if (!strcmp(kind, "file") || !strcmp(kind, "directory")) {
			fprintf(f, "%d %s %d %" JSON_INTEGER_FORMAT " %s\n", fd,
			        kind[0] == 'f' ? "file" : "dir",
			        flags & ~(O_CREAT | O_EXCL | O_TRUNC), offset, p ? p : "");
		} else {
			fprintf(f, "%d %s 0 0 -\n", fd, kind);
		}
	}
	if (f && (ferror(f) | fclose(f)) && !rc)
		rc = AT_EIO;
	json_decref(world);
	at_world_free(w);
	return rc;
}
