/*
 * lconv.h: cJSON <-> Lua values, the one place where graph state crosses into
 * node code and node writes cross back. JSON null is og.null (a light userdata
 * NULL) inside tables, so object keys and array slots are not lost; JSON arrays
 * carry a marker metatable, so an empty array stays an array after a round trip.
 * Lua -> JSON sorts object keys, so equal tables always give equal bytes.
 * Both directions stop at OG_LCONV_MAX_DEPTH nested containers.
 */
#ifndef OG_LCONV_H
#define OG_LCONV_H

#include <stdbool.h>

#include <cJSON.h>
#include <lua.h>

#include "../core/err.h"

/* Containers (arrays/objects/tables) nested deeper than this are refused. The
 * top-level container is level 1. */
#define OG_LCONV_MAX_DEPTH 64

/* Push og.null: a light userdata NULL. [-0, +1, -] */
void og_lconv_push_null(lua_State *L);

/* Is the value at idx og.null? [-0, +0, -] */
bool og_lconv_is_null(lua_State *L, int idx);

/* Create the array-marker metatable and keep it in the registry (keyed by the
 * address of a static). Call once per lua_State, in protected mode. Optional:
 * og_lconv_push_array_mt creates it on first use. [-0, +0, m] */
void og_lconv_init(lua_State *L);

/* Push the array-marker metatable (what og.array() sets on its table). Creates
 * it if og_lconv_init has not run yet. [-0, +1, m] */
void og_lconv_push_array_mt(lua_State *L);

/* Push v as a Lua value. NULL v, JSON null at the top level, and cJSON_Invalid
 * push nil; null inside arrays/objects becomes og.null. Integral numbers within
 * +-2^53 become Lua integers, others floats. Arrays become sequences 1..n with
 * the array-marker metatable. cJSON_Raw items push their text as a string.
 * Raises a Lua error if v nests deeper than OG_LCONV_MAX_DEPTH, so call it in
 * protected mode. v stays owned by the caller. [-0, +1, e] */
void og_lconv_push(lua_State *L, const cJSON *v);

/* [-0, +1, m] s[0..n) as a Lua string of valid UTF-8 (what ctx.json.encode
 * and the JSON journal accept): NUL and bytes that are not UTF-8 become
 * U+FFFD. For text from outside: tool output, response bodies, file lines. */
void og_lconv_push_utf8(lua_State *L, const char *s, size_t n);

/* Convert the Lua value at idx to a new cJSON tree; the caller owns it
 * (cJSON_Delete). nil and og.null at the top level give JSON null. Tables with
 * the array-marker metatable, and tables whose keys are exactly 1..n (n >= 1),
 * become arrays; other tables become objects with string keys in byte order
 * (an empty table without the marker is {}). Metatables are otherwise ignored
 * and no metamethod runs.
 * On failure returns NULL and fills err: -OG_EINVAL for a value JSON cannot
 * hold, naming its path, e.g. "cannot convert a function to JSON at
 * 'writes.facts.cb[2]'" (indices are Lua's, 1-based); -OG_ENOMEM if memory or
 * Lua stack runs out. `what` (may be NULL) prefixes the path. Never raises a
 * Lua error and never allocates Lua memory. [-0, +0, -] */
cJSON *og_lconv_to_json(lua_State *L, int idx, const char *what, struct og_err *err);

/* og_lconv_to_json then og_json_print, without the tree: the same text, the
 * same errors. Returns a new NUL-terminated string (free() it) and its
 * length in *len (when not NULL), or NULL with err filled. [-0, +0, -] */
char *og_lconv_to_json_text(lua_State *L, int idx, const char *what, size_t *len, struct og_err *err);

#endif
