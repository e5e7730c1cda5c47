"""The writes: every POST, PATCH and DELETE the project takes, who may make it, and the state
that must stay as it was when the write is refused (and must change when it is allowed).

The admin's add, change, delete, history and changelist POSTs are generated for every
registered model, for the identities MODELS refuses there; the admin's own pages, the /tasks/
actions, the API and the public endpoints are listed one by one, for every identity. URLs,
redirects and data are "{name.attr}" templates filled from the world's rows."""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import models
from django.utils import timezone

from apps.accounts.roles import ROLES
from apps.consent.models import ConsentRecord, Suppression
from apps.contacts.models import Contact, Event, Opportunity, Segment
from apps.crm.models import RecordError, StageMapping, SyncRun
from apps.inbox.models import Conversation, ConversationNote
from apps.journeys.models import Journey, JourneyVersion, Step
from apps.library.models import MessageTemplate, TemplateApproval, TemplateVersion
from apps.reporting.models import Attribution, AuditReport
from apps.routing.models import FollowUpTask
from apps.sends.models import InboundMessage, OutboundMessage
from tests.core.permission_table import (
    AD,
    ADMIN_ONLY,
    ALL_STAFF,
    AP,
    AUDITORS,
    AUTHORS,
    DENIED,
    LOGIN,
    MODELS,
    NOBODY,
    NOT_ALLOWED,
    NOT_FOUND,
    NOT_STAFF,
    OK,
    READERS,
    SM,
    STAFF,
    UNAUTHORIZED,
    C,
    M,
    Outcome,
    Outcomes,
    R,
    admin_page,
    api,
    everyone,
    redirect,
    signed_in_page,
)
from tests.core.permission_urls import ModelPage, model_page_url, model_pages
from tests.core.permission_world import ANONYMOUS, IDENTITIES, World

# Lists that offer their own actions but not "delete selected", and to whom.
ACTIONS_WITHOUT_DELETE = {
    "segment_intake.segmentwritekey": ADMIN_ONLY,  # revoke
    "contacts.eventhandlerfailure": ADMIN_ONLY,  # retry now
    "contacts.contact": frozenset({C}),  # export, erase (Compliance may not delete)
}
CREATED = Outcome(201)
BAD_REQUEST = Outcome(400)
State = Callable[[World], object]


@dataclass(frozen=True)
class Write:
    label: str
    url: str | Callable[[World], str]
    expect: Outcomes  # the identities this write is tried as, and what each gets
    state: State  # read before and after
    changes: frozenset[str] = NOBODY  # who, allowed, changes the state
    data: dict | Callable[[World], dict] = field(default_factory=dict)
    method: str = "post"
    as_json: bool = False
    meta: dict = field(default_factory=dict)  # request headers and environ
    settings: dict = field(default_factory=dict)  # overridden for the request

    def address(self, world: World) -> str:
        return self.url(world) if callable(self.url) else world.fill(self.url)

    def send(self, client, world: World):
        data = self.data(world) if callable(self.data) else world.fill(self.data)
        send = getattr(client, self.method)
        if self.as_json:
            body = json.dumps(data)
            return send(self.address(world), body, content_type="application/json", **self.meta)
        return send(self.address(world), data, **self.meta)


def row(name: str, model=None) -> State:
    """One stored row, every column of it, and how many rows its table has. `name` is an
    admin label ("contacts.contact") or a name of the world's (then give its model)."""

    def read(world: World):
        obj = world.objects[name] if model is None else world.extra[name]
        manager = (model or type(obj))._default_manager
        return manager.filter(pk=obj.pk).values().first(), manager.count()

    return read


def count(model) -> State:
    return lambda world: model._default_manager.count()


def nothing(world: World) -> None:
    return None


# --- The admin's pages of every model ------------------------------------------------------

# An import's page is its report, GET or POST: a POST shows the report, changing nothing.
CHANGE_PAGE_IS_A_REPORT = {
    "contacts.contactimport": dict.fromkeys(READERS, OK),
    "contacts.opportunityimport": dict.fromkeys(READERS, OK),
}


def _refused(allowed: frozenset[str]) -> Outcomes:
    return {i: outcome for i, outcome in admin_page(allowed).items() if i not in allowed}


def _tampered(label: str) -> Callable[[World], dict]:
    """What a form changing every text field of the row would post."""

    def data(world: World) -> dict:
        fields = type(world.objects[label])._meta.concrete_fields
        texts = (f for f in fields if isinstance(f, models.CharField | models.TextField))
        return {f.name: "tampered" for f in texts if not f.choices and not f.primary_key}

    return data


def _selected(label: str) -> Callable[[World], dict]:
    def data(world: World) -> dict:
        pk = world.objects[label].pk
        return {"action": "delete_selected", "_selected_action": [pk], "index": "0", "post": "yes"}

    return data


def _model_writes() -> list[Write]:
    writes = []
    for page in model_pages().values():
        access, label = MODELS.get(page.label), page.label
        if access is None or page.page in ("redirect", "history"):
            continue
        url = _page_url(page)
        if page.page == "add":
            writes.append(
                Write(f"{label} add", url, _refused(access.add), row(label), data=_tampered(label))
            )
        elif page.page == "change":
            expect = {**_refused(access.change), **CHANGE_PAGE_IS_A_REPORT.get(label, {})}
            writes.append(Write(f"{label} change", url, expect, row(label), data=_tampered(label)))
        elif page.page == "delete":
            writes.append(
                Write(
                    f"{label} delete",
                    url,
                    _refused(access.delete),
                    row(label),
                    data={"post": "yes"},
                )
            )
        elif page.page == "history_record":
            # History is evidence: reverting to an old version is refused to all, Admin too.
            writes.append(Write(f"{label} revert", url, _refused(NOBODY), row(label)))
        elif page.page == "changelist":
            # "Delete selected" by who may not delete: who may view sees the list again,
            # nothing deleted (the action is not theirs to choose); the trail takes GETs only.
            shown = NOT_ALLOWED if label == "reporting.audittrail" else OK
            expect = {
                i: shown if i in access.view else o for i, o in _refused(access.delete).items()
            }
            if label in ACTIONS_WITHOUT_DELETE:  # an action not offered: back to the list
                expect.update(dict.fromkeys(ACTIONS_WITHOUT_DELETE[label], redirect(url)))
            writes.append(
                Write(f"{label} delete selected", url, expect, row(label), data=_selected(label))
            )
    return writes


def _schedule_action(action: str) -> Callable[[World], dict]:
    def data(world: World) -> dict:
        pk = world.objects["django_celery_beat.periodictask"].pk
        return {"action": action, "_selected_action": [pk], "index": "0"}

    return data


def _page_url(page: ModelPage) -> Callable[[World], str]:
    return lambda world: model_page_url(page, world.objects[page.label])


# --- The admin's own pages -----------------------------------------------------------------

VERSION_ACTION = "/admin/library/messagetemplate/{%s.template_id}/versions/{%s.pk}/%s/"
TEMPLATE_PAGE = "/admin/library/messagetemplate/{%s.template_id}/change/"


def _workflow(version: str, action: str, changes: frozenset[str], state: State, **kwargs) -> Write:
    """A review workflow button. Its refusals are messages on the template page, with nothing
    changed, like its successes: the state tells them apart."""
    expect = {
        **dict.fromkeys(STAFF, redirect(TEMPLATE_PAGE % version)),
        **dict.fromkeys(NOT_STAFF, LOGIN),
    }
    url = VERSION_ACTION % (version, version, action)
    return Write(f"{action} {version} version", url, expect, state, changes=changes, **kwargs)


def _approvals(world: World) -> int:
    return TemplateApproval.objects.filter(version=world.extra["submitted"]).count()


def _status_of(name: str, model) -> State:
    return lambda world: model.objects.get(pk=world.extra[name].pk).status


def _copies(world: World) -> int:
    return TemplateVersion.objects.filter(template=world.extra["rejected"].template_id).count()


def _password(world: World) -> str:
    user = world.objects["accounts.user"]
    return type(user).objects.get(pk=user.pk).password


def _days(world: World) -> dict:
    today = timezone.localdate()
    return {"start": (today - timedelta(days=1)).isoformat(), "end": today.isoformat()}


CRM_PAGE = "/admin/crm/connection/hubspot/change/"
NO_CRM = {"HUBSPOT_ACCESS_TOKEN": "", "SALESFORCE_CLIENT_ID": "", "SALESFORCE_REFRESH_TOKEN": ""}


def _admin_writes() -> list[Write]:
    w = Write
    journey_page = "/admin/journeys/journey/{%s.pk}/change/"
    new_password = "a-New-pw-2026!"
    return [
        # Any staff role may text itself a test or a code; nobody here has a verified phone
        # (nor a phone), so nothing goes out.
        w(
            "test send",
            "/admin/sends/outboundmessage/test-send/{approved.pk}/",
            admin_page(READERS, redirect(TEMPLATE_PAGE % "approved")),
            count(OutboundMessage),
        ),
        w(
            "phone code",
            "/admin/sends/outboundmessage/verify-phone/",
            admin_page(ALL_STAFF, redirect("/admin/sends/outboundmessage/verify-phone/")),
            count(OutboundMessage),
            data={"action": "start"},
        ),
        w(
            "segment preview",
            "/admin/contacts/segment/preview/",
            {**dict.fromkeys(READERS, OK), **dict.fromkeys(NOT_STAFF, DENIED)},
            nothing,
            data={"rules": {"all": [{"field": "intent_band", "op": "eq", "value": "high"}]}},
            as_json=True,
        ),
        w(
            "import mapping",
            "/admin/contacts/contactimport/{contactimport.pk}/mapping/",
            admin_page(
                AUTHORS, redirect("/admin/contacts/contactimport/{contactimport.pk}/change/")
            ),
            row("contacts.contactimport"),
            data={"column_0": "email"},
        ),
        w(
            "opportunity import mapping",
            "/admin/contacts/opportunityimport/{opportunityimport.pk}/mapping/",
            admin_page(
                ADMIN_ONLY,
                redirect("/admin/contacts/opportunityimport/{opportunityimport.pk}/change/"),
            ),
            row("contacts.opportunityimport"),
            data={"column_0": "name", "column_1": "stage"},
        ),
        # The scheduler's own actions ask for no permission; Compliance, who may look at
        # the schedules, gets the list again and switches nothing off.
        w(
            "disable selected schedules",
            "/admin/django_celery_beat/periodictask/",
            {
                **admin_page(AUDITORS, redirect("/admin/django_celery_beat/periodictask/")),
                C: OK,
            },
            row("django_celery_beat.periodictask"),
            changes=ADMIN_ONLY,
            data=_schedule_action("disable_tasks"),
        ),
        _workflow("submitted", "approve", frozenset({AP, AD}), _approvals),
        # DESIGN.md: Compliance "can be required as a second approver"; then it approves too.
        _workflow(
            "submitted",
            "approve",
            frozenset({AP, C, AD}),
            _approvals,
            settings={"CUE_REQUIRE_COMPLIANCE_APPROVAL": True},
        ),
        _workflow(
            "submitted",
            "reject",
            frozenset({AP, AD}),
            _status_of("submitted", TemplateVersion),
            data={"comment": "Not yet."},
        ),
        _workflow("draft", "submit", AUTHORS, _status_of("draft", TemplateVersion)),
        _workflow("rejected", "copy", AUTHORS, _copies),
        w(
            "load blueprint",
            "/admin/journeys/journey/blueprints/webinar-reminder/load/",
            admin_page(AUTHORS, redirect(journey_page % "newest_journey")),
            count(Journey),
            changes=AUTHORS,
        ),
        # Activating and pausing are the approver's; a refusal is a message on the journey.
        w(
            "activate journey",
            "/admin/journeys/journey/{journey.pk}/activate/",
            admin_page(ALL_STAFF, redirect(journey_page % "journey")),
            _status_of("journey", Journey),
            changes=frozenset({AP, AD}),
        ),
        w(
            "pause journey",
            "/admin/journeys/journey/{live_journey.pk}/pause/",
            admin_page(ALL_STAFF, redirect(journey_page % "live_journey")),
            _status_of("live_journey", Journey),
            changes=frozenset({AP, AD}),
        ),
        w(
            "run audit",
            "/admin/reporting/auditreport/run/",
            signed_in_page(AUDITORS, redirect("/admin/reporting/auditreport/")),
            count(AuditReport),
            changes=AUDITORS,
            data=_days,
        ),
        # Erasing a person's data: Compliance and Admin; the contact's row is anonymised.
        w(
            "erase contact",
            "/admin/contacts/contact/{rita_contact.pk}/erase/",
            admin_page(AUDITORS, redirect("/admin/contacts/contact/{rita_contact.pk}/change/")),
            row("rita_contact", Contact),
            changes=AUDITORS,
            data={"reason": "Art. 17 request of 2026-03-09", "confirm": "on"},
        ),
        w(
            "recompute attribution",
            "/admin/reporting/attribution/recompute/",
            signed_in_page(ADMIN_ONLY, redirect("/admin/reporting/attribution/")),
            count(Attribution),
            changes=ADMIN_ONLY,
            data=_days,
        ),
        # A CRM connection's buttons: an admin's. HubSpot is not connected here, so "sync
        # now", the dry run and the suggestions only say so; a retry really runs (and the
        # deal, in a stage mapped to nothing, fails again: one more attempt).
        w(
            "sync crm now",
            "/admin/crm/connection/hubspot/sync/",
            admin_page(ADMIN_ONLY, redirect(CRM_PAGE)),
            count(SyncRun),
            settings=NO_CRM,
        ),
        w(
            "retry a failed crm record",
            "/admin/crm/connection/hubspot/retry/",
            admin_page(ADMIN_ONLY, redirect(CRM_PAGE)),
            row("crm_error", RecordError),
            changes=ADMIN_ONLY,
            data={"record_error": "{crm_error.pk}"},
        ),
        w(
            "retry every failed crm record",
            "/admin/crm/connection/hubspot/retry/",
            admin_page(ADMIN_ONLY, redirect(CRM_PAGE)),
            row("crm_error", RecordError),
            changes=ADMIN_ONLY,
            data={"all": "1"},
        ),
        w(
            "crm dry run",
            "/admin/crm/connection/hubspot/dry-run/",
            admin_page(ADMIN_ONLY),
            count(Contact),
            data={"object_type": "contact"},
            settings=NO_CRM,
        ),
        w(
            "suggest stage mappings",
            "/admin/crm/stagemapping/suggest/",
            admin_page(ADMIN_ONLY, redirect("/admin/crm/stagemapping/")),
            count(StageMapping),
            settings=NO_CRM,
        ),
        w(
            "set password",
            "/admin/accounts/user/{user.pk}/password/",
            admin_page(ADMIN_ONLY, redirect("/admin/accounts/user/{user.pk}/change/")),
            _password,
            changes=ADMIN_ONLY,
            data={"usable_password": "true", "password1": new_password, "password2": new_password},
        ),
        w(
            "edit rules in the list",
            "/admin/routing/routingrule/",
            admin_page(ADMIN_ONLY, redirect("/admin/routing/routingrule/")),
            row("routing.routingrule"),
            changes=ADMIN_ONLY,
            data={
                "_save": "Save",
                "form-TOTAL_FORMS": "1",
                "form-INITIAL_FORMS": "1",
                "form-0-id": "{routingrule.pk}",
                "form-0-position": "1",
            },
        ),
    ]


# --- /tasks/ -------------------------------------------------------------------------------


def _task_expect(*, seen_by: frozenset[str], done_by: frozenset[str], done: Outcome) -> Outcomes:
    """Marketers and approvers may not open tasks; who may open tasks but not see this one
    gets 404; who sees it but may not do this, 403."""
    expect = {M: DENIED, AP: DENIED, ANONYMOUS: LOGIN}
    for role in (C, R, SM, AD):
        expect[role] = NOT_FOUND if role not in seen_by else done if role in done_by else DENIED
    return expect


# Who sees and works an East task besides its owner: East's manager, and Admin.
EAST = frozenset({SM, AD})
TASK_WORK = {
    "start": {},
    "complete": {"outcome": "connected"},
    "hand-back": {},
    "reply": {"body": "Calling you in 5.", "nonce": "matrix"},
}


def _take_writes() -> list[Write]:
    """A team's queued task is taken by whoever of its team (rep or manager) or an admin asks
    first; a task someone owns is not taken (back to the list, told who has it); another
    team's is a 404."""
    team = EAST | {R}
    return [
        Write(
            "take east_queue_task",
            "/tasks/{east_queue_task.pk}/take/",
            _task_expect(seen_by=team, done_by=team, done=redirect("/tasks/{east_queue_task.pk}/")),
            row("east_queue_task", FollowUpTask),
            changes=team,
        ),
        Write(
            "take bob_task",
            "/tasks/{bob_task.pk}/take/",
            _task_expect(seen_by=team, done_by=team, done=redirect("/tasks/")),
            row("bob_task", FollowUpTask),
        ),
        Write(
            "take west_queue_task",
            "/tasks/{west_queue_task.pk}/take/",
            _task_expect(
                seen_by=ADMIN_ONLY,
                done_by=ADMIN_ONLY,
                done=redirect("/tasks/{west_queue_task.pk}/"),
            ),
            row("west_queue_task", FollowUpTask),
            changes=ADMIN_ONLY,
        ),
    ]


def _tasks_writes() -> list[Write]:
    writes = []
    for task, seen_by, other_rep in (("rita_task", EAST | {R}, "bob"), ("bob_task", EAST, "rita")):
        for action, data in TASK_WORK.items():
            state = count(OutboundMessage) if action == "reply" else row(task, FollowUpTask)
            # Back to the task, or to the list once it is handed back.
            done = "/tasks/" if action == "hand-back" else f"/tasks/{{{task}.pk}}/"
            expect = _task_expect(seen_by=seen_by, done_by=seen_by, done=redirect(done))
            writes.append(
                Write(
                    f"{action} {task}",
                    f"/tasks/{{{task}.pk}}/{action}/",
                    expect,
                    state,
                    changes=seen_by,
                    data=data,
                )
            )
        # Only a manager reassigns, within the team.
        expect = _task_expect(
            seen_by=seen_by, done_by=EAST, done=redirect(f"/tasks/{{{task}.pk}}/")
        )
        writes.append(
            Write(
                f"reassign {task}",
                f"/tasks/{{{task}.pk}}/reassign/",
                expect,
                row(task, FollowUpTask),
                changes=EAST,
                data={"owner": f"{{{other_rep}.pk}}", "confirm": "yes"},
            )
        )
    writes += _take_writes()
    west = _task_expect(
        seen_by=ADMIN_ONLY, done_by=ADMIN_ONLY, done=redirect("/tasks/{wes_task.pk}/")
    )
    writes.append(
        Write(
            "reassign wes_task",
            "/tasks/{wes_task.pk}/reassign/",
            west,
            row("wes_task", FollowUpTask),
            changes=ADMIN_ONLY,
            data={"owner": "{wren.pk}", "confirm": "yes"},
        )
    )
    return writes


# --- API -----------------------------------------------------------------------------------

CONTACT = "/api/v1/contacts/{contact.pk}/"
CONSENT = "/api/v1/contacts/{contact.pk}/consent/"
LEDGER_ROW = {
    "channel": "sms",
    "purpose": "marketing",
    "action": "opt_out",
    "source": "api",
    "evidence": {"note": "matrix"},
}


def _event(world: World) -> dict:
    return world.fill(
        {
            "type": "pricing_view",
            "idempotency_key": "matrix-event",
            "source": "web",
            "occurred_at": timezone.now().isoformat(),
            "contact": {"email": "{contact.email}"},
        }
    )


DEAL = {
    "external_id": "opp-matrix",
    "name": "Matrix deal",
    "stage": "discovery",
    "contact": "{contact.pk}",
}


def _api_writes() -> list[Write]:
    w = Write
    # Writing the CRM through the API is an integration's job: Admin's (its token).
    return [
        w(
            "record event",
            "/api/v1/events/",
            api(ADMIN_ONLY, CREATED),
            count(Event),
            changes=ADMIN_ONLY,
            data=_event,
            as_json=True,
        ),
        w(
            "create contact",
            "/api/v1/contacts/",
            api(ADMIN_ONLY, CREATED),
            count(Contact),
            changes=ADMIN_ONLY,
            data={"email": "brand-new@example.com"},
            as_json=True,
        ),
        w(
            "change contact",
            CONTACT,
            api(ADMIN_ONLY),
            row("contact", Contact),
            changes=ADMIN_ONLY,
            method="patch",
            data={"first_name": "Tampered"},
            as_json=True,
        ),
        w(
            "change another rep's contact",
            "/api/v1/contacts/{bob_contact.pk}/",
            api(ADMIN_ONLY),
            row("bob_contact", Contact),
            changes=ADMIN_ONLY,
            method="patch",
            data={"first_name": "Tampered"},
            as_json=True,
        ),
        # The API deletes no contact: who may delete contacts hears so, the rest are refused.
        w(
            "delete contact",
            CONTACT,
            api(ADMIN_ONLY, NOT_ALLOWED),
            row("contact", Contact),
            method="delete",
        ),
        w(
            "erase contact",
            "/api/v1/contacts/{rita_contact.pk}/erase/",
            api(AUDITORS),
            row("rita_contact", Contact),
            changes=AUDITORS,
            data={"reason": "Art. 17 request of 2026-03-09", "confirm": True},
            as_json=True,
        ),
        w(
            "record opportunity",
            "/api/v1/opportunities/",
            api(ADMIN_ONLY, CREATED),
            count(Opportunity),
            changes=ADMIN_ONLY,
            data=DEAL,
            as_json=True,
        ),
        w(
            "append to ledger",
            CONSENT,
            api(ADMIN_ONLY, CREATED),
            count(ConsentRecord),
            changes=ADMIN_ONLY,
            data=LEDGER_ROW,
            as_json=True,
        ),
        # The ledger is append-only: nobody deletes from it, Admin included.
        w(
            "delete from ledger",
            CONSENT,
            {**dict.fromkeys(ROLES, NOT_ALLOWED), ANONYMOUS: UNAUTHORIZED},
            count(ConsentRecord),
            method="delete",
        ),
        w(
            "replace contact",
            CONTACT,
            api(ADMIN_ONLY, NOT_ALLOWED),
            row("contact", Contact),
            method="put",
            data={"first_name": "Tampered"},
            as_json=True,
        ),
        *(
            w(
                f"delete {name}",
                f"/api/v1/{name}/",
                api(ADMIN_ONLY, NOT_ALLOWED),
                count(model),
                method="delete",
            )
            for name, model in (
                ("events", Event),
                ("contacts", Contact),
                ("opportunities", Opportunity),
            )
        ),
        # A search reads: whoever may read contacts, a rep finding only their own.
        w(
            "search contacts",
            "/api/v1/contacts/search/",
            api(READERS | {R, SM}),
            nothing,
            data={"email": "{contact.email}"},
            as_json=True,
        ),
        w(
            "preview body",
            "/api/v1/templates/preview/",
            api(READERS),
            nothing,
            data={"body": "Cue Demo: hi. Reply STOP to opt out."},
            as_json=True,
        ),
        *_content_api_writes(),
        *_journeys_api_writes(),
    ]


HIGH_INTENT = {"all": [{"field": "intent_band", "op": "eq", "value": "high"}]}
REVIEWERS = frozenset({AP, AD})


def _content_api_writes() -> list[Write]:
    """Segments and templates through the API: the admin's rules, a 403 for the rest."""
    w = Write
    version = "/api/v1/templates/versions/{%s.pk}/%s/"
    return [
        w(
            "create segment (API)",
            "/api/v1/segments/",
            api(AUTHORS, CREATED),
            count(Segment),
            changes=AUTHORS,
            data={"name": "Made by the API", "rules": HIGH_INTENT},
            as_json=True,
        ),
        w(
            "change segment (API)",
            "/api/v1/segments/{segment.pk}/",
            api(AUTHORS),
            row("contacts.segment"),
            changes=AUTHORS,
            data={"description": "Changed through the API"},
            method="patch",
            as_json=True,
        ),
        w(
            "count rules (API)",
            "/api/v1/segments/preview/",
            api(READERS),
            nothing,
            data={"rules": HIGH_INTENT},
            as_json=True,
        ),
        w(
            "create template (API)",
            "/api/v1/templates/",
            api(AUTHORS, CREATED),
            count(MessageTemplate),
            changes=AUTHORS,
            data={
                "name": "API",
                "purpose": "remind",
                "body": "Cue Demo: hi. Reply STOP to opt out.",
            },
            as_json=True,
        ),
        w(
            "edit draft (API)",
            "/api/v1/templates/{draft.template_id}/draft/",
            api(AUTHORS),
            row("draft", TemplateVersion),
            changes=AUTHORS,
            data={"body": "Cue Demo: changed. Reply STOP to opt out."},
            as_json=True,
        ),
        w(
            "submit draft (API)",
            version % ("draft", "submit"),
            api(AUTHORS),
            _status_of("draft", TemplateVersion),
            changes=AUTHORS,
            as_json=True,
        ),
        # The author ("max") is none of these identities; Compliance is not asked to approve
        # a marketing template, so the approver and the admin decide.
        w(
            "approve version (API)",
            version % ("submitted", "approve"),
            api(REVIEWERS),
            _approvals,
            changes=REVIEWERS,
            as_json=True,
        ),
        w(
            "reject version (API)",
            version % ("submitted", "reject"),
            api(REVIEWERS),
            _status_of("submitted", TemplateVersion),
            changes=REVIEWERS,
            data={"comment": "Not this week."},
            as_json=True,
        ),
    ]


def _journey_steps(world: World) -> list[str]:
    version = world.extra["journey_draft"]
    return sorted(Step.objects.filter(version_id=version.pk).values_list("key", flat=True))


def _journey_draft_cap(world: World) -> int | None:
    return JourneyVersion.objects.get(pk=world.extra["journey_draft"].pk).cap_messages


def _journeys_api_writes() -> list[Write]:
    """Journeys through the API: marketers write and submit drafts; approvers (never the
    author) approve, reject, publish and pause; everyone else gets a 403."""
    w, version = Write, "/api/v1/journeys/versions/{%s.pk}/%s/"
    return [
        w(
            "start journey draft (API)",
            "/api/v1/journeys/{live_journey.pk}/draft/",
            api(AUTHORS),
            count(JourneyVersion),
            changes=AUTHORS,
            as_json=True,
        ),
        w(
            "replace draft steps (API)",
            version % ("journey_draft", "steps"),
            api(AUTHORS),
            _journey_steps,
            changes=AUTHORS,
            data={"steps": [{"key": "done", "kind": "exit"}, {"key": "bye", "kind": "exit"}]},
            method="put",
            as_json=True,
        ),
        w(
            "change draft settings (API)",
            version % ("journey_draft", "settings"),
            api(AUTHORS),
            _journey_draft_cap,
            changes=AUTHORS,
            data={"cap_messages": 3},
            method="patch",
            as_json=True,
        ),
        w(
            "submit journey version (API)",
            version % ("journey_draft", "submit"),
            api(AUTHORS),
            _status_of("journey_draft", JourneyVersion),
            changes=AUTHORS,
            as_json=True,
        ),
        w(
            "approve journey version (API)",
            version % ("journey_submitted", "approve"),
            api(REVIEWERS),
            _status_of("journey_submitted", JourneyVersion),
            changes=REVIEWERS,
            as_json=True,
        ),
        w(
            "reject journey version (API)",
            version % ("journey_submitted", "reject"),
            api(REVIEWERS),
            _status_of("journey_submitted", JourneyVersion),
            changes=REVIEWERS,
            data={"comment": "Not this week."},
            as_json=True,
        ),
        w(
            "publish journey version (API)",
            version % ("journey_approved", "publish"),
            api(REVIEWERS),
            _status_of("journey_approved", JourneyVersion),
            changes=REVIEWERS,
            as_json=True,
        ),
        w(
            "pause journey (API)",
            "/api/v1/journeys/{live_journey.pk}/pause/",
            api(REVIEWERS),
            _status_of("live_journey", Journey),
            changes=REVIEWERS,
            as_json=True,
        ),
    ]


def _journeys_admin_writes() -> list[Write]:
    """The journey Versions page's buttons: the same rules as the API. Every staff POST comes
    back to the Versions page (a refusal is a message there); the state tells them apart."""
    action = "/admin/journeys/journey/{%s.journey_id}/versions/{%s.pk}/%s/"
    page = "/admin/journeys/journey/{%s.journey_id}/versions/"

    def button(name: str, version: str, verb: str, changes: frozenset[str], **kwargs) -> Write:
        return Write(
            name,
            action % (version, version, verb),
            admin_page(ALL_STAFF, redirect(page % version)),
            _status_of(version, JourneyVersion),
            changes=changes,
            **kwargs,
        )

    return [
        button("submit journey version", "journey_draft", "submit", AUTHORS),
        button("approve journey version", "journey_submitted", "approve", REVIEWERS),
        button(
            "reject journey version",
            "journey_submitted",
            "reject",
            REVIEWERS,
            data={"reason": "Not this week."},
        ),
        button("publish journey version", "journey_approved", "publish", REVIEWERS),
    ]


# --- Public endpoints ----------------------------------------------------------------------

TEXT_IN = {
    "MessageSid": "SM" + "7" * 32,
    "From": "+14155550001",
    "To": "+13125550000",
    "Body": "STOP",
}
STATUS = {"MessageSid": "SM" + "8" * 32, "MessageStatus": "failed"}
FORGED = {"HTTP_X_TWILIO_SIGNATURE": "forged"}
ALL = frozenset(IDENTITIES)


def _message(world: World) -> dict:
    return OutboundMessage.objects.filter(pk=world.extra["message"].pk).values().get()


def _opt_outs(world: World) -> tuple[int, int]:
    return ConsentRecord.objects.count(), Suppression.objects.count()


def _public_writes() -> list[Write]:
    w = Write
    inbound, status = "/webhooks/twilio/inbound/", "/webhooks/twilio/status/"
    return [
        # Twilio's webhooks: 403 with no side effect unless Twilio signed the request.
        w("unsigned inbound text", inbound, everyone(DENIED), count(InboundMessage), data=TEXT_IN),
        w(
            "forged inbound text",
            inbound,
            everyone(DENIED),
            count(InboundMessage),
            data=TEXT_IN,
            meta=FORGED,
        ),
        w("unsigned status", status, everyone(DENIED), _message, data=STATUS),
        w("forged status", status, everyone(DENIED), _message, data=STATUS, meta=FORGED),
        # A bad opt-in: field errors, and no consent recorded.
        w(
            "bad opt-in",
            "/optin/{optinform.slug}/",
            everyone(BAD_REQUEST),
            count(ConsentRecord),
            data={"phone": "12"},
            meta={"REMOTE_ADDR": "198.51.100.7"},
        ),
        # One-click unsubscribe: the signed link is the authority, whoever follows it.
        w("unsubscribe", "/unsubscribe/{unsubscribe_token}/", everyone(OK), _opt_outs, changes=ALL),
        w("forged unsubscribe", "/unsubscribe/forged/", everyone(NOT_FOUND), _opt_outs),
    ]


# --- /inbox/ -------------------------------------------------------------------------------

# Who sees each conversation, and who works it (Compliance reads, never answers).
_CONVERSATIONS = {
    "rita_conversation": (EAST | {R, C}, EAST | {R}),
    "bob_conversation": (EAST | {C}, EAST),
    "wes_conversation": (frozenset({C, AD}), ADMIN_ONLY),
}


# Each conversation is handed to a rep who does not have it yet.
_ASSIGN_TO = {
    "rita_conversation": "user:{bob.pk}",
    "bob_conversation": "user:{rita.pk}",
    "wes_conversation": "user:{wren.pk}",
}


def _inbox_writes() -> list[Write]:
    writes = []
    for name, (seen_by, works) in _CONVERSATIONS.items():
        conversation = row(name, Conversation)
        actions = [
            ("reply", count(OutboundMessage), works, works, {"body": "On my way.", "nonce": "m"}),
            ("note", count(ConversationNote), works, works, {"note": "Called back."}),
            ("close", conversation, works, works, {}),
            ("reopen", conversation, NOBODY, works, {}),  # not closed: nothing to reopen
            ("take", conversation, NOBODY, works, {}),  # someone has it: the taker is told who
            ("assign", conversation, works & EAST, works & EAST, {"to": _ASSIGN_TO[name]}),
        ]
        for action, state, changes, done_by, data in actions:
            done = redirect(f"/inbox/{{{name}.pk}}/")
            expect = _task_expect(seen_by=seen_by, done_by=done_by, done=done)
            url = f"/inbox/{{{name}.pk}}/{action}/"
            writes.append(Write(f"{action} {name}", url, expect, state, changes, data))
    # Nobody has the unknown number's conversation yet: whoever works it may take it.
    takers = EAST | {R}
    writes.append(
        Write(
            "take open_conversation",
            "/inbox/{open_conversation.pk}/take/",
            _task_expect(
                seen_by=takers | {C},
                done_by=takers,
                done=redirect("/inbox/{open_conversation.pk}/"),
            ),
            row("open_conversation", Conversation),
            changes=takers,
        )
    )
    return writes


WRITES = [
    *_model_writes(),
    *_admin_writes(),
    *_journeys_admin_writes(),
    *_tasks_writes(),
    *_inbox_writes(),
    *_api_writes(),
    *_public_writes(),
]
