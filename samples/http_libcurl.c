/* http_libcurl URL: a GET of URL, then a POST of a small fixed JSON body to URL, through
 * libcurl on one easy handle (so the second request reuses the first's connection). Prints
 * each status and body, so a replay that serves other bytes prints others. Exits 1 with
 * curl's message on any transfer error. */
#include <curl/curl.h>
#include <stdio.h>

static char curl_err[CURL_ERROR_SIZE]; /* curl's message for the last failed transfer */

static size_t print_body(char *data, size_t size, size_t n, void *unused)
{
	(void)unused;
	return fwrite(data, size, n, stdout) * size;
}

/* Performs the transfer set up on curl: the body, then "METHOD status STATUS"; 0 or -1. */
static int transfer(CURL *curl, const char *method)
{
	long status = 0;
	curl_err[0] = '\0';
	CURLcode rc = curl_easy_perform(curl);
	if (rc != CURLE_OK) {
		fprintf(stderr, "http_libcurl: %s failed: %s\n", method,
		        *curl_err ? curl_err : curl_easy_strerror(rc));
		return -1;
	}
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	printf("%s status %ld\n", method, status);
	return 0;
}

int main(int argc, char **argv)
{
	static const char json[] = "{\"model\": \"test-model\", \"prompt\": \"hello\"}";
	if (argc != 2) {
		fprintf(stderr, "usage: http_libcurl URL\n");
		return 2;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "http_libcurl: curl_global_init failed\n");
		return 1;
	}
	CURL *curl = curl_easy_init();
	if (!curl) {
		fprintf(stderr, "http_libcurl: curl_easy_init failed\n");
		return 1;
	}
	struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_err);
	curl_easy_setopt(curl, CURLOPT_URL, argv[1]);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, print_body);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
	int failed = transfer(curl, "GET");
	if (!failed) {
		curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, json);
		failed = transfer(curl, "POST");
	}
	curl_slist_free_all(headers);
	curl_easy_cleanup(curl);
	curl_global_cleanup();
	return failed ? 1 : 0;
}
