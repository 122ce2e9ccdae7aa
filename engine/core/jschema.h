/*
 * jschema.h: a JSON-schema validator over cJSON trees, for the answers of
 * LLMs (engine/lua/lapi_llm.c checks every answer against its role's schema
 * and feeds the errors back to the model in one repair retry) and anything
 * else in C that must check JSON against a schema. nodes/lib/schema.lua is
 * the same subset for Lua code.
 *
 * The subset: type (a name or a list of names; "integer" is a number with no
 * fraction), properties, required, enum, const, items (one schema for every
 * item), minItems, maxItems, additionalProperties (a boolean or a schema),
 * minLength, maxLength (in UTF-8 characters), minimum, maximum,
 * exclusiveMinimum, exclusiveMaximum (numbers, draft 6+), pattern (an
 * ECMA regex translated to POSIX extended: \d \w \s \D \W \S and escaped
 * punctuation are translated; lookarounds, backreferences, lazy or
 * possessive quantifiers and \b are refused by og_jschema_check, since
 * POSIX cannot match them; ERE has no backreferences, so matching cannot
 * backtrack badly). true and false are schemas too. Other keywords are
 * ignored, as JSON schema does with unknown ones.
 *
 * Errors name the JSON path of the value, 0-based, from "$":
 *   $.actions[2].risk: "extreme" is not one of low, medium, high
 *   $.confidence: 1.5 is above the maximum 1
 *   $: "root_cause" is required
 */
#ifndef OG_JSCHEMA_H
#define OG_JSCHEMA_H

#include <cJSON.h>

#include "err.h"

/* At most this many errors are listed in one message (the rest are counted). */
#define OG_JSCHEMA_MAX_ERRORS 8

/* Checks that schema is a schema this validator understands: keywords of
 * the subset with values of the right type, patterns that translate and
 * compile. Returns 0, or -OG_EINVAL with the keyword's schema path, e.g.
 * "schema #/properties/risk/enum: must be an array". */
int og_jschema_check(const cJSON *schema, struct og_err *err);

/* Validates v against schema (checked or not: a malformed keyword is
 * reported as an error of the schema). Returns 0 when v is valid; else
 * -OG_EINVAL and err->msg lists the errors in document order, joined by
 * "; ", with "(and N more)" after OG_JSCHEMA_MAX_ERRORS of them. */
int og_jschema_validate(const cJSON *schema, const cJSON *v, struct og_err *err);

#endif
