/*
 * The serial console: a 16550 UART whose output goes to the VMM's stdout
 * and whose input comes from stdin (raw mode on a terminal, restored on
 * every exit path). Input is never dropped: when the UART's FIFO is full
 * the console stops reading stdin until the guest drains it.
 *
 * Output never blocks a vCPU: the UART's bytes go into a bounded buffer
 * (CONSOLE_OUT_SIZE) under the console's own lock, and the loop thread
 * writes it to stdout without blocking (stdout reopened non-blocking, or
 * written with MSG_DONTWAIT when it is a socket). When the reader stalls
 * and the buffer is full, further bytes are dropped and counted; the count
 * is in `status` and reported when the console stops.
 */
#ifndef VMM_CONSOLE_H
#define VMM_CONSOLE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <termios.h>

#include "devices/uart16550.h"

struct vm;
struct io_bus;
struct event_base;
struct event;

#define CONSOLE_ESCAPE 0x01 /* Ctrl-A */

#define CONSOLE_OUT_SIZE (256u * 1024u)

/* Guest output on its way to stdout. */
struct console_out {
	pthread_mutex_t lock; /* guards head, len, dropped, wake_pending, broken */
	size_t head, len;     /* the bytes not yet written: a ring in buf */
	uint64_t dropped;     /* bytes that found the buffer full (or stdout gone) */
	bool wake_pending;    /* the loop was asked to write and has not emptied buf */
	bool broken;	      /* stdout failed for good: every byte is dropped */
	int fd;		      /* what is written: out_fd, or its non-blocking reopening */
	bool own_fd;	      /* fd is ours to close */
	bool is_socket;	      /* written with send(MSG_DONTWAIT) */
	int restore_flags;    /* out_fd's file status flags to put back, or -1 */
	struct event *ev;     /* waits for stdout to take more; NULL before start */
	uint8_t buf[CONSOLE_OUT_SIZE];
};

struct console {
	struct vm *vm;
	struct uart16550 uart;
	uint32_t irq;
	int in_fd, out_fd;
	bool tty;
	struct termios saved_termios;
	struct event *in_ev;
	bool reading;	     /* in_ev is active */
	atomic_bool rx_room; /* set on a vCPU thread when the guest drained the FIFO */
	bool escape_pending;
	uint8_t pending[256]; /* read from stdin but not yet taken by the UART */
	unsigned npending;
	struct console_out out;
};

/*
 * Prepares c over in_fd and out_fd (not owned). A pipe, FIFO or terminal
 * on out_fd is reopened non-blocking, so that the shared file description
 * (often stderr's too) keeps its flags; when that fails, O_NONBLOCK is set
 * on out_fd itself and put back by console_stop.
 */
void console_init(struct console *c, struct vm *vm, int in_fd, int out_fd);

/* Places the UART on the port bus at port, interrupting on ISA irq. */
int console_attach(struct console *c, struct io_bus *bus, uint64_t port, uint32_t irq);

/* Raw mode on a terminal, and starts reading input on the event loop. */
int console_start(struct console *c, struct event_base *base);

/* Main-loop side of "the guest drained the FIFO": feeds pending input, resumes reading. */
void console_service(struct console *c);

/*
 * Loop side of "the guest wrote": writes what stdout takes now without
 * blocking; when it takes no more, waits for it on the loop (after
 * console_start). Called from the wake handler.
 */
void console_flush(struct console *c);

/* Guest output bytes dropped so far because stdout did not keep up; 0 for NULL. */
uint64_t console_dropped(struct console *c);

/*
 * Stops reading, writes what stdout takes without blocking (the rest is
 * counted as dropped), logs the drop count if any, and restores the
 * terminal and stdout's flags. Call after the vCPUs stopped; safe to call
 * more than once. console_destroy then frees what console_init took.
 */
void console_stop(struct console *c);
void console_destroy(struct console *c);

#endif
