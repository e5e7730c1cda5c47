from django.core.management.base import BaseCommand

from apps.core.demo import demo_seed


class Command(BaseCommand):
    help = "Builds a believable demo workspace. Safe to run again: it converges, never duplicates."

    def handle(self, *args, **options):
        workspace = demo_seed()
        self.stdout.write(
            self.style.SUCCESS("Demo workspace ready. Sign in at /admin/ or /tasks/:")
        )
        for login in workspace["logins"]:
            self.stdout.write(f"  {login['role']:<14} {login['username']:<10} {login['password']}")
