/*
 * server.h: `opsgraph serve`, the HTTP front of the engine, and what its
 * files share. The event loop (one thread, libevent's evhttp) parses
 * requests, answers reads from the store and streams events; everything that
 * advances a thread or must be durable before its answer runs as a job on a
 * worker thread (pool.c), which hands its reply back to the loop through a
 * thread-safe notification. The server sits beside cli/ at layer 3 and
 * reuses its session (cli_run.h), so a run started over HTTP is the same
 * code path as `opsgraph run`.
 */
#ifndef OG_SERVER_H
#define OG_SERVER_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "../cli/cli_run.h"

struct event_base;
struct event;
struct evhttp;
struct evhttp_request;
struct evhttp_bound_socket;

int cmd_serve(int argc, char **argv);

struct srv_conf {
	char host[64];
	int port;
	const char *db;
	const char *root;		/* project root: graphs/, nodes/, ui-static/ */
	const char *config;
	enum og_durability durability;
	int workers;
	size_t max_body;
	int max_sse;
	int keepalive_s;		/* SSE comment interval */
	int grace_s;			/* shutdown: wait this long for in-flight runs */
	const char *alert_graph, *slack_graph;
	const char *slack_secret;	/* $SLACK_SIGNING_SECRET, NULL when unset */
	bool no_auth;			/* --no-auth: loopback only, see auth.c */
};

/* A request waiting for a worker's answer. Owned by the loop; the worker
 * only carries the pointer back. `req` becomes NULL when the client went
 * away, so a late answer is dropped instead of touching freed memory. */
struct srv_pending {
	struct evhttp_request *req;
	const char *route;
	int64_t t0_us;
};

struct srv_job;
typedef void (*srv_job_fn)(struct srv_job *j, int worker);

/* One unit of work for a worker. The fields the handler fills are read by
 * the worker only; the job is freed by the worker when fn returns. */
struct srv_job {
	struct srv_job *next;
	struct srv *S;
	srv_job_fn fn;
	struct srv_pending *pend;	/* NULL: nobody waits for an answer */
	bool replied;
	char thread[128];
	char graph[PATH_MAX];
	char iid[64];
	char by[128];
	cJSON *body;			/* the parsed request, owned */
	const char *bp[2][17];		/* run: interrupt_before/after, NULL-terminated, into body */
	cJSON *deferred;		/* resume: the answer to send once the decision is committed */
	cJSON *deferred_note;		/* resume: the approver's note, saved then too */
	uint64_t ckpt_id;
	/* set by a handler that wants to see the job's answer (a Slack click):
	 * called on the worker with it, before it goes to the request, if any */
	void (*on_answer)(struct srv_job *j, int status, const cJSON *body);
};

/* What a worker hands to the loop. */
struct srv_msg {
	struct srv_msg *next;
	struct srv_pending *pend;	/* reply to this request, or NULL */
	int status;
	char *body;			/* JSON text, owned */
	char thread[128];		/* a thread that changed: wake its streams */
};

struct srv_pool;
struct sse_hub;
struct srv_metrics;
struct slack_conf;

struct srv {
	struct srv_conf conf;
	struct event_base *base;
	struct evhttp *http;
	struct evhttp_bound_socket *sock;
	struct og_store_lmdb *db;
	struct srv_pool *runs;		/* graph runs and resumes */
	struct srv_pool *intake;	/* quick durable writes: Slack and Alertmanager acks */
	struct event *notify_ev, *sig_term, *sig_int, *drain_ev;
	pthread_mutex_t msg_mu;
	struct srv_msg *msg_head, **msg_tail;
	struct sse_hub *sse;
	struct srv_metrics *metrics;
	struct srv_auth *auth;
	struct slack_conf *slack;	/* config slack + $SLACK_BOT_TOKEN (slack_out.c) */
	char ui_dir[PATH_MAX];		/* realpath of ui-static/, "" when missing */
	char *root_owned;		/* conf.root once resolved */
	char host[128];
	bool stopping;
	int64_t stop_deadline_us;
};

/* ---- pool.c ---- */
struct srv_pool *srv_pool_new(struct srv *S, int n, const char *name);
/* Takes j; -1 when the pool is stopping or its queue holds SRV_QUEUE_MAX
 * jobs (the caller still owns j). */
#define SRV_QUEUE_MAX 1024
int srv_pool_push(struct srv_pool *p, struct srv_job *j);
void srv_pool_stop(struct srv_pool *p);		/* no new jobs; queued ones are answered 503 */
bool srv_pool_idle(struct srv_pool *p);
void srv_pool_free(struct srv_pool *p, bool join);
struct srv_job *srv_job_new(struct srv *S, srv_job_fn fn, struct evhttp_request *req, const char *route);
void srv_job_free(struct srv_job *j);
/* From a worker: answer the job's request now (once); the job may go on. */
void srv_job_reply(struct srv_job *j, int status, cJSON *body);
void srv_job_error(struct srv_job *j, int status, const char *error, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* From a worker: wake the streams of a thread. */
void srv_post_changed(struct srv *S, const char *thread);
/* The loop's side of the notification. */
void srv_drain_msgs(struct srv *S);

/* ---- jobs.c: what workers run, on the CLI's session ---- */
void job_run(struct srv_job *j, int worker);		/* POST /api/runs */
void job_resume(struct srv_job *j, int worker);		/* POST .../resume */
void job_continue(struct srv_job *j, int worker);	/* POST .../resume without a value */
void job_fork(struct srv_job *j, int worker);		/* POST .../fork */
void job_alert(struct srv_job *j, int worker);		/* Alertmanager intake */
void job_slack(struct srv_job *j, int worker);		/* Slack intake */
void job_graphs(struct srv_job *j, int worker);		/* GET /api/graphs */
/* graphs/NAME.lua under the root; -1 on a bad name */
int srv_graph_path(const struct srv *S, const char *name, char *out, size_t len);

/* ---- routes.c ---- */
void srv_dispatch(struct evhttp_request *req, void *arg);
void srv_reply_json(struct srv *S, struct evhttp_request *req, const char *route, int status, const cJSON *body);
void srv_reply_text(struct srv *S, struct evhttp_request *req, const char *route, int status, const char *ctype,
		    const char *text);
void srv_reply_error(struct srv *S, struct evhttp_request *req, const char *route, int status, const char *error,
		     const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* The request body as a NUL-terminated copy (caller frees); NULL if empty. */
char *srv_body(struct evhttp_request *req, size_t *len);
/* Parses a JSON object body; answers 400 and returns NULL when it is not one. */
cJSON *srv_json_body(struct srv *S, struct evhttp_request *req, const char *route);
/* The same without a request (the fuzzers call it): the object, or NULL
 * and why in msg. */
cJSON *srv_json_parse(const char *text, size_t len, char *msg, size_t msglen);
/* Enqueues a job and parks the request; answers 503 when the server is stopping. */
void srv_submit(struct srv *S, struct srv_pool *p, struct srv_job *j);

/* ---- api_threads.c ---- */
void api_graphs(struct srv *S, struct evhttp_request *req);
void api_runs(struct srv *S, struct evhttp_request *req);
void api_threads(struct srv *S, struct evhttp_request *req);
void api_thread(struct srv *S, struct evhttp_request *req, const char *thread, const char *sub);
/* GET /api/threads/{id}/postmortem?format=json|md|html (api_postmortem.c) */
void api_postmortem(struct srv *S, struct evhttp_request *req, const char *thread);
bool srv_thread_id_ok(const char *id);

/* ---- sse.c ---- */
struct sse_hub *sse_hub_new(struct srv *S);
void sse_hub_free(struct sse_hub *h);
void sse_open(struct srv *S, struct evhttp_request *req, const char *thread);
void sse_changed(struct sse_hub *h, const char *thread);
void sse_close_all(struct sse_hub *h);
int sse_count(struct sse_hub *h);

/* ---- static.c ---- */
void static_serve(struct srv *S, struct evhttp_request *req, const char *raw_path);
/* The percent-decoded path (caller frees), or NULL when it is no file name
 * under ui-static/ (NUL, control bytes, backslash, "." or ".." segments). */
char *static_path_decode(const char *raw_path);

/* ---- slack.c, alertmanager.c ---- */
/* 0 when the v0 signature of body is good; else the HTTP status to answer
 * with, and why in msg. */
int slack_verify(const char *secret, const char *ts, const char *sig, const char *body, size_t len, int64_t now_s,
		 char *msg, size_t msglen);
/* A verified /slack/events body: 1 for url_verification (*challenge set),
 * 2 for an event_callback (*event_id set), or 400 with why in msg. *out is
 * the parsed body either way (NULL on 400); the caller deletes it. */
int slack_event_parse(const char *text, size_t len, cJSON **out, const char **challenge, const char **event_id,
		      char *msg, size_t msglen);
void slack_events(struct srv *S, struct evhttp_request *req);
/* The click in a verified /slack/interactions form body, without a request
 * (the fuzzer calls it): 0 with k filled (k->p and k->val are the caller's to
 * delete; the strings point into them), or 400 with an error code and why. */
struct slack_click {
	cJSON *p, *val;					/* the payload, the button's value */
	const char *user, *t, *i, *c, *h;		/* Slack user, thread, interrupt, choice, plan hash */
};
int slack_click_parse(const char *text, size_t len, struct slack_click *k, const char **error, char *msg,
		      size_t msglen);
void slack_interactions(struct srv *S, struct evhttp_request *req);	/* slack_interact.c */
/* An Alertmanager webhook body: 0 and its thread id ("am-" + groupKey's
 * hash), or 400 with why in msg. */
int alertmanager_check(const cJSON *body, char *thread, size_t tlen, char *msg, size_t msglen);
void alertmanager_post(struct srv *S, struct evhttp_request *req);

/* ---- auth.c: operator tokens, sessions, CSRF ---- */
#define AUTH_NAME_MAX 64
struct srv_auth;
/* Reads the config's "auth" object (may be NULL) after the store is open;
 * returns the exit status to end with, 0 to go on. */
int auth_setup(struct srv *S, const cJSON *cfg);
void auth_free(struct srv_auth *au);
bool auth_on(const struct srv *S);
/* /api/login, /api/logout, /api/session: true when path was one (answered). */
bool auth_route(struct srv *S, struct evhttp_request *req, const char *path);
/* Any other /api/ request: false when it was refused (answered 401/403). */
bool auth_check(struct srv *S, struct evhttp_request *req, bool post);
/* With auth on, fills by with the session's operator; -1 (why in msg) when
 * the body's "by" or value.by names someone else. */
int auth_by(struct srv *S, const cJSON *body, char *by, size_t len, char *msg, size_t msglen);
/* For `opsgraph token`: SHA-256 as 64 hex digits; bytes random bytes as hex
 * (out holds 2 * bytes + 1, bytes <= 64); a name of 1 to AUTH_NAME_MAX of
 * [A-Za-z0-9._@-]. */
int auth_sha256_hex(const char *s, char out[65]);
int auth_random_hex(char *out, size_t bytes);
bool auth_name_ok(const char *name);

/* ---- metrics.c ---- */
struct srv_metrics *metrics_new(void);
void metrics_free(struct srv_metrics *m);
void metrics_http(struct srv_metrics *m, const char *route, int code);
void metrics_node(struct srv_metrics *m, const char *node, double seconds);	/* one task */
void metrics_commit(struct srv_metrics *m, double seconds);			/* one checkpoint put */
void metrics_get(struct srv *S, struct evhttp_request *req);

#endif
