/*
 * The two headers a client chooses: X-Request-Id (echoed in every reply) and
 * Idempotency-Key (part of a message id). Input: "<X-Request-Id>\n<Idempotency-Key>".
 * Oracles: the reply's head stays well formed whatever the id holds; an echoed id is 1 to
 * 128 visible ASCII characters and a valid one is echoed unchanged; a key passes only as
 * visible ASCII and makes a valid message id.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "billing/message_id.h"
#include "billing/order.h"
#include "common/http.h"
#include "common/request_id.h"
#include "oracle.h"

static int visible_ascii(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] <= ' ' || s[i] > '~')
			return 0;
	return 1;
}

static void check_request_id(const uint8_t *data, size_t size, const char *rid)
{
	char method[] = "REQUEST_METHOD=POST", *param = malloc(strlen(rid) + 20);
	char *env[] = { method, param, NULL };
	struct http_req req = { .envp = env };
	struct oracle_reply r;
	char *buf, echoed[256];
	size_t len, rid_len = strlen(rid);

	ORACLE(param != NULL, data, size);
	strcpy(param, "HTTP_X_REQUEST_ID=");
	strcat(param, rid);
	request_id_begin(rid); /* as the server loop does, once per request */
	oracle_capture_begin();
	http_problem(&req, 400, NULL, NULL, "fuzz");
	oracle_capture_end(&buf, &len);
	request_id_end();
	ORACLE(oracle_reply_parse(buf, len, &r), data, size);
	ORACLE(oracle_json(r.body, r.body_len), data, size);
	if (oracle_reply_header(&r, "X-Request-Id", echoed, sizeof(echoed)))
		ORACLE(strlen(echoed) >= 1 && strlen(echoed) <= 128 &&
		       visible_ascii(echoed, strlen(echoed)), data, size);
	if (rid_len >= 1 && rid_len <= 128 && visible_ascii(rid, rid_len))
		ORACLE(oracle_reply_header(&r, "X-Request-Id", echoed, sizeof(echoed)) &&
		       strcmp(echoed, rid) == 0, data, size);
	free(buf);
	free(param);
}

static void check_key(const uint8_t *data, size_t size, const char *key, size_t len)
{
	struct order o = { "20", 99, "250.00" };
	char id[MESSAGE_ID_MAX + 1];

	if (!message_id_valid(key, len))
		return;
	ORACLE(len >= 1 && len <= MESSAGE_ID_MAX && visible_ascii(key, len), data, size);
	if (order_message_id(&o, key, id, sizeof(id)) == 0)
		ORACLE(message_id_valid(id, strlen(id)) && strncmp(id, key, len) == 0, data, size);
	else
		ORACLE(len + 1 + ORDER_DIGEST_HEX > MESSAGE_ID_MAX, data, size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nl = memchr(data, '\n', size);
	size_t rid_len = nl ? (size_t)(nl - (const char *)data) : size;
	/* CGI parameters are C strings: the id ends at a NUL */
	char *rid = strndup((const char *)data, rid_len);

	ORACLE(rid != NULL, data, size);
	check_request_id(data, size, rid);
	free(rid);
	if (nl != NULL) {
		char *key = strndup(nl + 1, size - rid_len - 1);   /* a C string, as a header is */

		ORACLE(key != NULL, data, size);
		check_key(data, size, key, strlen(key));
		free(key);
	}
	return 0;
}
