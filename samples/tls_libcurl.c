/* tls_libcurl URL CAFILE: an HTTPS client through libcurl, as an agent calls an LLM API. A
 * GET of URL, then a POST of a small fixed JSON body to URL, on one easy handle (so the
 * POST reuses the GET's TLS connection), each with "Authorization: Bearer $DEMO_API_KEY".
 * The server is verified against CAFILE only (CURLOPT_CAINFO). Prints each body, then its
 * status and the certificate verify result libcurl saw, so a replay that serves other
 * bytes prints others. On a transfer error prints curl's message and its error buffer to
 * stderr and exits 1; exits 2 on bad usage or no DEMO_API_KEY. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>

static char curl_err[CURL_ERROR_SIZE]; /* curl's details of the last failed transfer */

static size_t print_body(char *data, size_t size, size_t n, void *unused)
{
	(void)unused;
	return fwrite(data, size, n, stdout) * size;
}

/* Performs the transfer set up on curl: the body, then "METHOD status STATUS verify N";
 * 0 or -1. */
static int transfer(CURL *curl, const char *method)
{
	long status = 0, verify = -1;
	curl_err[0] = '\0';
	CURLcode rc = curl_easy_perform(curl);
	if (rc != CURLE_OK) {
		fprintf(stderr, "tls_libcurl: %s failed: %s (%d): %s\n", method,
		        curl_easy_strerror(rc), (int)rc, *curl_err ? curl_err : "no details");
		return -1;
	}
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(curl, CURLINFO_SSL_VERIFYRESULT, &verify);
	printf("%s status %ld verify %ld\n", method, status, verify);
	return 0;
}

int main(int argc, char **argv)
{
	static const char json[] = "{\"model\": \"test-model\", \"prompt\": \"hello\"}";
	if (argc != 3) {
		fprintf(stderr, "usage: DEMO_API_KEY=KEY tls_libcurl URL CAFILE\n");
		return 2;
	}
	const char *key = getenv("DEMO_API_KEY");
	if (!key || !*key) {
		fprintf(stderr, "tls_libcurl: DEMO_API_KEY is not set\n");
		return 2;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "tls_libcurl: curl_global_init failed\n");
		return 1;
	}
	CURL *curl = curl_easy_init();
	if (!curl) {
		fprintf(stderr, "tls_libcurl: curl_easy_init failed\n");
		return 1;
	}
	char auth[512];
	if (snprintf(auth, sizeof auth, "Authorization: Bearer %s", key) >= (int)sizeof auth) {
		fprintf(stderr, "tls_libcurl: DEMO_API_KEY is too long\n");
		return 2;
	}
	struct curl_slist *get_headers = curl_slist_append(NULL, auth);
	struct curl_slist *post_headers = curl_slist_append(NULL, auth);
	post_headers = curl_slist_append(post_headers, "Content-Type: application/json");
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_err);
	curl_easy_setopt(curl, CURLOPT_URL, argv[1]);
	curl_easy_setopt(curl, CURLOPT_CAINFO, argv[2]);
	curl_easy_setopt(curl, CURLOPT_CAPATH, NULL); /* CAFILE only, not the system's */
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, get_headers);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, print_body);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
	int failed = transfer(curl, "GET");
	if (!failed) {
		curl_easy_setopt(curl, CURLOPT_HTTPHEADER, post_headers);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, json);
		failed = transfer(curl, "POST");
	}
	curl_slist_free_all(get_headers);
	curl_slist_free_all(post_headers);
	curl_easy_cleanup(curl);
	curl_global_cleanup();
	return failed ? 1 : 0;
}
