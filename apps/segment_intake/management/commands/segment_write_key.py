from django.core.management.base import BaseCommand, CommandError

from apps.segment_intake.keys import write_key_create


class Command(BaseCommand):
    help = (
        "Makes a Segment write key: `segment_write_key create NAME` prints the key once,"
        " alone on stdout, for automation."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["create"])
        parser.add_argument("name")

    def handle(self, *args, action: str, name: str, **options):
        name = name.strip()
        if not name or len(name) > 100:
            raise CommandError("Give the key a name of 1–100 characters.")
        _row, key = write_key_create(name=name)
        self.stdout.write(key)
