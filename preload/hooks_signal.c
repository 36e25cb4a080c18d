/* Signals that reach the program's handlers.
 *
 * For the signals below, a handler the program installs (sigaction, signal) is kept here
 * and ours is installed in its place. Record: ours logs a `signal` event (who sent it and
 * why) on the thread it interrupts, at that point of the thread's events, then runs the
 * program's. Replay: the runtime delivers each recorded signal again on its thread when
 * the thread reaches that point (replay/runtime.c), through the kernel, so the program's
 * signal mask still decides when the handler runs. Real signals of these kinds are dropped
 * in replay (a replayed child's SIGCHLD, a timer's SIGALRM), except an interrupt or
 * termination from outside, which ends the replay as it would end the program.
 * Signals outside the set, and signals with no handler of the program's, are left alone. */
#include <errno.h>
#include <string.h>

#include "preload_internal.h"
#include "../replay/order.h"
#include "sys_raw.h"

#define MANAGED                                                                                    \
	((1ull << SIGHUP) | (1ull << SIGINT) | (1ull << SIGQUIT) | (1ull << SIGUSR1) |             \
	 (1ull << SIGUSR2) | (1ull << SIGPIPE) | (1ull << SIGALRM) | (1ull << SIGTERM) |           \
	 (1ull << SIGCHLD) | (1ull << SIGWINCH))
/* Replay: a real one of these comes from outside the replay, and ends it. */
#define FROM_OUTSIDE ((1ull << SIGHUP) | (1ull << SIGINT) | (1ull << SIGQUIT) | (1ull << SIGTERM))

static int managed(int sig)
{
	return sig > 0 && sig < 64 && (MANAGED >> sig) & 1;
}

/* Whether the signal's default action ends the process (of the managed ones, all but
 * SIGCHLD and SIGWINCH, which are ignored). */
static int terminates(int sig)
{
	return sig != SIGCHLD && sig != SIGWINCH;
}

/* The program's own action for each managed signal, once it set one through us. */
static struct {
	int set;
	struct sigaction act;
} program[64];
/* Replay: deliveries the runtime made and the handler has not seen yet, per signal. */
static int injected[64];

static int (*sigaction_fn)(int, const struct sigaction *, struct sigaction *);

int (*at_real_sigaction(void))(int, const struct sigaction *, struct sigaction *)
{
	if (!sigaction_fn)
		*(void **)&sigaction_fn = at_resolve("sigaction");
	return sigaction_fn;
}

void at_signal_default(int sig)
{
	struct sigaction dfl = {.sa_handler = SIG_DFL};
	if (sig > 0 && sig < 64 && at_real_sigaction())
		at_real_sigaction()(sig, &dfl, NULL);
}

static void run_program_handler(int sig, siginfo_t *info, void *uc)
{
	struct sigaction a = program[sig].act;
	if (a.sa_flags & SA_SIGINFO) {
		if (a.sa_sigaction)
			a.sa_sigaction(sig, info, uc);
	} else if (a.sa_handler != SIG_IGN && a.sa_handler != SIG_DFL) {
		a.sa_handler(sig);
	}
}

static void on_signal(int sig, siginfo_t *info, void *uc)
{
	int saved = errno;
	int m = __atomic_load_n(&at_proc.mode, __ATOMIC_RELAXED);
	if (m == AT_MODE_REPLAY) {
		if (__atomic_load_n(&injected[sig], __ATOMIC_ACQUIRE) > 0) {
			__atomic_sub_fetch(&injected[sig], 1, __ATOMIC_ACQ_REL);
		} else if ((FROM_OUTSIDE >> sig) & 1) {
			/* Someone wants the replay stopped: the default action does that. */
			struct sigaction dfl = {.sa_handler = SIG_DFL};
			at_real_sigaction()(sig, &dfl, NULL);
			at_sys(SYS_tgkill, at_sys_getpid(), at_sys_gettid(), sig);
			errno = saved;
			return;
		} else {
			errno = saved; /* the replay delivers the recorded one where it arrived */
			return;
		}
	} else if (m == AT_MODE_RECORD && !at_guard) {
		struct at_siginfo si = {
		    .signo = sig,
		    .code = info ? info->si_code : 0,
		    .pid = info ? info->si_pid : 0,
		    .uid = info ? (int32_t)info->si_uid : 0,
		    .status = info && sig == SIGCHLD ? info->si_status : 0,
		    .value = info ? (uint64_t)(uintptr_t)info->si_value.sival_ptr : 0};
		/* arg1: whether it interrupted a recorded call (replay delivers it at the
		 * start of the next call) or the program's own code (right after the last) */
		int during = at_in_call;
		at_record(AT_CALL_signal, 0, 0, (uint32_t)sig, (uint64_t)during, &si, sizeof si,
		          at_stamp());
		at_in_call = during;
	}
	errno = saved;
	if (program[sig].act.sa_flags & SA_RESETHAND) { /* once, then the default */
		struct sigaction once = program[sig].act, dfl = {.sa_handler = SIG_DFL};
		program[sig].act = dfl;
		at_real_sigaction()(sig, &dfl, NULL);
		program[sig].act = once;
		run_program_handler(sig, info, uc);
		program[sig].act = dfl;
		return;
	}
	run_program_handler(sig, info, uc);
}

int at_signal_handled(int sig)
{
	if (!managed(sig) || !program[sig].set)
		return 0;
	const struct sigaction *a = &program[sig].act;
	return (a->sa_flags & SA_SIGINFO) ? a->sa_sigaction != NULL
	                                  : a->sa_handler != SIG_IGN && a->sa_handler != SIG_DFL;
}

void at_signal_deliver(const struct at_rawrec *ev)
{
	struct at_siginfo si;
	memset(&si, 0, sizeof si);
	at_replay_copy(ev, &si, sizeof si);
	int sig = (int)ev->arg0;
	if (!managed(sig))
		return;
	siginfo_t info;
	memset(&info, 0, sizeof info);
	info.si_signo = sig;
	info.si_code = si.code;
	info.si_pid = si.pid;
	info.si_uid = (uid_t)si.uid;
	if (sig == SIGCHLD)
		info.si_status = si.status;
	else
		info.si_value.sival_ptr = (void *)(uintptr_t)si.value;
	__atomic_add_fetch(&injected[sig], 1, __ATOMIC_ACQ_REL);
	/* To this thread: the kernel runs the handler before the call returns, unless the
	 * program blocks the signal here, as it did when it was recorded. */
	if (at_sys6(SYS_rt_tgsigqueueinfo, at_sys_getpid(), at_sys_gettid(), sig, (long)&info, 0,
	            0) < 0)
		__atomic_sub_fetch(&injected[sig], 1, __ATOMIC_ACQ_REL);
}

AT_HOOK int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	int (*real)(int, const struct sigaction *, struct sigaction *) = at_real_sigaction();
	if (act && act->sa_handler != SIG_DFL && act->sa_handler != SIG_IGN)
		at_real_for_handlers(); /* with recording off too: a handler is about to exist */
	int m = at_enter();
	if (m < AT_MODE_RECORD || !managed(sig) || !real)
		return real ? real(sig, act, old) : (errno = ENOSYS, -1);
	struct sigaction prev;
	int had = program[sig].set;
	if (had)
		prev = program[sig].act;
	int r;
	if (!act) {
		r = real(sig, NULL, old);
	} else if (m == AT_MODE_REPLAY && act->sa_handler == SIG_DFL &&
	           !((FROM_OUTSIDE >> sig) & 1) && terminates(sig)) {
		/* Ignored instead. The replay runs ahead of the world, so a real signal the
		 * recording saw early can come late: a timer armed for 200 ms that fired in the
		 * loop waiting for it, say, once the program has restored the default action
		 * (Python does at exit). It must neither end the replay nor interrupt a real
		 * wait (the program would ask the clock again). A recorded end by this signal
		 * is still delivered (replay/runtime.c restores the default first); one from
		 * outside (SIGHUP, SIGINT, SIGQUIT, SIGTERM) keeps its default. */
		struct sigaction ign = *act;
		ign.sa_handler = SIG_IGN;
		r = real(sig, &ign, old);
		if (r == 0) {
			program[sig].act = *act;
			program[sig].set = 1;
		}
	} else if (act->sa_handler == SIG_IGN || act->sa_handler == SIG_DFL) {
		r = real(sig, act, old);
		if (r == 0) {
			program[sig].act = *act;
			program[sig].set = 1;
		}
	} else {
		struct sigaction ours = *act;
		ours.sa_sigaction = on_signal;
		ours.sa_flags |= SA_SIGINFO;
		ours.sa_flags &= ~SA_RESETHAND; /* ours stays: it restores the default itself */
		program[sig].act = *act;
		program[sig].set = 1;
		r = real(sig, &ours, old);
		if (r < 0) {
			if (had)
				program[sig].act = prev;
			program[sig].set = had;
		}
	}
	if (r == 0 && old && had)
		*old = prev; /* the program's handler, not ours */
	return r;
}

/* signal() and its kin, through the hook above (glibc's own would go around it): the
 * handler installed with `flags`, its own signal blocked while it runs unless SA_NODEFER. */
static sighandler_t install(int sig, sighandler_t handler, int flags)
{
	struct sigaction act, old;
	memset(&act, 0, sizeof act);
	act.sa_handler = handler;
	sigemptyset(&act.sa_mask);
	if (!(flags & SA_NODEFER))
		sigaddset(&act.sa_mask, sig);
	act.sa_flags = flags;
	if (sigaction(sig, &act, &old) < 0)
		return SIG_ERR;
	return old.sa_handler;
}

/* BSD semantics, as glibc gives them: restart, the signal blocked in its own handler. */
AT_HOOK sighandler_t signal(int sig, sighandler_t handler)
{
	return install(sig, handler, SA_RESTART);
}
AT_HOOK sighandler_t bsd_signal(int sig, sighandler_t handler)
{
	return signal(sig, handler); /* the same, under its old name */
}

/* System V semantics: the handler is reset to the default as it runs, and the signal is not
 * blocked in it. Programs built for strict standards (-std=c99, no _GNU_SOURCE) call
 * __sysv_signal for signal(). */
AT_HOOK sighandler_t sysv_signal(int sig, sighandler_t handler)
{
	if (handler == SIG_ERR) {
		errno = EINVAL;
		return SIG_ERR;
	}
	return install(sig, handler, SA_RESETHAND | SA_NODEFER);
}
sighandler_t __sysv_signal(int sig, sighandler_t handler)
    __attribute__((alias("sysv_signal"), visibility("default")));

void at_signal_after_fork(void)
{
	/* Signals pending for the parent are not the child's. Only replay injects them, and
	 * only what changes is stored: a store into a page copies it (and a read of a page
	 * never touched faults it in) in every fork child. */
	if (at_proc.mode != AT_MODE_REPLAY)
		return;
	for (int sig = 0; sig < 64; sig++)
		if (injected[sig])
			injected[sig] = 0;
}

/* Waiting for a signal: on replay, the recorded ones due here are delivered first (the
 * program's mask still holds them until the wait unblocks them). */
AT_HOOK int sigsuspend(const sigset_t *mask)
{
	static int (*real)(const sigset_t *);
	if (!real)
		*(void **)&real = at_resolve("sigsuspend");
	if (at_enter() == AT_MODE_REPLAY)
		at_replay_signals_due(0);
	return real(mask);
}

AT_HOOK int pause(void)
{
	static int (*real)(void);
	if (!real)
		*(void **)&real = at_resolve("pause");
	if (at_enter() == AT_MODE_REPLAY)
		at_replay_signals_due(0);
	return real();
}

/* Exiting: on replay, recorded signals that arrived after the process's last call are
 * delivered first (bash reaps its last child in its SIGCHLD handler). Not in a vfork
 * child, which shares its parent's replay. */
static void signals_before_exit(void)
{
	if (at_enter() == AT_MODE_REPLAY && !at_in_vfork_child()) {
		at_replay_signals_due(1);
		at_output_final(); /* what the program printed, before it ends */
	}
}

AT_HOOK void exit(int status)
{
	static void (*real)(int);
	if (!real)
		*(void **)&real = at_resolve("exit");
	signals_before_exit();
	if (real)
		real(status);
	at_sys(SYS_exit_group, status, 0, 0); /* no lookup possible (inside one): end anyway */
	__builtin_unreachable();
}

AT_HOOK void _exit(int status)
{
	/* What libc's _exit does, without looking it up first: that lookup would page in the
	 * loader's code in every fork child that ends this way. */
	signals_before_exit();
	at_sys(SYS_exit_group, status, 0, 0);
	__builtin_unreachable();
}
