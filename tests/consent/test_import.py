"""Contact import from CSV: good rows are imported, every bad row is reported with its line
and reason, and consent is recorded only with the evidence the file carries."""

import csv
import io
from datetime import UTC, datetime

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.accounts import roles
from apps.consent import imports
from apps.consent.imports import run as import_run_module
from apps.consent.models import ConsentRecord, ConsentState
from apps.contacts.models import Company, Contact, ContactImport
from apps.core.queue import QUEUE_DOWN
from tests.brokers import broker_down
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
Status = ContactImport.Status


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture(autouse=True)
def frozen_time():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def marketer(make_user):
    return make_user(roles.MARKETER, username="marketer")


@pytest.fixture
def marketer_client(client, marketer):
    client.force_login(marketer)
    return client


@pytest.fixture
def import_csv(marketer, django_capture_on_commit_callbacks):
    """Uploads a CSV, maps its columns (by their names unless told) and runs the import
    the way the admin does: the task is enqueued after commit and runs eagerly."""

    def run(data, *, name="contacts.csv", mapping=None):
        raw = data.encode() if isinstance(data, str) else data
        upload = SimpleUploadedFile(name, raw, content_type="text/csv")
        contact_import = imports.contact_import_create(upload=upload, user=marketer)
        columns = imports.contact_import_preview(contact_import=contact_import, rows=0).columns
        mapping = mapping or imports.mapping_suggest(columns=columns)
        with django_capture_on_commit_callbacks(execute=True):
            imports.contact_import_start(contact_import=contact_import, mapping=mapping)
        contact_import.refresh_from_db()
        return contact_import

    return run


def contacts():
    return sorted(
        Contact.objects.values_list("email", "first_name", "phone", "lifecycle_stage"),
        key=lambda row: row[0],
    )


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="text/csv")


# --- Rows ---------------------------------------------------------------------------------


def test_it_imports_the_good_rows_and_reports_each_bad_row_with_its_line_and_reason(
    import_csv,
):
    # given a file with two good rows and four bad ones
    data = (
        "First Name,Last Name,Email,Phone Number,Stage\n"
        "Ada,Lovelace,ada@example.com,(415) 555-0101,MQL\n"
        "Bob,Bad,bob@example.com,12345,lead\n"
        "Cy,Stage,cy@example.com,4155550103,Hot\n"
        "Ada,Again,ADA@example.com,,lead\n"
        "No,Identity,,,lead\n"
        "\n"
        "Dee,Good,dee@example.com,,Sales qualified lead\n"
    )

    # when it is imported
    contact_import = import_csv(data)

    # then exactly the good rows are contacts, and the report names every bad row
    assert contacts() == [
        ("ada@example.com", "Ada", "+14155550101", "mql"),
        ("dee@example.com", "Dee", "", "sql"),
    ]
    assert contact_import.rejected_rows == [
        {
            "line": 3,
            "reason": "Phone number '12345' is not valid.",
            "row": ["Bob", "Bad", "bob@example.com", "12345", "lead"],
        },
        {
            "line": 4,
            "reason": "Unknown lifecycle stage 'Hot'; use one of: subscriber, lead, mql, sql, "
            "opportunity, customer, churned.",
            "row": ["Cy", "Stage", "cy@example.com", "4155550103", "Hot"],
        },
        {
            "line": 5,
            "reason": "Duplicate of line 2 (same email).",
            "row": ["Ada", "Again", "ADA@example.com", "", "lead"],
        },
        {
            "line": 6,
            "reason": "No email, phone or external id to identify the contact.",
            "row": ["No", "Identity", "", "", "lead"],
        },
    ]
    assert (
        contact_import.status,
        contact_import.total_rows,
        contact_import.processed_rows,
        contact_import.imported_count,
        contact_import.updated_count,
        contact_import.rejected_count,
        contact_import.finished_at,
        contact_import.error,
    ) == (Status.DONE, 6, 6, 2, 0, 4, NOW, "")
    assert ConsentRecord.objects.count() == 0


def test_it_rejects_bad_emails_time_zones_countries_and_cell_counts(import_csv):
    # given rows that are each wrong in one way
    data = (
        "email,time_zone,country,stage\n"
        "not-an-email,,,\n"
        "tz@example.com,Mars/Olympus,,\n"
        "country@example.com,,Narnia,\n"
        "cells@example.com,,,lead,extra\n"
        "ok@example.com,America/Chicago,us,lead,\n"
    )

    # when it is imported
    contact_import = import_csv(data)

    # then each is rejected with its reason and the good one (trailing empty cell) is kept
    assert [(e["line"], e["reason"]) for e in contact_import.rejected_rows] == [
        (2, "Email 'not-an-email' is not a valid address."),
        (3, "Time zone 'Mars/Olympus' is not an IANA time zone, e.g. America/Chicago."),
        (4, "Country: 'Narnia' is not a country; give its two-letter ISO code, e.g. US."),
        (5, "The row has 5 cells; the header names 4."),
    ]
    assert list(Contact.objects.values_list("email", "time_zone", "country")) == [
        ("ok@example.com", "America/Chicago", "US")
    ]


def test_it_stores_regions_as_postal_codes_and_rejects_an_unknown_one(import_csv):
    # given regions and countries written as people write them, and two unknown regions
    data = (
        "email,region,country\n"
        "fay@example.com,Florida,\n"
        "gil@example.com,fl ,USA\n"
        "hal@example.com,Québec,Canada\n"
        "ida@example.com,Flordia,US\n"
        "jon@example.com,Narnia,\n"
        "kim@example.com,Ontario,US\n"
    )

    # when it is imported
    contact_import = import_csv(data)

    # then the good rows hold the codes and each bad row says why
    assert sorted(Contact.objects.values_list("email", "region", "country")) == [
        ("fay@example.com", "FL", "US"),
        ("gil@example.com", "FL", "US"),
        ("hal@example.com", "QC", "CA"),
    ]
    not_a_state = "is not a US state, territory or postal code (e.g. FL or Florida)."
    assert [(e["line"], e["reason"]) for e in contact_import.rejected_rows] == [
        (5, f"Region: 'Flordia' {not_a_state}"),
        (6, f"Region: 'Narnia' {not_a_state}"),
        (7, "Region: 'Ontario' is ON in Canada, but the country is US."),
    ]


def test_it_accepts_choice_labels_and_values_in_any_case(import_csv):
    # given stages, kinds and roles written as labels or values, in any case
    data = (
        "email,lifecycle stage,kind,buying role,company\n"
        "a@example.com,marketing qualified lead,Customer,decision maker,Acme\n"
        "b@example.com,OPPORTUNITY,prospect,Decision_Maker,ACME\n"
    )

    # when it is imported
    import_csv(data)

    # then they are stored as the choice values, and one company is made for both
    assert sorted(
        Contact.objects.values_list(
            "email", "lifecycle_stage", "kind", "buying_role", "company__name"
        )
    ) == [
        ("a@example.com", "mql", "customer", "decision_maker", "Acme"),
        ("b@example.com", "opportunity", "prospect", "decision_maker", "Acme"),
    ]
    assert Company.objects.count() == 1


def test_it_counts_a_row_for_an_existing_contact_as_updated(import_csv):
    # given a contact the file names by email, in another case
    existing = ContactFactory(
        email="ada@example.com", first_name="Ada", last_name="Lovelace", lifecycle_stage="lead"
    )

    # when the file changes her first name and stage and leaves her last name blank
    contact_import = import_csv(
        "email,first_name,last_name,stage\nADA@example.com,Augusta,,customer\n"
    )

    # then she is updated, not duplicated, and the blank cell changes nothing
    existing.refresh_from_db()
    assert (existing.first_name, existing.last_name, existing.lifecycle_stage) == (
        "Augusta",
        "Lovelace",
        "customer",
    )
    assert Contact.objects.count() == 1
    assert (
        contact_import.imported_count,
        contact_import.updated_count,
        contact_import.rejected_count,
    ) == (0, 1, 0)


def test_it_rejects_a_row_whose_keys_name_two_different_contacts(import_csv):
    # given two contacts, one with the email and one with the phone of the row
    by_email = ContactFactory(email="ada@example.com", phone="+14155550101")
    by_phone = ContactFactory(email="bob@example.com", phone="+14155550102")

    # when the row is imported
    contact_import = import_csv("email,phone\nada@example.com,415-555-0102\n")

    # then it is rejected and neither contact changes
    assert contact_import.rejected_rows == [
        {
            "line": 2,
            "reason": "These keys name different contacts: email 'ada@example.com' matches"
            f" contact #{by_email.pk}, phone '+14155550102' matches contact #{by_phone.pk}."
            " They are not merged.",
            "row": ["ada@example.com", "415-555-0102"],
        }
    ]
    assert sorted(Contact.objects.values_list("email", "phone")) == [
        ("ada@example.com", "+14155550101"),
        ("bob@example.com", "+14155550102"),
    ]


def test_it_rejects_a_row_whose_email_names_a_contact_with_another_external_id(import_csv):
    ada = ContactFactory(email="ada@example.com", external_id="crm-ada")

    contact_import = import_csv("external id,email\ncrm-other,Ada@Example.com\n")

    assert contact_import.rejected_rows == [
        {
            "line": 2,
            "reason": f"Email 'ada@example.com' matches contact #{ada.pk}, whose external id"
            " is 'crm-ada', not 'crm-other'. They are not merged.",
            "row": ["crm-other", "Ada@Example.com"],
        }
    ]
    assert list(Contact.objects.values_list("external_id", flat=True)) == ["crm-ada"]


# --- Consent ------------------------------------------------------------------------------

CONSENT_HEADER = (
    "email,phone,consent_sms_marketing,consent_occurred_at,consent_ip,consent_page_url,"
    "consent_disclosure_text\n"
)


def test_it_records_consent_with_the_evidence_in_the_file(import_csv, marketer):
    # given a row that says yes to SMS marketing, with when, where and the words shown
    data = CONSENT_HEADER + (
        "ada@example.com,4155550101,Yes,2024-05-01T10:00:00Z,203.0.113.7,"
        'https://example.com/signup,"Text me offers. Msg & data rates may apply."\n'
    )

    # when it is imported
    contact_import = import_csv(data, name="consent.csv")

    # then exactly one ledger row holds that evidence, and the contact is opted in
    contact = Contact.objects.get()
    assert list(
        ConsentRecord.objects.values_list(
            "contact", "address", "channel", "purpose", "action", "source", "occurred_at",
            "ip_address", "page_url", "disclosure_text", "user_agent", "actor", "note",
        )
    ) == [
        (
            contact.pk, "+14155550101", "sms", "marketing", "opt_in", "import",
            datetime(2024, 5, 1, 10, 0, tzinfo=UTC), "203.0.113.7",
            "https://example.com/signup", "Text me offers. Msg & data rates may apply.", "",
            marketer.pk, "Imported from consent.csv, line 2.",
        )
    ]  # fmt: skip
    assert list(ConsentState.objects.values_list("channel", "purpose", "status")) == [
        ("sms", "marketing", "opted_in")
    ]
    assert contact_import.rejected_rows == []


def test_it_imports_the_contact_without_consent_when_the_yes_lacks_evidence(import_csv):
    # given yes without a time, yes with a time but nothing else, and no with full evidence
    data = CONSENT_HEADER + (
        "a@example.com,4155550101,yes,,203.0.113.7,,\n"
        "b@example.com,4155550102,y,2024-05-01 10:00,,,\n"
        "c@example.com,4155550103,no,2024-05-01 10:00,203.0.113.7,,\n"
    )

    # when it is imported
    contact_import = import_csv(data)

    # then all three contacts are imported, no consent is invented, and the report says why
    assert Contact.objects.count() == 3
    assert ConsentRecord.objects.count() == 0
    assert ConsentState.objects.count() == 0
    assert contact_import.rejected_rows == [
        {
            "line": 2,
            "note": "SMS marketing consent not recorded: no evidence (needs consent_occurred_at).",
        },
        {
            "line": 3,
            "note": "SMS marketing consent not recorded: no evidence (needs consent_ip, "
            "consent_page_url or consent_disclosure_text).",
        },
    ]
    assert (contact_import.imported_count, contact_import.rejected_count) == (3, 0)


def test_it_rejects_a_row_whose_consent_evidence_is_malformed(import_csv):
    # given consent with a date that is not ISO 8601, and one with a bad IP address
    data = CONSENT_HEADER + (
        "a@example.com,4155550101,yes,05/01/2024,203.0.113.7,,\n"
        "b@example.com,4155550102,yes,2024-05-01,999.1.1.1,,\n"
        "c@example.com,4155550103,maybe,,,,\n"
    )

    # when it is imported
    contact_import = import_csv(data)

    # then those rows are rejected: neither contact nor consent
    assert [(e["line"], e["reason"]) for e in contact_import.rejected_rows] == [
        (
            2,
            "consent_occurred_at '05/01/2024' is not an ISO 8601 date and time, "
            "e.g. 2024-03-04 14:30 or 2024-03-04T14:30:00Z.",
        ),
        (3, "consent_ip '999.1.1.1' is not an IP address."),
        (4, "consent_sms_marketing 'maybe' is neither yes nor no (nor opted_in, opted_out)."),
    ]
    assert Contact.objects.count() == 0
    assert ConsentRecord.objects.count() == 0


def test_it_lists_every_reason_a_row_is_refused_not_only_the_first(import_csv):
    # given a row wrong in three ways, and a row wrong only in having no way to find the contact
    data = "email,time_zone,country,first_name\nnot-an-email,Mars/Olympus,Narnia,Ada\n,,,Bo\n"

    # when it is imported
    contact_import = import_csv(data)

    # then the report names all three reasons of the first, and the one of the second
    assert [(e["line"], e["reason"]) for e in contact_import.rejected_rows] == [
        (
            2,
            "Email 'not-an-email' is not a valid address. "
            "Time zone 'Mars/Olympus' is not an IANA time zone, e.g. America/Chicago. "
            "Country: 'Narnia' is not a country; give its two-letter ISO code, e.g. US.",
        ),
        (3, "No email, phone or external id to identify the contact."),
    ]
    assert Contact.objects.count() == 0


def test_it_takes_cue_s_own_consent_words_as_well_as_yes_and_no(import_csv):
    # given consent written as Cue writes a consent state, with its evidence
    data = CONSENT_HEADER + (
        "in@example.com,4155550101,opted_in,2024-05-01T10:00:00Z,203.0.113.7,,\n"
        "out@example.com,4155550102,OPTED_OUT,,,,\n"
    )

    # when it is imported
    contact_import = import_csv(data)

    # then both rows are taken: the opted_in one with its consent, the opted_out one without
    assert (contact_import.imported_count, contact_import.rejected_count) == (2, 0)
    assert list(ConsentRecord.objects.values_list("contact__email", "action")) == [
        ("in@example.com", "opt_in")
    ]


def test_it_changes_nothing_when_the_same_file_is_imported_again(import_csv):
    # given a file with consent and its evidence, imported once
    data = CONSENT_HEADER + "ada@example.com,4155550101,yes,2024-05-01T10:00:00Z,203.0.113.7,,\n"
    import_csv(data)
    history = Contact.history.count()

    # when it is imported again
    again = import_csv(data)

    # then the contact counts as updated, nothing is written, and consent is not doubled
    assert (again.imported_count, again.updated_count, again.rejected_count) == (0, 1, 0)
    assert Contact.history.count() == history
    assert ConsentRecord.objects.count() == 1
    assert again.rejected_rows == [
        {"line": 2, "note": "SMS marketing consent already recorded for 2024-05-01 10:00."}
    ]


# --- Files --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "email,first_name\nzoe@example.com,Zoé\n".encode("utf-8-sig"),
        "email,first_name\nzoe@example.com,Zoé\n".encode("cp1252"),
    ],
    ids=["utf-8 with BOM", "cp1252"],
)
def test_it_reads_utf8_with_a_bom_and_windows_1252(import_csv, raw):
    # when a file in either encoding is imported
    contact_import = import_csv(raw)

    # then the column names and the accented name come through intact
    assert contact_import.mapping == {"email": "email", "first_name": "first_name"}
    assert list(Contact.objects.values_list("email", "first_name")) == [("zoe@example.com", "Zoé")]


def test_it_detects_a_semicolon_delimiter(import_csv):
    # when a semicolon-separated file is imported
    contact_import = import_csv(
        'first_name;email;phone\nAda;ada@example.com;"(415) 555-0101"\n'
        "Bob;bob@example.com;415.555.0102\n"
    )

    # then its columns are split on the semicolons
    assert contact_import.mapping == {
        "first_name": "first_name",
        "email": "email",
        "phone": "phone",
    }
    assert contacts() == [
        ("ada@example.com", "Ada", "+14155550101", "lead"),
        ("bob@example.com", "Bob", "+14155550102", "lead"),
    ]


def test_it_suggests_a_mapping_from_the_column_names():
    columns = ["Phone Number", "E-mail", "Stage", "First Name", "Mobile", "Notes", "CRM ID"]

    assert imports.mapping_suggest(columns=columns) == {
        "Phone Number": "phone",
        "E-mail": "email",
        "Stage": "lifecycle_stage",
        "First Name": "first_name",
        "Mobile": "ignore",
        "Notes": "ignore",
        "CRM ID": "external_id",
    }


# --- Runs ---------------------------------------------------------------------------------


def test_it_marks_a_crashed_import_failed_and_keeps_the_chunks_already_committed(
    import_csv, monkeypatch
):
    # given chunks of two rows, and a contact write that crashes on the third row
    monkeypatch.setattr(import_run_module, "CHUNK_SIZE", 2)
    contact_update = import_run_module.contact_update
    calls = []

    def crashing_update(*, contact, fields, **options):
        calls.append(fields["email"])
        if len(calls) == 3:
            raise RuntimeError("disk on fire")
        return contact_update(contact=contact, fields=fields, **options)

    monkeypatch.setattr(import_run_module, "contact_update", crashing_update)
    rows = "".join(f"c{n}@example.com\n" for n in range(1, 6))

    # when the import runs
    contact_import = import_csv("email\n" + rows)

    # then the first chunk is kept, the rest is not, and the import says why it stopped
    assert list(Contact.objects.order_by("email").values_list("email", flat=True)) == [
        "c1@example.com",
        "c2@example.com",
    ]
    assert (
        contact_import.status,
        contact_import.processed_rows,
        contact_import.imported_count,
        contact_import.error,
        contact_import.finished_at,
    ) == (Status.FAILED, 2, 2, "RuntimeError: disk on fire", NOW)


def test_it_resumes_an_interrupted_run_from_its_last_committed_chunk(import_csv, monkeypatch):
    # given a run of two-row chunks that was cut short after its first chunk
    monkeypatch.setattr(import_run_module, "CHUNK_SIZE", 2)
    data = "email\nc1@example.com\nc2@example.com\nc1@example.com\nc3@example.com\n"
    contact_import = import_csv(data)
    Contact.objects.filter(email__in=["c3@example.com"]).delete()
    ContactImport.objects.filter(pk=contact_import.pk).update(
        status=Status.RUNNING, processed_rows=2, imported_count=2, rejected_count=0,
        rejected_rows=[], finished_at=None,
    )  # fmt: skip

    # when the task is handed out again
    imports.contact_import_run(import_id=contact_import.pk)

    # then it goes on from row three and still knows what the first chunk held
    contact_import.refresh_from_db()
    assert contact_import.rejected_rows == [
        {"line": 4, "reason": "Duplicate of line 2 (same email).", "row": ["c1@example.com"]}
    ]
    assert (
        contact_import.status,
        contact_import.processed_rows,
        contact_import.imported_count,
        contact_import.rejected_count,
    ) == (Status.DONE, 4, 3, 1)
    assert Contact.objects.count() == 3


def test_it_does_nothing_when_a_finished_import_runs_again(import_csv):
    # given a finished import
    contact_import = import_csv("email\nada@example.com\n")

    # when its task is delivered again
    result = imports.contact_import_run(import_id=contact_import.pk)

    # then nothing happens
    assert result is None
    assert Contact.objects.count() == 1
    contact_import.refresh_from_db()
    assert (contact_import.processed_rows, contact_import.imported_count) == (1, 1)


# --- Admin --------------------------------------------------------------------------------


def add_url():
    return reverse("admin:contacts_contactimport_add")


def import_url(view: str, contact_import) -> str:
    return reverse(f"admin:contacts_contactimport_{view}", args=[contact_import.pk])


def test_it_runs_the_whole_flow_in_the_admin(marketer_client, django_capture_on_commit_callbacks):
    # given a marketer on the upload page
    assert marketer_client.get(add_url()).status_code == 200
    data = (
        b"Phone Number,E-mail,Stage,Notes\n"
        b"4155550101,ada@example.com,MQL,likes =formulas\n"
        b'12345,bob@example.com,lead,=HYPERLINK("http://evil.example")\n'
    )

    # when she uploads the file
    response = marketer_client.post(add_url(), {"file": upload("leads.csv", data)})

    # then she is asked to map its columns, pre-filled from their names
    contact_import = ContactImport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == import_url("mapping", contact_import)
    page = marketer_client.get(response["Location"])
    assert page.status_code == 200
    assert [field.initial for field in page.context["form"]] == [
        "phone", "email", "lifecycle_stage", "ignore"
    ]  # fmt: skip
    assert contact_import.status == Status.UPLOADED

    # when she submits the mapping
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = marketer_client.post(
            import_url("mapping", contact_import),
            {"column_0": "phone", "column_1": "email", "column_2": "lifecycle_stage",
             "column_3": "ignore"},
        )  # fmt: skip

    # then the import is queued and nothing runs before the commit
    assert response.status_code == 302
    assert response["Location"] == import_url("change", contact_import)
    contact_import.refresh_from_db()
    assert (contact_import.status, Contact.objects.count(), len(callbacks)) == (
        Status.QUEUED,
        0,
        1,
    )

    # when the transaction commits, the task runs
    callbacks[0]()

    # then the report shows the counts and the rejected row
    contact_import.refresh_from_db()
    assert (contact_import.status, contact_import.imported_count) == (Status.DONE, 1)
    report = marketer_client.get(import_url("change", contact_import))
    assert report.status_code == 200
    assert report.context["rejections"] == [
        {
            "line": 3,
            "reason": "Phone number '12345' is not valid.",
            "row": ["12345", "bob@example.com", "lead", '=HYPERLINK("http://evil.example")'],
        }
    ]
    assert report.context["columns"] == ["Phone Number", "E-mail", "Stage", "Notes"]
    assert b"Download the rejected rows" in report.content
    assert b"import_progress.js" not in report.content

    # and the download holds the original columns plus the reason, defused for spreadsheets
    download = marketer_client.get(import_url("rejected_csv", contact_import))
    assert download.status_code == 200
    assert download["Content-Type"] == "text/csv; charset=utf-8"
    assert download["Content-Disposition"] == (
        f'attachment; filename="import-{contact_import.pk}-rejected.csv"'
    )
    assert download.content.decode("utf-8-sig") == (
        "Phone Number,E-mail,Stage,Notes,reason\r\n"
        '12345,bob@example.com,lead,"\'=HYPERLINK(""http://evil.example"")",'
        "Phone number '12345' is not valid.\r\n"
    )


def test_it_defuses_every_cell_that_a_spreadsheet_would_run_as_a_formula():
    # given cells that start with each character spreadsheets treat as a formula
    cells = ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "plain", "a=b"]

    # when they are written as CSV
    text = imports.csv_write(columns=["a"] * len(cells), rows=[cells])

    # then each such cell is prefixed with a single quote and the rest are left alone
    assert list(csv.reader(io.StringIO(text, newline="")))[1] == [
        "'=1+1", "'+1", "'-1", "'@SUM(A1)", "'\tx", "'\rx", "plain", "a=b"
    ]  # fmt: skip


def test_it_shows_the_progress_while_an_import_runs(admin_client, marketer):
    # given an import that has done 500 of 1200 rows
    contact_import = ContactImport.objects.create(
        file="imports/leads.csv", original_name="leads.csv", status=Status.RUNNING,
        total_rows=1200, processed_rows=500, imported_count=480, updated_count=15,
        rejected_count=5, created_by=marketer,
    )  # fmt: skip

    # when its status is asked for
    response = admin_client.get(f"/admin/contacts/contactimport/{contact_import.pk}/status/")

    # then it says how far it got
    assert response.status_code == 200
    assert response.json() == {
        "id": contact_import.pk,
        "status": "running",
        "status_display": "Running",
        "total_rows": 1200,
        "processed_rows": 500,
        "imported_count": 480,
        "updated_count": 15,
        "rejected_count": 5,
        "percent": 42,
        "finished": False,
        "error": "",
    }
    # and its page carries the progress bar that polls that address
    page = admin_client.get(import_url("change", contact_import))
    assert b'<progress max="1200" value="500"' in page.content
    assert f'data-import-status-url="{import_url("status", contact_import)}"'.encode() in (
        page.content
    )
    assert b"cue/import_progress.js" in page.content


@pytest.mark.parametrize(
    ("name", "data", "error"),
    [
        ("empty.csv", b"", "The submitted file is empty."),
        ("blank.csv", b"\n\n  \n", "The file is empty."),
        ("header.csv", b"email,phone\n", "The file has a header row but no rows to import."),
        (
            "binary.csv",
            b"\x81\x8d\x8f\x90\x9d",
            "The file is not CSV text in UTF-8 or Windows-1252. Save it as “CSV UTF-8” and "
            "upload it again.",
        ),
        (
            "noheader.csv",
            b"ada@example.com,4155550101\n",
            "The first row looks like data ('ada@example.com'). The file needs a header row "
            "that names the columns.",
        ),
    ],
    ids=["empty", "blank lines", "header only", "undecodable", "no header"],
)
def test_it_refuses_an_unusable_file_with_a_form_error(marketer_client, name, data, error):
    # when an unusable file is uploaded
    response = marketer_client.post(add_url(), {"file": upload(name, data)})

    # then the form says why and nothing is stored
    assert response.status_code == 200
    assert response.context["form"].errors == {"file": [error]}
    assert ContactImport.objects.count() == 0


def test_it_refuses_a_file_over_20_mb(marketer_client):
    # given a file one byte over the limit
    data = b"email\n" + b"x" * (imports.MAX_UPLOAD_BYTES - 5)

    # when it is uploaded
    response = marketer_client.post(add_url(), {"file": upload("big.csv", data)})

    # then the form refuses it and nothing is stored
    assert response.status_code == 200
    assert response.context["form"].errors == {"file": ["The file is larger than the 20 MB limit."]}
    assert ContactImport.objects.count() == 0


def test_it_refuses_a_mapping_without_an_identity_column(
    marketer_client, marketer, django_capture_on_commit_callbacks
):
    # given an uploaded file
    contact_import = imports.contact_import_create(
        upload=upload("leads.csv", b"email,first_name\nada@example.com,Ada\n"), user=marketer
    )

    # when its mapping leaves out the email
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = marketer_client.post(
            import_url("mapping", contact_import), {"column_0": "ignore", "column_1": "first_name"}
        )

    # then the form says so and nothing is queued
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "Map a column to email, phone or external id: rows need one to identify the contact."
    ]
    contact_import.refresh_from_db()
    assert (contact_import.status, contact_import.mapping, callbacks) == (Status.UPLOADED, {}, [])


def test_it_lets_compliance_read_imports_but_not_add_them(client, make_user, marketer):
    # given a compliance officer and a finished import
    client.force_login(make_user(roles.COMPLIANCE))
    contact_import = ContactImport.objects.create(
        file="imports/leads.csv", original_name="leads.csv", status=Status.DONE,
        created_by=marketer,
    )  # fmt: skip

    # then she can read the list, the report and the status, but not upload or map
    assert client.get(reverse("admin:contacts_contactimport_changelist")).status_code == 200
    assert client.get(import_url("change", contact_import)).status_code == 200
    assert client.get(import_url("status", contact_import)).status_code == 200
    assert client.get(add_url()).status_code == 403
    assert client.post(add_url(), {"file": upload("x.csv", b"email\na@b.co\n")}).status_code == 403
    assert client.get(import_url("mapping", contact_import)).status_code == 403
    assert ContactImport.objects.count() == 1


def test_it_lets_a_marketer_upload(marketer_client):
    response = marketer_client.post(add_url(), {"file": upload("x.csv", b"email\na@b.co\n")})

    assert response.status_code == 302
    assert list(ContactImport.objects.values_list("original_name", "status", "total_rows")) == [
        ("x.csv", "uploaded", 1)
    ]


def test_it_sends_a_sales_rep_to_the_login_page(client, make_user, marketer):
    # given a sales rep, who works outside the admin
    client.force_login(make_user(roles.SALES_REP))
    contact_import = ContactImport.objects.create(
        file="imports/leads.csv", original_name="leads.csv", created_by=marketer
    )

    # then every import page sends her to log in
    for url in [
        add_url(),
        import_url("status", contact_import),
        import_url("change", contact_import),
    ]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/?next=")


@pytest.mark.django_db(transaction=True)
def test_an_import_that_cannot_be_queued_goes_back_to_be_started_again(marketer_client):
    marketer_client.post(
        add_url(), {"file": upload("c.csv", b"email,first_name\nann@example.com,Ann\n")}
    )
    contact_import = ContactImport.objects.get()
    with broker_down():
        response = marketer_client.post(
            import_url("mapping", contact_import), {"column_0": "email", "column_1": "first_name"}
        )
    assert (response.status_code, response["Location"]) == (
        302,
        import_url("mapping", contact_import),
    )
    assert [str(m) for m in get_messages(response.wsgi_request)] == [QUEUE_DOWN]
    contact_import.refresh_from_db()
    assert contact_import.status == "uploaded"
    assert Contact.objects.count() == 0
