/* Finding, checking and starting the program, for record and replay alike. Both modes go
 * through spawn_run, so the program starts the same way each time: same path, same
 * environment layout, ASLR off, the preload first in LD_PRELOAD. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/stat.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agenttrace/replay.h"
#include "cli.h"
#include "elf_tls.h"
#include "live_seal.h"
#include "prefault.h"

#ifndef AT_LIBDIR
#define AT_LIBDIR "lib"
#endif

static int is_executable_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

int spawn_find_program(const char *name, const char *path_env, const char *cwd,
                       struct cli_program *out)
{
	char buf[PATH_MAX];
	int found_not_exec = 0;
	if (strchr(name, '/')) {
		if (name[0] != '/' && cwd)
			snprintf(buf, sizeof buf, "%s/%s", cwd, name);
		else
			snprintf(buf, sizeof buf, "%s", name);
		if (access(buf, F_OK) != 0) {
			cli_error("program '%s' not found", name);
			return AT_EXIT_NOT_FOUND;
		}
		if (!is_executable_file(buf)) {
			cli_error("program '%s' is not an executable file", name);
			return AT_EXIT_CANNOT_EXEC;
		}
	} else {
		const char *p = path_env && *path_env ? path_env : "/usr/local/bin:/usr/bin:/bin";
		int ok = 0;
		while (!ok && *p) {
			size_t n = strcspn(p, ":");
			snprintf(buf, sizeof buf, "%.*s/%s", n ? (int)n : 1, n ? p : ".", name);
			if (is_executable_file(buf))
				ok = 1;
			else if (access(buf, F_OK) == 0)
				found_not_exec = 1;
			p += n + (p[n] == ':');
		}
		if (!ok) {
			if (found_not_exec) {
				cli_error("program '%s' was found in PATH but is not executable",
				          name);
				return AT_EXIT_CANNOT_EXEC;
			}
			cli_error("program '%s' not found in PATH", name);
			return AT_EXIT_NOT_FOUND;
		}
	}
	if (!realpath(buf, out->path)) {
		cli_error("cannot resolve '%s': %s", buf, strerror(errno));
		return AT_EXIT_NOT_FOUND;
	}
	return 0;
}

/* Does a PT_NOTE segment hold a note owned by "Go"? */
static int has_go_note(int fd, const Elf64_Phdr *ph)
{
	if (ph->p_filesz > 1 << 16)
		return 0;
	char *buf = malloc(ph->p_filesz);
	int go = 0;
	if (buf && pread(fd, buf, ph->p_filesz, (off_t)ph->p_offset) == (ssize_t)ph->p_filesz) {
		for (size_t off = 0; off + sizeof(Elf64_Nhdr) <= ph->p_filesz;) {
			Elf64_Nhdr nh;
			memcpy(&nh, buf + off, sizeof nh);
			size_t name_off = off + sizeof nh;
			if (nh.n_namesz == 3 && name_off + 3 <= ph->p_filesz &&
			    !memcmp(buf + name_off, "Go", 3))
				go = 1;
			off = name_off + ((nh.n_namesz + 3) & ~3u) + ((nh.n_descsz + 3) & ~3u);
		}
	}
	free(buf);
	return go;
}

static int check_elf(const char *path, int depth);

/* "#!interp [arg]": check the interpreter, and for "#!/usr/bin/env prog" the prog too. */
static int check_script(const char *path, const char *line, int depth)
{
	char interp[PATH_MAX], arg[PATH_MAX] = "";
	const char *p = line + 2;
	while (*p == ' ' || *p == '\t')
		p++;
	size_t n = strcspn(p, " \t\n");
	snprintf(interp, sizeof interp, "%.*s", (int)n, p);
	p += n;
	while (*p == ' ' || *p == '\t')
		p++;
	snprintf(arg, sizeof arg, "%.*s", (int)strcspn(p, " \t\n"), p);
	if (!interp[0]) {
		cli_error("%s: its #! line names no interpreter", path);
		return AT_EXIT_CANNOT_EXEC;
	}
	int rc = check_elf(interp, depth + 1);
	if (rc == 0 && !strcmp(strrchr(interp, '/') ? strrchr(interp, '/') + 1 : interp, "env") &&
	    arg[0] && arg[0] != '-' && !strchr(arg, '=')) {
		struct cli_program prog;
		if (spawn_find_program(arg, getenv("PATH"), NULL, &prog) == 0)
			rc = check_elf(prog.path, depth + 1);
	}
	return rc;
}

static int check_elf(const char *path, int depth)
{
	if (depth > 4) {
		cli_error("%s: too many nested #! interpreters", path);
		return AT_EXIT_CANNOT_EXEC;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		cli_error("cannot open '%s': %s", path, strerror(errno));
		return errno == ENOENT ? AT_EXIT_NOT_FOUND : AT_EXIT_CANNOT_EXEC;
	}
	char head[256] = "";
	ssize_t got = pread(fd, head, sizeof head - 1, 0);
	if (got >= 2 && head[0] == '#' && head[1] == '!') {
		close(fd);
		head[got] = '\0';
		return check_script(path, head, depth);
	}
	Elf64_Ehdr eh;
	if (got < (ssize_t)sizeof eh || memcmp(head, ELFMAG, SELFMAG) != 0) {
		close(fd);
		return 0; /* neither ELF nor script: let the kernel say what it thinks */
	}
	memcpy(&eh, head, sizeof eh);
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_machine != EM_X86_64) {
		close(fd);
		cli_error(
		    "%s is not an x86-64 program; agenttrace records 64-bit x86 programs only",
		    path);
		return AT_EXIT_REFUSED;
	}
	int interp = 0, go = 0;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		if (pread(fd, &ph, sizeof ph, (off_t)(eh.e_phoff + (uint64_t)i * eh.e_phentsize)) !=
		    (ssize_t)sizeof ph)
			break;
		if (ph.p_type == PT_INTERP)
			interp = 1;
		if (ph.p_type == PT_NOTE && has_go_note(fd, &ph))
			go = 1;
	}
	const char *tls = go || !interp ? NULL : elf_tls_unseen(fd, &eh);
	close(fd);
	if (tls)
		cli_error("note: %s uses %s, which agenttrace does not see into: its HTTPS traffic "
		          "is recorded encrypted, and replay cannot serve it (only OpenSSL 3's "
		          "libssl.so.3 is recorded as plaintext)",
		          path, tls);
	if (go) {
		cli_error("%s is a Go program: Go reads the clock and random numbers without libc, "
		          "so agenttrace cannot record it faithfully",
		          path);
		return AT_EXIT_REFUSED;
	}
	if (!interp) {
		cli_error("%s is statically linked: agenttrace records through the dynamic linker "
		          "(LD_PRELOAD) and cannot see its calls; rebuild it dynamically linked",
		          path);
		return AT_EXIT_REFUSED;
	}
	return 0;
}

int spawn_check_linkage(const char *path)
{
	return check_elf(path, 0);
}

int spawn_preload_path(char *out, size_t cap)
{
	const char *env = getenv("AGENTTRACE_PRELOAD");
	char exe[PATH_MAX], cand[PATH_MAX + 64];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (env && *env) {
		snprintf(cand, sizeof cand, "%s", env);
	} else if (n > 0) {
		exe[n] = '\0';
		*strrchr(exe, '/') = '\0';
		/* The build tree first (cli/agenttrace, preload/...), then an installed layout
		 * (bin/agenttrace, <libdir>/agenttrace/...), so it works from both. */
		snprintf(cand, sizeof cand, "%s/../preload/libagenttrace-preload.so", exe);
		if (access(cand, R_OK) != 0)
			snprintf(cand, sizeof cand, "%s/../%s/agenttrace/libagenttrace-preload.so",
			         exe, AT_LIBDIR);
	} else {
		cand[0] = '\0';
	}
	if (!cand[0] || !realpath(cand, out) || access(out, R_OK) != 0) {
		cli_error("cannot find libagenttrace-preload.so (looked for %s); reinstall "
		          "agenttrace or set AGENTTRACE_PRELOAD to its path",
		          cand);
		return AT_EXIT_INTERNAL;
	}
	if (strlen(out) >= cap || strpbrk(out, " :")) {
		cli_error(
		    "the preload's path '%s' contains a space or ':', which LD_PRELOAD cannot "
		    "carry; install agenttrace elsewhere",
		    out);
		return AT_EXIT_INTERNAL;
	}
	return 0;
}

int spawn_aslr_disabled(void)
{
	int cur = personality(0xffffffff);
	return cur != -1 && personality((unsigned long)cur | ADDR_NO_RANDOMIZE) != -1;
}

/* The program's environment plus LD_PRELOAD (ours first) and AGENTTRACE_RUN, appended or
 * replaced in the same places whatever the mode, so the layout is identical. */
static char **child_env(char *const *envp, const char *preload, const char *run)
{
	size_t n = 0;
	while (envp[n])
		n++;
	char **env = calloc(n + 3, sizeof *env);
	if (!env)
		return NULL;
	size_t k = 0;
	int have_preload = 0;
	for (size_t i = 0; i < n; i++) {
		if (!strncmp(envp[i], "AGENTTRACE_RUN=", 15))
			continue;
		if (!strncmp(envp[i], "LD_PRELOAD=", 11)) {
			have_preload = 1;
			if (asprintf(&env[k++], "LD_PRELOAD=%s:%s", preload, envp[i] + 11) < 0)
				return NULL;
			continue;
		}
		env[k++] = envp[i];
	}
	if (!have_preload && asprintf(&env[k++], "LD_PRELOAD=%s", preload) < 0)
		return NULL;
	env[k++] = (char *)run;
	env[k] = NULL;
	return env;
}

#define RUN_VAR_WIDTH 256 /* under the preload's 512-byte limit */

static volatile pid_t forward_to;
static volatile sig_atomic_t stop_asked; /* a process asked to stop the program (SIGUSR2) */

static void forward_signal(int sig)
{
	if (forward_to > 0)
		kill(forward_to, sig);
}

/* A process of the replayed program diverged: stop the program; its orphans come to us
 * (subreaper) and spawn_reap_tree stops them. */
static void stop_program(int sig)
{
	(void)sig;
	stop_asked = 1;
	if (forward_to > 0)
		kill(forward_to, SIGKILL);
}

/* Our children now: the program's orphans, once its root is gone. */
static int kill_children(void)
{
	char path[64], buf[4096];
	snprintf(path, sizeof path, "/proc/self/task/%d/children", (int)getpid());
	FILE *f = fopen(path, "re");
	int n = 0;
	if (!f)
		return 0;
	size_t len = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[len] = '\0';
	for (char *p = buf, *end; *p; p = end) {
		long pid = strtol(p, &end, 10);
		if (end == p)
			break;
		if (pid > 0 && kill((pid_t)pid, SIGKILL) == 0)
			n++;
	}
	return n;
}

int spawn_reap_tree(int grace_ms)
{
	int left = 0, status;
	for (int waited = 0;; waited += 10) {
		while (waitpid(-1, &status, WNOHANG) > 0)
			;
		if (waitpid(-1, &status, WNOHANG) < 0 && errno == ECHILD)
			return left;
		if (waited >= grace_ms) {
			left += kill_children();
			if (waited >= grace_ms + 2000)
				return left;
		}
		struct timespec ts = {0, 10000000};
		nanosleep(&ts, NULL);
	}
}

struct child_failure {
	int stage; /* 1 chdir, 2 ctl, 3 exec */
	int err;
};

int spawn_run(const struct cli_spawn *sp, int *wait_status, pid_t *pid_out)
{
	char preload[PATH_MAX], run[PATH_MAX + 32];
	int rc = spawn_preload_path(preload, sizeof preload);
	if (rc)
		return rc;
	/* The run directory, padded with slashes to a fixed width: the environment, and with
	 * it the initial stack, keeps its size between record and replay even when their
	 * scratch directories are in different places (store.c). */
	int n = snprintf(run, sizeof run, "AGENTTRACE_RUN=%s:%s", sp->mode, sp->run_dir);
	while (n > 0 && n < RUN_VAR_WIDTH)
		run[n++] = '/';
	if (n > 0 && (size_t)n < sizeof run)
		run[n] = '\0';
	char **env = child_env(sp->envp, preload, run);
	int pipefd[2];
	if (!env || pipe2(pipefd, O_CLOEXEC) < 0) {
		cli_error("cannot start '%s': %s", sp->path, strerror(errno));
		return AT_EXIT_INTERNAL;
	}
	spawn_aslr_disabled(); /* for record and replay alike: children inherit it at exec */
	fflush(NULL);
	if (sp->whole_tree) { /* before the fork: a process may diverge at once */
		struct sigaction stop = {.sa_handler = stop_program};
		stop_asked = 0;
		sigaction(SIGUSR2, &stop, NULL);
		prctl(PR_SET_CHILD_SUBREAPER, 1);
	}
	pid_t pid = fork();
	if (pid < 0) {
		cli_error("cannot start '%s': fork: %s", sp->path, strerror(errno));
		return AT_EXIT_INTERNAL;
	}
	if (pid == 0) {
		struct child_failure f = {0, 0};
		close(pipefd[0]);
		if (sp->cwd && chdir(sp->cwd) < 0)
			f = (struct child_failure){1, errno};
		else if (at_replay_write_ctl(sp->run_dir, getpid(), getppid()) < 0)
			f = (struct child_failure){2, errno};
		else {
			execve(sp->path, sp->argv, env);
			f = (struct child_failure){3, errno};
		}
		if (write(pipefd[1], &f, sizeof f) < 0)
			_exit(127);
		_exit(127);
	}
	close(pipefd[1]);
	struct prefault *pf = sp->prefault ? prefault_start(sp->run_dir) : NULL;
	struct live_seal *ls = sp->sealer ? live_seal_start(sp->sealer, sp->run_dir, pid) : NULL;

	struct sigaction ign = {.sa_handler = SIG_IGN}, fwd = {.sa_handler = forward_signal};
	struct sigaction old_int, old_quit, old_term, old_hup;
	forward_to = pid;
	if (stop_asked) /* asked before the pid was known: on a busy machine the program can
	                   get that far before this process runs again after the fork */
		kill(pid, SIGKILL);
	sigaction(SIGINT, &ign, &old_int);
	sigaction(SIGQUIT, &ign, &old_quit);
	sigaction(SIGTERM, &fwd, &old_term);
	sigaction(SIGHUP, &fwd, &old_hup);

	struct child_failure f = {0, 0};
	ssize_t got;
	do
		got = read(pipefd[0], &f, sizeof f);
	while (got < 0 && errno == EINTR);
	close(pipefd[0]);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (sp->end_ns)
		*sp->end_ns = cli_now_ns(); /* before the helpers finish their work */
	prefault_stop(pf);
	live_seal_stop(ls);
	forward_to = 0;
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGQUIT, &old_quit, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGHUP, &old_hup, NULL);
	if (sp->whole_tree) { /* a late report from a process of the program changes nothing */
		struct sigaction ign_usr2 = {.sa_handler = SIG_IGN};
		sigaction(SIGUSR2, &ign_usr2, NULL);
	}
	for (char **e = env; *e; e++)
		if (!strncmp(*e, "LD_PRELOAD=", 11))
			free(*e);
	free(env);

	if (got == (ssize_t)sizeof f) {
		if (f.stage == 1) {
			cli_error("cannot enter the working directory %s: %s", sp->cwd,
			          strerror(f.err));
			return AT_EXIT_REPLAY_ENV;
		}
		if (f.stage == 2) {
			cli_error("cannot write to the run directory %s: %s", sp->run_dir,
			          strerror(f.err));
			return f.err == ENOSPC ? AT_EXIT_NOSPACE : AT_EXIT_IO;
		}
		cli_error("cannot execute '%s': %s", sp->path, strerror(f.err));
		return f.err == ENOENT ? AT_EXIT_NOT_FOUND : AT_EXIT_CANNOT_EXEC;
	}
	*wait_status = status;
	if (pid_out)
		*pid_out = pid;
	return 0;
}
