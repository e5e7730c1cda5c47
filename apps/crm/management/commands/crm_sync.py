"""`manage.py crm_sync hubspot|salesforce [--full]`: one CRM → Cue sync, with a progress line."""

from django.core.management.base import BaseCommand, CommandError

from apps.crm.connections import connection_configured, connection_missing
from apps.crm.models import SyncRun, System
from apps.crm.services import crm_sync_in


class Command(BaseCommand):
    help = "Runs one sync from a CRM into Cue now (incremental unless --full)."

    def add_arguments(self, parser):
        parser.add_argument("system", choices=System.values)
        parser.add_argument("--full", action="store_true", help="Read every record again.")

    def handle(self, *args, system: str, full: bool, **options):
        if not connection_configured(system):
            raise CommandError(
                f"{system} is not connected: set {', '.join(connection_missing(system))}."
            )
        status = crm_sync_in(system=system, full=full, progress=self._progress)
        self.stdout.write("")
        run = SyncRun.objects.filter(system=system).first()
        for object_type, counts in (run.counts if run else {}).items():
            shown = ", ".join(f"{kind} {n}" for kind, n in counts.items() if n)
            self.stdout.write(f"{object_type}: {shown or 'nothing changed'}")
        if status != SyncRun.Status.SUCCEEDED:
            raise CommandError(f"The sync {status}: {run.error if run else ''}".strip())
        self.stdout.write(self.style.SUCCESS(f"{system}: {status}"))

    def _progress(self, object_type: str, counts: dict) -> None:
        done = sum(counts.values())
        self.stdout.write(f"\r{object_type}: {done} records read", ending="")
        self.stdout.flush()
