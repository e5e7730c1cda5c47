"""Existing contacts' regions become postal codes and their countries ISO codes ("Florida"
-> FL, "us" -> US), so that quiet hours and caps keyed on FL reach them.

A value Cue cannot read ("Narnia") is left as it is and logged: a migration must not fail
on user data, and guessing would be worse. Such a contact is fixed when its region is next
written, which then must be valid. The update runs once per distinct (country, region)
pair, so a large table costs a handful of statements. History is not written for it.
"""

import logging

from django.db import migrations

from apps.contacts.errors import ContactsError
from apps.contacts.regions import country_normalize, region_normalize

logger = logging.getLogger("cue.migrations")


def contact_places_normalize(apps, schema_editor):
    contact_model = apps.get_model("contacts", "Contact")
    pairs = contact_model.objects.values_list("country", "region").distinct().order_by()
    unknown = []
    for country, region in list(pairs):
        place, readable = _place(country, region)
        if not readable:
            unknown.append((country, region))
        if place != (country, region):
            contact_model.objects.filter(country=country, region=region).update(
                country=place[0], region=place[1]
            )
    if unknown:
        logger.warning("Contacts left with a country or region Cue cannot read: %s", unknown)


def _place(country: str, region: str) -> tuple[tuple[str, str], bool]:
    """The (country, region) with what can be read normalised, and whether all of it could."""
    try:
        country = country_normalize(country)
        return (country, region_normalize(region, country)), True
    except ContactsError:
        return (country, region), False


class Migration(migrations.Migration):
    dependencies = [("contacts", "0004_contact_phone_email_indexes")]

    operations = [
        migrations.RunPython(contact_places_normalize, migrations.RunPython.noop, elidable=True),
    ]
