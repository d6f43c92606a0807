"""Prometheus metrics: what operators graph and alert on.

Counters and the latency histogram are updated as updates are handled; the gauges
(leads, outbox, inbox) are read from the database when /metrics is scraped, so every
worker reports the same shared state.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from bot.db.models import utcnow
from bot.db.store import Store

REGISTRY = CollectorRegistry()

UPDATES = Counter(
    "partnerbot_updates",
    "Updates handled, by kind (message, callback_query, ...) and outcome",
    ["kind", "outcome"],
    registry=REGISTRY,
)
HANDLING = Histogram(
    "partnerbot_update_handling_seconds",
    "Time from taking an update out of the inbox to recording it handled",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=REGISTRY,
)
ANSWERS = Counter(
    "partnerbot_answers",
    "Questions by outcome: answer, suggest (did you mean), fallback",
    ["outcome"],
    registry=REGISTRY,
)
LEADS = Gauge("partnerbot_leads", "Leads by status", ["status"], registry=REGISTRY)
OUTBOX_PENDING = Gauge(
    "partnerbot_outbox_pending", "Staff-chat posts waiting to be sent", registry=REGISTRY
)
OUTBOX_OLDEST = Gauge(
    "partnerbot_outbox_oldest_pending_seconds",
    "Age of the oldest staff-chat post waiting to be sent",
    registry=REGISTRY,
)
OUTBOX_STUCK = Gauge(
    "partnerbot_outbox_stuck", "Staff-chat posts that gave up (see /stats)", registry=REGISTRY
)
INBOX_PENDING = Gauge(
    "partnerbot_inbox_pending", "Updates waiting to be handled", registry=REGISTRY
)
INBOX_OLDEST = Gauge(
    "partnerbot_inbox_oldest_pending_seconds",
    "Age of the oldest update waiting to be handled",
    registry=REGISTRY,
)


async def render(store: Store) -> bytes:
    """The metrics page, with the shared gauges read from the database now."""
    stats = await store.stats()
    for status, count in stats.by_status.items():
        LEADS.labels(status).set(count)
    health = await store.delivery_health(utcnow())
    OUTBOX_PENDING.set(health.pending)
    OUTBOX_STUCK.set(health.stuck)
    age = health.oldest_pending_age
    OUTBOX_OLDEST.set(age.total_seconds() if age else 0)
    lag = await store.inbox_lag()
    INBOX_PENDING.set(lag.pending)
    INBOX_OLDEST.set(lag.oldest_age.total_seconds() if lag.oldest_age else 0)
    return generate_latest(REGISTRY)
