/* Builds the guest's device tree with libfdt's sequential-write API. */
#include "arch/aarch64/fdt.h"

#include <errno.h>
#include <libfdt.h>
#include <stdio.h>

#include "arch/aarch64/layout.h"

#define GIC_SPI 0
#define GIC_PPI 1
#define IRQ_LEVEL_HIGH 4
#define PCI_SPACE_MEM32 0x02000000u

/* Every libfdt call below returns 0 or a negative FDT_ERR_; the first error sticks. */
struct fdt_writer {
	void *fdt;
	int err;
};

static void w_check(struct fdt_writer *w, int r)
{
	if (r < 0 && !w->err)
		w->err = r;
}

static void w_begin(struct fdt_writer *w, const char *name)
{
	w_check(w, fdt_begin_node(w->fdt, name));
}

static void w_end(struct fdt_writer *w)
{
	w_check(w, fdt_end_node(w->fdt));
}

static void w_str(struct fdt_writer *w, const char *name, const char *value)
{
	w_check(w, fdt_property_string(w->fdt, name, value));
}

static void w_u32(struct fdt_writer *w, const char *name, uint32_t value)
{
	w_check(w, fdt_property_u32(w->fdt, name, value));
}

static void w_u64(struct fdt_writer *w, const char *name, uint64_t value)
{
	w_check(w, fdt_property_u64(w->fdt, name, value));
}

static void w_empty(struct fdt_writer *w, const char *name)
{
	w_check(w, fdt_property(w->fdt, name, NULL, 0));
}

/* A property of n big-endian cells. */
static void w_cells(struct fdt_writer *w, const char *name, const uint32_t *cells, unsigned n)
{
	fdt32_t be[16];

	for (unsigned i = 0; i < n && i < 16; i++)
		be[i] = cpu_to_fdt32(cells[i]);
	w_check(w, fdt_property(w->fdt, name, be, (int)(n * sizeof(be[0]))));
}

/* reg = <addr size> with #address-cells = #size-cells = 2. */
static void w_reg(struct fdt_writer *w, uint64_t addr, uint64_t size)
{
	uint32_t c[4] = {(uint32_t)(addr >> 32), (uint32_t)addr, (uint32_t)(size >> 32),
			 (uint32_t)size};

	w_cells(w, "reg", c, 4);
}

/* Node "name@addr" for a device at addr. */
static void w_begin_at(struct fdt_writer *w, const char *name, uint64_t addr)
{
	char node[64];

	snprintf(node, sizeof(node), "%s@%llx", name, (unsigned long long)addr);
	w_begin(w, node);
}

static void add_chosen(struct fdt_writer *w, const struct arm64_fdt_desc *d)
{
	char stdout_path[64];

	snprintf(stdout_path, sizeof(stdout_path), "/uart@%llx",
		 (unsigned long long)ARM64_UART_BASE);
	w_begin(w, "chosen");
	w_str(w, "bootargs", d->bootargs);
	w_str(w, "stdout-path", stdout_path);
	if (d->initrd_end) {
		w_u64(w, "linux,initrd-start", d->initrd_start);
		w_u64(w, "linux,initrd-end", d->initrd_end);
	}
	w_check(w, fdt_property(w->fdt, "rng-seed", d->rng_seed, sizeof(d->rng_seed)));
	w_u64(w, "kaslr-seed", d->kaslr_seed);
	w_end(w);
}

static void add_cpus(struct fdt_writer *w, const struct arm64_fdt_desc *d)
{
	w_begin(w, "cpus");
	w_u32(w, "#address-cells", 2);
	w_u32(w, "#size-cells", 0);
	for (unsigned i = 0; i < d->ncpus; i++) {
		uint64_t reg = arm64_mpidr_to_fdt_reg(d->mpidrs[i]);
		uint32_t c[2] = {(uint32_t)(reg >> 32), (uint32_t)reg};

		w_begin_at(w, "cpu", reg);
		w_str(w, "device_type", "cpu");
		w_str(w, "compatible", "arm,arm-v8");
		w_str(w, "enable-method", "psci");
		w_cells(w, "reg", c, 2);
		w_end(w);
	}
	w_end(w);
}

static void add_psci_timer_pmu(struct fdt_writer *w, const struct arm64_fdt_desc *d)
{
	const uint32_t timer[] = {GIC_PPI, ARM64_PPI_TIMER_SECURE, IRQ_LEVEL_HIGH,
				  GIC_PPI, ARM64_PPI_TIMER_PHYS,   IRQ_LEVEL_HIGH,
				  GIC_PPI, ARM64_PPI_TIMER_VIRT,   IRQ_LEVEL_HIGH,
				  GIC_PPI, ARM64_PPI_TIMER_HYP,	   IRQ_LEVEL_HIGH};
	const uint32_t pmu[] = {GIC_PPI, ARM64_PPI_PMU, IRQ_LEVEL_HIGH};
	static const char psci_compat[] = "arm,psci-0.2\0arm,psci";

	w_begin(w, "psci");
	w_check(w, fdt_property(w->fdt, "compatible", psci_compat, sizeof(psci_compat)));
	w_str(w, "method", "hvc");
	w_end(w);
	w_begin(w, "timer");
	w_str(w, "compatible", "arm,armv8-timer");
	w_cells(w, "interrupts", timer, 12);
	w_empty(w, "always-on");
	w_end(w);
	if (d->pmu) {
		w_begin(w, "pmu");
		w_str(w, "compatible", "arm,armv8-pmuv3");
		w_cells(w, "interrupts", pmu, 3);
		w_end(w);
	}
}

static void add_gic(struct fdt_writer *w, const struct arm64_fdt_desc *d)
{
	const struct arm64_gic_layout *g = &d->gic;
	uint32_t reg[8] = {(uint32_t)(g->dist_base >> 32),   (uint32_t)g->dist_base,
			   (uint32_t)(g->dist_size >> 32),   (uint32_t)g->dist_size,
			   (uint32_t)(g->redist_base >> 32), (uint32_t)g->redist_base,
			   (uint32_t)(g->redist_size >> 32), (uint32_t)g->redist_size};

	w_begin_at(w, "intc", g->dist_base);
	w_str(w, "compatible", "arm,gic-v3");
	w_u32(w, "#interrupt-cells", 3);
	w_empty(w, "interrupt-controller");
	w_u32(w, "#address-cells", 2);
	w_u32(w, "#size-cells", 2);
	w_empty(w, "ranges");
	w_cells(w, "reg", reg, 8);
	w_u32(w, "#redistributor-regions", 1);
	w_u32(w, "phandle", ARM64_FDT_PHANDLE_GIC);
	w_begin_at(w, "its", g->its_base);
	w_str(w, "compatible", "arm,gic-v3-its");
	w_empty(w, "msi-controller");
	w_u32(w, "#msi-cells", 1);
	w_reg(w, g->its_base, g->its_size);
	w_u32(w, "phandle", ARM64_FDT_PHANDLE_ITS);
	w_end(w);
	w_end(w);
}

/* Bus 0 through ECAM; requester id N is ITS device id N (msi-map identity). */
static void add_pci(struct fdt_writer *w)
{
	const uint32_t ranges[] = {PCI_SPACE_MEM32,
				   (uint32_t)(ARM64_PCI_MMIO_BASE >> 32),
				   (uint32_t)ARM64_PCI_MMIO_BASE,
				   (uint32_t)(ARM64_PCI_MMIO_BASE >> 32),
				   (uint32_t)ARM64_PCI_MMIO_BASE,
				   (uint32_t)(ARM64_PCI_MMIO_SIZE >> 32),
				   (uint32_t)ARM64_PCI_MMIO_SIZE};
	const uint32_t bus_range[] = {0, 0};
	const uint32_t msi_map[] = {0, ARM64_FDT_PHANDLE_ITS, 0, 0x10000};

	w_begin_at(w, "pcie", ARM64_PCI_ECAM_BASE);
	w_str(w, "compatible", "pci-host-ecam-generic");
	w_str(w, "device_type", "pci");
	w_u32(w, "#address-cells", 3);
	w_u32(w, "#size-cells", 2);
	w_u32(w, "#interrupt-cells", 1);
	w_u32(w, "linux,pci-domain", 0);
	w_cells(w, "bus-range", bus_range, 2);
	w_reg(w, ARM64_PCI_ECAM_BASE, ARM64_PCI_ECAM_SIZE);
	w_cells(w, "ranges", ranges, 7);
	w_cells(w, "msi-map", msi_map, 4);
	w_empty(w, "dma-coherent");
	w_end(w);
}

static void add_platform(struct fdt_writer *w)
{
	const uint32_t uart_irq[] = {GIC_SPI, ARM64_UART_SPI, IRQ_LEVEL_HIGH};

	w_begin_at(w, "uart", ARM64_UART_BASE);
	w_str(w, "compatible", "ns16550a");
	w_reg(w, ARM64_UART_BASE, ARM64_UART_SIZE);
	w_cells(w, "interrupts", uart_irq, 3);
	w_u32(w, "clock-frequency", ARM64_UART_CLOCK);
	w_u32(w, "reg-shift", 0);
	w_u32(w, "reg-io-width", 1);
	w_end(w);
	w_begin_at(w, "pvpanic", ARM64_PVPANIC_BASE);
	w_str(w, "compatible", "qemu,pvpanic-mmio");
	w_reg(w, ARM64_PVPANIC_BASE, ARM64_PVPANIC_SIZE);
	w_end(w);
	w_begin_at(w, "debug-exit", ARM64_DEBUG_EXIT_BASE);
	w_str(w, "compatible", "vmm,debug-exit");
	w_reg(w, ARM64_DEBUG_EXIT_BASE, ARM64_DEBUG_EXIT_SIZE);
	w_end(w);
}

int arm64_fdt_build(void *buf, size_t size, const struct arm64_fdt_desc *d)
{
	struct fdt_writer w = {.fdt = buf};

	w_check(&w, fdt_create(buf, (int)size));
	w_check(&w, fdt_finish_reservemap(buf));
	w_begin(&w, "");
	w_str(&w, "compatible", "linux,dummy-virt");
	w_str(&w, "model", "vmm");
	w_u32(&w, "#address-cells", 2);
	w_u32(&w, "#size-cells", 2);
	w_u32(&w, "interrupt-parent", ARM64_FDT_PHANDLE_GIC);
	add_chosen(&w, d);
	w_begin_at(&w, "memory", d->ram_base);
	w_str(&w, "device_type", "memory");
	w_reg(&w, d->ram_base, d->ram_size);
	w_end(&w);
	add_cpus(&w, d);
	add_psci_timer_pmu(&w, d);
	add_gic(&w, d);
	if (d->pci)
		add_pci(&w);
	add_platform(&w);
	w_end(&w);
	w_check(&w, fdt_finish(buf));
	if (w.err)
		return w.err == -FDT_ERR_NOSPACE ? -ENOSPC : -EINVAL;
	return (int)fdt_totalsize(buf);
}
