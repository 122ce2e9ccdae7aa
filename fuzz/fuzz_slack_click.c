/*
 * fuzz_slack_click.c: libFuzzer target for POST /slack/interactions' body:
 * the application/x-www-form-urlencoded form, its payload= JSON and the
 * decision button's value inside it (slack_click_parse). A click that is
 * accepted must name a well-formed thread, interrupt and choice; one that
 * is not gets a 400 with an error code and a reason, and frees everything.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), msg[256] = "";
	const char *error = NULL;
	struct slack_click k;
	int st;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	st = slack_click_parse(text, size, &k, &error, msg, sizeof(msg));
	if (st == 0) {
		if (!k.p || !k.user || !*k.user || !srv_thread_id_ok(k.t) || !*k.i || !*k.c || strlen(k.c) > 32)
			abort();
	} else if (st != 400 || !error || !msg[0] || k.p || k.val) {
		abort();
	}
	cJSON_Delete(k.val);
	cJSON_Delete(k.p);
	free(text);
	return 0;
}
