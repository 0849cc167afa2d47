/* Loads the PT_LOAD segments of a 64-bit ELF kernel into guest memory at their physical addresses.
 */
#ifndef VMM_ELF_LOADER_H
#define VMM_ELF_LOADER_H

#include <stdbool.h>
#include <stdint.h>

struct guest_memory;

struct elf_image {
	uint64_t entry;	   /* e_entry */
	uint64_t low_gpa;  /* lowest loaded physical address */
	uint64_t high_gpa; /* first byte past the highest segment (incl. bss) */
};

/* True when the file starts with a 64-bit ELF header. */
bool elf_is_elf64(int fd);

/*
 * Validates the header for the given e_machine and loads every PT_LOAD
 * segment by p_paddr: file data is read straight into guest RAM (holes of
 * a sparse file are not read), and what is not file data (holes, and bss:
 * p_memsz beyond p_filesz) is zeroed through guest_memory_zero, which
 * leaves untouched pages unallocated. Every segment must fit in guest RAM
 * and lie in the file, and no two may overlap. Errors: -ENOEXEC (not a
 * usable ELF, or overlapping segments; err says why), -EFAULT (does not
 * fit), -EIO (a segment runs past the end of the file).
 */
int elf_load(int fd, uint16_t machine, const struct guest_memory *mem, struct elf_image *out,
	     char *err, unsigned err_size);

#endif
