/* Serial console glue between stdin/stdout, the libevent loop and the UART model. */
#include "vmm/console.h"

#include <errno.h>
#include <event2/event.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "vmm/log.h"
#include "vmm/vm.h"

static void console_transmit(void *ctx, uint8_t byte)
{
	struct console *c = ctx;

	boot_timeline_console_byte(&c->vm->timeline, byte);
	while (write(c->out_fd, &byte, 1) < 0 && errno == EINTR)
		;
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
	uart16550_init(&c->uart, &console_uart_ops, c);
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
	console_set_reading(c, true);
	return 0;
}

void console_stop(struct console *c)
{
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
