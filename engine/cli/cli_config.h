/*
 * cli_config.h: the files the CLI reads into the configuration for nodes,
 * which have no io: the tool registry and the runbook files.
 */
#ifndef OG_CLI_CONFIG_H
#define OG_CLI_CONFIG_H

#include <stddef.h>

#include <cJSON.h>

#include "../core/err.h"

/* Completes *config (created as {} when NULL; caller owns) in place:
 *  - "tools": when the config has none, every *.json file of <root>/<tools_dir>
 *    (tools_dir defaults to sandbox/tools; a missing default directory adds
 *    nothing), each with config "tool_overrides"[name] applied over it as
 *    ctx.tools.run applies it (command, timeout_s, url, base_url, headers),
 *    checked (name = file name, params is an
 *    object schema, risk low|medium|high, command argv of strings or http
 *    {method, url});
 *  - services.<svc>.runbook given as a file ("x.md", "x.txt" or
 *    {"file": path}, under root) becomes {"file", "text"}.
 * -OG_EINVAL with the file, the problem and the fix; -OG_ENOMEM. */
int cli_config_prepare(cJSON **config, const char *root, struct og_err *err);

/* The project root the Lua host would guess for graph_file: the parent of
 * its graphs/ directory, else ".". */
void cli_config_guess_root(const char *graph_file, char *out, size_t len);

#endif
