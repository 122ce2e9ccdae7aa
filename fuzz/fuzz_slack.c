/*
 * fuzz_slack.c: libFuzzer target for POST /slack/events' input handling:
 * the signing v0 check (slack_verify) and the event body parse
 * (slack_event_parse), the two pieces that see a request's bytes before
 * anything is stored. The input is "timestamp\nsignature\nbody"; every
 * other input is signed correctly too, so the body parse is reached the
 * way a real, verified request reaches it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "server/server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char secret[] = "fuzz-signing-secret";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *ts, *sig, *nl, msg[256], good[3 + 2 * EVP_MAX_MD_SIZE + 1];
	const char *body, *challenge = NULL, *event_id = NULL;
	size_t blen;
	int64_t now;
	cJSON *o = NULL;
	int st;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = 0;
	ts = buf;
	sig = (nl = memchr(ts, '\n', size)) ? nl + 1 : NULL;
	if (nl)
		*nl = 0;
	body = sig && (nl = memchr(sig, '\n', size - (size_t)(sig - buf))) ? nl + 1 : "";
	if (nl && sig)
		*nl = 0;
	blen = *body ? size - (size_t)(body - buf) : 0;
	/* now near the input's timestamp (off by its first byte's minutes),
	 * kept to times a clock can show: the server passes time(NULL) */
	now = strtoll(ts, NULL, 10);
	now = now < 0 ? 0 : now > ((int64_t)1 << 40) ? (int64_t)1 << 40 : now;
	slack_verify(secret, ts, sig, body, blen, now + (size ? data[0] % 7 : 0) * 60, msg, sizeof(msg));
	slack_verify(secret, size & 1 ? NULL : ts, sig, body, blen, 1700000000, msg, sizeof(msg));
	if (size % 2 == 0) {
		/* a correct signature: the body parse must then hold on its own */
		unsigned char mac[EVP_MAX_MD_SIZE];
		unsigned int ml = 0, i;
		size_t tl = strlen(ts);
		char *base = malloc(4 + tl + blen);
		if (base) {
			memcpy(base, "v0:", 3);
			memcpy(base + 3, ts, tl);
			base[3 + tl] = ':';
			memcpy(base + 4 + tl, body, blen);
			HMAC(EVP_sha256(), secret, (int)strlen(secret), (unsigned char *)base, 4 + tl + blen, mac, &ml);
			memcpy(good, "v0=", 3);
			for (i = 0; i < ml; i++)
				snprintf(good + 3 + 2 * i, 3, "%02x", mac[i]);
			free(base);
			/* signed as Slack signs it: only the clock may refuse it */
			st = slack_verify(secret, ts, good, body, blen, now, msg, sizeof(msg));
			if (st == 0 ? now != strtoll(ts, NULL, 10) : st != 401 || !strcasestr(msg, "timestamp"))
				abort();
		}
	}
	st = slack_event_parse(body, blen, &o, &challenge, &event_id, msg, sizeof(msg));
	if (st == 1 && !challenge)
		abort();
	if (st == 2 && (!event_id || !*event_id || strlen(event_id) > 128))
		abort();
	if (st == 400 && !msg[0])
		abort();
	cJSON_Delete(o);
	free(buf);
	return 0;
}
