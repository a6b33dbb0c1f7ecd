"""The notifier's own metrics, beside the bus's (labels never say anything about a resident)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

NOTIFICATIONS = Counter(
    "vaxrec_notifications_total",
    "Notification events handled, by channel, provider and outcome.",
    # sent, failed, parked, retried, already_done, rate_limited
    ["channel", "provider", "outcome"],
)
PROVIDER_SECONDS = Histogram(
    "vaxrec_notification_provider_seconds",
    "Time one provider call took, by provider.",
    ["provider"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
REQUEST_TO_NOTIFICATION_SECONDS = Histogram(
    "vaxrec_request_to_notification_seconds",
    "From the resident's request at intake to the provider accepting the message, by kind "
    "(card_issued, unmatched); read from the time in the request id.",
    ["kind"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900),
)
STATUS_CALLBACKS = Counter(
    "vaxrec_twilio_status_callbacks_total",
    "Twilio status callbacks, by result.",
    ["result"],  # updated, unknown, invalid_signature
)
