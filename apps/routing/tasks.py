from celery import shared_task

from apps.routing import services


@shared_task(name="routing.sla_sweep")
def sla_sweep_task() -> dict:
    """Every minute: SLA warnings, breaches and escalations; then notifications whose
    after-commit send never ran."""
    result = services.sla_sweep()
    result["notifications_requeued"] = services.notifications_unsent_sweep()
    return result


@shared_task(name="routing.notifications_send")
def notifications_send_task(notification_ids: list[int]) -> list[str]:
    """Sends task notifications; each is claimed, so running this twice sends once."""
    return [services.notification_send(notification_id=pk) for pk in notification_ids]


@shared_task(name="routing.webhook_deliveries_send")
def webhook_deliveries_send_task(key: str) -> list[str]:
    """First attempt at every endpoint's delivery of one event."""
    return services.webhook_deliveries_send(key=key)


@shared_task(name="routing.webhook_deliver")
def webhook_deliver_task(delivery_id: int) -> str:
    return services.webhook_deliver(delivery_id=delivery_id)


@shared_task(name="routing.webhooks_sweep")
def webhooks_sweep_task() -> int:
    """Retries deliveries whose backoff has passed."""
    return services.webhooks_due_sweep()
