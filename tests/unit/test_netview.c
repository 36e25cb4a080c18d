/* Unit tests for the network view of `show` (cli/netview.c): synthetic events in, grouped
 * connections and exchanges out. Sockets are followed through close, reuse of a number and
 * dup; a connection's bytes are its reads and writes however they were split; what is not
 * HTTP stays raw; a blob reference counts once it is resolved; times come from durations. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scratch.h"
#include "agenttrace/blobs.h"
#include "agenttrace/errors.h"
#include "agenttrace/net.h"
#include "agenttrace/seal.h"
#include "netview.h"

#define START 1000000000u /* the stream's start, ns */

static struct netview nv;
static uint64_t seq;

static void setup(void)
{
	netview_init(&nv);
	seq = 0;
	cr_assert_eq(netview_begin(&nv, 0, 4242, START), 0);
}

static void teardown(void)
{
	netview_free(&nv);
	scratch_remove();
}

TestSuite(netview, .init = setup, .fini = teardown);

/* Feeds one event of thread 0 that took `dur` ns. */
static void feed(uint16_t call, int fd, int64_t ret, int err, uint64_t dur, uint64_t arg0,
                 const void *payload, size_t len)
{
	at_event ev = {.seq = seq++,
	               .call = call,
	               .ret = ret,
	               .err = err,
	               .fd = fd,
	               .dur_ns = dur,
	               .arg0 = arg0,
	               .len = (uint32_t)len,
	               .payload = payload};
	cr_assert_eq(netview_add(&nv, &ev), 0, "event %lu", (unsigned long)ev.seq);
}

static struct sockaddr_in addr(const char *ip, uint16_t port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	inet_pton(AF_INET, ip, &a.sin_addr);
	return a;
}

/* socket() returning `fd`, then connect() to ip:port; 100 ns each. */
static void dial(int fd, const char *ip, uint16_t port)
{
	struct sockaddr_in a = addr(ip, port);
	feed(AT_CALL_socket, -1, fd, 0, 100, AF_INET, NULL, 0);
	feed(AT_CALL_connect, fd, 0, 0, 100, 0, &a, sizeof a);
}

static void put(uint16_t call, int fd, const char *text, uint64_t dur)
{
	feed(call, fd, (int64_t)strlen(text), 0, dur, strlen(text), text, strlen(text));
}

static void finish(void)
{
	cr_assert_eq(netview_finish(&nv), 0);
}

static const struct at_http_exchange *exchange(size_t i)
{
	cr_assert_gt(nv.nexchanges, i, "only %zu exchanges", nv.nexchanges);
	return nv.exchanges[i].x;
}

static void expect_exchange(size_t i, const char *method, const char *path, int status,
                            uint64_t response_body, int complete)
{
	const struct at_http_exchange *x = exchange(i);
	cr_expect_str_eq(x->method, method, "exchange %zu", i);
	cr_expect_str_eq(x->path, path, "exchange %zu", i);
	cr_expect_eq(x->status, status, "exchange %zu: status %d", i, x->status);
	cr_expect_eq(x->response_body, response_body, "exchange %zu: body %lu", i,
	             (unsigned long)x->response_body);
	cr_expect_eq(x->complete, complete, "exchange %zu", i);
}

#define GET_A  "GET /a HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n"
#define GET_B  "GET /b HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n"
#define RESP_A "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nhello\n"
#define RESP_B "HTTP/1.1 404 Not Found\r\nContent-Length: 5\r\n\r\nnone\n"
#define CHUNKED                                                                                    \
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3\r\n wo\r\n0\r\n\r\n"

Test(netview, keep_alive_connection_with_two_exchanges_split_across_reads)
{
	dial(5, "127.0.0.1", 8080);
	put(AT_CALL_write, 5, GET_A, 1000);
	/* The first answer in two reads, the second read also holding the second's start. */
	const char *both = RESP_A RESP_B;
	size_t a = strlen(RESP_A);
	feed(AT_CALL_read, 5, 10, 0, 50000, 65536, both, 10);
	put(AT_CALL_sendto, 5, "", 0); /* a failed or empty call changes nothing */
	feed(AT_CALL_read, 5, (int64_t)(a + 7 - 10), 0, 2000, 65536, both + 10, a + 7 - 10);
	put(AT_CALL_send, 5, GET_B, 1000);
	feed(AT_CALL_recv, 5, (int64_t)strlen(both + a + 7), 0, 3000, 65536, both + a + 7,
	     strlen(both + a + 7));
	feed(AT_CALL_close, 5, 0, 0, 100, 0, NULL, 0);
	finish();

	cr_assert_eq(nv.count, 1);
	const struct netview_conn *c = &nv.conns[0];
	cr_expect_str_eq(c->peer, "127.0.0.1:8080");
	cr_expect_eq(c->pid, 4242);
	cr_expect_eq(c->fd, 5);
	cr_expect_eq(c->server, 0);
	cr_expect_eq(c->sent, strlen(GET_A GET_B));
	cr_expect_eq(c->received, strlen(both));
	cr_expect_eq(c->http.raw_sent + c->http.raw_received, 0);
	cr_assert_eq(nv.nexchanges, 2);
	expect_exchange(0, "GET", "/a", 200, 6, 1);
	expect_exchange(1, "GET", "/b", 404, 5, 1);
	cr_expect_str_eq(exchange(0)->host, "127.0.0.1:8080");
	cr_expect_eq(exchange(0)->request_bytes, strlen(GET_A));
	cr_expect_eq(exchange(1)->response_bytes, strlen(RESP_B));
	/* Times: the clock is the start plus the calls' durations; a client's exchange runs
	 * from its write's start to its read's end. */
	cr_expect_eq(exchange(0)->start_ns, START + 200);
	cr_expect_eq(exchange(0)->end_ns, START + 200 + 1000 + 50000 + 2000);
	cr_expect_eq(exchange(1)->start_ns, START + 53200);
	cr_expect_eq(exchange(1)->end_ns, START + 53200 + 1000 + 3000);
}

Test(netview, chunked_answer_in_many_reads_is_one_exchange)
{
	dial(7, "10.0.0.2", 80);
	put(AT_CALL_write, 7, GET_A, 10);
	for (size_t i = 0; i < strlen(CHUNKED); i += 4) {
		size_t n = strlen(CHUNKED) - i < 4 ? strlen(CHUNKED) - i : 4;
		feed(AT_CALL_read, 7, (int64_t)n, 0, 10, 4, CHUNKED + i, n);
	}
	finish(); /* the connection was never closed: it ends with the stream */

	cr_assert_eq(nv.nexchanges, 1);
	expect_exchange(0, "GET", "/a", 200, 8, 1);
	cr_expect_eq(exchange(0)->response_bytes, strlen(CHUNKED));
	cr_expect_str_eq(nv.exchanges[0].conn->peer, "10.0.0.2:80");
}

Test(netview, garbled_stream_is_raw)
{
	static const uint8_t hello[] = {0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1};
	static const uint8_t answer[] = {0x16, 0x03, 0x03, 0x00, 0x7a, 0x02, 0x00};
	dial(4, "93.184.216.34", 443);
	feed(AT_CALL_write, 4, sizeof hello, 0, 10, sizeof hello, hello, sizeof hello);
	feed(AT_CALL_read, 4, sizeof answer, 0, 10, 4096, answer, sizeof answer);
	feed(AT_CALL_read, 4, 0, 0, 10, 4096, NULL, 0); /* the peer closed */
	feed(AT_CALL_close, 4, 0, 0, 10, 0, NULL, 0);
	finish();

	cr_expect_eq(nv.nexchanges, 0);
	cr_assert_eq(nv.count, 1);
	cr_expect_str_eq(nv.conns[0].peer, "93.184.216.34:443");
	cr_expect_eq(nv.conns[0].http.raw_sent, sizeof hello);
	cr_expect_eq(nv.conns[0].http.raw_received, sizeof answer);
}

Test(netview, garbage_after_an_exchange_is_raw_and_the_exchange_stays)
{
	dial(4, "127.0.0.1", 8080);
	put(AT_CALL_write, 4, GET_A, 10);
	put(AT_CALL_read, 4, RESP_A "\x01\x02garbage", 10);
	finish();
	cr_assert_eq(nv.nexchanges, 1);
	expect_exchange(0, "GET", "/a", 200, 6, 1);
	cr_expect_eq(nv.conns[0].http.raw_received, 9);
}

Test(netview, close_then_a_new_socket_on_the_same_number_is_a_new_connection)
{
	dial(5, "127.0.0.1", 8080);
	put(AT_CALL_write, 5, GET_A, 10);
	put(AT_CALL_read, 5, RESP_A, 10);
	feed(AT_CALL_close, 5, 0, 0, 10, 0, NULL, 0);
	cr_expect(!netview_follows(&nv, 5), "fd 5 still names a connection after its close");
	dial(5, "127.0.0.1", 9090);
	put(AT_CALL_write, 5, GET_B, 10);
	put(AT_CALL_read, 5, RESP_B, 10);
	/* A socket on a number whose close the trace missed ends what was there too. */
	dial(5, "127.0.0.1", 7070);
	put(AT_CALL_write, 5, GET_A, 10);
	put(AT_CALL_read, 5, RESP_A, 10);
	finish();

	cr_assert_eq(nv.count, 3);
	cr_assert_eq(nv.nexchanges, 3);
	expect_exchange(0, "GET", "/a", 200, 6, 1);
	expect_exchange(1, "GET", "/b", 404, 5, 1);
	expect_exchange(2, "GET", "/a", 200, 6, 1);
	cr_expect_str_eq(nv.exchanges[0].conn->peer, "127.0.0.1:8080");
	cr_expect_str_eq(nv.exchanges[1].conn->peer, "127.0.0.1:9090");
	cr_expect_str_eq(nv.exchanges[2].conn->peer, "127.0.0.1:7070");
	for (size_t i = 0; i < 3; i++)
		cr_expect_eq(nv.conns[i].http.raw_sent + nv.conns[i].http.raw_received, 0);
}

Test(netview, a_dup_keeps_the_connection_and_a_file_on_the_number_ends_it)
{
	dial(5, "127.0.0.1", 8080);
	feed(AT_CALL_dup, 5, 9, 0, 10, 0, NULL, 0);
	feed(AT_CALL_close, 5, 0, 0, 10, 0, NULL, 0);
	put(AT_CALL_write, 9, GET_A, 10); /* the copy still names the connection */
	put(AT_CALL_read, 9, RESP_A, 10);
	feed(AT_CALL_openat, -100, 9, 0, 10, 0, "/etc/hosts", 11); /* a close not seen */
	put(AT_CALL_read, 9, "127.0.0.1 localhost\n", 10);
	put(AT_CALL_write, 3, GET_B, 10); /* a file, never a socket */
	finish();

	cr_assert_eq(nv.count, 1);
	cr_expect_eq(nv.conns[0].received, strlen(RESP_A));
	cr_assert_eq(nv.nexchanges, 1);
	expect_exchange(0, "GET", "/a", 200, 6, 1);
}

/* A read of 4 KiB or more is sealed as a blob reference: resolved, it counts like any read;
 * left unresolved (the blob is gone), its bytes are counted as missing. */
Test(netview, blob_resolved_read_counts_and_a_missing_one_is_counted_missing)
{
	char home[128], head[128], *answer;
	static char body[6000];
	memset(body, 'x', sizeof body);
	int hn = snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n",
	                  sizeof body);
	size_t len = (size_t)hn + sizeof body;
	cr_assert_not_null(answer = malloc(len));
	memcpy(answer, head, (size_t)hn);
	memcpy(answer + hn, body, sizeof body);
	scratch_create("netview");
	snprintf(home, sizeof home, "%s/home", dir);
	at_blob_id id;
	cr_assert_eq(at_blob_put(home, answer, len, 0, &id), 0);
	uint8_t ref[AT_BLOB_REF_LEN];
	uint32_t len32 = (uint32_t)len;
	memcpy(ref, id.b, AT_BLOB_ID_LEN);
	memcpy(ref + AT_BLOB_ID_LEN, &len32, sizeof len32);

	dial(6, "127.0.0.1", 8080);
	put(AT_CALL_write, 6, GET_A, 10);
	cr_assert(netview_follows(&nv, 6));
	at_event ev = {.seq = seq++,
	               .call = AT_CALL_read,
	               .flags = AT_EVF_BLOB,
	               .ret = (int64_t)len,
	               .fd = 6,
	               .dur_ns = 10,
	               .arg0 = 65536,
	               .len = sizeof ref,
	               .payload = ref};
	void *content;
	cr_assert_eq(at_blob_ref_resolve(home, &ev, &content, &id), 0);
	cr_assert_eq(netview_add(&nv, &ev), 0);
	free(content);
	feed(AT_CALL_close, 6, 0, 0, 10, 0, NULL, 0);

	/* The same read again, on a connection whose blob is not there. */
	dial(6, "127.0.0.1", 8080);
	put(AT_CALL_write, 6, GET_B, 10);
	ev = (at_event){.seq = seq++,
	                .call = AT_CALL_read,
	                .flags = AT_EVF_BLOB,
	                .ret = (int64_t)len,
	                .fd = 6,
	                .dur_ns = 10,
	                .arg0 = 65536,
	                .len = sizeof ref,
	                .payload = ref};
	cr_assert_eq(netview_add(&nv, &ev), 0);
	finish();
	free(answer);

	cr_assert_eq(nv.nexchanges, 2);
	expect_exchange(0, "GET", "/a", 200, sizeof body, 1);
	cr_expect_eq(exchange(0)->response_bytes, len);
	cr_expect_eq(nv.conns[0].missing, 0);
	expect_exchange(1, "GET", "/b", 0, 0, 0);
	cr_expect_eq(nv.conns[1].missing, len);
	cr_expect_eq(nv.conns[1].received, 0);
}

Test(netview, accepted_connection_is_the_server_side)
{
	struct sockaddr_in client = addr("127.0.0.1", 51234);
	feed(AT_CALL_socket, -1, 3, 0, 10, AF_INET, NULL, 0);
	feed(AT_CALL_accept4, 3, 8, 0, 10, 0, &client, sizeof client);
	put(AT_CALL_recv, 8, GET_A, 5000); /* mostly waiting for the request */
	put(AT_CALL_send, 8, RESP_A, 40);
	feed(AT_CALL_close, 8, 0, 0, 10, 0, NULL, 0);
	finish();

	cr_assert_eq(nv.nexchanges, 1);
	expect_exchange(0, "GET", "/a", 200, 6, 1);
	const struct netview_conn *c = nv.exchanges[0].conn;
	cr_expect_eq(c->server, 1);
	cr_expect_eq(c->fd, 8);
	cr_expect_str_eq(c->peer, "127.0.0.1:51234");
	cr_expect_eq(exchange(0)->request_bytes, strlen(GET_A));
	/* From the request's arrival (the read's end) to the answer sent (the write's end). */
	cr_expect_eq(exchange(0)->start_ns, START + 20 + 5000);
	cr_expect_eq(exchange(0)->end_ns - exchange(0)->start_ns, 40);
}

Test(netview, message_calls_and_an_llm_call)
{
	static const char req[] = "POST /v1/chat/completions HTTP/1.1\r\nHost: api\r\n"
	                          "Content-Length: 21\r\n\r\n{\"model\": \"tiny-1\"}\r\n";
	static const char resp[] =
	    "HTTP/1.1 200 OK\r\nContent-Length: 62\r\n\r\n"
	    "{\"usage\": {\"prompt_tokens\": 11, \"completion_tokens\": 3}}     \n";
	/* sendmsg's payload: the message head, no address, then the bytes. */
	uint8_t msg[sizeof(struct at_msg_head) + sizeof req];
	struct at_msg_head h = {0};
	memcpy(msg, &h, sizeof h);
	memcpy(msg + sizeof h, req, sizeof req - 1);
	/* A socket made before the recording: the first send names it. */
	feed(AT_CALL_sendmsg, 12, sizeof req - 1, 0, 10, sizeof req - 1, msg,
	     sizeof h + sizeof req - 1);
	put(AT_CALL_recv, 12, resp, 10);
	finish();

	cr_assert_eq(nv.nexchanges, 1);
	const struct at_http_exchange *x = exchange(0);
	expect_exchange(0, "POST", "/v1/chat/completions", 200, 62, 1);
	cr_expect_eq(x->llm, 1);
	cr_expect_str_eq(x->api, "openai");
	cr_expect_str_eq(x->model, "tiny-1");
	cr_expect_eq(x->prompt_tokens, 11);
	cr_expect_eq(x->completion_tokens, 3);
	cr_expect_str_eq(nv.exchanges[0].conn->peer, "");
}

Test(netview, threads_run_alongside)
{
	dial(5, "127.0.0.1", 8080);
	put(AT_CALL_write, 5, GET_A, 1000);
	/* Another thread slept 500 ns meanwhile: it ran alongside, adding nothing... */
	at_event other = {
	    .seq = seq++, .thread = 1, .call = AT_CALL_nanosleep, .fd = -1, .dur_ns = 500};
	cr_assert_eq(netview_add(&nv, &other), 0);
	put(AT_CALL_read, 5, RESP_A, 300);
	/* ...but its next call started after that one returned (stored after the write), so a
	 * long one moves the clock. */
	other.seq = seq++;
	other.dur_ns = 9000;
	cr_assert_eq(netview_add(&nv, &other), 0);
	put(AT_CALL_write, 5, GET_B, 10);
	put(AT_CALL_read, 5, RESP_B, 10);
	finish();

	cr_assert_eq(nv.nexchanges, 2);
	cr_expect_eq(exchange(0)->start_ns, START + 200);
	cr_expect_eq(exchange(0)->end_ns, START + 200 + 1000 + 300);
	cr_expect_eq(exchange(1)->start_ns, START + 1200 + 9000 - 10); /* the write took 10 */
}

/* A thread's long call shows the stream's clock was behind: the exchange under way on
 * another thread keeps the duration of its own calls; one whose bytes two threads moved is
 * measured on the stream's clock. */
Test(netview, durations_come_from_the_thread_that_moved_the_bytes)
{
	dial(5, "127.0.0.1", 8080);
	put(AT_CALL_write, 5, GET_A, 1000);
	at_event poll = {
	    .seq = seq++, .thread = 1, .call = AT_CALL_poll, .fd = -1, .dur_ns = 50000};
	cr_assert_eq(netview_add(&nv, &poll), 0); /* ended at START + 50000 at least */
	put(AT_CALL_read, 5, RESP_A, 300);
	put(AT_CALL_write, 5, GET_B, 10);
	at_event read = {.seq = seq++,
	                 .thread = 1,
	                 .call = AT_CALL_read,
	                 .ret = strlen(RESP_B),
	                 .fd = 5,
	                 .dur_ns = 20,
	                 .len = strlen(RESP_B),
	                 .payload = (const uint8_t *)RESP_B};
	cr_assert_eq(netview_add(&nv, &read), 0);
	finish();

	cr_assert_eq(nv.nexchanges, 2);
	cr_expect_eq(exchange(0)->start_ns, START + 200);
	cr_expect_eq(exchange(0)->end_ns - exchange(0)->start_ns, 1000 + 300);
	/* The first read ended when the poll did: START + 50000, where the next write starts. */
	cr_expect_eq(exchange(1)->start_ns, START + 50000);
	cr_expect_eq(exchange(1)->end_ns - exchange(1)->start_ns, 20);
}

/* A wall clock read says how far the calls' clock is behind: later exchanges start that
 * much later, but the one under way keeps the duration of its calls. */
Test(netview, wall_clock_reads_move_later_starts_not_durations)
{
	dial(5, "127.0.0.1", 8080);
	put(AT_CALL_write, 5, GET_A, 1000);
	struct timespec now = {.tv_sec = 2, .tv_nsec = 500};
	feed(AT_CALL_clock_gettime, -1, 0, 0, 20, CLOCK_REALTIME, &now, sizeof now);
	struct timespec mono = {.tv_sec = 99, .tv_nsec = 0}; /* says nothing of the wall */
	feed(AT_CALL_clock_gettime, -1, 0, 0, 20, CLOCK_MONOTONIC, &mono, sizeof mono);
	put(AT_CALL_read, 5, RESP_A, 300);
	put(AT_CALL_write, 5, GET_B, 10);
	put(AT_CALL_read, 5, RESP_B, 10);
	finish();

	cr_assert_eq(nv.nexchanges, 2);
	cr_expect_eq(exchange(0)->start_ns, START + 200);
	cr_expect_eq(exchange(0)->end_ns - exchange(0)->start_ns, 1000 + 20 + 20 + 300);
	uint64_t read_at = START + 200 + 1000 + 20; /* when the clock was read, by the calls */
	uint64_t behind = 2000000500u - read_at;
	cr_expect_eq(exchange(1)->start_ns, START + 200 + 1340 + behind);
	cr_expect_eq(exchange(1)->end_ns - exchange(1)->start_ns, 20);
}

Test(netview, streams_keep_their_own_descriptors)
{
	dial(5, "127.0.0.1", 8080);
	put(AT_CALL_write, 5, GET_A, 10);
	cr_assert_eq(netview_begin(&nv, 1, 4243, START + 5), 0);
	/* The child's fd 5 is not the parent's connection until the child makes one. */
	put(AT_CALL_read, 5, RESP_A, 10);
	dial(5, "127.0.0.1", 9090);
	put(AT_CALL_write, 5, GET_B, 10);
	put(AT_CALL_read, 5, RESP_B, 10);
	finish();

	cr_assert_eq(nv.count, 2);
	cr_assert_eq(nv.nexchanges, 2);
	expect_exchange(0, "GET", "/a", 0, 0, 0); /* its answer never came */
	cr_expect_eq(nv.exchanges[0].conn->pid, 4242);
	expect_exchange(1, "GET", "/b", 404, 5, 1);
	cr_expect_eq(nv.exchanges[1].conn->pid, 4243);
	cr_expect_eq(nv.exchanges[1].conn->stream, 1);
}

Test(netview, nothing_for_a_stream_without_sockets)
{
	put(AT_CALL_write, 1, "hello\n", 10);
	put(AT_CALL_read, 0, GET_A, 10);
	feed(AT_CALL_close, 1, 0, 0, 10, 0, NULL, 0);
	finish();
	cr_expect_eq(nv.count, 0);
	cr_expect_eq(nv.nexchanges, 0);
}

Test(netview, unconnected_socket_takes_its_peer_from_sendto)
{
	static const uint8_t query[] = {0x12, 0x34, 0x01, 0x00, 0x00, 0x01};
	struct sockaddr_in dns = addr("192.0.2.53", 53);
	struct at_msg_head h = {.namelen = sizeof dns};
	uint8_t msg[sizeof h + sizeof dns + sizeof query];
	memcpy(msg, &h, sizeof h);
	memcpy(msg + sizeof h, &dns, sizeof dns);
	memcpy(msg + sizeof h + sizeof dns, query, sizeof query);
	feed(AT_CALL_socket, -1, 6, 0, 10, AF_INET, NULL, 0);
	feed(AT_CALL_sendto, 6, sizeof query, 0, 10, sizeof query, msg, sizeof msg);
	finish();

	cr_assert_eq(nv.count, 1);
	cr_expect_str_eq(nv.conns[0].peer, "192.0.2.53:53");
	cr_expect_eq(nv.conns[0].sent, sizeof query);
	cr_expect_eq(nv.conns[0].http.raw_sent, sizeof query);
}
