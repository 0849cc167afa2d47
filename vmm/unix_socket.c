/* Unix stream sockets by path: connect with retry, listen replacing only a stale socket file. */
#include "vmm/unix_socket.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define RETRY_STEP_MS 10

static int fill_addr(struct sockaddr_un *addr, const char *path)
{
	memset(addr, 0, sizeof(*addr));
	addr->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(addr->sun_path))
		return -ENAMETOOLONG;
	strcpy(addr->sun_path, path);
	return 0;
}

static int connect_once(const struct sockaddr_un *addr, int flags)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | flags, 0);

	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

int unix_socket_connect(const char *path, int flags, unsigned retry_ms)
{
	const struct timespec pause = {.tv_nsec = RETRY_STEP_MS * 1000 * 1000};
	struct sockaddr_un addr;
	unsigned waited = 0;
	int fd = fill_addr(&addr, path);

	if (fd < 0)
		return fd;
	for (;;) {
		fd = connect_once(&addr, flags);
		/*
		 * A back-end still starting has not created or bound its socket
		 * yet; one that is busy (a non-blocking connect: EAGAIN) has its
		 * listen backlog full. Both may pass, within retry_ms.
		 */
		if ((fd != -ENOENT && fd != -ECONNREFUSED && fd != -EAGAIN) || waited >= retry_ms)
			return fd;
		nanosleep(&pause, NULL);
		waited += RETRY_STEP_MS;
	}
}

/* Removes a socket file left by an earlier run; anything else at path is not ours. */
static int remove_stale(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return 0; /* nothing there (or bind will say why not) */
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	unlink(path);
	return 0;
}

/* Binds and listens; with mode >= 0 the file gets it before anyone can connect. */
static int listen_at(const char *path, int backlog, int flags, int mode)
{
	struct sockaddr_un addr;
	int fd, err = fill_addr(&addr, path);

	if (!err)
		err = remove_stale(path);
	if (err)
		return err;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | flags, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		goto fail;
	/* Before listen a connect is refused, so the umask's mode is never usable. */
	if ((mode >= 0 && chmod(path, (mode_t)mode) < 0) || listen(fd, backlog) < 0) {
		err = -errno;
		unlink(path);
		close(fd);
		return err;
	}
	return fd;
fail:
	err = -errno;
	close(fd);
	return err;
}

int unix_socket_listen(const char *path, int backlog, int flags)
{
	return listen_at(path, backlog, flags, -1);
}

int unix_socket_listen_mode(const char *path, int backlog, int flags, mode_t mode)
{
	return listen_at(path, backlog, flags, (int)(mode & 07777));
}
