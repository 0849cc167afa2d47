/* bench-probe: runs one monitor, timing its guest's init marker and exit and sampling its memory.
 *   bench-probe [-i] OUTPUT_LOG -- COMMAND [ARG...]
 * Reports the times (seconds from spawn) of the first output byte, the init
 * marker and the exit. The monitor's stdout goes to OUTPUT_LOG, flushed as it comes so that a
 * caller can watch it; its stdin is /dev/null, or with -i the probe's own.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The line the test guest's /init prints first (guest/init). */
#define INIT_MARKER "VMM-GUEST: init reached"
/* How often /proc/PID/status is sampled while the monitor runs. */
#define SAMPLE_INTERVAL_MS 2
#define MAX_TIDS 256

/* Everything measured about one monitor run. */
struct probe {
	pid_t pid;
	double start_s;
	double first_out_s; /* < 0 until the monitor wrote anything */
	double init_s;	    /* < 0 until the marker was seen */
	double exit_s;
	long peak_private_kb; /* max over samples of VmRSS - RssShmem */
	long peak_rss_kb;
	int status;
	pid_t tids[MAX_TIDS];
	int n_tids;
	char line[512]; /* partial output line, to find the marker across reads */
	size_t line_len;
	FILE *log;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Reads "Key:   N kB" from /proc/PID/status text; -1 when absent. */
static long status_field_kb(const char *text, const char *key)
{
	const char *at = strstr(text, key);

	return at ? strtol(at + strlen(key), NULL, 10) : -1;
}

static void sample_memory(struct probe *p)
{
	char path[64], text[4096];
	ssize_t len;
	long rss, shmem;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)p->pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	len = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (len <= 0)
		return;
	text[len] = '\0';
	rss = status_field_kb(text, "\nVmRSS:");
	shmem = status_field_kb(text, "\nRssShmem:");
	if (rss < 0 || shmem < 0)
		return; /* a zombie has no memory lines */
	if (rss > p->peak_rss_kb)
		p->peak_rss_kb = rss;
	if (rss - shmem > p->peak_private_kb)
		p->peak_private_kb = rss - shmem;
}

/* Remembers the monitor's thread ids, to attribute trace events to it. */
static void sample_threads(struct probe *p)
{
	char path[64];
	struct dirent *entry;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)p->pid);
	dir = opendir(path);
	if (!dir)
		return;
	while ((entry = readdir(dir)) != NULL) {
		pid_t tid = (pid_t)atoi(entry->d_name);
		bool known = tid <= 0;

		for (int i = 0; i < p->n_tids && !known; i++)
			known = p->tids[i] == tid;
		if (!known && p->n_tids < MAX_TIDS)
			p->tids[p->n_tids++] = tid;
	}
	closedir(dir);
}

/* Feeds monitor output to the log and looks for the init marker. */
static void consume_output(struct probe *p, const char *buf, size_t len)
{
	if (p->first_out_s < 0 && len)
		p->first_out_s = now_s() - p->start_s;
	fwrite(buf, 1, len, p->log);
	fflush(p->log); /* the caller may be waiting for a line */
	for (size_t i = 0; i < len; i++) {
		if (buf[i] == '\n' || p->line_len == sizeof(p->line) - 1) {
			p->line[p->line_len] = '\0';
			if (p->init_s < 0 && strstr(p->line, INIT_MARKER))
				p->init_s = now_s() - p->start_s;
			p->line_len = 0;
			continue;
		}
		p->line[p->line_len++] = buf[i];
	}
}

static pid_t spawn(char **argv, bool keep_stdin, int *out_fd)
{
	int fds[2];
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) != 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		int null_fd = keep_stdin ? -1 : open("/dev/null", O_RDONLY);
		if (null_fd >= 0)
			dup2(null_fd, STDIN_FILENO);
		execvp(argv[0], argv);
		fprintf(stderr, "bench-probe: exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(fds[1]);
	*out_fd = fds[0];
	return pid;
}

/* Samples until the monitor exits; returns its wait status. */
static int watch(struct probe *p, int out_fd)
{
	char buf[4096];
	int wstatus = 0;
	bool open_pipe = true;

	for (;;) {
		struct pollfd pfd = {.fd = out_fd, .events = POLLIN};

		sample_memory(p);
		sample_threads(p);
		if (open_pipe && poll(&pfd, 1, SAMPLE_INTERVAL_MS) > 0) {
			ssize_t len = read(out_fd, buf, sizeof(buf));
			if (len > 0)
				consume_output(p, buf, (size_t)len);
			else if (len == 0)
				open_pipe = false;
		} else if (!open_pipe) {
			usleep(SAMPLE_INTERVAL_MS * 1000);
		}
		if (waitpid(p->pid, &wstatus, WNOHANG) == p->pid)
			break;
	}
	p->exit_s = now_s() - p->start_s;
	while (open_pipe) { /* drain what the monitor wrote last */
		ssize_t len = read(out_fd, buf, sizeof(buf));
		if (len <= 0)
			break;
		consume_output(p, buf, (size_t)len);
	}
	return wstatus;
}

static void report(const struct probe *p)
{
	printf("first_out_s=%.3f init_s=%.3f exit_s=%.3f peak_private_kb=%ld peak_rss_kb=%ld "
	       "status=%d tids=",
	       p->first_out_s, p->init_s, p->exit_s, p->peak_private_kb, p->peak_rss_kb, p->status);
	for (int i = 0; i < p->n_tids; i++)
		printf("%s%d", i ? "," : "", (int)p->tids[i]);
	printf("\n");
}

int main(int argc, char **argv)
{
	struct probe p = {.first_out_s = -1, .init_s = -1};
	bool keep_stdin = argc > 1 && strcmp(argv[1], "-i") == 0;
	int out_fd, wstatus;

	argc -= keep_stdin;
	argv += keep_stdin;
	if (argc < 4 || strcmp(argv[2], "--") != 0) {
		fprintf(stderr, "usage: bench-probe [-i] OUTPUT_LOG -- COMMAND [ARG...]\n");
		return 2;
	}
	p.log = fopen(argv[1], "w");
	if (!p.log) {
		fprintf(stderr, "bench-probe: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	p.start_s = now_s();
	p.pid = spawn(&argv[3], keep_stdin, &out_fd);
	if (p.pid < 0) {
		fprintf(stderr, "bench-probe: spawn: %s\n", strerror(errno));
		return 1;
	}
	wstatus = watch(&p, out_fd);
	p.status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
	close(out_fd);
	fclose(p.log);
	report(&p);
	return 0;
}
