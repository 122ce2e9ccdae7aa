/*
 * pool.c: the worker threads and the way back to the event loop. Graph code
 * may run for minutes (an LLM, a tool), so it never runs on the loop: a job
 * waits in a FIFO queue for one of a fixed number of workers, and what it
 * wants to say (an HTTP answer, "thread T changed") travels back as a
 * message the loop picks up after event_active, which libevent makes safe to
 * call from another thread once evthread_use_pthreads is on.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/http.h>

#include "../core/clock.h"
#include "../core/json.h"
#include "server.h"

struct srv_pool {
	struct srv *S;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct srv_job *head, **tail;
	pthread_t *tids;
	int n, busy, queued;
	bool stop;
	char name[16];
};

struct worker_arg {
	struct srv_pool *p;
	int index;
};

static void post_msg(struct srv *S, struct srv_msg *m)
{
	pthread_mutex_lock(&S->msg_mu);
	*S->msg_tail = m;
	S->msg_tail = &m->next;
	pthread_mutex_unlock(&S->msg_mu);
	event_active(S->notify_ev, EV_READ, 0);
}

void srv_job_reply(struct srv_job *j, int status, cJSON *body)
{
	struct srv_msg *m;

	if (j->on_answer && !j->replied) {
		void (*fn)(struct srv_job *, int, const cJSON *) = j->on_answer;
		j->on_answer = NULL;	/* the first answer is the job's outcome */
		fn(j, status, body);
	}
	if (j->replied || !j->pend) {
		cJSON_Delete(body);
		return;
	}
	j->replied = true;
	if (!(m = calloc(1, sizeof(*m)))) {
		cJSON_Delete(body);
		return;	/* the request then gets its 500 when the job ends */
	}
	m->pend = j->pend;
	m->status = status;
	m->body = body ? og_json_print_text(body) : NULL;
	cJSON_Delete(body);
	post_msg(j->S, m);
}

void srv_job_error(struct srv_job *j, int status, const char *error, const char *fmt, ...)
{
	cJSON *o = cJSON_CreateObject();
	char detail[1536];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	cJSON_AddStringToObject(o, "error", error);
	cJSON_AddStringToObject(o, "detail", detail);
	/* every refusal leaves a line, as the loop's own errors do (routes.c);
	 * pend is the loop's again once answered, so it is not read then */
	fprintf(stderr, "opsgraph serve: %s %s -> %d %s: %s\n", j->pend && !j->replied ? j->pend->route : "job",
		j->thread, status, error, detail);
	srv_job_reply(j, status, o);
}

void srv_post_changed(struct srv *S, const char *thread)
{
	struct srv_msg *m = calloc(1, sizeof(*m));

	if (!m)
		return;
	snprintf(m->thread, sizeof(m->thread), "%s", thread);
	post_msg(S, m);
}

void srv_drain_msgs(struct srv *S)
{
	struct srv_msg *m, *next;

	pthread_mutex_lock(&S->msg_mu);
	m = S->msg_head;
	S->msg_head = NULL;
	S->msg_tail = &S->msg_head;
	pthread_mutex_unlock(&S->msg_mu);
	for (; m; m = next) {
		next = m->next;
		if (m->pend) {
			if (m->pend->req) {
				struct evhttp_connection *conn = evhttp_request_get_connection(m->pend->req);
				if (conn)
					evhttp_connection_set_closecb(conn, NULL, NULL);
				srv_reply_text(S, m->pend->req, m->pend->route, m->status, "application/json",
					       m->body ? m->body : "{}");
			}
			free(m->pend);
		}
		if (m->thread[0])
			sse_changed(S->sse, m->thread);
		free(m->body);
		free(m);
	}
}

struct srv_job *srv_job_new(struct srv *S, srv_job_fn fn, struct evhttp_request *req, const char *route)
{
	struct srv_job *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->S = S;
	j->fn = fn;
	if (req) {
		if (!(j->pend = calloc(1, sizeof(*j->pend)))) {
			free(j);
			return NULL;
		}
		j->pend->req = req;
		j->pend->route = route;
		j->pend->t0_us = og_clock_mono_us();
	}
	return j;
}

/* A job that never ran still owes its request an answer, which frees the
 * pending record on the loop. */
void srv_job_free(struct srv_job *j)
{
	if (!j)
		return;
	if (j->pend && !j->replied)
		srv_job_error(j, 500, "internal", "the request ended without an answer (see the server log)");
	cJSON_Delete(j->body);
	cJSON_Delete(j->deferred);
	cJSON_Delete(j->deferred_note);
	free(j);
}

static void *worker_main(void *arg)
{
	struct worker_arg *wa = arg;
	struct srv_pool *p = wa->p;
	int index = wa->index;

	free(wa);
	for (;;) {
		struct srv_job *j;
		pthread_mutex_lock(&p->mu);
		while (!p->head && !p->stop)
			pthread_cond_wait(&p->cv, &p->mu);
		if (!p->head) {
			pthread_mutex_unlock(&p->mu);
			break;
		}
		j = p->head;
		if (!(p->head = j->next))
			p->tail = &p->head;
		p->queued--;
		p->busy++;
		pthread_mutex_unlock(&p->mu);
		if (p->stop)	/* queued before the signal: not started, so nothing to keep */
			srv_job_error(j, 503, "shutting_down", "the server is shutting down; retry later");
		else
			j->fn(j, index);
		srv_job_free(j);
		pthread_mutex_lock(&p->mu);
		p->busy--;
		pthread_mutex_unlock(&p->mu);
		event_active(p->S->drain_ev, EV_TIMEOUT, 0);
	}
	return NULL;
}

struct srv_pool *srv_pool_new(struct srv *S, int n, const char *name)
{
	struct srv_pool *p = calloc(1, sizeof(*p));
	int i;

	if (!p || !(p->tids = calloc((size_t)n, sizeof(pthread_t)))) {
		free(p);
		return NULL;
	}
	p->S = S;
	p->tail = &p->head;
	snprintf(p->name, sizeof(p->name), "%s", name);
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	for (i = 0; i < n; i++) {
		struct worker_arg *wa = malloc(sizeof(*wa));
		if (!wa)
			break;
		wa->p = p;
		wa->index = i;
		if (pthread_create(&p->tids[i], NULL, worker_main, wa)) {
			free(wa);
			break;
		}
		p->n++;
	}
	if (p->n == 0) {
		srv_pool_free(p, true);
		return NULL;
	}
	return p;
}

int srv_pool_push(struct srv_pool *p, struct srv_job *j)
{
	pthread_mutex_lock(&p->mu);
	if (p->stop || p->queued >= SRV_QUEUE_MAX) {
		pthread_mutex_unlock(&p->mu);
		return -1;
	}
	p->queued++;
	j->next = NULL;
	*p->tail = j;
	p->tail = &j->next;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
	return 0;
}

void srv_pool_stop(struct srv_pool *p)
{
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

bool srv_pool_idle(struct srv_pool *p)
{
	bool idle;

	pthread_mutex_lock(&p->mu);
	idle = !p->head && p->busy == 0;
	pthread_mutex_unlock(&p->mu);
	return idle;
}

void srv_pool_free(struct srv_pool *p, bool join)
{
	int i;

	if (!p)
		return;
	srv_pool_stop(p);
	if (!join)
		return;	/* workers still in a run keep the pool; the process is ending */
	for (i = 0; i < p->n; i++)
		pthread_join(p->tids[i], NULL);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p->tids);
	free(p);
}
