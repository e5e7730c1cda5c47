"""Field and stage mappings edited in the admin: checked against the CRM's own types and
stages when the CRM can be read, against Cue's side alone when it cannot, refused with the
reason, kept with history; stage mappings suggested from the CRM's pipelines."""

import pytest
from django.contrib.messages import get_messages

from apps.accounts import roles
from apps.contacts.models import AttributeDefinition, LifecycleStageDefinition, PipelineStage
from apps.crm.models import FieldMapping, StageMapping

pytestmark = pytest.mark.django_db

FIELD_ADD = "/admin/crm/fieldmapping/add/"
STAGE_ADD = "/admin/crm/stagemapping/add/"
SUGGEST = "/admin/crm/stagemapping/suggest/"


def field_mapping(**values) -> dict:
    return {"system": "hubspot", "object_type": "contact", "direction": "in", **values}


def errors_of(response) -> dict:
    return {
        name: list(errors) for name, errors in response.context["adminform"].form.errors.items()
    }


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def stage(key: str) -> PipelineStage:
    return PipelineStage.objects.get(pipeline__key="sales", key=key)


# --- Field mappings --------------------------------------------------------------------------


def test_it_saves_a_mapping_the_crm_type_fits_with_that_type(admin_web, hubspot):
    AttributeDefinition.objects.create(key="nickname", label="Nickname", type="text")

    response = admin_web.post(
        FIELD_ADD, field_mapping(crm_field="jobtitle", cue_field="attr.nickname")
    )

    assert response.status_code == 302
    saved = FieldMapping.objects.get(crm_field="jobtitle")
    assert (saved.cue_field, saved.crm_type) == ("attr.nickname", "text")
    assert messages_of(response)[-1].startswith("The field mapping")


@pytest.mark.parametrize(
    ("crm_field", "cue_field", "field", "reason"),
    [
        (
            "sms_opt_out",
            "phone",
            "cue_field",
            "a CRM boolean field cannot fill 'phone', which holds a phone.",
        ),
        (
            "lifecyclestage",
            "consent.sms_opt_out",
            "cue_field",
            "a CRM choice field cannot fill 'consent.sms_opt_out', which holds a "
            "consent.sms_opt_out.",
        ),
        (
            "no_such_field",
            "first_name",
            "crm_field",
            "HubSpot has no contact field 'no_such_field' (use the field's internal name, not "
            "its label).",
        ),
        (
            "hs_email_optout",
            "consent.sms_opt_out",
            "cue_field",
            "hs_email_optout is about email; SMS consent needs a field of its own (an email "
            "opt-out or opt-in says nothing about texts).",
        ),
    ],
)
def test_it_refuses_a_mapping_that_cannot_hold_the_crms_value_with_the_reason(
    admin_web, hubspot, crm_field, cue_field, field, reason
):
    before = FieldMapping.objects.count()

    response = admin_web.post(FIELD_ADD, field_mapping(crm_field=crm_field, cue_field=cue_field))

    assert (response.status_code, errors_of(response)) == (200, {field: [reason]})
    assert FieldMapping.objects.count() == before


def test_it_refuses_a_cue_field_that_does_not_exist_naming_the_ones_that_do(admin_web, no_crm):
    response = admin_web.post(FIELD_ADD, field_mapping(crm_field="x", cue_field="favourite_color"))

    [reason] = errors_of(response)["cue_field"]
    assert reason.startswith("'favourite_color' is not a Cue field of a contact: use one of ")
    assert "first_name" in reason and '"attr.<key>"' in reason


def test_it_refuses_an_attribute_mapped_onto_the_wrong_object(admin_web, no_crm):
    AttributeDefinition.objects.create(key="plan", label="Plan", type="text", object_type="company")

    response = admin_web.post(FIELD_ADD, field_mapping(crm_field="plan", cue_field="attr.plan"))

    assert list(errors_of(response)) == ["cue_field"]


def test_it_refuses_leads_of_hubspot_which_has_none(admin_web, no_crm):
    response = admin_web.post(
        FIELD_ADD, field_mapping(object_type="lead", crm_field="firstname", cue_field="first_name")
    )

    assert errors_of(response) == {"object_type": ["HubSpot maps only company, contact, deal."]}


def test_it_checks_only_cues_side_when_the_crm_is_not_connected_and_says_so(admin_web, no_crm):
    response = admin_web.post(FIELD_ADD, field_mapping(crm_field="jobtitle", cue_field="last_name"))

    saved = FieldMapping.objects.get(crm_field="jobtitle")
    assert saved.crm_type == ""
    assert (
        "HubSpot is not connected (set HUBSPOT_ACCESS_TOKEN). Its field type was not checked: "
        "each value will be checked at sync, and one Cue cannot hold is reported with its record."
    ) in messages_of(response)


def test_it_checks_only_cues_side_when_the_crm_does_not_answer(admin_web, hubspot):
    hubspot.fail_next(503, times=20)

    response = admin_web.post(FIELD_ADD, field_mapping(crm_field="jobtitle", cue_field="last_name"))

    assert response.status_code == 302
    assert FieldMapping.objects.get(crm_field="jobtitle").crm_type == ""
    assert any("HubSpot could not be read" in m for m in messages_of(response))


def test_it_refuses_the_same_mapping_twice(admin_web, no_crm):
    response = admin_web.post(FIELD_ADD, field_mapping(crm_field="email", cue_field="email"))

    assert response.status_code == 200
    assert FieldMapping.objects.filter(system="hubspot", crm_field="email").count() == 1


def test_it_keeps_the_history_of_a_mapping_and_who_changed_it(admin_web, no_crm):
    mapping = FieldMapping.objects.get(system="hubspot", object_type="contact", crm_field="state")
    url = f"/admin/crm/fieldmapping/{mapping.pk}/change/"

    admin_web.post(url, field_mapping(crm_field="state", cue_field="time_zone"))

    mapping.refresh_from_db()
    latest = mapping.history.latest()
    assert (mapping.cue_field, latest.cue_field, latest.history_type) == (
        "time_zone",
        "time_zone",
        "~",
    )
    assert str(latest.history_user_id) == admin_web.session["_auth_user_id"]
    assert admin_web.get(f"/admin/crm/fieldmapping/{mapping.pk}/history/").status_code == 200


# --- Stage mappings --------------------------------------------------------------------------


def stage_mapping(**values) -> dict:
    return {"system": "hubspot", "kind": "deal", "crm_choice": "", "crm_pipeline": "", **values}


def test_it_offers_the_crms_own_stages(admin_web, hubspot):
    form = admin_web.get(STAGE_ADD).context["adminform"].form

    [(group, options)] = form.fields["crm_choice"].choices[1:]
    assert group == "HubSpot: Sales Pipeline"
    assert options[-2:] == [
        ("hubspot|default|closedwon", "Closed Won (closedwon)"),
        ("hubspot|default|closedlost", "Closed Lost (closedlost)"),
    ]


def test_it_maps_a_stage_picked_from_the_crm_which_says_its_system_and_kind(admin_web, hubspot):
    response = admin_web.post(
        STAGE_ADD,
        stage_mapping(
            system="",
            kind="",
            crm_choice="hubspot|default|contractsent",
            pipeline_stage=stage("proposal").pk,
        ),
    )

    assert response.status_code == 302
    saved = StageMapping.objects.get(crm_stage="contractsent")
    assert (saved.system, saved.kind, saved.crm_pipeline, saved.pipeline_stage) == (
        "hubspot",
        "deal",
        "default",
        stage("proposal"),
    )


def test_it_refuses_a_typed_stage_the_crms_pipeline_does_not_have(admin_web, hubspot):
    response = admin_web.post(
        STAGE_ADD,
        stage_mapping(
            crm_pipeline="default", crm_stage="closed-won", pipeline_stage=stage("demo").pk
        ),
    )

    assert errors_of(response) == {
        "crm_stage": [
            "Sales Pipeline has no stage 'closed-won': appointmentscheduled, qualifiedtobuy, "
            "presentationscheduled, decisionmakerboughtin, contractsent, closedwon, closedlost."
        ]
    }
    assert StageMapping.objects.filter(crm_stage="closed-won").count() == 0


@pytest.mark.parametrize(
    ("values", "errors"),
    [
        ({"system": "salesforce"}, {"crm_choice": ["That is a HubSpot stage."]}),
        ({"kind": "lifecycle"}, {"kind": ["A stage picked from the CRM is a deal stage."]}),
    ],
)
def test_it_refuses_a_picked_stage_that_contradicts_the_form(admin_web, hubspot, values, errors):
    response = admin_web.post(
        STAGE_ADD,
        stage_mapping(
            crm_choice="hubspot|default|closedwon", pipeline_stage=stage("demo").pk, **values
        ),
    )

    assert errors_of(response) == errors


def test_it_asks_for_the_system_and_kind_when_no_stage_is_picked(admin_web, no_crm):
    response = admin_web.post(STAGE_ADD, stage_mapping(system="", kind="", crm_stage="s"))

    assert errors_of(response) == {
        "system": ["Choose one, or pick the stage from the CRM."],
        "kind": ["Choose one, or pick the stage from the CRM."],
    }


def test_it_refuses_a_pipeline_the_crm_does_not_have(admin_web, hubspot):
    response = admin_web.post(
        STAGE_ADD,
        stage_mapping(crm_pipeline="nope", crm_stage="closedwon", pipeline_stage=stage("demo").pk),
    )

    assert errors_of(response) == {"crm_pipeline": ["HubSpot has no pipeline 'nope'."]}


def test_it_takes_a_typed_stage_unchecked_when_the_crm_is_not_connected(admin_web, no_crm):
    response = admin_web.post(
        STAGE_ADD,
        stage_mapping(
            crm_pipeline="default", crm_stage="anything", pipeline_stage=stage("demo").pk
        ),
    )

    assert response.status_code == 302
    assert StageMapping.objects.filter(crm_stage="anything").count() == 1


@pytest.mark.parametrize(
    ("values", "errors"),
    [
        (
            {"kind": "deal", "crm_pipeline": "default", "crm_stage": "s"},
            {"pipeline_stage": ["Choose the Cue pipeline stage it means."]},
        ),
        (
            {"kind": "lifecycle", "crm_stage": "s", "pipeline_stage": "demo"},
            {
                "pipeline_stage": ["A lifecycle value maps to a lifecycle stage only."],
                "lifecycle_stage": ["Choose the Cue lifecycle stage it means."],
            },
        ),
        (
            {"kind": "deal", "crm_pipeline": "", "crm_stage": "s", "pipeline_stage": "demo"},
            {"crm_pipeline": ["Name the HubSpot pipeline."]},
        ),
        (
            {"kind": "deal", "crm_pipeline": "default", "pipeline_stage": "demo"},
            {"crm_stage": ["Name the CRM stage (or pick it from the CRM)."]},
        ),
    ],
)
def test_it_refuses_a_stage_mapping_that_names_the_wrong_kind_of_stage(
    admin_web, no_crm, values, errors
):
    if "pipeline_stage" in values:
        values["pipeline_stage"] = stage(values["pipeline_stage"]).pk
    before = StageMapping.objects.count()

    response = admin_web.post(STAGE_ADD, stage_mapping(**values))

    assert errors_of(response) == errors
    assert StageMapping.objects.count() == before


def test_it_stores_salesforces_one_stage_list_as_its_pipeline(admin_web, no_crm):
    admin_web.post(
        STAGE_ADD,
        stage_mapping(
            system="salesforce",
            crm_pipeline="whatever",
            crm_stage="Closed Won",
            pipeline_stage=stage("closed_won").pk,
        ),
    )

    assert StageMapping.objects.get(system="salesforce").crm_pipeline == "opportunity"


def test_it_suggests_stage_mappings_by_key_label_and_meaning(admin_web, hubspot):
    hubspot.pipeline_add(
        "renewals", "Renewals", [("demo", "Demo"), ("won_back", "Won back"), ("r_lost", "Lost it")]
    )
    before = set(StageMapping.objects.values_list("system", "kind", "crm_stage"))

    response = admin_web.post(SUGGEST)

    made = set(
        StageMapping.objects.filter(kind="deal").values_list(
            "crm_pipeline", "crm_stage", "pipeline_stage__key"
        )
    )
    assert made == {
        ("default", "closedwon", "closed_won"),
        ("default", "closedlost", "closed_lost"),
        ("renewals", "demo", "demo"),
        ("renewals", "won_back", "closed_won"),
        ("renewals", "r_lost", "closed_lost"),
    }
    assert (response.status_code, response["Location"]) == (302, "/admin/crm/stagemapping/")
    assert messages_of(response) == [
        "HubSpot: mapped Closed Won → Closed won (same key or label), Closed Lost → Closed lost "
        "(same key or label), Demo → Demo (same key or label), Won back → Closed won (labelled "
        "won), Lost it → Closed lost (labelled lost).",
        "HubSpot: left unmapped, map them by hand: Appointment Scheduled (appointmentscheduled), "
        "Qualified To Buy (qualifiedtobuy), Presentation Scheduled (presentationscheduled), "
        "Decision Maker Bought-In (decisionmakerboughtin), Contract Sent (contractsent).",
        "HubSpot lifecycle: left unmapped, map them by hand: evangelist, other.",
    ]
    assert before <= set(StageMapping.objects.values_list("system", "kind", "crm_stage"))


def test_it_suggests_lifecycle_mappings_for_the_values_of_the_mapped_crm_field(admin_web, hubspot):
    # Given a lifecycle value whose mapping was removed, and a Cue stage named as HubSpot's
    # "evangelist"
    StageMapping.objects.filter(kind="lifecycle", crm_stage="marketingqualifiedlead").delete()
    LifecycleStageDefinition.objects.create(
        key="evangelist", label="Evangelist", order=99, meaning="customer"
    )
    before = set(
        StageMapping.objects.filter(kind="lifecycle").values_list("crm_stage", "lifecycle_stage")
    )

    # When an admin asks for suggestions
    response = admin_web.post(SUGGEST)

    # Then both are mapped (by key or label), the rest listed, and no mapping changed
    made = set(
        StageMapping.objects.filter(kind="lifecycle").values_list(
            "crm_stage", "lifecycle_stage__key"
        )
    )
    assert made - {(v, k) for v, k in made if (v, k) in _keys(before)} == {
        ("marketingqualifiedlead", "mql"),
        ("evangelist", "evangelist"),
    }
    assert messages_of(response)[-2:] == [
        "HubSpot lifecycle: mapped marketingqualifiedlead → Marketing qualified lead (same key "
        "or label), evangelist → Evangelist (same key or label).",
        "HubSpot lifecycle: left unmapped, map them by hand: other.",
    ]

    admin_web.post(SUGGEST)

    assert StageMapping.objects.filter(kind="lifecycle").count() == len(made)


def _keys(pairs) -> set[tuple[str, str]]:
    ids = {pk for _, pk in pairs}
    keys = dict(LifecycleStageDefinition.objects.filter(pk__in=ids).values_list("pk", "key"))
    return {(value, keys[pk]) for value, pk in pairs}


def test_it_suggests_no_lifecycle_mapping_when_no_crm_field_is_mapped_to_the_stage(
    admin_web, hubspot
):
    FieldMapping.objects.filter(system="hubspot", cue_field="lifecycle_stage").delete()
    StageMapping.objects.filter(kind="lifecycle").delete()

    response = admin_web.post(SUGGEST)

    assert StageMapping.objects.filter(kind="lifecycle").count() == 0
    assert messages_of(response)[-1] == (
        "HubSpot lifecycle: every lifecycle stage is already mapped."
    )


def test_it_suggests_nothing_twice_and_leaves_a_mapping_made_by_hand_alone(admin_web, hubspot):
    StageMapping.objects.create(
        system="hubspot", kind="deal", crm_pipeline="default", crm_stage="closedwon",
        pipeline_stage=stage("negotiation"),
    )  # fmt: skip
    admin_web.post(SUGGEST)
    count = StageMapping.objects.count()

    admin_web.post(SUGGEST)

    assert StageMapping.objects.count() == count
    assert StageMapping.objects.get(crm_stage="closedwon").pipeline_stage == stage("negotiation")


def test_it_says_no_crm_is_connected_when_asked_for_suggestions(admin_web, no_crm):
    before = StageMapping.objects.count()

    response = admin_web.post(SUGGEST)

    assert messages_of(response) == ["No CRM is connected: there are no stages to read."]
    assert StageMapping.objects.count() == before


def test_it_refuses_suggestions_to_a_marketer(client_as, hubspot):
    before = StageMapping.objects.count()

    response = client_as(roles.MARKETER).post(SUGGEST)

    assert (response.status_code, StageMapping.objects.count()) == (403, before)


def test_it_lets_a_marketer_read_the_mappings_but_not_change_them(client_as, no_crm):
    marketer = client_as(roles.MARKETER)
    mapping = FieldMapping.objects.get(system="hubspot", object_type="contact", crm_field="email")

    listed = marketer.get("/admin/crm/fieldmapping/")
    changed = marketer.post(
        f"/admin/crm/fieldmapping/{mapping.pk}/change/",
        field_mapping(crm_field="email", cue_field="first_name"),
    )

    mapping.refresh_from_db()
    assert (listed.status_code, changed.status_code, mapping.cue_field) == (200, 403, "email")


def test_it_keeps_lifecycle_stages_unique_per_value(admin_web, no_crm):
    response = admin_web.post(
        STAGE_ADD,
        stage_mapping(
            kind="lifecycle",
            crm_stage="customer",
            lifecycle_stage=LifecycleStageDefinition.objects.get(key="lead").pk,
        ),
    )

    assert response.status_code == 200
    assert StageMapping.objects.get(crm_stage="customer").lifecycle_stage.key == "customer"


def test_it_suggests_salesforces_stages_within_its_one_stage_list():
    from apps.crm.adapters import PipelineInfo
    from apps.crm.stage_suggestions import stage_suggestions

    stages = [("Prospecting", "Prospecting"), ("Negotiation/Review", "Negotiation/Review")]
    stages += [("Closed Won", "Closed Won"), ("Closed Lost", "Closed Lost")]

    suggestions = stage_suggestions(
        "salesforce", [PipelineInfo("opportunity", "Opportunity stages", stages)]
    )

    assert [(s.crm_pipeline, s.crm_stage, s.stage and s.stage.key) for s in suggestions] == [
        ("opportunity", "Prospecting", None),
        ("opportunity", "Negotiation/Review", None),
        ("opportunity", "Closed Won", "closed_won"),
        ("opportunity", "Closed Lost", "closed_lost"),
    ]
