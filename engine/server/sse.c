/*
 * sse.c: GET /api/threads/{id}/stream, Server-Sent Events. Each committed
 * checkpoint is one event whose id is the checkpoint id and whose data is
 * its history row (step, source, status, writes, next). The stream is read
 * from the store, not from the runs, so there is one code path for live
 * events and for catching up: a client that comes back with Last-Event-ID
 * gets every checkpoint after that id, and a thread advanced by another
 * process (`opsgraph resume`) shows up too, found by a once-a-second look
 * at each watched thread's latest id. The thread's notes (an alert
 * resolved, an approver's note) come as "note" events without an id: they
 * are not steps, so Last-Event-ID does not count them, and a reconnecting
 * client gets them all again (the key tells repeats apart). Comment lines
 * keep proxies from closing idle streams. The number of clients is bounded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "../core/clock.h"
#include "../core/id.h"
#include "../core/json.h"
#include "server.h"

#define SSE_BATCH 500	/* checkpoints read per look; the rest come next time */
#define SSE_NOTES 256	/* notes a client is told about; more are not streamed */

struct sse_client {
	struct sse_client *next, **pprev;
	struct sse_hub *hub;
	struct evhttp_request *req;
	char thread[128];
	uint64_t last_id;
	int64_t last_write_us;
	uint64_t note_seen[SSE_NOTES];	/* hashes of the note keys sent */
	int nnotes;
};

struct sse_hub {
	struct srv *S;
	struct sse_client *head;
	int n;
	struct event *tick;
};

static void client_drop(struct sse_client *c)
{
	if ((*c->pprev = c->next))
		c->next->pprev = c->pprev;
	c->hub->n--;
	free(c);
}

/* libevent detaches a request whose reply is still being sent from its
 * dying connection instead of freeing it; ending the reply frees it then.
 * A request still attached goes with the connection. */
static void client_gone(struct evhttp_connection *conn, void *arg)
{
	struct sse_client *c = arg;

	(void)conn;
	if (!evhttp_request_get_connection(c->req))
		evhttp_send_reply_end(c->req);
	client_drop(c);
}

static void send_text(struct sse_client *c, const char *text, size_t len)
{
	struct evbuffer *b = evbuffer_new();

	if (!b)
		return;
	evbuffer_add(b, text, len);
	evhttp_send_reply_chunk(c->req, b);
	evbuffer_free(b);
	c->last_write_us = og_clock_mono_us();
}

/* Sends the notes not sent yet, in key order. */
static void client_notes(struct sse_client *c)
{
	cJSON *notes = NULL, *n;

	if (c->nnotes >= SSE_NOTES || og_store_lmdb_notes(c->hub->S->db, c->thread, &notes, NULL) < 0)
		return;
	cJSON_ArrayForEach(n, notes) {
		const cJSON *key = cJSON_GetObjectItemCaseSensitive(n, "key");
		uint64_t h;
		char *data;
		int i;
		if (!cJSON_IsString(key) || c->nnotes >= SSE_NOTES)
			continue;
		h = og_id_hash(key->valuestring, strlen(key->valuestring), 0);
		for (i = 0; i < c->nnotes && c->note_seen[i] != h; i++)
			;
		if (i < c->nnotes || !(data = og_json_print_text(n)))
			continue;
		c->note_seen[c->nnotes++] = h;
		send_text(c, "event: note\ndata: ", 18);
		send_text(c, data, strlen(data));
		send_text(c, "\n\n", 2);
		free(data);
	}
	cJSON_Delete(notes);
}

/* Sends the checkpoints after last_id, oldest first, a window of ids at a
 * time (ids only grow within a thread, forks included), so a client far
 * behind gets every one of them over a few looks and the loop is never held
 * for long. */
static void client_catch_up(struct sse_client *c)
{
	struct og_store_lmdb *db = c->hub->S->db;
	uint64_t latest = 0;
	int round;

	client_notes(c);
	if (og_store_lmdb_latest_id(db, c->thread, &latest, NULL) < 0)
		return;
	for (round = 0; round < 4 && latest > c->last_id; round++) {
		uint64_t hi = c->last_id + SSE_BATCH;
		cJSON *rows = NULL;
		int i;
		if (og_store_lmdb_history(db, c->thread, SSE_BATCH, hi + 1, &rows, NULL) < 0)
			return;
		for (i = cJSON_GetArraySize(rows) - 1; i >= 0; i--) {
			cJSON *r = cJSON_GetArrayItem(rows, i);
			const cJSON *id = cJSON_GetObjectItemCaseSensitive(r, "id");
			uint64_t v = cJSON_IsNumber(id) ? (uint64_t)id->valuedouble : 0;
			char *data, head[64];
			int hl;
			if (v <= c->last_id)
				continue;
			cJSON_AddStringToObject(r, "thread_id", c->thread);
			if (!(data = og_json_print_text(r)))
				break;
			hl = snprintf(head, sizeof(head), "id: %llu\nevent: checkpoint\ndata: ", (unsigned long long)v);
			send_text(c, head, (size_t)hl);
			send_text(c, data, strlen(data));
			send_text(c, "\n\n", 2);
			free(data);
			c->last_id = v;
		}
		cJSON_Delete(rows);
		/* ids the window did not hold are gone (gc): skip past them */
		if (c->last_id < hi)
			c->last_id = hi < latest ? hi : latest;
	}
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct sse_hub *h = arg;
	struct sse_client *c;
	int64_t now = og_clock_mono_us();

	(void)fd;
	(void)what;
	for (c = h->head; c; c = c->next) {
		client_catch_up(c);
		if (now - c->last_write_us >= (int64_t)h->S->conf.keepalive_s * 1000000)
			send_text(c, ": keepalive\n\n", 13);
	}
}

struct sse_hub *sse_hub_new(struct srv *S)
{
	struct sse_hub *h = calloc(1, sizeof(*h));
	struct timeval one = { 1, 0 };

	if (!h)
		return NULL;
	h->S = S;
	if (!(h->tick = event_new(S->base, -1, EV_PERSIST, on_tick, h))) {
		free(h);
		return NULL;
	}
	event_add(h->tick, &one);
	return h;
}

void sse_close_all(struct sse_hub *h)
{
	while (h && h->head) {
		struct sse_client *c = h->head;
		evhttp_connection_set_closecb(evhttp_request_get_connection(c->req), NULL, NULL);
		evhttp_send_reply_end(c->req);
		client_drop(c);
	}
}

void sse_hub_free(struct sse_hub *h)
{
	if (!h)
		return;
	sse_close_all(h);
	event_free(h->tick);
	free(h);
}

int sse_count(struct sse_hub *h)
{
	return h ? h->n : 0;
}

void sse_changed(struct sse_hub *h, const char *thread)
{
	struct sse_client *c;

	for (c = h->head; c; c = c->next)
		if (!strcmp(c->thread, thread))
			client_catch_up(c);
}

void sse_open(struct srv *S, struct evhttp_request *req, const char *thread)
{
	struct sse_hub *h = S->sse;
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	const char *last = evhttp_find_header(evhttp_request_get_input_headers(req), "Last-Event-ID");
	struct sse_client *c;
	uint64_t latest = 0;
	unsigned long long from = 0;
	char *end;

	if (S->stopping) {
		srv_reply_error(S, req, "stream", 503, "shutting_down", "the server is shutting down");
		return;
	}
	if (h->n >= S->conf.max_sse) {
		srv_reply_error(S, req, "stream", 503, "too_many_streams",
				"%d event streams are open, the limit (--max-streams); retry later", h->n);
		return;
	}
	if (last && *last && (from = strtoull(last, &end, 10), *end)) {
		srv_reply_error(S, req, "stream", 400, "bad_request", "Last-Event-ID is a checkpoint id, not '%s'", last);
		return;
	}
	if (og_store_lmdb_latest_id(S->db, thread, &latest, NULL) < 0 || latest == 0) {
		srv_reply_error(S, req, "stream", 404, "no_thread", "no thread %s", thread);
		return;
	}
	if (!(c = calloc(1, sizeof(*c)))) {
		srv_reply_error(S, req, "stream", 500, "internal", "out of memory");
		return;
	}
	c->hub = h;
	c->req = req;
	c->last_id = from;
	snprintf(c->thread, sizeof(c->thread), "%s", thread);
	if ((c->next = h->head))
		h->head->pprev = &c->next;
	h->head = c;
	c->pprev = &h->head;
	h->n++;
	evhttp_add_header(out, "Content-Type", "text/event-stream");
	evhttp_add_header(out, "Cache-Control", "no-cache");
	evhttp_add_header(out, "X-Accel-Buffering", "no");
	metrics_http(S->metrics, "stream", 200);
	evhttp_send_reply_start(req, 200, "OK");
	evhttp_connection_set_closecb(evhttp_request_get_connection(req), client_gone, c);
	/* the request timeout would end an idle stream; keepalives cover proxies */
	evhttp_connection_set_timeout(evhttp_request_get_connection(req), 24 * 3600);
	send_text(c, "retry: 2000\n\n", 13);
	client_catch_up(c);
}
