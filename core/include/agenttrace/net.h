/* The socket family's payloads: how a message call, a name lookup and a socket address are
 * laid out in an event, and how to read them back. The preload packs and unpacks these
 * (it compiles net.c itself), `show` reads them. No allocation anywhere: every function
 * works in caller buffers.
 *
 * Layouts (all integers little-endian, as the machine stores them):
 *   AT_ENC_MSG       struct at_msg_head, the address (namelen bytes), the control data
 *                    (controllen bytes), then the bytes sent or received
 *   AT_ENC_ADDRINFO  node NUL, service NUL (empty when not given), then u32 count and per
 *                    entry: i32 flags, family, socktype, protocol; u32 addrlen, the address;
 *                    u32 canonlen (0: none), the canonical name without its NUL
 *   AT_ENC_HOSTENT   name NUL, then i32 addrtype, i32 length, u32 naliases, each alias NUL,
 *                    u32 naddrs, each address (length bytes), h_name NUL
 *   getnameinfo      u32 salen, the address, then host NUL, service NUL (the results)
 * getaddrinfo's keys: arg0 = 1 node given | 2 service given | 4 hints given; arg1 =
 * hints' ai_flags (low 32 bits) | family << 32 | socktype << 40 | protocol << 48. */
#ifndef AGENTTRACE_NET_H
#define AGENTTRACE_NET_H

#include <stddef.h>
#include <stdint.h>

#include "agenttrace/event.h"

struct at_msg_head {
	uint32_t namelen;    /* the peer's address: given (send*) or returned (recv*) */
	uint32_t controllen; /* ancillary data, likewise */
	uint32_t flags;      /* recvmsg: msg_flags as returned; else 0 */
};

/* The bytes a data-moving event carried: read, write and their vectored and positional
 * forms, send*, recv*. Returns 1 and sets *sent (1: the program wrote them), *data and
 * *len; 0 for any other event, a failed one, or one whose payload is in the content
 * store (AT_EVF_BLOB). */
int at_event_io_data(const at_event *ev, int *sent, const uint8_t **data, size_t *len);

/* A socket address for people: "127.0.0.1:8080", "[::1]:443", "unix:/run/x.sock",
 * "unix:@abstract", "family 16". Returns `out`. */
char *at_sockaddr_format(const void *sa, size_t len, char *out, size_t cap);

struct addrinfo;
struct hostent;

/* Packs a getaddrinfo result list (after node and service) into `out`: returns the bytes
 * needed, which may exceed `cap` (then nothing past cap is written). */
size_t at_addrinfo_pack(const struct addrinfo *ai, uint8_t *out, size_t cap);
/* Rebuilds a packed list in `mem` (cap bytes, 8-aligned): addrinfo entries, addresses and
 * names all inside it. Returns the first entry, or NULL when the packed bytes are damaged
 * or do not fit (*need says how much would). A count of 0 gives NULL with *need 0. */
struct addrinfo *at_addrinfo_unpack(const uint8_t *p, size_t len, void *mem, size_t cap,
                                    size_t *need);
/* The same for a struct hostent (after the name looked up). */
size_t at_hostent_pack(const struct hostent *h, uint8_t *out, size_t cap);
struct hostent *at_hostent_unpack(const uint8_t *p, size_t len, void *mem, size_t cap);

#endif
