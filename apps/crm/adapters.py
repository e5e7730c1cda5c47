"""What Cue asks of a CRM, in Cue's words: the contract between the sync engine and the
two vendor adapters (apps/crm/hubspot/, apps/crm/salesforce/).

An adapter is the only code that knows a vendor's API. It speaks through the vendor's own
client library (hubspot-api-client, simple-salesforce), pages with the vendor's cursors,
waits out rate limits it is told about once, refreshes an expired token once, and hands
the engine plain records. The engine never sees a vendor shape; it decides what the
records mean for Cue (identity, fields, stages, consent) and when a cursor may advance.

Cursors are opaque to the engine: a JSON-able dict the adapter made. The engine stores a
page's cursor in the same transaction as the page's rows, so a crash between two pages
re-reads at most one page, and a re-read changes nothing.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

# Object types, in Cue's names. Each adapter says which it syncs and in which order
# (owners first, so records can name their owner; companies before the people and deals
# that point at them).
OWNER = "owner"  # HubSpot owners, Salesforce Users
COMPANY = "company"  # HubSpot companies, Salesforce Accounts
LEAD = "lead"  # Salesforce Leads (HubSpot has none)
CONTACT = "contact"  # HubSpot contacts, Salesforce Contacts
DEAL = "deal"  # HubSpot deals, Salesforce Opportunities
TASK = "task"  # tasks Cue created in the CRM, read back to see them completed there


@dataclass(frozen=True)
class StageEntry:
    """A record entered `stage` of `pipeline` at `entered_at`, the CRM's own time."""

    pipeline: str
    stage: str
    entered_at: datetime


@dataclass(frozen=True)
class CrmRecord:
    """One CRM record as the vendor holds it.

    `properties` are the vendor's field names and values as the API sent them (strings,
    numbers, booleans, None); mapping them onto Cue's fields is the engine's job.
    `associations` names related records by object type: {"company": ["123"]}.
    A lead converted into a contact carries `converted_to` = the contact's id.
    """

    object_type: str
    id: str
    modified_at: datetime
    properties: dict[str, Any]
    archived: bool = False
    associations: dict[str, list[str]] = field(default_factory=dict)
    stage_history: Sequence[StageEntry] = ()
    converted_to: str | None = None


@dataclass(frozen=True)
class Page:
    """One page of changes. `cursor` is where the next call starts; `done` says this page
    reached the present (the engine stops asking for this object type in this run)."""

    records: list[CrmRecord]
    cursor: dict
    done: bool


@dataclass(frozen=True)
class PipelineInfo:
    """A CRM pipeline and its stages in order, for the stage mapping's choices."""

    id: str
    label: str
    stages: list[tuple[str, str]]  # (stage id, label)


@dataclass(frozen=True)
class FieldInfo:
    """A CRM field, for the field mapping's type checks. `type` is one of Cue's attribute
    types (text, number, boolean, date, datetime, choice, list) as near as the vendor's
    type allows; `options` for choices."""

    name: str
    label: str
    type: str
    options: tuple[str, ...] = ()
    max_length: int | None = None


@dataclass(frozen=True)
class TaskOut:
    """A Cue follow-up task as the CRM should show it to the owner."""

    key: str  # Cue's own id for it ("task:42"); idempotency when the CRM allows
    contact_record_id: str  # the CRM id of the person (contact or lead)
    owner_record_id: str | None  # the CRM owner/user id, None to leave unassigned
    subject: str
    body: str
    due_at: datetime
    priority: str  # "high", "normal", "low"
    completed: bool = False
    # The zone the owner reads the due day in (theirs, else the business's): a CRM that
    # keeps a due date without a time (Salesforce's ActivityDate) takes the date there.
    time_zone: str = "UTC"
    # An earlier create may have landed without the CRM confirming it (a timeout): the
    # adapter looks for the task carrying this key before it creates one.
    retry: bool = False


@dataclass(frozen=True)
class ActivityOut:
    """One SMS on the person's CRM timeline."""

    key: str  # Cue's id for the activity ("message:7:delivered")
    contact_record_id: str
    at: datetime
    direction: str  # "outbound" or "inbound"
    status: str  # sent, delivered, failed, replied, clicked
    body: str
    journey: str = ""
    template: str = ""
    # An earlier attempt may have landed without the CRM confirming it (a timeout): the
    # adapter looks for the activity carrying this key before it logs it again.
    retry: bool = False


def cue_marker(key: str) -> str:
    """Cue's key as written into a record's text, where a CRM has no idempotency key and
    no field of Cue's own: a retry of an unconfirmed create looks for it."""
    return f"[Cue {key}]"


@dataclass(frozen=True)
class WriteResult:
    """What the CRM said about one item of a batch: its id, or why it refused it."""

    key: str
    record_id: str | None = None
    error: str = ""


class CrmError(Exception):
    """Base of what an adapter raises; the message is safe to show (no secrets)."""


class CrmRateLimited(CrmError):
    """The CRM asked Cue to wait (HTTP 429, Salesforce REQUEST_LIMIT_EXCEEDED) and the
    adapter's one wait was not enough. The engine stops this run and keeps its cursor."""

    def __init__(self, message: str, retry_after: float):
        super().__init__(message)
        self.retry_after = retry_after


class CrmUnavailable(CrmError):
    """5xx, a timeout or a refused connection after the adapter's retries."""


class CrmAuthError(CrmError):
    """Credentials missing or refused even after a token refresh."""


class CrmRecordRefused(CrmError):
    """The CRM refused one record (a validation error); the rest of a batch goes on."""


class CrmAdapter(Protocol):
    system: str  # "hubspot" or "salesforce"; also the ContactExternalId source
    object_types: tuple[str, ...]  # what it syncs in, in order
    page_size: int  # the most records the vendor hands over in one page of changes

    def changes(self, object_type: str, cursor: dict | None, *, page_size: int) -> Page:
        """Records of `object_type` created, changed, archived or deleted after `cursor`
        (None: from the beginning, a full sync), oldest change first."""

    def pipelines(self) -> list[PipelineInfo]:
        """Deal/opportunity pipelines and their stages."""

    def fields(self, object_type: str) -> list[FieldInfo]:
        """The fields of an object type, for mapping checks."""

    def task_save(self, task: TaskOut, record_id: str | None) -> str:
        """Creates the task (record_id None) or updates it; returns its CRM id."""

    def activities_log(self, activities: list[ActivityOut]) -> list[WriteResult]:
        """Writes a batch of SMS activities; one result per activity, in order."""

    def record_update(self, object_type: str, record_id: str, properties: dict) -> None:
        """Writes fields on one record (consent write-back); CrmRecordRefused if refused."""
