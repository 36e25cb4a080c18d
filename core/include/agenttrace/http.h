/* HTTP/1.x over one TCP connection: turns the bytes a program sent and received into
 * request/response exchanges, and recognises the ones that are calls to an LLM API.
 * Pure: it reads only the segments it is handed, keeps no state between calls, and knows
 * nothing of traces or of how the bytes were recorded. Bytes that are not HTTP (TLS, a
 * binary protocol, a garbled head) are counted, never interpreted.
 *
 * Limits: at most 64 KiB per head or chunk line and 256 KiB per head (more is not HTTP);
 * at most 4 MiB of a body, or 1 MiB of one SSE event or NDJSON line, is kept for JSON. */
#ifndef AGENTTRACE_HTTP_H
#define AGENTTRACE_HTTP_H

#include <stddef.h>
#include <stdint.h>

enum at_http_dir {
	AT_HTTP_SENT,     /* written by the traced program */
	AT_HTTP_RECEIVED, /* read by the traced program */
};

/* One read or write on the connection: `len` bytes at `data` (borrowed; NULL means none),
 * moved at t_ns. */
struct at_http_segment {
	enum at_http_dir dir;
	uint64_t t_ns;
	const uint8_t *data;
	size_t len;
};

/* One request and its final response. Strings are NUL-terminated and cut to fit; they hold
 * the bytes the peer sent, except that control characters in `model` become '?'. */
struct at_http_exchange {
	char method[16];
	char host[256];    /* the Host header, else an absolute-form target's authority */
	char path[1024];   /* the request target as sent; of an absolute-form one, what follows
	                    * the authority */
	int status;        /* the final status (an interim 1xx if nothing followed); 0: none */
	uint64_t start_ns; /* the segment with the request's first byte */
	uint64_t end_ns;   /* the segment with the response's last byte; 0: no response */
	uint64_t request_bytes, response_bytes; /* on the wire: heads, 1xx and bodies */
	uint64_t request_body, response_body;   /* body sizes with chunked framing removed */
	int complete; /* 1: the response ended where its framing says (a body delimited by the
	               * connection's close is complete when the bytes end) */
	/* 1: a POST to an LLM API: "openai" for paths ending in /chat/completions or
	 * /v1/completions ("groq" when the host is api.groq.com), "anthropic" for ones ending
	 * in /v1/messages, "ollama" for /api/chat and /api/generate. */
	int llm;
	char api[24];    /* "" when llm is 0 */
	char model[128]; /* the request body's "model", else the response's; "" if neither */
	int64_t prompt_tokens, completion_tokens; /* from the response; -1: not in it (also
	                                           * when it is compressed) */
};

/* A connection's exchanges in the order their requests were sent. raw_sent and raw_received
 * count the bytes of each direction that belong to no exchange: everything from the first
 * message that does not parse as HTTP/1.x (or from the bad chunk line of one that starts
 * well), everything after a 101 or a successful CONNECT, and received bytes no request asked
 * for. Each direction's bytes are its exchanges' bytes plus its raw bytes. */
struct at_http_conn {
	struct at_http_exchange *exchanges;
	size_t count;
	uint64_t raw_sent, raw_received;
};

/* Parses one connection's traffic: `n` segments in the order they happened, either
 * direction (each direction's bytes are the concatenation of its segments; `segs` may be
 * NULL when n is 0), borrowed for the call only. Never reads outside the segments, and does
 * work linear in their total size whatever the bytes. On success *out holds the result (free it
 * with at_http_conn_free) and 0 is returned; on AT_ENOMEM (the only failure) *out is empty.
 * Responses pair with requests in order, so a request sent after an "Expect: 100-continue" whose
 * body the client then withheld will misframe what follows. */
int at_http_parse(const struct at_http_segment *segs, size_t n, struct at_http_conn *out);

/* Frees what at_http_parse allocated and empties *c; accepts NULL and an empty conn. */
void at_http_conn_free(struct at_http_conn *c);

#endif
