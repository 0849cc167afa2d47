/*
 * A 16550A UART model: registers, receive FIFO and interrupt logic. It
 * knows nothing about file descriptors or KVM; its owner supplies the byte
 * sink, the interrupt line and the "receive room again" notification.
 */
#ifndef DEVICES_UART16550_H
#define DEVICES_UART16550_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/iobus.h"

#define UART_RX_FIFO_SIZE 256
#define UART_REG_COUNT 8

struct uart_host_ops {
	void (*transmit)(void *ctx, uint8_t byte);
	void (*set_irq)(void *ctx, int level);
	/* The guest drained the receive FIFO: the owner may feed more input. */
	void (*rx_room)(void *ctx);
};

struct uart16550 {
	uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
	uint8_t thr_interrupt; /* THR-empty interrupt pending */
	uint8_t rx_fifo[UART_RX_FIFO_SIZE];
	unsigned rx_head, rx_count;
	int irq_level;
	const struct uart_host_ops *host;
	void *host_ctx;
};

extern const struct io_ops uart16550_io_ops;

void uart16550_init(struct uart16550 *uart, const struct uart_host_ops *host, void *host_ctx);

/* Queues received bytes; returns how many fit (the rest must be offered again later). */
size_t uart16550_receive(struct uart16550 *uart, const uint8_t *buf, size_t len);

size_t uart16550_rx_room(const struct uart16550 *uart);

struct snap_buf;
struct snap_reader;
/* Snapshot (uart16550_state.c): registers, FIFO, interrupt line; load re-drives the line. */
void uart16550_save(const struct uart16550 *uart, struct snap_buf *b);
bool uart16550_load(struct uart16550 *uart, struct snap_reader *rd);

#endif
