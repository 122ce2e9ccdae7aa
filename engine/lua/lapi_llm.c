/*
 * lapi_llm.c: ctx.llm.chat, the LLM roles of nodes (root_cause_analyzer,
 * action_planner) with their fallback chain.
 *
 *   ctx.llm.chat{ role = "rca", input = <string or table>, hint = <string, optional>,
 *                 model = <"provider/model" or "model", optional> }
 *     -> { ok = true, data = <JSON object valid against the role's schema>,
 *          provider, model, tokens_in, tokens_out, latency_ms, cost, attempts = {...} }
 *      | { ok = false, error = "...", attempts = {...} }
 *   ctx.llm.has_role(name) -> boolean: the role is configured and enabled now
 *
 * A role (config llm.roles.<name>, README "LLM roles") has a system message,
 * a response schema, a rate-limit interval and a chain of links (provider +
 * model + parameters). Each link is asked in turn: the answer must be a JSON
 * object valid against the schema (engine/core/jschema.h); when it is not,
 * the link gets ONE repair request carrying the validation errors; then the
 * next link is asked. `model` asks one model first (a fork that re-runs an
 * analysis with another model): the chain's link with that model (and
 * provider, when given), else, for "provider/model" of a configured
 * provider, that model with the provider's settings; the rest of the chain
 * follows as usual. A model that is neither is refused (ok = false, naming
 * the links). ok = false means every link failed: the node then runs
 * its built-in analyzer, which is the real end of every chain (it lives in
 * Lua, nodes/lib/builtin_analyzer.lua).
 *
 * The role is looked up at call time, and when the VM knows the config file
 * (og_lvm_opts.config_path) a file whose mtime changed is re-read first, so
 * editing a role needs no rebuild or restart. A file that no longer parses
 * keeps the last good llm section (the result says so in `warning`).
 *
 * Redaction (engine/core/redact.h): the system message, the input and the
 * hint are redacted before they leave the process, with one mapping per VM
 * (one per run), and the answer is mapped back before it is returned. The
 * mapping lives only in this file's state box: it is not journaled, logged
 * or returned.
 *
 * Every call is journaled under kind "llm" (the whole result), so a node
 * re-executed after an interrupt gets the recorded answer and no request is
 * sent again. Every HTTP request is reported to the usage-log sink the CLI
 * installs (og_lvm_set_llm_log): role, provider, model, parameters, a hash
 * of the redacted prompt, latency, tokens, estimated cost, outcome.
 *
 * The chain runs entirely in C (no Lua runs during it) and builds the
 * result as a cJSON tree; Lua sees it at the end.
 */
#include "lvm_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <lauxlib.h>

#include "../core/clock.h"
#include "../core/id.h"
#include "../core/jschema.h"
#include "../core/json.h"
#include "../core/redact.h"
#include "../net/llm_client.h"
#include "lconv.h"

#define LLM_MAX_CONFIG_BYTES (4u << 20)
#define LLM_MAX_ROLES_TRACKED 32
#define LLM_DEFAULT_TIMEOUT_MS 30000
#define LLM_MAX_INTERVAL_MS 600000

/* ---- per-VM state: the redaction mapping, the re-read config, rate limits - */

struct llm_last {
	char role[64];
	int64_t at_us;			/* monotonic time of the role's last request */
};

struct llm_state {
	struct og_redact *red;
	cJSON *file_conf;		/* the llm section last read from the config file */
	bool file_read;			/* file_conf is what the file held at file_mtime */
	struct timespec file_mtime;
	struct llm_last last[LLM_MAX_ROLES_TRACKED];
	int nlast;
};

static const char llm_state_key;
static const char llm_state_mt_key;
static const char llm_box_mt_key;

static int llm_state_gc(lua_State *L)
{
	struct llm_state *st = lua_touserdata(L, 1);

	if (st) {
		og_redact_free(st->red);
		st->red = NULL;
		cJSON_Delete(st->file_conf);
		st->file_conf = NULL;
	}
	return 0;
}

/* [-0, +0, m] the VM's state, made on first use */
static struct llm_state *state_get(lua_State *L)
{
	struct llm_state *st;

	if (lua_rawgetp(L, LUA_REGISTRYINDEX, &llm_state_key) == LUA_TUSERDATA) {
		st = lua_touserdata(L, -1);
		lua_pop(L, 1);
		return st;
	}
	lua_pop(L, 1);
	st = lapi_push_gc_box(L, sizeof(*st), llm_state_gc, &llm_state_mt_key);
	lua_rawsetp(L, LUA_REGISTRYINDEX, &llm_state_key);
	return st;
}

/* a cJSON tree owned by a userdata, freed if Lua raises */
static int llm_box_gc(lua_State *L)
{
	cJSON **p = lua_touserdata(L, 1);

	if (p && *p) {
		cJSON_Delete(*p);
		*p = NULL;
	}
	return 0;
}

/* Re-reads the config file when its mtime changed. 0, or -OG_E* with err
 * set (the last good section stays in use). */
static int conf_refresh(struct og_lvm *vm, struct llm_state *st, struct og_err *err)
{
	struct stat sb;
	FILE *f;
	char *text = NULL;
	size_t n;
	cJSON *doc = NULL, *llm;
	const char *end = NULL;
	int rc = 0;

	if (!vm->config_path[0])
		return 0;
	if (stat(vm->config_path, &sb) < 0)
		return og_err_set(err, -OG_EIO, "config file %s: %s (the llm section read before stays in use)",
				  vm->config_path, strerror(errno));
	if (st->file_read && sb.st_mtim.tv_sec == st->file_mtime.tv_sec &&
	    sb.st_mtim.tv_nsec == st->file_mtime.tv_nsec)
		return 0;
	if (sb.st_size > (off_t)LLM_MAX_CONFIG_BYTES)
		return og_err_set(err, -OG_EINVAL, "config file %s is over %u bytes", vm->config_path,
				  LLM_MAX_CONFIG_BYTES);
	if (!(f = fopen(vm->config_path, "rb")))
		return og_err_set(err, -OG_EIO, "config file %s: %s (the llm section read before stays in use)",
				  vm->config_path, strerror(errno));
	if (!(text = malloc((size_t)sb.st_size + 1))) {
		fclose(f);
		return og_err_set(err, -OG_ENOMEM, "out of memory reading %s", vm->config_path);
	}
	n = fread(text, 1, (size_t)sb.st_size, f);
	fclose(f);
	text[n] = '\0';
	if (!(doc = cJSON_ParseWithLengthOpts(text, n, &end, 0)) || !cJSON_IsObject(doc)) {
		rc = og_err_set(err, -OG_EINVAL, "config file %s changed and is no longer a JSON object (%s near "
				"byte %d); the llm section read before stays in use until it is fixed",
				vm->config_path, doc ? "not an object" : "invalid JSON",
				end ? (int)(end - text) : 0);
		goto done;
	}
	llm = cJSON_DetachItemFromObjectCaseSensitive(doc, "llm");
	cJSON_Delete(st->file_conf);
	st->file_conf = llm;
	st->file_read = true;
	st->file_mtime = sb.st_mtim;
done:
	cJSON_Delete(doc);
	free(text);
	return rc;
}

/* ---- building the result ------------------------------------------------------ */

struct chain {
	struct og_lvm *vm;
	struct llm_state *st;
	const cJSON *conf;		/* the llm section */
	const cJSON *rconf;		/* the role */
	const char *role;
	const cJSON *schema;
	int64_t interval_ms;
	cJSON *res;			/* the result being built */
	cJSON *attempts;
	char *sys, *user;		/* redacted messages */
	const char *pick;		/* the `model` option: asked first, or NULL */
};

static const cJSON *obj(const cJSON *o, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(o, k);
}

static const char *str_of(const cJSON *o, const char *k)
{
	const cJSON *v = obj(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* a link's parameter, else the provider's */
static const cJSON *param(const cJSON *link, const cJSON *prov, const char *k)
{
	const cJSON *v = obj(link, k);

	return v ? v : obj(prov, k);
}

/* estimated cost from llm.prices[model]; false when the model has no price */
static bool cost_of(const cJSON *conf, const char *model, int64_t in, int64_t out, double *cost)
{
	const cJSON *p = obj(obj(conf, "prices"), model), *pi = obj(p, "input_per_1k"), *po = obj(p, "output_per_1k");

	if (!cJSON_IsNumber(pi) || !cJSON_IsNumber(po))
		return false;
	*cost = (double)in / 1000.0 * pi->valuedouble + (double)out / 1000.0 * po->valuedouble;
	return true;
}

/* waits out the role's min_interval_ms since its previous request */
static void rate_limit(struct chain *c)
{
	struct llm_last *l = NULL;
	int i;

	for (i = 0; i < c->st->nlast; i++)
		if (!strcmp(c->st->last[i].role, c->role))
			l = &c->st->last[i];
	if (!l) {
		if (c->st->nlast < LLM_MAX_ROLES_TRACKED) {
			l = &c->st->last[c->st->nlast++];
			snprintf(l->role, sizeof(l->role), "%s", c->role);
		}
	} else if (c->interval_ms > 0) {
		int64_t wait = c->interval_ms - (og_clock_mono_us() - l->at_us) / 1000;
		if (wait > 0)
			og_clock_sleep_ms((int)wait);
	}
	if (l)
		l->at_us = og_clock_mono_us();
}

/* one usage-log entry per request; never the prompt or the answer */
static void usage_log(struct chain *c, const struct og_llm_request *rq, const char *provider,
		      const struct og_llm_response *r, const char *outcome)
{
	struct og_err err = { 0 };
	cJSON *e, *p;
	char hash[17], at[40];
	uint64_t h = OG_ID_HASH_SEED;
	double cost;
	size_t i;

	if (!c->vm->llm_log)
		return;
	for (i = 0; i < rq->nmessages; i++) {
		h = og_id_hash(rq->messages[i].role, strlen(rq->messages[i].role), h);
		h = og_id_hash(rq->messages[i].content, strlen(rq->messages[i].content), h);
	}
	snprintf(hash, sizeof(hash), "%016llx", (unsigned long long)h);
	if (!(e = cJSON_CreateObject()))
		return;
	cJSON_AddStringToObject(e, "run", c->vm->call && c->vm->call->thread_id ? c->vm->call->thread_id : "");
	cJSON_AddStringToObject(e, "node", c->vm->what);
	cJSON_AddStringToObject(e, "role", c->role);
	cJSON_AddStringToObject(e, "provider", provider);
	cJSON_AddStringToObject(e, "model", rq->model);
	if (r->model[0])	/* the model that answered, as the answer names it */
		cJSON_AddStringToObject(e, "response_model", r->model);
	if ((p = cJSON_AddObjectToObject(e, "params"))) {
		if (rq->has_temperature)
			cJSON_AddNumberToObject(p, "temperature", rq->temperature);
		if (rq->has_top_p)
			cJSON_AddNumberToObject(p, "top_p", rq->top_p);
		if (rq->max_tokens > 0)
			cJSON_AddNumberToObject(p, "max_tokens", rq->max_tokens);
		cJSON_AddNumberToObject(p, "timeout_ms", (double)rq->timeout_ms);
	}
	cJSON_AddStringToObject(e, "prompt_hash", hash);
	cJSON_AddNumberToObject(e, "latency_ms", (double)r->latency_ms);
	cJSON_AddNumberToObject(e, "tokens_in", (double)r->tokens_in);
	cJSON_AddNumberToObject(e, "tokens_out", (double)r->tokens_out);
	if (cost_of(c->conf, rq->model, r->tokens_in, r->tokens_out, &cost))
		cJSON_AddNumberToObject(e, "cost", cost);
	else
		cJSON_AddNullToObject(e, "cost");
	cJSON_AddStringToObject(e, "outcome", outcome);
	cJSON_AddStringToObject(e, "at", og_clock_iso8601(og_clock_wall_ms(), at, sizeof(at)));
	if (c->vm->llm_log(c->vm->llm_log_ud, e, &err) < 0)
		fprintf(stderr, "opsgraph: llm usage log: %s (the call goes on)\n", err.msg);
	cJSON_Delete(e);
}

static void add_attempt(struct chain *c, const char *provider, const char *model, const char *outcome,
			const char *error, const struct og_llm_response *r)
{
	cJSON *a = cJSON_CreateObject();

	if (!a)
		return;
	cJSON_AddStringToObject(a, "provider", provider ? provider : "?");
	cJSON_AddStringToObject(a, "model", model ? model : "?");
	cJSON_AddStringToObject(a, "outcome", outcome);
	if (error) {
		/* the message may quote the answer: with real values, for the operator */
		char *real = c->st->red ? og_redact_restore(c->st->red, error, strlen(error), NULL) : NULL;
		cJSON_AddStringToObject(a, "error", real ? real : error);
		free(real);
	}
	if (r) {
		cJSON_AddNumberToObject(a, "latency_ms", (double)r->latency_ms);
		cJSON_AddNumberToObject(a, "tokens_in", (double)r->tokens_in);
		cJSON_AddNumberToObject(a, "tokens_out", (double)r->tokens_out);
		cJSON_AddNumberToObject(a, "status", (double)r->status);
	}
	cJSON_AddItemToArray(c->attempts, a);
}

/* Parses and validates a model's answer. The content may be wrapped in a
 * ```json fence (models without structured output do that). Returns the
 * object, or NULL with *outcome and err set. */
static cJSON *check_answer(const struct chain *c, const char *content, const char **outcome, struct og_err *err)
{
	const char *s = content, *e, *end = NULL;
	cJSON *v;

	while (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t')
		s++;
	if (!strncmp(s, "```", 3)) {
		const char *nl = strchr(s, '\n');
		s = nl ? nl + 1 : s + 3;
	}
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\n' || e[-1] == '\r' || e[-1] == '\t'))
		e--;
	if (e - s >= 3 && !strncmp(e - 3, "```", 3))
		e -= 3;
	v = cJSON_ParseWithLengthOpts(s, (size_t)(e - s), &end, 0);
	if (!v || (end && end < e && strspn(end, " \n\r\t") < (size_t)(e - end))) {
		*outcome = "invalid_json";
		og_err_set(err, -OG_EINVAL, "the answer is not one JSON value (%s near byte %d of %d)",
			   v ? "text after it" : "invalid JSON", end ? (int)(end - s) : 0, (int)(e - s));
		cJSON_Delete(v);
		return NULL;
	}
	if (!cJSON_IsObject(v)) {
		*outcome = "schema_invalid";
		og_err_set(err, -OG_EINVAL, "$: the answer must be a JSON object");
		cJSON_Delete(v);
		return NULL;
	}
	if (og_jschema_validate(c->schema, v, err) < 0) {
		*outcome = "schema_invalid";
		cJSON_Delete(v);
		return NULL;
	}
	return v;
}

/* Asks one link (with its one repair retry). Returns the answer (restored)
 * or NULL after adding the attempts. */
static cJSON *ask_link(struct chain *c, const cJSON *link, int idx)
{
	struct og_llm_message msgs[4];
	struct og_llm_request rq = { 0 };
	struct og_llm_response r;
	struct og_err err = { 0 };
	const cJSON *prov, *v;
	const char *pname = str_of(link, "provider"), *model = str_of(link, "model"), *key_env, *outcome = NULL;
	char why[OG_ERR_MSG + 200], *repair = NULL;
	cJSON *answer = NULL;
	int64_t tin = 0, tout = 0;
	int round;

	if (!cJSON_IsObject(link) || !pname || !model) {
		snprintf(why, sizeof(why), "llm.roles.%s.chain[%d] needs \"provider\" and \"model\" strings "
			 "(e.g. {\"provider\": \"local\", \"model\": \"qwen2.5:7b\"})", c->role, idx);
		add_attempt(c, pname, model, "config", why, NULL);
		return NULL;
	}
	if (!cJSON_IsObject(prov = obj(obj(c->conf, "providers"), pname))) {
		snprintf(why, sizeof(why), "llm.roles.%s.chain[%d]: no provider \"%s\" in llm.providers "
			 "(add {\"base_url\": ..., \"api_key_env\": ...} under that name)", c->role, idx, pname);
		add_attempt(c, pname, model, "config", why, NULL);
		return NULL;
	}
	if (obj(prov, "api_key") || obj(link, "api_key")) {
		snprintf(why, sizeof(why), "llm.providers.%s: an API key must not be written in the configuration; "
			 "put it in an environment variable and name that variable in \"api_key_env\"", pname);
		add_attempt(c, pname, model, "config", why, NULL);
		return NULL;
	}
	rq.base_url = str_of(prov, "base_url");
	if (!rq.base_url) {
		snprintf(why, sizeof(why), "llm.providers.%s has no \"base_url\" (e.g. \"http://127.0.0.1:8000\")",
			 pname);
		add_attempt(c, pname, model, "config", why, NULL);
		return NULL;
	}
	if ((key_env = str_of(prov, "api_key_env")) && *key_env) {
		const char *k = getenv(key_env);
		if (!k || !*k) {
			snprintf(why, sizeof(why), "the environment variable %s (llm.providers.%s.api_key_env) is "
				 "not set: export the API key in it", key_env, pname);
			add_attempt(c, pname, model, "no_key", why, NULL);
			return NULL;
		}
		rq.api_key = k;
	}
	rq.model = model;
	if ((v = param(link, prov, "temperature")) && cJSON_IsNumber(v)) {
		rq.has_temperature = true;
		rq.temperature = v->valuedouble;
	}
	if ((v = param(link, prov, "top_p")) && cJSON_IsNumber(v)) {
		rq.has_top_p = true;
		rq.top_p = v->valuedouble;
	}
	if ((v = param(link, prov, "max_tokens")) && cJSON_IsNumber(v) && v->valuedouble >= 1 && v->valuedouble < 1e7)
		rq.max_tokens = (int)v->valuedouble;
	rq.timeout_ms = LLM_DEFAULT_TIMEOUT_MS;
	if ((v = param(link, prov, "timeout_ms"))) {
		if (!cJSON_IsNumber(v) || v->valuedouble < 1 || v->valuedouble > 120000) {
			snprintf(why, sizeof(why), "llm.roles.%s.chain[%d].timeout_ms must be 1..120000", c->role, idx);
			add_attempt(c, pname, model, "config", why, NULL);
			return NULL;
		}
		rq.timeout_ms = (long)v->valuedouble;
	}
	rq.schema = c->schema;
	rq.schema_name = c->role;
	rq.not_strict = cJSON_IsFalse(obj(c->rconf, "strict"));
	msgs[0] = (struct og_llm_message){ "system", c->sys };
	msgs[1] = (struct og_llm_message){ "user", c->user };
	rq.messages = msgs;
	rq.nmessages = 2;
	for (round = 0; round < 2 && !answer; round++) {
		const char *fail_outcome;

		rate_limit(c);
		og_err_clear(&err);
		if (og_llm_chat(&rq, &r, &err) < 0) {
			fail_outcome = og_llm_fail_name(r.fail);
			usage_log(c, &rq, pname, &r, fail_outcome);
			add_attempt(c, pname, model, fail_outcome, err.msg, &r);
			og_llm_response_release(&r);
			break;
		}
		tin += r.tokens_in;
		tout += r.tokens_out;
		og_err_clear(&err);
		answer = check_answer(c, r.content, &outcome, &err);
		if (answer)
			outcome = round ? "repaired" : "ok";
		usage_log(c, &rq, pname, &r, outcome);
		add_attempt(c, pname, model, outcome, answer ? NULL : err.msg, &r);
		if (!answer && round == 0) {
			size_t need = strlen(err.msg) + 300;
			free(repair);
			if (!(repair = malloc(need))) {
				og_llm_response_release(&r);
				break;
			}
			snprintf(repair, need, "Your answer is not valid: %s. Reply again with only the corrected "
				 "JSON object, valid against the schema.", err.msg);
			/* the rejected answer goes back as the assistant's turn */
			msgs[2] = (struct og_llm_message){ "assistant", r.content };
			msgs[3] = (struct og_llm_message){ "user", repair };
			rq.nmessages = 4;
			r.content = NULL;		/* now owned through msgs[2] until the retry ends */
			og_llm_response_release(&r);
			continue;
		}
		og_llm_response_release(&r);
	}
	if (rq.nmessages == 4)
		free((char *)msgs[2].content);
	free(repair);
	if (answer) {
		double cost;
		og_redact_restore_json(c->st->red, answer);
		cJSON_AddStringToObject(c->res, "provider", pname);
		cJSON_AddStringToObject(c->res, "model", model);
		cJSON_AddNumberToObject(c->res, "tokens_in", (double)tin);
		cJSON_AddNumberToObject(c->res, "tokens_out", (double)tout);
		if (cost_of(c->conf, model, tin, tout, &cost))
			cJSON_AddNumberToObject(c->res, "cost", cost);
	}
	return answer;
}

/* builds the two messages: the role's system text (with the schema) and the
 * input (with the hint), redacted */
static int build_messages(struct chain *c, const char *input, const char *hint, struct og_err *err)
{
	const char *sys = str_of(c->rconf, "system");
	char *schema_text = og_json_print(c->schema, NULL), *rs = NULL, *ri = NULL, *rh = NULL;
	size_t n;
	int rc = 0;

	if (!schema_text)
		return og_err_set(err, -OG_ENOMEM, "out of memory");
	if (!(rs = og_redact_text(c->st->red, sys, strlen(sys), NULL)) ||
	    !(ri = og_redact_text(c->st->red, input, strlen(input), NULL)) ||
	    (hint && !(rh = og_redact_text(c->st->red, hint, strlen(hint), NULL)))) {
		rc = og_err_set(err, -OG_ENOMEM, "out of memory redacting the prompt");
		goto done;
	}
	n = strlen(rs) + strlen(schema_text) + 200;
	if (!(c->sys = malloc(n))) {
		rc = og_err_set(err, -OG_ENOMEM, "out of memory");
		goto done;
	}
	snprintf(c->sys, n, "%s\n\nAnswer with one JSON object, and nothing else, valid against this JSON "
		 "schema:\n%s", rs, schema_text);
	n = strlen(ri) + (rh ? strlen(rh) : 0) + 40;
	if (!(c->user = malloc(n))) {
		rc = og_err_set(err, -OG_ENOMEM, "out of memory");
		goto done;
	}
	snprintf(c->user, n, "%s%s%s", ri, rh ? "\n\nOperator hint: " : "", rh ? rh : "");
done:
	free(schema_text);
	free(rs);
	free(ri);
	free(rh);
	return rc;
}

/* the role's configuration, checked; 0 or -OG_EINVAL with err naming the fix */
static int role_lookup(struct chain *c, struct og_err *err)
{
	const cJSON *roles = obj(c->conf, "roles"), *chain, *iv, *r;
	char known[400] = "";
	size_t n = 0;

	if (!cJSON_IsObject(c->conf) || !cJSON_IsObject(roles))
		return og_err_set(err, -OG_EINVAL, "no LLM roles are configured (config llm.roles is missing; see "
				  "README \"LLM roles\")");
	if (!cJSON_IsObject(c->rconf = obj(roles, c->role))) {
		cJSON_ArrayForEach(r, roles)
			if (n + strlen(r->string) + 3 < sizeof(known))
				n += (size_t)snprintf(known + n, sizeof(known) - n, "%s%s", n ? ", " : "", r->string);
		return og_err_set(err, -OG_EINVAL, "no role \"%s\" in config llm.roles (configured: %s)", c->role,
				  n ? known : "none");
	}
	if (cJSON_IsFalse(obj(c->rconf, "enabled")))
		return og_err_set(err, -OG_EINVAL, "role \"%s\" is disabled (llm.roles.%s.enabled is false; set it "
				  "to true once its providers are reachable)", c->role, c->role);
	if (!str_of(c->rconf, "system"))
		return og_err_set(err, -OG_EINVAL, "llm.roles.%s.system must be the system message (a string)",
				  c->role);
	if (!cJSON_IsObject(c->schema = obj(c->rconf, "schema")))
		return og_err_set(err, -OG_EINVAL, "llm.roles.%s.schema must be the JSON schema of the answer "
				  "(an object with \"type\": \"object\")", c->role);
	if (og_jschema_check(c->schema, err) < 0)
		return og_err_prefix(err, "llm.roles.%s.schema: ", c->role);
	chain = obj(c->rconf, "chain");
	if (!cJSON_IsArray(chain) || !cJSON_GetArraySize(chain))
		return og_err_set(err, -OG_EINVAL, "llm.roles.%s.chain must be a non-empty list of links "
				  "{\"provider\", \"model\", ...}", c->role);
	if ((iv = obj(c->rconf, "min_interval_ms"))) {
		if (!cJSON_IsNumber(iv) || iv->valuedouble < 0 || iv->valuedouble > LLM_MAX_INTERVAL_MS)
			return og_err_set(err, -OG_EINVAL, "llm.roles.%s.min_interval_ms must be 0..%d", c->role,
					  LLM_MAX_INTERVAL_MS);
		c->interval_ms = (int64_t)iv->valuedouble;
	}
	return 0;
}

/* The link the `model` option names: the chain's own (*first, borrowed),
 * or for "provider/model" of a configured provider a new link (*own, the
 * caller frees it). -OG_EINVAL naming the chain's links otherwise. */
static int pick_link(struct chain *c, const cJSON **first, int *at, cJSON **own, struct og_err *err)
{
	const char *slash = strchr(c->pick, '/'), *want = slash ? slash + 1 : c->pick;
	size_t plen = slash ? (size_t)(slash - c->pick) : 0, n = 0;
	const cJSON *link;
	char links[600] = "";

	cJSON_ArrayForEach(link, obj(c->rconf, "chain")) {
		const char *p = str_of(link, "provider"), *m = str_of(link, "model");
		if (m && !strcmp(m, want) && (!slash || (p && strlen(p) == plen && !strncmp(p, c->pick, plen)))) {
			*first = link;
			return 0;
		}
		++*at;
		if (n + 80 < sizeof(links))
			n += (size_t)snprintf(links + n, sizeof(links) - n, "%s%s/%s", n ? ", " : "", p ? p : "?",
					      m ? m : "?");
	}
	if (slash && plen && *want) {
		char pname[64];
		snprintf(pname, sizeof(pname), "%.*s", (int)plen, c->pick);
		if (cJSON_IsObject(obj(obj(c->conf, "providers"), pname))) {
			if (!(*own = cJSON_CreateObject()) || !cJSON_AddStringToObject(*own, "provider", pname) ||
			    !cJSON_AddStringToObject(*own, "model", want))
				return og_err_set(err, -OG_ENOMEM, "out of memory");
			return 0;
		}
	}
	return og_err_set(err, -OG_EINVAL, "model \"%s\" is not a link of role \"%s\" (%s)%s", c->pick, c->role, links,
			  slash ? " and names no provider of llm.providers" : "; give \"provider/model\" for another "
			  "model of a configured provider");
}

/* The chain for one call: the result tree (ok or not), or NULL when memory
 * runs out. */
static cJSON *run_chain(struct chain *c, const char *input, const char *hint, const char *warning)
{
	struct og_err err = { 0 };
	const cJSON *link;
	cJSON *answer = NULL, *pick_own = NULL;	/* a link made for the `model` option */
	int64_t t0 = og_clock_mono_us();
	int i = 0;

	if (!(c->res = cJSON_CreateObject()) || !(c->attempts = cJSON_CreateArray()))
		goto nomem;
	cJSON_AddStringToObject(c->res, "role", c->role);
	if (warning)
		cJSON_AddStringToObject(c->res, "warning", warning);
	if (role_lookup(c, &err) < 0)
		goto failed;
	if (!c->st->red && !(c->st->red = og_redact_new()))
		goto nomem;
	if (build_messages(c, input, hint, &err) < 0)
		goto failed;
	if (c->pick) {
		const cJSON *first = NULL;
		int at = 0;
		if (pick_link(c, &first, &at, &pick_own, &err) < 0)
			goto failed;
		answer = ask_link(c, first ? first : pick_own, at);	/* own: one past the chain */
		if (!first)
			first = pick_own;
		cJSON_ArrayForEach(link, obj(c->rconf, "chain")) {
			if (answer)
				break;
			if (link != first)
				answer = ask_link(c, link, i);
			i++;
		}
	} else {
		cJSON_ArrayForEach(link, obj(c->rconf, "chain")) {
			if ((answer = ask_link(c, link, i++)))
				break;
		}
	}
	if (!answer) {
		const cJSON *a;
		size_t n = 0;
		char msg[1500];
		cJSON_ArrayForEach(a, c->attempts)
			if (n + 10 < sizeof(msg))
				n += (size_t)snprintf(msg + n, sizeof(msg) - n, "%s%s/%s: %s", n ? "; " : "",
						      str_of(a, "provider"), str_of(a, "model"), str_of(a, "outcome"));
		og_err_set(&err, -OG_EIO, "every link of role \"%s\" failed (%s)", c->role, msg);
		goto failed;
	}
	cJSON_AddBoolToObject(c->res, "ok", 1);
	cJSON_AddItemToObject(c->res, "data", answer);
	cJSON_AddNumberToObject(c->res, "latency_ms", (double)((og_clock_mono_us() - t0) / 1000));
	cJSON_AddItemToObject(c->res, "attempts", c->attempts);
	c->attempts = NULL;
	cJSON_Delete(pick_own);
	return c->res;
failed:
	cJSON_AddBoolToObject(c->res, "ok", 0);
	cJSON_AddStringToObject(c->res, "error", err.msg);
	cJSON_AddNumberToObject(c->res, "latency_ms", (double)((og_clock_mono_us() - t0) / 1000));
	cJSON_AddItemToObject(c->res, "attempts", c->attempts);
	c->attempts = NULL;
	cJSON_Delete(pick_own);
	return c->res;
nomem:
	cJSON_Delete(pick_own);
	cJSON_Delete(c->res);
	cJSON_Delete(c->attempts);
	c->res = c->attempts = NULL;
	return NULL;
}

/* ---- ctx.llm.chat -------------------------------------------------------------- */

/* ctx.llm.chat{ role =, input =, hint = } -> result table (see the top) */
static int lapi_llm_chat(lua_State *L)
{
	struct og_lvm *vm = lvm_from(L);
	struct og_err err = { 0 }, werr = { 0 };
	struct chain c;
	struct llm_state *st;
	const char *role, *input, *hint = NULL, *pick = NULL;
	cJSON **box;
	size_t len;

	if (!lua_istable(L, 1))
		return luaL_error(L, "ctx.llm.chat: expects a table { role = \"rca\", input = ..., hint = ... } "
				  "(got %s)", luaL_typename(L, 1));
	lua_settop(L, 1);
	lua_pushnil(L);
	while (lua_next(L, 1)) {
		const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
		if (!k || (strcmp(k, "role") && strcmp(k, "input") && strcmp(k, "hint") && strcmp(k, "model")))
			return luaL_error(L, "ctx.llm.chat: unknown option '%s' (known: role, input, hint, model)",
					  k ? k : luaL_typename(L, -2));
		lua_pop(L, 1);
	}
	if (lua_getfield(L, 1, "role") != LUA_TSTRING)			/* 2 */
		return luaL_error(L, "ctx.llm.chat: role must be the name of a role in config llm.roles, "
				  "such as \"rca\" (got %s)", luaL_typename(L, 2));
	role = lua_tolstring(L, 2, &len);
	if (!len || len >= 64)
		return luaL_error(L, "ctx.llm.chat: role must be 1 to 63 characters");
	switch (lua_getfield(L, 1, "input")) {				/* 3 */
	case LUA_TSTRING:
		break;
	case LUA_TTABLE: {
		cJSON *v = og_lconv_to_json(L, 3, "input", &err);
		char *s;
		if (!v)
			return luaL_error(L, "ctx.llm.chat: %s", err.msg);
		s = og_json_print(v, NULL);
		cJSON_Delete(v);
		if (!s)
			return luaL_error(L, "ctx.llm.chat: out of memory encoding the input");
		lua_pushstring(L, s);
		free(s);
		lua_replace(L, 3);
		break;
	}
	default:
		return luaL_error(L, "ctx.llm.chat: input must be a string or a table (got %s)", luaL_typename(L, 3));
	}
	input = lua_tostring(L, 3);
	switch (lua_getfield(L, 1, "hint")) {				/* 4 */
	case LUA_TNIL:
		break;
	case LUA_TSTRING:
		hint = lua_tostring(L, 4);
		break;
	default:
		return luaL_error(L, "ctx.llm.chat: hint must be a string (got %s)", luaL_typename(L, 4));
	}
	if (strlen(input) != lua_rawlen(L, 3))
		return luaL_error(L, "ctx.llm.chat: input holds a NUL byte");
	switch (lua_getfield(L, 1, "model")) {				/* 5 */
	case LUA_TNIL:
		break;
	case LUA_TSTRING:
		if (!lua_rawlen(L, 5) || lua_rawlen(L, 5) >= 160)
			return luaL_error(L, "ctx.llm.chat: model is \"provider/model\" or a model name of the "
					  "role's chain, 1 to 159 characters");
		pick = lua_tostring(L, 5);
		break;
	default:
		return luaL_error(L, "ctx.llm.chat: model must be a string such as \"openai/gpt-4o\" (got %s)",
				  luaL_typename(L, 5));
	}
	lua_pop(L, 1);	/* pick stays valid: the table holds the string */

	if (lapi_journal_replay(L, "llm")) {				/* 5: the recorded result */
		const char *was;
		if (!lua_istable(L, 5))
			return luaL_error(L, "ctx.llm.chat: the journal entry of this call is damaged (not a table)");
		lua_getfield(L, 5, "role");
		was = lua_tostring(L, -1);
		if (was && strcmp(was, role))
			return luaL_error(L, "%s re-ran differently: this ctx.llm.chat call was role \"%s\", now "
					  "it is \"%s\"; a node must make the same ctx calls in the same order when "
					  "it re-runs after an interrupt", vm->what, was, role);
		lua_pop(L, 1);
		return 1;
	}

	st = state_get(L);
	box = lapi_push_gc_box(L, sizeof(*box), llm_box_gc, &llm_box_mt_key);	/* 5 */
	if (conf_refresh(vm, st, &werr) < 0)
		fprintf(stderr, "opsgraph: ctx.llm: %s\n", werr.msg);
	memset(&c, 0, sizeof(c));
	c.vm = vm;
	c.st = st;
	c.role = role;
	c.pick = pick;
	c.conf = vm->config_path[0] && st->file_read ? st->file_conf : vm->llm_conf;
	/* no Lua runs until the chain returns: role, input and hint stay put */
	*box = run_chain(&c, input, hint, werr.code ? werr.msg : NULL);
	free(c.sys);
	free(c.user);
	if (!*box)
		return luaL_error(L, "ctx.llm.chat: out of memory");
	og_lconv_push(L, *box);						/* 6 */
	cJSON_Delete(*box);
	*box = NULL;
	lapi_journal_record(L, "llm", -1);
	return 1;
}

/* ctx.llm.has_role(name) -> true when the current configuration (re-read
 * like chat's) has that role and it is not "enabled": false. Nodes ask this
 * rather than ctx.config, which is the configuration of the process's
 * start. Journaled: a re-executed node takes the same branch. */
static int lapi_llm_has_role(lua_State *L)
{
	struct og_lvm *vm = lvm_from(L);
	struct og_err werr = { 0 };
	struct llm_state *st;
	const char *role = luaL_checkstring(L, 1);
	const cJSON *conf, *r;

	if (lapi_journal_replay(L, "llm_role"))
		return 1;
	st = state_get(L);
	if (conf_refresh(vm, st, &werr) < 0)
		fprintf(stderr, "opsgraph: ctx.llm: %s\n", werr.msg);
	conf = vm->config_path[0] && st->file_read ? st->file_conf : vm->llm_conf;
	r = obj(obj(conf, "roles"), role);
	lua_pushboolean(L, cJSON_IsObject(r) && !cJSON_IsFalse(obj(r, "enabled")));
	lapi_journal_record(L, "llm_role", -1);
	return 1;
}

#define LAPI_FN(ns, name) { #name, lapi_##ns##_##name }

static const luaL_Reg lapi_llm_fns[] = {
	LAPI_FN(llm, chat),
	LAPI_FN(llm, has_role),
	{ NULL, NULL }
};

/* [-0, +0, m] sets t.llm, t being the table on top: the namespace, read-only */
void lapi_llm_install(lua_State *L)
{
	luaL_newlib(L, lapi_llm_fns);
	lapi_push_readonly(L);
	lua_setfield(L, -2, "llm");
}
