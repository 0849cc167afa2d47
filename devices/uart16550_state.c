/* Snapshot of the 16550 UART: its registers, receive FIFO and interrupt state. */
#include "devices/uart16550.h"

#include <string.h>

#include "vmm/snapfmt.h"

void uart16550_save(const struct uart16550 *uart, struct snap_buf *b)
{
	const uint8_t regs[] = {uart->ier, uart->lcr, uart->mcr, uart->scr,
				uart->dll, uart->dlm, uart->fcr, uart->thr_interrupt};

	snap_put_blob(b, regs, sizeof(regs));
	snap_put_blob(b, uart->rx_fifo, sizeof(uart->rx_fifo));
	snap_put_u32(b, uart->rx_head);
	snap_put_u32(b, uart->rx_count);
	snap_put_u32(b, (uint32_t)uart->irq_level);
}

bool uart16550_load(struct uart16550 *uart, struct snap_reader *rd)
{
	uint8_t regs[8];
	uint32_t head = 0, count = 0, level = 0;

	snap_get_blob(rd, "uart registers", regs, sizeof(regs));
	snap_get_blob(rd, "uart rx fifo", uart->rx_fifo, sizeof(uart->rx_fifo));
	snap_get_u32(rd, "uart rx head", &head);
	if (snap_get_u32(rd, "uart rx count", &count) &&
	    (head >= UART_RX_FIFO_SIZE || count > UART_RX_FIFO_SIZE))
		return snap_fail(rd, "uart rx fifo", "head %u count %u out of range", head, count);
	if (!snap_get_u32(rd, "uart irq level", &level))
		return false;
	uart->ier = regs[0], uart->lcr = regs[1], uart->mcr = regs[2], uart->scr = regs[3];
	uart->dll = regs[4], uart->dlm = regs[5], uart->fcr = regs[6];
	uart->thr_interrupt = regs[7];
	uart->rx_head = head;
	uart->rx_count = count;
	uart->irq_level = level != 0;
	/* The interrupt controller's restored state expects the line where it was. */
	if (uart->host && uart->host->set_irq)
		uart->host->set_irq(uart->host_ctx, uart->irq_level);
	return true;
}
