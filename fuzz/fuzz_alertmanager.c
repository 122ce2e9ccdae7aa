/*
 * fuzz_alertmanager.c: libFuzzer target for POST /alerts/alertmanager's
 * intake: the JSON body parse every POST uses (srv_json_parse) and the
 * webhook check that derives the thread id (alertmanager_check). Any
 * answer but "an object and a well-formed thread id" or "400 with a
 * reason" is a bug, and so is any crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char msg[256] = "", thread[64] = "";
	cJSON *o = srv_json_parse((const char *)data, size, msg, sizeof(msg));
	int st;

	if (!o) {
		if (!msg[0])
			abort();
		return 0;
	}
	if (!cJSON_IsObject(o))
		abort();
	msg[0] = 0;
	st = alertmanager_check(o, thread, sizeof(thread), msg, sizeof(msg));
	if (st == 0 && (strlen(thread) != 19 || strncmp(thread, "am-", 3) || !srv_thread_id_ok(thread)))
		abort();
	if (st && (st != 400 || !msg[0]))
		abort();
	cJSON_Delete(o);
	return 0;
}
