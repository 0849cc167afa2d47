/* The 16550 model: transmit, receive FIFO, interrupt identification and line level. */
#include <string.h>

#include "devices/uart16550.h"
#include "tests/unit/check_main.h"

struct fake_host {
	uint8_t out[64];
	unsigned nout;
	int irq;
	unsigned irq_changes;
	unsigned rx_room_calls;
};

static void fake_transmit(void *ctx, uint8_t byte)
{
	struct fake_host *h = ctx;
	h->out[h->nout++] = byte;
}

static void fake_irq(void *ctx, int level)
{
	struct fake_host *h = ctx;
	h->irq = level;
	h->irq_changes++;
}

static void fake_rx_room(void *ctx)
{
	((struct fake_host *)ctx)->rx_room_calls++;
}

static const struct uart_host_ops fake_ops = {fake_transmit, fake_irq, fake_rx_room};

static uint8_t rd(struct uart16550 *u, unsigned reg)
{
	uint8_t v = 0;
	uart16550_io_ops.read(u, reg, &v, 1);
	return v;
}

static void wr(struct uart16550 *u, unsigned reg, uint8_t v)
{
	uart16550_io_ops.write(u, reg, &v, 1);
}

START_TEST(test_transmit)
{
	struct fake_host h = {0};
	struct uart16550 u;

	uart16550_init(&u, &fake_ops, &h);
	ck_assert_uint_eq(rd(&u, 5) & 0x60, 0x60); /* THR and transmitter empty */
	wr(&u, 0, 'h');
	wr(&u, 0, 'i');
	ck_assert_uint_eq(h.nout, 2);
	ck_assert_mem_eq(h.out, "hi", 2);
	ck_assert_int_eq(h.irq, 0); /* no interrupt enabled */
}
END_TEST

START_TEST(test_receive_and_irq)
{
	struct fake_host h = {0};
	struct uart16550 u;

	uart16550_init(&u, &fake_ops, &h);
	wr(&u, 1, 0x01); /* receive-data interrupt */
	ck_assert_uint_eq(rd(&u, 2) & 0x0f, 0x01);
	ck_assert_uint_eq(uart16550_receive(&u, (const uint8_t *)"ab", 2), 2);
	ck_assert_int_eq(h.irq, 1);
	ck_assert_uint_eq(rd(&u, 2) & 0x0f, 0x04);
	ck_assert_uint_eq(rd(&u, 5) & 1, 1);
	ck_assert_uint_eq(rd(&u, 0), 'a');
	ck_assert_uint_eq(rd(&u, 0), 'b');
	ck_assert_uint_eq(rd(&u, 5) & 1, 0);
	ck_assert_int_eq(h.irq, 0);
	ck_assert_uint_eq(h.rx_room_calls, 1);
}
END_TEST

START_TEST(test_fifo_full_keeps_the_rest)
{
	struct fake_host h = {0};
	struct uart16550 u;
	uint8_t big[UART_RX_FIFO_SIZE + 10];

	memset(big, 'x', sizeof(big));
	uart16550_init(&u, &fake_ops, &h);
	ck_assert_uint_eq(uart16550_receive(&u, big, sizeof(big)), UART_RX_FIFO_SIZE);
	ck_assert_uint_eq(uart16550_rx_room(&u), 0);
	rd(&u, 0);
	ck_assert_uint_eq(uart16550_rx_room(&u), 1);
}
END_TEST

START_TEST(test_thr_empty_interrupt)
{
	struct fake_host h = {0};
	struct uart16550 u;

	uart16550_init(&u, &fake_ops, &h);
	wr(&u, 1, 0x02);
	ck_assert_int_eq(h.irq, 1);
	ck_assert_uint_eq(rd(&u, 2) & 0x0f, 0x02); /* reading IIR acknowledges it */
	ck_assert_int_eq(h.irq, 0);
	wr(&u, 0, 'x');
	ck_assert_int_eq(h.irq, 1);
}
END_TEST

START_TEST(test_divisor_latch_and_scratch)
{
	struct fake_host h = {0};
	struct uart16550 u;

	uart16550_init(&u, &fake_ops, &h);
	wr(&u, 3, 0x83);
	wr(&u, 0, 0x01);
	wr(&u, 1, 0x00);
	ck_assert_uint_eq(rd(&u, 0), 0x01);
	wr(&u, 3, 0x03);
	ck_assert_uint_eq(h.nout, 0); /* divisor writes are not output */
	wr(&u, 7, 0x5a);
	ck_assert_uint_eq(rd(&u, 7), 0x5a);
	wr(&u, 1, 0xff);
	ck_assert_uint_eq(rd(&u, 1), 0x0f); /* only four interrupt-enable bits exist */
	wr(&u, 2, 0x01);
	ck_assert_uint_eq(rd(&u, 2) & 0xc0, 0xc0); /* FIFOs enabled reads as 16550A */
}
END_TEST

START_TEST(test_loopback)
{
	struct fake_host h = {0};
	struct uart16550 u;

	uart16550_init(&u, &fake_ops, &h);
	wr(&u, 4, 0x10 | 0x03);
	ck_assert_uint_eq(rd(&u, 6) & 0x30, 0x30);
	wr(&u, 0, 'z');
	ck_assert_uint_eq(h.nout, 0);
	ck_assert_uint_eq(rd(&u, 0), 'z');
}
END_TEST

static Suite *uart_suite(void)
{
	Suite *s = suite_create("uart16550");
	TCase *tc = tcase_create("registers");

	tcase_add_test(tc, test_transmit);
	tcase_add_test(tc, test_receive_and_irq);
	tcase_add_test(tc, test_fifo_full_keeps_the_rest);
	tcase_add_test(tc, test_thr_empty_interrupt);
	tcase_add_test(tc, test_divisor_latch_and_scratch);
	tcase_add_test(tc, test_loopback);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(uart_suite)
