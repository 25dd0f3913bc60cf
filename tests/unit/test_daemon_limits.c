/*
 * Unit tests for what keeps a daemon alive and bounded under hostile input: the signal
 * policy (signals.h) and the consumer's cap on a message's size (order_batch.h).
 * Prints "N passed, N failed" last.
 */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "billing/order_batch.h"
#include "common/log.h"
#include "common/signals.h"

#include "check.h"

static void test_signal_policy(void)
{
	const int ignored[] = { SIGHUP, SIGUSR1, SIGUSR2, SIGALRM, SIGTSTP, SIGRTMIN };
	const int left_default[] = { SIGQUIT, SIGSEGV, SIGABRT, SIGCHLD, SIGPIPE };
	struct sigaction pipe_action;
	sigset_t handled, blocked;

	signals_block(&handled);
	CHECK(pthread_sigmask(SIG_SETMASK, NULL, &blocked) == 0);
	CHECK(sigismember(&handled, SIGTERM) == 1 && sigismember(&blocked, SIGTERM) == 1);
	CHECK(sigismember(&handled, SIGINT) == 1);
	for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
		CHECK(sigismember(&handled, ignored[i]) == 1 && sigismember(&blocked, ignored[i]) == 1);
	for (size_t i = 0; i < sizeof(left_default) / sizeof(left_default[0]); i++)
		CHECK(sigismember(&handled, left_default[i]) == 0);
	CHECK(sigaction(SIGPIPE, NULL, &pipe_action) == 0 && pipe_action.sa_handler == SIG_IGN);

	/* USR1 and HUP are taken, logged and ignored; TERM stops; none pending: 0. */
	CHECK(raise(SIGUSR1) == 0 && raise(SIGHUP) == 0);
	CHECK(signals_await_stop(&handled, 0) == 0);
	CHECK(signals_await_stop(&handled, 20) == 0);
	CHECK(raise(SIGUSR1) == 0 && raise(SIGTERM) == 0);
	CHECK(signals_await_stop(&handled, 0) == SIGTERM);
	CHECK(signals_await_stop(&handled, 0) == 0);
}

/* Files one delivery of body (len bytes) with message id property id into b. */
static void deliver(struct order_batch *b, const char *id, const char *body, size_t len)
{
	amqp_envelope_t env;

	memset(&env, 0, sizeof(env));
	env.delivery_tag = b->last_tag + 1;
	env.message.properties._flags = AMQP_BASIC_MESSAGE_ID_FLAG;
	env.message.properties.message_id = amqp_cstring_bytes(id);
	env.message.body.bytes = (void *)body;
	env.message.body.len = len;
	order_batch_add(b, &env);
}

static void test_message_cap(void)
{
	const char order[] = "{\"user_id\":\"7\",\"number_of_items\":1,\"total_amount\":\"2.50\"}";
	size_t big = 3 * ORDER_BATCH_MAX_BODY_DEFAULT;
	struct order_batch b;
	char *body = malloc(big);

	CHECK(body != NULL);
	if (body == NULL)
		return;
	order_batch_init(&b, 8);
	CHECK(b.max_body == ORDER_BATCH_MAX_BODY_DEFAULT);

	/* Just over the cap: a dead letter, unparsed, cut to the cap, its id kept. */
	memset(body, ' ', big);
	memcpy(body, order, strlen(order));
	deliver(&b, "big-1", body, ORDER_BATCH_MAX_BODY_DEFAULT + 1);
	CHECK(b.nrows == 0 && b.ndead == 1 && b.deliveries == 1);
	CHECK(b.dead[0].len == ORDER_BATCH_MAX_BODY_DEFAULT);
	CHECK(strcmp(b.dead[0].message_id, "big-1") == 0);
	CHECK(strstr(b.dead[0].reason, "over the 65536-byte limit") != NULL);

	/* At the cap, the same valid order (padded with JSON whitespace) is a row. */
	deliver(&b, "at-cap", body, ORDER_BATCH_MAX_BODY_DEFAULT);
	CHECK(b.nrows == 1 && b.ndead == 1 && strcmp(b.rows[0].message_id, "at-cap") == 0);

	/* A smaller cap applies as set. */
	b.max_body = 16;
	deliver(&b, "small-cap", order, strlen(order));
	CHECK(b.nrows == 1 && b.ndead == 2 && b.dead[1].len == 16);
	CHECK(memcmp(b.dead[1].body, order, 16) == 0 && b.dead[1].body[16] == '\0');
	CHECK(b.last_tag == 3);

	order_batch_free(&b);
	free(body);
}

int main(void)
{
	log_init("test_daemon_limits");
	test_signal_policy();
	test_message_cap();
	printf("%d passed, %d failed\n", passed, failed);
	return failed == 0 ? 0 : 1;
}
