/*
 * server.c: `opsgraph serve`: flags, the listener, the loop and an orderly
 * end. On SIGTERM or SIGINT the server stops accepting connections, ends
 * the event streams, answers queued-but-unstarted jobs 503, and waits (at
 * most --grace seconds) for the runs in progress: every step a run
 * completes is committed, and a run still going when the grace period ends
 * is left as it would be after a crash, resumable with `opsgraph resume`
 * (its lease names a process that no longer exists, so it is taken over at
 * once). The exit status is 0 for a signal, 2 for bad flags, 1 when the
 * listener or database cannot be opened.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/http.h>
#include <event2/thread.h>

#include "../cli/cli.h"
#include "../core/clock.h"
#include "../net/otlp.h"
#include "server.h"
#include "slack_out.h"

#define USAGE "usage: opsgraph serve [--listen HOST:PORT] [--db DIR] [--root DIR] [--config FILE] [--workers N]\n" \
	"       [--durability sync|async] [--max-body BYTES] [--max-streams N] [--grace SECONDS]\n" \
	"       [--alert-graph NAME] [--slack-graph NAME] [--no-auth (loopback only)]"

static int parse_int(const char *flag, const char *arg, long lo, long hi, long *out)
{
	char *end;
	long v = strtol(arg, &end, 10);

	if (!*arg || *end || v < lo || v > hi)
		return cli_fail(2, "%s takes a whole number from %ld to %ld, not '%s'", flag, lo, hi, arg);
	*out = v;
	return 0;
}

static int parse_listen(const char *arg, struct srv_conf *c)
{
	const char *colon = strrchr(arg, ':');
	long port;

	if (!colon || colon == arg || (size_t)(colon - arg) >= sizeof(c->host) ||
	    parse_int("--listen PORT", colon + 1, 0, 65535, &port))
		return cli_fail(2, "--listen takes HOST:PORT, e.g. 127.0.0.1:8080 (port 0: any free port), not '%s'", arg);
	if (arg[0] == '[' && colon[-1] == ']') {	/* [::1]:8080 */
		memcpy(c->host, arg + 1, (size_t)(colon - arg - 2));
		c->host[colon - arg - 2] = 0;
	} else {
		memcpy(c->host, arg, (size_t)(colon - arg));
		c->host[colon - arg] = 0;
	}
	c->port = (int)port;
	return 0;
}

static int parse_args(int argc, char **argv, struct srv_conf *c)
{
	int i;
	long v;

	snprintf(c->host, sizeof(c->host), "127.0.0.1");
	c->port = 8080;
	c->db = CLI_DEFAULT_DB;
	c->workers = 4;
	c->max_body = 1 << 20;
	c->max_sse = 256;
	c->keepalive_s = 15;
	c->grace_s = 30;
	c->alert_graph = "incident";
	c->slack_graph = "incident";
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--no-auth")) {
			c->no_auth = true;
			continue;
		}
		if (!val)
			return cli_fail(2, "unknown or incomplete option '%s'\n" USAGE, a);
		i++;
		if (!strcmp(a, "--listen")) {
			if (parse_listen(val, c))
				return 2;
		} else if (!strcmp(a, "--db")) {
			c->db = val;
		} else if (!strcmp(a, "--root")) {
			c->root = val;
		} else if (!strcmp(a, "--config")) {
			c->config = val;
		} else if (!strcmp(a, "--workers")) {
			if (parse_int(a, val, 1, 256, &v))
				return 2;
			c->workers = (int)v;
		} else if (!strcmp(a, "--durability")) {
			if (!strcmp(val, "sync"))
				c->durability = OG_DURABLE_SYNC;
			else if (!strcmp(val, "async"))
				c->durability = OG_DURABLE_ASYNC;
			else
				return cli_fail(2, "--durability takes sync or async, not '%s'", val);
		} else if (!strcmp(a, "--max-body")) {
			if (parse_int(a, val, 1024, 256L << 20, &v))
				return 2;
			c->max_body = (size_t)v;
		} else if (!strcmp(a, "--max-streams")) {
			if (parse_int(a, val, 1, 100000, &v))
				return 2;
			c->max_sse = (int)v;
		} else if (!strcmp(a, "--grace")) {
			if (parse_int(a, val, 0, 3600, &v))
				return 2;
			c->grace_s = (int)v;
		} else if (!strcmp(a, "--keepalive")) {
			if (parse_int(a, val, 1, 3600, &v))
				return 2;
			c->keepalive_s = (int)v;
		} else if (!strcmp(a, "--alert-graph")) {
			c->alert_graph = val;
		} else if (!strcmp(a, "--slack-graph")) {
			c->slack_graph = val;
		} else {
			return cli_fail(2, "unknown option '%s'\n" USAGE, a);
		}
	}
	return 0;
}

static void on_notify(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	srv_drain_msgs(arg);
}

static void on_drain(evutil_socket_t fd, short what, void *arg)
{
	struct srv *S = arg;

	(void)fd;
	(void)what;
	if (!S->stopping)
		return;
	srv_drain_msgs(S);
	if ((srv_pool_idle(S->runs) && srv_pool_idle(S->intake)) || og_clock_mono_us() > S->stop_deadline_us) {
		/* the last answers are queued on their connections: a moment to
		 * write them before the connections close */
		struct timeval flush = { 0, 200000 };
		srv_drain_msgs(S);
		event_base_loopexit(S->base, &flush);
		return;
	}
	{
		struct timeval t = { 0, 100000 };	/* look again; a worker's end also wakes us */
		event_add(S->drain_ev, &t);
	}
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct srv *S = arg;

	(void)what;
	if (S->stopping)
		return;
	fprintf(stderr, "opsgraph serve: %s: no new connections; waiting up to %d s for runs in progress\n",
		sig == SIGTERM ? "SIGTERM" : "SIGINT", S->conf.grace_s);
	S->stopping = true;
	S->stop_deadline_us = og_clock_mono_us() + (int64_t)S->conf.grace_s * 1000000;
	if (S->sock) {
		evhttp_del_accept_socket(S->http, S->sock);
		S->sock = NULL;
	}
	sse_close_all(S->sse);
	srv_pool_stop(S->runs);
	srv_pool_stop(S->intake);
	event_active(S->drain_ev, EV_TIMEOUT, 0);
}

static int setup(struct srv *S)
{
	struct og_store_lmdb_opts o = { 0 };
	struct og_err err = { 0 };
	char rootbuf[PATH_MAX], ui[PATH_MAX + 16];
	const char *root = cli_project_root(S->conf.root);
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int port = S->conf.port;
	bool v6;
	cJSON *cfg = NULL;
	int st;

	if (!strcmp(S->conf.db, ":memory:"))
		return cli_fail(2, "--db :memory: cannot be served: threads must outlive a request; give a directory");
	if (!realpath(root ? root : ".", rootbuf))
		return cli_fail(2, "--root %s: no such directory", root ? root : ".");
	if (!(S->root_owned = strdup(rootbuf)))
		return cli_fail(1, "out of memory");
	S->conf.root = S->root_owned;
	snprintf(ui, sizeof(ui), "%s/ui-static", S->conf.root);
	if (!realpath(ui, S->ui_dir))
		S->ui_dir[0] = 0;
	if (S->conf.config) {
		char arg[PATH_MAX + 2];
		snprintf(arg, sizeof(arg), "@%s", S->conf.config);
		if (!(cfg = cli_parse_json_arg("--config", arg, &err)))
			return cli_fail(2, "%s", err.msg);
	}
	S->conf.slack_secret = getenv("SLACK_SIGNING_SECRET");
	if (S->conf.slack_secret && !*S->conf.slack_secret)
		S->conf.slack_secret = NULL;
	o.path = S->conf.db;
	o.durability = S->conf.durability;
	if (og_store_lmdb_open(&o, &S->db, &err) < 0) {
		cJSON_Delete(cfg);
		return cli_fail(err.code == -OG_EINVAL ? 2 : 1, "%s", err.msg);
	}
	st = auth_setup(S, cfg);
	if (st == 0)
		st = slack_setup(S, cfg);
	/* each job re-reads the config, but a bad otlp block should stop the
	 * server here rather than fail every run */
	if (st == 0 && cJSON_GetObjectItemCaseSensitive(cfg, "otlp") &&
	    !cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(cfg, "otlp")) &&
	    og_otlp_config_check(cJSON_GetObjectItemCaseSensitive(cfg, "otlp"), &err) < 0)
		st = cli_fail(2, "--config %s: %s", S->conf.config, err.msg);
	cJSON_Delete(cfg);
	if (st)
		return st;
	gethostname(S->host, sizeof(S->host) - 1);
	if (evthread_use_pthreads() < 0 || !(S->base = event_base_new()) || !(S->http = evhttp_new(S->base)))
		return cli_fail(1, "libevent could not be set up");
	evhttp_set_max_body_size(S->http, (ev_ssize_t)S->conf.max_body);
	evhttp_set_max_headers_size(S->http, 16 * 1024);
	evhttp_set_timeout(S->http, 30);
	/* every method reaches the router, which answers 405 in JSON */
	evhttp_set_allowed_methods(S->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT |
				   EVHTTP_REQ_DELETE | EVHTTP_REQ_PATCH | EVHTTP_REQ_OPTIONS);
	evhttp_set_gencb(S->http, srv_dispatch, S);
	if (!(S->sock = evhttp_bind_socket_with_handle(S->http, S->conf.host, (ev_uint16_t)S->conf.port)))
		return cli_fail(1, "cannot listen on %s:%d (in use, or not an address of this host)", S->conf.host,
				S->conf.port);
	if (getsockname(evhttp_bound_socket_get_fd(S->sock), (struct sockaddr *)&ss, &sl) == 0)
		port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
						      : ((struct sockaddr_in *)&ss)->sin_port);
	pthread_mutex_init(&S->msg_mu, NULL);
	S->msg_tail = &S->msg_head;
	if (!(S->metrics = metrics_new()) || !(S->sse = sse_hub_new(S)) ||
	    !(S->notify_ev = event_new(S->base, -1, EV_PERSIST, on_notify, S)) ||
	    !(S->drain_ev = event_new(S->base, -1, 0, on_drain, S)) ||
	    !(S->sig_term = evsignal_new(S->base, SIGTERM, on_signal, S)) ||
	    !(S->sig_int = evsignal_new(S->base, SIGINT, on_signal, S)) ||
	    !(S->runs = srv_pool_new(S, S->conf.workers, "runs")) || !(S->intake = srv_pool_new(S, 1, "intake")))
		return cli_fail(1, "out of memory or threads");
	event_add(S->sig_term, NULL);
	event_add(S->sig_int, NULL);
	signal(SIGPIPE, SIG_IGN);
	v6 = strchr(S->conf.host, ':') != NULL;
	fprintf(stderr, "opsgraph serve: listening on http://%s%s%s:%d (db %s, root %s, %d workers%s)\n",
		v6 ? "[" : "", S->conf.host, v6 ? "]" : "", port, S->conf.db, S->conf.root, S->conf.workers,
		S->conf.slack_secret ? "" : "; Slack events off: SLACK_SIGNING_SECRET is not set");
	return 0;
}

int cmd_serve(int argc, char **argv)
{
	struct srv *S = calloc(1, sizeof(*S));
	bool clean;
	int st;

	if (!S)
		return cli_fail(1, "out of memory");
	if ((st = parse_args(argc, argv, &S->conf)) != 0 || (st = setup(S)) != 0)
		goto out;
	event_base_dispatch(S->base);
	clean = srv_pool_idle(S->runs) && srv_pool_idle(S->intake);
	if (!clean) {
		/* a run outlived the grace period: leave it as a crash would; its
		 * committed steps are safe and `opsgraph resume` continues it */
		fprintf(stderr, "opsgraph serve: runs still in progress after %d s; they are resumable\n",
			S->conf.grace_s);
		fflush(NULL);
		_exit(0);
	}
	srv_pool_free(S->runs, true);
	srv_pool_free(S->intake, true);
	S->runs = S->intake = NULL;
	srv_drain_msgs(S);
	fprintf(stderr, "opsgraph serve: stopped\n");
	st = 0;
out:
	srv_pool_free(S->runs, true);
	srv_pool_free(S->intake, true);
	if (S->msg_tail)
		srv_drain_msgs(S);
	sse_hub_free(S->sse);
	if (S->http)
		evhttp_free(S->http);
	if (S->notify_ev)
		event_free(S->notify_ev);
	if (S->drain_ev)
		event_free(S->drain_ev);
	if (S->sig_term)
		event_free(S->sig_term);
	if (S->sig_int)
		event_free(S->sig_int);
	if (S->base)
		event_base_free(S->base);
	metrics_free(S->metrics);
	slack_free(S->slack);
	auth_free(S->auth);
	og_store_lmdb_close(S->db);
	free(S->root_owned);
	if (S->msg_tail)
		pthread_mutex_destroy(&S->msg_mu);
	free(S);
	return st;
}
