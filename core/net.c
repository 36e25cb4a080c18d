/* The socket family's payloads (net.h). Compiled into the preload too: no allocation, no
 * stdio beyond snprintf into caller buffers. */
#include "agenttrace/net.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

int at_event_io_data(const at_event *ev, int *sent, const uint8_t **data, size_t *len)
{
	int out;
	switch (ev->call) {
	case AT_CALL_read:
	case AT_CALL_pread:
	case AT_CALL_readv:
	case AT_CALL_preadv:
	case AT_CALL_preadv2:
	case AT_CALL_recv:
	case AT_CALL_recvfrom:
	case AT_CALL_recvmsg: out = 0; break;
	case AT_CALL_write:
	case AT_CALL_pwrite:
	case AT_CALL_writev:
	case AT_CALL_pwritev:
	case AT_CALL_pwritev2:
	case AT_CALL_send:
	case AT_CALL_sendto:
	case AT_CALL_sendmsg:
	case AT_CALL_SSL_write:
	case AT_CALL_SSL_write_ex: out = 1; break;
	case AT_CALL_SSL_read:
	case AT_CALL_SSL_read_ex: out = 0; break; /* peeks are read again: not data of their own */
	default: return 0;
	}
	if (ev->ret <= 0 || ev->err || (ev->flags & AT_EVF_BLOB))
		return 0;
	const uint8_t *p = ev->payload;
	size_t n = ev->len;
	if (ev->call == AT_CALL_sendto || ev->call == AT_CALL_sendmsg ||
	    ev->call == AT_CALL_recvfrom || ev->call == AT_CALL_recvmsg) {
		struct at_msg_head h;
		if (n < sizeof h)
			return 0;
		memcpy(&h, p, sizeof h);
		size_t skip = sizeof h + (size_t)h.namelen + h.controllen;
		if (skip > n)
			return 0;
		p += skip;
		n -= skip;
	}
	*sent = out;
	*data = p;
	*len = n;
	return 1;
}

char *at_sockaddr_format(const void *sa, size_t len, char *out, size_t cap)
{
	sa_family_t family = 0;
	char ip[INET6_ADDRSTRLEN];
	if (!cap)
		return out;
	out[0] = '\0';
	if (len >= sizeof family)
		memcpy(&family, sa, sizeof family);
	if (family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		struct sockaddr_in in;
		memcpy(&in, sa, sizeof in);
		inet_ntop(AF_INET, &in.sin_addr, ip, sizeof ip);
		snprintf(out, cap, "%s:%u", ip, ntohs(in.sin_port));
	} else if (family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		struct sockaddr_in6 in6;
		memcpy(&in6, sa, sizeof in6);
		inet_ntop(AF_INET6, &in6.sin6_addr, ip, sizeof ip);
		snprintf(out, cap, "[%s]:%u", ip, ntohs(in6.sin6_port));
	} else if (family == AF_UNIX) {
		const char *path = (const char *)sa + offsetof(struct sockaddr_un, sun_path);
		size_t n = len > offsetof(struct sockaddr_un, sun_path)
		               ? len - offsetof(struct sockaddr_un, sun_path)
		               : 0;
		if (n && path[0] == '\0') /* abstract: the name is every byte after the NUL */
			snprintf(out, cap, "unix:@%.*s", (int)(n - 1), path + 1);
		else
			snprintf(out, cap, "unix:%.*s", (int)strnlen(path, n), path);
	} else if (len) {
		snprintf(out, cap, "family %u", family);
	}
	return out;
}

/* ---- packing: a cursor that counts what it would write past the end ---- */

struct packer {
	uint8_t *out;
	size_t cap, at;
};

static void put(struct packer *w, const void *p, size_t n)
{
	if (n && w->at < w->cap)
		memcpy(w->out + w->at, p, n < w->cap - w->at ? n : w->cap - w->at);
	w->at += n;
}

static void put_u32(struct packer *w, uint32_t v)
{
	put(w, &v, sizeof v);
}

size_t at_addrinfo_pack(const struct addrinfo *ai, uint8_t *out, size_t cap)
{
	struct packer w = {out, cap, 0};
	uint32_t count = 0;
	for (const struct addrinfo *a = ai; a; a = a->ai_next)
		count++;
	put_u32(&w, count);
	for (const struct addrinfo *a = ai; a; a = a->ai_next) {
		int32_t head[4] = {a->ai_flags, a->ai_family, a->ai_socktype, a->ai_protocol};
		put(&w, head, sizeof head);
		uint32_t alen = a->ai_addr ? (uint32_t)a->ai_addrlen : 0;
		put_u32(&w, alen);
		put(&w, a->ai_addr, alen);
		uint32_t clen = a->ai_canonname ? (uint32_t)strlen(a->ai_canonname) : 0;
		put_u32(&w, clen);
		put(&w, a->ai_canonname, clen);
	}
	return w.at;
}

/* ---- unpacking: a reader that fails on damage, an arena that fails when full ---- */

struct reader {
	const uint8_t *p;
	size_t len, at;
	int bad;
};

static const void *take(struct reader *r, size_t n)
{
	if (r->bad || n > r->len - r->at) {
		r->bad = 1;
		return NULL;
	}
	const void *p = r->p + r->at;
	r->at += n;
	return p;
}

static uint32_t take_u32(struct reader *r)
{
	uint32_t v = 0;
	const void *p = take(r, sizeof v);
	if (p)
		memcpy(&v, p, sizeof v);
	return v;
}

static int32_t take_i32(struct reader *r)
{
	return (int32_t)take_u32(r);
}

struct arena {
	uint8_t *mem;
	size_t cap, at;
};

static void *alloc(struct arena *a, size_t n)
{
	size_t at = (a->at + 7) & ~(size_t)7;
	a->at = at + n;
	return a->at <= a->cap ? a->mem + at : NULL;
}

struct addrinfo *at_addrinfo_unpack(const uint8_t *p, size_t len, void *mem, size_t cap,
                                    size_t *need)
{
	struct reader r = {p, len, 0, 0};
	struct arena a = {mem, cap, 0};
	struct addrinfo *first = NULL, **link = &first;
	uint32_t count = take_u32(&r);
	for (uint32_t i = 0; i < count && !r.bad; i++) {
		struct addrinfo *ai = alloc(&a, sizeof *ai);
		int32_t flags = take_i32(&r), family = take_i32(&r), socktype = take_i32(&r),
		        protocol = take_i32(&r);
		uint32_t alen = take_u32(&r);
		const void *addr = take(&r, alen);
		void *addr_copy = alen ? alloc(&a, alen) : NULL;
		uint32_t clen = take_u32(&r);
		const void *canon = take(&r, clen);
		char *canon_copy = clen ? alloc(&a, (size_t)clen + 1) : NULL;
		if (r.bad || !ai || (alen && !addr_copy) || (clen && !canon_copy))
			continue; /* damaged: stops the loop; full: keeps counting what is needed */
		*ai = (struct addrinfo){.ai_flags = flags,
		                        .ai_family = family,
		                        .ai_socktype = socktype,
		                        .ai_protocol = protocol,
		                        .ai_addrlen = alen};
		if (alen) {
			memcpy(addr_copy, addr, alen);
			ai->ai_addr = addr_copy;
		}
		if (clen) {
			memcpy(canon_copy, canon, clen);
			canon_copy[clen] = '\0';
			ai->ai_canonname = canon_copy;
		}
		*link = ai;
		link = &ai->ai_next;
	}
	if (need)
		*need = r.bad ? 0 : a.at;
	if (r.bad || a.at > a.cap)
		return NULL;
	return first;
}

size_t at_hostent_pack(const struct hostent *h, uint8_t *out, size_t cap)
{
	struct packer w = {out, cap, 0};
	int32_t head[2] = {h->h_addrtype, h->h_length};
	put(&w, head, sizeof head);
	uint32_t n = 0;
	while (h->h_aliases && h->h_aliases[n])
		n++;
	put_u32(&w, n);
	for (uint32_t i = 0; i < n; i++)
		put(&w, h->h_aliases[i], strlen(h->h_aliases[i]) + 1);
	n = 0;
	while (h->h_addr_list && h->h_addr_list[n])
		n++;
	put_u32(&w, n);
	for (uint32_t i = 0; i < n; i++)
		put(&w, h->h_addr_list[i], (size_t)(h->h_length > 0 ? h->h_length : 0));
	const char *name = h->h_name ? h->h_name : "";
	put(&w, name, strlen(name) + 1);
	return w.at;
}

/* A NUL-terminated string from the reader, copied into the arena. */
static char *take_string(struct reader *r, struct arena *a)
{
	if (r->bad)
		return NULL;
	const uint8_t *nul = memchr(r->p + r->at, 0, r->len - r->at);
	if (!nul) {
		r->bad = 1;
		return NULL;
	}
	size_t n = (size_t)(nul - (r->p + r->at)) + 1;
	const void *s = take(r, n);
	char *copy = alloc(a, n);
	if (copy)
		memcpy(copy, s, n);
	return copy;
}

struct hostent *at_hostent_unpack(const uint8_t *p, size_t len, void *mem, size_t cap)
{
	struct reader r = {p, len, 0, 0};
	struct arena a = {mem, cap, 0};
	struct hostent *h = alloc(&a, sizeof *h);
	int32_t addrtype = take_i32(&r), length = take_i32(&r);
	uint32_t naliases = take_u32(&r);
	if (!h || r.bad || length < 0 || length > 64 || naliases > 1024)
		return NULL;
	h->h_addrtype = addrtype;
	h->h_length = length;
	h->h_aliases = alloc(&a, ((size_t)naliases + 1) * sizeof(char *));
	for (uint32_t i = 0; i < naliases && h->h_aliases; i++)
		h->h_aliases[i] = take_string(&r, &a);
	uint32_t naddrs = take_u32(&r);
	if (r.bad || naddrs > 1024 || !h->h_aliases)
		return NULL;
	h->h_aliases[naliases] = NULL;
	h->h_addr_list = alloc(&a, ((size_t)naddrs + 1) * sizeof(char *));
	for (uint32_t i = 0; i < naddrs && h->h_addr_list; i++) {
		const void *addr = take(&r, (size_t)length);
		char *copy = alloc(&a, (size_t)length);
		if (addr && copy)
			memcpy(copy, addr, (size_t)length);
		h->h_addr_list[i] = copy;
	}
	if (!h->h_addr_list)
		return NULL;
	h->h_addr_list[naddrs] = NULL;
	h->h_name = take_string(&r, &a);
	if (r.bad || a.at > a.cap || !h->h_name)
		return NULL;
	return h;
}
