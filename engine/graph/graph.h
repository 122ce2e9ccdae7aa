/*
 * graph.h: the graph model: channels (state keys with reducers), nodes, edges,
 * joins and routes. Pure data, no Lua: the Lua DSL (lua/lgraph.c) fills it, and
 * tests build graphs directly in C. Node, router and custom-reducer code is
 * referred to by an opaque integer handle that only the executor (exec.h)
 * understands.
 *
 * Lifecycle: og_graph_new -> og_graph_add_* (names may be used before they are
 * declared) -> og_graph_validate (resolves names, checks structure; the graph
 * is immutable afterwards) -> og_graph_free.
 */
#ifndef OG_GRAPH_H
#define OG_GRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "../core/err.h"

/* Virtual endpoints, as node indices and as the names the DSL uses. */
#define OG_START (-1)
#define OG_END (-2)
#define OG_START_NAME "__start__"
#define OG_END_NAME "__end__"

enum og_reducer {
	OG_RED_LAST,	/* last value wins; two writes in one step is an error */
	OG_RED_APPEND,	/* list concatenation */
	OG_RED_MERGE,	/* shallow object merge */
	OG_RED_SUM,	/* numeric addition */
	OG_RED_CUSTOM,	/* executor-provided fold: reduce(old, new) */
};

/* Where something was declared, for messages: "graphs/x.lua:12". */
struct og_srcpos {
	char *file;	/* owned; NULL when unknown */
	int line;	/* 0 when unknown */
};

struct og_channel_def {
	char *name;
	enum og_reducer kind;
	cJSON *init;		/* owned; initial value, NULL = absent (nil) */
	int fn;			/* executor handle for OG_RED_CUSTOM, else -1 */
	struct og_srcpos pos;
};

struct og_node_def {
	char *name;
	int fn;			/* executor handle of the node function */
	int max_attempts;	/* >= 1; retries re-run only this task */
	int backoff_ms;		/* first retry delay; doubles per attempt */
	int64_t budget_instructions;	/* per call; 0 = executor default */
	int64_t budget_memory;		/* bytes per call; 0 = executor default */
	bool interrupt_before, interrupt_after;
	char **destinations;	/* declared goto/Send targets (for check, render) */
	int ndestinations;
	struct og_srcpos pos;
};

/* A plain edge (nfrom == 1) or a join (nfrom > 1: `to` runs once all of
 * `from` have finished since it last ran). */
struct og_edge {
	char **from_names;
	int *from;		/* resolved by validate: node index or OG_START */
	int nfrom;
	char *to_name;
	int to;			/* node index or OG_END */
	struct og_srcpos pos;
};

/* A conditional edge: after `from` runs, router(state) names the next node(s)
 * among `targets`, or returns Sends. */
struct og_route {
	char *from_name;
	int from;
	int fn;			/* executor handle of the router */
	char **target_names;
	int *targets;		/* node indices or OG_END */
	int ntargets;
	struct og_srcpos pos;
};

struct og_graph {
	char *name;
	struct og_srcpos pos;		/* the graph file */
	int recursion_limit;		/* default for runs; 25 unless set */
	char *input_channel;		/* og.graph{input = "c"}: a run input that is not an
					 * object of channels is the value of channel c (an
					 * alert payload goes in as it came), or NULL */

	struct og_channel_def *channels;
	int nchannels;
	struct og_node_def *nodes;
	int nnodes;
	struct og_edge *edges;
	int nedges;
	struct og_route *routes;
	int nroutes;

	bool validated;
	/* Filled by validate: for node i (index i+1, 0 is START), the edges and
	 * routes leaving it, and the joins it takes part in. */
	int **out_edges;		/* [nnodes+1][] edge indices, -1 terminated */
	int **out_routes;		/* [nnodes+1][] route indices, -1 terminated */
	int njoins;			/* edges with nfrom > 1, numbered 0..njoins-1 */
	int *join_edge;			/* join number -> edge index */
};

struct og_graph *og_graph_new(const char *name, struct og_err *err);
void og_graph_free(struct og_graph *g);		/* NULL is a no-op */

/* `pos` may be NULL. Strings are copied. `init` is taken (owned by g), even on
 * failure. Returns 0 or -OG_E*. */
int og_graph_add_channel(struct og_graph *g, const char *name, enum og_reducer kind,
			 cJSON *init, int fn, const struct og_srcpos *pos, struct og_err *err);

/* Returns the new node's index (>= 0) or -OG_E*. The returned def may be
 * adjusted (retry, budget, breakpoints) until validate. */
int og_graph_add_node(struct og_graph *g, const char *name, int fn,
		      const struct og_srcpos *pos, struct og_err *err);

/* from[0..nfrom-1] -> to. Names may be OG_START_NAME / OG_END_NAME. */
int og_graph_add_edge(struct og_graph *g, const char *const *from, int nfrom,
		      const char *to, const struct og_srcpos *pos, struct og_err *err);

int og_graph_add_route(struct og_graph *g, const char *from, int fn,
		       const char *const *targets, int ntargets,
		       const struct og_srcpos *pos, struct og_err *err);

/* Adds a declared destination to node `node` (Command goto / Send target). */
int og_graph_add_destination(struct og_graph *g, int node, const char *to, struct og_err *err);

/* Resolves names and checks the structure: unknown nodes in edges and routes,
 * nodes unreachable from START, routes without targets, duplicate names, a
 * graph with no entry edge. Reports every problem found, one per line in
 * err->msg, each starting with "file:line: ". Returns 0 or -OG_EGRAPH. */
int og_graph_validate(struct og_graph *g, struct og_err *err);

/* Index of the channel called `name`, or -1. For nodes: the index, OG_START
 * or OG_END for their names, and a value below OG_END (never a valid index)
 * for an unknown name: test with `< 0` for "not a real node". */
int og_graph_find_node(const struct og_graph *g, const char *name);
int og_graph_find_channel(const struct og_graph *g, const char *name);

/* "a", "__start__", "__end__" for a node index (never NULL). */
const char *og_graph_node_name(const struct og_graph *g, int node);

/* "file:line" into buf (or "?" when unknown). Returns buf. */
const char *og_srcpos_str(const struct og_srcpos *pos, char *buf, size_t len);

#endif
