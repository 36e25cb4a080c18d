/* Unit tests for the world of a process (core/world.c) and keyframe chunks in the trace
 * container: what events build, that a keyframe holds exactly that world, that the world
 * from a keyframe plus the events after it is the world from the start, and that the
 * container finds, reads and checks keyframes. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scratch.h"
#include "agenttrace/container.h"
#include "agenttrace/errors.h"
#include "agenttrace/world.h"

/* A small program's events: a file written, a socket connected, clocks read, a child. */
enum { EVENTS = 12 };

static uint8_t bufs[EVENTS][64];

static at_event event(uint64_t seq)
{
	at_event ev = {.seq = seq, .fd = -1, .thread = (uint32_t)(seq % 2)};
	uint8_t *b = bufs[seq];
	switch (seq) {
	case 0: /* open("/tmp/out.txt", O_WRONLY|O_CREAT|O_TRUNC) = 3 */
		ev.call = AT_CALL_open;
		ev.arg0 = O_WRONLY | O_CREAT | O_TRUNC;
		memcpy(b, "/tmp/out.txt", 13);
		ev.payload = b;
		ev.len = 13;
		ev.ret = 3;
		break;
	case 1:
	case 4: /* write(3, "hello") */
		ev.call = AT_CALL_write;
		ev.fd = 3;
		memcpy(b, "hello", 5);
		ev.payload = b;
		ev.len = 5;
		ev.ret = 5;
		break;
	case 2: { /* clock_gettime(CLOCK_REALTIME) = 1700000000.000000042 */
		int64_t ts[2] = {1700000000, 42};
		ev.call = AT_CALL_clock_gettime;
		ev.arg0 = 0;
		memcpy(b, ts, sizeof ts);
		ev.payload = b;
		ev.len = sizeof ts;
		break;
	}
	case 3: /* socket() = 4 */
		ev.call = AT_CALL_socket;
		ev.ret = 4;
		break;
	case 5: { /* connect(4, 127.0.0.1:8080) */
		struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(8080)};
		sa.sin_addr.s_addr = htonl(0x7f000001);
		ev.call = AT_CALL_connect;
		ev.fd = 4;
		memcpy(b, &sa, sizeof sa);
		ev.payload = b;
		ev.len = sizeof sa;
		break;
	}
	case 6: /* fork() = 777, child number 1 */
		ev.call = AT_CALL_fork;
		ev.arg0 = 1;
		ev.ret = 777;
		break;
	case 7: /* lseek(3, 2, SEEK_SET) = 2 */
		ev.call = AT_CALL_lseek;
		ev.fd = 3;
		ev.ret = 2;
		break;
	case 8: /* write(3, "XY") at offset 2 */
		ev.call = AT_CALL_write;
		ev.fd = 3;
		memcpy(b, "XY", 2);
		ev.payload = b;
		ev.len = 2;
		ev.ret = 2;
		break;
	case 9: /* dup(3) = 5 */
		ev.call = AT_CALL_dup;
		ev.fd = 3;
		ev.ret = 5;
		break;
	case 10: /* close(3) */
		ev.call = AT_CALL_close;
		ev.fd = 3;
		break;
	default: /* time() = 1700000001 */ ev.call = AT_CALL_time; ev.ret = 1700000001;
	}
	return ev;
}

static at_world *world_upto(uint64_t n)
{
	at_world *w = at_world_new();
	cr_assert_not_null(w);
	for (uint64_t i = 0; i < n; i++) {
		at_event ev = event(i);
		at_world_apply(w, &ev);
	}
	return w;
}

static json_t *fd_entry(json_t *world, int fd)
{
	json_t *v;
	size_t i;
	json_array_foreach(json_object_get(world, "descriptors"), i,
	                   v) if (json_integer_value(json_object_get(v, "fd")) == fd) return v;
	return NULL;
}

Test(world, follows_the_events)
{
	at_world *w = world_upto(EVENTS);
	json_t *j = at_world_json(w);
	cr_expect_eq(json_integer_value(json_object_get(j, "step")), EVENTS);
	cr_expect_null(fd_entry(j, 3), "fd 3 was closed");
	json_t *d5 = fd_entry(j, 5);
	cr_assert_not_null(d5, "dup made fd 5");
	cr_expect_str_eq(json_string_value(json_object_get(d5, "path")), "/tmp/out.txt");
	cr_expect_eq(json_integer_value(json_object_get(d5, "offset")), 4,
	             "lseek to 2, then 2 bytes written");
	json_t *d4 = fd_entry(j, 4);
	cr_assert_not_null(d4);
	cr_expect_str_eq(json_string_value(json_object_get(d4, "kind")), "socket");
	cr_expect_str_eq(json_string_value(json_object_get(d4, "peer")), "127.0.0.1:8080");
	json_t *f = json_array_get(json_object_get(j, "files"), 0);
	cr_assert_not_null(f);
	cr_expect_eq(json_integer_value(json_object_get(f, "size")), 10, "hellohello");
	/* "heXYohello": sha256 computed independently */
	cr_expect_str_eq(json_string_value(json_object_get(f, "sha256")),
	                 "3c86d26c6bfcf9479b274109fcbd91b7eed3fedf3dcef685241b844d2204af74");
	json_t *c0 = json_array_get(json_object_get(j, "clocks"), 0);
	cr_expect_eq(json_integer_value(json_object_get(c0, "ns")), 1700000000000000042ll);
	json_t *child = json_array_get(json_object_get(j, "children"), 0);
	cr_expect_eq(json_integer_value(json_object_get(child, "pid")), 777);
	json_t *t1 = json_array_get(json_object_get(j, "threads"), 1);
	cr_expect_eq(json_integer_value(json_object_get(t1, "events")), 6);
	cr_expect_eq(json_integer_value(json_object_get(t1, "last_step")), 11);
	json_decref(j);
	at_world_free(w);
}

/* The world from a keyframe at every step k, plus events k..EVENTS-1, is the world. */
Test(world, keyframe_plus_events_is_the_world)
{
	at_world *full = world_upto(EVENTS);
	json_t *want = at_world_json(full);
	for (uint64_t k = 0; k <= EVENTS; k++) {
		at_world *w = world_upto(k);
		uint8_t *data;
		size_t len;
		cr_assert_eq(at_world_save(w, &data, &len), 0);
		at_world *back = at_world_new();
		cr_assert_eq(at_world_load(back, data, len), 0, "keyframe at %llu",
		             (unsigned long long)k);
		json_t *a = at_world_json(w), *b = at_world_json(back);
		cr_expect(json_equal(a, b), "keyframe at %llu does not hold its world",
		          (unsigned long long)k);
		for (uint64_t i = k; i < EVENTS; i++) {
			at_event ev = event(i);
			at_world_apply(back, &ev);
		}
		json_t *got = at_world_json(back);
		cr_expect(json_equal(got, want), "keyframe at %llu + events differs",
		          (unsigned long long)k);
		json_decref(a);
		json_decref(b);
		json_decref(got);
		free(data);
		at_world_free(w);
		at_world_free(back);
	}
	json_decref(want);
	at_world_free(full);
}

Test(world, damaged_keyframe_is_refused)
{
	at_world *w = world_upto(5);
	uint8_t *data;
	size_t len;
	cr_assert_eq(at_world_save(w, &data, &len), 0);
	at_world *back = at_world_new();
	cr_expect_eq(at_world_load(back, data, 3), AT_ECORRUPT, "cut");
	data[0] ^= 1;
	cr_expect_eq(at_world_load(back, data, len), AT_ECORRUPT, "magic");
	data[0] ^= 1;
	data[12] = 0xff; /* the first section's length */
	data[13] = 0xff;
	data[14] = 0xff;
	cr_expect_eq(at_world_load(back, data, len), AT_ECORRUPT, "section length");
	free(data);
	at_world_free(w);
	at_world_free(back);
}

static void make_dir(void)
{
	scratch_create("world");
}

TestSuite(keyframes, .init = make_dir, .fini = scratch_remove);

Test(keyframes, found_read_and_checked)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/t.at", dir);
	at_trace_writer *tw;
	cr_assert_eq(at_trace_writer_create(path, 0, &tw), 0);
	struct at_stream_info si = {.pid = 1, .flags = AT_STREAM_ROOT};
	cr_assert_eq(at_trace_writer_begin_stream(tw, &si), 0);
	at_world *w = at_world_new();
	for (uint64_t i = 0; i < EVENTS; i++) {
		at_event ev = event(i);
		if (i == 6) {
			uint8_t *data;
			size_t len;
			cr_assert_eq(at_world_save(w, &data, &len), 0);
			cr_assert_eq(at_trace_writer_keyframe(tw, 6, data, len), 0);
			free(data);
		}
		cr_assert_eq(at_trace_writer_append(tw, &ev), 0);
		at_world_apply(w, &ev);
	}
	cr_assert_eq(at_trace_writer_finish(tw, "{}", 2), 0);

	struct at_trace_problem pb;
	cr_assert_eq(at_trace_verify(path, &pb), 0, "%s", pb.what);
	at_trace *t;
	cr_assert_eq(at_trace_open(path, &t, &pb), 0, "%s", pb.what);
	cr_expect_eq(at_trace_keyframe_find(t, 0, 5), -1, "no keyframe before step 6");
	long kf = at_trace_keyframe_find(t, 0, 9);
	cr_assert_geq(kf, 0);
	cr_expect_eq(at_trace_chunk(t, (unsigned)kf)->first_seq, 6);
	uint8_t *data;
	size_t len;
	cr_assert_eq(at_trace_keyframe_read(t, (unsigned)kf, &data, &len), 0);
	at_world *back = at_world_new();
	cr_assert_eq(at_world_load(back, data, len), 0);
	cr_expect_eq(at_world_step(back), 6);
	free(data);
	/* the events read on across the keyframe, every step once */
	at_trace_iter *it;
	at_event ev;
	uint64_t n = 0;
	cr_assert_eq(at_trace_iter_open(t, 0, 0, &it), 0);
	while (at_trace_iter_next(it, &ev) == 1)
		cr_expect_eq(ev.seq, n++);
	cr_expect_eq(n, EVENTS);
	at_trace_iter_close(it);
	uint64_t kf_offset = at_trace_chunk(t, (unsigned)kf)->offset;
	at_trace_close(t);
	at_world_free(back);
	at_world_free(w);

	/* a damaged keyframe fails verify, naming its chunk */
	FILE *f = fopen(path, "r+b");
	cr_assert_not_null(f);
	fseek(f, (long)kf_offset + 45, SEEK_SET);
	int c = fgetc(f);
	fseek(f, (long)kf_offset + 45, SEEK_SET);
	fputc(c ^ 0x10, f);
	fclose(f);
	cr_expect_neq(at_trace_verify(path, &pb), 0);
	cr_expect_eq(pb.chunk, kf, "the problem names the keyframe's chunk");
}
