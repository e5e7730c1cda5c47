"""The admin's page of a CRM connection: configured or not, runs and their counts, cursors,
unmatched owners and failed records; "sync now" and retries, an admin's buttons."""

from datetime import UTC, datetime

import pytest
from django.contrib.messages import get_messages

from apps.accounts import roles
from apps.contacts.models import Opportunity, PipelineStage
from apps.crm.models import (
    Connection,
    CrmOwner,
    Direction,
    ObjectType,
    OutboxItem,
    RecordError,
    StageMapping,
    SyncCursor,
    SyncRun,
)
from apps.crm.selectors import cursor_describe
from apps.crm.services import crm_sync_in
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PAGE = "/admin/crm/connection/{}/change/"
WHEN = datetime(2026, 3, 9, 14, 30, tzinfo=UTC)


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def text(response) -> str:
    return response.content.decode()


# --- What the page shows -----------------------------------------------------------------


def test_it_names_the_missing_settings_of_a_connection_not_configured(admin_web, no_crm):
    response = admin_web.get(PAGE.format("hubspot"))

    page = response.context["page"]
    assert (response.status_code, page.configured, page.missing) == (
        200,
        False,
        ["HUBSPOT_ACCESS_TOKEN"],
    )
    assert "No: set HUBSPOT_ACCESS_TOKEN" in text(response)


def test_it_names_each_salesforce_setting_still_missing(admin_web, no_crm, settings):
    settings.SALESFORCE_CLIENT_ID = "client-id-value"

    page = admin_web.get(PAGE.format("salesforce")).context["page"]

    assert page.missing == ["SALESFORCE_CLIENT_SECRET", "SALESFORCE_REFRESH_TOKEN"]
    assert page.configured is False


def test_it_says_a_configured_connection_is_connected_and_never_shows_the_secret(
    admin_web, no_crm, settings
):
    settings.HUBSPOT_ACCESS_TOKEN = "pat-na1-very-secret-token"

    response = admin_web.get(PAGE.format("hubspot"))

    assert (response.context["page"].configured, response.context["page"].missing) == (True, [])
    assert "Yes, by the environment" in text(response)
    assert "pat-na1-very-secret-token" not in text(response)


def test_it_opens_the_page_of_a_crm_that_never_synced_without_making_its_row(admin_web, no_crm):
    response = admin_web.get(PAGE.format("salesforce"))

    assert response.status_code == 200
    assert "No runs yet." in text(response)
    assert Connection.objects.count() == 0


def test_it_answers_404_for_a_crm_cue_does_not_have(admin_web):
    assert admin_web.get(PAGE.format("pipedrive")).status_code == 404


def test_it_shows_the_last_runs_with_their_counts_and_error(admin_web, no_crm):
    counts = {"created": 3, "updated": 2, "unchanged": 7, "archived": 1, "skipped": 0, "failed": 4}
    SyncRun.objects.create(
        system="hubspot",
        status=SyncRun.Status.STOPPED,
        counts={"deal": {"created": 1}, "contact": counts},  # shown in the sync's order
        error="HubSpot asked Cue to wait 60 s.",
    )

    response = admin_web.get(PAGE.format("hubspot"))

    run_line = response.context["page"].runs[0]
    assert run_line.rows == [
        ("Contact", [3, 2, 7, 1, 0, 4]),
        ("Deal / opportunity", [1, 0, 0, 0, 0, 0]),
    ]
    body = text(response)
    assert "<td>Contact</td><td>3</td><td>2</td><td>7</td><td>1</td><td>0</td><td>4</td>" in (
        body.replace("\n", "").replace("            ", "")
    )
    assert "Stopped (will resume)" in body
    assert "HubSpot asked Cue to wait 60 s." in body


def test_it_shows_each_cursor_in_words(admin_web, no_crm):
    SyncCursor.objects.create(
        system="hubspot",
        object_type=ObjectType.CONTACT,
        cursor={"phase": "search", "modified": 1773066600000, "after_id": None},
    )

    lines = admin_web.get(PAGE.format("hubspot")).context["page"].cursors

    assert [(line.object_type, line.where) for line in lines] == [
        ("Contact", "after id: —; modified: 2026-03-09 14:30:00 UTC; phase: search")
    ]


@pytest.mark.parametrize(
    ("cursor", "words"),
    [
        (None, "Not started: the next sync reads everything."),
        ({}, "Not started: the next sync reads everything."),
        ({"since": "2026-03-09T14:30:00.000Z", "last_id": "003XX"}, None),
        ({"after": "20260101"}, "after: 20260101"),  # a paging token, not a date
        ({"count": 12, "done": True}, "count: 12; done: True"),
    ],
)
def test_it_reads_any_adapters_cursor_without_guessing_wrong(cursor, words):
    expected = words or "last id: 003XX; since: 2026-03-09 14:30:00 UTC"
    assert cursor_describe(cursor) == expected


def test_it_lists_owners_without_a_cue_user_and_not_the_matched_or_archived(admin_web, no_crm):
    user = UserFactory(role=roles.SALES_REP, email="rita@example.com")
    CrmOwner.objects.create(system="hubspot", record_id="1", email="nobody@example.com")
    CrmOwner.objects.create(system="hubspot", record_id="2", email="rita@example.com", user=user)
    CrmOwner.objects.create(
        system="hubspot", record_id="3", email="gone@example.com", archived=True
    )
    CrmOwner.objects.create(system="salesforce", record_id="4", email="sf@example.com")

    owners = admin_web.get(PAGE.format("hubspot")).context["page"].unmatched_owners

    assert [o.record_id for o in owners] == ["1"]


def test_it_lists_the_open_failed_records_of_this_crm_only(admin_web, no_crm):
    open_error = _error("hubspot", "deal-1", "Stage 'x' is not mapped to a Cue stage.")
    _error("hubspot", "deal-2", "fixed", resolved=True)
    _error("salesforce", "006A", "another CRM's")

    response = admin_web.get(PAGE.format("hubspot"))

    assert response.context["page"].open_errors == [open_error]
    assert response.context["page"].open_error_count == 1
    assert "Stage &#x27;x&#x27; is not mapped to a Cue stage." in text(response)
    assert 'value="Retry"' in text(response)


@pytest.mark.parametrize("role", [roles.MARKETER, roles.COMPLIANCE])
def test_it_shows_staff_who_may_only_read_the_page_without_its_buttons(client_as, no_crm, role):
    _error("hubspot", "deal-1", "Stage 'x' is not mapped to a Cue stage.")

    response = client_as(role).get(PAGE.format("hubspot"))

    body = text(response)
    assert response.status_code == 200
    assert "Stage &#x27;x&#x27; is not mapped" in body
    assert [button in body for button in ("Sync now", 'value="Retry"', "Retry all", "Dry run")] == [
        False
    ] * 4


def test_it_lists_both_crms_on_the_connections_list(admin_web, no_crm, settings):
    settings.HUBSPOT_ACCESS_TOKEN = "token"
    _error("hubspot", "deal-1", "e")

    response = admin_web.get("/admin/crm/connection/")

    pages = response.context["pages"]
    assert [(p.system, p.configured, p.open_error_count) for p in pages] == [
        ("hubspot", True, 1),
        ("salesforce", False, 0),
    ]


# --- Sync now --------------------------------------------------------------------------------


def test_it_queues_sync_now_after_the_request_commits(
    admin_web, hubspot, django_capture_on_commit_callbacks
):
    hubspot.record_add("contacts", {"firstname": "Ann", "email": "ann@example.com"})

    with django_capture_on_commit_callbacks() as queued:
        response = admin_web.post("/admin/crm/connection/hubspot/sync/")
        assert SyncRun.objects.count() == 0  # nothing runs inside the request
    assert (response.status_code, response["Location"]) == (302, PAGE.format("hubspot"))
    assert messages_of(response) == ["A HubSpot sync is queued; this page shows it once it runs."]
    assert len(queued) == 1

    queued[0]()  # the commit: the (eager) worker runs the sync

    run = SyncRun.objects.get()
    assert (run.system, run.status, run.counts["contact"]["created"]) == ("hubspot", "succeeded", 1)


def test_it_queues_nothing_for_a_crm_not_connected(
    admin_web, no_crm, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as queued:
        response = admin_web.post("/admin/crm/connection/hubspot/sync/")

    assert messages_of(response) == ["Not connected: set HUBSPOT_ACCESS_TOKEN."]
    assert (queued, SyncRun.objects.count()) == ([], 0)


def test_it_refuses_sync_now_to_a_marketer(client_as, hubspot, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as queued:
        response = client_as(roles.MARKETER).post("/admin/crm/connection/hubspot/sync/")

    assert (response.status_code, queued, SyncRun.objects.count()) == (403, [], 0)


# --- Retry -------------------------------------------------------------------------------------


def _deals_in_unmapped_stages(hubspot, *stages: str) -> list[str]:
    """HubSpot deals in stages no mapping names: the sync keeps them failed."""
    deals = []
    for stage in stages:
        deals.append(hubspot.record_add("deals", {"dealname": f"Deal {stage}", "amount": "1200"}))
        hubspot.deal_stage_enter(deals[-1], stage, at=WHEN)
    assert crm_sync_in(system="hubspot") == "succeeded"
    return deals


def _deal_in_an_unmapped_stage(hubspot) -> str:
    return _deals_in_unmapped_stages(hubspot, "contractsent")[0]


def test_it_retries_a_failed_record_and_keeps_it_failed_while_the_mapping_is_missing(
    admin_web, hubspot
):
    deal = _deal_in_an_unmapped_stage(hubspot)
    error = RecordError.objects.get(record_id=deal)

    response = admin_web.post(
        "/admin/crm/connection/hubspot/retry/", {"record_error": str(error.pk)}
    )

    error.refresh_from_db()
    assert (error.attempts, error.resolved_at) == (2, None)
    assert messages_of(response) == [
        f"HubSpot deal {deal} failed again: Stage 'contractsent' of pipeline 'default' is not "
        "mapped to a Cue stage."
    ]
    assert Opportunity.objects.count() == 0


def test_it_takes_a_failed_record_once_the_mapping_is_fixed(admin_web, hubspot):
    deal = _deal_in_an_unmapped_stage(hubspot)
    error = RecordError.objects.get(record_id=deal)
    StageMapping.objects.create(
        system="hubspot",
        kind="deal",
        crm_pipeline="default",
        crm_stage="contractsent",
        pipeline_stage=PipelineStage.objects.get(pipeline__key="sales", key="proposal"),
    )

    response = admin_web.post(
        "/admin/crm/connection/hubspot/retry/", {"record_error": str(error.pk)}
    )

    error.refresh_from_db()
    opportunity = Opportunity.objects.get()
    assert error.resolved_at is not None and error.attempts == 1
    assert (opportunity.name, opportunity.stage, opportunity.stage_changed_at) == (
        "Deal contractsent",
        "proposal",
        WHEN,
    )
    assert messages_of(response) == [f"HubSpot deal {deal} was taken."]
    assert admin_web.get(PAGE.format("hubspot")).context["page"].open_errors == []


def test_it_retries_every_open_failed_record_at_once(admin_web, hubspot):
    first, second = _deals_in_unmapped_stages(hubspot, "contractsent", "closedwon")
    StageMapping.objects.create(
        system="hubspot",
        kind="deal",
        crm_pipeline="default",
        crm_stage="contractsent",
        pipeline_stage=PipelineStage.objects.get(pipeline__key="sales", key="proposal"),
    )

    response = admin_web.post("/admin/crm/connection/hubspot/retry/", {"all": "1"})

    assert messages_of(response) == ["Retried: 1 taken, 1 failed again."]
    open_ids = set(
        RecordError.objects.filter(resolved_at__isnull=True).values_list("record_id", flat=True)
    )
    assert open_ids == {second}
    assert list(Opportunity.objects.values_list("name", flat=True)) == ["Deal contractsent"]
    assert RecordError.objects.get(record_id=first).resolved_at is not None


def test_it_retries_every_open_failed_record_an_outbound_one_among_them(admin_web, hubspot):
    # Given a deal kept failed and an SMS activity HubSpot refused (an outbound kind that is
    # no CRM object type)
    (deal,) = _deals_in_unmapped_stages(hubspot, "contractsent")
    item = OutboxItem.objects.create(
        system="hubspot", kind=OutboxItem.Kind.ACTIVITY, key="message:7:sent", contact_id=1,
        payload={}, status=OutboxItem.Status.FAILED, last_error="Property values were not valid",
    )  # fmt: skip
    RecordError.objects.create(
        system="hubspot", direction=Direction.OUT, object_type=OutboxItem.Kind.ACTIVITY,
        record_id="message:7:sent", error="Property values were not valid", last_failed_at=WHEN,
    )  # fmt: skip

    # When an admin retries them all
    response = admin_web.post("/admin/crm/connection/hubspot/retry/", {"all": "1"})

    # Then the activity is due again, the deal failed again, and the page says so
    item.refresh_from_db()
    assert (response.status_code, response["Location"]) == (302, PAGE.format("hubspot"))
    assert messages_of(response) == ["Retried: 1 taken, 1 failed again."]
    assert (item.status, item.last_error) == (OutboxItem.Status.PENDING, "")
    assert RecordError.objects.get(record_id=deal).attempts == 2


def test_it_refuses_to_retry_another_crms_record_through_this_page(admin_web, no_crm):
    error = _error("salesforce", "006A", "refused")

    response = admin_web.post(
        "/admin/crm/connection/hubspot/retry/", {"record_error": str(error.pk)}
    )

    error.refresh_from_db()
    assert (response.status_code, error.attempts) == (404, 1)


@pytest.mark.parametrize("posted", [{}, {"record_error": "x1"}, {"record_error": ""}])
def test_it_asks_which_record_when_the_retry_names_none(admin_web, no_crm, posted):
    error = _error("hubspot", "deal-1", "e")

    response = admin_web.post("/admin/crm/connection/hubspot/retry/", posted)

    error.refresh_from_db()
    assert messages_of(response) == ["Choose a failed record to retry."]
    assert error.attempts == 1


def test_it_refuses_a_retry_to_compliance(client_as, no_crm):
    error = _error("hubspot", "deal-1", "e")

    response = client_as(roles.COMPLIANCE).post(
        "/admin/crm/connection/hubspot/retry/", {"record_error": str(error.pk)}
    )

    error.refresh_from_db()
    assert (response.status_code, error.attempts) == (403, 1)


def _error(system: str, record_id: str, message: str, resolved: bool = False) -> RecordError:
    return RecordError.objects.create(
        system=system,
        direction=Direction.IN,
        object_type=ObjectType.DEAL,
        record_id=record_id,
        error=message,
        record={
            "object_type": "deal",
            "id": record_id,
            "modified_at": WHEN.isoformat(),
            "properties": {"dealname": "D", "pipeline": "default", "dealstage": "x"},
            "archived": False,
            "associations": {},
            "stage_history": [],
            "converted_to": None,
        },
        last_failed_at=WHEN,
        resolved_at=WHEN if resolved else None,
    )


def test_it_takes_a_record_once_when_retry_is_pressed_twice(admin_web, hubspot):
    deal = _deal_in_an_unmapped_stage(hubspot)
    error = RecordError.objects.get(record_id=deal)
    StageMapping.objects.create(
        system="hubspot", kind="deal", crm_pipeline="default", crm_stage="contractsent",
        pipeline_stage=PipelineStage.objects.get(pipeline__key="sales", key="proposal"),
    )  # fmt: skip

    for _ in range(2):
        admin_web.post("/admin/crm/connection/hubspot/retry/", {"record_error": str(error.pk)})

    assert Opportunity.objects.count() == 1
    assert Opportunity.objects.get().stage_changes.count() == 1
