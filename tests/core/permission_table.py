"""What each role may open, written from DESIGN.md's "Who uses it" table, not from
apps/accounts/roles.py: the tests compare the two.

- Marketer: writes templates and journeys as drafts, submits them, reads reports; may not
  approve anything.
- Approver: approves or rejects template versions, activates and pauses journeys; may not
  approve a version they wrote.
- Compliance: reads everything, audit history, consent proofs and exports; can be required
  as a second approver; may not change any content.
- Sales rep: sees and works their own follow-up tasks and those contacts' timelines; may
  not see other reps' tasks, templates, journeys.
- Sales manager: sees the team's tasks, SLA breaches, reassigns; may not edit content.
- Admin: everything.

Reps and managers work on /tasks/, not in the admin (they are not staff), so every admin
page sends them, like an anonymous visitor, to the admin's sign-in page. Every URL the
resolver knows has a sample in SAMPLES; a new page fails
test_it_has_an_expectation_for_every_url_the_project_serves until it gets one."""

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth.views import redirect_to_login

from apps.accounts import roles
from tests.core.permission_urls import (
    ModelPage,
    admin_app_labels,
    all_routes,
    autocomplete_urls,
    content_type_url,
    model_page_url,
    model_pages,
)
from tests.core.permission_world import ANONYMOUS, IDENTITIES, World

M, AP, C = roles.MARKETER, roles.APPROVER, roles.COMPLIANCE
R, SM, AD = roles.SALES_REP, roles.SALES_MANAGER, roles.ADMIN
STAFF = (M, AP, C, AD)
NOT_STAFF = (R, SM, ANONYMOUS)
ALL_STAFF = frozenset(STAFF)
EVERY_ROLE = frozenset(roles.ROLES)

# Who, by DESIGN.md.
NOBODY: frozenset[str] = frozenset()
ADMIN_ONLY = frozenset({AD})
# Staff read the CRM, the content and the reports: the marketer reads reports and writes
# content for contacts, the approver reviews it, Compliance reads everything.
READERS = ALL_STAFF
# Audit history, consent proofs, people and roles, sales routing: Compliance's to read.
AUDITORS = frozenset({C, AD})
# Templates and journeys (with their segments, opt-in forms and imports) are written as
# drafts by marketers; approving and activating is not writing.
AUTHORS = frozenset({M, AD})


@dataclass(frozen=True)
class Access:
    """Who may open the list and the record, add, change and delete one, in the admin."""

    view: frozenset[str]
    add: frozenset[str] = ADMIN_ONLY
    change: frozenset[str] = ADMIN_ONLY
    delete: frozenset[str] = ADMIN_ONLY


RECORD = Access(READERS, NOBODY, NOBODY, NOBODY)  # written by Cue itself, read-only to all
AUDIT_RECORD = Access(AUDITORS, NOBODY, NOBODY, NOBODY)
READ_BY_STAFF = Access(READERS)  # CRM rows and send settings: staff read, an admin writes
PEOPLE = Access(AUDITORS)  # users, teams, roles, routing: Compliance reads, Admin writes
DRAFTS = Access(READERS, AUTHORS, AUTHORS, ADMIN_ONLY)
PLATFORM = Access(ADMIN_ONLY)  # credentials: an admin's alone
SCHEDULES = Access(AUDITORS)  # the scheduler: Compliance reads, an admin changes

MODELS: dict[str, Access] = {
    "auth.group": PEOPLE,
    # Sign-in attempts and lockouts (django-axes), written by Cue: Compliance reads who
    # signed in and who failed; the lockout counters are an admin's, who unlocks a user by
    # deleting their attempt row.
    "axes.accessattempt": Access(ADMIN_ONLY, NOBODY, ADMIN_ONLY, ADMIN_ONLY),
    "axes.accesslog": Access(AUDITORS, NOBODY, ADMIN_ONLY, ADMIN_ONLY),
    "axes.accessfailurelog": Access(AUDITORS, NOBODY, ADMIN_ONLY, ADMIN_ONLY),
    # Second factors: an admin resets a lost one (deletes it); no one reads a secret.
    "otp_totp.totpdevice": PLATFORM,
    "otp_static.staticdevice": PLATFORM,
    # An API token's key is a password: whoever reads it writes as its user.
    "authtoken.tokenproxy": PLATFORM,
    # Beat schedules are declared in code (DESIGN.md); the admin is only a window on them,
    # which Compliance, reading everything, looks through too.
    "django_celery_beat.periodictask": SCHEDULES,
    "django_celery_beat.clockedschedule": SCHEDULES,
    "django_celery_beat.crontabschedule": SCHEDULES,
    "django_celery_beat.solarschedule": SCHEDULES,
    "django_celery_beat.intervalschedule": SCHEDULES,
    "accounts.user": PEOPLE,
    "accounts.team": PEOPLE,
    # The brand lint demands and keyword replies carry: one row (never added again nor
    # deleted), an admin's to change; its programs too. Compliance reads them.
    "accounts.brand": Access(AUDITORS, NOBODY, ADMIN_ONLY, NOBODY),
    "accounts.program": PEOPLE,
    "contacts.contact": READ_BY_STAFF,
    "contacts.company": READ_BY_STAFF,
    "contacts.opportunity": READ_BY_STAFF,
    "contacts.event": RECORD,
    "contacts.eventhandlerfailure": RECORD,  # the hand-off's failures: Cue writes them
    "contacts.eventweight": READ_BY_STAFF,
    # Custom attribute definitions: configuration an admin keeps, read by staff.
    "contacts.attributedefinition": READ_BY_STAFF,
    # The customer's stages: configuration an admin keeps, read by staff (DESIGN.md: Admin).
    "contacts.lifecyclestagedefinition": READ_BY_STAFF,
    "contacts.pipeline": READ_BY_STAFF,
    "contacts.pipelinestage": READ_BY_STAFF,
    "contacts.segment": DRAFTS,
    "contacts.contactimport": Access(READERS, AUTHORS, NOBODY, ADMIN_ONLY),
    # Opportunities are CRM rows an admin writes (staff read them): so is importing them.
    "contacts.opportunityimport": Access(READERS, ADMIN_ONLY, NOBODY, ADMIN_ONLY),
    # Who exported or erased whose data: audit records, Compliance's to read.
    "contacts.datasubjectrequest": AUDIT_RECORD,
    # A write key is a credential an admin makes and revokes (never deletes: its rejections
    # stay with it); Compliance sees which exist. The key itself is shown once, to no role.
    "segment_intake.segmentwritekey": Access(AUDITORS, ADMIN_ONLY, ADMIN_ONLY, NOBODY),
    "segment_intake.segmentrejection": RECORD,
    "consent.consentrecord": RECORD,
    # Refused consent changes are evidence like the ledger: written by Cue, read by staff.
    "consent.consentattempt": RECORD,
    "consent.consentstate": RECORD,
    "consent.suppression": READ_BY_STAFF,
    "consent.preference": READ_BY_STAFF,
    "consent.optinform": DRAFTS,
    "consent.consentdisclosure": Access(READERS, ADMIN_ONLY, NOBODY, NOBODY),
    "library.messagetemplate": DRAFTS,
    "library.templateversion": RECORD,
    "library.templateapproval": RECORD,
    "sends.frequencycap": READ_BY_STAFF,
    "sends.keywordrule": READ_BY_STAFF,
    "sends.sender": READ_BY_STAFF,
    "sends.senderpool": READ_BY_STAFF,
    "sends.trackedlink": RECORD,
    "sends.linkclick": RECORD,
    "sends.outboundmessage": RECORD,
    "sends.inboundmessage": RECORD,
    "routing.routingrule": PEOPLE,
    "routing.intentphrase": PEOPLE,
    "routing.followuptask": AUDIT_RECORD,  # reps and managers see theirs on /tasks/
    "routing.webhookendpoint": PEOPLE,
    "routing.webhookdelivery": AUDIT_RECORD,
    # Conversations are worked on /inbox/; the admin shows them to Compliance, read-only.
    "inbox.conversation": AUDIT_RECORD,
    # Saved replies and each team's response time: set by an admin, like routing.
    "inbox.savedreply": PEOPLE,
    "inbox.inboxpolicy": PEOPLE,
    "journeys.journey": DRAFTS,
    "journeys.enrollment": RECORD,
    "journeys.activity": RECORD,
    "reporting.auditreport": AUDIT_RECORD,
    "reporting.audittrail": AUDIT_RECORD,
    "reporting.retentionrun": AUDIT_RECORD,
    "reporting.dailyrollup": RECORD,
    "reporting.attribution": RECORD,
    "reporting.fatiguebreach": RECORD,
    # A CRM connection is Cue's own row (its sync lease and times): staff read its page;
    # syncing now and retrying are buttons of their own (below), an admin's.
    "crm.connection": RECORD,
    # Mappings are configuration an admin keeps, read by staff.
    "crm.fieldmapping": READ_BY_STAFF,
    "crm.stagemapping": READ_BY_STAFF,
    "reporting.attributionsettings": Access(READERS, NOBODY, ADMIN_ONLY, NOBODY),
    "reporting.fatiguesettings": Access(READERS, NOBODY, ADMIN_ONLY, NOBODY),
}


# --- Outcomes ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """An exact answer: the status, and for a redirect where it goes ("login" is the admin
    sign-in page with ?next= back to the address asked for)."""

    status: int
    to: str | Callable[[World], str] | None = None  # a "{name.attr}" template, or computed

    def location(self, world: World, asked: str) -> str | None:
        if self.to == "login":
            return redirect_to_login(asked, "/admin/login/")["Location"]
        return self.to(world) if callable(self.to) else world.fill(self.to)


OK = Outcome(200)
DENIED = Outcome(403)
NOT_FOUND = Outcome(404)
NOT_ALLOWED = Outcome(405)  # the address takes POST only; the method is refused first
UNAUTHORIZED = Outcome(401)
LOGIN = Outcome(302, "login")
Outcomes = dict[str, Outcome]


def redirect(to: str | Callable[[World], str]) -> Outcome:
    return Outcome(302, to)


def admin_page(allowed: frozenset[str], ok: Outcome = OK) -> Outcomes:
    """Inside the admin: staff in `allowed` get `ok`, other staff 403, reps, managers and
    visitors the sign-in page."""
    staff = {role: ok if role in allowed else DENIED for role in STAFF}
    return {**staff, **dict.fromkeys(NOT_STAFF, LOGIN)}


def signed_in_page(allowed: frozenset[str], ok: Outcome = OK) -> Outcomes:
    """Checked on its own (consent proofs, reporting exports): any role without the right
    gets 403, staff or not; a visitor the sign-in page."""
    return {**{role: ok if role in allowed else DENIED for role in roles.ROLES}, ANONYMOUS: LOGIN}


def api(allowed: frozenset[str], ok: Outcome = OK) -> Outcomes:
    return {
        **{role: ok if role in allowed else DENIED for role in roles.ROLES},
        ANONYMOUS: UNAUTHORIZED,
    }


def everyone(outcome: Outcome) -> Outcomes:
    return dict.fromkeys(IDENTITIES, outcome)


# --- Samples: one real address of a route, and what each identity gets there -----------


@dataclass(frozen=True)
class Sample:
    route: str
    url: str | Callable[[World], str]  # "{name.attr}" is filled from the world's rows
    expect: Outcomes
    label: str = ""

    @property
    def id(self) -> str:
        return f"{self.route} [{self.label}]" if self.label else self.route

    def address(self, world: World) -> str:
        return self.url(world) if callable(self.url) else world.fill(self.url)


def _model_samples() -> list[Sample]:
    samples = []
    for route, page in model_pages().items():
        access = MODELS.get(page.label)
        if access is None:
            continue  # test_it_has_an_access_row_for_every_model_in_the_admin says so
        if page.page == "redirect":  # "<id>/" leads to "<id>/change/"
            expect = admin_page(ALL_STAFF, redirect(_url_of(ModelPage(page.label, "change"))))
        else:
            expect = admin_page(
                {"add": access.add, "delete": access.delete}.get(page.page, access.view)
            )
        samples.append(Sample(route, _url_of(page), expect))
    return samples


def _url_of(page: ModelPage) -> Callable[[World], str]:
    return lambda world: model_page_url(page, world.objects[page.label])


def _app_list_samples() -> list[Sample]:
    """An app's index lists the models the user may view; with none, there is no page."""
    route = next(route for route, found in all_routes().items() if found.name == "admin:app_list")
    samples = []
    for app_label in admin_app_labels():
        viewers = set().union(
            *(a.view for label, a in MODELS.items() if label.startswith(f"{app_label}."))
        )
        expect = {**admin_page(ALL_STAFF), **{r: NOT_FOUND for r in STAFF if r not in viewers}}
        samples.append(Sample(route, f"/admin/{app_label}/", expect, app_label))
    return samples


# The related models the admin's autocomplete fields search: whoever may view them.
AUTOCOMPLETE_TARGETS = {"contacts.contact.company": "contacts.company"}


def _autocomplete_samples() -> list[Sample]:
    return [
        Sample(
            "admin/autocomplete/",
            f"/admin/autocomplete/?{query}",
            admin_page(MODELS[AUTOCOMPLETE_TARGETS[label]].view),
            label,
        )
        for label, query in autocomplete_urls()
    ]


# Staff POST these; a GET is refused for its method before anything else.
POST_ONLY = admin_page(ALL_STAFF, NOT_ALLOWED)
VERSIONS = "admin/library/messagetemplate/<path:object_id>/versions/"
PROOF = "admin/consent/consentrecord/proof/<int:contact_id>"
IMPORT = "admin/contacts/contactimport/<int:import_id>/"
OPPORTUNITY_IMPORT = "admin/contacts/opportunityimport/<int:import_id>/"
JOURNEY = "admin/journeys/journey/"
CONVERSATION = "admin/sends/outboundmessage/conversation/"
CRM = "admin/crm/connection/<slug:system>/"


def _custom_admin_samples() -> list[Sample]:
    s = Sample
    return [
        s("admin/", "/admin/", admin_page(ALL_STAFF)),
        # POST only; to anyone not signed in to the admin, its index (which asks them to).
        s(
            "admin/logout/",
            "/admin/logout/",
            {**POST_ONLY, **dict.fromkeys(NOT_STAFF, redirect("/admin/"))},
        ),
        s("admin/password_change/", "/admin/password_change/", admin_page(ALL_STAFF)),
        s("admin/password_change/done/", "/admin/password_change/done/", admin_page(ALL_STAFF)),
        *_autocomplete_samples(),
        s("admin/jsi18n/", "/admin/jsi18n/", admin_page(ALL_STAFF)),
        # A second factor's secret (its QR code, its otpauth URL) is shown to no one but its
        # owner, while setting it up (OTP_ADMIN_HIDE_SENSITIVE_DATA).
        *(
            s(
                f"admin/otp_totp/totpdevice/<int:pk>/{view}/",
                f"/admin/otp_totp/totpdevice/{{totpdevice.pk}}/{view}/",
                admin_page(NOBODY),
            )
            for view in ("config", "qrcode")
        ),
        # No model has a page on the site: "view on site" finds nothing, for anyone.
        s(
            "admin/r/<path:content_type_id>/<path:object_id>/",
            lambda world: content_type_url(world.extra["contact"]),
            admin_page(ALL_STAFF, NOT_FOUND),
        ),
        *_app_list_samples(),
        s("admin/(?P<url>.*)$", "/admin/no/such/page/", admin_page(ALL_STAFF, NOT_FOUND)),
        # Staff prove their own phone, and send themselves a test of a version they may read.
        s(
            "admin/sends/outboundmessage/verify-phone/",
            "/admin/sends/outboundmessage/verify-phone/",
            admin_page(ALL_STAFF),
        ),
        s(
            "admin/sends/outboundmessage/test-send/<int:version_id>/",
            "/admin/sends/outboundmessage/test-send/{approved.pk}/",
            admin_page(READERS, NOT_ALLOWED),
        ),
        s(
            "admin/accounts/user/<id>/password/",
            "/admin/accounts/user/{user.pk}/password/",
            admin_page(MODELS["accounts.user"].change),
        ),
        # The segment editor's live preview: POST only, said before anything else.
        s(
            "admin/contacts/segment/preview/",
            "/admin/contacts/segment/preview/",
            everyone(NOT_ALLOWED),
        ),
        # The segment builder's catalogue of fields: whoever may read segments, as JSON.
        s(
            "admin/contacts/segment/catalogue/",
            "/admin/contacts/segment/catalogue/",
            {**dict.fromkeys(READERS, OK), **dict.fromkeys(NOT_STAFF, DENIED)},
        ),
        # Mapping columns is part of adding an import; a finished one shows its report instead.
        s(
            f"{IMPORT}mapping/",
            "/admin/contacts/contactimport/{contactimport.pk}/mapping/",
            admin_page(
                AUTHORS, redirect("/admin/contacts/contactimport/{contactimport.pk}/change/")
            ),
        ),
        s(
            f"{IMPORT}status/",
            "/admin/contacts/contactimport/{contactimport.pk}/status/",
            admin_page(READERS),
        ),
        s(
            f"{IMPORT}rejected.csv",
            "/admin/contacts/contactimport/{contactimport.pk}/rejected.csv",
            admin_page(READERS),
        ),
        # The opportunity import: the same pages, but only an admin adds one.
        s(
            f"{OPPORTUNITY_IMPORT}mapping/",
            "/admin/contacts/opportunityimport/{opportunityimport.pk}/mapping/",
            admin_page(
                ADMIN_ONLY,
                redirect("/admin/contacts/opportunityimport/{opportunityimport.pk}/change/"),
            ),
        ),
        s(
            f"{OPPORTUNITY_IMPORT}status/",
            "/admin/contacts/opportunityimport/{opportunityimport.pk}/status/",
            admin_page(READERS),
        ),
        s(
            f"{OPPORTUNITY_IMPORT}rejected.csv",
            "/admin/contacts/opportunityimport/{opportunityimport.pk}/rejected.csv",
            admin_page(READERS),
        ),
        # Erasing a person's data (GDPR Art. 17) is Compliance's and Admin's; the page is the
        # preview and confirmation, the POST erases (permission_writes.py).
        s(
            "admin/contacts/contact/<path:object_id>/erase/",
            "/admin/contacts/contact/{contact.pk}/erase/",
            admin_page(AUDITORS),
        ),
        # Merging two contacts changes one and deletes the other: an admin's alone.
        s(
            "admin/contacts/contact/merge/",
            "/admin/contacts/contact/merge/?survivor={contact.pk}&duplicate={rita_contact.pk}",
            admin_page(ADMIN_ONLY),
        ),
        # Consent proofs are Compliance's (and Admin's): 403 for everyone else, staff or not.
        *(
            s(
                f"{PROOF}{ext}",
                f"/admin/consent/consentrecord/proof/{{contact.pk}}{ext}",
                signed_in_page(AUDITORS),
            )
            for ext in ("/", ".json", ".csv")
        ),
        s(VERSIONS, "/admin/library/messagetemplate/{template.pk}/versions/", admin_page(READERS)),
        s(
            f"{VERSIONS}<int:version_id>/<slug:action>/",
            "/admin/library/messagetemplate/{submitted.template_id}/versions/{submitted.pk}/approve/",
            POST_ONLY,
        ),
        s(
            f"{CONVERSATION}<int:contact_id>/",
            "/admin/sends/outboundmessage/conversation/{contact.pk}/",
            admin_page(READERS),
        ),
        s(
            f"{CONVERSATION}number/<str:phone>/",
            "/admin/sends/outboundmessage/conversation/number/{contact.phone}/",
            admin_page(READERS),
        ),
        s(
            "admin/routing/routingrule/dry-run/",
            "/admin/routing/routingrule/dry-run/",
            admin_page(MODELS["routing.routingrule"].view),
        ),
        s(f"{JOURNEY}blueprints/", "/admin/journeys/journey/blueprints/", admin_page(READERS)),
        s(
            f"{JOURNEY}blueprints/<slug:slug>/load/",
            "/admin/journeys/journey/blueprints/webinar-reminder/load/",
            POST_ONLY,
        ),
        s(
            f"{JOURNEY}<path:object_id>/activate/",
            "/admin/journeys/journey/{journey.pk}/activate/",
            POST_ONLY,
        ),
        s(
            f"{JOURNEY}<path:object_id>/pause/",
            "/admin/journeys/journey/{live_journey.pk}/pause/",
            POST_ONLY,
        ),
        # The builder's diagram of its unsaved form: a POST that reads only (GET is a 405).
        s(f"{JOURNEY}diagram/", "/admin/journeys/journey/diagram/", POST_ONLY),
        s(
            f"{JOURNEY}<path:object_id>/diagram/",
            "/admin/journeys/journey/{journey.pk}/diagram/",
            POST_ONLY,
        ),
        s(
            f"{JOURNEY}<path:object_id>/simulate/",
            "/admin/journeys/journey/{journey.pk}/simulate/",
            admin_page(READERS),
        ),
        # A journey's versions: staff read them; the review buttons are POSTs (who may press
        # them: permission_writes.py).
        s(
            f"{JOURNEY}<path:object_id>/versions/",
            "/admin/journeys/journey/{live_journey.pk}/versions/",
            admin_page(READERS),
        ),
        *(
            s(
                f"{JOURNEY}<path:object_id>/versions/<int:version_id>/{action}/",
                "/admin/journeys/journey/{journey_submitted.journey_id}/versions/"
                f"{{journey_submitted.pk}}/{action}/",
                POST_ONLY,
            )
            for action in ("submit", "approve", "reject", "publish")
        ),
        # A CRM connection's buttons are an admin's POSTs; the dry run tries the mappings, so
        # it is whoever edits them (an admin).
        s(f"{CRM}sync/", "/admin/crm/connection/hubspot/sync/", POST_ONLY),
        s(f"{CRM}retry/", "/admin/crm/connection/hubspot/retry/", POST_ONLY),
        s(f"{CRM}dry-run/", "/admin/crm/connection/hubspot/dry-run/", admin_page(ADMIN_ONLY)),
        s(
            f"{CRM}field-suggestions/",
            "/admin/crm/connection/hubspot/field-suggestions/",
            admin_page(ADMIN_ONLY),  # like the dry run: whoever edits the mappings
        ),
        s("admin/crm/stagemapping/suggest/", "/admin/crm/stagemapping/suggest/", POST_ONLY),
        # Running an audit is Compliance's (a POST); the exports follow who reads what.
        s(
            "admin/reporting/auditreport/run/",
            "/admin/reporting/auditreport/run/",
            signed_in_page(AUDITORS, NOT_ALLOWED),
        ),
        s(
            "admin/reporting/audittrail/export.csv",
            "/admin/reporting/audittrail/export.csv",
            signed_in_page(AUDITORS),
        ),
        # Sign-ins, apart from the trail's changes: who reads the axes logs.
        s(
            "admin/reporting/audittrail/sign-ins/",
            "/admin/reporting/audittrail/sign-ins/",
            signed_in_page(AUDITORS),
        ),
        s(
            "admin/reporting/dailyrollup/export.csv",
            "/admin/reporting/dailyrollup/export.csv",
            signed_in_page(READERS),
        ),
        s(
            "admin/reporting/attribution/export.csv",
            "/admin/reporting/attribution/export.csv",
            signed_in_page(READERS),
        ),
        # Refreshing the figures now is marketing's (a POST); following a refresh is any
        # reader's (this one does not exist).
        s(
            "admin/reporting/dailyrollup/refresh/",
            "/admin/reporting/dailyrollup/refresh/",
            signed_in_page(AUTHORS, NOT_ALLOWED),
        ),
        s(
            "admin/reporting/dailyrollup/refresh/<int:refresh_id>/",
            "/admin/reporting/dailyrollup/refresh/999999/",
            signed_in_page(READERS, NOT_FOUND),
        ),
        # Recomputing follows a change of the attribution settings, which only an admin makes.
        s(
            "admin/reporting/attribution/recompute/",
            "/admin/reporting/attribution/recompute/",
            signed_in_page(MODELS["reporting.attributionsettings"].change),
        ),
    ]


def _api_samples() -> list[Sample]:
    s = Sample
    # Staff read the CRM; reps and managers read contacts too, a rep only the ones they own.
    contacts = api(READERS | {R, SM})
    return [
        s("api/v1/me/", "/api/v1/me/", api(EVERY_ROLE)),
        # The caller's own API token: POST only, for anyone signed in (tests/accounts).
        *(
            s(f"api/v1/me/token/{verb}/", f"/api/v1/me/token/{verb}/", api(EVERY_ROLE, NOT_ALLOWED))
            for verb in ("rotate", "revoke")
        ),
        # POST only: who may read events learns that; the rest are refused first.
        s("api/v1/events/", "/api/v1/events/", api(READERS, NOT_ALLOWED)),
        s("api/v1/contacts/", "/api/v1/contacts/", contacts),
        # A look-up by phone or email: POST only (no personal data in URLs), for who reads.
        s(
            "api/v1/contacts/search/",
            "/api/v1/contacts/search/",
            api(READERS | {R, SM}, NOT_ALLOWED),
        ),
        s(
            "api/v1/contacts/<int:pk>/",
            "/api/v1/contacts/{contact.pk}/",
            {**contacts, R: NOT_FOUND, SM: NOT_FOUND},  # a manager: their teams' contacts
            "nobody's contact",
        ),
        s(
            "api/v1/contacts/<int:pk>/",
            "/api/v1/contacts/{rita_contact.pk}/",
            contacts,
            "the rep's",
        ),
        s(
            "api/v1/contacts/<int:pk>/",
            "/api/v1/contacts/{bob_contact.pk}/",
            {**contacts, R: NOT_FOUND},
            "another rep's",
        ),
        # Data-subject requests: Compliance and Admin only, never a rep who sees the contact.
        s(
            "api/v1/contacts/<int:pk>/export/",
            "/api/v1/contacts/{rita_contact.pk}/export/",
            api(AUDITORS),
        ),
        s(
            "api/v1/contacts/<int:pk>/erase/",
            "/api/v1/contacts/{rita_contact.pk}/erase/",
            api(AUDITORS, NOT_ALLOWED),
        ),
        s("api/v1/opportunities/", "/api/v1/opportunities/", api(READERS)),
        s(
            "api/v1/contacts/<int:contact_id>/consent/",
            "/api/v1/contacts/{contact.pk}/consent/",
            api(READERS),
        ),
        s("api/v1/templates/preview/", "/api/v1/templates/preview/", api(READERS, NOT_ALLOWED)),
        # Segments and templates as the admin has them: staff read, the rest are POSTs whose
        # method is refused to readers (who they are for: permission_writes.py).
        s("api/v1/segments/", "/api/v1/segments/", api(READERS)),
        s("api/v1/segments/<int:pk>/", "/api/v1/segments/{segment.pk}/", api(READERS)),
        s("api/v1/segments/<int:pk>/count/", "/api/v1/segments/{segment.pk}/count/", api(READERS)),
        s(
            "api/v1/segments/<int:pk>/sample/",
            "/api/v1/segments/{segment.pk}/sample/",
            api(READERS),
        ),
        s("api/v1/segments/preview/", "/api/v1/segments/preview/", api(READERS, NOT_ALLOWED)),
        *_journeys_api_samples(),
        s("api/v1/templates/", "/api/v1/templates/", api(READERS)),
        s("api/v1/templates/<int:pk>/", "/api/v1/templates/{template.pk}/", api(READERS)),
        s(
            "api/v1/templates/<int:pk>/draft/",
            "/api/v1/templates/{template.pk}/draft/",
            api(READERS, NOT_ALLOWED),
        ),
        *(
            s(
                f"api/v1/templates/versions/<int:pk>/{action}/",
                f"/api/v1/templates/versions/{{submitted.pk}}/{action}/",
                api(READERS, NOT_ALLOWED),
            )
            for action in ("submit", "approve", "reject")
        ),
    ]


def _journeys_api_samples() -> list[Sample]:
    """Journeys and their versions: staff read; writes are POSTs (PUT for steps) whose
    GET is a 405 (who may write: permission_writes.py). GET publish/ shows the move plan."""
    s, versions = Sample, "api/v1/journeys/versions/<int:pk>/"
    return [
        s("api/v1/journeys/", "/api/v1/journeys/", api(READERS)),
        s("api/v1/journeys/<int:pk>/", "/api/v1/journeys/{live_journey.pk}/", api(READERS)),
        *(
            s(
                f"api/v1/journeys/<int:pk>/{action}/",
                f"/api/v1/journeys/{{live_journey.pk}}/{action}/",
                api(READERS, NOT_ALLOWED),
            )
            for action in ("draft", "pause", "resume")
        ),
        s(versions, "/api/v1/journeys/versions/{journey_draft.pk}/", api(READERS)),
        *(
            s(
                f"{versions}{action}/",
                f"/api/v1/journeys/versions/{{journey_submitted.pk}}/{action}/",
                api(READERS, NOT_ALLOWED),
            )
            for action in ("steps", "settings", "submit", "approve", "reject")
        ),
        s(
            f"{versions}publish/",
            "/api/v1/journeys/versions/{journey_approved.pk}/publish/",
            api(READERS),
        ),
    ]


# /tasks/ is for reps and managers. Compliance reads every task (in the admin) and so may
# open the page, which is empty: it lists one's own and one's team's. Admin sees every task.
TASK_PAGE = {M: DENIED, AP: DENIED, C: OK, R: OK, SM: OK, AD: OK, ANONYMOUS: LOGIN}
# Another's task is a 404, never a 403 that would confirm it exists.
TASK = {**TASK_PAGE, C: NOT_FOUND}
TASK_ACTIONS = ("start", "take", "complete", "hand-back", "reassign", "reply")


def _tasks_samples() -> list[Sample]:
    s = Sample
    return [
        s("tasks/", "/tasks/", TASK_PAGE),
        s("tasks/<int:pk>/", "/tasks/{rita_task.pk}/", TASK, "the rep's own"),
        s("tasks/<int:pk>/", "/tasks/{bob_task.pk}/", {**TASK, R: NOT_FOUND}, "a teammate's"),
        s(
            "tasks/<int:pk>/",
            "/tasks/{wes_task.pk}/",
            {**TASK, R: NOT_FOUND, SM: NOT_FOUND},
            "another team's",
        ),
        # The team's queue: its reps see what waits there, to take it.
        s("tasks/<int:pk>/", "/tasks/{east_queue_task.pk}/", TASK, "in the rep's team queue"),
        s(
            "tasks/<int:pk>/",
            "/tasks/{west_queue_task.pk}/",
            {**TASK, R: NOT_FOUND, SM: NOT_FOUND},
            "in another team's queue",
        ),
        # Actions are POSTs (see permission_writes.py) and say so before anything else.
        *(
            s(
                f"tasks/<int:pk>/{action}/",
                f"/tasks/{{rita_task.pk}}/{action}/",
                everyone(NOT_ALLOWED),
            )
            for action in TASK_ACTIONS
        ),
        s("tasks/sign-out/", "/tasks/sign-out/", everyone(NOT_ALLOWED)),
    ]


# /inbox/ is for reps and managers, like /tasks/; Compliance reads every conversation there.
INBOX_PAGE = TASK_PAGE
INBOX_ACTIONS = ("reply", "take", "assign", "close", "reopen", "note")


def _inbox_samples() -> list[Sample]:
    s = Sample
    one = "inbox/<int:pk>/"
    return [
        s("inbox/", "/inbox/", INBOX_PAGE),
        s("inbox/counts/", "/inbox/counts/", INBOX_PAGE),
        s(one, "/inbox/{rita_conversation.pk}/", INBOX_PAGE, "the rep's own"),
        s(one, "/inbox/{bob_conversation.pk}/", {**INBOX_PAGE, R: NOT_FOUND}, "a teammate's"),
        s(
            one,
            "/inbox/{wes_conversation.pk}/",
            {**INBOX_PAGE, R: NOT_FOUND, SM: NOT_FOUND},
            "another team's",
        ),
        s(one, "/inbox/{open_conversation.pk}/", INBOX_PAGE, "nobody's yet"),
        *(
            s(
                f"inbox/<int:pk>/{action}/",
                f"/inbox/{{rita_conversation.pk}}/{action}/",
                everyone(NOT_ALLOWED),
            )
            for action in INBOX_ACTIONS
        ),
    ]


def _two_factor_samples() -> list[Sample]:
    """Everyone signed in manages their own second factor; Admin and Compliance have one (and
    proved it this session), the others have none to verify yet."""
    s, signed_in = Sample, signed_in_page(frozenset(roles.ROLES))
    without_one = redirect("/account/two-factor/setup/")
    return [
        s("account/two-factor/", "/account/two-factor/", signed_in),
        s("account/two-factor/setup/", "/account/two-factor/setup/", signed_in),
        s(
            "account/two-factor/verify/",
            "/account/two-factor/verify/",
            {**signed_in, **dict.fromkeys((M, AP, R, SM), without_one)},
        ),
        # POSTs only (tests/accounts/test_two_factor.py), refused before anything else.
        s(
            "account/two-factor/recovery-codes/",
            "/account/two-factor/recovery-codes/",
            everyone(NOT_ALLOWED),
        ),
        s("account/two-factor/remove/", "/account/two-factor/remove/", everyone(NOT_ALLOWED)),
    ]


def _public_samples() -> list[Sample]:
    s = Sample
    return [
        # The sign-in page: staff already signed in go on to the admin.
        s(
            "admin/login/",
            "/admin/login/",
            {**everyone(OK), **dict.fromkeys(STAFF, redirect("/admin/"))},
        ),
        # The schema and docs: signed-in users only (API_DOCS_PUBLIC opens them).
        s("api/schema/", "/api/schema/", {**everyone(OK), ANONYMOUS: UNAUTHORIZED}),
        s("api/docs/", "/api/docs/", {**everyone(OK), ANONYMOUS: LOGIN}),
        s("optin/<slug:slug>/", "/optin/{optinform.slug}/", everyone(OK)),
        s("optin/<slug:slug>/", "/optin/no-such-form/", everyone(NOT_FOUND), "unknown form"),
        s("optin/<slug:slug>/thanks/", "/optin/{optinform.slug}/thanks/", everyone(OK)),
        # Twilio's webhooks take signed POSTs only (see permission_writes.py).
        s("webhooks/twilio/status/", "/webhooks/twilio/status/", everyone(NOT_ALLOWED)),
        s("webhooks/twilio/inbound/", "/webhooks/twilio/inbound/", everyone(NOT_ALLOWED)),
        # HubSpot's change notifications: signed POSTs only (tests/crm/test_hubspot_webhook.py).
        s("webhooks/crm/hubspot/", "/webhooks/crm/hubspot/", everyone(NOT_ALLOWED)),
        # The ESPs' tracking webhooks: anymail's views take verified POSTs only
        # (tests/sends/test_email_esp.py).
        *(
            s(
                f"webhooks/email/{esp}/tracking/",
                f"/webhooks/email/{esp}/tracking/",
                everyone(NOT_ALLOWED),
            )
            for esp in ("postmark", "sendgrid")  # mailgun, amazon_ses: only when ANYMAIL_ESP
        ),
        # Their inbound webhooks (replies to Cue's emails), the same way
        # (tests/sends/test_email_replies.py).
        *(
            s(
                f"webhooks/email/{esp}/inbound/",
                f"/webhooks/email/{esp}/inbound/",
                everyone(NOT_ALLOWED),
            )
            for esp in ("postmark", "sendgrid")  # mailgun, amazon_ses: only when ANYMAIL_ESP
        ),
        s(
            "l/<str:token>",
            "/l/{trackedlink.token}",
            everyone(redirect("{trackedlink.destination}")),
        ),
        s("l/<str:token>", "/l/nosuchtoken", everyone(NOT_FOUND), "unknown token"),
        # A GET only asks to confirm (mail scanners follow links); the POST unsubscribes.
        s("unsubscribe/<str:token>/", "/unsubscribe/{unsubscribe_token}/", everyone(OK)),
        s("unsubscribe/<str:token>/", "/unsubscribe/forged/", everyone(NOT_FOUND), "forged token"),
        s("healthz", "/healthz", everyone(OK)),
        # Segment's Tracking API takes POSTs with a write key (test_segment_intake.py).
        *(
            s(f"segment/v1/{call}", f"/segment/v1/{call}", everyone(NOT_ALLOWED))
            for call in ("batch", "identify", "track", "page", "screen", "group", "alias")
        ),
    ]


ADMIN_SAMPLES = [*_model_samples(), *_custom_admin_samples()]
API_SAMPLES = _api_samples()
TASKS_SAMPLES = [*_tasks_samples(), *_inbox_samples()]
# The pages anyone may reach, signed in or not; each says how it refuses what it refuses.
PUBLIC_SAMPLES = _public_samples()
SAMPLES = [*ADMIN_SAMPLES, *API_SAMPLES, *TASKS_SAMPLES, *PUBLIC_SAMPLES, *_two_factor_samples()]
