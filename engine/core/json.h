/*
 * json.h: compact JSON text from cJSON trees, fast. cJSON_PrintUnformatted
 * formats every number through sprintf and sscanf and grows its buffer in
 * small steps; checkpoints print several values per superstep, so the
 * printer was a tenth of a benchmarked incident run. The text is cJSON's
 * except for numbers, which here always read back to the same double (cJSON
 * keeps 15 digits when they are "close enough" and prints integers above
 * 2^31 in exponent form with 15 digits, losing the last ones).
 */
#ifndef OG_JSON_H
#define OG_JSON_H

#include <stddef.h>

#include <cJSON.h>

/* Prints v unformatted into a new NUL-terminated string (free() it); *len,
 * when not NULL, receives its length. NULL v prints "null". Returns NULL
 * when memory runs out or the tree is nested deeper than 1000 levels. */
char *og_json_print(const cJSON *v, size_t *len);

/* og_json_print without the length, a drop-in for cJSON_PrintUnformatted. */
static inline char *og_json_print_text(const cJSON *v)
{
	return og_json_print(v, NULL);
}

#endif
