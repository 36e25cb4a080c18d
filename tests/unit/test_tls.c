/* Unit tests for the TLS family's payloads (core/tls.c): an OpenSSL error queue comes back
 * entry for entry, packing never writes past its capacity and drops whole entries only,
 * damaged bytes are refused without reading past them, codes split into library and reason
 * as OpenSSL 3 does, and a TLS read's plaintext counts as connection data (a peek's not).
 * Inputs that may be read past their end are heap copies of their exact size, for ASan. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agenttrace/event.h"
#include "agenttrace/net.h"
#include "agenttrace/tls.h"

/* Two entries as a failed certificate check leaves them (code 0x0A000086: library 20, SSL;
 * reason 134, certificate verify failed), the second with text. */
static const struct at_tls_error sample[] = {
    {0x0A000086u, 1889, 0, "../ssl/statem/statem_clnt.c", "tls_post_process_server_certificate",
     ""},
    {0x80000068u, 42, 2, "crypto/bio/bss_sock.c", "sock_read", "calling read()"},
};

static uint8_t *exact_copy(const void *p, size_t n)
{
	uint8_t *q = malloc(n ? n : 1);
	cr_assert(q);
	memcpy(q, p, n);
	return q;
}

Test(tls, round_trip)
{
	uint8_t buf[1024];
	size_t n = at_tls_errors_pack(sample, 2, buf, sizeof buf);
	uint8_t *copy = exact_copy(buf, n);
	struct at_tls_error e[AT_TLS_MAX_ERRORS];
	cr_assert_eq(at_tls_errors_unpack(copy, n, e, AT_TLS_MAX_ERRORS), 2);
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(e[i].code, sample[i].code);
		cr_assert_eq(e[i].line, sample[i].line);
		cr_assert_eq(e[i].flags, sample[i].flags);
		cr_assert_str_eq(e[i].file, sample[i].file);
		cr_assert_str_eq(e[i].func, sample[i].func);
		cr_assert_str_eq(e[i].data, sample[i].data);
	}
	free(copy);
}

Test(tls, empty_queue_and_nothing_at_all)
{
	uint8_t buf[8];
	struct at_tls_error e[1];
	cr_assert_eq(at_tls_errors_pack(NULL, 0, buf, sizeof buf), 4);
	cr_assert_eq(at_tls_errors_unpack(buf, 4, e, 1), 0);
	cr_assert_eq(at_tls_errors_unpack(buf, 0, e, 1), 0, "no payload is an empty queue");
}

Test(tls, packing_stops_at_capacity_with_whole_entries)
{
	uint8_t full[1024];
	size_t need = at_tls_errors_pack(sample, 2, full, sizeof full);
	for (size_t cap = 0; cap < need; cap++) {
		uint8_t buf[1024];
		memset(buf, 0xa5, sizeof buf);
		size_t n = at_tls_errors_pack(sample, 2, buf, cap);
		cr_assert_leq(n, cap, "cap %zu: wrote %zu", cap, n);
		for (size_t i = cap; i < sizeof buf; i++)
			cr_assert_eq(buf[i], 0xa5, "cap %zu: byte %zu written", cap, i);
		if (cap < 4)
			continue;
		struct at_tls_error e[2];
		int got = at_tls_errors_unpack(buf, n, e, 2);
		cr_assert(got == 0 || got == 1, "cap %zu: %d entries", cap, got);
		if (got == 1)
			cr_assert_str_eq(e[0].func, sample[0].func);
	}
}

Test(tls, long_strings_are_cut)
{
	char longtext[1000];
	memset(longtext, 'x', sizeof longtext - 1);
	longtext[sizeof longtext - 1] = '\0';
	struct at_tls_error one = {1, 2, 2, "f.c", "fn", longtext}, e[1];
	uint8_t buf[2048];
	size_t n = at_tls_errors_pack(&one, 1, buf, sizeof buf);
	cr_assert_eq(at_tls_errors_unpack(buf, n, e, 1), 1);
	cr_assert_eq(strlen(e[0].data), AT_TLS_MAX_TEXT - 1);
}

Test(tls, damaged_bytes_are_refused)
{
	uint8_t buf[1024];
	size_t n = at_tls_errors_pack(sample, 2, buf, sizeof buf);
	struct at_tls_error e[2];
	for (size_t cut = 1; cut < n; cut++) { /* every truncation */
		uint8_t *copy = exact_copy(buf, cut);
		cr_assert_eq(at_tls_errors_unpack(copy, cut, e, 2), -1, "cut at %zu", cut);
		free(copy);
	}
	uint32_t huge = 1000;
	memcpy(buf, &huge, 4);
	cr_assert_eq(at_tls_errors_unpack(buf, n, e, 2), -1, "a count beyond OpenSSL's queue");
}

Test(tls, codes_split_as_openssl_does)
{
	cr_assert_eq(at_tls_error_lib(0x0A000086u), 20);
	cr_assert_eq(at_tls_error_reason(0x0A000086u), 134);
	/* a system error: the flag bit, the errno in the rest */
	cr_assert_eq(at_tls_error_lib(0x80000068u), 2);
	cr_assert_eq(at_tls_error_reason(0x80000068u), 104);
}

Test(tls, format_names_the_first_entry)
{
	uint8_t buf[1024];
	char out[300];
	size_t n = at_tls_errors_pack(sample, 2, buf, sizeof buf);
	at_tls_errors_format(buf, n, out, sizeof out);
	cr_assert(strstr(out, "error:0A000086:lib 20 reason 134"), "%s", out);
	cr_assert(strstr(out, "tls_post_process_server_certificate"), "%s", out);
	cr_assert(strstr(out, "+1 more"), "%s", out);
	at_tls_errors_format(buf, 3, out, sizeof out);
	cr_assert_str_eq(out, "(damaged error queue)");
}

Test(tls, plaintext_is_connection_data)
{
	const uint8_t text[] = "GET / HTTP/1.1\r\n";
	at_event ev = {.call = AT_CALL_SSL_write, .ret = 16, .fd = 5, .len = 16, .payload = text};
	int sent;
	const uint8_t *p;
	size_t n;
	cr_assert(at_event_io_data(&ev, &sent, &p, &n));
	cr_assert(sent && n == 16 && p == text);
	ev.call = AT_CALL_SSL_read_ex;
	ev.ret = 1; /* the _ex forms return 1: the count is the payload's */
	cr_assert(at_event_io_data(&ev, &sent, &p, &n));
	cr_assert(!sent && n == 16);
	ev.call = AT_CALL_SSL_peek;
	cr_assert(!at_event_io_data(&ev, &sent, &p, &n), "a peek's bytes are read again");
	ev.call = AT_CALL_SSL_read;
	ev.ret = -1;
	cr_assert(!at_event_io_data(&ev, &sent, &p, &n), "a failed read carries its error queue");
}
