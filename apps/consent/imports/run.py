"""The background run of an import: chunks of rows, each chunk one transaction and each
row a savepoint, so a bad row loses nothing but itself and a crash keeps what committed.

A run is resumable and safe to start twice: each chunk locks the import, starts at its
committed `processed_rows` and moves it forward.
"""

import copy
import logging
from dataclasses import dataclass, field
from datetime import datetime

from django.db import DataError, IntegrityError, transaction
from django.utils import timezone

from apps.consent.imports.csvfile import CsvTable, csv_table_read
from apps.consent.imports.rows import (
    ParsedRow,
    RowRejected,
    row_contact_keys,
    row_key_noun,
    row_parse,
)
from apps.consent.models import ConsentAction, ConsentRecord, ConsentSource, Purpose
from apps.consent.services import ConsentError, Evidence, consent_opt_in
from apps.contacts.attributes import attribute_definitions
from apps.contacts.errors import ContactsError
from apps.contacts.identity import IdentityIndex, KnownContact
from apps.contacts.models import AttributeObject, Company, Contact, ContactImport
from apps.contacts.services import ContactUpsert, company_upsert, contact_update

logger = logging.getLogger(__name__)

CHUNK_SIZE = 500
Status = ContactImport.Status


def contact_import_table(contact_import: ContactImport, max_rows: int | None = None) -> CsvTable:
    with contact_import.file.open("rb") as upload:
        return csv_table_read(upload.read(), max_rows=max_rows)


def contact_import_run(*, import_id: int) -> ContactImport | None:
    """Imports every row of a queued (or interrupted) import, chunk by chunk. A crash marks
    the import failed and keeps the chunks already committed."""
    claimed = ContactImport.objects.filter(
        pk=import_id, status__in=[Status.QUEUED, Status.RUNNING]
    ).update(status=Status.RUNNING)
    if not claimed:
        return None
    try:
        run = _ImportRun(ContactImport.objects.select_related("created_by").get(pk=import_id))
        while run.chunk_import():
            pass
    except Exception as error:
        logger.exception("Contact import %s failed", import_id)
        ContactImport.objects.filter(pk=import_id, status=Status.RUNNING).update(
            status=Status.FAILED,
            error=f"{type(error).__name__}: {error}",
            finished_at=timezone.now(),
        )
    else:
        ContactImport.objects.filter(pk=import_id, status=Status.RUNNING).update(
            status=Status.DONE, finished_at=timezone.now()
        )
    return ContactImport.objects.get(pk=import_id)


class _ImportRun:
    """The state one worker keeps while it imports a file: which keys and contacts earlier
    rows used (a second row for them is a duplicate), and companies already looked up."""

    def __init__(self, contact_import: ContactImport):
        self.contact_import = contact_import
        self.table = contact_import_table(contact_import)
        self.position = 0
        self.seen: dict[tuple[str, str], int] = {}
        self.companies: dict[str, Company] = {}
        # Read once for the whole file: a definition changed during the run applies to
        # the next import, as a mapping chosen before it does.
        self.definitions = attribute_definitions(object_type=AttributeObject.CONTACT)

    def chunk_import(self) -> bool:
        """Imports the next chunk in one transaction; False when there is none left."""
        with transaction.atomic():
            locked = ContactImport.objects.select_for_update().get(pk=self.contact_import.pk)
            start = locked.processed_rows
            if locked.status != Status.RUNNING or start >= len(self.table.rows):
                return False
            if start != self.position:
                self._seen_rebuild(locked)
            tally = _Tally()
            self._rows_import(self.table.rows[start : start + CHUNK_SIZE], tally)
            tally.save_into(locked)
            self.position = locked.processed_rows
        return True

    def _rows_import(self, records: list[tuple[int, list[str]]], tally: "_Tally") -> None:
        parsed = []
        for line, cells in records:
            try:
                parsed.append(self._parse(line, cells))
            except RowRejected as rejected:
                tally.reject(line, cells, str(rejected))
        index = _ContactIndex([row.keys() for row in parsed])
        for row in parsed:
            self._row_import(row, index, tally)

    def _parse(self, line: int, cells: list[str]) -> ParsedRow:
        return row_parse(
            line, cells, self.table.columns, self.contact_import.mapping, self.definitions
        )

    def _row_import(self, row: ParsedRow, index: "_ContactIndex", tally: "_Tally") -> None:
        try:
            with transaction.atomic():
                existing = self._existing(row, index)
                upserted = _contact_upsert(
                    existing,
                    self._contact_fields(row),
                    row.stage_changed_at,
                    index.ids_of(existing),
                    self.definitions,
                )
                notes = [*row.notes, *self._consents_record(row, upserted.contact)]
        except RowRejected as rejected:
            tally.reject(row.line, row.cells, str(rejected))
        except (ContactsError, IntegrityError, DataError) as error:
            self.companies.clear()  # a company made for this row was rolled back with it
            tally.reject(row.line, row.cells, _error_reason(error))
        else:
            index.put(upserted.contact, row.fields.get("external_ids", {}))
            self._seen_add(row, upserted.contact.pk)
            tally.accept(row.line, created=upserted.created, notes=notes)

    def _existing(self, row: ParsedRow, index: "_ContactIndex") -> Contact | None:
        """The contact the row names, if any; rejects a row that repeats an earlier one or
        names someone else's contact."""
        keys = row.keys()
        for name, key in keys.items():
            if (name, key) in self.seen:
                line = self.seen[(name, key)]
                raise RowRejected(f"Duplicate of line {line} (same {row_key_noun(name)}).")
        existing = index.match(keys)
        if existing is not None and ("contact", str(existing.pk)) in self.seen:
            line = self.seen[("contact", str(existing.pk))]
            raise RowRejected(f"Duplicate of line {line} (same contact, #{existing.pk}).")
        return existing

    def _contact_fields(self, row: ParsedRow) -> dict:
        fields = dict(row.fields)
        if "company" in fields:
            fields["company"] = self._company(fields["company"])
        return fields

    def _company(self, name: str) -> Company:
        key = name.lower()
        if key not in self.companies:
            found = Company.objects.filter(name__iexact=name).order_by("pk").first()
            self.companies[key] = found or company_upsert(name=name)
        return self.companies[key]

    def _consents_record(self, row: ParsedRow, contact: Contact) -> list[str]:
        notes = []
        for channel, label in row.consents:
            evidence = {**row.evidence}
            occurred_at = evidence.pop("occurred_at")
            if _consent_already_recorded(contact, channel, occurred_at):
                notes.append(f"{label} consent already recorded for {occurred_at:%Y-%m-%d %H:%M}.")
                continue
            note = f"Imported from {self.contact_import.original_name}, line {row.line}."
            try:
                consent_opt_in(
                    contact=contact,
                    channel=channel,
                    purpose=Purpose.MARKETING,
                    source=ConsentSource.IMPORT,
                    occurred_at=occurred_at,
                    evidence=Evidence(**evidence, actor=self.contact_import.created_by, note=note),
                )
            except ConsentError as error:
                notes.append(f"{label} consent not recorded: {error.message}")
        return notes

    def _seen_add(self, row: ParsedRow, contact_pk: int) -> None:
        for name, key in row.keys().items():
            self.seen.setdefault((name, key), row.line)
        self.seen.setdefault(("contact", str(contact_pk)), row.line)

    def _seen_rebuild(self, contact_import: ContactImport) -> None:
        """After a resume: the rows committed before, less the rejected, were imported."""
        rejected = {entry["line"] for entry in contact_import.rejected_rows if "reason" in entry}
        self.seen = {}
        done = [r for r in self.table.rows[: contact_import.processed_rows] if r[0] not in rejected]
        for start in range(0, len(done), CHUNK_SIZE):
            rows = [self._parse(line, cells) for line, cells in done[start : start + CHUNK_SIZE]]
            index = _ContactIndex([row.keys() for row in rows])
            for row in rows:
                self._seen_add(row, _matched_pk(index, row))
        self.companies.clear()


def _matched_pk(index: "_ContactIndex", row: ParsedRow) -> int:
    try:
        contact = index.match(row.keys())
    except RowRejected:  # changed since by someone else; the keys alone still count
        return 0
    return contact.pk if contact else 0


def _contact_upsert(
    existing: Contact | None,
    fields: dict,
    stage_changed_at: datetime | None = None,
    known_ids: dict[str, str] | None = None,
    definitions: dict | None = None,
) -> ContactUpsert:
    """contact_upsert for a contact the chunk's index already found (or found absent): it
    saves the matching queries, and writes nothing when the row holds what the contact has
    (`known_ids`: its ids in other sources, as the index read them). A stage change
    carries the row's time it happened in the source (default now)."""
    if existing is None:
        created = contact_update(
            contact=Contact(),
            fields=fields,
            stage_changed_at=stage_changed_at,
            definitions=definitions,
        )
        return ContactUpsert(created, created=True, changed=list(fields))
    changed = {
        name: value
        for name, value in fields.items()
        if not _same(existing, name, value, known_ids or {})
    }
    if not changed:
        return ContactUpsert(existing, created=False, changed=[])
    # A copy, so that a refused update leaves the index's instance as the database has it.
    updated = contact_update(
        contact=copy.copy(existing),
        fields=changed,
        stage_changed_at=stage_changed_at,
        definitions=definitions,
    )
    return ContactUpsert(updated, created=False, changed=list(changed))


def _same(contact: Contact, name: str, value, known_ids: dict[str, str]) -> bool:
    if name == "external_ids":  # the row's ids in other sources: only its sources count
        return all(known_ids.get(source) == item for source, item in value.items())
    if name == "company":
        return contact.company_id == value.pk
    if name == "attributes":  # the row's attributes are a change: only its keys count
        return all(contact.attributes.get(key) == item for key, item in value.items())
    return getattr(contact, name) == value


def _consent_already_recorded(contact: Contact, channel: str, occurred_at: datetime) -> bool:
    return ConsentRecord.objects.filter(
        contact=contact,
        channel=channel,
        purpose=Purpose.MARKETING,
        action=ConsentAction.OPT_IN,
        source=ConsentSource.IMPORT,
        occurred_at=occurred_at,
    ).exists()


def _error_reason(error: Exception) -> str:
    if isinstance(error, ContactsError):
        noun = (error.field or "").replace("_", " ")
        return f"{noun.capitalize()}: {error.message}" if noun else error.message
    return f"The database refused the row: {error}"


class _ContactIndex:
    """The existing contacts that a chunk's keys name, found by the identity service (one
    query per kind of key) and fetched as rows in one more, and kept in step as rows create
    or change contacts."""

    def __init__(self, keys: list[dict[str, str]]):
        self.identity = IdentityIndex.load(row_contact_keys(row_keys) for row_keys in keys)
        self.contacts = Contact.objects.in_bulk(self.identity.contact_ids())
        self.known: dict[int, KnownContact] = {}

    def match(self, keys: dict[str, str]) -> Contact | None:
        """The one contact these keys name; keys naming two is identity's conflict, and the
        row is rejected with its reason (never merged)."""
        found = self.identity.resolve(row_contact_keys(keys))
        if found.conflict is not None:
            raise RowRejected(found.conflict.reason)
        if found.known is None:
            return None
        self.known[found.contact_id] = found.known
        return self.contacts.get(found.contact_id)

    def ids_of(self, contact: Contact | None) -> dict[str, str]:
        """The contact's ids in other sources, as far as the chunk's keys asked."""
        known = self.known.get(contact.pk) if contact is not None else None
        return dict(known.ids) if known is not None else {}

    def put(self, contact: Contact, written_ids: dict[str, str]) -> None:
        known = KnownContact.of(contact)
        known.ids = {**self.ids_of(contact), **written_ids}
        self.identity.put(known)
        self.known[contact.pk] = known
        self.contacts[contact.pk] = contact


@dataclass
class _Tally:
    """What one chunk did, added to the import in the chunk's transaction."""

    processed: int = 0
    imported: int = 0
    updated: int = 0
    entries: list[dict] = field(default_factory=list)

    def reject(self, line: int, cells: list[str], reason: str) -> None:
        self.processed += 1
        self.entries.append({"line": line, "reason": reason, "row": cells})

    def accept(self, line: int, *, created: bool, notes: list[str]) -> None:
        self.processed += 1
        self.imported, self.updated = self.imported + created, self.updated + (not created)
        self.entries.extend({"line": line, "note": note} for note in notes)

    def save_into(self, contact_import: ContactImport) -> None:
        rejected = [entry for entry in self.entries if "reason" in entry]
        contact_import.processed_rows += self.processed
        contact_import.imported_count += self.imported
        contact_import.updated_count += self.updated
        contact_import.rejected_count += len(rejected)
        contact_import.rejected_rows = [
            *contact_import.rejected_rows,
            *sorted(self.entries, key=lambda entry: entry["line"]),
        ]
        contact_import.save(
            update_fields=[
                "processed_rows", "imported_count", "updated_count", "rejected_count",
                "rejected_rows",
            ]
        )  # fmt: skip
