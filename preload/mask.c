/* Record mode: which secrets this process masks before its payloads are committed to the
 * log (the masking itself is core/mask.c). Runs once, from at_init, with at_guard held.
 *
 * Rules for this file: no malloc (static storage only), no stdio, raw system calls only
 * (preload/sys_raw.h): it runs inside at_init, possibly from the first hook of a program
 * whose allocator is not ready yet. */
#include <fcntl.h>
#include <string.h>

#include "mask_internal.h"
#include "preload_internal.h"
#include "sys_raw.h"

#define malloc do_not_allocate_in_hooks
#define free   do_not_allocate_in_hooks

extern char **environ;

struct at_mask_rules at_mask_rules;
uint8_t at_mask_calls[AT_CALL_MAX];

/* Copies of the secret values. Not pointers into environ: setenv, putenv and unsetenv may
 * free or reuse that memory while the program runs. Values that do not fit are not
 * searched for (a 8 KiB environment of credentials is not a case worth a bigger buffer). */
static uint8_t secret_store[8192];
static size_t secret_used;

/* <run dir>/mask, as agenttrace record writes it: one rule a line, "env GLOB",
 * "header NAME" or "off"; the built-in rules are in it too. Unknown lines are skipped, for
 * rules a later version may add. No file: the built-in rules. */
static int read_rules_file(struct at_mask_rules *r)
{
	static char text[8192];
	long got = at_run_read("mask", text, sizeof text);
	at_mask_rules_init(r, got < 0);
	if (got < 0)
		return 0;
	size_t n = (size_t)got;
	int off = 0;
	for (size_t at = 0; at < n;) {
		const char *line = text + at, *nl = memchr(line, '\n', n - at);
		size_t len = nl ? (size_t)(nl - line) : n - at;
		at += len + 1;
		if (len == 3 && !memcmp(line, "off", 3))
			off = 1;
		else if (len > 4 && !memcmp(line, "env ", 4))
			at_mask_add_glob(r, line + 4, len - 4);
		else if (len > 7 && !memcmp(line, "header ", 7))
			at_mask_add_header(r, line + 7, len - 7);
	}
	return off;
}

void at_mask_init(void)
{
	struct at_mask_rules *r = &at_mask_rules; /* zero: this runs once, in a new image */
	memset(at_mask_calls, 0, sizeof at_mask_calls);
	if (read_rules_file(r))
		return;
	/* The real values, from this process's own environment: the program still needs
	 * them to authenticate, and a child may have been given credentials of its own. */
	for (char **e = environ; e && *e; e++) {
		const char *eq = strchr(*e, '=');
		if (!eq || !at_mask_env_name(r, *e, (size_t)(eq - *e)))
			continue;
		size_t len = strlen(eq + 1);
		if (len < AT_MASK_MIN_SECRET || len > sizeof secret_store - secret_used)
			continue;
		uint8_t *copy = secret_store + secret_used;
		memcpy(copy, eq + 1, len);
		if (at_mask_add_secret(r, copy, len) == 1)
			secret_used += len;
	}
	if (!at_mask_active(r))
		return;
	for (unsigned id = 0; id < AT_CALL_MAX; id++) {
		const struct at_call_info *ci = at_call_info(id);
		at_mask_calls[id] =
		    !ci || (ci->family != AT_FAMILY_TIME && ci->family != AT_FAMILY_RANDOM);
	}
}

void at_mask_strings(uint16_t call, char *p, size_t n)
{
	if (!at_mask_calls[call % AT_CALL_MAX])
		return;
	for (size_t i = 0; i < n;) {
		size_t len = strnlen(p + i, n - i);
		at_mask_buffer(&at_mask_rules, (uint8_t *)p + i, len);
		i += len + 1;
	}
}
