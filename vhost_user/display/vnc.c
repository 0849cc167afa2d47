/* A view-only LibVNCServer view of one GPU scanout: shadow buffer, VNC thread, log routing. */
#include "vhost_user/display/vnc.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <rfb/rfb.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vhost_user/display/display.h"
#include "vmm/log.h"
#include "vmm/util.h"

/* How long the VNC thread waits on clients before it looks at the shadow again. */
#define VNC_POLL_US 20000
#define VNC_MAX_CLIENTS 8
#define VNC_STOP_WAIT_S 3
#define LIBVNC_LOG "libvncserver"

/*
 * LibVNCServer, loaded only when a view is asked for: linked in, it and the
 * TLS and crypto libraries it pulls in cost every VM about 3 MiB of private
 * memory at start-up, viewer or not. Never unloaded: an abandoned VNC
 * thread may still be running its code.
 */
struct libvnc {
	__typeof__(rfbGetScreen) *GetScreen;
	__typeof__(rfbInitServer) *InitServer;
	__typeof__(rfbShutdownServer) *ShutdownServer;
	__typeof__(rfbScreenCleanup) *ScreenCleanup;
	__typeof__(rfbProcessEvents) *ProcessEvents;
	__typeof__(rfbMarkRectAsModified) *MarkRectAsModified;
	__typeof__(rfbNewFramebuffer) *NewFramebuffer;
	__typeof__(rfbGetClientIterator) *GetClientIterator;
	__typeof__(rfbClientIteratorNext) *ClientIteratorNext;
	__typeof__(rfbReleaseClientIterator) *ReleaseClientIterator;
	rfbLogProc *log, *err; /* the library's rfbLog and rfbErr hooks */
};

#define LIBVNC_SONAME "libvncserver.so.1"
/* The exported name after rfb.h's macros (rfbInitServer is one). */
#define SYMBOL_NAME(x) #x
#define SYMBOL(x) SYMBOL_NAME(x)

struct gpu_vnc {
	struct libvnc lib;
	char name[32];
	char log_component[48];
	char where[32]; /* "127.0.0.1:5901", for log lines */
	uint16_t port;

	/* The VNC thread's alone once it runs; LibVNCServer is used on no other thread. */
	rfbScreenInfoPtr screen;
	uint32_t *fb; /* screen->frameBuffer */
	unsigned clients;
	struct log_ratelimit rl;
	pthread_t thread;

	pthread_mutex_t lock; /* guards everything below */
	uint32_t *shadow;     /* width x height; the display thread writes here */
	uint32_t width, height;
	bool resized; /* the shadow's size changed since the VNC thread took it */
	bool dirty;   /* [x0, x1) x [y0, y1) changed since then */
	uint32_t x0, y0, x1, y1;
	bool stopping;	  /* asks the thread to finish */
	bool thread_done; /* the thread released LibVNCServer and needs v no more */
	bool abandoned;	  /* the stopper gave up waiting: the thread frees v */
};

/* LibVNCServer's log hooks take no context, hence one shared component name. */
static void vnc_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void vnc_log(const char *fmt, ...)
{
	int saved_errno = errno; /* callers log after a failure and then read errno */
	char line[256];
	size_t n;
	va_list ap;

	if (log_get_level() >= LOG_DEBUG) {
		va_start(ap, fmt);
		vsnprintf(line, sizeof(line), fmt, ap);
		va_end(ap);
		n = strlen(line);
		while (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		log_debug(LIBVNC_LOG, "%s", line);
	}
	errno = saved_errno;
}

static int libvnc_load(struct libvnc *l, const char *component)
{
	void *h = dlopen(LIBVNC_SONAME, RTLD_NOW | RTLD_LOCAL);
	const struct {
		void **slot;
		const char *name;
	} syms[] = {
	    {(void **)&l->GetScreen, SYMBOL(rfbGetScreen)},
	    {(void **)&l->InitServer, SYMBOL(rfbInitServer)},
	    {(void **)&l->ShutdownServer, SYMBOL(rfbShutdownServer)},
	    {(void **)&l->ScreenCleanup, SYMBOL(rfbScreenCleanup)},
	    {(void **)&l->ProcessEvents, SYMBOL(rfbProcessEvents)},
	    {(void **)&l->MarkRectAsModified, SYMBOL(rfbMarkRectAsModified)},
	    {(void **)&l->NewFramebuffer, SYMBOL(rfbNewFramebuffer)},
	    {(void **)&l->GetClientIterator, SYMBOL(rfbGetClientIterator)},
	    {(void **)&l->ClientIteratorNext, SYMBOL(rfbClientIteratorNext)},
	    {(void **)&l->ReleaseClientIterator, SYMBOL(rfbReleaseClientIterator)},
	    {(void **)&l->log, SYMBOL(rfbLog)},
	    {(void **)&l->err, SYMBOL(rfbErr)},
	};

	if (!h) {
		log_error(component, "vnc=: cannot load %s (%s); install libvncserver1",
			  LIBVNC_SONAME, dlerror());
		return -ENOENT;
	}
	for (size_t i = 0; i < ARRAY_SIZE(syms); i++) {
		*syms[i].slot = dlsym(h, syms[i].name);
		if (!*syms[i].slot) {
			log_error(component, "vnc=: %s lacks %s", LIBVNC_SONAME, syms[i].name);
			return -ENOENT;
		}
	}
	return 0;
}

/*
 * rfbLog and rfbErr are process-wide function pointers. They are written
 * only here, before the first server (and so the first LibVNCServer thread)
 * exists; later servers find them set and only read them. Errors go to debug
 * too: most are a client's doing (a peer must not flood the log), and what
 * matters to the user (cannot listen, clients coming and going) we log
 * ourselves.
 */
static void install_log_hooks(const struct libvnc *l)
{
	if (*l->log != vnc_log)
		*l->log = vnc_log;
	if (*l->err != vnc_log)
		*l->err = vnc_log;
}

int gpu_vnc_parse_addr(const char *text, struct gpu_vnc_addr *addr)
{
	const char *colon = strrchr(text, ':'), *port = colon ? colon + 1 : text;
	char host[INET_ADDRSTRLEN];
	unsigned long v;

	addr->host.s_addr = htonl(INADDR_LOOPBACK);
	if (colon) {
		size_t len = (size_t)(colon - text);

		if (len == 0 || len >= sizeof(host))
			return -EINVAL;
		memcpy(host, text, len);
		host[len] = '\0';
		if (inet_pton(AF_INET, host, &addr->host) != 1)
			return -EINVAL;
	}
	if (!*port || strlen(port) > 5 || strspn(port, "0123456789") != strlen(port))
		return -EINVAL;
	v = strtoul(port, NULL, 10);
	if (v == 0 || v > 65535)
		return -EINVAL;
	addr->port = (uint16_t)v;
	return 0;
}

/* Our pixels are 0x00RRGGBB words in host byte order (B, G, R, X bytes on x86). */
static void set_server_format(rfbScreenInfoPtr s)
{
	s->serverFormat.redShift = 16;
	s->serverFormat.greenShift = 8;
	s->serverFormat.blueShift = 0;
}

static void copy_rect(uint32_t *dst, uint32_t dst_width, const uint32_t *src, uint32_t src_width,
		      uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
	for (uint32_t row = y; row < y + h; row++)
		memcpy(dst + (size_t)row * dst_width + x, src + (size_t)row * src_width + x,
		       (size_t)w * sizeof(uint32_t));
}

static void ignore_key(rfbBool down, rfbKeySym key, rfbClientPtr cl)
{
	(void)down, (void)key, (void)cl;
}

static void ignore_pointer(int buttons, int x, int y, rfbClientPtr cl)
{
	(void)buttons, (void)x, (void)y, (void)cl;
}

static void ignore_cut_text(char *text, int len, rfbClientPtr cl)
{
	(void)text, (void)len, (void)cl;
}

static void on_client_gone(rfbClientPtr cl)
{
	struct gpu_vnc *v = cl->screen->screenData;

	v->clients--;
	if (log_get_level() >= LOG_INFO && log_ratelimit_allow(&v->rl, 10))
		log_info(v->log_component, "%s: VNC client %s left (%u connected)", v->name,
			 cl->host ? cl->host : "?", v->clients);
}

/* Bounds what clients can cost us; every client is view-only. */
static enum rfbNewClientAction on_new_client(rfbClientPtr cl)
{
	struct gpu_vnc *v = cl->screen->screenData;

	if (v->clients >= VNC_MAX_CLIENTS) {
		log_warn_ratelimited(&v->rl, v->log_component,
				     "%s: VNC client %s refused: %u already connected", v->name,
				     cl->host ? cl->host : "?", v->clients);
		return RFB_CLIENT_REFUSE;
	}
	v->clients++;
	cl->viewOnly = TRUE;
	cl->clientGoneHook = on_client_gone;
	if (log_get_level() >= LOG_INFO && log_ratelimit_allow(&v->rl, 10))
		log_info(v->log_component, "%s: VNC client %s connected (%u connected)", v->name,
			 cl->host ? cl->host : "?", v->clients);
	return RFB_CLIENT_ACCEPT;
}

/* VNC thread: a new size. rfbNewFramebuffer resets the format, so ours is put back. */
static void switch_framebuffer(struct gpu_vnc *v, uint32_t *fresh, uint32_t w, uint32_t h)
{
	uint32_t *old = v->fb;
	rfbClientIteratorPtr it;
	rfbClientPtr cl;

	v->fb = fresh;
	v->lib.NewFramebuffer(v->screen, (char *)fresh, (int)w, (int)h, 8, 3, 4);
	set_server_format(v->screen);
	it = v->lib.GetClientIterator(v->screen);
	while ((cl = v->lib.ClientIteratorNext(it)))
		v->screen->setTranslateFunction(cl);
	v->lib.ReleaseClientIterator(it);
	free(old); /* single-threaded LibVNCServer: nothing reads it any more */
}

/* VNC thread: brings fb up to date with the shadow, then tells LibVNCServer what changed. */
static void take_changes(struct gpu_vnc *v)
{
	uint32_t *fresh = NULL, w = 0, h = 0, x0 = 0, y0 = 0, x1 = 0, y1 = 0;
	bool dirty = false;

	pthread_mutex_lock(&v->lock);
	if (v->resized) {
		w = v->width;
		h = v->height;
		fresh = malloc((size_t)w * h * sizeof(uint32_t));
		if (fresh) {
			memcpy(fresh, v->shadow, (size_t)w * h * sizeof(uint32_t));
			v->resized = v->dirty = false;
		}
	} else if (v->dirty) {
		/* Not resized: fb has the shadow's size. */
		x0 = v->x0, y0 = v->y0, x1 = v->x1, y1 = v->y1;
		copy_rect(v->fb, v->width, v->shadow, v->width, x0, y0, x1 - x0, y1 - y0);
		v->dirty = false;
		dirty = true;
	}
	pthread_mutex_unlock(&v->lock);
	if (fresh)
		switch_framebuffer(v, fresh, w, h);
	else if (dirty)
		v->lib.MarkRectAsModified(v->screen, (int)x0, (int)y0, (int)x1, (int)y1);
	else if (w)
		log_warn_ratelimited(&v->rl, v->log_component,
				     "%s: VNC: no memory for a %ux%u view; retrying", v->name, w,
				     h);
}

static void free_shared(struct gpu_vnc *v)
{
	pthread_mutex_destroy(&v->lock);
	free(v->shadow);
	free(v);
}

static void close_screen(struct gpu_vnc *v)
{
	v->lib.ShutdownServer(v->screen, TRUE);
	v->lib.ScreenCleanup(v->screen);
	v->screen = NULL;
	free(v->fb);
	v->fb = NULL;
}

static void *vnc_thread(void *arg)
{
	struct gpu_vnc *v = arg;
	bool stopping = false, abandoned;

	while (!stopping) {
		take_changes(v);
		v->lib.ProcessEvents(v->screen, VNC_POLL_US);
		pthread_mutex_lock(&v->lock);
		stopping = v->stopping;
		pthread_mutex_unlock(&v->lock);
	}
	close_screen(v);
	pthread_mutex_lock(&v->lock);
	v->thread_done = true;
	abandoned = v->abandoned;
	pthread_mutex_unlock(&v->lock);
	if (abandoned)
		free_shared(v);
	return NULL;
}

/* Creates the rfbScreen and binds its port; logs why when it cannot. */
static int open_screen(struct gpu_vnc *v, const struct gpu_vnc_addr *addr, uint32_t w, uint32_t h)
{
	rfbScreenInfoPtr s = v->lib.GetScreen(NULL, NULL, (int)w, (int)h, 8, 3, 4);
	int err;

	if (!s)
		return -ENOMEM;
	s->frameBuffer = (char *)v->fb;
	set_server_format(s);
	s->desktopName = v->name;
	s->screenData = v;
	s->autoPort = FALSE;
	s->port = addr->port;
	s->ipv6port = 0; /* its default listens on every IPv6 address */
	s->listenInterface = addr->host.s_addr;
	s->alwaysShared = TRUE; /* a second viewer must not disconnect the first */
	s->cursor = NULL;	/* else it draws an arrow into the picture */
	s->kbdAddEvent = ignore_key;
	s->ptrAddEvent = ignore_pointer;
	s->setXCutText = ignore_cut_text;
	s->newClientHook = on_new_client;
	/* ignoreSIGPIPE stays on: it sets SIG_IGN, which the VMM has already done. */
	errno = 0;
	v->lib.InitServer(s);
	if (s->listenSock == RFB_INVALID_SOCKET) {
		err = errno ? -errno : -EADDRNOTAVAIL;
		log_error(v->log_component, "%s: cannot listen for VNC on %s: %s", v->name,
			  v->where, strerror(-err));
		v->lib.ShutdownServer(s, TRUE);
		v->lib.ScreenCleanup(s);
		return err;
	}
	v->screen = s;
	return 0;
}

int gpu_vnc_start(struct gpu_vnc **out, const char *name, const struct gpu_vnc_addr *addr,
		  uint32_t width, uint32_t height)
{
	size_t pixels = (size_t)width * height;
	char host[INET_ADDRSTRLEN];
	struct gpu_vnc *v;
	int err;

	if (!addr->port || !width || !height || width > GPU_DISPLAY_MAX_DIM ||
	    height > GPU_DISPLAY_MAX_DIM || strlen(name) >= sizeof(v->name))
		return -EINVAL;
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	strcpy(v->name, name);
	snprintf(v->log_component, sizeof(v->log_component), "gpu-vnc %s", name);
	err = libvnc_load(&v->lib, v->log_component);
	if (err) {
		free(v);
		return err;
	}
	install_log_hooks(&v->lib);
	inet_ntop(AF_INET, &addr->host, host, sizeof(host));
	snprintf(v->where, sizeof(v->where), "%s:%u", host, addr->port);
	v->port = addr->port;
	v->width = width;
	v->height = height;
	v->shadow = calloc(pixels, sizeof(uint32_t));
	v->fb = calloc(pixels, sizeof(uint32_t));
	pthread_mutex_init(&v->lock, NULL);
	err = v->shadow && v->fb ? open_screen(v, addr, width, height) : -ENOMEM;
	if (!err) {
		err = -pthread_create(&v->thread, NULL, vnc_thread, v);
		if (err)
			close_screen(v);
	}
	if (err) {
		free(v->fb);
		free_shared(v);
		return err;
	}
	log_info(v->log_component, "%s: VNC view of scanout 0 on %s (view-only, no password)", name,
		 v->where);
	*out = v;
	return 0;
}

uint16_t gpu_vnc_port(const struct gpu_vnc *v)
{
	return v->port;
}

/* Lock held. */
static void mark_dirty(struct gpu_vnc *v, uint32_t x0, uint32_t y0, uint32_t x1, uint32_t y1)
{
	if (!v->dirty) {
		v->x0 = x0, v->y0 = y0, v->x1 = x1, v->y1 = y1;
		v->dirty = true;
		return;
	}
	v->x0 = x0 < v->x0 ? x0 : v->x0;
	v->y0 = y0 < v->y0 ? y0 : v->y0;
	v->x1 = x1 > v->x1 ? x1 : v->x1;
	v->y1 = y1 > v->y1 ? y1 : v->y1;
}

void gpu_vnc_resize(struct gpu_vnc *v, uint32_t width, uint32_t height)
{
	uint32_t *fresh, *old;

	if (!width || !height || width > GPU_DISPLAY_MAX_DIM || height > GPU_DISPLAY_MAX_DIM)
		return;
	fresh = calloc((size_t)width * height, sizeof(uint32_t)); /* outside the lock */
	if (!fresh) {
		log_warn(v->log_component, "%s: VNC: no memory for %ux%u; view not resized",
			 v->name, width, height);
		return;
	}
	pthread_mutex_lock(&v->lock);
	old = v->shadow;
	v->shadow = fresh;
	v->width = width;
	v->height = height;
	v->resized = true;
	v->dirty = false;
	pthread_mutex_unlock(&v->lock);
	free(old);
}

void gpu_vnc_blank(struct gpu_vnc *v)
{
	pthread_mutex_lock(&v->lock);
	memset(v->shadow, 0, (size_t)v->width * v->height * sizeof(uint32_t));
	mark_dirty(v, 0, 0, v->width, v->height);
	pthread_mutex_unlock(&v->lock);
}

void gpu_vnc_update(struct gpu_vnc *v, const uint32_t *pixels, uint32_t src_width, uint32_t x,
		    uint32_t y, uint32_t w, uint32_t h)
{
	pthread_mutex_lock(&v->lock);
	if (x < v->width && y < v->height && w && h) {
		w = w < v->width - x ? w : v->width - x;
		h = h < v->height - y ? h : v->height - y;
		copy_rect(v->shadow, v->width, pixels, src_width, x, y, w, h);
		mark_dirty(v, x, y, x + w, y + h);
	}
	pthread_mutex_unlock(&v->lock);
}

void gpu_vnc_stop(struct gpu_vnc *v)
{
	char component[sizeof(v->log_component)], name[sizeof(v->name)];
	struct timespec deadline;
	pthread_t thread;
	bool done;

	if (!v)
		return;
	pthread_mutex_lock(&v->lock);
	v->stopping = true;
	pthread_mutex_unlock(&v->lock);
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += VNC_STOP_WAIT_S;
	if (pthread_timedjoin_np(v->thread, NULL, &deadline) == 0) {
		free_shared(v);
		return;
	}
	/*
	 * A client holds the thread in a blocking read or write (LibVNCServer's
	 * own timeout). Once abandoned is set the thread may free v at any time:
	 * keep what we still need.
	 */
	thread = v->thread;
	snprintf(component, sizeof(component), "%s", v->log_component);
	snprintf(name, sizeof(name), "%s", v->name);
	pthread_mutex_lock(&v->lock);
	done = v->thread_done;
	v->abandoned = !done;
	pthread_mutex_unlock(&v->lock);
	if (done) {
		pthread_join(thread, NULL);
		free_shared(v);
		return;
	}
	log_warn(component, "%s: VNC thread busy with a client; it will finish on its own", name);
	pthread_detach(thread);
}
