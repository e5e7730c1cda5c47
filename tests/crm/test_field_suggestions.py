"""Field mapping suggestions on the connection page: each CRM field no mapping names yet,
read from the CRM (the fakes' properties and describe endpoints, through the real clients),
with the Cue field or attribute of the same name its type fits; "use this mapping" saves
it through the same checks as a mapping added by hand, or refuses it with the reason."""

from urllib.parse import urlencode

import pytest
from django.contrib.messages import get_messages

from apps.accounts import roles
from apps.contacts.models import AttributeDefinition
from apps.crm.adapters import FieldInfo
from apps.crm.field_suggestions import field_suggestions
from apps.crm.models import FieldMapping
from apps.crm.selectors import crm_fields_read

pytestmark = pytest.mark.django_db

PAGE = "/admin/crm/connection/{}/field-suggestions/"


def suggested(system: str, object_type: str) -> list[tuple[str, str]]:
    read = crm_fields_read(system, object_type)
    assert read.value is not None, read.problem
    return [(s.crm_field, s.cue_field) for s in field_suggestions(system, object_type, read.value)]


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def job_title(db):
    return AttributeDefinition.objects.create(key="job_title", label="Job title", type="text")


def test_it_suggests_the_attribute_of_the_same_name_for_hubspots_job_title(hubspot, job_title):
    AttributeDefinition.objects.create(
        key="buying_role", label="Buying role", type="list", options=["CHAMPION", "OTHER"]
    )

    # firstname, phone… are mapped; mobilephone would fill the phone, which phone fills;
    # sms_opt_out is consent, for a person to map; company and createdate fill nothing.
    assert suggested("hubspot", "contact") == [
        ("jobtitle", "attr.job_title"),
        ("hs_buying_role", "attr.buying_role"),
    ]
    assert suggested("hubspot", "company") == []
    assert suggested("hubspot", "deal") == []


def test_it_suggests_a_cue_field_no_mapping_fills_yet(hubspot):
    FieldMapping.objects.filter(system="hubspot", object_type="contact", crm_field="phone").delete()
    FieldMapping.objects.filter(system="hubspot", object_type="deal", crm_field="amount").delete()

    # mobilephone would fill it too: only the field of the same name is suggested.
    assert suggested("hubspot", "contact") == [("phone", "phone")]
    assert suggested("hubspot", "deal") == [("amount", "amount")]


def test_it_suggests_nothing_the_crm_type_cannot_fill(hubspot):
    AttributeDefinition.objects.create(key="job_title", label="Job title", type="number")

    assert suggested("hubspot", "contact") == []


def test_it_suggests_nothing_when_two_cue_fields_fit(hubspot, job_title):
    AttributeDefinition.objects.create(key="role_name", label="Job Title", type="text")

    assert suggested("hubspot", "contact") == []


def test_it_reads_salesforces_describe_and_knows_a_title_is_a_job_title(salesforce, job_title):
    # A Lead's Status is its lead status: Cue's lifecycle stage, which no lead mapping fills.
    assert suggested("salesforce", "lead") == [
        ("Title", "attr.job_title"),
        ("Status", "lifecycle_stage"),
    ]
    assert suggested("salesforce", "contact") == [("Title", "attr.job_title")]
    assert suggested("salesforce", "company") == []


def suggested_for(system: str, object_type: str, *fields: FieldInfo) -> list[tuple[str, str]]:
    return [(s.crm_field, s.cue_field) for s in field_suggestions(system, object_type, fields)]


@pytest.mark.parametrize(
    "field",
    [
        FieldInfo("Status", "Status", "choice"),  # as the fake describes it
        FieldInfo("Status", "Lead Status", "choice"),  # as Salesforce labels it
        FieldInfo("Status", "Stage of the lead", "choice"),  # relabelled: the name says it
        FieldInfo("Qualification__c", "Lead Status", "choice"),  # the label says it
    ],
)
def test_a_leads_status_is_suggested_for_the_lifecycle_by_its_name_or_label(field):
    assert suggested_for("salesforce", "lead", field) == [(field.name, "lifecycle_stage")]


def test_a_status_of_another_kind_is_not_a_lead_status(db):
    FieldMapping.objects.filter(cue_field="lifecycle_stage").delete()

    # A contact's or a deal's "Status" says nothing of a lead's stage.
    assert suggested_for("salesforce", "contact", FieldInfo("Status", "Status", "choice")) == []
    assert suggested_for("hubspot", "contact", FieldInfo("status", "Status", "choice")) == []


def test_hubspots_lead_status_is_suggested_by_its_name_whatever_its_label(db):
    FieldMapping.objects.filter(system="hubspot", cue_field="lifecycle_stage").delete()
    relabelled = FieldInfo("hs_lead_status", "Where they are", "choice")

    assert suggested_for("hubspot", "contact", relabelled) == [
        ("hs_lead_status", "lifecycle_stage")
    ]


def test_a_lead_status_that_cannot_hold_a_stage_is_not_suggested(db):
    assert suggested_for("salesforce", "lead", FieldInfo("Status", "Status", "number")) == []


def test_the_page_lists_each_object_types_suggestions_with_a_button(admin_web, hubspot, job_title):
    response = admin_web.get(PAGE.format("hubspot"))

    body = response.content.decode()
    assert response.status_code == 200
    assert body.count('value="Use this mapping"') == 1
    assert 'data-crm-field="jobtitle"' in body
    assert '<td class="cue-field">attr.job_title</td>' in body
    assert "same name as the text attribute &#x27;Job title&#x27;; a text fits it" in body


def test_the_connection_page_links_to_the_suggestions(admin_web, hubspot):
    body = admin_web.get("/admin/crm/connection/hubspot/change/").content.decode()

    assert 'href="/admin/crm/connection/hubspot/field-suggestions/"' in body


def test_using_a_suggestion_saves_the_mapping_with_the_crms_type(admin_web, hubspot, job_title):
    posted = {"object_type": "contact", "crm_field": "jobtitle", "cue_field": "attr.job_title"}

    response = admin_web.post(PAGE.format("hubspot"), posted)

    assert response.status_code == 302
    assert response.url == PAGE.format("hubspot")
    saved = FieldMapping.objects.get(system="hubspot", crm_field="jobtitle")
    assert (saved.object_type, saved.cue_field, saved.crm_type, saved.direction) == (
        "contact",
        "attr.job_title",
        "text",
        "in",
    )
    assert saved.history.count() == 1
    assert messages_of(response) == ["Mapped HubSpot contact jobtitle → attr.job_title."]
    assert suggested("hubspot", "contact") == []


def test_using_it_twice_keeps_one_mapping(admin_web, hubspot, job_title):
    posted = {"object_type": "contact", "crm_field": "jobtitle", "cue_field": "attr.job_title"}
    admin_web.post(PAGE.format("hubspot"), posted)

    again = admin_web.post(PAGE.format("hubspot"), posted)

    assert again.status_code == 302
    assert FieldMapping.objects.filter(crm_field="jobtitle").count() == 1
    assert messages_of(again)[-1].startswith("Not mapped: jobtitle → attr.job_title: ")
    assert "already exists" in messages_of(again)[-1]


def test_a_mapping_the_type_cannot_hold_is_refused_with_the_reason(admin_web, hubspot):
    AttributeDefinition.objects.create(key="score", label="Score", type="number")
    posted = {"object_type": "contact", "crm_field": "jobtitle", "cue_field": "attr.score"}

    response = admin_web.post(PAGE.format("hubspot"), posted)

    assert response.status_code == 302
    assert not FieldMapping.objects.filter(crm_field="jobtitle").exists()
    assert messages_of(response) == [
        "Not mapped: jobtitle → attr.score: a CRM text field cannot fill 'attr.score', "
        "which holds a number."
    ]


@pytest.mark.parametrize(
    ("posted", "reason"),
    [
        ({"object_type": "contact", "crm_field": "no_such", "cue_field": "first_name"}, "has no"),
        ({"object_type": "lead", "crm_field": "jobtitle", "cue_field": "first_name"}, "maps only"),
        ({}, "required"),
    ],
)
def test_odd_input_is_refused_with_a_reason_never_an_error(admin_web, hubspot, posted, reason):
    before = FieldMapping.objects.count()

    response = admin_web.post(PAGE.format("hubspot"), posted)

    assert response.status_code == 302
    assert FieldMapping.objects.count() == before
    assert messages_of(response)[-1].startswith("Not mapped: ")
    assert reason in messages_of(response)[-1]


def test_a_nul_in_the_posted_name_is_dropped_as_everywhere_in_cue(admin_web, hubspot, job_title):
    posted = {"object_type": "contact", "crm_field": "job\x00title", "cue_field": "attr.job_title"}

    response = admin_web.post(
        PAGE.format("hubspot"), urlencode(posted), content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 302
    saved = FieldMapping.objects.get(cue_field="attr.job_title")
    assert (saved.crm_field, saved.crm_type) == ("jobtitle", "text")


def test_a_crm_not_connected_says_so_and_suggests_nothing(admin_web, no_crm):
    response = admin_web.get(PAGE.format("salesforce"))

    body = response.content.decode()
    assert response.status_code == 200
    assert body.count("Salesforce is not connected (set ") == 4  # company, lead, contact, deal
    assert 'value="Use this mapping"' not in body


@pytest.mark.parametrize("role", [roles.MARKETER, roles.COMPLIANCE])
def test_staff_who_may_not_edit_mappings_are_refused(client_as, hubspot, job_title, role):
    client = client_as(role)
    posted = {"object_type": "contact", "crm_field": "jobtitle", "cue_field": "attr.job_title"}

    assert client.get(PAGE.format("hubspot")).status_code == 403
    assert client.post(PAGE.format("hubspot"), posted).status_code == 403
    assert not FieldMapping.objects.filter(crm_field="jobtitle").exists()


def test_it_answers_404_for_a_crm_cue_does_not_have(admin_web):
    assert admin_web.get(PAGE.format("pipedrive")).status_code == 404
