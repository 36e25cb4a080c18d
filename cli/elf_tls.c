/* Which TLS library a program uses that the recorder cannot see into (elf_tls.h). */
#include "elf_tls.h"

#include <elf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_SECTION (64u << 20) /* Node's symbol table is a few MiB */

static void *read_section(int fd, const Elf64_Shdr *sh)
{
	if (sh->sh_size == 0 || sh->sh_size > MAX_SECTION)
		return NULL;
	void *p = malloc(sh->sh_size);
	if (p && pread(fd, p, sh->sh_size, (off_t)sh->sh_offset) != (ssize_t)sh->sh_size) {
		free(p);
		p = NULL;
	}
	return p;
}

/* Libraries whose TLS the preload does not interpose, by the start of their soname. */
static const char *foreign_library(const char *soname)
{
	static const struct {
		const char *prefix, *what;
	} known[] = {
	    {"libgnutls.so", "GnuTLS"},    {"libcurl-gnutls.so", "GnuTLS (through libcurl)"},
	    {"libnss3.so", "NSS"},         {"libssl.so.1.0", "OpenSSL 1.0"},
	    {"libwolfssl.so", "wolfSSL"},  {"libmbedtls.so", "Mbed TLS"},
	    {"libboringssl", "BoringSSL"},
	};
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
		if (!strncmp(soname, known[i].prefix, strlen(known[i].prefix)))
			return known[i].what;
	return NULL;
}

const char *elf_tls_unseen(int fd, const Elf64_Ehdr *eh)
{
	const char *what = NULL;
	if (eh->e_shentsize != sizeof(Elf64_Shdr) || eh->e_shnum == 0 || eh->e_shnum > 4096)
		return NULL;
	Elf64_Shdr *sh = calloc(eh->e_shnum, sizeof *sh);
	if (!sh || pread(fd, sh, eh->e_shnum * sizeof *sh, (off_t)eh->e_shoff) !=
	               (ssize_t)(eh->e_shnum * sizeof *sh)) {
		free(sh);
		return NULL;
	}
	for (unsigned i = 0; i < eh->e_shnum && !what; i++) {
		if ((sh[i].sh_type != SHT_DYNSYM && sh[i].sh_type != SHT_DYNAMIC) ||
		    sh[i].sh_link >= eh->e_shnum)
			continue;
		char *str = read_section(fd, &sh[sh[i].sh_link]);
		void *data = read_section(fd, &sh[i]);
		size_t nstr = sh[sh[i].sh_link].sh_size;
		if (str && data && sh[i].sh_type == SHT_DYNSYM) {
			/* The program defines OpenSSL's API itself: it carries its own TLS (Node.js
			 * exports OpenSSL's symbols for its addons, but calls its own copy). */
			const Elf64_Sym *sym = data;
			for (size_t k = 0; k < sh[i].sh_size / sizeof *sym && !what; k++)
				if (sym[k].st_shndx != SHN_UNDEF && sym[k].st_name < nstr &&
				    !strcmp(str + sym[k].st_name, "SSL_write"))
					what = "its own, compiled-in TLS library";
		} else if (str && data) {
			const Elf64_Dyn *d = data;
			for (size_t k = 0; k < sh[i].sh_size / sizeof *d && !what; k++)
				if (d[k].d_tag == DT_NEEDED && d[k].d_un.d_val < nstr)
					what = foreign_library(str + d[k].d_un.d_val);
		}
		free(str);
		free(data);
	}
	free(sh);
	return what;
}
