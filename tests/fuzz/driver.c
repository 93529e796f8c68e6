/* driver.c: a main() for the fuzz targets without libFuzzer: feeds every file named
 * on the command line, or every file in a named directory, to LLVMFuzzerTestOneInput
 * once, so a corpus replays under gcc + ASan. */
#include "fuzz.h"

#include <dirent.h>
#include <sys/stat.h>

static int
run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		perror(path);
		return 1;
	}
	size_t cap = 4096, n = 0, k;
	uint8_t *buf = malloc(cap);
	if (buf == NULL)
		abort();
	while ((k = fread(buf + n, 1, cap - n, f)) > 0) {
		n += k;
		if (n == cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			if (buf == NULL)
				abort();
		}
	}
	fclose(f);
	/* an exact-size copy, so reads past the end are caught */
	uint8_t *exact = malloc(n ? n : 1);
	if (exact == NULL)
		abort();
	if (n)
		memcpy(exact, buf, n);
	free(buf);
	LLVMFuzzerTestOneInput(exact, n);
	free(exact);
	return 0;
}

int
main(int argc, char **argv)
{
	int bad = 0, runs = 0;
	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) != 0) {
			perror(argv[i]);
			bad++;
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			bad += run_file(argv[i]);
			runs++;
			continue;
		}
		DIR *d = opendir(argv[i]);
		if (d == NULL) {
			perror(argv[i]);
			bad++;
			continue;
		}
		struct dirent *e;
		while ((e = readdir(d)) != NULL) {
			char path[4096];
			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", argv[i], e->d_name);
			if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
				bad += run_file(path);
				runs++;
			}
		}
		closedir(d);
	}
	printf("%s: %d inputs, %d unreadable\n", argv[0], runs, bad);
	return bad != 0;
}
