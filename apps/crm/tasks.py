from celery import shared_task

from apps.crm import retention, services


@shared_task(name="crm.sync_in")
def sync_in(system: str, full: bool = False) -> str:
    """One CRM → Cue sync of a connected CRM (nothing when not connected)."""
    return services.crm_sync_in(system=system, full=full)


@shared_task(name="crm.sync_in_all")
def sync_in_all() -> list[str]:
    """The scheduled incremental sync of every connected CRM."""
    return services.crm_sync_in_connected()


@shared_task(name="crm.push")
def push(system: str) -> dict:
    """Pushes what Cue owes one CRM (tasks, SMS activity, consent changes)."""
    return services.crm_push(system=system)


@shared_task(name="crm.push_all")
def push_all() -> list[str]:
    return services.crm_push_connected()


@shared_task(name="crm.sync_log_prune")
def sync_log_prune() -> int:
    """The daily retention prune of the CRM sync error log and old sync runs."""
    return retention.sync_log_prune().rows + retention.sync_runs_prune().rows
