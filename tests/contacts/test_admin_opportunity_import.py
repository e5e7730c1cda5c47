"""The opportunity import in the admin: upload, map the columns (suggested from their
names), and read the report with every rejected row and its reason."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.contacts.models import Opportunity, OpportunityImport
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

ADMIN_URL = "/admin/contacts/opportunityimport/"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def upload(client, text: str):
    csv_file = SimpleUploadedFile("deals.csv", text.encode(), content_type="text/csv")
    return client.post(f"{ADMIN_URL}add/", {"file": csv_file})


def test_an_admin_uploads_maps_and_reads_the_report(
    admin_client, django_capture_on_commit_callbacks
):
    ContactFactory(email="ada@example.com")
    text = (
        "Deal ID,Deal Name,Amount,Stage,Contact Email\n"
        "d-1,Fleet,100,Demo,ada@example.com\n"
        "d-2,Pilot,lots,Demo,ada@example.com\n"
    )

    uploaded = upload(admin_client, text)
    opportunity_import = OpportunityImport.objects.get()
    mapping_page = admin_client.get(uploaded.url)
    form = mapping_page.context["form"]
    with django_capture_on_commit_callbacks(execute=True):
        started = admin_client.post(
            uploaded.url, {f"column_{i}": form[f"column_{i}"].initial for i in range(5)}
        )
    report = admin_client.get(started.url)
    rejected_csv = admin_client.get(f"{ADMIN_URL}{opportunity_import.pk}/rejected.csv")

    assert uploaded.url == f"{ADMIN_URL}{opportunity_import.pk}/mapping/"
    assert [form[f"column_{i}"].initial for i in range(5)] == [
        "external_id",
        "name",
        "amount",
        "stage",
        "contact_email",
    ]
    assert started.url == f"{ADMIN_URL}{opportunity_import.pk}/change/"
    assert report.status_code == 200
    assert [entry["reason"] for entry in report.context["rejections"]] == [
        "Amount 'lots' is not a number, e.g. 1200.50."
    ]
    assert list(Opportunity.objects.values_list("external_id", "stage")) == [("d-1", "demo")]
    assert rejected_csv.content.decode("utf-8-sig").splitlines() == [
        "Deal ID,Deal Name,Amount,Stage,Contact Email,reason",
        "d-2,Pilot,lots,Demo,ada@example.com,\"Amount 'lots' is not a number, e.g. 1200.50.\"",
    ]


def test_an_upload_that_is_no_csv_is_a_form_error(admin_client):
    response = upload(admin_client, "")

    assert response.status_code == 200
    assert response.context["form"].errors == {"file": ["The submitted file is empty."]}
    assert OpportunityImport.objects.count() == 0


def test_a_mapping_without_a_key_or_a_name_and_stage_is_a_form_error(admin_client):
    uploaded = upload(admin_client, "Deal Name,Amount\nFleet,100\n")

    response = admin_client.post(uploaded.url, {"column_0": "name", "column_1": "amount"})

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "Map the opportunity's external id (to update opportunities), or its name and stage "
        "(to create them)."
    ]
    assert OpportunityImport.objects.get().status == "uploaded"


def test_a_marketer_may_read_imports_but_not_start_one(client, make_user):
    from apps.accounts import roles

    client.force_login(make_user(roles.MARKETER))

    listing = client.get(ADMIN_URL)
    adding = client.get(f"{ADMIN_URL}add/")

    assert (listing.status_code, adding.status_code) == (200, 403)
