/* Start-up milestones of one boot and the watch for the test guest's init line. */
#include "vmm/timeline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/clock.h"

static const char *const mark_names[BOOT_MARK_COUNT] = {
    [BOOT_MARK_START] = "start",
    [BOOT_MARK_VM_CREATED] = "vm_created",
    [BOOT_MARK_KERNEL] = "kernel_loaded",
    [BOOT_MARK_INITRD] = "initrd_loaded",
    [BOOT_MARK_TABLES] = "tables_written",
    [BOOT_MARK_FIRST_RUN] = "first_kvm_run",
    [BOOT_MARK_FIRST_OUTPUT] = "first_output",
    [BOOT_MARK_INIT] = "init_reached",
};

void boot_timeline_init(struct boot_timeline *t, uint64_t start_ns)
{
	memset(t, 0, sizeof(*t));
	atomic_store(&t->at[BOOT_MARK_START], start_ns);
	t->scanning = 1;
}

void boot_timeline_mark(struct boot_timeline *t, enum boot_mark m)
{
	uint64_t none = 0;

	/* A load first: after the first time a mark costs no locked instruction. */
	if (atomic_load_explicit(&t->at[m], memory_order_relaxed) == 0)
		atomic_compare_exchange_strong(&t->at[m], &none, monotonic_ns());
}

/* Collects the uptime digits after the marker; any other byte ends the number. */
static void take_uptime_byte(struct boot_timeline *t, uint8_t byte)
{
	if (((byte >= '0' && byte <= '9') || byte == '.') &&
	    t->uptime_len + 1 < sizeof(t->uptime)) {
		t->uptime[t->uptime_len++] = (char)byte;
		return;
	}
	t->uptime[t->uptime_len] = '\0';
	t->scanning = 0;
}

void boot_timeline_console_byte(struct boot_timeline *t, uint8_t byte)
{
	static const char marker[] = BOOT_INIT_MARKER;

	if (!t->scanning)
		return;
	boot_timeline_mark(t, BOOT_MARK_FIRST_OUTPUT);
	if (t->matched == sizeof(marker) - 1) {
		take_uptime_byte(t, byte);
		return;
	}
	/* The marker's first byte occurs only once in it, so a mismatch restarts the match here. */
	if ((char)byte == marker[t->matched])
		t->matched++;
	else
		t->matched = (char)byte == marker[0];
	if (t->matched == sizeof(marker) - 1)
		boot_timeline_mark(t, BOOT_MARK_INIT);
}

static double since_start_s(const struct boot_timeline *t, enum boot_mark m)
{
	uint64_t start = atomic_load(&t->at[BOOT_MARK_START]);

	return (double)(atomic_load(&t->at[m]) - start) / 1e9;
}

void boot_timeline_format(const struct boot_timeline *t, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (unsigned m = 0; m < BOOT_MARK_COUNT && used < size; m++) {
		if (atomic_load(&t->at[m]))
			used += (size_t)snprintf(buf + used, size - used, "%s%s=%.3f", m ? " " : "",
						 mark_names[m], since_start_s(t, m));
		else
			used += (size_t)snprintf(buf + used, size - used, " %s=-", mark_names[m]);
	}
	if (used >= size || !atomic_load(&t->at[BOOT_MARK_INIT]) || t->scanning)
		return;
	snprintf(buf + used, size - used, " guest_uptime_at_init=%s before_guest_clock=%.3f",
		 t->uptime, since_start_s(t, BOOT_MARK_INIT) - strtod(t->uptime, NULL));
}
