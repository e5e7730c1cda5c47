"""The field and stage mappings a team starts with, so a first sync works out of the box.
Seeded by migration 0002 and editable in the admin like any other mapping; a mapping the
team already has (the same CRM field and Cue field) is never touched.

Salesforce's HasOptedOutOfEmail is an email opt-out: it says nothing about SMS, so it is
deliberately not mapped to SMS consent.
"""

_PERSON = "contact"

# (object type, CRM field, Cue field)
HUBSPOT_FIELDS = [
    (_PERSON, "firstname", "first_name"),
    (_PERSON, "lastname", "last_name"),
    (_PERSON, "email", "email"),
    (_PERSON, "phone", "phone"),
    (_PERSON, "state", "region"),
    (_PERSON, "country", "country"),
    (_PERSON, "hubspot_owner_id", "owner"),
    (_PERSON, "lifecyclestage", "lifecycle_stage"),
    ("company", "name", "name"),
    ("company", "domain", "domain"),
    ("company", "industry", "industry"),
    ("company", "numberofemployees", "employee_count"),
    ("company", "state", "region"),
    ("company", "country", "country"),
    ("deal", "dealname", "name"),
    ("deal", "amount", "amount"),
]


def _salesforce_person(object_type: str, state: str, country: str) -> list[tuple[str, str, str]]:
    return [
        (object_type, "FirstName", "first_name"),
        (object_type, "LastName", "last_name"),
        (object_type, "Email", "email"),
        (object_type, "MobilePhone", "phone"),
        (object_type, state, "region"),
        (object_type, country, "country"),
        (object_type, "OwnerId", "owner"),
    ]


SALESFORCE_FIELDS = [
    # A Lead's address is State/Country; a Contact's is its mailing address.
    *_salesforce_person("lead", "State", "Country"),
    *_salesforce_person("contact", "MailingState", "MailingCountry"),
    ("company", "Name", "name"),
    ("company", "Website", "domain"),
    ("company", "Industry", "industry"),
    ("company", "NumberOfEmployees", "employee_count"),
    ("company", "BillingState", "region"),
    ("company", "BillingCountry", "country"),
    ("deal", "Name", "name"),
    ("deal", "Amount", "amount"),
]

FIELDS = {"hubspot": HUBSPOT_FIELDS, "salesforce": SALESFORCE_FIELDS}

# HubSpot's default lifecycle stage values → Cue's default lifecycle keys
# (apps/contacts/stage_defaults.py).
HUBSPOT_LIFECYCLE = [
    ("subscriber", "subscriber"),
    ("lead", "lead"),
    ("marketingqualifiedlead", "mql"),
    ("salesqualifiedlead", "sql"),
    ("opportunity", "opportunity"),
    ("customer", "customer"),
]


def mappings_seed(apps=None, schema_editor=None) -> None:
    """Adds the default mappings that are missing. Safe to run again; a lifecycle value
    whose Cue stage the team has removed is left unmapped."""
    from django.apps import apps as global_apps

    apps = apps or global_apps
    field_mapping = apps.get_model("crm", "FieldMapping")
    for system, rows in FIELDS.items():
        for object_type, crm_field, cue_field in rows:
            field_mapping.objects.get_or_create(
                system=system, object_type=object_type, crm_field=crm_field, cue_field=cue_field
            )
    _lifecycle_seed(apps)


def _lifecycle_seed(apps) -> None:
    stage_mapping = apps.get_model("crm", "StageMapping")
    definitions = apps.get_model("contacts", "LifecycleStageDefinition")
    stages = definitions.objects.in_bulk([cue for _, cue in HUBSPOT_LIFECYCLE], field_name="key")
    for crm_stage, cue_key in HUBSPOT_LIFECYCLE:
        if cue_key in stages:
            stage_mapping.objects.get_or_create(
                system="hubspot",
                kind="lifecycle",
                crm_pipeline="",
                crm_stage=crm_stage,
                defaults={"lifecycle_stage": stages[cue_key]},
            )
