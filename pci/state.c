/*
 * Snapshot of a PCI function: its config space and, when it has MSI-X,
 * the vector table and pending bits. Loading replays the guest's writes
 * (BARs, then the MSI-X table, then the command register and capability
 * bytes), so BAR mappings, ioeventfds and MSI routes are rebuilt by the
 * code that builds them at run time.
 */
#include "pci/pci.h"

#include <linux/pci_regs.h>
#include <string.h>

#include "pci/msix.h"
#include "vmm/snapfmt.h"

void pci_function_save(const struct pci_function *fn, struct snap_buf *b)
{
	const struct msix *m = fn->msix;

	snap_put_blob(b, fn->cfg.bytes, PCI_CONFIG_SIZE);
	snap_put_u32(b, m ? m->nvectors : 0);
	for (unsigned v = 0; m && v < m->nvectors; v++) {
		snap_put_bytes(b, m->vectors[v].entry, sizeof(m->vectors[v].entry));
		snap_put_u8(b, m->vectors[v].pending);
	}
}

/* Writes the saved MSI-X table through the table's own BAR handler. */
static bool load_msix(struct pci_function *fn, struct snap_reader *rd, bool *pending)
{
	struct msix *m = fn->msix;
	const struct pci_bar *bar = m ? &fn->bars[m->bar] : NULL;

	if (!snap_expect_u32(rd, "msix vectors", m ? m->nvectors : 0))
		return false;
	for (unsigned v = 0; m && v < m->nvectors; v++) {
		uint32_t entry[4];
		uint8_t p = 0;

		if (!snap_get_bytes(rd, "msix entry", entry, sizeof(entry)) ||
		    !snap_get_u8(rd, "msix pending", &p))
			return false;
		for (unsigned w = 0; w < 4; w++)
			bar->ops->write(bar->opaque, v * MSIX_ENTRY_SIZE + w * 4, &entry[w], 4);
		pending[v] = p;
	}
	return true;
}

/* Pending bits: kept while masked, delivered now if the vector is live. */
static void load_pending(struct msix *m, const bool *pending)
{
	for (unsigned v = 0; m && v < m->nvectors; v++) {
		if (!pending[v])
			continue;
		if (msix_vector_masked(m, v))
			m->vectors[v].pending = true;
		else
			msix_notify(m, v);
	}
}

bool pci_function_load(struct pci_function *fn, struct snap_reader *rd)
{
	union pci_config_space saved;
	bool pending[MSIX_MAX_VECTORS] = {0};
	uint16_t command;

	if (!snap_get_blob(rd, "config space", saved.bytes, PCI_CONFIG_SIZE))
		return false;
	if (saved.hdr.vendor_id != fn->cfg.hdr.vendor_id ||
	    saved.hdr.device_id != fn->cfg.hdr.device_id)
		return snap_fail(rd, "device id", "%04x:%04x in the snapshot, %04x:%04x here",
				 saved.hdr.vendor_id, saved.hdr.device_id, fn->cfg.hdr.vendor_id,
				 fn->cfg.hdr.device_id);
	/* Decoding is off on a fresh function: BARs move without mapping. */
	for (unsigned i = 0; i < PCI_NUM_BARS; i++)
		pci_config_write(fn, PCI_BASE_ADDRESS_0 + 4 * i, saved.hdr.bar[i], 4);
	if (!load_msix(fn, rd, pending))
		return false;
	/* Capability bytes are plain storage but for MSI-X's control word. */
	memcpy(fn->cfg.bytes + PCI_CAPABILITY_LIST + 4, saved.bytes + PCI_CAPABILITY_LIST + 4,
	       PCI_CONFIG_SIZE - PCI_CAPABILITY_LIST - 4);
	fn->cfg.hdr.interrupt_line = saved.hdr.interrupt_line;
	fn->cfg.hdr.cache_line_size = saved.hdr.cache_line_size;
	fn->cfg.hdr.latency_timer = saved.hdr.latency_timer;
	command = saved.hdr.command;
	pci_config_write(fn, PCI_COMMAND, command, 2);
	if (fn->msix)
		msix_config_written(fn->msix, fn->msix->cap, 4);
	load_pending(fn->msix, pending);
	return true;
}
