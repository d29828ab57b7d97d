/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Threads allocating, reallocating and freeing under two placements at once,
 * and freeing each other's objects through a shared exchange: the allocator's
 * per-thread tcaches, its arena sets created concurrently on first use, and
 * cross-thread frees.  Every object carries a pattern written by its
 * allocator and checked by whoever frees it, and must belong to the set of
 * the policy it was allocated under.  Run under ThreadSanitizer in CI
 * (meson setup build-tsan -Db_sanitize=thread).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alloc/alloc.h"
#include "check.h"
#include "mplace.h"

#define THREADS 4
#define SLOTS	256

struct obj {
	uint32_t size;
	uint8_t policy;
	uint8_t fill;
};

static struct mplace_compiled *pol[2];
static _Atomic(struct obj *) exchange[SLOTS];
static _Atomic unsigned owner_of_policy[2];
static _Atomic unsigned errors;
static unsigned rounds = 40000;

static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Check an object made by make(); count a mismatch; free it. */
static void check_free(struct obj *o)
{
	const uint8_t *b = (const uint8_t *)o;
	unsigned want = atomic_load(&owner_of_policy[o->policy]);

	for (size_t k = sizeof(*o); k < o->size; k++)
		if (b[k] != o->fill) {
			atomic_fetch_add(&errors, 1);
			break;
		}
	if (want && mp_alloc_owner_of(o) != want)
		atomic_fetch_add(&errors, 1);
	mplace_free(o);
}

static struct obj *make(uint64_t *rs)
{
	static const uint32_t sizes[] = {16, 24, 64, 100, 256, 1000, 4096, 9000, 40000, 70000};
	uint32_t size = sizes[next_rand(rs) % (sizeof(sizes) / sizeof(sizes[0]))];
	unsigned p = next_rand(rs) & 1, owner, none = 0;
	struct obj *o = mplace_alloc(pol[p], size);

	if (!o) {
		atomic_fetch_add(&errors, 1);
		return NULL;
	}
	owner = mp_alloc_owner_of(o);
	/* the first object of each policy names its set; all later must agree */
	if (!atomic_compare_exchange_strong(&owner_of_policy[p], &none, owner) && none != owner)
		atomic_fetch_add(&errors, 1);
	o->size = size;
	o->policy = (uint8_t)p;
	o->fill = (uint8_t)next_rand(rs);
	memset((uint8_t *)o + sizeof(*o), o->fill, size - sizeof(*o));
	return o;
}

static void *worker(void *arg)
{
	uint64_t rs = 0x9e3779b97f4a7c15ull * ((uintptr_t)arg + 1);
	struct obj *mine[64] = {0};

	for (unsigned i = 0; i < rounds; i++) {
		unsigned k = (unsigned)(next_rand(&rs) % 64);
		struct obj *o;

		switch (next_rand(&rs) % 4) {
		case 0: /* local alloc and free */
			if (mine[k])
				check_free(mine[k]);
			mine[k] = make(&rs);
			break;
		case 1: /* hand one over: whoever takes the slot frees it */
			o = make(&rs);
			if (o) {
				o = atomic_exchange(&exchange[next_rand(&rs) % SLOTS], o);
				if (o)
					check_free(o);
			}
			break;
		case 2: /* take one made by another thread */
			o = atomic_exchange(&exchange[next_rand(&rs) % SLOTS], NULL);
			if (o)
				check_free(o);
			break;
		case 3: /* grow or shrink in place, or move to the other placement */
			if (mine[k]) {
				unsigned p = next_rand(&rs) & 1;
				uint32_t size = 32 + (uint32_t)(next_rand(&rs) % 20000);
				struct obj *n;
				size_t keep;
				uint8_t fill = mine[k]->fill;

				keep = mine[k]->size < size ? mine[k]->size : size;
				n = mplace_realloc(pol[p], mine[k], size);
				if (!n) {
					atomic_fetch_add(&errors, 1);
					break;
				}
				for (size_t b = sizeof(*n); b < keep; b++)
					if (((uint8_t *)n)[b] != fill) {
						atomic_fetch_add(&errors, 1);
						break;
					}
				n->size = size;
				n->policy = (uint8_t)p;
				memset((uint8_t *)n + sizeof(*n), fill, size - sizeof(*n));
				mine[k] = n;
			}
			break;
		}
	}
	for (unsigned k = 0; k < 64; k++)
		if (mine[k])
			check_free(mine[k]);
	return NULL;
}

static struct mplace_compiled *compile(struct mplace_topo *t, const char *text)
{
	struct mplace_compiled *c = NULL;
	struct mplace_policy *p;

	if (mplace_policy_parse(text, &p, NULL) < 0)
		return NULL;
	if (mplace_resolve(p, t, NULL, &c, NULL) < 0)
		c = NULL;
	mplace_policy_free(p);
	return c;
}

int main(void)
{
	pthread_t th[THREADS];
	struct mplace_topo *t;
	const char *env = getenv("MPLACE_STRESS_ROUNDS");

	if (env)
		rounds = (unsigned)strtoul(env, NULL, 10);
	if (mplace_topo_load(NULL, &t) < 0)
		CHECK_SKIP("no NUMA topology in /sys on this host");
	pol[0] = compile(t, "bind:0");
	pol[1] = compile(t, "interleave:all");
	CHECK(pol[0] && pol[1]);
	if (!pol[0] || !pol[1])
		return check_status();
	for (uintptr_t i = 0; i < THREADS; i++)
		CHECK(pthread_create(&th[i], NULL, worker, (void *)i) == 0);
	for (unsigned i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	for (unsigned i = 0; i < SLOTS; i++) {
		struct obj *o = atomic_exchange(&exchange[i], NULL);

		if (o)
			check_free(o);
	}
	CHECK_MSG(atomic_load(&errors) == 0, "%u objects were wrong", atomic_load(&errors));
	CHECK(owner_of_policy[0] && owner_of_policy[1] && owner_of_policy[0] != owner_of_policy[1]);
	mplace_compiled_free(pol[0]);
	mplace_compiled_free(pol[1]);
	mplace_topo_free(t);
	return check_status();
}
