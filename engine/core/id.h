/*
 * id.h: identifiers. Thread ids are time-ordered (so listings sort by age) and
 * random enough that two processes never collide; task ids are a hash of where
 * the task sits in the run, so a re-executed task keeps its id.
 */
#ifndef OG_ID_H
#define OG_ID_H

#include <stddef.h>
#include <stdint.h>

#define OG_ID_LEN 28	/* thread id: 12 hex time + '-' + 14 hex random, + NUL */

/* Writes a new thread id into buf (OG_ID_LEN bytes). */
void og_id_thread(char buf[OG_ID_LEN]);

/* FNV-1a 64 of bytes, chainable: pass the previous result as seed. */
uint64_t og_id_hash(const void *data, size_t len, uint64_t seed);
#define OG_ID_HASH_SEED 0xcbf29ce484222325ULL

/* h as 16 lowercase hex digits + NUL (snprintf's "%016llx", without it). */
void og_id_hex16(char buf[17], uint64_t h);

/* Task id: 16 hex chars + NUL. */
void og_id_task(char buf[17], const char *thread, int step, const char *node, int index);

#endif
