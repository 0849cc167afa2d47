/* Unix stream sockets by path: the one connect (with retry) and listen every tool and the VMM use.
 */
#ifndef VMM_UNIX_SOCKET_H
#define VMM_UNIX_SOCKET_H

#include <sys/types.h>

/*
 * Connects a SOCK_STREAM | SOCK_CLOEXEC socket (| flags, e.g. SOCK_NONBLOCK)
 * to path. While nobody listens yet (-ENOENT, -ECONNREFUSED) or, with
 * SOCK_NONBLOCK, the listener's backlog is full (-EAGAIN; a blocking
 * connect would wait for room without bound) it tries again every 10 ms
 * for up to retry_ms (0: one attempt). Returns the fd, or
 * -ENAMETOOLONG (path does not fit sun_path) or the -errno of the last try.
 */
int unix_socket_connect(const char *path, int flags, unsigned retry_ms);

/*
 * Binds a SOCK_STREAM | SOCK_CLOEXEC socket (| flags) to path and listens
 * with backlog. A socket file already at path is taken as stale and
 * replaced; any other file is left alone (-EEXIST). Returns the fd, or
 * -ENAMETOOLONG, -EEXIST or the -errno of socket, bind or listen. The
 * caller unlinks path when done.
 */
int unix_socket_listen(const char *path, int backlog, int flags);

/*
 * unix_socket_listen, with the socket file given mode (e.g. 0600) whatever
 * the umask: it is set between bind and listen, so no client can connect
 * while the file still has the umask's mode. -errno of chmod as well.
 */
int unix_socket_listen_mode(const char *path, int backlog, int flags, mode_t mode);

#endif
