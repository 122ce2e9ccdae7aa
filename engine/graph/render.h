/*
 * render.h: a validated graph as a diagram, Mermaid (for Markdown and the web
 * UI) or Graphviz DOT. Nodes keep their declaration order so the same graph
 * always renders to the same bytes.
 */
#ifndef OG_RENDER_H
#define OG_RENDER_H

#include "../core/err.h"
#include "graph.h"

enum og_render_format { OG_RENDER_MERMAID, OG_RENDER_DOT };

/* Returns a new NUL-terminated string (caller frees with free()) or NULL with
 * err set: -OG_ESTATE when g was not validated, -OG_EINVAL when highlight
 * names no node, -OG_ENOMEM. highlight: a node name to emphasise (the current
 * node in the UI; "__start__"/"__end__" allowed), or NULL / "" for none. */
char *og_render_graph(const struct og_graph *g, enum og_render_format fmt, const char *highlight,
		      struct og_err *err);

/* "mermaid" | "dot" -> *out. Returns 0, or -OG_EINVAL with a message listing
 * the valid names. */
int og_render_parse_format(const char *name, enum og_render_format *out, struct og_err *err);

#endif
