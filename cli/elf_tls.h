/* The recorder sees HTTPS as plaintext only through OpenSSL 3's libssl.so.3. Before it
 * records, `agenttrace record` looks in the program's ELF file for a TLS library it cannot
 * see into, so the user hears about it before a replay fails, not after. */
#ifndef AGENTTRACE_CLI_ELF_TLS_H
#define AGENTTRACE_CLI_ELF_TLS_H

#include <elf.h>

/* What TLS library the program (open on `fd`, header `eh`) links directly or carries
 * itself that the preload does not interpose ("GnuTLS", "its own, compiled-in TLS
 * library"), or NULL. Best effort: an unreadable file says nothing. */
const char *elf_tls_unseen(int fd, const Elf64_Ehdr *eh);

#endif
