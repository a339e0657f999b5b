/*
 * Engine shared objects stay mapped until the process exits.
 *
 * A dynamic engine (libp11's pkcs11.so, a vendor's gem or cloudhsm
 * engine) allocates its methods when OpenSSL binds it and keeps them in
 * its own static variables. At exit OpenSSL's cleanup frees the engine and
 * unloads the shared object; the methods are then referenced from nowhere
 * and LeakSanitizer reports them as ours. Marking every loaded engine
 * object RTLD_NODELETE (dlopen with RTLD_NOLOAD promotes the flag of an
 * object already loaded) keeps them referenced, and costs nothing: an
 * engine is loaded once for the life of the process anyway.
 */
#define _GNU_SOURCE 1
#include <dlfcn.h>
#include <link.h>

#include "hsm/hsm_int.h"

static int keep_one(struct dl_phdr_info *info, size_t size, void *arg)
{
	void *h;

	(void)size;
	(void)arg;
	if (!info->dlpi_name || !info->dlpi_name[0]) {
		return 0;
	}
	h = dlopen(info->dlpi_name, RTLD_LAZY | RTLD_NOLOAD);
	if (!h) {
		return 0;
	}
	/* Dynamic engines export bind_engine (OpenSSL's engine.h). */
	if (dlsym(h, "bind_engine")) {
		void *pin = dlopen(info->dlpi_name,
				   RTLD_LAZY | RTLD_NOLOAD | RTLD_NODELETE);

		if (pin) {
			dlclose(pin);
		}
	}
	dlclose(h);
	return 0;
}

void stls__hsm_keep_engines(void)
{
	dl_iterate_phdr(keep_one, NULL);
}
