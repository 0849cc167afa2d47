/* Serial console glue between stdin/stdout, the libevent loop and the UART model. */
#include "vmm/console.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm/log.h"
#include "vmm/vm.h"

/*
 * Runs on a vCPU thread under dev_lock: only queues the byte (or counts it
 * dropped) and, when the loop is not already on it, wakes the loop to write.
 */
static void console_transmit(void *ctx, uint8_t byte)
{
	struct console *c = ctx;
	struct console_out *o = &c->out;
	uint64_t one = 1;
	bool wake;

	boot_timeline_console_byte(&c->vm->timeline, byte);
	pthread_mutex_lock(&o->lock);
	if (o->broken || o->len == sizeof(o->buf)) {
		o->dropped++;
	} else {
		o->buf[(o->head + o->len) % sizeof(o->buf)] = byte;
		o->len++;
	}
	wake = !o->wake_pending && o->len;
	o->wake_pending |= wake;
	pthread_mutex_unlock(&o->lock);
	if (wake && write(c->vm->wake_fd, &one, sizeof(one)) < 0)
		log_debug("console", "wake failed: %s", strerror(errno));
}

/* One write that never blocks; -errno on failure (-EAGAIN: stdout is full). */
static ssize_t out_write(const struct console_out *o, const void *p, size_t len)
{
	ssize_t n =
	    o->is_socket ? send(o->fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL) : write(o->fd, p, len);

	return n < 0 ? -errno : n;
}

static void out_on_writable(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	console_flush(arg);
}

/* stdout is gone (EPIPE, EIO, ...): what is buffered and all that follows is dropped. */
static void out_broken(struct console_out *o, int err)
{
	bool first;

	pthread_mutex_lock(&o->lock);
	first = !o->broken;
	o->broken = true;
	o->dropped += o->len;
	o->len = 0;
	o->wake_pending = false;
	pthread_mutex_unlock(&o->lock);
	if (first)
		log_warn("console", "cannot write the guest's output: %s; dropping it",
			 strerror(-err));
}

void console_flush(struct console *c)
{
	struct console_out *o = &c->out;

	for (;;) {
		size_t head, chunk;
		ssize_t n;

		pthread_mutex_lock(&o->lock);
		if (!o->len)
			o->wake_pending = false;
		head = o->head;
		chunk = o->len < sizeof(o->buf) - head ? o->len : sizeof(o->buf) - head;
		pthread_mutex_unlock(&o->lock);
		if (!chunk)
			return;
		/* Only this thread consumes, and vCPUs append past len: buf[head..] stays put. */
		n = out_write(o, o->buf + head, chunk);
		if (n == -EINTR)
			continue;
		if (n == -EAGAIN) {
			/* Stays wake_pending: the vCPUs need not wake us, stdout will. */
			if (o->ev && event_add(o->ev, NULL) < 0)
				out_broken(o, -EIO);
			return;
		}
		if (n <= 0) {
			out_broken(o, n < 0 ? (int)n : -EIO);
			return;
		}
		pthread_mutex_lock(&o->lock);
		o->head = (o->head + (size_t)n) % sizeof(o->buf);
		o->len -= (size_t)n;
		pthread_mutex_unlock(&o->lock);
	}
}

uint64_t console_dropped(struct console *c)
{
	uint64_t n;

	if (!c)
		return 0;
	pthread_mutex_lock(&c->out.lock);
	n = c->out.dropped;
	pthread_mutex_unlock(&c->out.lock);
	return n;
}

/*
 * A pipe, FIFO or terminal can stall on its reader, so it is written
 * non-blocking: through a file description of our own where /proc lets us
 * reopen it (O_NONBLOCK on the shared one would reach stderr and the shell
 * too), else on the shared one, restored at stop. Sockets take
 * MSG_DONTWAIT; regular files and block devices never wait for a reader.
 */
static void out_open(struct console_out *o, int out_fd)
{
	struct stat st;
	char proc[64];
	int flags;

	o->fd = out_fd;
	o->restore_flags = -1;
	if (fstat(out_fd, &st) < 0 || S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))
		return;
	if (S_ISSOCK(st.st_mode)) {
		o->is_socket = true;
		return;
	}
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", out_fd);
	o->fd = open(proc, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (o->fd >= 0) {
		o->own_fd = true;
		return;
	}
	o->fd = out_fd;
	flags = fcntl(out_fd, F_GETFL);
	if (flags >= 0 && !(flags & O_NONBLOCK) && fcntl(out_fd, F_SETFL, flags | O_NONBLOCK) == 0)
		o->restore_flags = flags;
}

/* Last words at stop: what stdout takes now; the rest counts as dropped, and is reported. */
static void out_close(struct console *c)
{
	struct console_out *o = &c->out;

	if (!c->vm || o->fd < 0) /* never initialised, or closed already */
		return;
	if (o->ev) {
		event_free(o->ev);
		o->ev = NULL;
	}
	console_flush(c);
	pthread_mutex_lock(&o->lock);
	o->dropped += o->len;
	o->len = 0;
	o->broken = true; /* a late byte is counted, never written to a closed fd */
	pthread_mutex_unlock(&o->lock);
	if (o->dropped)
		log_warn("console", "%llu bytes of guest output dropped: stdout was not read",
			 (unsigned long long)o->dropped);
	if (o->restore_flags >= 0)
		fcntl(c->out_fd, F_SETFL, o->restore_flags);
	if (o->own_fd)
		close(o->fd);
	o->fd = -1;
}

static void console_set_irq(void *ctx, int level)
{
	struct console *c = ctx;

	vm_irq_line(c->vm, c->irq, level);
}

static void console_rx_room(void *ctx)
{
	struct console *c = ctx;
	uint64_t one = 1;

	/* Runs on a vCPU thread: hand the refill to the main loop. */
	if (!atomic_exchange(&c->rx_room, true) && write(c->vm->wake_fd, &one, sizeof(one)) < 0)
		log_debug("console", "wake failed: %s", strerror(errno));
}

static const struct uart_host_ops console_uart_ops = {
    .transmit = console_transmit,
    .set_irq = console_set_irq,
    .rx_room = console_rx_room,
};

void console_init(struct console *c, struct vm *vm, int in_fd, int out_fd)
{
	memset(c, 0, sizeof(*c));
	c->vm = vm;
	c->in_fd = in_fd;
	c->out_fd = out_fd;
	pthread_mutex_init(&c->out.lock, NULL);
	out_open(&c->out, out_fd);
	uart16550_init(&c->uart, &console_uart_ops, c);
}

void console_destroy(struct console *c)
{
	if (!c->vm)
		return;
	console_stop(c);
	pthread_mutex_destroy(&c->out.lock);
}

int console_attach(struct console *c, struct io_bus *bus, uint64_t port, uint32_t irq)
{
	c->irq = irq;
	return io_bus_register(bus, port, UART_REG_COUNT, &uart16550_io_ops, &c->uart);
}

/* Handles the Ctrl-A escape; returns false when the byte must not reach the guest. */
static bool console_filter_escape(struct console *c, uint8_t byte)
{
	if (!c->tty)
		return true;
	if (c->escape_pending) {
		c->escape_pending = false;
		if (byte == 'x' || byte == 'X') {
			vm_request_exit(c->vm, VM_EXIT_USER, 0, "Ctrl-A x on the console");
			return false;
		}
		return byte == CONSOLE_ESCAPE;
	}
	if (byte == CONSOLE_ESCAPE) {
		c->escape_pending = true;
		return false;
	}
	return true;
}

/* Offers pending input to the UART; returns true when all of it was taken. */
static bool console_feed(struct console *c)
{
	size_t taken;

	pthread_mutex_lock(&c->vm->dev_lock);
	taken = uart16550_receive(&c->uart, c->pending, c->npending);
	pthread_mutex_unlock(&c->vm->dev_lock);
	memmove(c->pending, c->pending + taken, c->npending - taken);
	c->npending -= (unsigned)taken;
	return c->npending == 0;
}

static void console_set_reading(struct console *c, bool on)
{
	if (on == c->reading || !c->in_ev)
		return;
	if (on) {
		/* epoll refuses regular files and /dev/null: then there is simply no input. */
		if (event_add(c->in_ev, NULL) < 0)
			return;
	} else
		event_del(c->in_ev);
	c->reading = on;
}

static void console_on_input(evutil_socket_t fd, short what, void *arg)
{
	struct console *c = arg;
	uint8_t buf[sizeof(c->pending)];
	ssize_t n = read((int)fd, buf, sizeof(buf) - c->npending);

	(void)what;
	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		/* End of input: the guest keeps running without a keyboard. */
		console_set_reading(c, false);
		return;
	}
	for (ssize_t i = 0; i < n; i++)
		if (console_filter_escape(c, buf[i]))
			c->pending[c->npending++] = buf[i];
	if (!console_feed(c))
		console_set_reading(c, false);
}

void console_service(struct console *c)
{
	if (!atomic_exchange(&c->rx_room, false))
		return;
	if (console_feed(c) && c->in_ev && !c->reading)
		console_set_reading(c, true);
}

static void console_raw_mode(struct console *c)
{
	struct termios raw;

	if (tcgetattr(c->in_fd, &c->saved_termios) < 0)
		return;
	c->tty = true;
	raw = c->saved_termios;
	/* Keys go to the guest untouched; output processing stays on for our own logs. */
	raw.c_iflag &=
	    ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
	raw.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
	raw.c_cc[VMIN] = 1;
	raw.c_cc[VTIME] = 0;
	tcsetattr(c->in_fd, TCSANOW, &raw);
}

int console_start(struct console *c, struct event_base *base)
{
	if (isatty(c->in_fd))
		console_raw_mode(c);
	c->in_ev = event_new(base, c->in_fd, EV_READ | EV_PERSIST, console_on_input, c);
	if (!c->in_ev)
		return -ENOMEM;
	/* Regular files and /dev/null never say EAGAIN, so ev is only added for what can. */
	c->out.ev = event_new(base, c->out.fd, EV_WRITE, out_on_writable, c);
	if (!c->out.ev)
		return -ENOMEM;
	console_set_reading(c, true);
	return 0;
}

void console_stop(struct console *c)
{
	out_close(c);
	if (c->in_ev) {
		console_set_reading(c, false);
		event_free(c->in_ev);
		c->in_ev = NULL;
	}
	if (c->tty) {
		tcsetattr(c->in_fd, TCSANOW, &c->saved_termios);
		c->tty = false;
	}
}
