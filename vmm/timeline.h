/*
 * The start-up timeline of one boot, for --stats: when each step of getting
 * the guest going finished, on the monotonic clock, so the VMM's share of a
 * boot is a number. Recording costs a clock read per milestone and nothing
 * per exit; the console feeds it the guest's output only until the test
 * guest's init line has gone by, and reads nothing else in it.
 */
#ifndef VMM_TIMELINE_H
#define VMM_TIMELINE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

enum boot_mark {
	BOOT_MARK_START,	/* main() entered */
	BOOT_MARK_VM_CREATED,	/* KVM VM, guest RAM and memory slots exist */
	BOOT_MARK_KERNEL,	/* kernel image in guest RAM */
	BOOT_MARK_INITRD,	/* initrd in guest RAM (or none asked for) */
	BOOT_MARK_TABLES,	/* e820 and ACPI tables written */
	BOOT_MARK_FIRST_RUN,	/* the first KVM_RUN is about to enter the guest */
	BOOT_MARK_FIRST_OUTPUT, /* the guest's first byte on the serial console */
	BOOT_MARK_INIT,		/* the test guest's "VMM-GUEST: init reached" line */
	BOOT_MARK_COUNT
};

/* The line guest/init prints first; the number after it is the guest's uptime in seconds. */
#define BOOT_INIT_MARKER "VMM-GUEST: init reached uptime="

struct boot_timeline {
	_Atomic uint64_t at[BOOT_MARK_COUNT]; /* CLOCK_MONOTONIC ns; 0 = not reached */
	/* Console side only (one writer at a time: the UART runs under dev_lock). */
	unsigned matched; /* bytes of BOOT_INIT_MARKER seen in a row */
	char uptime[16];  /* the guest's uptime at init, as it printed it */
	unsigned uptime_len;
	int scanning; /* 1 until the uptime has been read */
};

/* Zeroes t and records BOOT_MARK_START at start_ns. */
void boot_timeline_init(struct boot_timeline *t, uint64_t start_ns);

/* Records mark m now unless it was recorded before: the first time counts. */
void boot_timeline_mark(struct boot_timeline *t, enum boot_mark m);

/* One byte the guest wrote to the console: first output, then the init line. */
void boot_timeline_console_byte(struct boot_timeline *t, uint8_t byte);

/*
 * Formats "start=0 vm_created=S ... init_reached=S guest_uptime_at_init=S
 * before_guest_clock=S": seconds since start, "-" for a mark not reached;
 * before_guest_clock is init_reached minus the guest's uptime.
 */
void boot_timeline_format(const struct boot_timeline *t, char *buf, size_t size);

#endif
