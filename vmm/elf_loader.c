/* ELF64 kernel loader: header checks, then segments read into guest RAM by physical address. */
#include "vmm/elf_loader.h"

#include <elf.h>
#include <errno.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/file_io.h"
#include "vmm/memory.h"

#define ELF_MAX_PHDRS 64

bool elf_is_elf64(int fd)
{
	unsigned char ident[EI_NIDENT];

	return read_exact_at(fd, ident, sizeof(ident), 0) == 0 &&
	       memcmp(ident, ELFMAG, SELFMAG) == 0 && ident[EI_CLASS] == ELFCLASS64;
}

static int elf_check_header(const Elf64_Ehdr *eh, uint16_t machine, char *err, unsigned err_size)
{
	if (eh->e_ident[EI_DATA] != ELFDATA2LSB)
		snprintf(err, err_size, "not a little-endian ELF");
	else if (eh->e_type != ET_EXEC)
		snprintf(err, err_size, "ELF type %u is not an executable", eh->e_type);
	else if (eh->e_machine != machine)
		snprintf(err, err_size, "ELF machine %u is not this architecture (%u)",
			 eh->e_machine, machine);
	else if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phnum == 0 ||
		 eh->e_phnum > ELF_MAX_PHDRS)
		snprintf(err, err_size, "bad program header table (%u entries of %u bytes)",
			 eh->e_phnum, eh->e_phentsize);
	else
		return 0;
	return -ENOEXEC;
}

/*
 * Where the file data at or after offset (below end) starts and stops:
 * SEEK_DATA/SEEK_HOLE, so the holes of a sparse file (the payload cache
 * writes its zero pages as holes) are never read. A file system without
 * them reports all of it as data.
 */
static void next_extent(int fd, off_t offset, off_t end, off_t *data, off_t *hole)
{
	*data = lseek(fd, offset, SEEK_DATA);
	if (*data < 0) {
		*data = errno == ENXIO ? end : offset;
		*hole = end;
		return;
	}
	if (*data > end)
		*data = end;
	*hole = lseek(fd, *data, SEEK_HOLE);
	if (*hole < 0 || *hole > end)
		*hole = end;
}

/* The file part of a segment: its data extents read into guest RAM, its holes zeroed. */
static int elf_read_file_part(int fd, const Elf64_Phdr *ph, const struct guest_memory *mem)
{
	off_t at = (off_t)ph->p_offset, end = (off_t)(ph->p_offset + ph->p_filesz), data, hole;
	int r = 0;

	while (!r && at < end) {
		next_extent(fd, at, end, &data, &hole);
		uint64_t gpa = ph->p_paddr + (uint64_t)(at - (off_t)ph->p_offset);
		r = guest_memory_zero(mem, gpa, (uint64_t)(data - at));
		if (!r && hole > data)
			r = read_into_guest(fd, data, (size_t)(hole - data), mem,
					    gpa + (uint64_t)(data - at));
		at = hole > data ? hole : end;
	}
	return r;
}

/* Refuses a segment whose file part is not all in the file. */
static int elf_check_file_part(int fd, const Elf64_Phdr *ph, char *err, unsigned err_size)
{
	int64_t size = file_size(fd);

	if (ph->p_filesz > ph->p_memsz) {
		snprintf(err, err_size, "segment at 0x%llx: file size exceeds memory size",
			 (unsigned long long)ph->p_paddr);
		return -ENOEXEC;
	}
	if (size < 0 || ph->p_offset > (uint64_t)size ||
	    ph->p_filesz > (uint64_t)size - ph->p_offset) {
		snprintf(err, err_size, "segment at 0x%llx: cannot read: %s",
			 (unsigned long long)ph->p_paddr, strerror(EIO));
		return -EIO;
	}
	return 0;
}

static int elf_load_segment(int fd, const Elf64_Phdr *ph, const struct guest_memory *mem, char *err,
			    unsigned err_size)
{
	int r = elf_check_file_part(fd, ph, err, err_size);

	if (r)
		return r;
	if (!guest_memory_ptr(mem, ph->p_paddr, ph->p_memsz)) {
		snprintf(err, err_size, "segment 0x%llx-0x%llx is outside guest RAM (add --mem)",
			 (unsigned long long)ph->p_paddr,
			 (unsigned long long)(ph->p_paddr + ph->p_memsz));
		return -EFAULT;
	}
	r = elf_read_file_part(fd, ph, mem);
	if (r) {
		snprintf(err, err_size, "segment at 0x%llx: cannot read: %s",
			 (unsigned long long)ph->p_paddr, strerror(-r));
		return r;
	}
	return guest_memory_zero(mem, ph->p_paddr + ph->p_filesz, ph->p_memsz - ph->p_filesz);
}

/* Refuses PT_LOAD segments whose guest-physical ranges overlap: one would overwrite the other. */
static int elf_check_overlap(const Elf64_Phdr *phdrs, unsigned n, char *err, unsigned err_size)
{
	for (unsigned i = 0; i < n; i++) {
		const Elf64_Phdr *a = &phdrs[i];
		if (a->p_type != PT_LOAD || a->p_memsz == 0)
			continue;
		for (unsigned j = i + 1; j < n; j++) {
			const Elf64_Phdr *b = &phdrs[j];
			if (b->p_type != PT_LOAD || b->p_memsz == 0 ||
			    a->p_paddr >= b->p_paddr + b->p_memsz ||
			    b->p_paddr >= a->p_paddr + a->p_memsz)
				continue;
			snprintf(err, err_size, "segments at 0x%llx and 0x%llx overlap",
				 (unsigned long long)a->p_paddr, (unsigned long long)b->p_paddr);
			return -ENOEXEC;
		}
	}
	return 0;
}

int elf_load(int fd, uint16_t machine, const struct guest_memory *mem, struct elf_image *out,
	     char *err, unsigned err_size)
{
	Elf64_Ehdr eh;
	Elf64_Phdr phdrs[ELF_MAX_PHDRS];
	int r;

	if (read_exact_at(fd, &eh, sizeof(eh), 0) || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64) {
		snprintf(err, err_size, "not a 64-bit ELF file");
		return -ENOEXEC;
	}
	r = elf_check_header(&eh, machine, err, err_size);
	if (r)
		return r;
	if (read_exact_at(fd, phdrs, eh.e_phnum * sizeof(Elf64_Phdr), (off_t)eh.e_phoff)) {
		snprintf(err, err_size, "program headers are truncated");
		return -ENOEXEC;
	}
	r = elf_check_overlap(phdrs, eh.e_phnum, err, err_size);
	if (r)
		return r;
	out->entry = eh.e_entry;
	out->low_gpa = UINT64_MAX;
	out->high_gpa = 0;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		const Elf64_Phdr *ph = &phdrs[i];
		if (ph->p_type != PT_LOAD || ph->p_memsz == 0)
			continue;
		r = elf_load_segment(fd, ph, mem, err, err_size);
		if (r)
			return r;
		if (ph->p_paddr < out->low_gpa)
			out->low_gpa = ph->p_paddr;
		if (ph->p_paddr + ph->p_memsz > out->high_gpa)
			out->high_gpa = ph->p_paddr + ph->p_memsz;
	}
	if (out->high_gpa == 0) {
		snprintf(err, err_size, "no loadable segments");
		return -ENOEXEC;
	}
	return 0;
}
