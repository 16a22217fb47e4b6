/*
 * fuzz_replay.c - main() for the fuzz harnesses when they are not libFuzzer
 * binaries (gcc, or SIGNET_FUZZ off): each file named on the command line is
 * run once through LLVMFuzzerTestOneInput, so the seed corpora replay as
 * ctests with any compiler.  Exit status 1 when a file cannot be read or none
 * was given.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		uint8_t *buf = NULL;
		long len;
		if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 ||
		    fseek(f, 0, SEEK_SET) != 0 || (buf = malloc((size_t)len + 1)) == NULL ||
		    fread(buf, 1, (size_t)len, f) != (size_t)len) {
			fprintf(stderr, "%s: cannot read\n", argv[i]);
			free(buf);
			if (f != NULL)
				fclose(f);
			return 1;
		}
		fclose(f);
		LLVMFuzzerTestOneInput(buf, (size_t)len);
		free(buf);
	}
	printf("replayed %d inputs\n", argc - 1);
	return argc > 1 ? 0 : 1;
}
