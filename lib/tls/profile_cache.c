/*
 * Certificate and key files parsed once while their bytes stay the same.
 *
 * A reload reads every file again (docs/profiles.md: a set is built from
 * what the files say now), but with thousands of tenants most files have
 * not changed, and parsing them is most of a build's cost: OpenSSL 3.0
 * spends 1.5 million instructions on each certificate. So the parsed
 * objects are kept, process-wide, under the SHA-256 of the file's bytes:
 * a build reads each file, and when its digest is known, takes the same
 * X509 or EVP_PKEY objects (OpenSSL objects shared by reference, as
 * contexts share them). A changed byte is a new digest, so a changed file
 * is parsed again; a parse that fails is never cached, so its messages
 * are the usual ones. PEM text held in a database row (profile_pem.c) is
 * digested and cached the same way.
 *
 * Entries are tagged with the last build (stls__pcache_begin()) that used
 * them, and stls__pcache_end() drops those that neither that build nor
 * the one before used: a daemon that reloads one configuration keeps
 * what its current and previous sets hold, which they hold anyway. A
 * build that fails calls stls__pcache_forget() first, which drops what
 * that build added and no later build took: a failed build leaves
 * nothing behind.
 *
 * A file that holds both its certificates and its key (the seed's key
 * after the certificate) has one entry with both.
 *
 * Thread-safe: one mutex around the table. Parsing happens outside it,
 * on whichever thread reads the file (profile_ahead.c runs several); the
 * mutex also publishes the parsed objects to the threads that take them.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "tls/profile_int.h"

/* Larger files are not cached (certificate and key files are small). */
#define PC_MAX_FILE (1024 * 1024)

struct pc_entry {
	unsigned char md[STLS__PC_MD_LEN];
	STACK_OF(X509) *certs; /* a certificate file: leaf first, or */
	EVP_PKEY *key;         /* a key file */
	uint64_t born;         /* the build that added it */
	uint64_t used;         /* the last build that used it */
	struct pc_entry *next;
};

static pthread_mutex_t pc_lock = PTHREAD_MUTEX_INITIALIZER;
static struct stls__hmap pc_map;
static struct pc_entry *pc_all;
static uint64_t pc_builds;
static pthread_once_t pc_once = PTHREAD_ONCE_INIT;
static EVP_MD *pc_sha256;

static void pc_init(void)
{
	pc_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	ERR_clear_error();
}

static uint64_t md_hash(const unsigned char *md)
{
	uint64_t h;

	memcpy(&h, md, sizeof(h));
	return h;
}

static bool md_eq(const void *val, const void *key)
{
	return memcmp(((const struct pc_entry *)val)->md, key,
		      STLS__PC_MD_LEN) == 0;
}

static void entry_free(struct pc_entry *e)
{
	sk_X509_pop_free(e->certs, X509_free);
	EVP_PKEY_free(e->key);
	free(e);
}

uint64_t stls__pcache_begin(void)
{
	uint64_t id;

	pthread_mutex_lock(&pc_lock);
	id = ++pc_builds;
	pthread_mutex_unlock(&pc_lock);
	return id;
}

/* Remakes the map from the list (open addressing has no removal). Locked. */
static void remap(void)
{
	struct stls__hmap map;
	struct pc_entry *e;
	bool ok = true;

	stls__hmap_init(&map);
	for (e = pc_all; e && ok; e = e->next) {
		ok = stls__hmap_add(&map, md_hash(e->md), e) == 0;
	}
	if (!ok) {
		/* Out of memory: forget everything rather than half. */
		while ((e = pc_all) != NULL) {
			pc_all = e->next;
			entry_free(e);
		}
		stls__hmap_fini(&map);
	}
	stls__hmap_fini(&pc_map);
	pc_map = map;
}

/* Drops the entries <drop> says; then remakes the map. Locked. */
static void drop_if(uint64_t id, bool (*drop)(const struct pc_entry *e,
					      uint64_t id))
{
	struct pc_entry **pp, *e;

	for (pp = &pc_all; (e = *pp) != NULL;) {
		if (drop(e, id)) {
			*pp = e->next;
			entry_free(e);
			continue;
		}
		pp = &e->next;
	}
	remap();
}

/* Neither build <id> nor the one before used it. */
static bool is_stale(const struct pc_entry *e, uint64_t id)
{
	return e->used + 1 < id;
}

/* Build <id> added it and no later build took it. */
static bool is_only_of(const struct pc_entry *e, uint64_t id)
{
	return e->born == id && e->used == id;
}

void stls__pcache_forget(uint64_t id)
{
	pthread_mutex_lock(&pc_lock);
	drop_if(id, is_only_of);
	pthread_mutex_unlock(&pc_lock);
}

void stls__pcache_end(uint64_t id)
{
	pthread_mutex_lock(&pc_lock);
	drop_if(id, is_stale);
	pthread_mutex_unlock(&pc_lock);
}

int stls__pcache_read(const char *path, struct stls__pc_file *f)
{
	struct stat st;
	ssize_t r;
	size_t n = 0;
	int fd, err = 0;

	f->data = NULL;
	f->len = 0;
	if (pthread_once(&pc_once, pc_init) != 0 || !pc_sha256) {
		return -ENOSYS;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		return -errno;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > PC_MAX_FILE) {
		close(fd);
		return -EFBIG;
	}
	f->data = malloc((size_t)st.st_size + 1);
	while (f->data && n < (size_t)st.st_size &&
	       (r = read(fd, f->data + n, (size_t)st.st_size - n)) > 0) {
		n += (size_t)r;
	}
	close(fd);
	if (!f->data || n != (size_t)st.st_size) {
		err = f->data ? -EIO : -ENOMEM;
	} else if (EVP_Digest(f->data, n, f->md, NULL, pc_sha256, NULL) != 1) {
		ERR_clear_error();
		err = -EPROTO;
	}
	if (err) {
		stls__pcache_file_fini(f);
		return err;
	}
	f->len = n;
	return 0;
}

int stls__pcache_text(const char *text, struct stls__pc_file *f)
{
	size_t n = strlen(text);

	f->data = NULL;
	f->len = 0;
	if (pthread_once(&pc_once, pc_init) != 0 || !pc_sha256) {
		return -ENOSYS;
	}
	if (n > PC_MAX_FILE) {
		return -EFBIG;
	}
	f->data = malloc(n + 1);
	if (!f->data) {
		return -ENOMEM;
	}
	memcpy(f->data, text, n + 1);
	f->len = n;
	if (EVP_Digest(f->data, n, f->md, NULL, pc_sha256, NULL) != 1) {
		ERR_clear_error();
		stls__pcache_file_fini(f);
		return -EPROTO;
	}
	return 0;
}

void stls__pcache_file_fini(struct stls__pc_file *f)
{
	if (f->data) {
		OPENSSL_cleanse(f->data, f->len);
	}
	free(f->data);
	f->data = NULL;
	f->len = 0;
}

/* The entry of <md> marked used by build <id>, or NULL. Locked. */
static struct pc_entry *find(uint64_t id, const unsigned char *md)
{
	struct pc_entry *e = stls__hmap_get(&pc_map, md_hash(md), md_eq, md);

	if (e && e->used < id) {
		e->used = id;
	}
	return e;
}

STACK_OF(X509) *stls__pcache_get_certs(uint64_t id, const unsigned char *md)
{
	STACK_OF(X509) *sk = NULL;
	struct pc_entry *e;

	pthread_mutex_lock(&pc_lock);
	e = find(id, md);
	if (e && e->certs) {
		sk = X509_chain_up_ref(e->certs);
	}
	pthread_mutex_unlock(&pc_lock);
	return sk;
}

EVP_PKEY *stls__pcache_get_key(uint64_t id, const unsigned char *md)
{
	EVP_PKEY *key = NULL;
	struct pc_entry *e;

	pthread_mutex_lock(&pc_lock);
	e = find(id, md);
	if (e && e->key && EVP_PKEY_up_ref(e->key)) {
		key = e->key;
	}
	pthread_mutex_unlock(&pc_lock);
	return key;
}

/*
 * Adds <certs> or <key> (references taken) to the entry of <md>, a new
 * one when there is none. What an entry already holds stays: two threads
 * that parsed the same file keep the first one's objects.
 */
static void put(uint64_t id, const unsigned char *md, STACK_OF(X509) *certs,
		EVP_PKEY *key)
{
	struct pc_entry *e, *n = calloc(1, sizeof(*n));

	pthread_mutex_lock(&pc_lock);
	e = find(id, md);
	if (e) {
		if (certs && !e->certs) {
			e->certs = certs;
			certs = NULL;
		}
		if (key && !e->key) {
			e->key = key;
			key = NULL;
		}
	} else if (n && stls__hmap_add(&pc_map, md_hash(md), n) == 0) {
		memcpy(n->md, md, STLS__PC_MD_LEN);
		n->certs = certs;
		n->key = key;
		n->born = id;
		n->used = id;
		n->next = pc_all;
		pc_all = n;
		n = NULL;
		certs = NULL;
		key = NULL;
	}
	pthread_mutex_unlock(&pc_lock);
	free(n);
	sk_X509_pop_free(certs, X509_free);
	EVP_PKEY_free(key);
}

void stls__pcache_put_certs(uint64_t id, const unsigned char *md,
			    STACK_OF(X509) *certs)
{
	STACK_OF(X509) *sk = X509_chain_up_ref(certs);

	if (sk) {
		put(id, md, sk, NULL);
	}
}

void stls__pcache_put_key(uint64_t id, const unsigned char *md, EVP_PKEY *key)
{
	if (EVP_PKEY_up_ref(key)) {
		put(id, md, NULL, key);
	}
}

size_t stls__pcache_count(void)
{
	size_t n;

	pthread_mutex_lock(&pc_lock);
	n = pc_map.n;
	pthread_mutex_unlock(&pc_lock);
	return n;
}
