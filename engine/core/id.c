/*
 * id.c: thread and task identifiers.
 */
#include "id.h"

#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "clock.h"

void og_id_thread(char buf[OG_ID_LEN])
{
	uint64_t rnd = 0;
	int64_t ms = og_clock_wall_ms();

	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		rnd = og_id_hash(&ms, sizeof(ms), (uint64_t)og_clock_mono_us());
	snprintf(buf, OG_ID_LEN, "%012llx-%014llx", (unsigned long long)ms & 0xffffffffffffULL,
		 (unsigned long long)(rnd & 0xffffffffffffffULL));
}

uint64_t og_id_hash(const void *data, size_t len, uint64_t seed)
{
	const unsigned char *p = data;
	uint64_t h = seed;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

void og_id_hex16(char buf[17], uint64_t h)
{
	static const char hex[] = "0123456789abcdef";
	int i;

	for (i = 15; i >= 0; i--, h >>= 4)
		buf[i] = hex[h & 15];
	buf[16] = '\0';
}

void og_id_task(char buf[17], const char *thread, int step, const char *node, int index)
{
	uint64_t h = OG_ID_HASH_SEED;

	h = og_id_hash(thread, strlen(thread) + 1, h);
	h = og_id_hash(&step, sizeof(step), h);
	h = og_id_hash(node, strlen(node) + 1, h);
	h = og_id_hash(&index, sizeof(index), h);
	og_id_hex16(buf, h);
}
