/* files_stdio DIR: reads DIR/input.txt through stdio every way (fgets, getline, fscanf,
 * fread), writes DIR/stdio_out.txt with fwrite and fprintf, reads that back through freopen
 * and fdopen, and prints all it read, so a replay that serves other bytes prints others.
 * Leaves DIR/stdio_out.txt behind. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *dir;

/* DIR/NAME; borrowed until the next call. */
static const char *in_dir(const char *name)
{
	static char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	return path;
}

static void opened(const char *label, FILE *f)
{
	int e = errno;
	if (f)
		printf("%s: ok\n", label);
	else
		printf("%s: %s (%s)\n", label, strerrorname_np(e), strerror(e));
}

int main(int argc, char **argv)
{
	char line[256], rest[4096], word[64];
	if (argc != 2) {
		fprintf(stderr, "usage: files_stdio DIR\n");
		return 2;
	}
	dir = argv[1];

	FILE *in = fopen(in_dir("input.txt"), "r");
	opened("fopen(input.txt, r)", in);
	if (!in)
		return 1;
	printf("fgets: %s", fgets(line, sizeof line, in) ? line : "(null)\n");
	char *got = NULL;
	size_t cap = 0;
	ssize_t n = getline(&got, &cap, in);
	printf("getline = %zd: %s", n, n > 0 ? got : "\n");
	int num = 0;
	word[0] = '\0';
	int r = fscanf(in, "%d %63s", &num, word);
	printf("fscanf = %d: %d %s\n", r, num, word);
	printf("ftell = %ld\n", ftell(in));
	size_t len = fread(rest, 1, sizeof rest, in);
	printf("fread = %zu: \"%.*s\" eof %d\n", len, (int)len, rest, feof(in));
	rewind(in);
	printf("fgets after rewind: %s", fgets(line, sizeof line, in) ? line : "(null)\n");
	printf("fclose = %d\n", fclose(in));
	free(got);

	const char *out_path = in_dir("stdio_out.txt");
	FILE *out = fopen(out_path, "w");
	opened("fopen(stdio_out.txt, w)", out);
	if (!out)
		return 1;
	printf("fwrite = %zu\n", fwrite("written by fwrite\n", 1, 18, out));
	printf("fprintf = %d\n",
	       fprintf(out, "fprintf: %d %s, %zu bytes after it\n", num, word, len));
	out = freopen(out_path, "r", out);
	opened("freopen(stdio_out.txt, r)", out);
	if (!out)
		return 1;
	while (fgets(line, sizeof line, out))
		printf("  freopen read: %s", line);
	printf("fclose = %d\n", fclose(out));

	int fd = open(out_path, O_RDWR | O_APPEND);
	FILE *both = fdopen(fd, "a+");
	opened("fdopen(open(stdio_out.txt), a+)", both);
	if (!both)
		return 1;
	printf("fprintf = %d\n", fprintf(both, "appended through fdopen\n"));
	printf("fflush = %d\n", fflush(both));
	rewind(both);
	len = fread(rest, 1, sizeof rest, both);
	printf("fread = %zu: \"%.*s\"\n", len, (int)len, rest);
	printf("fclose = %d\n", fclose(both));

	opened("fopen(missing, r)", fopen(in_dir("missing"), "r"));
	opened("fopen(DIR, w)", fopen(dir, "w"));
	return 0;
}
