/*
 * The serial console: a 16550 UART whose output goes to the VMM's stdout
 * and whose input comes from stdin (raw mode on a terminal, restored on
 * every exit path). Input is never dropped: when the UART's FIFO is full
 * the console stops reading stdin until the guest drains it.
 */
#ifndef VMM_CONSOLE_H
#define VMM_CONSOLE_H

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
};

void console_init(struct console *c, struct vm *vm, int in_fd, int out_fd);

/* Places the UART on the port bus at port, interrupting on ISA irq. */
int console_attach(struct console *c, struct io_bus *bus, uint64_t port, uint32_t irq);

/* Raw mode on a terminal, and starts reading input on the event loop. */
int console_start(struct console *c, struct event_base *base);

/* Main-loop side of "the guest drained the FIFO": feeds pending input, resumes reading. */
void console_service(struct console *c);

/* Stops reading and restores the terminal. Safe to call more than once. */
void console_stop(struct console *c);

#endif
