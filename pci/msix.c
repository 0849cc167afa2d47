/* MSI-X capability, table and PBA emulation with irqfd-backed vectors. */
#include "pci/msix.h"

#include <errno.h>
#include <event2/event.h>
#include <linux/pci_regs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "pci/pci.h"

enum { ENTRY_ADDR_LO, ENTRY_ADDR_HI, ENTRY_DATA, ENTRY_CTRL };

static uint32_t pba_size(unsigned nvectors)
{
	return (nvectors + 63) / 64 * 8;
}

static uint64_t bar_size(uint32_t pba_offset, unsigned nvectors)
{
	uint64_t size = 4096;

	while (size < pba_offset + pba_size(nvectors))
		size <<= 1;
	return size;
}

static uint16_t message_control(const struct msix *m)
{
	const uint8_t *c = &m->fn->cfg.bytes[m->cap + PCI_MSIX_FLAGS];

	return (uint16_t)(c[0] | c[1] << 8);
}

bool msix_enabled(const struct msix *m)
{
	return message_control(m) & PCI_MSIX_FLAGS_ENABLE;
}

bool msix_vector_masked(const struct msix *m, unsigned vector)
{
	uint16_t control = message_control(m);

	return !(control & PCI_MSIX_FLAGS_ENABLE) || (control & PCI_MSIX_FLAGS_MASKALL) ||
	       (m->vectors[vector].entry[ENTRY_CTRL] & PCI_MSIX_ENTRY_CTRL_MASKBIT);
}

bool msix_vector_pending(const struct msix *m, unsigned vector)
{
	return vector < m->nvectors && m->vectors[vector].pending;
}

int msix_vector_fd(const struct msix *m, unsigned vector)
{
	return vector < m->nvectors ? m->vectors[vector].fd : -1;
}

void msix_notify(struct msix *m, unsigned vector)
{
	uint64_t one = 1;

	if (vector >= m->nvectors)
		return;
	/* Only fails when the counter would overflow: it is pending anyway. */
	if (write(m->vectors[vector].fd, &one, sizeof(one)) < 0)
		log_debug("msix", "%s: vector %u eventfd write failed", m->fn->name, vector);
}

/* Reads and clears the eventfd's counter; true when it was signalled. */
static bool drain(const struct msix_vector *v)
{
	uint64_t count;

	return read(v->fd, &count, sizeof(count)) == sizeof(count) && count != 0;
}

static uint32_t requester_id(const struct msix *m)
{
	return m->fn->slot << 3; /* bus 0, function 0 */
}

static int program_route(struct msix *m, struct msix_vector *v)
{
	uint64_t addr = (uint64_t)v->entry[ENTRY_ADDR_HI] << 32 | v->entry[ENTRY_ADDR_LO];
	int err;

	if (!v->has_gsi) {
		err = m->ops->route_alloc(m->ctx, &v->gsi);
		if (err)
			return err;
		v->has_gsi = true;
	}
	err = m->ops->route_set(m->ctx, v->gsi, addr, v->entry[ENTRY_DATA], requester_id(m));
	if (!err)
		v->route_stale = false;
	return err;
}

/* Unmasked: route, attach the irqfd, deliver what arrived while masked. */
static void vector_attach(struct msix *m, unsigned index)
{
	struct msix_vector *v = &m->vectors[index];
	int err;

	if (drain(v))
		v->pending = true;
	err = program_route(m, v);
	if (!err)
		err = m->ops->irqfd_assign(m->ctx, v->fd, v->gsi);
	if (err) {
		/* The vector keeps collecting pending bits through the watch. */
		log_warn_ratelimited(&m->rl, "msix", "%s: vector %u: cannot route (%d)",
				     m->fn->name, index, err);
		return;
	}
	v->irqfd_attached = true;
	if (v->pending) {
		v->pending = false;
		msix_notify(m, index);
	}
}

/* Applies the current mask state of one vector to its irqfd. */
static void vector_update(struct msix *m, unsigned index)
{
	struct msix_vector *v = &m->vectors[index];
	bool masked = msix_vector_masked(m, index);

	if (masked && v->irqfd_attached) {
		m->ops->irqfd_deassign(m->ctx, v->fd, v->gsi);
		v->irqfd_attached = false;
	} else if (!masked && !v->irqfd_attached) {
		vector_attach(m, index);
	} else if (!masked && v->route_stale) {
		/* The guest rewrote a live entry; follow it rather than keep a stale target. */
		if (program_route(m, v))
			log_warn_ratelimited(&m->rl, "msix", "%s: vector %u: reroute failed",
					     m->fn->name, index);
	}
}

static void update_all(struct msix *m)
{
	unsigned i;

	for (i = 0; i < m->nvectors; i++)
		vector_update(m, i);
}

void msix_vector_poll(struct msix *m, unsigned vector)
{
	struct msix_vector *v;

	if (vector >= m->nvectors)
		return;
	v = &m->vectors[vector];
	if (!drain(v))
		return;
	if (v->irqfd_attached)
		msix_notify(m, vector); /* raced with an unmask: let the irqfd have it */
	else
		v->pending = true;
}

void msix_config_written(struct msix *m, unsigned offset, unsigned len)
{
	unsigned control = m->cap + PCI_MSIX_FLAGS;

	if (offset < control + 2 && control < offset + len)
		update_all(m);
}

static uint32_t table_read(const struct msix *m, uint64_t offset)
{
	uint64_t index = offset / MSIX_ENTRY_SIZE;

	if (index < m->nvectors)
		return m->vectors[index].entry[(offset % MSIX_ENTRY_SIZE) / 4];
	if (offset >= m->pba_offset && offset - m->pba_offset < pba_size(m->nvectors)) {
		unsigned first = (unsigned)(offset - m->pba_offset) * 8, i;
		uint32_t bits = 0;

		for (i = 0; i < 32 && first + i < m->nvectors; i++)
			bits |= (uint32_t)m->vectors[first + i].pending << i;
		return bits;
	}
	return 0;
}

static void table_write(struct msix *m, uint64_t offset, uint32_t value)
{
	uint64_t index = offset / MSIX_ENTRY_SIZE;
	unsigned word = (offset % MSIX_ENTRY_SIZE) / 4;
	struct msix_vector *v;

	if (index >= m->nvectors)
		return; /* the PBA and the hole after the table are read-only */
	v = &m->vectors[index];
	if (word == ENTRY_CTRL) {
		v->entry[ENTRY_CTRL] = value & PCI_MSIX_ENTRY_CTRL_MASKBIT;
	} else {
		if (v->entry[word] == value)
			return;
		v->entry[word] = value;
		v->route_stale = true;
	}
	vector_update(m, (unsigned)index);
}

static bool bar_access_ok(struct msix *m, uint64_t offset, unsigned len)
{
	if ((len == 4 || len == 8) && offset % len == 0)
		return true;
	log_warn_ratelimited(&m->rl, "msix", "%s: %u-byte access at 0x%llx ignored", m->fn->name,
			     len, (unsigned long long)offset);
	return false;
}

static void bar_read(void *opaque, uint64_t offset, void *data, unsigned len)
{
	struct msix *m = opaque;
	uint32_t words[2];

	if (!bar_access_ok(m, offset, len)) {
		memset(data, 0xff, len);
		return;
	}
	words[0] = table_read(m, offset);
	if (len == 8)
		words[1] = table_read(m, offset + 4);
	memcpy(data, words, len);
}

static void bar_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	struct msix *m = opaque;
	uint32_t words[2];

	if (!bar_access_ok(m, offset, len))
		return;
	memcpy(words, data, len);
	table_write(m, offset, words[0]);
	if (len == 8)
		table_write(m, offset + 4, words[1]);
}

static const struct io_ops msix_bar_ops = {.read = bar_read, .write = bar_write};

static int add_capability(struct msix *m)
{
	struct pci_function *fn = m->fn;
	uint32_t table = m->bar, pba = m->pba_offset | m->bar;
	uint16_t control = (uint16_t)(m->nvectors - 1);

	m->cap = pci_add_capability(fn, PCI_CAP_ID_MSIX, PCI_CAP_MSIX_SIZEOF);
	if (!m->cap)
		return -ENOSPC;
	memcpy(&fn->cfg.bytes[m->cap + PCI_MSIX_FLAGS], &control, 2);
	memcpy(&fn->cfg.bytes[m->cap + PCI_MSIX_TABLE], &table, 4);
	memcpy(&fn->cfg.bytes[m->cap + PCI_MSIX_PBA], &pba, 4);
	pci_set_wmask(fn, m->cap + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL,
		      2);
	return 0;
}

static void close_fds(struct msix *m)
{
	unsigned i;

	for (i = 0; i < m->nvectors; i++)
		if (m->vectors[i].fd >= 0)
			close(m->vectors[i].fd);
}

int msix_init(struct msix *m, struct pci_function *fn, unsigned bar, unsigned nvectors,
	      const struct msix_ops *ops, void *ctx)
{
	unsigned i;
	int err;

	memset(m, 0, sizeof(*m));
	if (nvectors == 0 || nvectors > MSIX_MAX_VECTORS || bar >= PCI_NUM_BARS || fn->msix)
		return -EINVAL;
	m->fn = fn;
	m->bar = bar;
	m->nvectors = nvectors;
	m->ops = ops;
	m->ctx = ctx;
	m->pba_offset = (nvectors * MSIX_ENTRY_SIZE + 2047) & ~2047u;
	m->vectors = calloc(nvectors, sizeof(*m->vectors));
	if (!m->vectors)
		return -ENOMEM;
	for (i = 0; i < nvectors; i++) {
		m->vectors[i].fd = -1;
		m->vectors[i].entry[ENTRY_CTRL] = PCI_MSIX_ENTRY_CTRL_MASKBIT;
		m->vectors[i].owner = m;
	}
	for (i = 0; i < nvectors; i++) {
		m->vectors[i].fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (m->vectors[i].fd < 0) {
			err = -errno;
			goto fail;
		}
	}
	err = pci_function_add_bar(fn, bar, PCI_BAR_MEM32, false, bar_size(m->pba_offset, nvectors),
				   &msix_bar_ops, m, NULL);
	if (!err)
		err = add_capability(m);
	if (err)
		goto fail;
	fn->msix = m;
	return 0;
fail:
	close_fds(m);
	free(m->vectors);
	m->vectors = NULL;
	return err;
}

void msix_reset(struct msix *m)
{
	uint16_t control = (uint16_t)(m->nvectors - 1);
	unsigned i;

	memcpy(&m->fn->cfg.bytes[m->cap + PCI_MSIX_FLAGS], &control, 2);
	for (i = 0; i < m->nvectors; i++) {
		struct msix_vector *v = &m->vectors[i];
		memset(v->entry, 0, sizeof(v->entry));
		v->entry[ENTRY_CTRL] = PCI_MSIX_ENTRY_CTRL_MASKBIT;
		v->route_stale = true;
		vector_update(m, i);
		drain(v);
		v->pending = false;
	}
}

void msix_destroy(struct msix *m)
{
	unsigned i;

	if (!m->vectors)
		return;
	for (i = 0; i < m->nvectors; i++) {
		struct msix_vector *v = &m->vectors[i];
		if (v->irqfd_attached)
			m->ops->irqfd_deassign(m->ctx, v->fd, v->gsi);
		if (v->watch)
			event_free(v->watch);
	}
	close_fds(m);
	free(m->vectors);
	m->vectors = NULL;
	if (m->fn->msix == m)
		m->fn->msix = NULL;
}
