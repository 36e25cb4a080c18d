/* agenttrace show, the network part: a trace's socket traffic grouped into HTTP/1.x
 * exchanges, LLM calls and other connections (netview.h), printed or as JSON. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agenttrace/blobs.h"
#include "agenttrace/errors.h"
#include "cli.h"
#include "netview.h"
#include "show.h"

/* Groups every stream's socket traffic into `nv`. A trace without socket calls is not read.
 * Returns an exit status, after saying what went wrong. */
int show_network_scan(at_trace *t, const char *id, const char *home, json_t *meta,
                      struct netview *nv)
{
	json_t *sockets = json_object_get(json_object_get(meta, "families"), "socket");
	int rc = 0;
	if (json_integer_value(sockets) <= 0)
		return 0;
	for (unsigned s = 0; !rc && s < at_trace_stream_count(t); s++) {
		const struct at_stream_info *si = at_trace_stream(t, s);
		at_trace_iter *it = NULL;
		at_event ev;
		rc = netview_begin(nv, s, si->pid, si->start_ns);
		if (!rc)
			rc = at_trace_iter_open(t, s, 0, &it);
		while (!rc && (rc = at_trace_iter_next(it, &ev)) == 1) {
			void *content = NULL;
			char hex[2 * AT_BLOB_ID_LEN + 1];
			/* Only a socket's: a missing blob is then counted as missing. */
			if ((ev.flags & AT_EVF_BLOB) && netview_follows(nv, ev.fd))
				show_resolve_blob(home, &ev, &content, hex);
			rc = netview_add(nv, &ev);
			free(content);
		}
		at_trace_iter_close(it);
	}
	if (!rc)
		rc = netview_finish(nv);
	if (rc == AT_ENOMEM) {
		cli_error("out of memory while grouping the network traffic of trace %s", id);
		return AT_EXIT_INTERNAL;
	} else if (rc < 0) {
		cli_error("trace %s is damaged: %s; run 'agenttrace verify %s'", id,
		          at_trace_last_problem(t)->what, id);
		return cli_exit_for(rc);
	}
	return 0;
}

const char *show_printable(const char *in, size_t width, char *out, size_t cap)
{
	size_t n = 0, len = strlen(in);
	if (width > cap - 1)
		width = cap - 1;
	size_t keep = len <= width ? len : width - 3;
	while (keep < len && keep && ((unsigned char)in[keep] & 0xC0) == 0x80)
		keep--;
	for (; n < keep; n++)
		out[n] = (unsigned char)in[n] < 0x20 || in[n] == 0x7f ? '?' : in[n];
	if (keep < len)
		n += (size_t)snprintf(out + n, cap - n, "...");
	out[n] = '\0';
	return out;
}

/* Host and path as one would type them; the peer's address when there is no Host. */
static const char *target(const struct netview_exchange *e, char *out, size_t cap)
{
	const char *host = e->x->host[0] ? e->x->host : e->conn->peer;
	snprintf(out, cap, "%s%s%s", e->conn->tls ? "https://" : "", host, e->x->path);
	return out;
}

static const char *millis(const struct at_http_exchange *x, char *out, size_t cap)
{
	double ms = (double)(x->end_ns - x->start_ns) / 1e6;
	if (x->end_ns && x->end_ns >= x->start_ns)
		snprintf(out, cap, ms < 0.1 ? "%.3f ms" : "%.1f ms", ms);
	else
		snprintf(out, cap, "-");
	return out;
}

static int conn_is_raw(const struct netview_conn *c)
{
	return c->http.raw_sent || c->http.raw_received || c->missing;
}

static void print_exchange(const struct netview_exchange *e, int processes)
{
	char url[1300], shown[64], method[32], status[16], ms[32], req[32], resp[32], peer[132];
	const struct at_http_exchange *x = e->x;
	snprintf(status, sizeof status, x->status ? "%d" : "-", x->status);
	printf("  %-6s %-50s %3s %9s  %s -> %s",
	       show_printable(x->method, 16, method, sizeof method),
	       show_printable(target(e, url, sizeof url), 50, shown, sizeof shown), status,
	       millis(x, ms, sizeof ms), cli_bytes(x->request_bytes, req, sizeof req),
	       cli_bytes(x->response_bytes, resp, sizeof resp));
	if (!x->complete)
		printf("  (incomplete)");
	if (e->conn->server)
		printf("  (served to %s)",
		       e->conn->peer[0] ? show_printable(e->conn->peer, 60, peer, sizeof peer)
		                        : "?");
	if (processes)
		printf("  [process %d]", e->conn->pid);
	printf("\n");
}

static void print_raw(const struct netview_conn *c, int processes)
{
	char peer[132], sent[32], received[32], missing[32];
	if (c->peer[0])
		show_printable(c->peer, 60, peer, sizeof peer);
	else
		snprintf(peer, sizeof peer, "fd %d", c->fd);
	printf("  %-6s %-50s", "raw", peer);
	if (c->http.raw_sent || c->http.raw_received)
		printf(" not HTTP: %s sent, %s received",
		       cli_bytes(c->http.raw_sent, sent, sizeof sent),
		       cli_bytes(c->http.raw_received, received, sizeof received));
	if ((c->http.raw_sent || c->http.raw_received) && c->http.count)
		printf(" after %zu exchange%s", c->http.count, c->http.count == 1 ? "" : "s");
	if (c->missing) /* cmd_verify names the blob */
		printf(" %s read, not in the blob store",
		       cli_bytes(c->missing, missing, sizeof missing));
	if (processes)
		printf("  [process %d]", c->pid);
	printf("\n");
}

void show_network_print(const struct netview *nv, int processes)
{
	size_t raw = 0, llm = 0;
	char api[32], model[48], prompt[24], completion[24], ms[32];
	for (size_t i = 0; i < nv->count; i++)
		raw += conn_is_raw(&nv->conns[i]);
	if (nv->nexchanges || raw)
		printf("HTTP\n");
	for (size_t i = 0; i < nv->nexchanges; i++) {
		print_exchange(&nv->exchanges[i], processes);
		llm += nv->exchanges[i].x->llm != 0;
	}
	for (size_t i = 0; i < nv->count; i++)
		if (conn_is_raw(&nv->conns[i]))
			print_raw(&nv->conns[i], processes);
	if (llm)
		printf("LLM calls\n");
	for (size_t i = 0; llm && i < nv->nexchanges; i++) {
		const struct at_http_exchange *x = nv->exchanges[i].x;
		if (!x->llm)
			continue;
		snprintf(prompt, sizeof prompt, x->prompt_tokens >= 0 ? "%" PRId64 : "-",
		         x->prompt_tokens);
		snprintf(completion, sizeof completion,
		         x->completion_tokens >= 0 ? "%" PRId64 : "-", x->completion_tokens);
		printf("  %-10s %-32s prompt %-7s completion %-7s %9s\n",
		       show_printable(x->api, 10, api, sizeof api),
		       x->model[0] ? show_printable(x->model, 32, model, sizeof model) : "-",
		       prompt, completion, millis(x, ms, sizeof ms));
	}
}

/* A string from the wire: JSON text when it is valid UTF-8, else one character per byte. */
static json_t *text_json(const char *s)
{
	json_t *j = json_string(s);
	return j ? j : show_latin1_json((const uint8_t *)s, strlen(s));
}

static json_t *optional_int(int64_t v, int64_t none)
{
	return v == none ? json_null() : json_integer((json_int_t)v);
}

/* What an exchange and its connection have in common with the LLM call made by it. */
static json_t *exchange_json(const struct netview_exchange *e)
{
	const struct at_http_exchange *x = e->x;
	const struct netview_conn *c = e->conn;
	json_t *o = json_pack(
	    "{s:i, s:i, s:o, s:s, s:b, s:o, s:o, s:o, s:o, s:I, s:o}", "process", c->pid, "fd",
	    c->fd, "peer", c->peer[0] ? text_json(c->peer) : json_null(), "role",
	    c->server ? "server" : "client", "tls", c->tls, "method", text_json(x->method), "host",
	    text_json(x->host), "path", text_json(x->path), "status", optional_int(x->status, 0),
	    "start_ns", (json_int_t)x->start_ns, "duration_ns",
	    x->end_ns >= x->start_ns && x->end_ns
	        ? json_integer((json_int_t)(x->end_ns - x->start_ns))
	        : json_null());
	return o ? o : json_object();
}

static json_t *llm_json(const struct at_http_exchange *x)
{
	return json_pack("{s:s, s:o, s:o, s:o}", "api", x->api, "model",
	                 x->model[0] ? text_json(x->model) : json_null(), "prompt_tokens",
	                 optional_int(x->prompt_tokens, -1), "completion_tokens",
	                 optional_int(x->completion_tokens, -1));
}

/* Adds "http", "llm_calls" and "raw_connections" to the summary object. */
void show_network_json(const struct netview *nv, json_t *out)
{
	json_t *http = json_array(), *calls = json_array(), *raw = json_array();
	for (size_t i = 0; i < nv->nexchanges; i++) {
		const struct at_http_exchange *x = nv->exchanges[i].x;
		json_t *o = exchange_json(&nv->exchanges[i]);
		json_object_set_new(o, "request_bytes", json_integer((json_int_t)x->request_bytes));
		json_object_set_new(o, "response_bytes",
		                    json_integer((json_int_t)x->response_bytes));
		json_object_set_new(o, "request_body", json_integer((json_int_t)x->request_body));
		json_object_set_new(o, "response_body", json_integer((json_int_t)x->response_body));
		json_object_set_new(o, "complete", json_boolean(x->complete));
		json_object_set_new(o, "llm", x->llm ? llm_json(x) : json_null());
		json_array_append_new(http, o);
		if (!x->llm)
			continue;
		json_t *call = exchange_json(&nv->exchanges[i]);
		json_object_update(call, json_object_get(o, "llm"));
		json_object_set_new(call, "http_index", json_integer((json_int_t)i));
		json_array_append_new(calls, call);
	}
	for (size_t i = 0; i < nv->count; i++) {
		const struct netview_conn *c = &nv->conns[i];
		if (!conn_is_raw(c))
			continue;
		json_array_append_new(
		    raw,
		    json_pack(
		        "{s:i, s:i, s:o, s:s, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "process",
		        c->pid, "fd", c->fd, "peer", c->peer[0] ? text_json(c->peer) : json_null(),
		        "role", c->server ? "server" : "client", "tls", c->tls, "open_ns",
		        (json_int_t)c->open_ns, "sent_bytes", (json_int_t)c->sent, "received_bytes",
		        (json_int_t)c->received, "raw_sent", (json_int_t)c->http.raw_sent,
		        "raw_received", (json_int_t)c->http.raw_received, "exchanges",
		        (json_int_t)c->http.count, "missing_bytes", (json_int_t)c->missing));
	}
	json_object_set_new(out, "http", http);
	json_object_set_new(out, "llm_calls", calls);
	json_object_set_new(out, "raw_connections", raw);
}
