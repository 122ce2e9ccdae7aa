/*
 * graph.c: building and validating the graph model. Names are resolved late
 * (in og_graph_validate) so a graph file may mention a node before it declares
 * it, and so every structural mistake can be reported at once, with the
 * file:line of the declaration that made it.
 */
#include "graph.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OG_DEFAULT_RECURSION_LIMIT 25

static char *dupstr(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void srcpos_set(struct og_srcpos *dst, const struct og_srcpos *src)
{
	dst->file = src && src->file ? strdup(src->file) : NULL;
	dst->line = src ? src->line : 0;
}

const char *og_srcpos_str(const struct og_srcpos *pos, char *buf, size_t len)
{
	if (!pos || !pos->file)
		snprintf(buf, len, "?");
	else if (pos->line > 0)
		snprintf(buf, len, "%s:%d", pos->file, pos->line);
	else
		snprintf(buf, len, "%s", pos->file);
	return buf;
}

struct og_graph *og_graph_new(const char *name, struct og_err *err)
{
	struct og_graph *g = calloc(1, sizeof(*g));

	if (!g || !(g->name = strdup(name ? name : "graph"))) {
		free(g);
		og_err_set(err, -OG_ENOMEM, "graph: out of memory");
		return NULL;
	}
	g->recursion_limit = OG_DEFAULT_RECURSION_LIMIT;
	return g;
}

static void free_strv(char **v, int n)
{
	int i;

	for (i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

void og_graph_free(struct og_graph *g)
{
	int i;

	if (!g)
		return;
	free(g->input_channel);
	for (i = 0; i < g->nchannels; i++) {
		free(g->channels[i].name);
		cJSON_Delete(g->channels[i].init);
		free(g->channels[i].pos.file);
	}
	for (i = 0; i < g->nnodes; i++) {
		free(g->nodes[i].name);
		free_strv(g->nodes[i].destinations, g->nodes[i].ndestinations);
		free(g->nodes[i].pos.file);
	}
	for (i = 0; i < g->nedges; i++) {
		free_strv(g->edges[i].from_names, g->edges[i].nfrom);
		free(g->edges[i].from);
		free(g->edges[i].to_name);
		free(g->edges[i].pos.file);
	}
	for (i = 0; i < g->nroutes; i++) {
		free(g->routes[i].from_name);
		free_strv(g->routes[i].target_names, g->routes[i].ntargets);
		free(g->routes[i].targets);
		free(g->routes[i].pos.file);
	}
	for (i = 0; g->out_edges && i <= g->nnodes; i++)
		free(g->out_edges[i]);
	for (i = 0; g->out_routes && i <= g->nnodes; i++)
		free(g->out_routes[i]);
	free(g->out_edges);
	free(g->out_routes);
	free(g->join_edge);
	free(g->channels);
	free(g->nodes);
	free(g->edges);
	free(g->routes);
	free(g->pos.file);
	free(g->name);
	free(g);
}

/* Grows an array of `size`-byte elements to hold n+1; 0 or -OG_ENOMEM. */
static int grow(void **arr, int n, size_t size)
{
	void *p;

	if (n & (n - 1) && n > 4)	/* capacity doubles at powers of two */
		return 0;
	p = realloc(*arr, size * (size_t)(n < 4 ? 4 : n * 2));
	if (!p)
		return -OG_ENOMEM;
	*arr = p;
	return 0;
}

int og_graph_find_node(const struct og_graph *g, const char *name)
{
	int i;

	if (!strcmp(name, OG_START_NAME))
		return OG_START;
	if (!strcmp(name, OG_END_NAME))
		return OG_END;
	for (i = 0; i < g->nnodes; i++)
		if (!strcmp(g->nodes[i].name, name))
			return i;
	return -1 - 1000000;	/* never a valid index, never START/END */
}

int og_graph_find_channel(const struct og_graph *g, const char *name)
{
	int i;

	/* the first byte before strcmp: a state read and each write look a
	 * channel up, and most names differ at once */
	for (i = 0; i < g->nchannels; i++)
		if (g->channels[i].name[0] == name[0] && !strcmp(g->channels[i].name, name))
			return i;
	return -1;
}

const char *og_graph_node_name(const struct og_graph *g, int node)
{
	if (node == OG_START)
		return OG_START_NAME;
	if (node == OG_END)
		return OG_END_NAME;
	if (node >= 0 && node < g->nnodes)
		return g->nodes[node].name;
	return "?";
}

static int check_mutable(const struct og_graph *g, struct og_err *err)
{
	if (g->validated)
		return og_err_set(err, -OG_ESTATE, "graph '%s' is already compiled; it cannot change",
				  g->name);
	return 0;
}

int og_graph_add_channel(struct og_graph *g, const char *name, enum og_reducer kind,
			 cJSON *init, int fn, const struct og_srcpos *pos, struct og_err *err)
{
	struct og_channel_def *c;
	int rc;

	if ((rc = check_mutable(g, err)) < 0)
		goto fail;
	if (!name || !*name) {
		rc = og_err_set(err, -OG_EGRAPH, "graph '%s': a state channel needs a name", g->name);
		goto fail;
	}
	if (og_graph_find_channel(g, name) >= 0) {
		rc = og_err_set(err, -OG_EGRAPH, "graph '%s': state channel '%s' declared twice",
				g->name, name);
		goto fail;
	}
	if (grow((void **)&g->channels, g->nchannels, sizeof(*g->channels)) < 0)
		goto nomem;
	c = &g->channels[g->nchannels];
	memset(c, 0, sizeof(*c));
	if (!(c->name = strdup(name)))
		goto nomem;
	c->kind = kind;
	c->init = init;
	c->fn = fn;
	srcpos_set(&c->pos, pos);
	g->nchannels++;
	return 0;
nomem:
	rc = og_err_set(err, -OG_ENOMEM, "graph: out of memory");
fail:
	cJSON_Delete(init);
	return rc;
}

int og_graph_add_node(struct og_graph *g, const char *name, int fn,
		      const struct og_srcpos *pos, struct og_err *err)
{
	struct og_node_def *n;
	int rc;

	if ((rc = check_mutable(g, err)) < 0)
		return rc;
	if (!name || !*name)
		return og_err_set(err, -OG_EGRAPH, "graph '%s': a node needs a non-empty name", g->name);
	if (!strcmp(name, OG_START_NAME) || !strcmp(name, OG_END_NAME))
		return og_err_set(err, -OG_EGRAPH, "graph '%s': '%s' is reserved; pick another node name",
				  g->name, name);
	if (og_graph_find_node(g, name) >= 0)
		return og_err_set(err, -OG_EGRAPH, "graph '%s': node '%s' declared twice", g->name, name);
	if (grow((void **)&g->nodes, g->nnodes, sizeof(*g->nodes)) < 0)
		return og_err_set(err, -OG_ENOMEM, "graph: out of memory");
	n = &g->nodes[g->nnodes];
	memset(n, 0, sizeof(*n));
	if (!(n->name = strdup(name)))
		return og_err_set(err, -OG_ENOMEM, "graph: out of memory");
	n->fn = fn;
	n->max_attempts = 1;
	srcpos_set(&n->pos, pos);
	return g->nnodes++;
}

int og_graph_add_edge(struct og_graph *g, const char *const *from, int nfrom,
		      const char *to, const struct og_srcpos *pos, struct og_err *err)
{
	struct og_edge *e;
	int i, rc;

	if ((rc = check_mutable(g, err)) < 0)
		return rc;
	if (nfrom < 1 || !to)
		return og_err_set(err, -OG_EGRAPH, "graph '%s': an edge needs a source and a target",
				  g->name);
	if (grow((void **)&g->edges, g->nedges, sizeof(*g->edges)) < 0)
		return og_err_set(err, -OG_ENOMEM, "graph: out of memory");
	e = &g->edges[g->nedges];
	memset(e, 0, sizeof(*e));
	e->nfrom = nfrom;
	e->from_names = calloc((size_t)nfrom, sizeof(char *));
	e->from = calloc((size_t)nfrom, sizeof(int));
	e->to_name = strdup(to);
	if (!e->from_names || !e->from || !e->to_name)
		goto nomem;
	for (i = 0; i < nfrom; i++)
		if (!(e->from_names[i] = strdup(from[i])))
			goto nomem;
	srcpos_set(&e->pos, pos);
	g->nedges++;
	return 0;
nomem:
	free_strv(e->from_names, nfrom);
	free(e->from);
	free(e->to_name);
	return og_err_set(err, -OG_ENOMEM, "graph: out of memory");
}

int og_graph_add_route(struct og_graph *g, const char *from, int fn,
		       const char *const *targets, int ntargets,
		       const struct og_srcpos *pos, struct og_err *err)
{
	struct og_route *r;
	int i, rc;

	if ((rc = check_mutable(g, err)) < 0)
		return rc;
	if (grow((void **)&g->routes, g->nroutes, sizeof(*g->routes)) < 0)
		return og_err_set(err, -OG_ENOMEM, "graph: out of memory");
	r = &g->routes[g->nroutes];
	memset(r, 0, sizeof(*r));
	r->fn = fn;
	r->ntargets = ntargets;
	r->from_name = dupstr(from);
	r->target_names = calloc((size_t)ntargets + 1, sizeof(char *));
	r->targets = calloc((size_t)ntargets + 1, sizeof(int));
	if (!r->from_name || !r->target_names || !r->targets)
		goto nomem;
	for (i = 0; i < ntargets; i++)
		if (!(r->target_names[i] = strdup(targets[i])))
			goto nomem;
	srcpos_set(&r->pos, pos);
	g->nroutes++;
	return 0;
nomem:
	free(r->from_name);
	free_strv(r->target_names, ntargets);
	free(r->targets);
	return og_err_set(err, -OG_ENOMEM, "graph: out of memory");
}

int og_graph_add_destination(struct og_graph *g, int node, const char *to, struct og_err *err)
{
	struct og_node_def *n;
	int rc;

	if ((rc = check_mutable(g, err)) < 0)
		return rc;
	if (node < 0 || node >= g->nnodes)
		return og_err_set(err, -OG_EINVAL, "graph '%s': no node #%d", g->name, node);
	n = &g->nodes[node];
	if (grow((void **)&n->destinations, n->ndestinations, sizeof(char *)) < 0 ||
	    !(n->destinations[n->ndestinations] = strdup(to)))
		return og_err_set(err, -OG_ENOMEM, "graph: out of memory");
	n->ndestinations++;
	return 0;
}

/* Appends one "file:line: message" line to the validation report. */
__attribute__((format(printf, 4, 5)))
static void report(struct og_err *err, int *nproblems, const struct og_srcpos *pos,
		   const char *fmt, ...)
{
	char where[300], line[600];
	size_t len;
	va_list ap;

	(*nproblems)++;
	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	len = strlen(err->msg);
	snprintf(err->msg + len, sizeof(err->msg) - len, "%s%s: %s", len ? "\n" : "",
		 og_srcpos_str(pos, where, sizeof(where)), line);
	err->code = -OG_EGRAPH;
}

/* Builds out[i+1] = list of indices (edges or routes) whose source is node i
 * (START is slot 0), each list -1 terminated. */
static int **index_by_source(const struct og_graph *g, int count, int (*source_of)(const struct og_graph *, int, int),
			     int nsources_of_item(const struct og_graph *, int))
{
	int **out = calloc((size_t)g->nnodes + 1, sizeof(int *));
	int *len = calloc((size_t)g->nnodes + 1, sizeof(int));
	int i, k;

	if (!out || !len)
		goto nomem;
	for (i = 0; i <= g->nnodes; i++)
		if (!(out[i] = malloc(sizeof(int) * ((size_t)count + 1))))
			goto nomem;
	for (i = 0; i < count; i++) {
		for (k = 0; k < nsources_of_item(g, i); k++) {
			int src = source_of(g, i, k) + 1;	/* START (-1) -> slot 0 */
			if (src < 0)
				continue;
			/* a join lists the same node once */
			if (len[src] == 0 || out[src][len[src] - 1] != i)
				out[src][len[src]++] = i;
		}
	}
	for (i = 0; i <= g->nnodes; i++)
		out[i][len[i]] = -1;
	free(len);
	return out;
nomem:
	for (i = 0; out && i <= g->nnodes; i++)
		free(out[i]);
	free(out);
	free(len);
	return NULL;
}

static int edge_source(const struct og_graph *g, int i, int k) { return g->edges[i].from[k]; }
static int edge_nsources(const struct og_graph *g, int i) { return g->edges[i].nfrom; }
static int route_source(const struct og_graph *g, int i, int k) { (void)k; return g->routes[i].from; }
static int route_nsources(const struct og_graph *g, int i) { (void)g; (void)i; return 1; }

/* Marks nodes reachable from START through edges, routes and declared
 * destinations. A join target counts as reachable once any source is. */
static void mark_reachable(const struct og_graph *g, char *seen)
{
	int *queue = malloc(sizeof(int) * ((size_t)g->nnodes + 1));
	int head = 0, tail = 0, i, k;

	if (!queue)
		return;
	queue[tail++] = OG_START;
	while (head < tail) {
		int n = queue[head++];
		for (i = 0; i < g->nedges; i++) {
			const struct og_edge *e = &g->edges[i];
			int from_here = 0;
			for (k = 0; k < e->nfrom; k++)
				from_here |= e->from[k] == n;
			if (from_here && e->to >= 0 && !seen[e->to]) {
				seen[e->to] = 1;
				queue[tail++] = e->to;
			}
		}
		for (i = 0; i < g->nroutes; i++) {
			const struct og_route *r = &g->routes[i];
			if (r->from != n)
				continue;
			for (k = 0; k < r->ntargets; k++) {
				if (r->targets[k] >= 0 && !seen[r->targets[k]]) {
					seen[r->targets[k]] = 1;
					queue[tail++] = r->targets[k];
				}
			}
		}
		if (n >= 0) {
			for (k = 0; k < g->nodes[n].ndestinations; k++) {
				int d = og_graph_find_node(g, g->nodes[n].destinations[k]);
				if (d >= 0 && !seen[d]) {
					seen[d] = 1;
					queue[tail++] = d;
				}
			}
		}
	}
	free(queue);
}

int og_graph_validate(struct og_graph *g, struct og_err *err)
{
	int i, k, problems = 0, entry = 0;
	char *seen = NULL;

	if (g->validated)
		return 0;
	if (err) {
		err->msg[0] = '\0';
		err->code = 0;
	}
	for (i = 0; i < g->nedges; i++) {
		struct og_edge *e = &g->edges[i];
		if (e->nfrom > 64)	/* join progress is one bit per source */
			report(err, &problems, &e->pos, "a join waits for at most 64 nodes, this one for %d",
			       e->nfrom);
		for (k = 0; k < e->nfrom; k++) {
			e->from[k] = og_graph_find_node(g, e->from_names[k]);
			if (e->from[k] == OG_END)
				report(err, &problems, &e->pos, "edge from %s: END has no outgoing edges",
				       OG_END_NAME);
			else if (e->from[k] == OG_START && e->nfrom > 1)
				report(err, &problems, &e->pos, "a join cannot wait for START");
			else if (e->from[k] < OG_END)
				report(err, &problems, &e->pos,
				       "edge %s -> %s: no node named '%s' (declare it with g:node(\"%s\", fn))",
				       e->from_names[k], e->to_name, e->from_names[k], e->from_names[k]);
			if (e->from[k] == OG_START)
				entry = 1;
		}
		e->to = og_graph_find_node(g, e->to_name);
		if (e->to == OG_START)
			report(err, &problems, &e->pos, "edge into START: START only has outgoing edges");
		else if (e->to < OG_END)
			report(err, &problems, &e->pos,
			       "edge %s -> %s: no node named '%s' (declare it with g:node(\"%s\", fn))",
			       e->from_names[0], e->to_name, e->to_name, e->to_name);
	}
	for (i = 0; i < g->nroutes; i++) {
		struct og_route *r = &g->routes[i];
		r->from = og_graph_find_node(g, r->from_name);
		if (r->from == OG_START)
			entry = 1;
		if (r->from == OG_END)
			report(err, &problems, &r->pos, "route from END: END has no outgoing edges");
		else if (r->from < OG_END)
			report(err, &problems, &r->pos, "route from '%s': no node named '%s'",
			       r->from_name, r->from_name);
		if (r->ntargets == 0)
			report(err, &problems, &r->pos,
			       "route from '%s' declares no targets: list every node the router may return, "
			       "e.g. g:route(\"%s\", fn, {\"a\", og.END})", r->from_name, r->from_name);
		for (k = 0; k < r->ntargets; k++) {
			r->targets[k] = og_graph_find_node(g, r->target_names[k]);
			if (r->targets[k] == OG_START)
				report(err, &problems, &r->pos, "route from '%s' targets START", r->from_name);
			else if (r->targets[k] < OG_END)
				report(err, &problems, &r->pos,
				       "route from '%s': target '%s' is not a node (declared nodes only, or og.END)",
				       r->from_name, r->target_names[k]);
		}
	}
	for (i = 0; i < g->nnodes; i++) {
		struct og_node_def *n = &g->nodes[i];
		for (k = 0; k < n->ndestinations; k++)
			if (og_graph_find_node(g, n->destinations[k]) < OG_END)
				report(err, &problems, &n->pos, "node '%s': destination '%s' is not a node",
				       n->name, n->destinations[k]);
	}
	if (!entry)
		report(err, &problems, &g->pos,
		       "graph '%s' has no entry: add g:edge(og.START, \"first_node\")", g->name);
	if (problems)
		return -OG_EGRAPH;

	seen = calloc((size_t)g->nnodes + 1, 1);
	if (!seen)
		return og_err_set(err, -OG_ENOMEM, "graph: out of memory");
	mark_reachable(g, seen);
	for (i = 0; i < g->nnodes; i++)
		if (!seen[i])
			report(err, &problems, &g->nodes[i].pos,
			       "node '%s' is unreachable from START: add an edge or route to it, "
			       "or list it in the destinations of the node that sends to it", g->nodes[i].name);
	free(seen);
	if (problems)
		return -OG_EGRAPH;

	g->out_edges = index_by_source(g, g->nedges, edge_source, edge_nsources);
	g->out_routes = index_by_source(g, g->nroutes, route_source, route_nsources);
	g->join_edge = malloc(sizeof(int) * ((size_t)g->nedges + 1));
	if (!g->out_edges || !g->out_routes || !g->join_edge)
		return og_err_set(err, -OG_ENOMEM, "graph: out of memory");
	for (i = 0; i < g->nedges; i++) {
		if (g->edges[i].nfrom > 1)
			g->join_edge[g->njoins++] = i;
	}
	g->validated = true;
	og_err_clear(err);
	return 0;
}
