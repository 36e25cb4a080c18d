/* Prints the result of every intercepted time and randomness call, errors included.
 * Two live runs print different values; a replay prints exactly the recorded ones. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static void hex(const char *label, const unsigned char *p, size_t n)
{
	printf("%s ", label);
	for (size_t i = 0; i < n; i++)
		printf("%02x", p[i]);
	printf("\n");
}

static void ts(const char *label, int r, const struct timespec *t)
{
	printf("%s = %d %lld.%09ld\n", label, r, (long long)t->tv_sec, t->tv_nsec);
}

int main(void)
{
	static const struct {
		clockid_t id;
		const char *name;
	} clocks[] = {{CLOCK_REALTIME, "REALTIME"},
	              {CLOCK_MONOTONIC, "MONOTONIC"},
	              {CLOCK_PROCESS_CPUTIME_ID, "PROCESS_CPUTIME_ID"},
	              {CLOCK_THREAD_CPUTIME_ID, "THREAD_CPUTIME_ID"},
	              {CLOCK_MONOTONIC_RAW, "MONOTONIC_RAW"},
	              {CLOCK_REALTIME_COARSE, "REALTIME_COARSE"},
	              {CLOCK_BOOTTIME, "BOOTTIME"}};
	struct timespec t;
	for (size_t i = 0; i < sizeof clocks / sizeof clocks[0]; i++) {
		char label[64];
		snprintf(label, sizeof label, "clock_gettime(%s)", clocks[i].name);
		ts(label, clock_gettime(clocks[i].id, &t), &t);
	}
	errno = 0;
	int r = clock_gettime((clockid_t)12345, &t);
	printf("clock_gettime(12345) = %d errno=%s\n", r, strerrorname_np(errno));

	struct timeval tv;
	struct timezone tz;
	r = gettimeofday(&tv, NULL);
	printf("gettimeofday(tv) = %d %lld.%06ld\n", r, (long long)tv.tv_sec, (long)tv.tv_usec);
	r = gettimeofday(&tv, &tz);
	printf("gettimeofday(tv, tz) = %d %lld.%06ld tz=%d/%d\n", r, (long long)tv.tv_sec,
	       (long)tv.tv_usec, tz.tz_minuteswest, tz.tz_dsttime);

	time_t now = 0, t2 = time(&now);
	printf("time(&t) = %lld, t = %lld\n", (long long)t2, (long long)now);
	printf("time(NULL) = %lld\n", (long long)time(NULL));
	ts("timespec_get(TIME_UTC)", timespec_get(&t, TIME_UTC), &t);
	printf("clock() = %ld\n", (long)clock());

	struct timespec req = {0, 1000000}, rem = {0, 0};
	printf("nanosleep(1ms) = %d\n", nanosleep(&req, &rem));
	printf("clock_nanosleep(MONOTONIC, 1ms) = %d\n",
	       clock_nanosleep(CLOCK_MONOTONIC, 0, &req, &rem));
	printf("usleep(1000) = %d\n", usleep(1000));
	printf("sleep(0) = %u\n", sleep(0));

	unsigned char buf[512];
	ssize_t n = getrandom(buf, 32, 0);
	printf("getrandom(32) = %zd\n", n);
	hex("  bytes", buf, 32);
	n = getrandom(buf, 16, GRND_NONBLOCK);
	printf("getrandom(16, GRND_NONBLOCK) = %zd\n", n);
	hex("  bytes", buf, 16);
	errno = 0;
	n = getrandom(buf, 16, 0xdead);
	printf("getrandom(16, 0xdead) = %zd errno=%s\n", n, strerrorname_np(errno));
	printf("getentropy(24) = %d\n", getentropy(buf, 24));
	hex("  bytes", buf, 24);
	errno = 0;
	r = getentropy(buf, 300);
	printf("getentropy(300) = %d errno=%s\n", r, strerrorname_np(errno));
	printf("arc4random() = %08" PRIx32 "\n", arc4random());
	arc4random_buf(buf, 20);
	hex("arc4random_buf(20)", buf, 20);
	printf("arc4random_uniform(1000) = %" PRIu32 "\n", arc4random_uniform(1000));

	/* Straight to the kernel through syscall(2): recorded like the libc calls. */
	n = syscall(SYS_getrandom, buf, 8, 0);
	printf("syscall(SYS_getrandom, 8) = %zd\n", n);
	hex("  bytes", buf, 8);
	r = (int)syscall(SYS_clock_gettime, CLOCK_REALTIME, &t);
	ts("syscall(SYS_clock_gettime, REALTIME)", r, &t);
	return 0;
}
