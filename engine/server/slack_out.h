/*
 * slack_out.h: what the server says to Slack and how Slack button clicks
 * come back in (slack_out.c, slack_interact.c). Config `slack`:
 *   {"channel": "C123", "api_base_url": "https://slack.com/api",
 *    "approvers": {"U123": "alice"}, "timeout_ms": 5000}
 * with the bot token from $SLACK_BOT_TOKEN, never from the file.
 */
#ifndef OG_SERVER_SLACK_OUT_H
#define OG_SERVER_SLACK_OUT_H

#include <stdbool.h>

#include <cJSON.h>

#include "../cli/cli_run.h"

struct srv;
struct srv_job;

struct slack_conf {
	char *api_base;		/* without a trailing '/' */
	char *channel;		/* NULL: no outbound messages */
	const char *token;	/* $SLACK_BOT_TOKEN, NULL when unset */
	cJSON *approvers;	/* {"Slack user id": "approver name"}, owned; NULL: nobody may decide from Slack */
	long timeout_ms;
	bool outbound;		/* token and channel both set */
};

/* Reads config `slack` (cfg may be NULL or lack it) and the environment
 * into S->slack. 0, or an exit status with the message printed. */
int slack_setup(struct srv *S, const cJSON *cfg);
void slack_free(struct slack_conf *c);

/* From a worker, after a run went as far as it goes: posts the decision
 * message when the run waits in a decision interrupt that has none yet, and
 * the result in the message's thread when the run ended. Never fails the
 * run: errors are logged and noted on the thread. */
void slack_after_run(struct srv *S, struct cli_session *s);

/* A Slack Web API method (chat.postMessage, chat.update) with the bot token,
 * or a POST to a response_url (url given, no token). *out (optional) gets the
 * parsed answer. 0 when Slack said ok; -1 with why in msg. */
int slack_call(struct srv *S, const char *method, const char *url, const cJSON *body, cJSON **out, char *msg,
	       size_t msglen);

/* The button value of a choice: {"t": thread, "i": interrupt id, "c": choice, "h": plan hash}. */
char *slack_button_value(const char *thread, const char *iid, const char *choice, const char *plan_hash);

#endif
