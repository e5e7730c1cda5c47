from django.core.management.base import BaseCommand

from apps.core.schedules import periodic_tasks_sync


class Command(BaseCommand):
    help = "Writes the periodic tasks declared in code into the beat schedule tables."

    def handle(self, *args, **options):
        result = periodic_tasks_sync()
        for verb, names in result.items():
            for name in names:
                self.stdout.write(f"{verb}: {name}")
