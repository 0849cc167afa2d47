/* ELF64 kernel loader: header checks, then segments copied into guest RAM by physical address. */
#include "vmm/elf_loader.h"

#include <elf.h>
#include <errno.h>
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

static int elf_load_segment(int fd, const Elf64_Phdr *ph, const struct guest_memory *mem, char *err,
			    unsigned err_size)
{
	char *dst;
	int r;

	if (ph->p_filesz > ph->p_memsz) {
		snprintf(err, err_size, "segment at 0x%llx: file size exceeds memory size",
			 (unsigned long long)ph->p_paddr);
		return -ENOEXEC;
	}
	dst = guest_memory_ptr(mem, ph->p_paddr, ph->p_memsz);
	if (!dst) {
		snprintf(err, err_size, "segment 0x%llx-0x%llx is outside guest RAM (add --mem)",
			 (unsigned long long)ph->p_paddr,
			 (unsigned long long)(ph->p_paddr + ph->p_memsz));
		return -EFAULT;
	}
	r = read_exact_at(fd, dst, ph->p_filesz, (off_t)ph->p_offset);
	if (r) {
		snprintf(err, err_size, "segment at 0x%llx: cannot read: %s",
			 (unsigned long long)ph->p_paddr, strerror(-r));
		return r;
	}
	memset(dst + ph->p_filesz, 0, ph->p_memsz - ph->p_filesz);
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
