/* HTTP/1.x exchanges and LLM calls out of one connection's bytes (see http.h).
 * Each direction is read in place through a cursor over its segments; only head lines and
 * the bodies of LLM calls (capped) are copied. No length read from the wire is trusted
 * beyond the bytes that are there, and every byte is looked at a bounded number of times. */
#include "agenttrace/http.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agenttrace/errors.h"

#define HEAD_LINE_MAX (64u * 1024)  /* a longer head or chunk-size line is not HTTP */
#define HEAD_MAX      (256u * 1024) /* nor is a longer head, or trailer section */
#define BODY_KEEP     (4u << 20)    /* most of a body kept for its JSON */
#define EVENT_KEEP    (1u << 20)    /* most of one SSE event or NDJSON line kept */

/* One direction's bytes, read in place. */
struct stream {
	const struct at_http_segment *segs;
	size_t n, i, off; /* the next byte is segs[i].data[off] */
	enum at_http_dir dir;
	uint64_t pos, total; /* bytes consumed; bytes in all */
	uint64_t last_t;     /* the time of the last byte consumed */
	int stopped;         /* HTTP ended at http_end: the rest is raw */
	uint64_t http_end;
};

static void stream_init(struct stream *s, const struct at_http_segment *segs, size_t n,
                        enum at_http_dir dir)
{
	*s = (struct stream){.segs = segs, .n = n, .dir = dir};
	for (size_t i = 0; i < n; i++)
		if (segs[i].dir == dir && segs[i].data)
			s->total += segs[i].len;
}

/* Moves to the segment holding the next byte; 0 when there is none. The index only moves
 * forward, so walking past the other direction's segments costs each of them once. */
static int stream_settle(struct stream *s)
{
	while (s->i < s->n && (s->segs[s->i].dir != s->dir || !s->segs[s->i].data ||
	                       s->off >= s->segs[s->i].len)) {
		s->i++;
		s->off = 0;
	}
	return s->i < s->n;
}

static int stream_byte(struct stream *s)
{
	if (!stream_settle(s))
		return -1;
	s->pos++;
	s->last_t = s->segs[s->i].t_ns;
	return s->segs[s->i].data[s->off++];
}

/* The time of the next byte (of the last one when there is none). */
static uint64_t stream_time(struct stream *s)
{
	return stream_settle(s) ? s->segs[s->i].t_ns : s->last_t;
}

static void stream_stop(struct stream *s, uint64_t at)
{
	s->stopped = 1;
	s->http_end = at;
}

/* Where this direction's HTTP ends so far. */
static uint64_t stream_http_end(const struct stream *s)
{
	return s->stopped ? s->http_end : s->pos;
}

/* A growing copy of at most some maximum; `cut` says more was offered. */
struct buf {
	uint8_t *p;
	size_t len, cap;
	int cut;
};

static int buf_add(struct buf *b, const uint8_t *p, size_t n, size_t max)
{
	if (n > max - b->len) {
		n = max - b->len;
		b->cut = 1;
	}
	if (n > b->cap - b->len) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap - b->len < n)
			cap *= 2;
		if (cap > max)
			cap = max; /* len + n <= max */
		uint8_t *q = realloc(b->p, cap);
		if (!q)
			return AT_ENOMEM;
		b->p = q;
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	return 0;
}

static void buf_clear(struct buf *b)
{
	b->len = 0;
	b->cut = 0;
}

/* ---- what an LLM call's JSON says ---- */

enum api { API_NONE, API_OPENAI, API_GROQ, API_ANTHROPIC, API_OLLAMA };
static const char *const api_names[] = {"", "openai", "groq", "anthropic", "ollama"};

static void set_model(struct at_http_exchange *x, json_t *v)
{
	if (x->model[0] || !json_is_string(v))
		return;
	size_t n = json_string_length(v);
	if (n > sizeof x->model - 1)
		n = sizeof x->model - 1;
	memcpy(x->model, json_string_value(v), n);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)x->model[i] < 0x20 || x->model[i] == 0x7f)
			x->model[i] = '?'; /* it is shown on a terminal */
	x->model[n] = '\0';
}

static void set_count(int64_t *dst, json_t *v)
{
	if (json_is_integer(v) && json_integer_value(v) >= 0)
		*dst = json_integer_value(v);
}

/* One JSON document of an answer, or one event or line of a streamed one. Later ones
 * override earlier counts: streams report running or final totals last. */
static void take_answer(struct at_http_exchange *x, enum api api, json_t *j)
{
	json_t *usage = json_object_get(j, "usage");
	set_model(x, json_object_get(j, "model"));
	switch (api) {
	case API_OPENAI:
	case API_GROQ:
		/* Groq puts a stream's usage under x_groq in its last chunk. */
		if (!json_is_object(usage))
			usage = json_object_get(json_object_get(j, "x_groq"), "usage");
		set_count(&x->prompt_tokens, json_object_get(usage, "prompt_tokens"));
		set_count(&x->completion_tokens, json_object_get(usage, "completion_tokens"));
		break;
	case API_ANTHROPIC:
		/* SSE message_start carries the message (model, input tokens) one level down. */
		if (json_is_object(json_object_get(j, "message")))
			take_answer(x, api, json_object_get(j, "message"));
		set_count(&x->prompt_tokens, json_object_get(usage, "input_tokens"));
		set_count(&x->completion_tokens, json_object_get(usage, "output_tokens"));
		break;
	case API_OLLAMA:
		set_count(&x->prompt_tokens, json_object_get(j, "prompt_eval_count"));
		set_count(&x->completion_tokens, json_object_get(j, "eval_count"));
		break;
	case API_NONE: break;
	}
}

/* ---- a body, as it comes: counted, and for LLM calls kept or scanned ---- */

enum body_use { BODY_COUNT, BODY_REQUEST, BODY_ANSWER };

struct body {
	enum body_use use;
	enum api api;
	struct at_http_exchange *x;
	int sse;               /* scan SSE events as they come instead of keeping the body */
	uint64_t size;         /* decoded bytes seen */
	struct buf whole;      /* the first BODY_KEEP bytes (not when scanning SSE) */
	struct buf line, last; /* answers: the line being read; the last non-empty one */
	struct buf event;      /* SSE: the data of the event being read */
	int rc;                /* AT_ENOMEM once an allocation failed */
};

static void body_free(struct body *b)
{
	free(b->whole.p);
	free(b->line.p);
	free(b->last.p);
	free(b->event.p);
}

/* Parses and applies one JSON text; 1 if it parsed. */
static int body_json(struct body *b, const uint8_t *p, size_t n)
{
	json_error_t err;
	json_t *j = json_loadb((const char *)p, n, 0, &err);
	if (!j) {
		if (json_error_code(&err) == json_error_out_of_memory)
			b->rc = AT_ENOMEM;
		return 0;
	}
	if (b->use == BODY_REQUEST)
		set_model(b->x, json_object_get(j, "model"));
	else if (json_is_object(j))
		take_answer(b->x, b->api, j);
	json_decref(j);
	return 1;
}

static void sse_dispatch(struct body *b)
{
	struct buf *e = &b->event;
	if (e->len && !e->cut && !(e->len == 6 && !memcmp(e->p, "[DONE]", 6)))
		body_json(b, e->p, e->len);
	buf_clear(e);
}

/* An SSE line: "data:" lines gather into the event, an empty line ends it (the WHATWG
 * event-stream rules, minus the fields nobody here needs). */
static void sse_line(struct body *b)
{
	struct buf *l = &b->line, *e = &b->event;
	if (l->cut) {
		e->cut = 1;
	} else if (!l->len) {
		sse_dispatch(b);
	} else if (l->len >= 5 && !memcmp(l->p, "data:", 5)) {
		size_t skip = l->len > 5 && l->p[5] == ' ' ? 6 : 5;
		if (e->len && !b->rc)
			b->rc = buf_add(e, (const uint8_t *)"\n", 1, EVENT_KEEP);
		if (!b->rc)
			b->rc = buf_add(e, l->p + skip, l->len - skip, EVENT_KEEP);
	}
}

static void line_done(struct body *b)
{
	struct buf *l = &b->line;
	if (l->len && l->p[l->len - 1] == '\r' && !l->cut)
		l->len--;
	if (b->sse) {
		sse_line(b);
	} else if (l->len && !l->cut) {
		struct buf t = b->last; /* NDJSON: only the last line is wanted, so swap */
		b->last = *l;
		*l = t;
	}
	buf_clear(l);
}

static void scan_lines(struct body *b, const uint8_t *p, size_t n)
{
	while (n && !b->rc) {
		const uint8_t *nl = memchr(p, '\n', n);
		size_t k = nl ? (size_t)(nl - p) : n;
		b->rc = buf_add(&b->line, p, k, EVENT_KEEP);
		if (!nl)
			break;
		line_done(b);
		p += k + 1;
		n -= k + 1;
	}
}

static void body_feed(struct body *b, const uint8_t *p, size_t n)
{
	b->size += n;
	if (b->use == BODY_COUNT || b->rc)
		return;
	if (!b->sse)
		b->rc = buf_add(&b->whole, p, n, BODY_KEEP);
	if (b->use == BODY_ANSWER)
		scan_lines(b, p, n);
}

static int starts_with(const struct buf *b, const char *s)
{
	size_t n = strlen(s);
	return b->len >= n && !memcmp(b->p, s, n);
}

/* Applies what the body says once it has ended (or the bytes have). 0 or AT_ENOMEM. */
static int body_finish(struct body *b)
{
	if (b->use == BODY_COUNT || b->rc)
		return b->rc;
	if (b->use == BODY_REQUEST) {
		if (b->whole.len && !b->whole.cut)
			body_json(b, b->whole.p, b->whole.len);
		return b->rc;
	}
	/* An event stream sent without its Content-Type: scan it now, from the copy. */
	if (!b->sse && !b->whole.cut &&
	    (starts_with(&b->whole, "data:") || starts_with(&b->whole, "event:"))) {
		b->sse = 1;
		buf_clear(&b->line);
		buf_clear(&b->event);
		scan_lines(b, b->whole.p, b->whole.len);
	}
	if (b->sse) {
		if (b->line.len)
			line_done(b);
		sse_dispatch(b); /* a stream cut short still says what it said */
	} else if (!b->whole.len || b->whole.cut || !body_json(b, b->whole.p, b->whole.len)) {
		/* Not one document: NDJSON (Ollama), whose last line has the counts. */
		struct buf *l = b->line.len && !b->line.cut ? &b->line : &b->last;
		if (l->len && !b->rc)
			body_json(b, l->p, l->len);
	}
	return b->rc;
}

/* Consumes up to `want` bytes into `b`; returns how many there were. */
static uint64_t stream_take(struct stream *s, uint64_t want, struct body *b)
{
	uint64_t got = 0;
	while (got < want && stream_settle(s)) {
		const struct at_http_segment *g = &s->segs[s->i];
		size_t k = g->len - s->off;
		if (k > want - got)
			k = (size_t)(want - got);
		body_feed(b, g->data + s->off, k);
		s->off += k;
		s->pos += k;
		s->last_t = g->t_ns;
		got += k;
	}
	return got;
}

/* ---- heads ---- */

enum { LINE_OK, LINE_END, LINE_SHORT, LINE_BAD };

/* Reads one line without its CRLF (or bare LF) into `line`. LINE_END: no byte was left;
 * LINE_SHORT: the bytes ended inside it; LINE_BAD: a control byte, a CR inside the line,
 * or longer than HEAD_LINE_MAX. Binary data mostly fails on its first byte. */
static int read_line(struct stream *s, char *line, size_t *len)
{
	size_t n = 0;
	int c = stream_byte(s);
	if (c < 0)
		return LINE_END;
	for (; c != '\n'; c = stream_byte(s)) {
		if (c < 0) {
			*len = n;
			return LINE_SHORT;
		}
		if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f || n == HEAD_LINE_MAX)
			return LINE_BAD;
		line[n++] = (char)c;
	}
	if (n && line[n - 1] == '\r')
		n--;
	*len = n;
	return memchr(line, '\r', n) ? LINE_BAD : LINE_OK;
}

enum route { ROUTE_NONE, ROUTE_OPENAI, ROUTE_ANTHROPIC, ROUTE_OLLAMA };

struct head {
	char method[16];
	int status;
	char host[256], authority[256]; /* Host; an absolute-form target's */
	char path[1024];
	enum route route;
	enum api api; /* set by read_request */
	int has_length;
	uint64_t length;
	int te, chunked, encoded, event_stream;
};

static int is_tchar(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static void copy_text(char *dst, size_t cap, const char *src, size_t n)
{
	if (n > cap - 1)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static int is_version(const char *p)
{
	return !memcmp(p, "HTTP/1.", 7) && p[7] >= '0' && p[7] <= '9';
}

static int ends_with(const char *p, size_t n, const char *tail)
{
	size_t k = strlen(tail);
	return n >= k && !memcmp(p + n - k, tail, k);
}

static enum route route_of(const char *path, size_t n)
{
	const char *q = memchr(path, '?', n);
	if (q)
		n = (size_t)(q - path);
	/* OpenAI-compatible servers mount the API under prefixes (/openai/v1, Azure's
	 * /openai/deployments/<name>), so these match on the tail. */
	if (ends_with(path, n, "/chat/completions") || ends_with(path, n, "/v1/completions"))
		return ROUTE_OPENAI;
	if (ends_with(path, n, "/v1/messages"))
		return ROUTE_ANTHROPIC;
	if ((n == 9 && !memcmp(path, "/api/chat", 9)) ||
	    (n == 13 && !memcmp(path, "/api/generate", 13)))
		return ROUTE_OLLAMA;
	return ROUTE_NONE;
}

/* "METHOD SP target SP HTTP/1.x" */
static int parse_request_line(struct head *h, const char *line, size_t n)
{
	size_t m = 0;
	while (m < n && m < sizeof h->method - 1 && is_tchar(line[m]))
		m++;
	if (!m || m + 10 >= n || line[m] != ' ' || line[n - 9] != ' ' || !is_version(line + n - 8))
		return 0;
	const char *target = line + m + 1;
	size_t tlen = n - 9 - (m + 1);
	if (memchr(target, ' ', tlen))
		return 0;
	copy_text(h->method, sizeof h->method, line, m);
	size_t skip = tlen >= 7 && !strncasecmp(target, "http://", 7)    ? 7
	              : tlen >= 8 && !strncasecmp(target, "https://", 8) ? 8
	                                                                 : 0;
	if (skip) {
		size_t a = skip;
		while (a < tlen && target[a] != '/' && target[a] != '?')
			a++;
		copy_text(h->authority, sizeof h->authority, target + skip, a - skip);
		target += a;
		tlen -= a;
	}
	copy_text(h->path, sizeof h->path, target, tlen);
	h->route = route_of(target, tlen);
	return 1;
}

/* "HTTP/1.x SP 3DIGIT [SP reason]" */
static int parse_status_line(struct head *h, const char *line, size_t n)
{
	if (n < 12 || !is_version(line) || line[8] != ' ' || (n > 12 && line[12] != ' '))
		return 0;
	for (int i = 9; i < 12; i++)
		if (line[i] < '0' || line[i] > '9')
			return 0;
	h->status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
	return h->status >= 100 && h->status <= 599;
}

static int is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* Content-Length, also as a list of equal values (RFC 9110 8.6); 0 if malformed or it
 * contradicts an earlier one, since the framing is then unknown. */
static int parse_length(struct head *h, const char *v, size_t n)
{
	for (size_t i = 0;;) {
		uint64_t len = 0;
		size_t digits = 0;
		while (i < n && is_ows(v[i]))
			i++;
		for (; i < n && v[i] >= '0' && v[i] <= '9'; i++, digits++)
			len = len * 10 + (uint64_t)(v[i] - '0');
		while (i < n && is_ows(v[i]))
			i++;
		if (!digits || digits > 18 || (h->has_length && h->length != len))
			return 0;
		h->has_length = 1;
		h->length = len;
		if (i == n)
			return 1;
		if (v[i++] != ',')
			return 0;
	}
}

/* Transfer-Encoding and Content-Encoding lists. Only a final "chunked" frames the body;
 * any coding but chunked and identity makes the content unreadable here. */
static void parse_codings(struct head *h, const char *v, size_t n, int transfer)
{
	for (size_t i = 0; i < n;) {
		size_t end = i;
		while (end < n && v[end] != ',')
			end++;
		size_t a = i, b = end;
		const char *semi = memchr(v + a, ';', b - a);
		if (semi)
			b = (size_t)(semi - v);
		while (a < b && is_ows(v[a]))
			a++;
		while (b > a && is_ows(v[b - 1]))
			b--;
		int chunked = b - a == 7 && !strncasecmp(v + a, "chunked", 7);
		if (b > a && transfer) {
			h->te = 1;
			h->chunked = chunked;
		}
		if (b > a && !chunked && !(b - a == 8 && !strncasecmp(v + a, "identity", 8)))
			h->encoded = 1;
		i = end + 1;
	}
}

static int name_is(const char *name, size_t n, const char *want)
{
	return n == strlen(want) && !strncasecmp(name, want, n);
}

/* One header field; `h` NULL only checks its form (trailers). 0 if it is not one. */
static int parse_field(struct head *h, const char *line, size_t n)
{
	if (is_ows(line[0]))
		return 1; /* obsolete line folding: more of the previous value */
	size_t k = 0;
	while (k < n && is_tchar(line[k]))
		k++;
	if (!k || k == n || line[k] != ':')
		return 0;
	const char *v = line + k + 1;
	size_t vn = n - k - 1;
	while (vn && is_ows(*v))
		v++, vn--;
	while (vn && is_ows(v[vn - 1]))
		vn--;
	if (!h)
		return 1;
	if (name_is(line, k, "host") && !h->host[0])
		copy_text(h->host, sizeof h->host, v, vn);
	else if (name_is(line, k, "content-length"))
		return parse_length(h, v, vn);
	else if (name_is(line, k, "transfer-encoding"))
		parse_codings(h, v, vn, 1);
	else if (name_is(line, k, "content-encoding"))
		parse_codings(h, v, vn, 0);
	else if (name_is(line, k, "content-type"))
		h->event_stream = vn >= 17 && !strncasecmp(v, "text/event-stream", 17);
	return 1;
}

enum { HEAD_OK, HEAD_END, HEAD_SHORT, HEAD_BAD };

/* Reads a request's or response's head. HEAD_END: no byte was left; HEAD_SHORT: the bytes
 * ended after a good start line; HEAD_BAD: not HTTP/1.x (or cut inside its start line). */
static int read_head(struct stream *s, char *line, struct head *h, int request)
{
	size_t total = 0, n;
	int started = 0;
	memset(h, 0, sizeof *h);
	for (;;) {
		uint64_t at = s->pos;
		int r = read_line(s, line, &n);
		if (r == LINE_END && !total)
			return HEAD_END;
		if (r != LINE_OK)
			return started && r != LINE_BAD ? HEAD_SHORT : HEAD_BAD;
		total += s->pos - at;
		if (total > HEAD_MAX)
			return HEAD_BAD;
		if (!started) {
			if (!n)
				continue; /* empty lines before a message are allowed (RFC 9112 2.2)
				           */
			if (!(request ? parse_request_line(h, line, n)
			              : parse_status_line(h, line, n)))
				return HEAD_BAD;
			started = 1;
		} else if (!n) {
			return HEAD_OK;
		} else if (!parse_field(h, line, n)) {
			return HEAD_BAD;
		}
	}
}

/* ---- bodies ---- */

enum framing { FRAME_NONE, FRAME_LENGTH, FRAME_CHUNKED, FRAME_CLOSE };
enum { BODY_DONE, BODY_SHORT, BODY_BAD };

static int parse_chunk_size(const char *line, size_t n, uint64_t *size)
{
	size_t i = 0;
	*size = 0;
	for (; i < n; i++) {
		char c = line[i];
		int d = c >= '0' && c <= '9'   ? c - '0'
		        : c >= 'a' && c <= 'f' ? c - 'a' + 10
		        : c >= 'A' && c <= 'F' ? c - 'A' + 10
		                               : -1;
		if (d < 0)
			break;
		if (i == 15)
			return 0; /* no chunk is a petabyte: this is not a size */
		*size = *size << 4 | (uint64_t)d;
	}
	while (i < n && is_ows(line[i]))
		i++;
	return i > 0 && (i == n || line[i] == ';'); /* extensions after ';' are ignored */
}

/* Chunks, the last chunk and trailers. On BODY_BAD, *bad_at is where the line that is not
 * chunked framing starts. */
static int read_chunked(struct stream *s, char *line, struct body *b, uint64_t *bad_at)
{
	size_t n, trailers = 0;
	uint64_t size;
	for (;;) {
		*bad_at = s->pos;
		int r = read_line(s, line, &n);
		if (r == LINE_END || r == LINE_SHORT)
			return BODY_SHORT;
		if (r == LINE_BAD || !parse_chunk_size(line, n, &size))
			return BODY_BAD;
		if (!size)
			break;
		if (stream_take(s, size, b) < size)
			return BODY_SHORT;
		*bad_at = s->pos;
		r = read_line(s, line, &n);
		if (r == LINE_END || r == LINE_SHORT)
			return BODY_SHORT;
		if (r == LINE_BAD || n)
			return BODY_BAD;
	}
	for (;;) {
		uint64_t at = *bad_at = s->pos;
		int r = read_line(s, line, &n);
		if (r == LINE_END || r == LINE_SHORT)
			return BODY_SHORT;
		trailers += s->pos - at;
		if (r == LINE_BAD || trailers > HEAD_MAX || (n && !parse_field(NULL, line, n)))
			return BODY_BAD;
		if (!n)
			return BODY_DONE;
	}
}

static int read_body(struct stream *s, char *line, enum framing f, uint64_t length, struct body *b,
                     uint64_t *bad_at)
{
	switch (f) {
	case FRAME_NONE: return BODY_DONE;
	case FRAME_LENGTH: return stream_take(s, length, b) == length ? BODY_DONE : BODY_SHORT;
	case FRAME_CHUNKED: return read_chunked(s, line, b, bad_at);
	case FRAME_CLOSE: stream_take(s, UINT64_MAX, b); return BODY_DONE;
	}
	return BODY_BAD;
}

/* RFC 9112 6.3. A request has no body unless it says so; one with a transfer coding other
 * than chunked has no knowable end, so it is taken to run to the end of the bytes. */
static enum framing request_framing(const struct head *h)
{
	if (h->chunked)
		return FRAME_CHUNKED;
	if (h->te)
		return FRAME_CLOSE;
	return h->has_length ? FRAME_LENGTH : FRAME_NONE;
}

/* No body after 1xx, 204, 304 or for HEAD; a transfer coding wins over Content-Length; with
 * neither, the body runs until the server closes. */
static enum framing response_framing(const struct head *h, const struct head *req)
{
	if (h->status < 200 || h->status == 204 || h->status == 304 || !strcmp(req->method, "HEAD"))
		return FRAME_NONE;
	if (h->chunked)
		return FRAME_CHUNKED;
	if (h->te)
		return FRAME_CLOSE;
	return h->has_length ? FRAME_LENGTH : FRAME_CLOSE;
}

/* ---- exchanges ---- */

struct parser {
	char *line; /* HEAD_LINE_MAX bytes */
	struct stream sent, received;
};

static struct body body_for(enum body_use use, struct at_http_exchange *x, enum api api)
{
	return (struct body){.use = use, .x = x, .api = api};
}

/* The next request into *x and *h: 1 if there was one, 0 if not, or AT_ENOMEM. */
static int read_request(struct parser *p, struct at_http_exchange *x, struct head *h)
{
	struct stream *s = &p->sent;
	uint64_t start = s->pos, bad_at = 0;
	x->start_ns = stream_time(s);
	int r = read_head(s, p->line, h, 1);
	if (r == HEAD_END)
		return 0;
	if (r == HEAD_BAD) {
		stream_stop(s, start);
		return 0;
	}
	copy_text(x->method, sizeof x->method, h->method, strlen(h->method));
	const char *host = h->host[0] ? h->host : h->authority;
	copy_text(x->host, sizeof x->host, host, strlen(host));
	copy_text(x->path, sizeof x->path, h->path, strlen(h->path));
	if (h->route != ROUTE_NONE && !strcmp(h->method, "POST")) {
		int groq = !strncasecmp(host, "api.groq.com", 12) && (!host[12] || host[12] == ':');
		h->api = h->route == ROUTE_ANTHROPIC ? API_ANTHROPIC
		         : h->route == ROUTE_OLLAMA  ? API_OLLAMA
		         : groq                      ? API_GROQ
		                                     : API_OPENAI;
		x->llm = 1;
		copy_text(x->api, sizeof x->api, api_names[h->api], strlen(api_names[h->api]));
	}
	struct body b = body_for(x->llm && !h->encoded ? BODY_REQUEST : BODY_COUNT, x, h->api);
	if (r == HEAD_OK &&
	    read_body(s, p->line, request_framing(h), h->length, &b, &bad_at) == BODY_BAD)
		stream_stop(s, bad_at);
	x->request_bytes = stream_http_end(s) - start;
	x->request_body = b.size;
	int rc = body_finish(&b);
	body_free(&b);
	return rc ? rc : 1;
}

/* The responses to the request in *req: interim 1xx ones, then the final one. Sets *tunnel
 * when the connection stops carrying HTTP after it (101, or 2xx to a CONNECT). 0 or
 * AT_ENOMEM. */
static int read_response(struct parser *p, struct at_http_exchange *x, const struct head *req,
                         int *tunnel)
{
	struct stream *s = &p->received;
	struct head h;
	while (!s->stopped) {
		uint64_t start = s->pos, bad_at = 0;
		int r = read_head(s, p->line, &h, 0);
		if (r == HEAD_END)
			return 0;
		if (r == HEAD_BAD) {
			stream_stop(s, start);
			return 0;
		}
		int interim = h.status < 200 && h.status != 101;
		*tunnel =
		    h.status == 101 || (!strcmp(req->method, "CONNECT") && h.status / 100 == 2);
		int answer = x->llm && !h.encoded && !interim;
		struct body b = body_for(answer ? BODY_ANSWER : BODY_COUNT, x, req->api);
		b.sse = h.event_stream;
		enum framing f = *tunnel ? FRAME_NONE : response_framing(&h, req);
		int body =
		    r == HEAD_OK ? read_body(s, p->line, f, h.length, &b, &bad_at) : BODY_SHORT;
		if (body == BODY_BAD)
			stream_stop(s, bad_at);
		x->status = h.status;
		x->response_bytes += stream_http_end(s) - start;
		x->response_body += b.size;
		x->end_ns = s->last_t;
		x->complete = body == BODY_DONE && !interim;
		int rc = body_finish(&b);
		body_free(&b);
		if (rc || !interim || body != BODY_DONE)
			return rc;
	}
	return 0;
}

int at_http_parse(const struct at_http_segment *segs, size_t n, struct at_http_conn *out)
{
	struct parser p = {.line = malloc(HEAD_LINE_MAX)};
	size_t cap = 0;
	int rc = p.line ? 0 : AT_ENOMEM;
	*out = (struct at_http_conn){0};
	stream_init(&p.sent, segs, n, AT_HTTP_SENT);
	stream_init(&p.received, segs, n, AT_HTTP_RECEIVED);
	while (!rc && !p.sent.stopped) {
		struct at_http_exchange x = {.prompt_tokens = -1, .completion_tokens = -1};
		struct head req;
		int tunnel = 0;
		rc = read_request(&p, &x, &req);
		if (rc <= 0)
			break;
		rc = read_response(&p, &x, &req, &tunnel);
		if (!rc && out->count == cap) {
			size_t ncap = cap ? 2 * cap : 8;
			void *grown = realloc(out->exchanges, ncap * sizeof *out->exchanges);
			if (grown) {
				out->exchanges = grown;
				cap = ncap;
			} else {
				rc = AT_ENOMEM;
			}
		}
		if (!rc)
			out->exchanges[out->count++] = x;
		if (tunnel) {
			stream_stop(&p.sent, p.sent.pos);
			stream_stop(&p.received, p.received.pos);
		}
	}
	free(p.line);
	if (rc) {
		at_http_conn_free(out);
		return rc;
	}
	/* Whatever no request asked for is raw too: a response stream has no meaning alone. */
	out->raw_sent = p.sent.total - stream_http_end(&p.sent);
	out->raw_received = p.received.total - stream_http_end(&p.received);
	return 0;
}

void at_http_conn_free(struct at_http_conn *c)
{
	if (!c)
		return;
	free(c->exchanges);
	*c = (struct at_http_conn){0};
}
