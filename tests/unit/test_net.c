/* Unit tests for the socket family's payloads (core/net.c): getaddrinfo lists and hostents
 * come back field for field or not at all, damaged or truncated bytes are refused without
 * reading past them, packing never writes past its capacity, socket addresses print as
 * people read them, and only a data call's own bytes count as its data.
 * Inputs that may be read past their end are copied into heap blocks of their exact size,
 * so that the ASan build (`make asan`) catches any read beyond; unpack arenas end in canary
 * bytes, so a write past cap shows in any build. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "agenttrace/event.h"
#include "agenttrace/net.h"

#define CANARY 0xa5

/* A heap copy of exactly n bytes: reading one byte past it is an ASan error. Caller frees. */
static uint8_t *exact_copy(const void *p, size_t n)
{
	uint8_t *q = malloc(n);
	cr_assert(q || !n, "malloc(%zu)", n);
	if (n)
		memcpy(q, p, n);
	return q;
}

/* Whether [p, p + n) lies inside [mem, mem + cap). */
static int inside(const void *p, size_t n, const void *mem, size_t cap)
{
	const uint8_t *b = p, *m = mem;
	return b >= m && n <= cap && b - m <= (ptrdiff_t)(cap - n);
}

/* ---- getaddrinfo lists ---- */

/* Packs `ai` into a buffer of exactly the size needed. Caller frees; *len gets the size. */
static uint8_t *pack_ai(const struct addrinfo *ai, size_t *len)
{
	size_t need = at_addrinfo_pack(ai, NULL, 0);
	cr_assert_geq(need, 4, "a packed list holds at least its count");
	uint8_t *out = malloc(need);
	cr_assert_not_null(out);
	cr_assert_eq(at_addrinfo_pack(ai, out, need), need, "the size needed changed");
	*len = need;
	return out;
}

/* Every field of two lists, entry by entry, and their lengths. When `mem` is given, every
 * entry, address and name of `got` must lie inside it (cap bytes). */
static void expect_same_ai(const struct addrinfo *want, const struct addrinfo *got, const void *mem,
                           size_t cap)
{
	size_t i = 0;
	for (; want && got; want = want->ai_next, got = got->ai_next, i++) {
		cr_expect_eq(got->ai_flags, want->ai_flags, "entry %zu: flags %d", i,
		             got->ai_flags);
		cr_expect_eq(got->ai_family, want->ai_family, "entry %zu: family %d", i,
		             got->ai_family);
		cr_expect_eq(got->ai_socktype, want->ai_socktype, "entry %zu: socktype %d", i,
		             got->ai_socktype);
		cr_expect_eq(got->ai_protocol, want->ai_protocol, "entry %zu: protocol %d", i,
		             got->ai_protocol);
		size_t want_alen = want->ai_addr ? want->ai_addrlen : 0;
		cr_assert_eq(got->ai_addrlen, want_alen, "entry %zu: addrlen %u", i,
		             (unsigned)got->ai_addrlen);
		if (want_alen) {
			cr_assert_not_null(got->ai_addr, "entry %zu: address lost", i);
			cr_expect_eq(memcmp(got->ai_addr, want->ai_addr, want_alen), 0,
			             "entry %zu: address differs", i);
		} else {
			cr_expect_null(got->ai_addr, "entry %zu: an address from nowhere", i);
		}
		if (want->ai_canonname) {
			cr_assert_not_null(got->ai_canonname, "entry %zu: canonical name lost", i);
			cr_expect_str_eq(got->ai_canonname, want->ai_canonname, "entry %zu", i);
		} else {
			cr_expect_null(got->ai_canonname, "entry %zu: a name from nowhere", i);
		}
		if (mem) {
			cr_expect(inside(got, sizeof *got, mem, cap), "entry %zu outside mem", i);
			if (got->ai_addr)
				cr_expect(inside(got->ai_addr, got->ai_addrlen, mem, cap),
				          "entry %zu: address outside mem", i);
			if (got->ai_canonname)
				cr_expect(inside(got->ai_canonname, strlen(got->ai_canonname) + 1,
				                 mem, cap),
				          "entry %zu: name outside mem", i);
		}
	}
	cr_expect_null(want, "the unpacked list ends early, after %zu entries", i);
	cr_expect_null(got, "the unpacked list has more than %zu entries", i);
}

/* The hand-built list: an IPv4 entry with a canonical name, an IPv6 entry without one, and
 * an entry with neither an address nor a name. Lives in static storage. */
static struct sockaddr_in hand_in;
static struct sockaddr_in6 hand_in6;
static struct addrinfo hand[3];

static struct addrinfo *hand_list(void)
{
	hand_in = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons(8080)};
	cr_assert_eq(inet_pton(AF_INET, "10.1.2.3", &hand_in.sin_addr), 1);
	hand_in6 = (struct sockaddr_in6){
	    .sin6_family = AF_INET6, .sin6_port = htons(443), .sin6_scope_id = 7};
	cr_assert_eq(inet_pton(AF_INET6, "2001:db8::1", &hand_in6.sin6_addr), 1);
	static char canon[] = "host.example.org";
	hand[0] = (struct addrinfo){.ai_flags = AI_CANONNAME | AI_ADDRCONFIG,
	                            .ai_family = AF_INET,
	                            .ai_socktype = SOCK_STREAM,
	                            .ai_protocol = IPPROTO_TCP,
	                            .ai_addrlen = sizeof hand_in,
	                            .ai_addr = (struct sockaddr *)&hand_in,
	                            .ai_canonname = canon,
	                            .ai_next = &hand[1]};
	hand[1] = (struct addrinfo){.ai_flags = -2, /* the sign must survive */
	                            .ai_family = AF_INET6,
	                            .ai_socktype = SOCK_DGRAM,
	                            .ai_protocol = IPPROTO_UDP,
	                            .ai_addrlen = sizeof hand_in6,
	                            .ai_addr = (struct sockaddr *)&hand_in6,
	                            .ai_next = &hand[2]};
	hand[2] =
	    (struct addrinfo){.ai_family = AF_UNSPEC, .ai_socktype = SOCK_RAW, .ai_protocol = 255};
	return &hand[0];
}

/* What the layout in net.h says the hand-built list packs to: the count, then per entry
 * 4 i32 + addrlen, the address, canonlen, the name without its NUL. */
static size_t hand_size(void)
{
	return 4 + (16 + 4 + sizeof hand_in + 4 + strlen("host.example.org")) +
	       (16 + 4 + sizeof hand_in6 + 4) + (16 + 4 + 4);
}

/* An arena of `cap` bytes followed by TAIL canary bytes, ending where its heap block ends:
 * a write just past cap changes the canary in any build, one further is an ASan error. */
#define TAIL 64

static void *arena_new(size_t cap)
{
	uint8_t *mem = malloc(cap + TAIL);
	cr_assert_not_null(mem);
	memset(mem, CANARY, cap + TAIL);
	return mem;
}

static void arena_free(void *mem, size_t cap)
{
	const uint8_t *m = mem;
	for (size_t i = cap; i < cap + TAIL; i++)
		cr_assert_eq(m[i], CANARY, "cap %zu: byte %zu written", cap, i);
	free(mem);
}

/* Unpacks `p` into an arena of `cap` bytes, checks it against `want` when it fits, and
 * frees. Returns whether it fit. */
static int unpack_ai_into(const uint8_t *p, size_t len, size_t cap, const struct addrinfo *want,
                          size_t *need)
{
	void *mem = arena_new(cap);
	struct addrinfo *got = at_addrinfo_unpack(p, len, mem, cap, need);
	if (got)
		expect_same_ai(want, got, mem, cap);
	arena_free(mem, cap);
	return got != NULL;
}

TestSuite(addrinfo);

Test(addrinfo, roundtrip_keeps_a_getaddrinfo_list)
{
	/* Numeric host and service: answered without the network. */
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
	                         .ai_socktype = SOCK_STREAM,
	                         .ai_flags = AI_CANONNAME | AI_NUMERICHOST | AI_NUMERICSERV};
	struct addrinfo *res = NULL;
	int rc = getaddrinfo("127.0.0.1", "80", &hints, &res);
	cr_assert_eq(rc, 0, "getaddrinfo: %s", gai_strerror(rc));
	cr_assert_not_null(res);
	cr_assert_eq(res->ai_family, AF_INET);
	cr_assert_not_null(res->ai_canonname, "AI_CANONNAME gave no name to round-trip");

	size_t len;
	uint8_t *packed = pack_ai(res, &len);
	size_t need = 0;
	cr_assert(unpack_ai_into(packed, len, 4096, res, &need), "a whole list did not unpack");
	cr_expect_gt(need, 0);
	cr_assert(unpack_ai_into(packed, len, need, res, NULL), "*need (%zu) was not enough", need);
	free(packed);
	freeaddrinfo(res);
}

Test(addrinfo, roundtrip_keeps_every_field_of_a_hand_built_list)
{
	struct addrinfo *ai = hand_list();
	size_t len;
	uint8_t *packed = pack_ai(ai, &len);
	cr_assert_eq(len, hand_size(), "packed %zu bytes, the layout says %zu", len, hand_size());
	uint32_t count;
	memcpy(&count, packed, sizeof count);
	cr_expect_eq(count, 3, "count %u", count);

	size_t need = 0;
	cr_assert(unpack_ai_into(packed, len, 4096, ai, &need));
	cr_assert(unpack_ai_into(packed, len, need, ai, NULL), "*need (%zu) was not enough", need);
	free(packed);
}

Test(addrinfo, too_small_a_buffer_gives_null_and_the_size_needed)
{
	struct addrinfo *ai = hand_list();
	size_t len;
	uint8_t *packed = pack_ai(ai, &len);
	size_t need = 0;
	cr_assert(unpack_ai_into(packed, len, 4096, ai, &need));
	cr_assert_geq(need, 3 * sizeof(struct addrinfo), "need %zu holds not even the entries",
	              need);
	for (size_t cap = 0; cap < need; cap++) {
		size_t got_need = 0;
		cr_assert_not(unpack_ai_into(packed, len, cap, ai, &got_need),
		              "cap %zu < need %zu, yet it unpacked", cap, need);
		cr_assert_eq(got_need, need, "cap %zu: *need %zu, not %zu", cap, got_need, need);
	}
	size_t again = 0;
	cr_assert(unpack_ai_into(packed, len, need, ai, &again), "exactly *need did not fit");
	cr_expect_eq(again, need);
	free(packed);
}

Test(addrinfo, an_empty_list_packs_to_a_zero_count)
{
	uint8_t buf[8];
	memset(buf, CANARY, sizeof buf);
	cr_assert_eq(at_addrinfo_pack(NULL, buf, sizeof buf), 4);
	uint32_t count;
	memcpy(&count, buf, sizeof count);
	cr_expect_eq(count, 0);
	for (size_t i = 4; i < sizeof buf; i++)
		cr_expect_eq(buf[i], CANARY, "byte %zu written", i);

	uint8_t *packed = exact_copy(buf, 4);
	uint64_t mem[64];
	size_t need = 12345;
	cr_expect_null(at_addrinfo_unpack(packed, 4, mem, sizeof mem, &need));
	cr_expect_eq(need, 0, "a count of 0 needs %zu bytes", need);
	free(packed);
}

Test(addrinfo, every_truncation_is_refused)
{
	struct addrinfo *res = NULL;
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
	                         .ai_flags = AI_CANONNAME | AI_NUMERICHOST | AI_NUMERICSERV};
	cr_assert_eq(getaddrinfo("127.0.0.1", "80", &hints, &res), 0);
	const struct addrinfo *lists[] = {hand_list(), res};
	for (size_t l = 0; l < sizeof lists / sizeof *lists; l++) {
		size_t len;
		uint8_t *packed = pack_ai(lists[l], &len);
		for (size_t n = 0; n < len; n++) {
			uint8_t *cut = exact_copy(packed, n);
			uint64_t mem[512];
			cr_expect_null(at_addrinfo_unpack(cut, n, mem, sizeof mem, NULL),
			               "list %zu: %zu of %zu bytes unpacked", l, n, len);
			free(cut);
		}
		free(packed);
	}
	freeaddrinfo(res);
}

/* The offset in the hand-built packing of entry 0's addrlen, and of its canonlen. */
#define HAND_ADDRLEN_AT  (4 + 16)
#define HAND_CANONLEN_AT (4 + 16 + 4 + sizeof(struct sockaddr_in))

/* `packed` with the u32 at `at` replaced by `v`, unpacked into a large arena: must fail. */
static void expect_refused_with(const uint8_t *packed, size_t len, size_t at, uint32_t v)
{
	uint8_t *bad = exact_copy(packed, len);
	memcpy(bad + at, &v, sizeof v);
	static uint64_t mem[1 << 14];
	size_t need = 0;
	cr_expect_null(at_addrinfo_unpack(bad, len, mem, sizeof mem, &need),
	               "u32 at %zu = %#x unpacked", at, v);
	free(bad);
}

Test(addrinfo, huge_counts_and_lengths_are_refused)
{
	size_t len;
	uint8_t *packed = pack_ai(hand_list(), &len);
	uint32_t v;
	memcpy(&v, packed + HAND_ADDRLEN_AT, sizeof v);
	cr_assert_eq(v, sizeof(struct sockaddr_in), "the test's offsets are off");
	memcpy(&v, packed + HAND_CANONLEN_AT, sizeof v);
	cr_assert_eq(v, strlen("host.example.org"), "the test's offsets are off");

	expect_refused_with(packed, len, 0, 4);          /* one entry more than there is */
	expect_refused_with(packed, len, 0, 1000000);    /* far more */
	expect_refused_with(packed, len, 0, UINT32_MAX); /* the most */
	expect_refused_with(packed, len, HAND_ADDRLEN_AT, UINT32_MAX);
	expect_refused_with(packed, len, HAND_ADDRLEN_AT, (uint32_t)len);
	expect_refused_with(packed, len, HAND_CANONLEN_AT, UINT32_MAX);
	expect_refused_with(packed, len, HAND_CANONLEN_AT, (uint32_t)len);
	free(packed);
}

Test(addrinfo, pack_writes_nothing_past_cap)
{
	struct addrinfo *ai = hand_list();
	size_t len;
	uint8_t *whole = pack_ai(ai, &len);
	uint8_t *buf = malloc(len + 16);
	cr_assert_not_null(buf);
	for (size_t cap = 0; cap <= len; cap++) {
		memset(buf, CANARY, len + 16);
		cr_assert_eq(at_addrinfo_pack(ai, buf, cap), len, "cap %zu changed the size", cap);
		cr_assert_eq(memcmp(buf, whole, cap), 0, "cap %zu: the first bytes differ", cap);
		for (size_t i = cap; i < len + 16; i++)
			cr_assert_eq(buf[i], CANARY, "cap %zu: byte %zu written", cap, i);
	}
	free(buf);
	free(whole);
}

/* ---- struct hostent ---- */

static char h_name[] = "www.example.com";
static char h_alias0[] = "web", h_alias1[] = "www.alias.example";
static char *h_aliases[] = {h_alias0, h_alias1, NULL};
static struct in_addr h_addr0, h_addr1;
static char *h_addrs[] = {(char *)&h_addr0, (char *)&h_addr1, NULL};

static struct hostent hand_hostent(void)
{
	cr_assert_eq(inet_pton(AF_INET, "192.0.2.10", &h_addr0), 1);
	cr_assert_eq(inet_pton(AF_INET, "198.51.100.20", &h_addr1), 1);
	return (struct hostent){.h_name = h_name,
	                        .h_aliases = h_aliases,
	                        .h_addrtype = AF_INET,
	                        .h_length = 4,
	                        .h_addr_list = h_addrs};
}

/* The least an unpacked hand_hostent() can take: the struct, both pointer arrays (with
 * their NULLs), the names with their NULs and the addresses. */
static size_t hostent_floor(void)
{
	return sizeof(struct hostent) + 6 * sizeof(char *) + sizeof h_name + sizeof h_alias0 +
	       sizeof h_alias1 + 2 * 4;
}

static uint8_t *pack_hostent(const struct hostent *h, size_t *len)
{
	size_t need = at_hostent_pack(h, NULL, 0);
	uint8_t *out = malloc(need);
	cr_assert_not_null(out);
	cr_assert_eq(at_hostent_pack(h, out, need), need);
	*len = need;
	return out;
}

static void expect_same_hostent(const struct hostent *want, const struct hostent *got,
                                const void *mem, size_t cap)
{
	cr_assert_not_null(got->h_name);
	cr_expect_str_eq(got->h_name, want->h_name);
	cr_expect(inside(got->h_name, strlen(got->h_name) + 1, mem, cap), "h_name outside mem");
	cr_expect_eq(got->h_addrtype, want->h_addrtype);
	cr_expect_eq(got->h_length, want->h_length);
	cr_assert_not_null(got->h_aliases);
	size_t i = 0;
	for (; want->h_aliases[i]; i++) {
		cr_assert_not_null(got->h_aliases[i], "alias %zu lost", i);
		cr_expect_str_eq(got->h_aliases[i], want->h_aliases[i], "alias %zu", i);
		cr_expect(inside(got->h_aliases[i], strlen(got->h_aliases[i]) + 1, mem, cap),
		          "alias %zu outside mem", i);
	}
	cr_expect_null(got->h_aliases[i], "more than %zu aliases", i);
	cr_assert_not_null(got->h_addr_list);
	for (i = 0; want->h_addr_list[i]; i++) {
		cr_assert_not_null(got->h_addr_list[i], "address %zu lost", i);
		cr_expect_eq(
		    memcmp(got->h_addr_list[i], want->h_addr_list[i], (size_t)want->h_length), 0,
		    "address %zu differs", i);
		cr_expect(inside(got->h_addr_list[i], (size_t)want->h_length, mem, cap),
		          "address %zu outside mem", i);
	}
	cr_expect_null(got->h_addr_list[i], "more than %zu addresses", i);
	cr_expect(inside(got, sizeof *got, mem, cap), "the hostent is outside mem");
}

TestSuite(hostent);

Test(hostent, roundtrip_keeps_names_aliases_and_addresses)
{
	struct hostent want = hand_hostent();
	size_t len;
	uint8_t *packed = pack_hostent(&want, &len);
	cr_expect_eq(len, 4 + 4 + 4 + sizeof h_alias0 + sizeof h_alias1 + 4 + 2 * 4 + sizeof h_name,
	             "packed %zu bytes, not what the layout in net.h says", len);
	uint64_t mem[256];
	struct hostent *got = at_hostent_unpack(packed, len, mem, sizeof mem);
	cr_assert_not_null(got);
	expect_same_hostent(&want, got, mem, sizeof mem);
	free(packed);
}

Test(hostent, roundtrip_keeps_ipv6_addresses_whole)
{
	/* 16-byte addresses, no aliases: h_length, not 4, says how long an address is. */
	static struct in6_addr a0, a1;
	cr_assert_eq(inet_pton(AF_INET6, "2001:db8::10", &a0), 1);
	cr_assert_eq(inet_pton(AF_INET6, "fe80::1:2:3:4", &a1), 1);
	static char name[] = "v6.example.net";
	static char *no_aliases[] = {NULL};
	static char *addrs[] = {(char *)&a0, (char *)&a1, NULL};
	struct hostent want = {.h_name = name,
	                       .h_aliases = no_aliases,
	                       .h_addrtype = AF_INET6,
	                       .h_length = sizeof a0,
	                       .h_addr_list = addrs};
	size_t len;
	uint8_t *packed = pack_hostent(&want, &len);
	cr_expect_eq(len, 4 + 4 + 4 + 4 + 2 * sizeof a0 + sizeof name,
	             "packed %zu bytes, not what the layout in net.h says", len);
	uint64_t mem[256];
	struct hostent *got = at_hostent_unpack(packed, len, mem, sizeof mem);
	cr_assert_not_null(got);
	expect_same_hostent(&want, got, mem, sizeof mem);
	free(packed);
}

Test(hostent, every_truncation_is_refused)
{
	struct hostent want = hand_hostent();
	size_t len;
	uint8_t *packed = pack_hostent(&want, &len);
	for (size_t n = 0; n < len; n++) {
		uint8_t *cut = exact_copy(packed, n);
		uint64_t mem[256];
		cr_expect_null(at_hostent_unpack(cut, n, mem, sizeof mem),
		               "%zu of %zu bytes unpacked", n, len);
		free(cut);
	}
	free(packed);
}

Test(hostent, too_small_a_buffer_gives_null)
{
	struct hostent want = hand_hostent();
	size_t len;
	uint8_t *packed = pack_hostent(&want, &len);
	size_t first_fit = 0;
	for (size_t cap = 0; cap <= 1024; cap++) {
		void *mem = arena_new(cap);
		struct hostent *got = at_hostent_unpack(packed, len, mem, cap);
		if (got) {
			expect_same_hostent(&want, got, mem, cap);
			if (!first_fit)
				first_fit = cap;
		} else {
			cr_expect_not(first_fit, "cap %zu fails though %zu fit", cap, first_fit);
		}
		arena_free(mem, cap);
	}
	cr_assert(first_fit, "no buffer up to 1024 bytes was enough");
	cr_expect_geq(first_fit, hostent_floor(), "it fit in %zu bytes, less than it holds",
	              first_fit);
	free(packed);
}

Test(hostent, bad_counts_and_lengths_are_refused)
{
	struct hostent want = hand_hostent();
	size_t len;
	uint8_t *packed = pack_hostent(&want, &len);
	/* addrtype at 0, length at 4, naliases at 8; naddrs after the two aliases. */
	const size_t naddrs_at = 12 + sizeof h_alias0 + sizeof h_alias1;
	const struct {
		size_t at;
		uint32_t v;
	} cases[] = {
	    {4, (uint32_t)-1},                     /* a negative address length */
	    {4, 1000000},          {8, 1000},      /* more aliases than strings left */
	    {8, UINT32_MAX},       {naddrs_at, 7}, /* 28 bytes of addresses; 24 bytes are left */
	    {naddrs_at, 1u << 20}, {naddrs_at, UINT32_MAX},
	};
	/* (Not one more address or alias: the next ones could take the name's bytes and
	 * still leave a valid name, since the layout has no end marker.) */
	uint32_t v;
	memcpy(&v, packed + naddrs_at, sizeof v);
	cr_assert_eq(v, 2, "the test's offsets are off");
	for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
		uint8_t *bad = exact_copy(packed, len);
		memcpy(bad + cases[c].at, &cases[c].v, sizeof cases[c].v);
		static uint64_t mem[1 << 14];
		cr_expect_null(at_hostent_unpack(bad, len, mem, sizeof mem),
		               "u32 at %zu = %#x unpacked", cases[c].at, cases[c].v);
		free(bad);
	}
	free(packed);
}

/* ---- at_sockaddr_format ---- */

/* Formats `len` bytes of `sa`, copied to the heap so ASan sees any read past len. */
static const char *format(const void *sa, size_t len)
{
	static char out[256];
	uint8_t *copy = exact_copy(sa, len);
	memset(out, CANARY, sizeof out);
	cr_assert_eq(at_sockaddr_format(copy, len, out, sizeof out), out);
	free(copy);
	cr_assert_lt(strnlen(out, sizeof out), sizeof out, "not NUL-terminated");
	return out;
}

static struct sockaddr_in in4(const char *ip, uint16_t port)
{
	struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons(port)};
	cr_assert_eq(inet_pton(AF_INET, ip, &in.sin_addr), 1);
	return in;
}

static struct sockaddr_in6 in6(const char *ip, uint16_t port)
{
	struct sockaddr_in6 in = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
	cr_assert_eq(inet_pton(AF_INET6, ip, &in.sin6_addr), 1);
	return in;
}

TestSuite(sockaddr);

Test(sockaddr, ipv4_with_port)
{
	struct sockaddr_in in = in4("127.0.0.1", 8080);
	cr_expect_str_eq(format(&in, sizeof in), "127.0.0.1:8080");
	in = in4("10.20.30.40", 65535);
	cr_expect_str_eq(format(&in, sizeof in), "10.20.30.40:65535");
}

Test(sockaddr, ipv6_in_brackets)
{
	struct sockaddr_in6 in = in6("::1", 443);
	cr_expect_str_eq(format(&in, sizeof in), "[::1]:443");
	in = in6("2001:db8::8:800:200c:417a", 8443);
	cr_expect_str_eq(format(&in, sizeof in), "[2001:db8::8:800:200c:417a]:8443");
}

Test(sockaddr, unix_path)
{
	struct sockaddr_un un = {.sun_family = AF_UNIX};
	strcpy(un.sun_path, "/run/x.sock");
	size_t base = offsetof(struct sockaddr_un, sun_path);
	cr_expect_str_eq(format(&un, base + strlen(un.sun_path) + 1), "unix:/run/x.sock");
	cr_expect_str_eq(format(&un, base + strlen(un.sun_path)), "unix:/run/x.sock",
	                 "a path without its NUL");
	cr_expect_str_eq(format(&un, sizeof un), "unix:/run/x.sock");
	cr_expect_str_eq(format(&un, sizeof(sa_family_t)), "unix:", "an unnamed socket");
	/* Bytes past len are not the path, even where they are there to read. */
	strcpy(un.sun_path, "/run/x.sockXYZ");
	char out[64];
	at_sockaddr_format(&un, base + strlen("/run/x.sock"), out, sizeof out);
	cr_expect_str_eq(out, "unix:/run/x.sock");
}

Test(sockaddr, abstract_unix_name)
{
	struct sockaddr_un un = {.sun_family = AF_UNIX};
	memcpy(un.sun_path, "\0name", 5);
	size_t len = offsetof(struct sockaddr_un, sun_path) + 5;
	cr_expect_str_eq(format(&un, len), "unix:@name");
	/* The name ends at len, even where more bytes are there to read. */
	memcpy(un.sun_path, "\0nameXYZ", 9);
	char out[64];
	at_sockaddr_format(&un, len, out, sizeof out);
	cr_expect_str_eq(out, "unix:@name");
}

Test(sockaddr, unknown_family_by_number)
{
	struct sockaddr sa = {.sa_family = AF_NETLINK};
	cr_expect_str_eq(format(&sa, sizeof sa), "family 16");
	sa.sa_family = 0xbeef;
	cr_expect_str_eq(format(&sa, sizeof sa), "family 48879");
}

Test(sockaddr, too_short_for_its_family)
{
	/* Not an address: never read past len, never print one made up of what follows. */
	struct sockaddr_in in = in4("127.0.0.1", 8080);
	cr_expect_str_eq(format(&in, sizeof in - 1), "family 2");
	cr_expect_str_eq(format(&in, sizeof(sa_family_t)), "family 2");
	struct sockaddr_in6 in_6 = in6("::1", 443);
	cr_expect_str_eq(format(&in_6, sizeof in_6 - 1), "family 10");
	cr_expect_str_eq(format(&in_6, sizeof(struct sockaddr_in)), "family 10");
	format(&in, 1); /* not even a family: anything terminated, read within one byte */
	cr_expect_str_eq(format(&in, 0), "");
}

Test(sockaddr, cap_0_writes_nothing)
{
	struct sockaddr_in in = in4("127.0.0.1", 8080);
	char out[4];
	memset(out, CANARY, sizeof out);
	cr_assert_eq(at_sockaddr_format(&in, sizeof in, out, 0), out);
	for (size_t i = 0; i < sizeof out; i++)
		cr_expect_eq((uint8_t)out[i], CANARY, "byte %zu written", i);
}

Test(sockaddr, small_cap_truncates_and_terminates)
{
	struct sockaddr_in a = in4("127.0.0.1", 8080);
	struct sockaddr_in6 b = in6("2001:db8::1", 443);
	struct sockaddr_un c = {.sun_family = AF_UNIX}, d = {.sun_family = AF_UNIX};
	strcpy(c.sun_path, "/run/x.sock");
	memcpy(d.sun_path, "\0name", 5);
	struct sockaddr e = {.sa_family = AF_NETLINK};
	const struct {
		const void *sa;
		size_t len;
		const char *full;
	} cases[] = {
	    {&a, sizeof a, "127.0.0.1:8080"},
	    {&b, sizeof b, "[2001:db8::1]:443"},
	    {&c, sizeof c, "unix:/run/x.sock"},
	    {&d, offsetof(struct sockaddr_un, sun_path) + 5, "unix:@name"},
	    {&e, sizeof e, "family 16"},
	};
	for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
		size_t full = strlen(cases[k].full);
		for (size_t cap = 1; cap <= full + 1; cap++) {
			/* Exactly cap bytes on the heap: ASan sees a write past them. */
			char *out = malloc(cap);
			cr_assert_not_null(out);
			memset(out, CANARY, cap);
			at_sockaddr_format(cases[k].sa, cases[k].len, out, cap);
			cr_assert_eq(out[cap - 1], '\0', "%s, cap %zu: not terminated at the end",
			             cases[k].full, cap);
			cr_assert_eq(strlen(out), cap - 1, "%s, cap %zu: %zu bytes", cases[k].full,
			             cap, strlen(out));
			cr_assert_eq(strncmp(out, cases[k].full, cap - 1), 0,
			             "%s, cap %zu: \"%s\" is not its start", cases[k].full, cap,
			             out);
			free(out);
		}
	}
}

/* ---- at_event_io_data ---- */

static at_event data_event(uint16_t call, const void *payload, size_t len, int64_t ret)
{
	return (at_event){
	    .call = call, .ret = ret, .fd = 3, .len = (uint32_t)len, .payload = payload};
}

/* io_data of `ev` must say: these `want_len` bytes at `want`, in direction `want_sent`. */
static void expect_data(const at_event *ev, int want_sent, const uint8_t *want, size_t want_len)
{
	int sent = -1;
	const uint8_t *data = NULL;
	size_t len = 12345;
	cr_assert_eq(at_event_io_data(ev, &sent, &data, &len), 1, "call %u: no data", ev->call);
	cr_expect_eq(sent, want_sent, "call %u: sent %d", ev->call, sent);
	cr_expect_eq(data, want, "call %u: data at offset %td", ev->call, data - ev->payload);
	cr_expect_eq(len, want_len, "call %u: %zu bytes", ev->call, len);
}

static void expect_no_data(const at_event *ev, const char *why)
{
	int sent = -1;
	const uint8_t *data = NULL;
	size_t len = 0;
	cr_expect_eq(at_event_io_data(ev, &sent, &data, &len), 0, "%s: call %u has data", why,
	             ev->call);
}

/* An AT_ENC_MSG payload: the head, a namelen-byte address, controllen bytes of control data,
 * then `body`. Caller frees; *len gets the size. */
static uint8_t *msg_payload(uint32_t namelen, uint32_t controllen, const char *body, size_t *len)
{
	struct at_msg_head h = {namelen, controllen, 0x40};
	size_t n = sizeof h + namelen + controllen + strlen(body);
	uint8_t *p = malloc(n);
	cr_assert_not_null(p);
	memcpy(p, &h, sizeof h);
	memset(p + sizeof h, 0xee, namelen + controllen); /* not zero: must not look like text */
	memcpy(p + sizeof h + namelen + controllen, body, strlen(body));
	*len = n;
	return p;
}

TestSuite(io_data);

Test(io_data, plain_calls_give_their_payload_and_direction)
{
	static const uint8_t hello[] = "hello";
	const struct {
		uint16_t call;
		int sent;
	} cases[] = {
	    {AT_CALL_read, 0},
	    {AT_CALL_write, 1},
	    {AT_CALL_recv, 0},
	    {AT_CALL_send, 1},
	};
	for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
		at_event ev = data_event(cases[k].call, hello, 5, 5);
		expect_data(&ev, cases[k].sent, hello, 5);
	}
}

Test(io_data, msg_calls_skip_head_address_and_control)
{
	size_t len;
	uint8_t *p = msg_payload(sizeof(struct sockaddr_in), 0, "ping", &len);
	at_event ev = data_event(AT_CALL_sendto, p, len, 4);
	expect_data(&ev, 1, p + sizeof(struct at_msg_head) + sizeof(struct sockaddr_in), 4);
	free(p);

	p = msg_payload(sizeof(struct sockaddr_in6), 24, "pong!", &len);
	ev = data_event(AT_CALL_recvmsg, p, len, 5);
	expect_data(&ev, 0, p + sizeof(struct at_msg_head) + sizeof(struct sockaddr_in6) + 24, 5);
	free(p);

	p = msg_payload(0, 0, "xyz", &len); /* connected: no address, no control */
	ev = data_event(AT_CALL_sendmsg, p, len, 3);
	expect_data(&ev, 1, p + sizeof(struct at_msg_head), 3);
	ev = data_event(AT_CALL_recvfrom, p, len, 3);
	expect_data(&ev, 0, p + sizeof(struct at_msg_head), 3);
	free(p);
}

Test(io_data, a_failed_call_has_no_data)
{
	static const uint8_t hello[] = "hello";
	at_event ev = data_event(AT_CALL_read, hello, 5, -1);
	ev.err = ECONNRESET;
	expect_no_data(&ev, "read failed");
	ev = data_event(AT_CALL_send, hello, 5, -1);
	ev.err = EPIPE;
	expect_no_data(&ev, "send failed");
	size_t len;
	uint8_t *p = msg_payload(16, 0, "ping", &len);
	ev = data_event(AT_CALL_sendto, p, len, -1);
	ev.err = ENETUNREACH;
	expect_no_data(&ev, "sendto failed");
	free(p);
}

Test(io_data, a_blob_reference_is_not_the_data)
{
	uint8_t ref[36];
	memset(ref, 0x11, sizeof ref);
	at_event ev = data_event(AT_CALL_write, ref, sizeof ref, 1 << 20);
	ev.flags = AT_EVF_BLOB;
	expect_no_data(&ev, "blob");
	ev.call = AT_CALL_recv;
	expect_no_data(&ev, "blob");
}

Test(io_data, other_calls_have_no_data)
{
	/* A positive ret, so only the call itself can say no. */
	struct sockaddr_in in = in4("127.0.0.1", 80);
	at_event ev = data_event(AT_CALL_connect, (const uint8_t *)&in, sizeof in, 1);
	expect_no_data(&ev, "connect");
	ev.call = AT_CALL_NONE;
	expect_no_data(&ev, "no call");
	ev.call = AT_CALL_MAX - 1;
	expect_no_data(&ev, "an unknown call");
}

Test(io_data, a_msg_head_claiming_more_than_the_payload_is_refused)
{
	size_t len;
	uint8_t *p = msg_payload(16, 8, "ping", &len);
	const struct at_msg_head lies[] = {
	    {16, 8 + 5, 0},              /* one byte more than there is */
	    {100, 0, 0},                 /* the address alone */
	    {0, 100, 0},                 /* the control data alone */
	    {UINT32_MAX, 0, 0},          /* the most */
	    {UINT32_MAX, UINT32_MAX, 0}, /* and their sum, which must not wrap */
	    {UINT32_MAX, 1, 0},          /* a sum that wraps to 0 in 32 bits */
	    {UINT32_MAX, 17, 0},         /* one that wraps to 16 */
	};
	for (size_t k = 0; k < sizeof lies / sizeof *lies; k++) {
		uint8_t *bad = exact_copy(p, len);
		memcpy(bad, &lies[k], sizeof lies[k]);
		at_event ev = data_event(AT_CALL_recvmsg, bad, len, 4);
		expect_no_data(&ev, "the head lies");
		ev.call = AT_CALL_sendto;
		expect_no_data(&ev, "the head lies");
		free(bad);
	}
	/* Shorter than the head itself. */
	for (size_t n = 0; n < sizeof(struct at_msg_head); n++) {
		uint8_t *cut = exact_copy(p, n);
		at_event ev = data_event(AT_CALL_recvfrom, cut, n, 4);
		expect_no_data(&ev, "no whole head");
		free(cut);
	}
	free(p);
}
