/* Unit tests for the HTTP/1.x parser (core/http.c): exchanges come out whole however the
 * bytes were split, every framing (length, chunked, none, close) ends where it should, what
 * is not HTTP is counted as raw, and LLM calls give their API, model and token counts. Every
 * parse also checks that each byte belongs to an exchange or is raw, never both. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agenttrace/errors.h"
#include "agenttrace/http.h"

/* The connection under test: segments borrowing from string literals or static buffers. */
static struct at_http_segment *segs;
static size_t nsegs, segs_cap;
static struct at_http_conn conn;

static void reset(void)
{
	nsegs = 0;
	at_http_conn_free(&conn);
}

static void cleanup(void)
{
	reset();
	free(segs);
	segs = NULL;
	segs_cap = 0;
}

TestSuite(http, .fini = cleanup);

static void add(enum at_http_dir dir, uint64_t t, const void *data, size_t len)
{
	if (nsegs == segs_cap) {
		segs_cap = segs_cap ? 2 * segs_cap : 64;
		segs = realloc(segs, segs_cap * sizeof *segs);
		cr_assert_not_null(segs);
	}
	segs[nsegs++] = (struct at_http_segment){dir, t, data, len};
}

/* `text` in segments of `piece` bytes (0: one segment), the k-th at time t + k. */
static void add_split(enum at_http_dir dir, uint64_t t, const char *text, size_t piece)
{
	size_t len = strlen(text);
	if (!piece)
		piece = len ? len : 1;
	for (size_t at = 0, k = 0; at < len; at += piece, k++)
		add(dir, t + k, text + at, len - at < piece ? len - at : piece);
}

static void send_text(uint64_t t, const char *text)
{
	add_split(AT_HTTP_SENT, t, text, 0);
}

static void recv_text(uint64_t t, const char *text)
{
	add_split(AT_HTTP_RECEIVED, t, text, 0);
}

/* Parses the connection, and checks what must hold whatever the bytes: each direction's
 * bytes are its exchanges' plus its raw ones, decoded bodies fit in what was on the wire,
 * and the strings are terminated. */
static void parse(void)
{
	uint64_t sent = 0, received = 0, req = 0, resp = 0;
	at_http_conn_free(&conn);
	cr_assert_eq(at_http_parse(segs, nsegs, &conn), 0);
	for (size_t i = 0; i < nsegs; i++)
		*(segs[i].dir == AT_HTTP_SENT ? &sent : &received) +=
		    segs[i].data ? segs[i].len : 0;
	for (size_t i = 0; i < conn.count; i++) {
		const struct at_http_exchange *x = &conn.exchanges[i];
		req += x->request_bytes;
		resp += x->response_bytes;
		cr_assert_leq(x->request_body, x->request_bytes, "exchange %zu", i);
		cr_assert_leq(x->response_body, x->response_bytes, "exchange %zu", i);
		cr_assert(x->status == 0 || (x->status >= 100 && x->status <= 599));
		cr_assert(x->status || (!x->response_bytes && !x->end_ns && !x->complete));
		cr_assert_lt(strnlen(x->method, sizeof x->method), sizeof x->method);
		cr_assert_lt(strnlen(x->host, sizeof x->host), sizeof x->host);
		cr_assert_lt(strnlen(x->path, sizeof x->path), sizeof x->path);
		cr_assert_lt(strnlen(x->api, sizeof x->api), sizeof x->api);
		cr_assert_lt(strnlen(x->model, sizeof x->model), sizeof x->model);
		cr_assert(x->llm == !!x->api[0]);
	}
	cr_assert_eq(req + conn.raw_sent, sent, "sent: %lu in exchanges + %lu raw != %lu",
	             (unsigned long)req, (unsigned long)conn.raw_sent, (unsigned long)sent);
	cr_assert_eq(resp + conn.raw_received, received,
	             "received: %lu in exchanges + %lu raw != %lu", (unsigned long)resp,
	             (unsigned long)conn.raw_received, (unsigned long)received);
}

static const struct at_http_exchange *exchange(size_t i)
{
	cr_assert_gt(conn.count, i, "only %zu exchanges", conn.count);
	return &conn.exchanges[i];
}

/* One exchange's head fields, sizes (wire and decoded) and whether its response ended. */
static void expect_exchange(size_t i, const char *method, const char *host, const char *path,
                            int status, const char *request, const char *response,
                            uint64_t request_body, uint64_t response_body, int complete)
{
	const struct at_http_exchange *x = exchange(i);
	cr_expect_str_eq(x->method, method, "exchange %zu", i);
	cr_expect_str_eq(x->host, host, "exchange %zu", i);
	cr_expect_str_eq(x->path, path, "exchange %zu", i);
	cr_expect_eq(x->status, status, "exchange %zu: status %d", i, x->status);
	cr_expect_eq(x->request_bytes, strlen(request), "exchange %zu: request %lu bytes", i,
	             (unsigned long)x->request_bytes);
	cr_expect_eq(x->response_bytes, strlen(response), "exchange %zu: response %lu bytes", i,
	             (unsigned long)x->response_bytes);
	cr_expect_eq(x->request_body, request_body, "exchange %zu: request body %lu", i,
	             (unsigned long)x->request_body);
	cr_expect_eq(x->response_body, response_body, "exchange %zu: response body %lu", i,
	             (unsigned long)x->response_body);
	cr_expect_eq(x->complete, complete, "exchange %zu: complete %d", i, x->complete);
}

static void expect_llm(size_t i, const char *api, const char *model, int64_t prompt,
                       int64_t completion)
{
	const struct at_http_exchange *x = exchange(i);
	cr_expect_eq(x->llm, 1, "exchange %zu (%s) is not an LLM call", i, x->path);
	cr_expect_str_eq(x->api, api, "exchange %zu", i);
	cr_expect_str_eq(x->model, model, "exchange %zu", i);
	cr_expect_eq(x->prompt_tokens, prompt, "exchange %zu: prompt tokens %ld", i,
	             (long)x->prompt_tokens);
	cr_expect_eq(x->completion_tokens, completion, "exchange %zu: completion tokens %ld", i,
	             (long)x->completion_tokens);
	cr_expect(x->complete, "exchange %zu", i);
}

static void expect_raw(uint64_t sent, uint64_t received)
{
	cr_expect_eq(conn.raw_sent, sent, "raw sent %lu", (unsigned long)conn.raw_sent);
	cr_expect_eq(conn.raw_received, received, "raw received %lu",
	             (unsigned long)conn.raw_received);
}

/* `body` in chunked framing, `piece` bytes a chunk, the way servers stream. */
static const char *chunked(const char *body, size_t piece)
{
	static char out[64 * 1024];
	size_t len = strlen(body), n = 0;
	for (size_t at = 0; at < len; at += piece) {
		size_t k = len - at < piece ? len - at : piece;
		n += (size_t)snprintf(out + n, sizeof out - n, "%zx\r\n%.*s\r\n", k, (int)k,
		                      body + at);
	}
	snprintf(out + n, sizeof out - n, "0\r\n\r\n");
	return out;
}

/* Concatenates into a fresh buffer that lives until the test ends. */
static const char *cat(const char *a, const char *b)
{
	static char pool[8][64 * 1024];
	static int next;
	char *out = pool[next++ % 8];
	size_t na = strlen(a), nb = strlen(b);
	cr_assert_lt(na + nb, sizeof pool[0]);
	memcpy(out, a, na);
	memcpy(out + na, b, nb + 1);
	return out;
}

#define REQ1 "GET /index.html HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t\r\n\r\n"
#define RESP1                                                                                      \
	"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n\r\nhello world\n"
#define REQ2  "POST /submit?x=1 HTTP/1.1\r\nhost: example.com\r\ncontent-LENGTH: 7\r\n\r\na=1&b=2"
#define RESP2 "HTTP/1.1 201 Created\r\nCONTENT-length: 0\r\n\r\n"

static void expect_two_exchanges(void)
{
	cr_assert_eq(conn.count, 2);
	expect_exchange(0, "GET", "example.com", "/index.html", 200, REQ1, RESP1, 0, 12, 1);
	expect_exchange(1, "POST", "example.com", "/submit?x=1", 201, REQ2, RESP2, 7, 0, 1);
	expect_raw(0, 0);
}

Test(http, keep_alive_exchanges_survive_any_split)
{
	static const size_t pieces[] = {1, 2, 3, 5, 7, 16, 64, 0};
	for (size_t p = 0; p < sizeof pieces / sizeof pieces[0]; p++) {
		reset();
		add_split(AT_HTTP_SENT, 1000, REQ1, pieces[p]);
		add_split(AT_HTTP_RECEIVED, 2000, RESP1, pieces[p]);
		add_split(AT_HTTP_SENT, 3000, REQ2, pieces[p]);
		add_split(AT_HTTP_RECEIVED, 4000, RESP2, pieces[p]);
		parse();
		expect_two_exchanges();
		/* Also split across the messages: one direction's bytes, cut anywhere. */
		reset();
		add_split(AT_HTTP_SENT, 1000, REQ1 REQ2, pieces[p]);
		add_split(AT_HTTP_RECEIVED, 2000, RESP1 RESP2, pieces[p]);
		parse();
		expect_two_exchanges();
	}
}

Test(http, durations_come_from_segment_times)
{
	add_split(AT_HTTP_SENT, 100, REQ1, 10);       /* 100 .. */
	add_split(AT_HTTP_RECEIVED, 5000, RESP1, 20); /* .. 5000 + 4 */
	add_split(AT_HTTP_SENT, 7000, REQ2, 0);       /* 7000 */
	add(AT_HTTP_RECEIVED, 9000, RESP2, 10);       /* head split in two reads */
	add(AT_HTTP_RECEIVED, 9500, RESP2 + 10, strlen(RESP2) - 10);
	parse();
	cr_assert_eq(conn.count, 2);
	cr_expect_eq(exchange(0)->start_ns, 100);
	cr_expect_eq(exchange(0)->end_ns, 5000 + (strlen(RESP1) - 1) / 20);
	cr_expect_eq(exchange(1)->start_ns, 7000);
	cr_expect_eq(exchange(1)->end_ns, 9500);
}

#define CHUNKED_RESP                                                                               \
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n"                                    \
	"5;name=value\r\nhello\r\n"                                                                \
	"6 ; a=\"b\"\r\n world\r\n"                                                                \
	"0\r\nX-Checksum: 1234\r\nX-Other: y\r\n\r\n"

Test(http, chunked_response_is_decoded_and_ends_at_its_last_chunk)
{
	send_text(1, REQ1);
	recv_text(2, CHUNKED_RESP);
	send_text(3, REQ2);
	recv_text(4, RESP2);
	parse();
	cr_assert_eq(conn.count, 2);
	expect_exchange(0, "GET", "example.com", "/index.html", 200, REQ1, CHUNKED_RESP, 0, 11, 1);
	expect_exchange(1, "POST", "example.com", "/submit?x=1", 201, REQ2, RESP2, 7, 0, 1);
	expect_raw(0, 0);
}

Test(http, chunked_request_body_is_decoded)
{
	static const char req[] =
	    "PUT /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
	send_text(1, req);
	recv_text(2, RESP2);
	send_text(3, REQ1);
	recv_text(4, RESP1);
	parse();
	cr_assert_eq(conn.count, 2);
	expect_exchange(0, "PUT", "h", "/up", 201, req, RESP2, 5, 0, 1);
	expect_exchange(1, "GET", "example.com", "/index.html", 200, REQ1, RESP1, 0, 12, 1);
}

Test(http, pipelined_requests_pair_with_responses_in_order)
{
	static const char r3[] = "DELETE /items/3 HTTP/1.1\r\nHost: example.com\r\n\r\n";
	static const char s3[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 4\r\n\r\nnope";
	/* All requests go out before any answer comes back. */
	send_text(10, REQ1 REQ2);
	send_text(11, r3);
	add_split(AT_HTTP_RECEIVED, 20, cat(RESP1 RESP2, s3), 9);
	parse();
	cr_assert_eq(conn.count, 3);
	expect_exchange(0, "GET", "example.com", "/index.html", 200, REQ1, RESP1, 0, 12, 1);
	expect_exchange(1, "POST", "example.com", "/submit?x=1", 201, REQ2, RESP2, 7, 0, 1);
	expect_exchange(2, "DELETE", "example.com", "/items/3", 404, r3, s3, 0, 4, 1);
	cr_expect_eq(exchange(1)->start_ns, 10);
	cr_expect_eq(exchange(2)->start_ns, 11);
	expect_raw(0, 0);
}

Test(http, head_204_and_304_responses_have_no_body)
{
	/* Each of these announces a length it does not send; the next response follows. */
	static const char head[] = "HEAD /big HTTP/1.1\r\nHost: h\r\n\r\n";
	static const char head_r[] = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n";
	static const char del[] = "DELETE /x HTTP/1.1\r\nHost: h\r\n\r\n";
	static const char del_r[] = "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n";
	static const char get[] = "GET /c HTTP/1.1\r\nHost: h\r\nIf-None-Match: \"e\"\r\n\r\n";
	static const char get_r[] = "HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n";
	send_text(1, head);
	recv_text(2, head_r);
	send_text(3, del);
	recv_text(4, del_r);
	send_text(5, get);
	recv_text(6, get_r);
	send_text(7, REQ1);
	recv_text(8, RESP1);
	parse();
	cr_assert_eq(conn.count, 4);
	expect_exchange(0, "HEAD", "h", "/big", 200, head, head_r, 0, 0, 1);
	expect_exchange(1, "DELETE", "h", "/x", 204, del, del_r, 0, 0, 1);
	expect_exchange(2, "GET", "h", "/c", 304, get, get_r, 0, 0, 1);
	expect_exchange(3, "GET", "example.com", "/index.html", 200, REQ1, RESP1, 0, 12, 1);
	expect_raw(0, 0);
}

Test(http, interim_100_continue_then_final_response)
{
	static const char head[] = "POST /upload HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n"
	                           "Content-Length: 5\r\n\r\n";
	static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
	static const char final[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
	send_text(100, head);
	recv_text(200, cont);
	send_text(300, "hello");
	recv_text(400, final);
	parse();
	cr_assert_eq(conn.count, 1);
	expect_exchange(0, "POST", "h", "/upload", 200, cat(head, "hello"), cat(cont, final), 5, 2,
	                1);
	cr_expect_eq(exchange(0)->end_ns, 400);
	expect_raw(0, 0);
}

Test(http, interim_response_alone_is_not_complete)
{
	static const char head[] = "POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\nx";
	send_text(1, head);
	recv_text(2, "HTTP/1.1 100 Continue\r\n\r\n");
	parse();
	cr_assert_eq(conn.count, 1);
	cr_expect_eq(exchange(0)->status, 100);
	cr_expect_eq(exchange(0)->complete, 0);
}

Test(http, body_without_length_runs_to_the_close)
{
	static const char req[] = "GET /old HTTP/1.0\r\n\r\n";
	static const char head[] = "HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n";
	send_text(1, req);
	recv_text(2, head);
	recv_text(3, "<html>");
	recv_text(4, "HTTP/1.1 200 OK\r\n\r\n"); /* still body: nothing delimits it */
	recv_text(5, "</html>");
	parse();
	cr_assert_eq(conn.count, 1);
	expect_exchange(0, "GET", "", "/old", 200, req,
	                cat(head, "<html>HTTP/1.1 200 OK\r\n\r\n</html>"), 0,
	                strlen("<html>HTTP/1.1 200 OK\r\n\r\n</html>"), 1);
	cr_expect_eq(exchange(0)->end_ns, 5);
	expect_raw(0, 0);
}

Test(http, empty_line_before_a_request_is_tolerated)
{
	/* Some clients end a POST body with an extra CRLF; it goes with the next request. */
	send_text(1, REQ2 "\r\n");
	recv_text(2, RESP2);
	send_text(3, REQ1);
	recv_text(4, RESP1);
	parse();
	cr_assert_eq(conn.count, 2);
	expect_exchange(0, "POST", "example.com", "/submit?x=1", 201, REQ2, RESP2, 7, 0, 1);
	expect_exchange(1, "GET", "example.com", "/index.html", 200, "\r\n" REQ1, RESP1, 0, 12, 1);
	expect_raw(0, 0);
}

Test(http, host_falls_back_to_an_absolute_form_target)
{
	static const char req[] = "GET http://proxy.example:8080/a/b?q=1 HTTP/1.1\r\n\r\n";
	static const char with_host[] = "GET http://other/x HTTP/1.1\r\nHost: named\r\n\r\n";
	send_text(1, cat(req, with_host));
	recv_text(2, cat(RESP2, RESP2));
	parse();
	cr_assert_eq(conn.count, 2);
	expect_exchange(0, "GET", "proxy.example:8080", "/a/b?q=1", 201, req, RESP2, 0, 0, 1);
	expect_exchange(1, "GET", "named", "/x", 201, with_host, RESP2, 0, 0, 1);
}

Test(http, no_segments_no_exchanges)
{
	cr_assert_eq(at_http_parse(NULL, 0, &conn), 0);
	cr_expect_eq(conn.count, 0);
	expect_raw(0, 0);
	at_http_conn_free(&conn);
	at_http_conn_free(&conn); /* emptied, so freeing again is harmless */
	at_http_conn_free(NULL);
}

static const uint8_t client_hello[] = {
    0x16, 0x03, 0x01, 0x00, 0x2f, 0x01, 0x00, 0x00, 0x2b, 0x03, 0x03, 'G',  'E',
    'T',  ' ',  '/',  0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x00, 0x02, 0x13, 0x01, 0x01,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
static const uint8_t server_hello[] = {0x16, 0x03, 0x03, 0x00, 0x04, 0x02, 0x00, 0x00, 0x00,
                                       'H',  'T',  'T',  'P',  '/',  '1',  '.',  '1',  '\n'};

Test(http, tls_handshake_is_raw)
{
	add(AT_HTTP_SENT, 1, client_hello, sizeof client_hello);
	add(AT_HTTP_RECEIVED, 2, server_hello, sizeof server_hello);
	add(AT_HTTP_SENT, 3, client_hello, 7);
	parse();
	cr_expect_eq(conn.count, 0);
	expect_raw(sizeof client_hello + 7, sizeof server_hello);
}

Test(http, other_protocols_are_raw)
{
	static const char *const not_http[] = {
	    "*1\r\n$4\r\nPING\r\n",                         /* Redis */
	    "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",             /* HTTP/2 with prior knowledge */
	    "GET /\r\n",                                    /* HTTP/0.9 */
	    "GET / HTTP/1.1 extra\r\n\r\n",                 /* not a request line */
	    "GET / HTTP/1.1\r\nNo colon here\r\n\r\n",      /* not a field */
	    "GET / HTTP/1.1\r\nBad name: x\r\n\r\n",        /* not a token */
	    "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n",         /* bare CR */
	    "GET / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", /* framing unknown */
	    "GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
	    "VERYLONGMETHODNAME / HTTP/1.1\r\n\r\n",
	    "GET / HTTP/1.1\r\n\x01\r\n\r\n",
	    "\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof not_http / sizeof not_http[0]; i++) {
		reset();
		send_text(1, not_http[i]);
		recv_text(2, RESP1);
		parse();
		cr_expect_eq(conn.count, 0, "\"%s\" parsed as HTTP", not_http[i]);
		expect_raw(strlen(not_http[i]), strlen(RESP1));
	}
}

Test(http, garbage_after_a_good_exchange_is_raw)
{
	static const uint8_t junk[] = {0x00, 0xff, 0x13, 'G', 'E', 'T', ' ', 0x80, '\n'};
	send_text(1, REQ1);
	recv_text(2, RESP1);
	add(AT_HTTP_SENT, 3, junk, sizeof junk);
	send_text(4, REQ2); /* after garbage nothing is trusted, even a good request */
	add(AT_HTTP_RECEIVED, 5, junk, 4);
	recv_text(6, RESP2);
	parse();
	cr_assert_eq(conn.count, 1);
	expect_exchange(0, "GET", "example.com", "/index.html", 200, REQ1, RESP1, 0, 12, 1);
	expect_raw(sizeof junk + strlen(REQ2), 4 + strlen(RESP2));
}

Test(http, garbled_response_keeps_its_request)
{
	send_text(1, REQ1);
	recv_text(2, "SSH-2.0-OpenSSH_9.6\r\n");
	parse();
	cr_assert_eq(conn.count, 1);
	expect_exchange(0, "GET", "example.com", "/index.html", 0, REQ1, "", 0, 0, 0);
	cr_expect_eq(exchange(0)->end_ns, 0);
	expect_raw(0, strlen("SSH-2.0-OpenSSH_9.6\r\n"));
}

Test(http, bad_chunk_framing_is_raw_from_the_bad_line)
{
	static const char head[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
	/* A size that is not hex; a chunk longer than its size says. */
	static const char *const good[] = {"3\r\nabc\r\n", "3\r\nabc"};
	static const char *const bad[] = {"zz\r\nrest", "de\r\n0\r\n\r\n"};
	for (int i = 0; i < 2; i++) {
		reset();
		send_text(1, REQ1);
		recv_text(2, cat(cat(head, good[i]), bad[i]));
		parse();
		cr_assert_eq(conn.count, 1);
		expect_exchange(0, "GET", "example.com", "/index.html", 200, REQ1,
		                cat(head, good[i]), 0, 3, 0);
		expect_raw(0, strlen(bad[i]));
	}
}

Test(http, unanswered_bytes_are_raw)
{
	send_text(1, REQ1);
	recv_text(2, RESP1);
	recv_text(3, RESP2); /* a response nobody asked for */
	parse();
	cr_assert_eq(conn.count, 1);
	expect_raw(0, strlen(RESP2));
}

Test(http, truncated_responses_are_not_complete)
{
	/* Cut inside a Content-Length body, inside a chunk, and inside the head. */
	static const char cut_body[] = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly forty";
	static const char cut_chunk[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	                                "a\r\n0123456789\r\n10\r\nabc";
	static const char cut_head[] = "HTTP/1.1 503 Service Unavailable\r\nRetry-Aft";
	struct {
		const char *text;
		int status;
		uint64_t body;
	} cases[] = {{cut_body, 200, 10}, {cut_chunk, 200, 13}, {cut_head, 503, 0}};
	for (size_t i = 0; i < 3; i++) {
		reset();
		send_text(1, REQ1);
		add_split(AT_HTTP_RECEIVED, 10, cases[i].text, 8);
		parse();
		cr_assert_eq(conn.count, 1);
		expect_exchange(0, "GET", "example.com", "/index.html", cases[i].status, REQ1,
		                cases[i].text, 0, cases[i].body, 0);
		cr_expect_eq(exchange(0)->end_ns, 10 + (strlen(cases[i].text) - 1) / 8);
		expect_raw(0, 0);
	}
}

Test(http, truncated_request_still_gets_its_response)
{
	static const char req[] = "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n12345";
	send_text(1, req);
	recv_text(2, RESP1);
	parse();
	cr_assert_eq(conn.count, 1);
	expect_exchange(0, "POST", "h", "/x", 200, req, RESP1, 5, 12, 1);
}

Test(http, upgrade_turns_the_rest_raw)
{
	static const char req[] = "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n"
	                          "Connection: Upgrade\r\n\r\n";
	static const char resp[] = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n";
	static const uint8_t frame[] = {0x81, 0x05, 'h', 'e', 'l', 'l', 'o'};
	send_text(1, req);
	recv_text(2, resp);
	add(AT_HTTP_RECEIVED, 3, frame, sizeof frame);
	add(AT_HTTP_SENT, 4, frame, sizeof frame);
	send_text(5, REQ1); /* inside the tunnel, whatever it looks like */
	parse();
	cr_assert_eq(conn.count, 1);
	expect_exchange(0, "GET", "h", "/ws", 101, req, resp, 0, 0, 1);
	expect_raw(sizeof frame + strlen(REQ1), sizeof frame);
}

/* ---- LLM APIs ---- */

static void llm_call(const char *host, const char *path, const char *request_json,
                     const char *response_head, const char *response_body)
{
	static char req[16 * 1024];
	snprintf(req, sizeof req,
	         "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
	         "Content-Length: %zu\r\n\r\n%s",
	         path, host, strlen(request_json), request_json);
	send_text(1000, req);
	add_split(AT_HTTP_RECEIVED, 2000, cat(response_head, response_body), 13);
	parse();
	cr_assert_eq(conn.count, 1);
	cr_expect_eq(exchange(0)->request_body, strlen(request_json));
	cr_expect_eq(exchange(0)->status, 200);
	expect_raw(0, 0);
}

static const char *json_head(const char *body)
{
	static char head[256];
	snprintf(head, sizeof head,
	         "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
	         strlen(body));
	return head;
}

#define SSE_HEAD                                                                                   \
	"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n"                    \
	"Transfer-Encoding: chunked\r\n\r\n"
#define NDJSON_HEAD                                                                                \
	"HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: "             \
	"chunked\r\n\r\n"

#define OPENAI_REQ                                                                                 \
	"{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"model: x\"}]}"
#define OPENAI_ANSWER                                                                              \
	"{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"model\":\"gpt-4o-mini-2024-07-"   \
	"18\","                                                                                    \
	"\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"Hi\"}}],"     \
	"\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":34,\"total_tokens\":46}}"

Test(http, openai_chat_completion)
{
	llm_call("api.openai.com", "/v1/chat/completions", OPENAI_REQ, json_head(OPENAI_ANSWER),
	         OPENAI_ANSWER);
	expect_llm(0, "openai", "gpt-4o-mini", 12, 34);
}

Test(http, openai_chat_completion_streamed)
{
	static const char events[] =
	    "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o\","
	    "\"choices\":[{\"delta\":{\"content\":\"Hi\"}}],\"usage\":null}\n\n"
	    "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o\","
	    "\"choices\":[{\"delta\":{\"content\":\" there\"}}],\"usage\":null}\n\n"
	    ": keep-alive comment\n\n"
	    "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o\","
	    "\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":2}}\n\n"
	    "data: [DONE]\n\n";
	/* No "model" in the request: it comes from the answer. */
	llm_call("localhost:8000", "/v1/chat/completions",
	         "{\"stream\":true,\"stream_options\":{\"include_usage\":true},\"messages\":[]}",
	         SSE_HEAD, chunked(events, 37));
	expect_llm(0, "openai", "gpt-4o", 9, 2);
	cr_expect_eq(exchange(0)->response_body, strlen(events));
}

Test(http, openai_legacy_completion)
{
	static const char answer[] = "{\"object\":\"text_completion\",\"model\":\"davinci-002\","
	                             "\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":16}}";
	llm_call("api.openai.com", "/v1/completions?x=1", "{\"model\":\"davinci-002\"}",
	         json_head(answer), answer);
	expect_llm(0, "openai", "davinci-002", 5, 16);
}

Test(http, groq_by_host)
{
	static const char answer[] = "{\"model\":\"llama-3.3-70b-versatile\",\"usage\":"
	                             "{\"prompt_tokens\":40,\"completion_tokens\":7}}";
	llm_call("api.groq.com", "/openai/v1/chat/completions",
	         "{\"model\":\"llama-3.3-70b-versatile\"}", json_head(answer), answer);
	expect_llm(0, "groq", "llama-3.3-70b-versatile", 40, 7);
}

Test(http, groq_streamed_usage_under_x_groq)
{
	static const char events[] =
	    "data: "
	    "{\"model\":\"llama-3.1-8b-instant\",\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}"
	    "\n\n"
	    "data: "
	    "{\"model\":\"llama-3.1-8b-instant\",\"choices\":[{\"delta\":{},\"finish_reason\":"
	    "\"stop\"}],\"x_groq\":{\"id\":\"req_1\",\"usage\":{\"prompt_tokens\":18,"
	    "\"completion_tokens\":5}}}\n\n"
	    "data: [DONE]\n\n";
	llm_call("api.groq.com:443", "/openai/v1/chat/completions",
	         "{\"model\":\"llama-3.1-8b-instant\",\"stream\":true}", SSE_HEAD,
	         chunked(events, 50));
	expect_llm(0, "groq", "llama-3.1-8b-instant", 18, 5);
}

Test(http, anthropic_messages)
{
	static const char answer[] =
	    "{\"id\":\"msg_1\",\"type\":\"message\",\"model\":\"claude-sonnet-4-5-20250929\","
	    "\"content\":[{\"type\":\"text\",\"text\":\"Hi\"}],"
	    "\"usage\":{\"input_tokens\":21,\"output_tokens\":8}}";
	llm_call("api.anthropic.com", "/v1/messages",
	         "{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":100,\"messages\":[]}",
	         json_head(answer), answer);
	expect_llm(0, "anthropic", "claude-sonnet-4-5", 21, 8);
}

Test(http, anthropic_messages_streamed)
{
	/* CRLF line ends, an event: line before each data: line, as the API sends them. */
	static const char events[] =
	    "event: message_start\r\ndata: {\"type\":\"message_start\",\"message\":{\"id\":"
	    "\"msg_1\",\"model\":\"claude-haiku-4-5\",\"content\":[],\"usage\":{\"input_tokens\":"
	    "25,\"output_tokens\":1}}}\r\n\r\n"
	    "event: ping\r\ndata: {\"type\": \"ping\"}\r\n\r\n"
	    "event: content_block_delta\r\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
	    "\"delta\":{\"type\":\"text_delta\",\"text\":\"Hello\"}}\r\n\r\n"
	    "event: message_delta\r\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
	    "\"end_turn\"},\"usage\":{\"output_tokens\":15}}\r\n\r\n"
	    "event: message_stop\r\ndata: {\"type\":\"message_stop\"}\r\n\r\n";
	llm_call("api.anthropic.com", "/v1/messages", "{\"messages\":[],\"stream\":true}", SSE_HEAD,
	         chunked(events, 64));
	expect_llm(0, "anthropic", "claude-haiku-4-5", 25, 15);
}

Test(http, ollama_chat)
{
	static const char answer[] =
	    "{\"model\":\"llama3.2\",\"message\":{\"role\":\"assistant\",\"content\":\"hi\"},"
	    "\"done\":true,\"prompt_eval_count\":7,\"eval_count\":3}";
	llm_call("localhost:11434", "/api/chat", "{\"model\":\"llama3.2\",\"stream\":false}",
	         json_head(answer), answer);
	expect_llm(0, "ollama", "llama3.2", 7, 3);
}

Test(http, ollama_generate_streamed_as_ndjson)
{
	static const char lines[] =
	    "{\"model\":\"qwen3:8b\",\"response\":\"The\",\"done\":false}\n"
	    "{\"model\":\"qwen3:8b\",\"response\":\" sky\",\"done\":false}\n"
	    "{\"model\":\"qwen3:8b\",\"response\":\"\",\"done\":true,\"done_reason\":\"stop\","
	    "\"prompt_eval_count\":26,\"eval_count\":290}\n";
	llm_call("127.0.0.1:11434", "/api/generate", "{\"model\":\"qwen3:8b\",\"prompt\":\"sky?\"}",
	         NDJSON_HEAD, chunked(lines, 20));
	expect_llm(0, "ollama", "qwen3:8b", 26, 290);
}

Test(http, compressed_answer_leaves_tokens_unknown)
{
	/* The bytes below are not gzip, but the header says so: they must not be read as JSON. */
	static const char body[] = "{\"model\":\"m\",\"usage\":{\"prompt_tokens\":1,"
	                           "\"completion_tokens\":2}}";
	char head[128];
	snprintf(head, sizeof head,
	         "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %zu\r\n\r\n",
	         strlen(body));
	llm_call("api.openai.com", "/v1/chat/completions", "{\"model\":\"gpt-4.1\"}", head, body);
	expect_llm(0, "openai", "gpt-4.1", -1, -1);
}

Test(http, error_answer_has_the_model_but_no_tokens)
{
	static const char answer[] = "{\"error\":{\"message\":\"bad key\",\"type\":\"auth\"}}";
	llm_call("api.openai.com", "/v1/chat/completions", "{\"model\":\"gpt-4o\"}",
	         json_head(answer), answer);
	expect_llm(0, "openai", "gpt-4o", -1, -1);
}

Test(http, only_posts_to_llm_paths_are_llm_calls)
{
	static const char *const reqs[] = {
	    "GET /v1/chat/completions HTTP/1.1\r\nHost: api.openai.com\r\n\r\n",
	    "POST /v1/embeddings HTTP/1.1\r\nHost: api.openai.com\r\nContent-Length: 2\r\n\r\n{}",
	    "POST /api/tags HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\n\r\n{}",
	    "POST /v1/messages/count_tokens HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n{}",
	};
	for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++) {
		reset();
		send_text(1, reqs[i]);
		recv_text(2, RESP1);
		parse();
		cr_assert_eq(conn.count, 1);
		cr_expect_eq(exchange(0)->llm, 0, "%s", reqs[i]);
		cr_expect_str_eq(exchange(0)->model, "");
	}
}

/* ---- whatever the bytes ---- */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rng(void)
{
	/* xorshift64*: deterministic, so a failure reproduces */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1Dull;
}

Test(http, a_stream_cut_anywhere_is_never_complete_until_its_end)
{
	const char *answer = cat(SSE_HEAD, chunked("data: {\"model\":\"m\",\"usage\":{"
	                                           "\"prompt_tokens\":3,\"completion_tokens\":4}}"
	                                           "\n\ndata: [DONE]\n\n",
	                                           11));
	static const char req[] = "POST /v1/chat/completions HTTP/1.1\r\nHost: a\r\n"
	                          "Content-Length: 13\r\n\r\n{\"model\":\"m\"}";
	size_t len = strlen(answer);
	for (size_t cut = 0; cut <= len; cut++) {
		reset();
		send_text(1, req);
		add(AT_HTTP_RECEIVED, 2, answer, cut);
		parse();
		cr_assert_eq(conn.count, 1);
		cr_assert_eq(exchange(0)->complete, cut == len, "cut at %zu of %zu", cut, len);
		cr_assert_str_eq(exchange(0)->model, "m");
		if (cut == len)
			expect_llm(0, "openai", "m", 3, 4);
	}
	for (size_t cut = 0; cut < sizeof req - 1; cut++) {
		reset();
		add(AT_HTTP_SENT, 1, req, cut);
		add(AT_HTTP_RECEIVED, 2, answer, len);
		parse(); /* only the invariants: some cuts are raw, some a request cut short */
	}
}

Test(http, random_and_damaged_bytes_never_break_it)
{
	static uint8_t noise[4096], damaged[2][4096];
	static const char *const good[2] = {REQ1 REQ2 "POST /v1/messages HTTP/1.1\r\nHost: h\r\n"
	                                              "Transfer-Encoding: chunked\r\n\r\n"
	                                              "2\r\n{}\r\n0\r\n\r\n",
	                                    RESP1 CHUNKED_RESP SSE_HEAD "5\r\ndata:\r\n0\r\n\r\n"};
	for (int round = 0; round < 3000; round++) {
		reset();
		for (size_t i = 0; i < sizeof noise; i++)
			noise[i] = (uint8_t)rng();
		for (int d = 0; d < 2; d++) {
			size_t len = strlen(good[d]);
			memcpy(damaged[d], good[d], len);
			for (int flips = (int)(rng() % 4); flips > 0; flips--)
				damaged[d][rng() % len] = (uint8_t)rng();
		}
		/* Segments of random size and direction, from noise or from damaged HTTP. */
		size_t at[2] = {0, 0};
		int source = round % 3; /* 0: noise, 1: damaged, 2: good */
		for (int k = 0; k < 40; k++) {
			int d = (int)(rng() % 2);
			const uint8_t *base = source == 0   ? noise
			                      : source == 1 ? damaged[d]
			                                    : (const uint8_t *)good[d];
			size_t len = source == 0 ? sizeof noise : strlen(good[d]);
			size_t piece = (size_t)(rng() % 64);
			if (at[d] + piece > len)
				piece = len - at[d];
			add(d ? AT_HTTP_RECEIVED : AT_HTTP_SENT, (uint64_t)k, base + at[d], piece);
			at[d] += piece;
		}
		add(AT_HTTP_SENT, 99, NULL, 5); /* NULL data counts as no bytes */
		parse();
	}
}
