#include "publisher_metrics.h"

#include "../common/metrics_http.h"
#include "broker.h"
#include "publish.h"

enum outcome {
	CONFIRMED, REFUSED_BROKER_DOWN, REFUSED_CONFIRM_TIMEOUT, REFUSED_NACK,
	REJECTED_BAD_INPUT, FAILED, OUTCOMES
};
static const char *const outcome_names[OUTCOMES] = {
	"confirmed", "refused_broker_down", "refused_confirm_timeout", "refused_nack",
	"rejected_bad_input", "failed",
};

static struct metric_counter orders[OUTCOMES];
static struct metric_histogram confirm_latency = METRIC_LATENCY_HISTOGRAM;

void publisher_metrics_published(int result, long long started_us)
{
	enum outcome o = result == 0 ? CONFIRMED :
			 result == PUBLISH_TIMEOUT ? REFUSED_CONFIRM_TIMEOUT :
			 result == PUBLISH_REFUSED ? REFUSED_NACK : REFUSED_BROKER_DOWN;

	metric_inc(&orders[o]);
	metric_observe_us(&confirm_latency, metrics_now_us() - started_us);
}

void publisher_metrics_answered(int status)
{
	if (status >= 400 && status < 500)
		metric_inc(&orders[REJECTED_BAD_INPUT]);
	else if (status == 500)
		metric_inc(&orders[FAILED]);
}

int publisher_metrics_answer(const struct http_req *r)
{
	struct metrics_text t;

	metrics_text_init(&t);
	metrics_text_family(&t, "billing_orders_total", "counter",
			    "POST /api/billing answers by outcome: confirmed (200), refused (503: "
			    "broker down, no confirm in time, nacked), rejected_bad_input (4xx), "
			    "failed (500).");
	for (int i = 0; i < OUTCOMES; i++) {
		const char *labels[] = { "outcome", outcome_names[i], NULL };

		metrics_text_sample(&t, "billing_orders_total", labels, metric_read(&orders[i]));
	}
	metrics_text_family(&t, "billing_confirm_duration_seconds", "histogram",
			    "From publishing an order to the broker's confirm or the refusal, "
			    "retry included.");
	metrics_text_histogram(&t, "billing_confirm_duration_seconds", NULL, &confirm_latency);
	metrics_text_counter(&t, "billing_publisher_broker_connect_failures_total",
			     "Connects to RabbitMQ that reached no node.",
			     metric_read(&broker_metrics.connect_failures));
	metrics_text_counter(&t, "billing_publisher_broker_reconnects_total",
			     "Connections to RabbitMQ made again after a failure or a loss.",
			     metric_read(&broker_metrics.reconnects));
	return metrics_send(r, &t);
}
