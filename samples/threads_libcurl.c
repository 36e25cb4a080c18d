/* threads_libcurl BASE_URL: four threads, each with its own libcurl easy handle, make three
 * GETs of BASE_URL/t<thread>/r<request> at once; the server delays each answer by a few tens of
 * ms, differently per request, so the threads' calls interleave. Each thread prints a line
 * as each answer arrives, so the order of those lines is the order the answers came in;
 * the answer (random bytes from the server) goes into the thread's own buffer, and main
 * joins the threads and prints them in thread order. A replay prints the same bytes only
 * if every thread is served its own answers and the threads' calls run in their recorded
 * order. Use an address (127.0.0.1), not a name: a name would start curl's resolver
 * thread. Exits 1 with curl's message on any transfer error. */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

enum { THREADS = 4, REQUESTS = 3, ANSWER_MAX = 256 };

struct answer {
	char body[ANSWER_MAX];
	size_t len;
	long status;
};

struct worker {
	int index;
	const char *base;
	struct answer answers[REQUESTS];
	char error[CURL_ERROR_SIZE]; /* empty unless a transfer failed */
};

static size_t keep_body(char *data, size_t size, size_t n, void *arg)
{
	struct answer *a = arg;
	size_t len = size * n;
	if (len > sizeof a->body - 1 - a->len)
		return 0; /* more than an answer of this server: fail the transfer */
	memcpy(a->body + a->len, data, len);
	a->len += len;
	a->body[a->len] = '\0';
	return len;
}

static void *work(void *arg)
{
	struct worker *w = arg;
	CURL *curl = curl_easy_init();
	if (!curl) {
		snprintf(w->error, sizeof w->error, "curl_easy_init failed");
		return NULL;
	}
	char curl_err[CURL_ERROR_SIZE];
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_err);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, keep_body);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L); /* no SIGALRM timeouts across threads */
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
	for (int r = 0; r < REQUESTS; r++) {
		char url[512];
		/* 10 to 70 ms, another order for every request, so the threads take turns. */
		int delay_ms = 10 + 20 * ((w->index + 2 * r) % 4);
		snprintf(url, sizeof url, "%s/t%d/r%d?delay_ms=%d", w->base, w->index, r, delay_ms);
		curl_easy_setopt(curl, CURLOPT_URL, url);
		curl_easy_setopt(curl, CURLOPT_WRITEDATA, &w->answers[r]);
		curl_err[0] = '\0';
		CURLcode rc = curl_easy_perform(curl);
		if (rc != CURLE_OK) {
			snprintf(w->error, sizeof w->error, "request %d: %s", r,
			         *curl_err ? curl_err : curl_easy_strerror(rc));
			break;
		}
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &w->answers[r].status);
		/* One write per line, whole: the lines of two threads never mix. */
		flockfile(stdout);
		printf("arrived: thread %d request %d\n", w->index, r);
		fflush(stdout);
		funlockfile(stdout);
	}
	curl_easy_cleanup(curl);
	return NULL;
}

int main(int argc, char **argv)
{
	static struct worker workers[THREADS];
	pthread_t tid[THREADS];
	int failed = 0;
	if (argc != 2) {
		fprintf(stderr, "usage: threads_libcurl BASE_URL\n");
		return 2;
	}
	/* Once, before any thread: curl_global_init is not thread-safe. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "threads_libcurl: curl_global_init failed\n");
		return 1;
	}
	for (int i = 0; i < THREADS; i++) {
		workers[i].index = i;
		workers[i].base = argv[1];
		if (pthread_create(&tid[i], NULL, work, &workers[i]) != 0) {
			fprintf(stderr, "threads_libcurl: pthread_create failed\n");
			return 1;
		}
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(tid[i], NULL);
	for (int i = 0; i < THREADS; i++) {
		struct worker *w = &workers[i];
		if (w->error[0]) {
			fprintf(stderr, "threads_libcurl: thread %d: %s\n", i, w->error);
			failed = 1;
			continue;
		}
		for (int r = 0; r < REQUESTS; r++)
			printf("thread %d request %d status %ld %s", i, r, w->answers[r].status,
			       w->answers[r].body);
	}
	curl_global_cleanup();
	return failed;
}
