/*
 * libFuzzer target: the split-virtqueue chain walker on a fuzzed ring.
 * Input: [log2 queue size | event_idx<<3] then the first bytes of guest RAM
 * (descriptor table at 0, avail ring at 0x1000, used ring at 0x2000; data
 * anywhere, indirect tables included). Every buffer handed out must lie in
 * guest RAM; a chain that breaks the rules must break the queue, not us.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "virtio/virtqueue.h"
#include "vmm/memory.h"

#define RAM_SIZE 0x10000u
#define HIGH_GPA 0x100000u /* a second region, so chains can straddle a hole */

/* libFuzzer calls in with no context pointer: the RAM lives for the whole process. */
static struct guest_memory *fuzz_ram(void)
{
	static struct guest_memory mem;
	static bool ready;
	const struct ram_range ranges[] = {{0, RAM_SIZE}, {HIGH_GPA, RAM_SIZE}};

	if (!ready) {
		if (guest_memory_init(&mem, ranges, 2))
			abort();
		ready = true;
	}
	return &mem;
}

static void check_inside(const struct guest_memory *mem, const struct virtq_buf *b)
{
	unsigned i;

	for (i = 0; i < mem->nregions; i++) {
		const uint8_t *base = mem->regions[i].host;

		if ((const uint8_t *)b->host >= base &&
		    (const uint8_t *)b->host + b->len <= base + mem->regions[i].size)
			return;
	}
	__builtin_trap(); /* a buffer outside guest RAM: the walker's one job failed */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct guest_memory *mem = fuzz_ram();
	static struct virtq_chain chain;
	struct virtq vq;
	uint16_t qsize;
	unsigned i, n;

	if (size < 1)
		return 0;
	qsize = (uint16_t)(1u << (data[0] & 7));
	memset(mem->regions[0].host, 0, RAM_SIZE);
	memcpy(mem->regions[0].host, data + 1, size - 1 < RAM_SIZE ? size - 1 : RAM_SIZE);
	if (size - 1 > RAM_SIZE)
		memcpy(mem->regions[1].host, data + 1 + RAM_SIZE,
		       size - 1 - RAM_SIZE < RAM_SIZE ? size - 1 - RAM_SIZE : RAM_SIZE);
	if (virtq_init(&vq, mem, qsize, 0, 0x1000, 0x2000, data[0] & 8))
		return 0;
	for (n = 0; n < 2u * qsize; n++) {
		int r = virtq_pop(&vq, &chain);

		if (r <= 0)
			break;
		if (chain.nbufs > VIRTQ_MAX_BUFS)
			__builtin_trap();
		for (i = 0; i < chain.nbufs; i++)
			check_inside(mem, &chain.bufs[i]);
		virtq_push(&vq, chain.head, (uint32_t)chain.writable_len);
		virtq_should_notify(&vq);
	}
	return 0;
}
