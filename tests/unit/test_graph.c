/*
 * test_graph.c: building graphs in C and og_graph_validate: every structural
 * problem is reported with the file:line of the declaration that made it, all
 * at once, one per line; a valid graph gets its edge/route/join indexes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/graph.h"
#include "../test.h"

static struct og_srcpos P(int line)
{
	struct og_srcpos p = { (char *)"g.lua", line };
	return p;
}

static int node(struct og_graph *g, const char *name, int line)
{
	struct og_srcpos p = P(line);
	return og_graph_add_node(g, name, 0, &p, NULL);
}

static int edge(struct og_graph *g, const char *from, const char *to, int line)
{
	struct og_srcpos p = P(line);
	return og_graph_add_edge(g, &from, 1, to, &p, NULL);
}

static int join(struct og_graph *g, const char *a, const char *b, const char *to, int line)
{
	const char *from[2] = { a, b };
	struct og_srcpos p = P(line);
	return og_graph_add_edge(g, from, 2, to, &p, NULL);
}

static int route(struct og_graph *g, const char *from, const char *const *targets, int n, int line)
{
	struct og_srcpos p = P(line);
	return og_graph_add_route(g, from, 7, targets, n, &p, NULL);
}

static int count_lines(const char *s)
{
	int n = *s ? 1 : 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* Every line of a validation report starts with "file:line: ". */
static int lines_have_pos(const char *s)
{
	const char *line = s;

	while (line && *line) {
		if (strncmp(line, "g.lua:", 6) != 0 && strncmp(line, "graph.lua:", 10) != 0 &&
		    strncmp(line, "?: ", 3) != 0)
			return 0;
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return 1;
}

static void test_valid_linear(void)
{
	struct og_graph *g = og_graph_new("lin", NULL);
	struct og_err err = { 0 };

	CHECK_INT(node(g, "a", 1), ==, 0);
	CHECK_INT(node(g, "b", 2), ==, 1);
	CHECK_INT(edge(g, OG_START_NAME, "a", 3), ==, 0);
	CHECK_INT(edge(g, "a", "b", 4), ==, 0);
	CHECK_INT(edge(g, "b", OG_END_NAME, 5), ==, 0);
	CHECK_INT(g->recursion_limit, ==, 25);
	CHECK_INT(og_graph_validate(g, &err), ==, 0);
	CHECK_STR(err.msg, "");
	CHECK(g->validated);
	CHECK_INT(g->edges[0].from[0], ==, OG_START);
	CHECK_INT(g->edges[0].to, ==, 0);
	CHECK_INT(g->edges[2].to, ==, OG_END);
	CHECK_INT(g->njoins, ==, 0);
	/* validating twice is a no-op */
	CHECK_INT(og_graph_validate(g, &err), ==, 0);
	/* a compiled graph cannot change */
	CHECK_INT(og_graph_add_node(g, "c", 0, NULL, &err), ==, -OG_ESTATE);
	CHECK_CONTAINS(err.msg, "already compiled");
	CHECK_INT(og_graph_add_edge(g, (const char *[]){ "a" }, 1, "b", NULL, &err), ==, -OG_ESTATE);
	CHECK_INT(og_graph_add_channel(g, "x", OG_RED_LAST, cJSON_CreateNumber(1), -1, NULL, &err), ==,
		  -OG_ESTATE);
	CHECK_INT(og_graph_add_destination(g, 0, "b", &err), ==, -OG_ESTATE);
	CHECK_INT(g->nnodes, ==, 2);
	og_graph_free(g);
}

static void test_lookup(void)
{
	struct og_graph *g = og_graph_new("look", NULL);
	struct og_srcpos p = P(12), nofile = { NULL, 3 }, noline = { (char *)"f.lua", 0 };
	char buf[64];

	node(g, "a", 1);
	node(g, "b", 2);
	CHECK_INT(og_graph_add_channel(g, "x", OG_RED_LAST, NULL, -1, NULL, NULL), ==, 0);
	CHECK_INT(og_graph_add_channel(g, "y", OG_RED_SUM, cJSON_CreateNumber(0), -1, &p, NULL), ==, 0);
	CHECK_INT(og_graph_find_node(g, "a"), ==, 0);
	CHECK_INT(og_graph_find_node(g, "b"), ==, 1);
	CHECK_INT(og_graph_find_node(g, OG_START_NAME), ==, OG_START);
	CHECK_INT(og_graph_find_node(g, OG_END_NAME), ==, OG_END);
	/* unknown: never a valid index, never START or END */
	CHECK(og_graph_find_node(g, "zz") < OG_END);
	CHECK_INT(og_graph_find_channel(g, "y"), ==, 1);
	CHECK_INT(og_graph_find_channel(g, "zz"), ==, -1);
	CHECK_STR(og_graph_node_name(g, 1), "b");
	CHECK_STR(og_graph_node_name(g, OG_START), "__start__");
	CHECK_STR(og_graph_node_name(g, OG_END), "__end__");
	CHECK_STR(og_graph_node_name(g, 99), "?");
	CHECK_STR(og_srcpos_str(&g->channels[1].pos, buf, sizeof(buf)), "g.lua:12");
	CHECK_STR(og_srcpos_str(&nofile, buf, sizeof(buf)), "?");
	CHECK_STR(og_srcpos_str(&noline, buf, sizeof(buf)), "f.lua");
	CHECK_STR(og_srcpos_str(NULL, buf, sizeof(buf)), "?");
	CHECK(g->channels[0].pos.file == NULL);
	CHECK_INT(g->channels[1].kind, ==, OG_RED_SUM);
	og_graph_free(g);
	og_graph_free(NULL);
}

static void test_unknown_node_in_edge(void)
{
	struct og_graph *g = og_graph_new("unk", NULL);
	struct og_err err = { 0 };

	node(g, "a", 1);
	edge(g, OG_START_NAME, "a", 2);
	edge(g, "a", "x", 7);
	CHECK_INT(og_graph_validate(g, &err), ==, -OG_EGRAPH);
	CHECK_INT(err.code, ==, -OG_EGRAPH);
	CHECK_CONTAINS(err.msg, "no node named 'x'");
	CHECK_CONTAINS(err.msg, "g.lua:7: ");
	CHECK_INT(count_lines(err.msg), ==, 1);
	CHECK(!g->validated);
	og_graph_free(g);

	/* unknown source */
	g = og_graph_new("unk2", NULL);
	node(g, "a", 1);
	edge(g, OG_START_NAME, "a", 2);
	edge(g, "ghost", "a", 9);
	CHECK_INT(og_graph_validate(g, &err), ==, -OG_EGRAPH);
	CHECK_CONTAINS(err.msg, "g.lua:9: edge ghost -> a: no node named 'ghost'");
	og_graph_free(g);
}

static void test_unreachable(void)
{
	struct og_graph *g = og_graph_new("unr", NULL);
	struct og_err err = { 0 };

	node(g, "a", 1);
	node(g, "b", 4);
	node(g, "c", 5);
	edge(g, OG_START_NAME, "a", 2);
	edge(g, "a", OG_END_NAME, 3);
	edge(g, "b", "c", 6);	/* b and c only reach each other */
	CHECK_INT(og_graph_validate(g, &err), ==, -OG_EGRAPH);
	CHECK_CONTAINS(err.msg, "g.lua:4: node 'b' is unreachable from START");
	CHECK_CONTAINS(err.msg, "g.lua:5: node 'c' is unreachable from START");
	CHECK_INT(count_lines(err.msg), ==, 2);
	CHECK(!strstr(err.msg, "'a'"));
	og_graph_free(g);
}

static void test_route_problems(void)
{
	struct og_graph *g = og_graph_new("rt", NULL);
	struct og_err err = { 0 };
	const char *t1[] = { "b", "zz" };

	node(g, "a", 1);
	node(g, "b", 2);
	edge(g, OG_START_NAME, "a", 3);
	route(g, "a", NULL, 0, 10);
	CHECK_INT(og_graph_validate(g, &err), ==, -OG_EGRAPH);
	CHECK_CONTAINS(err.msg, "g.lua:10: route from 'a' declares no targets");
	og_graph_free(g);

	g = og_graph_new("rt2", NULL);
	node(g, "a", 1);
	node(g, "b", 2);
	edge(g, OG_START_NAME, "a", 3);
	route(g, "a", t1, 2, 11);
	CHECK_INT(og_graph_validate(g, &err), ==, -OG_EGRAPH);
	CHECK_CONTAINS(err.msg, "g.lua:11: route from 'a': target 'zz' is not a node");
	CHECK_INT(count_lines(err.msg), ==, 1);
	og_graph_free(g);

	/* route from an unknown node, route targeting START, route from END */
	g = og_graph_new("rt3", NULL);
	node(g, "a", 1);
	edge(g, OG_START_NAME, "a", 3);
	route(g, "nobody", (const char *[]){ "a" }, 1, 12);
	route(g, "a", (const char *[]){ OG_START_NAME }, 1, 13);
	route(g, OG_END_NAME, (const char *[]){ "a" }, 1, 14);
	CHECK_INT(og_graph_validate(g, &err), ==, -OG_EGRAPH);
	CHECK_CONTAINS(err.msg, "g.lua:12: route from 'nobody': no node named 'nobody'");
	CHECK_CONTAINS(err.msg, "g.lua:13: route from 'a' targets START");
	CHECK_CONTAINS(err.msg, "g.lua:14: route from END");
	CHECK_INT(count_lines(err.msg), ==, 3);
	og_graph_free(g);
}

static void test_edge_endpoints(void)
{
	struct og_graph *g = og_graph_new("ep", NULL);
	struct og_err err = { 0 };

	node(g, "a", 1);
	node(g, "b", 2);
	edge(g, OG_START_NAME, "a", 3);
	edge(g, "a", "b", 4);
	edge(g, "b", OG_START_NAME, 5);
	CHECK_INT(og_graph_validate(g, &err), ==, -OG_EGRAPH);
	CHECK_CONTAINS(err.msg, "g.lua:5: edge into START");
	CHECK_INT(count_lines(err.msg), ==, 1);
	og_graph_free(g);

	g = og_graph_new("ep2", NULL);
	node(g, "a", 1);
	node(g, "b", 2);
	edge(g, OG_START_NAME, "a", 3);
	edge(g, "a", "b", 4);
	edge(g, OG_END_NAME, "b", 6);
	join(g, OG_START_NAME, "a", "b", 7);
	CHECK_INT(og_graph_validate(g, &err), ==, -OG_EGRAPH);
	CHECK_CONTAINS(err.msg, "g.lua:6: edge from __end__: END has no outgoing edges");
	CHECK_CONTAINS(err.msg, "g.lua:7: a join cannot wait for START");
	og_graph_free(g);
}

static void test_no_entry(void)
{
	struct og_graph *g = og_graph_new("noentry", NULL);
	struct og_err err = { 0 };

	g->pos.file = strdup("graph.lua");
	node(g, "a", 1);
	node(g, "b", 2);
	edge(g, "a", "b", 3);
	CHECK_INT(og_graph_validate(g, &err), ==, -OG_EGRAPH);
	CHECK_CONTAINS(err.msg, "graph.lua: graph 'noentry' has no entry");
	CHECK_CONTAINS(err.msg, "og.START");
	og_graph_free(g);

	/* an empty graph has no entry either */
	g = og_graph_new("empty", NULL);
	CHECK_INT(og_graph_validate(g, &err), ==, -OG_EGRAPH);
	CHECK_CONTAINS(err.msg, "?: graph 'empty' has no entry");
	og_graph_free(g);

	/* a route from START is an entry */
	g = og_graph_new("rentry", NULL);
	node(g, "a", 1);
	route(g, OG_START_NAME, (const char *[]){ "a", OG_END_NAME }, 2, 2);
	CHECK_INT(og_graph_validate(g, &err), ==, 0);
	CHECK_INT(g->routes[0].from, ==, OG_START);
	CHECK_INT(g->routes[0].targets[1], ==, OG_END);
	og_graph_free(g);
}

static void test_duplicates_and_reserved(void)
{
	struct og_graph *g = og_graph_new("dup", NULL);
	struct og_err err = { 0 };

	CHECK_INT(node(g, "a", 1), ==, 0);
	CHECK_INT(og_graph_add_node(g, "a", 0, NULL, &err), ==, -OG_EGRAPH);
	CHECK_CONTAINS(err.msg, "node 'a' declared twice");
	CHECK_INT(g->nnodes, ==, 1);
	CHECK_INT(og_graph_add_node(g, OG_START_NAME, 0, NULL, &err), ==, -OG_EGRAPH);
	CHECK_CONTAINS(err.msg, "'__start__' is reserved");
	CHECK_INT(og_graph_add_node(g, OG_END_NAME, 0, NULL, &err), ==, -OG_EGRAPH);
	CHECK_CONTAINS(err.msg, "'__end__' is reserved");
	CHECK_INT(og_graph_add_node(g, "", 0, NULL, &err), ==, -OG_EGRAPH);
	CHECK_CONTAINS(err.msg, "non-empty name");
	CHECK_INT(og_graph_add_node(g, NULL, 0, NULL, &err), ==, -OG_EGRAPH);
	CHECK_INT(g->nnodes, ==, 1);

	CHECK_INT(og_graph_add_channel(g, "x", OG_RED_LAST, NULL, -1, NULL, &err), ==, 0);
	/* init is taken even on failure (ASan checks it is not leaked) */
	CHECK_INT(og_graph_add_channel(g, "x", OG_RED_SUM, cJSON_CreateNumber(3), -1, NULL, &err), ==,
		  -OG_EGRAPH);
	CHECK_CONTAINS(err.msg, "state channel 'x' declared twice");
	CHECK_INT(og_graph_add_channel(g, "", OG_RED_SUM, cJSON_CreateNumber(3), -1, NULL, &err), ==,
		  -OG_EGRAPH);
	CHECK_CONTAINS(err.msg, "needs a name");
	CHECK_INT(g->nchannels, ==, 1);

	CHECK_INT(og_graph_add_edge(g, NULL, 0, "a", NULL, &err), ==, -OG_EGRAPH);
	CHECK_CONTAINS(err.msg, "needs a source and a target");
	CHECK_INT(og_graph_add_destination(g, 5, "a", &err), ==, -OG_EINVAL);
	CHECK_INT(og_graph_add_destination(g, -1, "a", &err), ==, -OG_EINVAL);
	og_graph_free(g);
}

static void test_many_problems(void)
{
	struct og_graph *g = og_graph_new("many", NULL);
	struct og_err err = { 0 };
	int a;

	a = node(g, "a", 1);
	node(g, "b", 2);
	edge(g, OG_START_NAME, "a", 3);
	edge(g, "a", "x", 4);
	edge(g, "y", "b", 5);
	route(g, "b", NULL, 0, 6);
	route(g, "a", (const char *[]){ "q" }, 1, 7);
	og_graph_add_destination(g, a, "nowhere", NULL);
	CHECK_INT(og_graph_validate(g, &err), ==, -OG_EGRAPH);
	CHECK_INT(count_lines(err.msg), ==, 5);
	CHECK(lines_have_pos(err.msg));
	CHECK_CONTAINS(err.msg, "g.lua:4: edge a -> x: no node named 'x'");
	CHECK_CONTAINS(err.msg, "\ng.lua:5: edge y -> b: no node named 'y'");
	CHECK_CONTAINS(err.msg, "\ng.lua:6: route from 'b' declares no targets");
	CHECK_CONTAINS(err.msg, "\ng.lua:7: route from 'a': target 'q' is not a node");
	CHECK_CONTAINS(err.msg, "\ng.lua:1: node 'a': destination 'nowhere' is not a node");
	CHECK(!g->validated);
	/* validate again: the report is rebuilt, not appended to */
	CHECK_INT(og_graph_validate(g, &err), ==, -OG_EGRAPH);
	CHECK_INT(count_lines(err.msg), ==, 5);
	/* NULL err is allowed */
	CHECK_INT(og_graph_validate(g, NULL), ==, -OG_EGRAPH);
	og_graph_free(g);
}

static void test_destinations(void)
{
	struct og_graph *g = og_graph_new("dest", NULL);
	struct og_err err = { 0 };
	int a;

	a = node(g, "a", 1);
	node(g, "b", 2);
	node(g, "c", 3);
	edge(g, OG_START_NAME, "a", 4);
	/* b is only reached through a's Command goto; c through b's */
	CHECK_INT(og_graph_add_destination(g, a, "b", &err), ==, 0);
	CHECK_INT(og_graph_add_destination(g, 1, "c", &err), ==, 0);
	CHECK_INT(og_graph_add_destination(g, 1, OG_END_NAME, &err), ==, 0);
	CHECK_INT(g->nodes[1].ndestinations, ==, 2);
	CHECK_INT(og_graph_validate(g, &err), ==, 0);
	og_graph_free(g);

	/* the same graph without the destinations: b and c unreachable */
	g = og_graph_new("nodest", NULL);
	node(g, "a", 1);
	node(g, "b", 2);
	node(g, "c", 3);
	edge(g, OG_START_NAME, "a", 4);
	CHECK_INT(og_graph_validate(g, &err), ==, -OG_EGRAPH);
	CHECK_CONTAINS(err.msg, "node 'b' is unreachable");
	CHECK_CONTAINS(err.msg, "destinations");
	og_graph_free(g);

	/* route targets make nodes reachable too */
	g = og_graph_new("rdest", NULL);
	node(g, "a", 1);
	node(g, "b", 2);
	edge(g, OG_START_NAME, "a", 4);
	route(g, "a", (const char *[]){ "b", OG_END_NAME }, 2, 5);
	CHECK_INT(og_graph_validate(g, &err), ==, 0);
	og_graph_free(g);
}

static void test_joins_and_indexes(void)
{
	struct og_graph *g = og_graph_new("joins", NULL);
	struct og_err err = { 0 };
	const char *three[] = { "b", "c", "d" };
	struct og_srcpos p = P(20);
	int i;

	/* 0:a 1:b 2:c 3:d 4:e 5:f */
	node(g, "a", 1);
	node(g, "b", 2);
	node(g, "c", 3);
	node(g, "d", 4);
	node(g, "e", 5);
	node(g, "f", 6);
	edge(g, OG_START_NAME, "a", 10);		/* edge 0 */
	edge(g, "a", "b", 11);				/* edge 1 */
	edge(g, "a", "c", 12);				/* edge 2 */
	edge(g, "a", "d", 13);				/* edge 3 */
	join(g, "b", "c", "e", 14);			/* edge 4: join 0 */
	og_graph_add_edge(g, three, 3, "f", &p, NULL);	/* edge 5: join 1 */
	edge(g, "e", OG_END_NAME, 15);			/* edge 6 */
	join(g, "b", "b", "f", 16);			/* edge 7: join 2, same node twice */
	route(g, "f", (const char *[]){ "a", OG_END_NAME }, 2, 17);	/* route 0 */
	route(g, OG_START_NAME, (const char *[]){ "a" }, 1, 18);	/* route 1 */
	route(g, "f", (const char *[]){ OG_END_NAME }, 1, 19);		/* route 2 */
	CHECK_INT(og_graph_validate(g, &err), ==, 0);
	CHECK_STR(err.msg, "");

	CHECK_INT(g->njoins, ==, 3);
	CHECK_INT(g->join_edge[0], ==, 4);
	CHECK_INT(g->join_edge[1], ==, 5);
	CHECK_INT(g->join_edge[2], ==, 7);
	CHECK_INT(g->edges[5].nfrom, ==, 3);
	CHECK_INT(g->edges[5].from[2], ==, 3);

	/* slot 0 is START, slot i+1 is node i */
	CHECK_INT(g->out_edges[0][0], ==, 0);
	CHECK_INT(g->out_edges[0][1], ==, -1);
	CHECK_INT(g->out_edges[1][0], ==, 1);	/* a */
	CHECK_INT(g->out_edges[1][1], ==, 2);
	CHECK_INT(g->out_edges[1][2], ==, 3);
	CHECK_INT(g->out_edges[1][3], ==, -1);
	CHECK_INT(g->out_edges[2][0], ==, 4);	/* b: both joins, edge 7 listed once */
	CHECK_INT(g->out_edges[2][1], ==, 5);
	CHECK_INT(g->out_edges[2][2], ==, 7);
	CHECK_INT(g->out_edges[2][3], ==, -1);
	CHECK_INT(g->out_edges[3][0], ==, 4);	/* c */
	CHECK_INT(g->out_edges[3][1], ==, 5);
	CHECK_INT(g->out_edges[3][2], ==, -1);
	CHECK_INT(g->out_edges[4][0], ==, 5);	/* d */
	CHECK_INT(g->out_edges[4][1], ==, -1);
	CHECK_INT(g->out_edges[5][0], ==, 6);	/* e */
	CHECK_INT(g->out_edges[5][1], ==, -1);
	CHECK_INT(g->out_edges[6][0], ==, -1);	/* f: routes only */

	CHECK_INT(g->out_routes[0][0], ==, 1);	/* START */
	CHECK_INT(g->out_routes[0][1], ==, -1);
	CHECK_INT(g->out_routes[6][0], ==, 0);	/* f */
	CHECK_INT(g->out_routes[6][1], ==, 2);
	CHECK_INT(g->out_routes[6][2], ==, -1);
	for (i = 1; i <= 5; i++)
		CHECK_INT(g->out_routes[i][0], ==, -1);
	og_graph_free(g);
}

/* Enough nodes and edges to make the arrays grow several times. */
static void test_many_nodes(void)
{
	struct og_graph *g = og_graph_new(NULL, NULL);
	struct og_err err = { 0 };
	char name[32], prev[32];
	int i, bad = 0;

	CHECK_STR(g->name, "graph");
	snprintf(prev, sizeof(prev), "%s", OG_START_NAME);
	for (i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		bad += node(g, name, i + 1) != i;
		bad += edge(g, prev, name, 1000 + i) != 0;
		snprintf(prev, sizeof(prev), "%s", name);
		snprintf(name, sizeof(name), "c%d", i);
		bad += og_graph_add_channel(g, name, OG_RED_APPEND, cJSON_CreateArray(), -1, NULL, NULL) != 0;
	}
	CHECK_INT(bad, ==, 0);
	edge(g, prev, OG_END_NAME, 2000);
	CHECK_INT(og_graph_validate(g, &err), ==, 0);
	CHECK_INT(g->nnodes, ==, 300);
	CHECK_INT(g->nchannels, ==, 300);
	CHECK_INT(g->nedges, ==, 301);
	CHECK_STR(g->nodes[299].name, "n299");
	CHECK_STR(g->channels[257].name, "c257");
	CHECK_INT(g->nodes[128].pos.line, ==, 129);
	CHECK_INT(g->edges[300].to, ==, OG_END);
	CHECK_INT(g->out_edges[300][0], ==, 300);
	og_graph_free(g);
}

/* A join waits for at most 64 nodes (one bit each); validate says so, and
 * says it again (without leaking) when called a second time. */
static void test_join_too_wide(void)
{
	struct og_graph *g = og_graph_new("wide", NULL);
	struct og_err err = { 0 };
	const char *from[65];
	char names[65][16];	/* room for any int: gcc -O1 checks the bound */
	int i;

	node(g, "sink", 1);
	for (i = 0; i < 65; i++) {
		snprintf(names[i], sizeof(names[i]), "s%d", i);
		from[i] = names[i];
		node(g, names[i], 2 + i);
		edge(g, OG_START_NAME, names[i], 100 + i);
	}
	og_graph_add_edge(g, from, 64, "sink", NULL, NULL);	/* 64 is fine */
	CHECK_INT(og_graph_add_edge(g, from, 65, "sink", NULL, NULL), ==, 0);
	CHECK_INT(og_graph_validate(g, &err), ==, -OG_EGRAPH);
	CHECK_CONTAINS(err.msg, "a join waits for at most 64 nodes");
	CHECK(!g->validated);
	CHECK_INT(og_graph_validate(g, &err), ==, -OG_EGRAPH);
	CHECK_CONTAINS(err.msg, "a join waits for at most 64 nodes");
	CHECK_INT(g->njoins, ==, 0);
	og_graph_free(g);

	g = og_graph_new("wide64", NULL);
	node(g, "sink", 1);
	for (i = 0; i < 64; i++) {
		node(g, names[i], 2 + i);
		edge(g, OG_START_NAME, names[i], 100 + i);
	}
	og_graph_add_edge(g, from, 64, "sink", NULL, NULL);
	CHECK_INT(og_graph_validate(g, &err), ==, 0);
	CHECK_INT(g->njoins, ==, 1);
	CHECK_INT(g->join_edge[0], ==, 64);
	og_graph_free(g);
}

int main(void)
{
	test_valid_linear();
	test_lookup();
	test_unknown_node_in_edge();
	test_unreachable();
	test_route_problems();
	test_edge_endpoints();
	test_no_entry();
	test_duplicates_and_reserved();
	test_many_problems();
	test_destinations();
	test_joins_and_indexes();
	test_many_nodes();
	test_join_too_wide();
	TEST_END();
}
