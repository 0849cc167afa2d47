/* exitcode: ends the test guest with a chosen VMM exit status via port 0xf4. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <unistd.h>

/* The VMM turns a byte written to this port into its own exit status. */
#define EXIT_PORT 0xf4

/* How long to wait for the VMM to stop us before reporting that it did not. */
#define STOP_GRACE_SECONDS 10

/* Parses a status 0..255; returns -1 when the text is not one. */
static int parse_status(const char *text)
{
	char *end = NULL;
	long value;

	errno = 0;
	value = strtol(text, &end, 0);
	if (errno || end == text || *end != '\0' || value < 0 || value > 255)
		return -1;
	return (int)value;
}

/*
 * Writes the byte through /dev/port: the kernel executes the `out`, which
 * avoids depending on the user-mode I/O permission bitmap (ioperm), which
 * faults under some nested setups (QEMU TCG's SVM as L1). Returns 0 or -errno.
 */
static int write_dev_port(unsigned char value)
{
	int fd = open("/dev/port", O_WRONLY | O_CLOEXEC);
	int err = 0;

	if (fd < 0)
		return -errno;
	if (pwrite(fd, &value, 1, EXIT_PORT) != 1)
		err = errno ? -errno : -EIO;
	close(fd);
	return err;
}

/* Fallback without /dev/port: the `out` from user mode. Returns -errno. */
static int write_ioperm(unsigned char value)
{
	if (ioperm(EXIT_PORT, 1, 1) != 0)
		return -errno;
	outb(value, EXIT_PORT);
	return 0;
}

int main(int argc, char **argv)
{
	int status, err;

	if (argc != 2 || (status = parse_status(argv[1])) < 0) {
		fprintf(stderr, "usage: %s STATUS (0..255)\n", argv[0]);
		return 2;
	}
	/* Announced first so a log shows which status the guest asked for. */
	printf("VMM-GUEST: exitcode %d\n", status);
	fflush(stdout);
	err = write_dev_port((unsigned char)status);
	if (err == -ENOENT)
		err = write_ioperm((unsigned char)status);
	if (err) {
		fprintf(stderr, "exitcode: cannot write port 0x%x: %s\n", EXIT_PORT,
			strerror(-err));
		return 1;
	}
	sleep(STOP_GRACE_SECONDS);
	fprintf(stderr, "exitcode: VMM ignored the write to port 0x%x\n", EXIT_PORT);
	return 1;
}
