/* Validation and bookkeeping of back-end SHMEM_MAP/UNMAP requests against the shared-memory
 * regions. */
#include "vhost_user/shmem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Logs (rate-limited: the back-end controls the rate) and evaluates to err. */
#define refuse(s, err, ...)                                                                        \
	({                                                                                         \
		log_warn_ratelimited(&(s)->rl, (s)->log_component, __VA_ARGS__);                   \
		(err);                                                                             \
	})

int vhost_user_shmem_init(struct vhost_user_shmem *s, const char *name, const uint64_t *sizes,
			  unsigned n, const struct vhost_user_shmem_ops *ops, void *opaque)
{
	unsigned i;

	memset(s, 0, sizeof(*s));
	snprintf(s->log_component, sizeof(s->log_component), "vhost-user %s shmem", name);
	if (n > VHOST_USER_SHMEM_MAX_IDS)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (sizes[i] % VHOST_USER_SHMEM_PAGE)
			return -EINVAL;
		s->regions[i].size = sizes[i];
		s->regions[i].gpa = VHOST_USER_SHMEM_NO_GPA;
	}
	s->nregions = n;
	s->ops = ops;
	s->opaque = opaque;
	return 0;
}

static bool placed(const struct vhost_user_shmem_region *r)
{
	return r->gpa != VHOST_USER_SHMEM_NO_GPA;
}

static int map_live(struct vhost_user_shmem *s, struct vhost_user_shmem_region *r,
		    struct vhost_user_shmem_mapping *m)
{
	int err = s->ops->map(s->opaque, r->gpa + m->offset, m->len, m->fd, m->fd_offset, m->prot);

	m->live = err == 0;
	return err;
}

static void unmap_live(struct vhost_user_shmem *s, struct vhost_user_shmem_region *r,
		       struct vhost_user_shmem_mapping *m)
{
	if (m->live && s->ops->unmap(s->opaque, r->gpa + m->offset, m->len) != 0)
		log_error(s->log_component, "unmapping 0x%llx+0x%llx failed",
			  (unsigned long long)(r->gpa + m->offset), (unsigned long long)m->len);
	m->live = false;
}

int vhost_user_shmem_place(struct vhost_user_shmem *s, unsigned shmid, uint64_t gpa)
{
	struct vhost_user_shmem_region *r;
	unsigned i;
	int err = 0;

	if (shmid >= s->nregions || s->regions[shmid].size == 0)
		return -EINVAL;
	r = &s->regions[shmid];
	if (gpa != VHOST_USER_SHMEM_NO_GPA && (gpa % VHOST_USER_SHMEM_PAGE || gpa + r->size < gpa))
		return -EINVAL;
	for (i = 0; i < r->nmaps; i++)
		unmap_live(s, r, &r->maps[i]);
	r->gpa = gpa;
	for (i = 0; i < r->nmaps && placed(r) && !err; i++)
		err = map_live(s, r, &r->maps[i]);
	if (err) {
		for (i = 0; i < r->nmaps; i++)
			unmap_live(s, r, &r->maps[i]);
		r->gpa = VHOST_USER_SHMEM_NO_GPA;
	}
	return err;
}

/* The checks map and unmap share; returns the region or NULL with *err set. */
static struct vhost_user_shmem_region *check_range(struct vhost_user_shmem *s,
						   const struct vhost_user_shmem_map *msg,
						   const char *what, int *err)
{
	*err = 0;
	if (msg->shmid >= s->nregions || s->regions[msg->shmid].size == 0)
		*err = refuse(s, -EINVAL, "%s: unknown shmid %u", what, msg->shmid);
	else if (msg->len == 0 || msg->len % VHOST_USER_SHMEM_PAGE ||
		 msg->shm_offset % VHOST_USER_SHMEM_PAGE || msg->fd_offset % VHOST_USER_SHMEM_PAGE)
		*err = refuse(s, -EINVAL, "%s: len 0x%llx / offsets not page-aligned", what,
			      (unsigned long long)msg->len);
	else if (msg->shm_offset + msg->len < msg->shm_offset ||
		 msg->fd_offset + msg->len < msg->fd_offset)
		*err = refuse(s, -EOVERFLOW, "%s: offset + len 0x%llx wraps around", what,
			      (unsigned long long)msg->len);
	else if (msg->shm_offset + msg->len > s->regions[msg->shmid].size)
		*err =
		    refuse(s, -ERANGE, "%s: 0x%llx+0x%llx outside region %u (0x%llx bytes)", what,
			   (unsigned long long)msg->shm_offset, (unsigned long long)msg->len,
			   msg->shmid, (unsigned long long)s->regions[msg->shmid].size);
	return *err ? NULL : &s->regions[msg->shmid];
}

/*
 * A file shorter than the mapping would fault (SIGBUS) on access; refuse it
 * up front. A memfd must also be sealed against shrinking: a back-end that
 * truncated it later would leave the guest's memory slot over nothing.
 */
static int check_fd(struct vhost_user_shmem *s, const struct vhost_user_shmem_map *msg, int fd)
{
	struct stat st;
	int seals;

	if (fstat(fd, &st) < 0)
		return refuse(s, -EBADF, "SHMEM_MAP: descriptor unusable");
	seals = fcntl(fd, F_GET_SEALS);
	if (seals >= 0 && !(seals & F_SEAL_SHRINK))
		return refuse(s, -EPERM,
			      "SHMEM_MAP: memfd not sealed with F_SEAL_SHRINK (a memfd must be, so "
			      "that it cannot shrink under the guest)");
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size < msg->fd_offset + msg->len)
		return refuse(s, -ERANGE, "SHMEM_MAP: file of 0x%llx bytes is shorter than 0x%llx",
			      (unsigned long long)st.st_size,
			      (unsigned long long)(msg->fd_offset + msg->len));
	return 0;
}

static bool overlaps(const struct vhost_user_shmem_region *r, uint64_t offset, uint64_t len)
{
	unsigned i;

	for (i = 0; i < r->nmaps; i++) {
		if (offset < r->maps[i].offset + r->maps[i].len && r->maps[i].offset < offset + len)
			return true;
	}
	return false;
}

/* Map-only checks after the range is known good; returns 0 or a refusal. */
static int check_map(struct vhost_user_shmem *s, const struct vhost_user_shmem_region *r,
		     const struct vhost_user_shmem_map *msg, int fd)
{
	if (msg->flags & ~VHOST_USER_SHMEM_FLAG_RW)
		return refuse(s, -EINVAL, "SHMEM_MAP: unknown flags 0x%llx",
			      (unsigned long long)msg->flags);
	if (overlaps(r, msg->shm_offset, msg->len))
		return refuse(s, -EBUSY, "SHMEM_MAP: 0x%llx+0x%llx overlaps a mapping of region %u",
			      (unsigned long long)msg->shm_offset, (unsigned long long)msg->len,
			      msg->shmid);
	if (r->nmaps == VHOST_USER_SHMEM_MAX_MAPS)
		return refuse(s, -ENOSPC, "SHMEM_MAP: region %u has %u mappings already",
			      msg->shmid, r->nmaps);
	return check_fd(s, msg, fd);
}

int vhost_user_shmem_map(void *opaque, const struct vhost_user_shmem_map *msg, int fd)
{
	struct vhost_user_shmem *s = opaque;
	struct vhost_user_shmem_region *r;
	struct vhost_user_shmem_mapping *m;
	int err;

	r = check_range(s, msg, "SHMEM_MAP", &err);
	if (r)
		err = check_map(s, r, msg, fd);
	if (err) {
		close(fd);
		return err;
	}
	m = &r->maps[r->nmaps];
	*m = (struct vhost_user_shmem_mapping){
	    .offset = msg->shm_offset,
	    .len = msg->len,
	    .fd_offset = msg->fd_offset,
	    .fd = fd,
	    .prot = PROT_READ | (msg->flags & VHOST_USER_SHMEM_FLAG_RW ? PROT_WRITE : 0)};
	if (placed(r)) {
		err = map_live(s, r, m);
		if (err) {
			close(fd);
			return err;
		}
	}
	r->nmaps++;
	return 0;
}

int vhost_user_shmem_unmap(void *opaque, const struct vhost_user_shmem_map *msg)
{
	struct vhost_user_shmem *s = opaque;
	struct vhost_user_shmem_region *r;
	unsigned i;
	int err;

	r = check_range(s, msg, "SHMEM_UNMAP", &err);
	if (!r)
		return err;
	for (i = 0; i < r->nmaps; i++) {
		struct vhost_user_shmem_mapping *m = &r->maps[i];

		if (m->offset != msg->shm_offset || m->len != msg->len)
			continue;
		unmap_live(s, r, m);
		close(m->fd);
		r->maps[i] = r->maps[--r->nmaps];
		return 0;
	}
	return refuse(s, -ENOENT, "SHMEM_UNMAP: no mapping 0x%llx+0x%llx in region %u",
		      (unsigned long long)msg->shm_offset, (unsigned long long)msg->len,
		      msg->shmid);
}

/* True when m's file no longer backs all of m (truncated since the map). */
static bool shrunk(const struct vhost_user_shmem_mapping *m)
{
	struct stat st;

	return fstat(m->fd, &st) == 0 && S_ISREG(st.st_mode) &&
	       (uint64_t)st.st_size < m->fd_offset + m->len;
}

bool vhost_user_shmem_drop_shrunk(struct vhost_user_shmem *s)
{
	bool dropped = false;

	for (unsigned i = 0; i < s->nregions; i++) {
		struct vhost_user_shmem_region *r = &s->regions[i];

		for (unsigned j = 0; j < r->nmaps;) {
			struct vhost_user_shmem_mapping *m = &r->maps[j];

			if (!shrunk(m)) {
				j++;
				continue;
			}
			log_error(
			    s->log_component,
			    "shared-memory region %u: 0x%llx+0x%llx: its file shrank under the "
			    "guest; unmapped",
			    i, (unsigned long long)m->offset, (unsigned long long)m->len);
			unmap_live(s, r, m);
			close(m->fd);
			r->maps[j] = r->maps[--r->nmaps];
			dropped = true;
		}
	}
	return dropped;
}

void vhost_user_shmem_reset(struct vhost_user_shmem *s)
{
	unsigned i, j;

	for (i = 0; i < s->nregions; i++) {
		struct vhost_user_shmem_region *r = &s->regions[i];

		for (j = 0; j < r->nmaps; j++) {
			unmap_live(s, r, &r->maps[j]);
			close(r->maps[j].fd);
		}
		r->nmaps = 0;
	}
}
