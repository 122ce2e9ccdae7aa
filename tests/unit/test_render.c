/*
 * test_render.c: og_render_graph draws every kind of link with its own look in
 * Mermaid and DOT (solid edges, dashed routes, dotted "goto" destinations,
 * join points), escapes node names, highlights the current node, renders
 * deterministically, and refuses unvalidated graphs and unknown names.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/graph.h"
#include "graph/render.h"
#include "../test.h"

static int edge(struct og_graph *g, const char *from, const char *to)
{
	return og_graph_add_edge(g, &from, 1, to, NULL, NULL);
}

static int count(const char *s, const char *sub)
{
	int n = 0;

	while (s && (s = strstr(s, sub))) {
		n++;
		s += strlen(sub);
	}
	return n;
}

/* START -> a; a routes to {b, c}; b -> d and c -> d as a join of {b, c};
 * d may goto a (Command) or finish; d -> END. */
static struct og_graph *diamond(void)
{
	struct og_err err = { 0 };
	struct og_graph *g = og_graph_new("diamond", &err);
	const char *targets[2] = { "b", "c" };
	const char *both[2] = { "b", "c" };
	int d;

	CHECK(g != NULL);
	CHECK_INT(og_graph_add_node(g, "a", 1, NULL, &err), ==, 0);
	CHECK_INT(og_graph_add_node(g, "b", 2, NULL, &err), ==, 1);
	CHECK_INT(og_graph_add_node(g, "c", 3, NULL, &err), ==, 2);
	d = og_graph_add_node(g, "d", 4, NULL, &err);
	CHECK_INT(d, ==, 3);
	CHECK_INT(edge(g, OG_START_NAME, "a"), ==, 0);
	CHECK_INT(og_graph_add_route(g, "a", 9, targets, 2, NULL, &err), ==, 0);
	CHECK_INT(og_graph_add_edge(g, both, 2, "d", NULL, &err), ==, 0);
	CHECK_INT(og_graph_add_destination(g, d, "a", &err), ==, 0);
	CHECK_INT(edge(g, "d", OG_END_NAME), ==, 0);
	CHECK_INT(og_graph_validate(g, &err), ==, 0);
	CHECK_STR(err.msg, "");
	return g;
}

static void test_mermaid(void)
{
	struct og_err err = { 0 };
	struct og_graph *g = diamond();
	char *s = og_render_graph(g, OG_RENDER_MERMAID, NULL, &err);

	CHECK(s != NULL);
	CHECK(s && strncmp(s, "flowchart TD\n", 13) == 0);
	CHECK_CONTAINS(s, "__start__([START])\n");
	CHECK_CONTAINS(s, "__end__([END])\n");
	CHECK_CONTAINS(s, "n_0[\"a\"]\n");
	CHECK_CONTAINS(s, "n_3[\"d\"]\n");
	CHECK_CONTAINS(s, "__start__ --> n_0\n");
	CHECK_CONTAINS(s, "n_3 --> __end__\n");
	/* the route: dashed to each declared target */
	CHECK_CONTAINS(s, "n_0 -.-> n_1\n");
	CHECK_CONTAINS(s, "n_0 -.-> n_2\n");
	/* the join: both sources into a join point, the point into d */
	CHECK_CONTAINS(s, "join_0((\" \")):::join\n");
	CHECK_CONTAINS(s, "n_1 --> join_0\n");
	CHECK_CONTAINS(s, "n_2 --> join_0\n");
	CHECK_CONTAINS(s, "join_0 --> n_3\n");
	CHECK(s && !strstr(s, "n_1 --> n_3"));
	CHECK_CONTAINS(s, "classDef join");
	/* the Command destination: dotted, labelled */
	CHECK_CONTAINS(s, "n_3 -. goto .-> n_0\n");
	/* no highlight asked for, none drawn */
	CHECK(s && !strstr(s, "current"));
	CHECK_INT(count(s, "\n"), ==, 17);
	free(s);

	s = og_render_graph(g, OG_RENDER_MERMAID, "c", &err);
	CHECK_CONTAINS(s, "classDef current fill:#ffd54f,stroke:#f57f17;\n");
	CHECK_CONTAINS(s, "class n_2 current;\n");
	CHECK_INT(count(s, " current;"), ==, 1);
	free(s);

	s = og_render_graph(g, OG_RENDER_MERMAID, OG_START_NAME, &err);
	CHECK_CONTAINS(s, "class __start__ current;\n");
	free(s);

	s = og_render_graph(g, OG_RENDER_MERMAID, "", &err);	/* "" = none */
	CHECK(s && !strstr(s, "current"));
	free(s);
	og_graph_free(g);
}

static void test_dot(void)
{
	struct og_err err = { 0 };
	struct og_graph *g = diamond();
	char *s = og_render_graph(g, OG_RENDER_DOT, "d", &err);

	CHECK(s != NULL);
	CHECK(s && strncmp(s, "digraph \"diamond\" {\n  rankdir=TB;\n", 34) == 0);
	CHECK_CONTAINS(s, "\"__start__\" [label=\"START\", shape=ellipse];\n");
	CHECK_CONTAINS(s, "\"__end__\" [label=\"END\", shape=doublecircle];\n");
	CHECK_CONTAINS(s, "\"n_0\" [label=\"a\", shape=box, style=\"rounded\"];\n");
	CHECK_CONTAINS(s, "\"n_3\" [label=\"d\", shape=box, style=\"rounded,filled\", "
		       "fillcolor=\"#ffd54f\", color=\"#f57f17\"];\n");
	CHECK_INT(count(s, "filled"), ==, 1);
	CHECK_CONTAINS(s, "\"__start__\" -> \"n_0\";\n");
	CHECK_CONTAINS(s, "\"n_3\" -> \"__end__\";\n");
	CHECK_CONTAINS(s, "\"n_0\" -> \"n_1\" [style=dashed];\n");
	CHECK_CONTAINS(s, "\"n_0\" -> \"n_2\" [style=dashed];\n");
	CHECK_CONTAINS(s, "\"join_0\" [shape=point];\n");
	CHECK_CONTAINS(s, "\"n_1\" -> \"join_0\";\n");
	CHECK_CONTAINS(s, "\"n_2\" -> \"join_0\";\n");
	CHECK_CONTAINS(s, "\"join_0\" -> \"n_3\";\n");
	CHECK_CONTAINS(s, "\"n_3\" -> \"n_0\" [style=dotted, label=\"goto\"];\n");
	CHECK(s && strcmp(s + strlen(s) - 2, "}\n") == 0);
	free(s);

	s = og_render_graph(g, OG_RENDER_DOT, OG_END_NAME, &err);
	CHECK_CONTAINS(s, "\"__end__\" [label=\"END\", shape=doublecircle, style=\"filled\", "
		       "fillcolor=\"#ffd54f\", color=\"#f57f17\"];\n");
	free(s);
	og_graph_free(g);
}

/* Names with quotes, spaces, backslashes, markup and newlines stay labels;
 * ids never depend on them. A Mermaid keyword like "end" is harmless. */
static void test_escaping(void)
{
	struct og_err err = { 0 };
	struct og_graph *g = og_graph_new("my \"odd\" graph", &err);
	char *s;

	CHECK_INT(og_graph_add_node(g, "say \"hi\"", 0, NULL, &err), ==, 0);
	CHECK_INT(og_graph_add_node(g, "back\\slash <b>#1 & `x`", 0, NULL, &err), ==, 1);
	CHECK_INT(og_graph_add_node(g, "end", 0, NULL, &err), ==, 2);
	CHECK_INT(og_graph_add_node(g, "two\nlines", 0, NULL, &err), ==, 3);
	CHECK_INT(edge(g, OG_START_NAME, "say \"hi\""), ==, 0);
	CHECK_INT(edge(g, "say \"hi\"", "back\\slash <b>#1 & `x`"), ==, 0);
	CHECK_INT(edge(g, "back\\slash <b>#1 & `x`", "end"), ==, 0);
	CHECK_INT(edge(g, "end", "two\nlines"), ==, 0);
	CHECK_INT(og_graph_validate(g, &err), ==, 0);

	s = og_render_graph(g, OG_RENDER_MERMAID, "say \"hi\"", &err);
	CHECK_CONTAINS(s, "n_0[\"say #quot;hi#quot;\"]\n");
	CHECK_CONTAINS(s, "n_1[\"back\\slash #60;b#62;#35;1 #38; #96;x#96;\"]\n");
	CHECK_CONTAINS(s, "n_2[\"end\"]\n");
	CHECK_CONTAINS(s, "n_3[\"two lines\"]\n");
	CHECK_CONTAINS(s, "n_1 --> n_2\n");
	CHECK_CONTAINS(s, "class n_0 current;\n");
	/* END is drawn only when something leads there */
	CHECK(s && !strstr(s, "__end__"));
	free(s);

	s = og_render_graph(g, OG_RENDER_DOT, NULL, &err);
	CHECK(s && strncmp(s, "digraph \"my \\\"odd\\\" graph\" {\n", 29) == 0);
	CHECK_CONTAINS(s, "[label=\"say \\\"hi\\\"\", shape=box");
	CHECK_CONTAINS(s, "[label=\"back\\\\slash <b>#1 & `x`\", shape=box");
	CHECK_CONTAINS(s, "[label=\"two\\nlines\", shape=box");
	CHECK(s && !strstr(s, "__end__"));
	free(s);
	og_graph_free(g);
}

/* Two renders of the same graph, and of an identically built twin, give the
 * same bytes; a three-way join and a route to END render too. */
static void test_deterministic(void)
{
	struct og_err err = { 0 };
	struct og_graph *g1 = diamond(), *g2 = diamond(), *g3 = og_graph_new("three", &err);
	const char *abc[3] = { "a", "b", "c" }, *t[2] = { "x", OG_END_NAME };
	char *s1, *s2;
	int f, i;

	for (f = 0; f < 2; f++) {
		s1 = og_render_graph(g1, (enum og_render_format)f, "b", &err);
		s2 = og_render_graph(g2, (enum og_render_format)f, "b", &err);
		CHECK_STR(s1, s2);
		free(s2);
		s2 = og_render_graph(g1, (enum og_render_format)f, "b", &err);
		CHECK_STR(s1, s2);
		free(s1);
		free(s2);
	}
	og_graph_free(g1);
	og_graph_free(g2);

	for (i = 0; i < 3; i++) {
		CHECK_INT(og_graph_add_node(g3, abc[i], 0, NULL, &err), ==, i);
		CHECK_INT(edge(g3, OG_START_NAME, abc[i]), ==, 0);
	}
	CHECK_INT(og_graph_add_node(g3, "x", 0, NULL, &err), ==, 3);
	CHECK_INT(og_graph_add_edge(g3, abc, 3, "x", NULL, &err), ==, 0);
	CHECK_INT(og_graph_add_edge(g3, abc, 2, "x", NULL, &err), ==, 0);
	CHECK_INT(og_graph_add_route(g3, "x", 5, t, 2, NULL, &err), ==, 0);
	CHECK_INT(og_graph_add_destination(g3, 0, OG_END_NAME, &err), ==, 0);
	CHECK_INT(og_graph_validate(g3, &err), ==, 0);
	s1 = og_render_graph(g3, OG_RENDER_MERMAID, NULL, &err);
	CHECK_CONTAINS(s1, "n_2 --> join_0\n    join_0 --> n_3\n");
	CHECK_CONTAINS(s1, "n_1 --> join_1\n    join_1 --> n_3\n");
	CHECK_INT(count(s1, "--> join_0\n"), ==, 3);
	CHECK_INT(count(s1, "--> join_1\n"), ==, 2);
	CHECK_CONTAINS(s1, "n_3 -.-> n_3\n");
	CHECK_CONTAINS(s1, "n_3 -.-> __end__\n");
	CHECK_CONTAINS(s1, "n_0 -. goto .-> __end__\n");
	CHECK_INT(count(s1, "__end__([END])"), ==, 1);
	free(s1);
	s1 = og_render_graph(g3, OG_RENDER_DOT, NULL, &err);
	CHECK_INT(count(s1, "[shape=point]"), ==, 2);
	CHECK_CONTAINS(s1, "\"n_3\" -> \"__end__\" [style=dashed];\n");
	CHECK_CONTAINS(s1, "\"n_0\" -> \"__end__\" [style=dotted, label=\"goto\"];\n");
	free(s1);
	og_graph_free(g3);
}

static void test_errors(void)
{
	struct og_err err = { 0 };
	struct og_graph *g = og_graph_new("raw", &err);
	enum og_render_format fmt = OG_RENDER_DOT;
	char *s;

	CHECK_INT(og_graph_add_node(g, "a", 0, NULL, &err), ==, 0);
	CHECK_INT(edge(g, OG_START_NAME, "a"), ==, 0);
	s = og_render_graph(g, OG_RENDER_MERMAID, NULL, &err);
	CHECK(s == NULL);
	CHECK_INT(err.code, ==, -OG_ESTATE);
	CHECK_CONTAINS(err.msg, "og_graph_validate");
	CHECK_INT(og_graph_validate(g, &err), ==, 0);

	s = og_render_graph(g, OG_RENDER_MERMAID, "nope", &err);
	CHECK(s == NULL);
	CHECK_INT(err.code, ==, -OG_EINVAL);
	CHECK_CONTAINS(err.msg, "'nope'");
	s = og_render_graph(g, (enum og_render_format)7, NULL, &err);
	CHECK(s == NULL);
	CHECK_INT(err.code, ==, -OG_EINVAL);
	s = og_render_graph(NULL, OG_RENDER_DOT, NULL, NULL);
	CHECK(s == NULL);
	s = og_render_graph(g, OG_RENDER_MERMAID, NULL, NULL);	/* err may be NULL */
	CHECK_CONTAINS(s, "__start__ --> n_0\n");
	free(s);
	og_graph_free(g);

	CHECK_INT(og_render_parse_format("mermaid", &fmt, &err), ==, 0);
	CHECK_INT(fmt, ==, OG_RENDER_MERMAID);
	CHECK_INT(og_render_parse_format("dot", &fmt, &err), ==, 0);
	CHECK_INT(fmt, ==, OG_RENDER_DOT);
	og_err_clear(&err);
	CHECK_INT(og_render_parse_format("svg", &fmt, &err), ==, -OG_EINVAL);
	CHECK_INT(fmt, ==, OG_RENDER_DOT);	/* untouched on failure */
	CHECK_CONTAINS(err.msg, "'svg'");
	CHECK_CONTAINS(err.msg, "mermaid");
	CHECK_CONTAINS(err.msg, "dot");
	CHECK_INT(og_render_parse_format("", &fmt, &err), ==, -OG_EINVAL);
	CHECK_INT(og_render_parse_format(NULL, &fmt, &err), ==, -OG_EINVAL);
	CHECK_INT(og_render_parse_format("Mermaid", &fmt, NULL), ==, -OG_EINVAL);
}

int main(void)
{
	test_mermaid();
	test_dot();
	test_escaping();
	test_deterministic();
	test_errors();
	TEST_END();
}
