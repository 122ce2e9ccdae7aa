/*
 * render.c: draws a validated graph as Mermaid or Graphviz DOT text, for the
 * CLI and the web UI. Every kind of link keeps its own look: plain edges are
 * solid, routes (conditional edges) dashed to each declared target, declared
 * Command goto / Send destinations dotted and labelled "goto", and a join is
 * drawn as a small join point that each source feeds and that feeds the
 * target, so a reader sees the target wait for all of them. Nodes get
 * generated ids (n_<index>, join_<k> numbered like og_graph.join_edge) and
 * carry their real names as escaped labels, so no node name can break the
 * syntax or collide with a keyword. Output follows declaration order and is
 * byte-for-byte deterministic.
 */
#include "render.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/strbuf.h"

/* Diagram id of a node index (or START/END) into buf. */
static const char *node_id(int node, char *buf, size_t len)
{
	if (node == OG_START)
		return OG_START_NAME;
	if (node == OG_END)
		return OG_END_NAME;
	snprintf(buf, len, "n_%d", node);
	return buf;
}

/* Text of a Mermaid quoted label: entity codes for the characters Mermaid
 * would read as syntax or markup, spaces for control characters. */
static void mermaid_text(struct og_strbuf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		switch (c) {
		case '"': og_strbuf_puts(b, "#quot;"); break;
		case '#': og_strbuf_puts(b, "#35;"); break;
		case '&': og_strbuf_puts(b, "#38;"); break;
		case '<': og_strbuf_puts(b, "#60;"); break;
		case '>': og_strbuf_puts(b, "#62;"); break;
		case '`': og_strbuf_puts(b, "#96;"); break;
		default: og_strbuf_putn(b, c < 0x20 || c == 0x7f ? " " : s, 1); break;
		}
	}
}

/* A DOT double-quoted string, quotes included. */
static void dot_quoted(struct og_strbuf *b, const char *s)
{
	og_strbuf_putn(b, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			og_strbuf_putn(b, "\\", 1);
			og_strbuf_putn(b, s, 1);
		} else if (c == '\n') {
			og_strbuf_puts(b, "\\n");
		} else {
			og_strbuf_putn(b, c < 0x20 || c == 0x7f ? " " : s, 1);
		}
	}
	og_strbuf_putn(b, "\"", 1);
}

/* Where a declared destination leads: a node index, OG_START/OG_END, or
 * < OG_END when unknown (validate rejects that; skipped defensively). */
static int dest_node(const struct og_graph *g, const char *name)
{
	return og_graph_find_node(g, name);
}

static int end_is_used(const struct og_graph *g)
{
	int i, k;

	for (i = 0; i < g->nedges; i++)
		if (g->edges[i].to == OG_END)
			return 1;
	for (i = 0; i < g->nroutes; i++)
		for (k = 0; k < g->routes[i].ntargets; k++)
			if (g->routes[i].targets[k] == OG_END)
				return 1;
	for (i = 0; i < g->nnodes; i++)
		for (k = 0; k < g->nodes[i].ndestinations; k++)
			if (dest_node(g, g->nodes[i].destinations[k]) == OG_END)
				return 1;
	return 0;
}

/* The link styles both formats draw. */
enum link { LINK_EDGE, LINK_ROUTE, LINK_GOTO };

static void mermaid_link(struct og_strbuf *b, const char *from, const char *to, enum link kind)
{
	static const char *const arrow[] = { " --> ", " -.-> ", " -. goto .-> " };

	og_strbuf_printf(b, "    %s%s%s\n", from, arrow[kind], to);
}

static void dot_link(struct og_strbuf *b, const char *from, const char *to, enum link kind)
{
	static const char *const attrs[] = { "", " [style=dashed]", " [style=dotted, label=\"goto\"]" };

	og_strbuf_printf(b, "  \"%s\" -> \"%s\"%s;\n", from, to, attrs[kind]);
}

typedef void (*link_fn)(struct og_strbuf *b, const char *from, const char *to, enum link kind);
typedef void (*join_fn)(struct og_strbuf *b, const char *id);

static void mermaid_join(struct og_strbuf *b, const char *id)
{
	og_strbuf_printf(b, "    %s((\" \")):::join\n", id);
}

static void dot_join(struct og_strbuf *b, const char *id)
{
	og_strbuf_printf(b, "  \"%s\" [shape=point];\n", id);
}

/* Every arrow of g in one syntax: edges (one from several sources meets at
 * a join point first), conditional routes, Command goto destinations.
 * Returns how many join points it declared. */
static int render_links(struct og_strbuf *b, const struct og_graph *g, link_fn link, join_fn join)
{
	char ia[32], ib[32];
	int i, k, j = 0;

	for (i = 0; i < g->nedges; i++) {
		const struct og_edge *e = &g->edges[i];
		if (e->nfrom == 1) {
			link(b, node_id(e->from[0], ia, sizeof(ia)), node_id(e->to, ib, sizeof(ib)), LINK_EDGE);
			continue;
		}
		snprintf(ib, sizeof(ib), "join_%d", j++);
		join(b, ib);
		for (k = 0; k < e->nfrom; k++)
			link(b, node_id(e->from[k], ia, sizeof(ia)), ib, LINK_EDGE);
		link(b, ib, node_id(e->to, ia, sizeof(ia)), LINK_EDGE);
	}
	for (i = 0; i < g->nroutes; i++) {
		const struct og_route *r = &g->routes[i];
		for (k = 0; k < r->ntargets; k++)
			link(b, node_id(r->from, ia, sizeof(ia)), node_id(r->targets[k], ib, sizeof(ib)), LINK_ROUTE);
	}
	for (i = 0; i < g->nnodes; i++) {
		const struct og_node_def *n = &g->nodes[i];
		for (k = 0; k < n->ndestinations; k++) {
			int d = dest_node(g, n->destinations[k]);
			if (d >= OG_END)
				link(b, node_id(i, ia, sizeof(ia)), node_id(d, ib, sizeof(ib)), LINK_GOTO);
		}
	}
	return j;
}

static void render_mermaid(struct og_strbuf *b, const struct og_graph *g, int show_end, int hl)
{
	char ia[32];
	int i, j;

	og_strbuf_puts(b, "flowchart TD\n");
	og_strbuf_puts(b, "    " OG_START_NAME "([START])\n");
	for (i = 0; i < g->nnodes; i++) {
		og_strbuf_printf(b, "    n_%d[\"", i);
		mermaid_text(b, g->nodes[i].name);
		og_strbuf_puts(b, "\"]\n");
	}
	if (show_end)
		og_strbuf_puts(b, "    " OG_END_NAME "([END])\n");

	j = render_links(b, g, mermaid_link, mermaid_join);
	if (j > 0)
		og_strbuf_puts(b, "    classDef join fill:#424242,stroke:#424242;\n");
	if (hl >= OG_END) {
		og_strbuf_puts(b, "    classDef current fill:#ffd54f,stroke:#f57f17;\n");
		og_strbuf_printf(b, "    class %s current;\n", node_id(hl, ia, sizeof(ia)));
	}
}

/* One DOT node statement; the highlighted node is filled. */
static void dot_node(struct og_strbuf *b, const char *id, const char *label, const char *shape,
		     const char *style, int current)
{
	og_strbuf_printf(b, "  \"%s\" [label=", id);
	dot_quoted(b, label);
	og_strbuf_printf(b, ", shape=%s", shape);
	if (current)
		og_strbuf_printf(b, ", style=\"%s%sfilled\", fillcolor=\"#ffd54f\", color=\"#f57f17\"",
			  style, *style ? "," : "");
	else if (*style)
		og_strbuf_printf(b, ", style=\"%s\"", style);
	og_strbuf_puts(b, "];\n");
}

static void render_dot(struct og_strbuf *b, const struct og_graph *g, int show_end, int hl)
{
	char ia[32];
	int i;

	og_strbuf_puts(b, "digraph ");
	dot_quoted(b, g->name);
	og_strbuf_puts(b, " {\n  rankdir=TB;\n");
	dot_node(b, OG_START_NAME, "START", "ellipse", "", hl == OG_START);
	for (i = 0; i < g->nnodes; i++)
		dot_node(b, node_id(i, ia, sizeof(ia)), g->nodes[i].name, "box", "rounded", hl == i);
	if (show_end)
		dot_node(b, OG_END_NAME, "END", "doublecircle", "", hl == OG_END);

	render_links(b, g, dot_link, dot_join);
	og_strbuf_puts(b, "}\n");
}

char *og_render_graph(const struct og_graph *g, enum og_render_format fmt, const char *highlight,
		      struct og_err *err)
{
	struct og_strbuf b = { 0 };
	int hl = OG_END - 1;	/* none */

	if (!g) {
		og_err_set(err, -OG_EINVAL, "render: no graph");
		return NULL;
	}
	if (!g->validated) {
		og_err_set(err, -OG_ESTATE, "render: graph '%s' is not validated; call og_graph_validate first",
			   g->name);
		return NULL;
	}
	if (fmt != OG_RENDER_MERMAID && fmt != OG_RENDER_DOT) {
		og_err_set(err, -OG_EINVAL, "render: unknown format #%d (use mermaid or dot)", (int)fmt);
		return NULL;
	}
	if (highlight && *highlight) {
		hl = og_graph_find_node(g, highlight);
		if (hl < OG_END) {
			og_err_set(err, -OG_EINVAL, "render: cannot highlight '%s': graph '%s' has no such node",
				   highlight, g->name);
			return NULL;
		}
	}
	if (fmt == OG_RENDER_MERMAID)
		render_mermaid(&b, g, end_is_used(g) || hl == OG_END, hl);
	else
		render_dot(&b, g, end_is_used(g) || hl == OG_END, hl);
	if (b.failed || !b.p) {
		og_strbuf_release(&b);
		og_err_set(err, -OG_ENOMEM, "render: out of memory");
		return NULL;
	}
	return b.p;
}

int og_render_parse_format(const char *name, enum og_render_format *out, struct og_err *err)
{
	if (name && !strcmp(name, "mermaid")) {
		*out = OG_RENDER_MERMAID;
		return 0;
	}
	if (name && !strcmp(name, "dot")) {
		*out = OG_RENDER_DOT;
		return 0;
	}
	return og_err_set(err, -OG_EINVAL, "unknown render format '%s': valid formats are mermaid, dot",
			  name ? name : "(none)");
}
