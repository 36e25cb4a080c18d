/* The socket family, part three: name lookup. What the resolver answered is recorded (the
 * whole list, net.h) and handed back in replay, where nothing is looked up: no file of
 * /etc is read and no DNS packet sent. While recording, the resolver's own calls (its
 * sockets, /etc/hosts) run unrecorded under the guard: replay does not make them.
 *
 * Replay builds each getaddrinfo list in a mapping of its own and frees it in
 * freeaddrinfo; lists the real resolver made go to the real freeaddrinfo. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "agenttrace/net.h"
#include "preload_internal.h"
#include "sys_raw.h"

#define malloc do_not_allocate_in_hooks

/* Packs on the stack when the result fits, else in a mapping. */
#define PACK_STACK 4096

struct packed {
	uint8_t stack[PACK_STACK];
	uint8_t *p;
	size_t len, mapped;
};

static void packed_release(struct packed *b)
{
	if (b->mapped)
		at_sys_munmap(b->p, b->mapped);
}

/* Makes room for `need` bytes; 0 on failure (then nothing is recorded past the names). */
static int packed_room(struct packed *b, size_t need)
{
	b->p = b->stack;
	b->mapped = 0;
	b->len = need;
	if (need <= sizeof b->stack)
		return 1;
	void *m =
	    at_sys_mmap(NULL, need, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if ((unsigned long)m >= -4096ul) {
		b->len = 0;
		return 0;
	}
	b->p = m;
	b->mapped = need;
	return 1;
}

/* ---- getaddrinfo ---- */

/* The lists replay made: freeaddrinfo gives them back. */
#define REPLAY_LISTS 256
static struct {
	void *base;
	size_t size;
} replay_lists[REPLAY_LISTS];

static struct addrinfo *replay_list(const struct at_rawrec *ev, const uint8_t *p, size_t len)
{
	size_t need = 0;
	at_addrinfo_unpack(p, len, NULL, 0, &need);
	if (!need)
		at_replay_mismatch(ev, "the recorded getaddrinfo result is damaged");
	size_t size = (need + 4095) & ~(size_t)4095;
	void *mem =
	    at_sys_mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if ((unsigned long)mem >= -4096ul)
		return NULL;
	struct addrinfo *ai = at_addrinfo_unpack(p, len, mem, size, &need);
	for (int i = 0; i < REPLAY_LISTS; i++) {
		void *free_slot = NULL;
		if (__atomic_compare_exchange_n(&replay_lists[i].base, &free_slot, mem, 0,
		                                __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
			replay_lists[i].size = size;
			return ai;
		}
	}
	return ai; /* no slot: the list stays mapped for good, a page or two */
}

/* The names a lookup was given against the recorded ones (service may be NULL). */
static void check_names(const struct at_rawrec *ev, const char *node, const char *service)
{
	uint32_t len;
	const char *p = (const char *)at_rawrec_payload(ev, &len);
	size_t n1 = strnlen(p, len);
	const char *p2 = n1 < len ? p + n1 + 1 : "";
	size_t n2 = n1 < len ? strnlen(p2, len - n1 - 1) : 0;
	if (n1 < len && !strcmp(p, node) &&
	    (!service || (n1 + 1 + n2 < len && !strcmp(p2, service))))
		return;
	char detail[1200];
	snprintf(detail, sizeof detail,
	         "the recording looked up \"%.*s\", service \"%.*s\"; the program looks up "
	         "\"%.300s\", service \"%.200s\"",
	         (int)(n1 < 300 ? n1 : 300), p, (int)(n2 < 200 ? n2 : 200), p2, node,
	         service ? service : "");
	at_replay_mismatch(ev, detail);
}

static uint64_t hints_key(const struct addrinfo *h)
{
	if (!h)
		return 0;
	return (uint32_t)h->ai_flags | (uint64_t)(uint8_t)h->ai_family << 32 |
	       (uint64_t)(uint8_t)h->ai_socktype << 40 | (uint64_t)(uint8_t)h->ai_protocol << 48;
}

AT_HOOK int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                        struct addrinfo **res)
{
	int m = at_enter();
	uint64_t a0 = (node ? 1 : 0) | (service ? 2 : 0) | (hints ? 4 : 0);
	uint64_t a1 = hints_key(hints);
	const char *n = node ? node : "", *s = service ? service : "";
	switch (m) {
	case AT_MODE_RECORD: {
		uint64_t t0 = at_stamp();
		at_guard++;
		int r = AT_REAL(getaddrinfo)(node, service, hints, res);
		at_guard--;
		int e = r == EAI_SYSTEM ? errno : 0;
		struct packed b;
		const struct addrinfo *list = r == 0 ? *res : NULL;
		if (packed_room(&b, at_addrinfo_pack(list, NULL, 0)))
			at_addrinfo_pack(list, b.p, b.len);
		struct iovec parts[3] = {AT_PART(n, strlen(n) + 1), AT_PART(s, strlen(s) + 1),
		                         AT_PART(b.p, b.len)};
		at_record_parts(AT_CALL_getaddrinfo, -1, r, e, a0, a1, parts, 3, SIZE_MAX, t0);
		packed_release(&b);
		RETURN_ERR(r, e);
	}
	case AT_MODE_REPLAY: {
		const struct at_rawrec *ev = at_replay_take(AT_CALL_getaddrinfo, a0, a1);
		check_names(ev, n, s);
		int r = (int)at_replay_ret(ev), e = errno;
		if (r == 0) {
			uint32_t len; /* the list is after the two names, checked above */
			const uint8_t *p = at_rawrec_payload(ev, &len);
			size_t at = strlen(n) + 1 + strlen(s) + 1;
			*res = replay_list(ev, p + at, len - at);
			if (!*res)
				return EAI_MEMORY;
		}
		RETURN_ERR(r, r == EAI_SYSTEM ? e : 0);
	}
	default: return AT_REAL(getaddrinfo)(node, service, hints, res);
	}
}

AT_HOOK void freeaddrinfo(struct addrinfo *ai)
{
	static void (*real_free)(struct addrinfo *);
	for (int i = 0; ai && i < REPLAY_LISTS; i++) {
		void *base = __atomic_load_n(&replay_lists[i].base, __ATOMIC_ACQUIRE);
		if (base && (uint8_t *)ai >= (uint8_t *)base &&
		    (uint8_t *)ai < (uint8_t *)base + replay_lists[i].size) {
			at_sys_munmap(base, replay_lists[i].size);
			__atomic_store_n(&replay_lists[i].base, NULL, __ATOMIC_RELEASE);
			return;
		}
	}
	if (!real_free)
		*(void **)&real_free = at_resolve("freeaddrinfo");
	if (real_free && ai)
		real_free(ai);
}

/* ---- getnameinfo ---- */

AT_HOOK int getnameinfo(const struct sockaddr *sa, socklen_t salen, char *host, socklen_t hostlen,
                        char *serv, socklen_t servlen, int flags)
{
	int m = at_enter();
	uint64_t a1 = (uint32_t)hostlen | (uint64_t)servlen << 32;
	uint32_t alen = sa ? salen : 0;
	switch (m) {
	case AT_MODE_RECORD: {
		uint64_t t0 = at_stamp();
		at_guard++;
		int r = AT_REAL(getnameinfo)(sa, salen, host, hostlen, serv, servlen, flags);
		at_guard--;
		int e = r == EAI_SYSTEM ? errno : 0;
		const char *h = r == 0 && host && hostlen ? host : "";
		const char *s = r == 0 && serv && servlen ? serv : "";
		struct iovec parts[4] = {AT_PART(&alen, sizeof alen), AT_PART(sa, alen),
		                         AT_PART(h, strlen(h) + 1), AT_PART(s, strlen(s) + 1)};
		at_record_parts(AT_CALL_getnameinfo, -1, r, e, (uint32_t)flags, a1, parts, 4,
		                SIZE_MAX, t0);
		RETURN_ERR(r, e);
	}
	case AT_MODE_REPLAY: {
		const struct at_rawrec *ev =
		    at_replay_take(AT_CALL_getnameinfo, (uint32_t)flags, a1);
		uint32_t len, want = 0;
		const uint8_t *p = at_rawrec_payload(ev, &len);
		if (len >= sizeof want)
			memcpy(&want, p, sizeof want);
		if (len < sizeof want + (size_t)want)
			at_replay_mismatch(ev, "the recorded getnameinfo is damaged");
		at_replay_check_addr(ev, p + sizeof want, want, sa, alen);
		int r = (int)at_replay_ret(ev), e = errno;
		size_t at = sizeof want + want;
		const char *h = (const char *)p + at;
		size_t hn = strnlen(h, len - at);
		const char *s = hn < len - at ? h + hn + 1 : "";
		size_t sn = strnlen(s, len - at - (hn < len - at ? hn + 1 : 0));
		if (r == 0 && host && hostlen) {
			size_t k = hn < hostlen ? hn : hostlen - 1;
			memcpy(host, h, k);
			host[k] = '\0';
		}
		if (r == 0 && serv && servlen) {
			size_t k = sn < servlen ? sn : servlen - 1;
			memcpy(serv, s, k);
			serv[k] = '\0';
		}
		RETURN_ERR(r, r == EAI_SYSTEM ? e : 0);
	}
	default: return AT_REAL(getnameinfo)(sa, salen, host, hostlen, serv, servlen, flags);
	}
}

/* ---- gethostbyname ---- */

/* Replay's answer lives here, as glibc's does in its own static buffer. */
static _Alignas(8) uint8_t hostent_buf[8192];

AT_HOOK struct hostent *gethostbyname(const char *name)
{
	int m = at_enter();
	const char *n = name ? name : "";
	switch (m) {
	case AT_MODE_RECORD: {
		uint64_t t0 = at_stamp();
		at_guard++;
		struct hostent *h = AT_REAL(gethostbyname)(name);
		int herr = h_errno;
		at_guard--;
		struct packed b = {.len = 0, .mapped = 0};
		b.p = b.stack;
		if (h && packed_room(&b, at_hostent_pack(h, NULL, 0)))
			at_hostent_pack(h, b.p, b.len);
		struct iovec parts[2] = {AT_PART(n, strlen(n) + 1), AT_PART(b.p, h ? b.len : 0)};
		at_record_parts(AT_CALL_gethostbyname, -1, h ? 0 : -1, h ? 0 : herr, 1, 0, parts, 2,
		                SIZE_MAX, t0);
		packed_release(&b);
		h_errno = herr;
		return h;
	}
	case AT_MODE_REPLAY: {
		const struct at_rawrec *ev = at_replay_take(AT_CALL_gethostbyname, 1, 0);
		check_names(ev, n, NULL);
		if (ev->ret != 0) {
			h_errno = at_rawrec_err(ev);
			return NULL;
		}
		uint32_t len;
		const uint8_t *p = at_replay_result(ev, &len);
		struct hostent *h = at_hostent_unpack(p, len, hostent_buf, sizeof hostent_buf);
		if (!h)
			at_replay_mismatch(ev, "the recorded gethostbyname result is damaged");
		return h;
	}
	default: return AT_REAL(gethostbyname)(name);
	}
}
