"""The default mappings a team starts with, seeded by crm's migration: a first sync works
out of the box, every default is one Cue accepts, and SMS consent is never guessed from an
email opt-out."""

from importlib import import_module

import pytest
from django.db.migrations import RunPython

from apps.accounts.roles import roles_sync
from apps.contacts.models import LifecycleStageDefinition
from apps.crm import mapping
from apps.crm.mapping_defaults import mappings_seed
from apps.crm.models import FieldMapping, StageMapping

# The migration seeded them; default_mappings puts them back after a transactional
# test's flush emptied the table (a reused test database).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("default_mappings")]


def mappings(system: str) -> set[tuple[str, str, str]]:
    rows = FieldMapping.objects.filter(system=system)
    return set(rows.values_list("object_type", "crm_field", "cue_field"))


def test_the_migration_seeds_them():
    migration = import_module("apps.crm.migrations.0003_default_mappings_and_roles").Migration
    seeds = [op for op in migration.operations if isinstance(op, RunPython)]

    assert [op.code for op in seeds] == [mappings_seed, roles_sync]


def test_it_seeds_hubspots_default_field_mappings():
    assert mappings("hubspot") == {
        ("contact", "firstname", "first_name"),
        ("contact", "lastname", "last_name"),
        ("contact", "email", "email"),
        ("contact", "phone", "phone"),
        ("contact", "state", "region"),
        ("contact", "country", "country"),
        ("contact", "hubspot_owner_id", "owner"),
        ("contact", "lifecyclestage", "lifecycle_stage"),
        ("company", "name", "name"),
        ("company", "domain", "domain"),
        ("company", "industry", "industry"),
        ("company", "numberofemployees", "employee_count"),
        ("company", "state", "region"),
        ("company", "country", "country"),
        ("deal", "dealname", "name"),
        ("deal", "amount", "amount"),
    }


def test_it_seeds_salesforces_default_field_mappings():
    person = {
        ("FirstName", "first_name"),
        ("LastName", "last_name"),
        ("Email", "email"),
        ("MobilePhone", "phone"),
        ("OwnerId", "owner"),
    }
    assert mappings("salesforce") == {
        *{("lead", crm, cue) for crm, cue in person},
        ("lead", "State", "region"),
        ("lead", "Country", "country"),
        *{("contact", crm, cue) for crm, cue in person},
        ("contact", "MailingState", "region"),
        ("contact", "MailingCountry", "country"),
        ("company", "Name", "name"),
        ("company", "Website", "domain"),
        ("company", "Industry", "industry"),
        ("company", "NumberOfEmployees", "employee_count"),
        ("company", "BillingState", "region"),
        ("company", "BillingCountry", "country"),
        ("deal", "Name", "name"),
        ("deal", "Amount", "amount"),
    }


def test_it_never_maps_an_email_opt_out_to_sms_consent():
    consent = FieldMapping.objects.filter(cue_field__startswith="consent.")
    assert list(consent) == []
    assert (
        FieldMapping.objects.filter(crm_field__in=["HasOptedOutOfEmail", "hs_email_optout"]).count()
        == 0
    )


def test_every_default_is_a_mapping_cue_accepts():
    problems = [
        (
            m.system,
            m.object_type,
            m.cue_field,
            mapping.mapping_problem(m.object_type, m.cue_field, ""),
        )
        for m in FieldMapping.objects.all()
    ]
    assert [p for p in problems if p[3]] == []


def test_it_maps_hubspots_lifecycle_stages_to_cues_defaults():
    rows = StageMapping.objects.filter(system="hubspot", kind="lifecycle")
    assert set(rows.values_list("crm_pipeline", "crm_stage", "lifecycle_stage__key")) == {
        ("", "subscriber", "subscriber"),
        ("", "lead", "lead"),
        ("", "marketingqualifiedlead", "mql"),
        ("", "salesqualifiedlead", "sql"),
        ("", "opportunity", "opportunity"),
        ("", "customer", "customer"),
    }


def test_seeding_again_adds_only_what_is_missing_and_skips_a_cue_stage_that_is_gone():
    FieldMapping.objects.filter(system="hubspot", crm_field="phone").delete()
    FieldMapping.objects.filter(system="hubspot", crm_field="email").update(direction="both")
    StageMapping.objects.filter(system="hubspot", kind="lifecycle").delete()
    LifecycleStageDefinition.objects.filter(key="mql").delete()
    total = FieldMapping.objects.count()

    mappings_seed()

    assert FieldMapping.objects.count() == total + 1
    assert FieldMapping.objects.get(system="hubspot", crm_field="email").direction == "both"
    assert set(
        StageMapping.objects.filter(system="hubspot", kind="lifecycle").values_list(
            "crm_stage", flat=True
        )
    ) == {"subscriber", "lead", "salesqualifiedlead", "opportunity", "customer"}
