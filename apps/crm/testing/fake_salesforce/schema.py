"""The objects and fields the fake Salesforce knows, and their describe shape.

A small, faithful slice of a standard org: the fields Cue reads and writes, typed as
Salesforce types them, so that describe, query validation and write validation all
answer from one table. Tests may add custom fields (`FakeSalesforce.field_add`).
"""

from dataclasses import dataclass, field

# Salesforce's key prefixes: the first three characters of every record id.
KEY_PREFIXES = {
    "User": "005",
    "Account": "001",
    "Lead": "00Q",
    "Contact": "003",
    "Opportunity": "006",
    "OpportunityHistory": "008",
    "Task": "00T",
}

TEXT_TYPES = {"string", "email", "phone", "url", "textarea", "id", "reference", "picklist"}


@dataclass
class FieldSpec:
    """One field as describe shows it; `createable`/`updateable` gate writes."""

    name: str
    type: str
    label: str = ""
    length: int = 0
    nillable: bool = True
    createable: bool = True
    updateable: bool = True
    picklist: tuple[str, ...] = ()
    restricted: bool = False
    custom: bool = False
    external_id: bool = False  # may key an upsert (PATCH .../{field}/{value})

    def describe(self) -> dict:
        return {
            "name": self.name,
            "label": self.label or self.name,
            "type": self.type,
            "length": self.length,
            "nillable": self.nillable,
            "createable": self.createable,
            "updateable": self.updateable,
            "custom": self.custom,
            "externalId": self.external_id,
            "restrictedPicklist": self.restricted,
            "picklistValues": [
                {
                    "active": True,
                    "defaultValue": False,
                    "label": value,
                    "value": value,
                    "validFor": None,
                }
                for value in self.picklist
            ],
        }


def _system_fields(deletable: bool = True) -> list[FieldSpec]:
    fields = [
        FieldSpec("Id", "id", "Record ID", 18, False, False, False),
        FieldSpec("CreatedDate", "datetime", "Created Date", 0, False, False, False),
        FieldSpec("CreatedById", "reference", "Created By ID", 18, False, False, False),
        FieldSpec("LastModifiedDate", "datetime", "Last Modified Date", 0, False, False, False),
        FieldSpec("SystemModstamp", "datetime", "System Modstamp", 0, False, False, False),
    ]
    if deletable:
        fields.append(FieldSpec("IsDeleted", "boolean", "Deleted", 0, False, False, False))
    return fields


def _text(name: str, length: int = 80, label: str = "", **options) -> FieldSpec:
    return FieldSpec(name, "string", label or name, length, **options)


def _reference(name: str, label: str = "", **options) -> FieldSpec:
    return FieldSpec(name, "reference", label or name, 18, **options)


def _picklist(name: str, values: tuple[str, ...], **options) -> FieldSpec:
    return FieldSpec(name, "picklist", options.pop("label", name), 255, picklist=values, **options)


def _read_only(spec: FieldSpec) -> FieldSpec:
    spec.createable = False
    spec.updateable = False
    return spec


OPPORTUNITY_STAGES = (
    "Prospecting",
    "Qualification",
    "Needs Analysis",
    "Value Proposition",
    "Id. Decision Makers",
    "Perception Analysis",
    "Proposal/Price Quote",
    "Negotiation/Review",
    "Closed Won",
    "Closed Lost",
)
TASK_STATUSES = ("Not Started", "In Progress", "Completed", "Waiting on someone else", "Deferred")
TASK_CLOSED_STATUSES = ("Completed",)
LEAD_STATUSES = (
    "Open - Not Contacted",
    "Working - Contacted",
    "Closed - Converted",
    "Closed - Not Converted",
)


def _objects() -> dict[str, list[FieldSpec]]:
    return {
        "User": [
            *_system_fields(deletable=False),
            FieldSpec("Email", "email", "Email", 128, nillable=False),
            _text("FirstName", 40),
            _text("LastName", 80, nillable=False),
            _read_only(_text("Name", 121)),
            FieldSpec("IsActive", "boolean", "Active"),
        ],
        "Account": [
            *_system_fields(),
            _text("Name", 255, nillable=False),
            FieldSpec("Website", "url", "Website", 255),
            _picklist("Industry", ("Technology", "Finance", "Retail", "Other")),
            FieldSpec("NumberOfEmployees", "int", "Employees"),
            _text("BillingState", 80, "Billing State/Province"),
            _text("BillingCountry", 80, "Billing Country"),
            _reference("OwnerId", "Owner ID"),
        ],
        "Lead": [
            *_system_fields(),
            _text("FirstName", 40),
            _text("LastName", 80, nillable=False),
            FieldSpec("Email", "email", "Email", 80),
            FieldSpec("Phone", "phone", "Phone", 40),
            FieldSpec("MobilePhone", "phone", "Mobile Phone", 40),
            _text("Company", 255, nillable=False),
            _text("Title", 128),
            _text("State", 80, "State/Province"),
            _text("Country", 80, "Country"),
            _picklist("Status", LEAD_STATUSES),
            _picklist("LeadSource", ("Web", "Phone Inquiry", "Partner Referral", "Other")),
            _reference("OwnerId", "Owner ID"),
            FieldSpec("HasOptedOutOfEmail", "boolean", "Email Opt Out"),
            _read_only(FieldSpec("IsConverted", "boolean", "Converted", nillable=False)),
            _read_only(_reference("ConvertedContactId", "Converted Contact ID")),
            _read_only(_reference("ConvertedAccountId", "Converted Account ID")),
            _read_only(FieldSpec("ConvertedDate", "date", "Converted Date")),
        ],
        "Contact": [
            *_system_fields(),
            _text("FirstName", 40),
            _text("LastName", 80, nillable=False),
            FieldSpec("Email", "email", "Email", 80),
            FieldSpec("Phone", "phone", "Business Phone", 40),
            FieldSpec("MobilePhone", "phone", "Mobile Phone", 40),
            _text("Title", 128),
            _picklist("LeadSource", ("Web", "Phone Inquiry", "Partner Referral", "Other")),
            _text("MailingState", 80, "Mailing State/Province"),
            _text("MailingCountry", 80, "Mailing Country"),
            _reference("AccountId", "Account ID"),
            _reference("OwnerId", "Owner ID"),
            FieldSpec("HasOptedOutOfEmail", "boolean", "Email Opt Out"),
        ],
        "Opportunity": [
            *_system_fields(),
            _text("Name", 120, nillable=False),
            _reference("AccountId", "Account ID"),
            _reference("ContactId", "Contact ID"),
            _picklist("StageName", OPPORTUNITY_STAGES, label="Stage", nillable=False),
            FieldSpec("Amount", "currency", "Amount"),
            FieldSpec("Probability", "percent", "Probability (%)"),
            FieldSpec("CloseDate", "date", "Close Date", nillable=False),
            _read_only(FieldSpec("IsClosed", "boolean", "Closed")),
            _read_only(FieldSpec("IsWon", "boolean", "Won")),
            _reference("OwnerId", "Owner ID"),
        ],
        "OpportunityHistory": [
            *_system_fields(),
            _read_only(_reference("OpportunityId", "Opportunity ID")),
            _read_only(_picklist("StageName", OPPORTUNITY_STAGES, label="Stage")),
            _read_only(FieldSpec("Amount", "currency", "Amount")),
            _read_only(FieldSpec("CloseDate", "date", "Close Date")),
            _read_only(FieldSpec("Probability", "percent", "Probability (%)")),
        ],
        "Task": [
            *_system_fields(),
            _reference("WhoId", "Name ID"),
            _reference("WhatId", "Related To ID"),
            _reference("OwnerId", "Assigned To ID"),
            _text("Subject", 255),
            FieldSpec("Description", "textarea", "Description", 32000),
            FieldSpec("ActivityDate", "date", "Due Date Only"),
            _picklist("Priority", ("High", "Normal", "Low"), restricted=True),
            _picklist("Status", TASK_STATUSES, restricted=True),
            _picklist("Type", ("Call", "Email", "Meeting", "Other", "SMS")),
            _picklist("TaskSubtype", ("Task", "Email", "Call")),
            _read_only(FieldSpec("IsClosed", "boolean", "Closed")),
            _read_only(FieldSpec("CompletedDateTime", "datetime", "Completed Date/Time")),
        ],
    }


@dataclass
class ObjectSpec:
    """An sObject type: its fields by name, in describe order."""

    name: str
    fields: dict[str, FieldSpec] = field(default_factory=dict)

    @property
    def deletable(self) -> bool:
        return "IsDeleted" in self.fields

    def describe(self) -> dict:
        return {
            "name": self.name,
            "label": self.name,
            "keyPrefix": KEY_PREFIXES[self.name],
            "createable": True,
            "updateable": True,
            "queryable": True,
            "fields": [spec.describe() for spec in self.fields.values()],
        }


def schema_new() -> dict[str, ObjectSpec]:
    """A fresh schema, so custom fields one fake adds never leak into another."""
    return {
        name: ObjectSpec(name, {spec.name: spec for spec in specs})
        for name, specs in _objects().items()
    }
