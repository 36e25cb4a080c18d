/* Unit tests for the blob store (core/blobs.c): ids are SHA-256, content comes back as it
 * went in or not at all, a blob is stored once, and gc removes exactly what keep() refuses. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "scratch.h"
#include "agenttrace/blobs.h"
#include "agenttrace/errors.h"

static char home[128];

static void make_home(void)
{
	scratch_create("blobs");
	snprintf(home, sizeof home, "%s/home", dir);
}

TestSuite(blobs, .init = make_home, .fini = scratch_remove);

static void *random_bytes(size_t len)
{
	uint8_t *p = malloc(len);
	cr_assert_not_null(p);
	for (size_t got = 0; got < len;) {
		ssize_t n = getrandom(p + got, len - got, 0);
		cr_assert_gt(n, 0);
		got += (size_t)n;
	}
	return p;
}

static void write_file(const char *path, const void *buf, size_t len)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	cr_assert_eq(fwrite(buf, 1, len, f), len);
	cr_assert_eq(fclose(f), 0);
}

/* How many entries (blobs and anything else) a directory holds, "." and ".." aside. */
static int count_entries(const char *path)
{
	DIR *d = opendir(path);
	cr_assert_not_null(d, "%s: %s", path, strerror(errno));
	int n = 0;
	for (struct dirent *e; (e = readdir(d));)
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

static void fanout_dir(const at_blob_id *id, char *out, size_t cap)
{
	cr_assert_eq(at_blob_path(home, id, out, cap), 0);
	*strrchr(out, '/') = '\0';
}

static void expect_hash(const char *text, const char *want)
{
	at_blob_id id;
	char hex[2 * AT_BLOB_ID_LEN + 1];
	at_blob_hash(text, strlen(text), &id);
	at_blob_hex(&id, hex);
	cr_expect_str_eq(hex, want, "sha256(\"%s\")", text);
}

Test(blobs, hash_is_sha256)
{
	/* FIPS 180-2 and the empty-string vector every SHA-256 implementation publishes. */
	expect_hash("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	expect_hash("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	expect_hash("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

Test(blobs, hex_round_trips_and_parse_rejects_bad_input)
{
	at_blob_id id, back;
	char hex[2 * AT_BLOB_ID_LEN + 1];
	for (size_t i = 0; i < AT_BLOB_ID_LEN; i++)
		id.b[i] = (uint8_t)(i * 37 + 0x0f); /* every nibble value shows up */
	at_blob_hex(&id, hex);
	cr_assert_eq(strlen(hex), 2 * AT_BLOB_ID_LEN);
	cr_expect_eq(strspn(hex, "0123456789abcdef"), 2 * AT_BLOB_ID_LEN, "%s", hex);
	cr_assert_eq(at_blob_parse(hex, &back), 0);
	cr_expect_arr_eq(back.b, id.b, AT_BLOB_ID_LEN);

	char upper[sizeof hex], bad_char[sizeof hex], longer[sizeof hex + 1];
	for (size_t i = 0; i < sizeof hex; i++)
		upper[i] = (char)(hex[i] >= 'a' ? hex[i] - 'a' + 'A' : hex[i]);
	memcpy(bad_char, hex, sizeof hex);
	bad_char[40] = 'g';
	snprintf(longer, sizeof longer, "%s0", hex);
	char shorter[sizeof hex];
	memcpy(shorter, hex, sizeof hex);
	shorter[2 * AT_BLOB_ID_LEN - 1] = '\0';
	char space[sizeof hex];
	memcpy(space, hex, sizeof hex);
	space[0] = ' ';
	const char *bad[] = {"", "abc", shorter, longer, bad_char, upper, space, NULL};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		at_blob_id out;
		memset(&out, 0xAA, sizeof out);
		cr_expect_eq(at_blob_parse(bad[i], &out), AT_EINVAL, "\"%s\" parsed",
		             bad[i] ? bad[i] : "(null)");
		for (size_t j = 0; j < AT_BLOB_ID_LEN; j++)
			cr_expect_eq(out.b[j], 0xAA, "a refused parse wrote its output");
	}
}

Test(blobs, path_fans_out_on_the_first_two_hex_digits)
{
	at_blob_id id;
	char hex[2 * AT_BLOB_ID_LEN + 1], want[256], path[256];
	at_blob_hash("abc", 3, &id);
	at_blob_hex(&id, hex);
	snprintf(want, sizeof want, "%s/blobs/ba/%s", home, hex + 2);
	cr_assert_eq(at_blob_path(home, &id, path, sizeof path), 0);
	cr_expect_str_eq(path, want);
	cr_expect_eq(at_blob_path(home, &id, path, strlen(want)), AT_EINVAL, "it does not fit");
	cr_expect_eq(at_blob_path(NULL, &id, path, sizeof path), AT_EINVAL);
}

/* Puts, checks the id, the file's form (one zstd frame of the content), and gets it back. */
static void expect_round_trip(const void *content, size_t len, int durable)
{
	at_blob_id id, want;
	char path[256];
	at_blob_hash(content, len, &want);
	cr_assert_eq(at_blob_exists(home, &want), 0);
	cr_assert_eq(at_blob_put(home, content, len, durable, &id), 0, "put of %zu bytes", len);
	cr_expect_arr_eq(id.b, want.b, AT_BLOB_ID_LEN, "the id is not the content's SHA-256");
	cr_expect_eq(at_blob_exists(home, &id), 1);

	cr_assert_eq(at_blob_path(home, &id, path, sizeof path), 0);
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	static uint8_t frame[2 << 20], raw[2 << 20];
	size_t flen = fread(frame, 1, sizeof frame, f);
	fclose(f);
	cr_expect_eq(ZSTD_findFrameCompressedSize(frame, flen), flen, "not exactly one frame");
	cr_expect_eq(ZSTD_getFrameContentSize(frame, flen), len, "no content size in the header");
	size_t rawlen = ZSTD_decompress(raw, sizeof raw, frame, flen);
	cr_assert(!ZSTD_isError(rawlen) && rawlen == len, "the frame holds %zu bytes", rawlen);
	cr_expect(len == 0 || !memcmp(raw, content, len), "the frame is not the content");

	void *got = NULL;
	size_t got_len = 99;
	cr_assert_eq(at_blob_get(home, &id, &got, &got_len), 0, "get of %zu bytes", len);
	cr_assert_not_null(got, "a %zu-byte blob came back as NULL", len);
	cr_assert_eq(got_len, len);
	cr_expect(len == 0 || !memcmp(got, content, len), "%zu bytes came back different", len);
	free(got);
}

Test(blobs, put_then_get_returns_the_content)
{
	expect_round_trip("", 0, 0);
	expect_round_trip("x", 1, 1);
	void *big = random_bytes(1 << 20);
	expect_round_trip(big, 1 << 20, 0);
	free(big);
	char fan[256];
	at_blob_id id;
	at_blob_hash("x", 1, &id);
	fanout_dir(&id, fan, sizeof fan);
	struct stat st;
	cr_assert_eq(stat(fan, &st), 0);
	cr_expect_eq(st.st_mode & 0777, 0700, "blob directories are private");
}

Test(blobs, put_of_null_and_zero_length_is_the_empty_blob)
{
	at_blob_id id, empty;
	at_blob_hash("", 0, &empty);
	cr_assert_eq(at_blob_put(home, NULL, 0, 0, &id), 0);
	cr_expect_arr_eq(id.b, empty.b, AT_BLOB_ID_LEN);
	void *got;
	size_t len;
	cr_assert_eq(at_blob_get(home, &id, &got, &len), 0);
	cr_expect_not_null(got);
	cr_expect_eq(len, 0);
	free(got);
}

Test(blobs, put_twice_stores_one_file_and_does_not_rewrite_it)
{
	const char text[] = "the same file, read by ten recordings";
	at_blob_id a, b;
	char path[256], fan[256];
	struct stat before, after;
	cr_assert_eq(at_blob_put(home, text, sizeof text, 0, &a), 0);
	cr_assert_eq(at_blob_path(home, &a, path, sizeof path), 0);
	cr_assert_eq(stat(path, &before), 0);
	cr_assert_eq(at_blob_put(home, text, sizeof text, 1, &b), 0);
	cr_expect_arr_eq(a.b, b.b, AT_BLOB_ID_LEN);
	cr_assert_eq(stat(path, &after), 0);
	/* A rewrite would rename a new file in: a new inode. */
	cr_expect_eq(after.st_ino, before.st_ino, "the second put replaced the blob");
	fanout_dir(&a, fan, sizeof fan);
	cr_expect_eq(count_entries(fan), 1, "a temporary file or a second copy was left behind");
	snprintf(fan, sizeof fan, "%s/blobs", home);
	cr_expect_eq(count_entries(fan), 1);
}

Test(blobs, concurrent_puts_of_the_same_content_leave_one_whole_blob)
{
	enum { WRITERS = 8, ROUNDS = 20 };
	size_t len = 256 << 10;
	void *content = random_bytes(len);
	at_blob_id id;
	at_blob_hash(content, len, &id);
	pid_t pids[WRITERS];
	for (int i = 0; i < WRITERS; i++) {
		pids[i] = fork();
		cr_assert_geq(pids[i], 0);
		if (pids[i] == 0) {
			/* Unlinking after every round keeps the puts racing to rename. */
			int bad = 0;
			for (int r = 0; r < ROUNDS; r++) {
				at_blob_id got;
				void *back;
				size_t back_len;
				bad |= at_blob_put(home, content, len, 0, &got) != 0;
				int rc = at_blob_get(home, &id, &back, &back_len);
				bad |= rc != 0 && !(rc == AT_EIO && errno == ENOENT);
				bad |= rc == 0 && (back_len != len || memcmp(back, content, len));
				if (rc == 0)
					free(back);
				char path[256];
				at_blob_path(home, &id, path, sizeof path);
				unlink(path);
			}
			_exit(bad);
		}
	}
	for (int i = 0; i < WRITERS; i++) {
		int status;
		cr_assert_eq(waitpid(pids[i], &status, 0), pids[i]);
		cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		          "writer %d saw a failed put or a partial blob", i);
	}
	at_blob_id again;
	char fan[256];
	cr_assert_eq(at_blob_put(home, content, len, 0, &again), 0);
	fanout_dir(&id, fan, sizeof fan);
	cr_expect_eq(count_entries(fan), 1, "temporary files were left behind");
	free(content);
}

Test(blobs, get_of_a_missing_blob_is_eio_with_enoent)
{
	at_blob_id id, other;
	void *data = (void *)1;
	size_t len = 7;
	at_blob_hash("never stored", 12, &id);
	/* No blobs/ at all, then a store that holds something else. */
	errno = 0;
	cr_expect_eq(at_blob_get(home, &id, &data, &len), AT_EIO);
	cr_expect_eq(errno, ENOENT, "errno %d (%s)", errno, strerror(errno));
	cr_expect_null(data);
	cr_expect_eq(len, 0);
	cr_assert_eq(at_blob_put(home, "stored", 6, 0, &other), 0);
	errno = 0;
	cr_expect_eq(at_blob_get(home, &id, &data, &len), AT_EIO);
	cr_expect_eq(errno, ENOENT, "errno %d (%s)", errno, strerror(errno));
	cr_expect_eq(at_blob_exists(home, &id), 0);
}

static void expect_corrupt(const at_blob_id *id, const char *why)
{
	void *data = (void *)1;
	size_t len = 7;
	cr_expect_eq(at_blob_get(home, id, &data, &len), AT_ECORRUPT, "%s", why);
	cr_expect_null(data, "%s: data was returned", why);
	cr_expect_eq(len, 0);
}

Test(blobs, get_refuses_other_valid_content_under_the_name)
{
	const char real[] = "what the recording read", fake[] = "something else entirely";
	at_blob_id id;
	char path[256];
	uint8_t frame[256];
	cr_assert_eq(at_blob_put(home, real, sizeof real, 0, &id), 0);
	size_t n = ZSTD_compress(frame, sizeof frame, fake, sizeof fake, 3);
	cr_assert(!ZSTD_isError(n));
	cr_assert_eq(at_blob_path(home, &id, path, sizeof path), 0);
	write_file(path, frame, n);
	expect_corrupt(&id, "a well-formed frame of other content");
}

Test(blobs, get_refuses_a_damaged_file)
{
	size_t len = 1 << 20;
	uint8_t *content = random_bytes(len);
	memset(content, 'a', len / 2); /* half compressible, so the frame has real blocks */
	at_blob_id id;
	char path[256];
	cr_assert_eq(at_blob_put(home, content, len, 0, &id), 0);
	cr_assert_eq(at_blob_path(home, &id, path, sizeof path), 0);
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(truncate(path, st.st_size / 2), 0);
	expect_corrupt(&id, "truncated to half");
	cr_assert_eq(truncate(path, 0), 0);
	expect_corrupt(&id, "truncated to nothing");

	/* The right content followed by a second (skippable) frame is still not the format:
	 * exactly one frame. Something other than at_blob_put wrote it. */
	static const uint8_t skippable[] = {0x50, 0x2A, 0x4D, 0x18, 1, 0, 0, 0, '!'};
	uint8_t frame[64];
	size_t n = ZSTD_compress(frame, sizeof frame, "x", 1, 3);
	cr_assert(!ZSTD_isError(n));
	at_blob_id x;
	cr_assert_eq(at_blob_put(home, "x", 1, 0, &x), 0);
	memcpy(frame + n, skippable, sizeof skippable);
	cr_assert_eq(at_blob_path(home, &x, path, sizeof path), 0);
	write_file(path, frame, n + sizeof skippable);
	expect_corrupt(&x, "a second frame after the content's");
	free(content);
}

struct keep_set {
	at_blob_id ids[8];
	int n;
	int calls;
};

static int keep_listed(const at_blob_id *id, void *ctx)
{
	struct keep_set *k = ctx;
	k->calls++;
	for (int i = 0; i < k->n; i++)
		if (!memcmp(k->ids[i].b, id->b, AT_BLOB_ID_LEN))
			return 1;
	return 0;
}

Test(blobs, gc_removes_what_keep_refuses_and_counts_it)
{
	enum { N = 6 };
	at_blob_id ids[N];
	char content[N][32], path[256];
	uint64_t want_bytes = 0, removed = 99, bytes = 99;
	struct keep_set keep = {.n = 0};
	for (int i = 0; i < N; i++) {
		snprintf(content[i], sizeof content[i], "blob number %d", i);
		cr_assert_eq(at_blob_put(home, content[i], strlen(content[i]), 0, &ids[i]), 0);
		if (i % 2 == 0) {
			keep.ids[keep.n++] = ids[i];
		} else {
			struct stat st;
			cr_assert_eq(at_blob_path(home, &ids[i], path, sizeof path), 0);
			cr_assert_eq(stat(path, &st), 0);
			want_bytes += (uint64_t)st.st_size;
		}
	}
	/* A crashed put's temporary file from two hours ago, one being written now, and a file
	 * gc does not know. */
	char fan[256], stale[300], fresh[300], stranger[300];
	fanout_dir(&ids[0], fan, sizeof fan);
	snprintf(stale, sizeof stale, "%s/.tmp-1-1-00000000000000aa", fan);
	snprintf(fresh, sizeof fresh, "%s/.tmp-1-1-00000000000000bb", fan);
	snprintf(stranger, sizeof stranger, "%s/README", fan);
	write_file(stale, "partial", 7);
	write_file(fresh, "partial", 7);
	write_file(stranger, "mine", 4);
	struct timespec old[2] = {{time(NULL) - 7200, 0}, {time(NULL) - 7200, 0}};
	cr_assert_eq(utimensat(AT_FDCWD, stale, old, 0), 0);

	cr_assert_eq(at_blob_gc(home, keep_listed, &keep, &removed, &bytes), 0);
	cr_expect_eq(keep.calls, N, "keep() asked %d times", keep.calls);
	cr_expect_eq(removed, N / 2);
	cr_expect_eq(bytes, want_bytes);
	for (int i = 0; i < N; i++) {
		cr_expect_eq(at_blob_exists(home, &ids[i]), i % 2 == 0, "blob %d", i);
		if (i % 2)
			continue;
		void *data;
		size_t len;
		cr_expect_eq(at_blob_get(home, &ids[i], &data, &len), 0, "kept blob %d", i);
		free(data);
	}
	cr_expect_neq(access(stale, F_OK), 0, "a stale temporary file survived");
	cr_expect_eq(access(fresh, F_OK), 0, "a put in progress lost its file");
	cr_expect_eq(access(stranger, F_OK), 0, "gc removed a file it does not own");

	/* Nothing left to remove: a second run removes nothing. */
	cr_assert_eq(at_blob_gc(home, keep_listed, &keep, &removed, &bytes), 0);
	cr_expect_eq(removed, 0);
	cr_expect_eq(bytes, 0);
}

Test(blobs, gc_of_a_home_without_blobs_removes_nothing)
{
	uint64_t removed = 99, bytes = 99;
	struct keep_set keep = {.n = 0};
	cr_expect_eq(at_blob_gc(home, keep_listed, &keep, &removed, &bytes), 0);
	cr_expect_eq(removed, 0);
	cr_expect_eq(bytes, 0);
	cr_expect_eq(at_blob_gc(home, NULL, NULL, NULL, NULL), AT_EINVAL);
}
