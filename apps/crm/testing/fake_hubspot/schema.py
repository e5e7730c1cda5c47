"""The fake HubSpot's property definitions, and how it validates a write against them.

A write that names an unknown property, an option that does not exist, a number that
is not one or an owner that does not exist is refused as HubSpot refuses it: 400 with
category VALIDATION_ERROR and the per-property reasons in the message.
"""

import json
from dataclasses import dataclass

from .store import CREATED_PROPERTY, MODIFIED_PROPERTY, time_value_ms


@dataclass(frozen=True)
class PropertyDefinition:
    """A HubSpot property: `type` is string, number, bool, date, datetime, enumeration or
    phone_number; `field_type` how HubSpot's UI edits it (checkbox = multiple choice)."""

    name: str
    label: str
    type: str = "string"
    field_type: str = "text"
    options: tuple[str, ...] = ()
    read_only: bool = False

    def json(self, object_type: str) -> dict:
        return {
            "name": self.name,
            "label": self.label,
            "type": self.type,
            "fieldType": self.field_type,
            "description": "",
            "groupName": f"{object_type[:-1]}information",
            "options": [
                {"label": option, "value": option, "displayOrder": order, "hidden": False}
                for order, option in enumerate(self.options)
            ],
            "displayOrder": -1,
            "calculated": False,
            "externalOptions": False,
            "hasUniqueValue": self.name == "hs_object_id",
            "hidden": False,
            "formField": not self.read_only,
            "modificationMetadata": {
                "archivable": not self.read_only,
                "readOnlyDefinition": True,
                "readOnlyValue": self.read_only,
            },
            "createdAt": "2019-08-06T02:41:52.152Z",
            "updatedAt": "2019-08-06T02:41:52.152Z",
            "archived": False,
        }


def _text(name: str, label: str) -> PropertyDefinition:
    return PropertyDefinition(name, label)


def _choice(name: str, label: str, *options: str, multiple: bool = False) -> PropertyDefinition:
    return PropertyDefinition(
        name, label, "enumeration", "checkbox" if multiple else "select", options
    )


def _number(name: str, label: str) -> PropertyDefinition:
    return PropertyDefinition(name, label, "number", "number")


def _datetime(name: str, label: str, read_only: bool = False) -> PropertyDefinition:
    return PropertyDefinition(name, label, "datetime", "date", read_only=read_only)


LIFECYCLE_STAGES = (
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
    "evangelist",
    "other",
)
COMMON = (
    PropertyDefinition("hs_object_id", "Record ID", "number", "number", read_only=True),
    _text("hubspot_owner_id", "Owner"),
)
DEFAULT_DEFINITIONS: dict[str, tuple[PropertyDefinition, ...]] = {
    "contacts": (
        *COMMON,
        _text("email", "Email"),
        _text("firstname", "First Name"),
        _text("lastname", "Last Name"),
        PropertyDefinition("phone", "Phone Number", "string", "phonenumber"),
        PropertyDefinition("mobilephone", "Mobile Phone Number", "string", "phonenumber"),
        _text("company", "Company Name"),
        _text("jobtitle", "Job Title"),
        _text("state", "State/Region"),
        _text("country", "Country/Region"),
        _choice("lifecyclestage", "Lifecycle Stage", *LIFECYCLE_STAGES),
        _choice(
            "hs_buying_role",
            "Buying Role",
            "DECISION_MAKER",
            "BUDGET_HOLDER",
            "CHAMPION",
            "END_USER",
            "INFLUENCER",
            "OTHER",
            multiple=True,
        ),
        PropertyDefinition(
            "hs_email_optout",
            "Unsubscribed from all email",
            "bool",
            "booleancheckbox",
            ("true", "false"),
        ),
        PropertyDefinition(
            "sms_opt_out", "SMS opt-out", "bool", "booleancheckbox", ("true", "false")
        ),
        _datetime("createdate", "Create Date", read_only=True),
        _datetime("lastmodifieddate", "Last Modified Date", read_only=True),
        *(
            _datetime(f"hs_lifecyclestage_{stage}_date", f"Became a {stage} date", read_only=True)
            for stage in LIFECYCLE_STAGES
        ),
    ),
    "companies": (
        *COMMON,
        _text("name", "Company name"),
        _text("domain", "Company Domain Name"),
        _text("industry", "Industry"),
        _number("numberofemployees", "Number of Employees"),
        _datetime("createdate", "Create Date", read_only=True),
        _datetime("hs_lastmodifieddate", "Last Modified Date", read_only=True),
    ),
    "deals": (
        *COMMON,
        _text("dealname", "Deal Name"),
        _number("amount", "Amount"),
        _datetime("closedate", "Close Date"),
        _text("pipeline", "Pipeline"),
        _text("dealstage", "Deal Stage"),
        _datetime("createdate", "Create Date", read_only=True),
        _datetime("hs_lastmodifieddate", "Last Modified Date", read_only=True),
    ),
    "tasks": (
        *COMMON,
        _text("hs_task_subject", "Task Title"),
        _text("hs_task_body", "Task notes"),
        _choice(
            "hs_task_status",
            "Task Status",
            "NOT_STARTED",
            "IN_PROGRESS",
            "WAITING",
            "COMPLETED",
            "DEFERRED",
        ),
        _choice("hs_task_priority", "Priority", "NONE", "LOW", "MEDIUM", "HIGH"),
        _choice("hs_task_type", "Task Type", "TODO", "CALL", "EMAIL"),
        _datetime("hs_timestamp", "Due date"),
        _datetime("hs_task_completion_date", "Completed at", read_only=True),
        _datetime("hs_createdate", "Create Date", read_only=True),
        _datetime("hs_lastmodifieddate", "Last Modified Date", read_only=True),
    ),
    "communications": (
        *COMMON,
        _choice(
            "hs_communication_channel_type",
            "Channel type",
            "SMS",
            "WHATS_APP",
            "LINKEDIN_MESSAGE",
            "PHYSICAL_MAIL",
            "CUSTOM_CHANNEL_CONVERSATION",
        ),
        _choice("hs_communication_logged_from", "Logged from", "CRM"),
        _text("hs_communication_body", "Body"),
        _datetime("hs_timestamp", "Activity date"),
        _datetime("hs_createdate", "Create Date", read_only=True),
        _datetime("hs_lastmodifieddate", "Last Modified Date", read_only=True),
    ),
}
# What HubSpot insists on when an engagement is created.
REQUIRED_ON_CREATE = {
    "tasks": ("hs_timestamp",),
    "communications": (
        "hs_timestamp",
        "hs_communication_channel_type",
        "hs_communication_logged_from",
    ),
}


@dataclass(frozen=True)
class PropertyProblem:
    name: str
    error: str
    message: str

    def json(self) -> dict:
        return {"isValid": False, "message": self.message, "error": self.error, "name": self.name}


def validation_message(problems: list[PropertyProblem]) -> str:
    """HubSpot puts the per-property reasons into the message as a JSON list."""
    return "Property values were not valid: " + json.dumps([p.json() for p in problems])


def property_problems(
    object_type: str,
    definitions: dict[str, PropertyDefinition],
    values: dict,
    owner_ids: set[str],
    creating: bool,
) -> list[PropertyProblem]:
    problems = []
    if creating:
        for name in REQUIRED_ON_CREATE.get(object_type, ()):
            if values.get(name) in (None, ""):
                problems.append(PropertyProblem(name, "REQUIRED", f"{name} is required"))
    for name, value in values.items():
        problem = _value_problem(object_type, definitions.get(name), name, value, owner_ids)
        if problem is not None:
            problems.append(problem)
    return problems


def _value_problem(object_type, definition, name, value, owner_ids) -> PropertyProblem | None:
    if definition is None:
        return PropertyProblem(name, "PROPERTY_DOESNT_EXIST", f'Property "{name}" does not exist')
    if definition.read_only or name in (
        MODIFIED_PROPERTY[object_type],
        CREATED_PROPERTY[object_type],
    ):
        return PropertyProblem(name, "READ_ONLY_VALUE", f"{name} is a read only property")
    if value is None or value == "":
        return None  # clears the property
    text = _text_value(value)
    if name == "hubspot_owner_id" and text not in owner_ids:
        return PropertyProblem(name, "INVALID_OWNER_ID", f"{text} is not a valid owner id")
    return _typed_problem(definition, name, text)


def _typed_problem(definition: PropertyDefinition, name: str, text: str) -> PropertyProblem | None:
    if definition.type == "number":
        try:
            float(text)
        except ValueError:
            return PropertyProblem(name, "INVALID_DECIMAL", f"{text} was not a valid number.")
    elif definition.type in ("date", "datetime"):
        if time_value_ms(text) is None:
            return PropertyProblem(name, "INVALID_DATE", f"{text} was not a valid date.")
    elif definition.type == "bool":
        if text not in ("true", "false"):
            return PropertyProblem(name, "INVALID_BOOLEAN", f"{text} was not a valid boolean.")
    elif definition.type == "enumeration":
        chosen = text.split(";") if definition.field_type == "checkbox" else [text]
        unknown = [option for option in chosen if option not in definition.options]
        if unknown:
            return PropertyProblem(
                name,
                "INVALID_OPTION",
                f"{unknown[0]} was not one of the allowed options: "
                + ", ".join(f"[{option}]" for option in definition.options),
            )
    return None


def _text_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def stored_value(value) -> str:
    """HubSpot stores every property value as text."""
    return "" if value is None else _text_value(value)
