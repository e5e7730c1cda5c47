"""The six roles of Cue, as Django groups, and the permissions each one holds.

Permissions are written as `app_label.codename` patterns (fnmatch); one starting with "!"
takes back what the others grant. A pattern that matches no permission yet is fine: its
models arrive with a later app, whose migration syncs roles again (see `RolesSync`).
"""

from fnmatch import fnmatchcase

from django.db import migrations

MARKETER = "Marketer"
APPROVER = "Approver"
COMPLIANCE = "Compliance"
SALES_REP = "Sales rep"
SALES_MANAGER = "Sales manager"
ADMIN = "Admin"

ROLES = (MARKETER, APPROVER, COMPLIANCE, SALES_REP, SALES_MANAGER, ADMIN)

# Roles that work in the admin; sales reps and managers work on /tasks/.
STAFF_ROLES = frozenset({MARKETER, APPROVER, COMPLIANCE, ADMIN})

CUE_APPS = (
    "core",
    "accounts",
    "contacts",
    "segment_intake",
    "consent",
    "library",
    "sends",
    "routing",
    "inbox",
    "journeys",
    "reporting",
    "crm",
)

# Staff read the CRM connections too (their runs, failed records and mappings); only an
# admin changes a mapping or starts a sync.
_READ_CRM = [
    "contacts.view_*",
    "consent.view_*",
    "segment_intake.view_segmentrejection",
    "crm.view_*",
]
_READ_CONTENT = ["library.view_*", "journeys.view_*", "reporting.view_*", "sends.view_*"]
# The audit trail, audit reports and retention runs are Compliance's (and Admin's) to read.
# So are data-subject requests (who exported or erased whose data).
_NOT_AUDIT = [
    "!reporting.view_audit*",
    "!reporting.view_retentionrun",
    "!contacts.view_datasubjectrequest",
]

# Reps and managers answer the texts in the inbox; Compliance reads every conversation.
_INBOX_WORK = ["inbox.view_conversation", "inbox.work_conversation", "inbox.view_savedreply"]
# Marketing, whose reports they are, may ask for fresh figures now instead of at the next
# beat (an approver adds nothing, Compliance changes nothing).
_REFRESH_REPORTS = ["reporting.add_rolluprefresh"]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    MARKETER: [
        *_READ_CRM,
        *_READ_CONTENT,
        *_NOT_AUDIT,
        *_REFRESH_REPORTS,
        "contacts.add_segment",
        "contacts.change_segment",
        "library.add_messagetemplate",
        "library.change_messagetemplate",
        "library.add_templateversion",
        "library.change_templateversion",
        "library.submit_templateversion",
        "journeys.add_*",
        "journeys.change_*",
        "journeys.delete_step",
        "consent.add_optinform",
        "consent.change_optinform",
        "contacts.add_contactimport",
    ],
    APPROVER: [
        *_READ_CRM,
        *_READ_CONTENT,
        *_NOT_AUDIT,
        "library.approve_templateversion",
        "journeys.activate_journey",
    ],
    # Not authtoken: a token's key is a password for the API, and whoever reads it can
    # write as its user; Compliance changes no content. The beat schedules are read too:
    # when audits, sweeps and retention run is part of what Compliance checks.
    COMPLIANCE: [f"{app}.view_*" for app in (*CUE_APPS, "auth", "django_celery_beat")]
    + ["library.approve_as_compliance", "consent.export_consent_proof", "reporting.run_audit"]
    # Data-subject requests: GDPR Art. 15/20 exports and Art. 17 erasures are Compliance's.
    + ["contacts.export_personal_data", "contacts.erase_personal_data"]
    # Who signed in, when, from where, and the failed attempts (django-axes' logs); the
    # lockout counters (access attempts) stay an admin's, who unlocks by deleting one.
    + ["axes.view_accesslog", "axes.view_accessfailurelog"],
    SALES_REP: [
        "routing.view_followuptask",
        "routing.work_followuptask",
        "contacts.view_contact",
        *_INBOX_WORK,
    ],
    SALES_MANAGER: [
        "routing.view_followuptask",
        "routing.work_followuptask",
        "routing.reassign_followuptask",
        "contacts.view_contact",
        *_INBOX_WORK,
        "inbox.assign_conversation",
        "accounts.view_team",
        "accounts.view_user",
    ],
    ADMIN: ["*"],
}


def permission_keys_for(role: str, available: list[str]) -> list[str]:
    """The `app_label.codename` keys among `available` that the role's patterns match."""
    grants = [p for p in ROLE_PERMISSIONS[role] if not p.startswith("!")]
    denials = [p[1:] for p in ROLE_PERMISSIONS[role] if p.startswith("!")]
    return [
        key
        for key in available
        if any(fnmatchcase(key, p) for p in grants)
        and not any(fnmatchcase(key, p) for p in denials)
    ]


def roles_sync(apps=None, schema_editor=None) -> None:
    """Creates the groups and sets each one's permissions exactly. Safe to run again."""
    from django.apps import apps as global_apps
    from django.contrib.auth.management import create_permissions

    apps = apps or global_apps
    for app_config in apps.get_app_configs():
        # Permissions are normally made after all migrations; make them now so that
        # groups can hold them in the same migrate run.
        models_module = getattr(app_config, "models_module", None)
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = models_module
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permissions = {
        f"{p.content_type.app_label}.{p.codename}": p
        for p in Permission.objects.select_related("content_type")
    }
    for role in ROLES:
        group, _ = Group.objects.get_or_create(name=role)
        keys = permission_keys_for(role, sorted(permissions))
        group.permissions.set([permissions[key] for key in keys])


def RolesSync() -> migrations.RunPython:
    """A migration operation that brings the role groups up to date with the models."""
    return migrations.RunPython(roles_sync, migrations.RunPython.noop, elidable=False)
