/* 16550A UART register model with a receive FIFO and level-style interrupt output. */
#include "devices/uart16550.h"

#include <string.h>

enum {
	UART_RBR_THR_DLL = 0,
	UART_IER_DLM = 1,
	UART_IIR_FCR = 2,
	UART_LCR = 3,
	UART_MCR = 4,
	UART_LSR = 5,
	UART_MSR = 6,
	UART_SCR = 7,
};

#define IER_RX_DATA 0x01
#define IER_THR_EMPTY 0x02
#define IER_MASK 0x0f
#define IIR_NONE 0x01
#define IIR_THR_EMPTY 0x02
#define IIR_RX_DATA 0x04
#define IIR_FIFO_ENABLED 0xc0
#define FCR_FIFO_ENABLE 0x01
#define FCR_CLEAR_RX 0x02
#define LCR_DLAB 0x80
#define LSR_DATA_READY 0x01
#define LSR_THR_EMPTY 0x20
#define LSR_TX_EMPTY 0x40
#define MCR_LOOPBACK 0x10
#define MCR_MASK 0x1f
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_DCD 0x80

void uart16550_init(struct uart16550 *uart, const struct uart_host_ops *host, void *host_ctx)
{
	memset(uart, 0, sizeof(*uart));
	uart->host = host;
	uart->host_ctx = host_ctx;
	uart->mcr = 0x08; /* OUT2: PCs gate the interrupt line with it */
}

static uint8_t uart_iir(const struct uart16550 *uart)
{
	uint8_t fifo = (uart->fcr & FCR_FIFO_ENABLE) ? IIR_FIFO_ENABLED : 0;

	if ((uart->ier & IER_RX_DATA) && uart->rx_count)
		return fifo | IIR_RX_DATA;
	if ((uart->ier & IER_THR_EMPTY) && uart->thr_interrupt)
		return fifo | IIR_THR_EMPTY;
	return fifo | IIR_NONE;
}

static void uart_update_irq(struct uart16550 *uart)
{
	int level = !(uart_iir(uart) & IIR_NONE);

	if (level != uart->irq_level) {
		uart->irq_level = level;
		uart->host->set_irq(uart->host_ctx, level);
	}
}

size_t uart16550_rx_room(const struct uart16550 *uart)
{
	return UART_RX_FIFO_SIZE - uart->rx_count;
}

size_t uart16550_receive(struct uart16550 *uart, const uint8_t *buf, size_t len)
{
	size_t n = 0;

	while (n < len && uart->rx_count < UART_RX_FIFO_SIZE) {
		unsigned tail = (uart->rx_head + uart->rx_count) % UART_RX_FIFO_SIZE;
		uart->rx_fifo[tail] = buf[n++];
		uart->rx_count++;
	}
	uart_update_irq(uart);
	return n;
}

static uint8_t uart_pop_rx(struct uart16550 *uart)
{
	uint8_t byte;

	if (!uart->rx_count)
		return 0;
	byte = uart->rx_fifo[uart->rx_head];
	uart->rx_head = (uart->rx_head + 1) % UART_RX_FIFO_SIZE;
	uart->rx_count--;
	if (!uart->rx_count && uart->host->rx_room)
		uart->host->rx_room(uart->host_ctx);
	return byte;
}

static uint8_t uart_msr(const struct uart16550 *uart)
{
	/* In loopback the modem inputs mirror the outputs: DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD.
	 */
	if (uart->mcr & MCR_LOOPBACK)
		return (uint8_t)(((uart->mcr & 0x01) << 5) | ((uart->mcr & 0x02) << 3) |
				 ((uart->mcr & 0x04) << 4) | ((uart->mcr & 0x08) << 4));
	return MSR_DCD | MSR_DSR | MSR_CTS;
}

static uint8_t uart_read_reg(struct uart16550 *uart, unsigned reg)
{
	uint8_t iir;

	switch (reg) {
	case UART_RBR_THR_DLL:
		return (uart->lcr & LCR_DLAB) ? uart->dll : uart_pop_rx(uart);
	case UART_IER_DLM:
		return (uart->lcr & LCR_DLAB) ? uart->dlm : uart->ier;
	case UART_IIR_FCR:
		iir = uart_iir(uart);
		/* Reading IIR acknowledges a THR-empty interrupt. */
		if ((iir & 0x0f) == IIR_THR_EMPTY)
			uart->thr_interrupt = 0;
		return iir;
	case UART_LCR:
		return uart->lcr;
	case UART_MCR:
		return uart->mcr;
	case UART_LSR:
		return (uart->rx_count ? LSR_DATA_READY : 0) | LSR_THR_EMPTY | LSR_TX_EMPTY;
	case UART_MSR:
		return uart_msr(uart);
	default:
		return uart->scr;
	}
}

static void uart_transmit(struct uart16550 *uart, uint8_t byte)
{
	/* In loopback the byte comes back as input instead of leaving. */
	if (uart->mcr & MCR_LOOPBACK)
		uart16550_receive(uart, &byte, 1);
	else
		uart->host->transmit(uart->host_ctx, byte);
	uart->thr_interrupt = 1; /* the transmitter is infinitely fast */
}

static void uart_write_reg(struct uart16550 *uart, unsigned reg, uint8_t value)
{
	switch (reg) {
	case UART_RBR_THR_DLL:
		if (uart->lcr & LCR_DLAB)
			uart->dll = value;
		else
			uart_transmit(uart, value);
		break;
	case UART_IER_DLM:
		if (uart->lcr & LCR_DLAB) {
			uart->dlm = value;
			break;
		}
		/* Enabling the THR-empty interrupt with THR empty raises it at once. */
		if ((value & IER_THR_EMPTY) && !(uart->ier & IER_THR_EMPTY))
			uart->thr_interrupt = 1;
		uart->ier = value & IER_MASK;
		break;
	case UART_IIR_FCR:
		uart->fcr = value & 0xc9;
		if (value & FCR_CLEAR_RX)
			uart->rx_count = 0;
		break;
	case UART_LCR:
		uart->lcr = value;
		break;
	case UART_MCR:
		uart->mcr = value & MCR_MASK;
		break;
	case UART_SCR:
		uart->scr = value;
		break;
	default: /* LSR and MSR are read-only */
		break;
	}
}

static void uart_io_read(void *opaque, uint64_t offset, void *data, unsigned len)
{
	struct uart16550 *uart = opaque;

	memset(data, 0, len);
	*(uint8_t *)data = uart_read_reg(uart, (unsigned)offset & 7);
	uart_update_irq(uart);
}

static void uart_io_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	struct uart16550 *uart = opaque;

	(void)len;
	uart_write_reg(uart, (unsigned)offset & 7, *(const uint8_t *)data);
	uart_update_irq(uart);
}

const struct io_ops uart16550_io_ops = {
    .read = uart_io_read,
    .write = uart_io_write,
};
