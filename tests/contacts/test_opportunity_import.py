"""Opportunity imports from CSV: each row creates an opportunity, or updates the one its
own external id names; every bad row is reported with its reason and the good rows are
imported; stage changes follow the stage-time rule; attributes are read once per import."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.contacts import opportunity_imports as imports
from apps.contacts.errors import ContactsError
from apps.contacts.models import Opportunity, OpportunityImport, OpportunityStageChange
from apps.contacts.services import opportunity_upsert
from tests.factories import AttributeDefinitionFactory, ContactFactory
from tests.stages import enterprise_pipeline

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def run(admin_user, django_capture_on_commit_callbacks):
    """Uploads the CSV text, maps its columns as suggested (or as given) and runs it."""

    def run_import(text: str, mapping: dict | None = None) -> OpportunityImport:
        upload = SimpleUploadedFile("deals.csv", text.encode(), content_type="text/csv")
        opportunity_import = imports.opportunity_import_create(upload=upload, user=admin_user)
        columns = imports.opportunity_import_preview(
            opportunity_import=opportunity_import, rows=0
        ).columns
        suggested = imports.mapping_suggest(columns=columns, catalog=imports.ImportCatalog.load())
        with django_capture_on_commit_callbacks(execute=True):
            imports.opportunity_import_start(
                opportunity_import=opportunity_import, mapping=mapping or suggested
            )
        opportunity_import.refresh_from_db()
        return opportunity_import

    return run_import


def reasons(opportunity_import) -> dict[int, str]:
    return {
        entry["line"]: entry["reason"]
        for entry in opportunity_import.rejected_rows
        if "reason" in entry
    }


def notes(opportunity_import) -> dict[int, str]:
    return {
        entry["line"]: entry["note"]
        for entry in opportunity_import.rejected_rows
        if "note" in entry
    }


def test_every_good_row_is_imported_and_every_bad_row_reported_with_its_reason(clock, run):
    enterprise_pipeline()
    AttributeDefinitionFactory(object_type="opportunity", key="seats", type="number")
    ada = ContactFactory(email="ada@example.com")
    bob = ContactFactory(external_id="c-2", email="bob@example.com")
    cy = ContactFactory(email="cy@example.com")
    text = (
        "external id,name,amount,pipeline,stage,contact email,contact external id,seats\n"
        "d-1,Fleet,1200.50,Enterprise,Negotiation,ada@example.com,,12\n"  # 2: created
        ",Renewal,300,,demo,ada@example.com,,\n"  # 3: created, no key
        ",Renewal,300,,demo,ada@example.com,,\n"  # 4: created again: no key, no merge
        "d-2,Pilot,abc,,demo,,,\n"  # 5: bad amount
        "d-3,Pilot,10,enterprise,demo,,,\n"  # 6: stage of another pipeline
        "d-4,Pilot,10,,demo,zed@example.com,,\n"  # 7: unknown contact
        "d-5,Pilot,10,,demo,cy@example.com,c-2,\n"  # 8: keys naming two contacts
        "d-6,Pilot,10,,demo,,,many\n"  # 9: attribute not a number
        "d-7,,10,,demo,,,\n"  # 10: new without a name
        "d-8,Pilot,10,partners,demo,,,\n"  # 11: unknown pipeline
    )

    result = run(text)

    assert (result.status, result.imported_count, result.updated_count) == ("done", 3, 0)
    assert result.rejected_count == 7
    assert reasons(result) == {
        5: "Amount 'abc' is not a number, e.g. 1200.50.",
        6: "Stage 'demo' is not a stage of the pipeline Enterprise; use one of: disc, nego, "
        "signed, dropped.",
        7: "No contact has email 'zed@example.com'.",
        8: f"These keys name different contacts: external id 'c-2' matches contact #{bob.pk}, "
        f"email 'cy@example.com' matches contact #{cy.pk}. They are not merged.",
        9: "Attribute seats: 'many' is not a number.",
        10: "A new opportunity needs a name and a stage.",
        11: "Unknown pipeline 'partners'; use one of: sales, enterprise.",
    } | {8: reasons(result)[8]}
    fleet = Opportunity.objects.get(external_id="d-1")
    assert (fleet.name, fleet.amount, fleet.pipeline.key, fleet.stage, fleet.contact) == (
        "Fleet",
        Decimal("1200.50"),
        "enterprise",
        "nego",
        ada,
    )
    assert fleet.attributes == {"seats": 12}
    renewals = Opportunity.objects.filter(name="Renewal", contact=ada, external_id=None)
    assert renewals.count() == 2


def test_a_row_with_a_known_external_id_updates_that_opportunity_only_where_it_has_cells(
    clock, run
):
    ada = ContactFactory(email="ada@example.com")
    opportunity_upsert(
        external_id="d-1",
        name="Fleet",
        stage="demo",
        contact=ada,
        amount=Decimal("100"),
        stage_changed_at=NOW - timedelta(days=2),
    )
    text = "external id,name,amount,stage,stage changed at\nd-1,,250,Proposal,2026-03-09T10:00Z\n"

    result = run(text)

    assert (result.imported_count, result.updated_count, result.rejected_count) == (0, 1, 0)
    fleet = Opportunity.objects.get(external_id="d-1")
    assert (fleet.name, fleet.amount, fleet.stage, fleet.contact, fleet.stage_changed_at) == (
        "Fleet",
        Decimal("250.00"),
        "proposal",
        ada,
        datetime(2026, 3, 9, 10, tzinfo=UTC),
    )
    assert Opportunity.objects.count() == 1


def test_an_older_stage_row_is_history_only_and_rows_of_one_deal_fall_in_order(clock, run):
    text = (
        "external id,name,stage,stage changed at\n"
        "d-1,Fleet,proposal,2026-03-09T10:00Z\n"
        "d-1,Fleet,demo,2026-03-05T10:00Z\n"  # heard later, happened earlier
    )

    result = run(text)

    fleet = Opportunity.objects.get(external_id="d-1")
    assert (result.imported_count, result.updated_count) == (1, 1)
    assert fleet.stage == "proposal"
    assert list(
        OpportunityStageChange.objects.filter(opportunity=fleet).values_list(
            "from_stage", "to_stage"
        )
    ) == [("", "demo"), ("demo", "proposal")]
    assert notes(result) == {
        3: "Stage demo kept in the deal's history only: it changed at 2026-03-05 10:00, "
        "before the deal reached proposal (2026-03-09 10:00)."
    }


def test_a_close_date_is_kept_for_a_closed_deal_and_noted_for_an_open_one(clock, run):
    text = (
        "external id,name,stage,close date\n"
        "d-1,Won deal,closed_won,2026-03-01\n"
        "d-2,Open deal,demo,2026-04-01\n"
    )

    result = run(text)

    won, still_open = (Opportunity.objects.get(external_id=key) for key in ("d-1", "d-2"))
    assert won.closed_at.date().isoformat() == "2026-03-01"
    assert still_open.closed_at is None
    assert notes(result) == {
        3: "Close date 2026-04-01 not kept: the deal is open (Cue keeps a close date for won "
        "or lost deals)."
    }


def test_attribute_definitions_are_read_once_per_import_not_per_row(clock, run):
    AttributeDefinitionFactory(object_type="opportunity", key="seats", type="number")

    def definition_reads(rows: int) -> int:
        lines = "".join(f"d-{rows}-{n},Deal {n},demo,{n}\n" for n in range(rows))
        with CaptureQueriesContext(connection) as queries:
            result = run("external id,name,stage,seats\n" + lines)
        assert result.imported_count == rows
        return len([q for q in queries if "contacts_attributedefinition" in q["sql"]])

    assert definition_reads(3) == definition_reads(30)


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({"name": "name"}, "Map the opportunity's external id (to update opportunities), or "
         "its name and stage (to create them)."),
        ({"name": "name", "stage": "name"}, "“Name” is chosen for 2 columns."),
        ({"nope": "name"}, "The file has no column 'nope'."),
        ({"name": "attr:nothing"}, "'attr:nothing' is not a field to import into."),
    ],
)  # fmt: skip
def test_a_mapping_that_cannot_work_is_refused_and_nothing_runs(admin_user, mapping, message):
    upload = SimpleUploadedFile("deals.csv", b"name,stage\nFleet,demo\n", content_type="text/csv")
    opportunity_import = imports.opportunity_import_create(upload=upload, user=admin_user)

    with pytest.raises(ContactsError) as refused:
        imports.opportunity_import_start(opportunity_import=opportunity_import, mapping=mapping)

    assert (refused.value.field, refused.value.message) == ("mapping", message)
    opportunity_import.refresh_from_db()
    assert opportunity_import.status == "uploaded"
    assert Opportunity.objects.count() == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty."),
        (b"\x00\x01\x02", "The file is not CSV text in UTF-8 or Windows-1252. Save it as "
         "\u201cCSV UTF-8\u201d and upload it again."),
        (b"name,stage\n", "The file has a header row but no rows to import."),
    ],
)  # fmt: skip
def test_an_unreadable_upload_is_refused_on_the_file_field(admin_user, content, message):
    upload = SimpleUploadedFile("deals.csv", content, content_type="text/csv")

    with pytest.raises(ContactsError) as refused:
        imports.opportunity_import_create(upload=upload, user=admin_user)

    assert (refused.value.field, refused.value.message) == ("file", message)
    assert OpportunityImport.objects.count() == 0


def test_running_a_finished_import_again_changes_nothing(clock, run):
    result = run("name,stage\nFleet,demo\n")

    again = imports.opportunity_import_run(import_id=result.pk)

    assert again is None
    assert Opportunity.objects.count() == 1
