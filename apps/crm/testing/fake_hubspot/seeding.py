"""How tests put records into the fake HubSpot and change them, as HubSpot users would."""

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from . import lookup
from .schema import PropertyDefinition
from .store import ObjectStore, StoredRecord, epoch_ms, hubspot_time, object_type_name

TimeArg = datetime | int | None


class Seeding:
    """FakeHubSpot's record store: seeding, changes and the helpers the API shares.
    Every public method takes the fake's lock."""

    # Seeding and changing records

    def record_add(
        self,
        object_type: str,
        properties: dict[str, Any] | None = None,
        *,
        modified_at: TimeArg = None,
        created_at: TimeArg = None,
        record_id: int | None = None,
    ) -> str:
        """Store one record as if someone created it in HubSpot; answers its id."""
        with self._lock:
            store = self._store(object_type)
            modified = self._ms(modified_at)
            record = StoredRecord(
                id=record_id or store.new_id(),
                properties={},
                created_ms=self._ms(created_at) if created_at is not None else modified,
                modified_ms=modified,
            )
            store.add(record)
            self._values_set(store, record, properties or {})
            self._lifecycle_stamp(store, record, properties or {})
            return str(record.id)

    def records_seed(
        self,
        object_type: str,
        count: int,
        *,
        properties: Callable[[int], dict[str, Any]] | None = None,
        modified_at: Callable[[int], TimeArg] | TimeArg = None,
    ) -> list[str]:
        """Store `count` records at once (100,000 in about a second); `properties` and
        `modified_at` may be functions of the record's index. Answers their ids in order."""
        with self._lock:
            store = self._store(object_type)
            first = store.next_id
            records = []
            for index in range(count):
                when = modified_at(index) if callable(modified_at) else modified_at
                ms = self._ms(when)
                values = properties(index) if properties else {}
                stored = {
                    name: lookup.normalized_value(self._definitions[store.name].get(name), value)
                    for name, value in values.items()
                }
                records.append(StoredRecord(first + index, stored, ms, ms))
            store.add_many(records)
            return [str(first + index) for index in range(count)]

    def record_modify(
        self,
        object_type: str,
        record_id: str,
        properties: dict[str, Any] | None = None,
        *,
        modified_at: TimeArg = None,
    ) -> None:
        """Change a record as a HubSpot user would: new values, a new modification time."""
        with self._lock:
            store = self._store(object_type)
            record = self._live(store, record_id)
            self._values_set(store, record, properties or {})
            store.touch(record, self._ms(modified_at))
            self._lifecycle_stamp(store, record, properties or {})

    def records_modify(
        self, object_type: str, record_ids: Iterable[str], *, modified_at: TimeArg = None
    ) -> None:
        """Bump many records' modification time at once (one time for all of them)."""
        with self._lock:
            store = self._store(object_type)
            ms = self._ms(modified_at)
            for record_id in record_ids:
                store.touch(self._live(store, record_id), ms)

    def record_archive(
        self, object_type: str, record_id: str, *, archived_at: TimeArg = None
    ) -> None:
        with self._lock:
            store = self._store(object_type)
            store.archive(self._live(store, record_id), self._ms(archived_at))

    def record_restore(
        self, object_type: str, record_id: str, *, restored_at: TimeArg = None
    ) -> None:
        with self._lock:
            store = self._store(object_type)
            store.restore(store.records[int(record_id)], self._ms(restored_at))

    def associate(self, from_type: str, from_id: str, to_type: str, to_id: str) -> None:
        """Associate two records (both directions), with HubSpot's unlabeled type ids."""
        with self._lock:
            self._associate(self._type(from_type), int(from_id), self._type(to_type), int(to_id))

    def deal_stage_enter(self, deal_id: str, stage_id: str, *, at: TimeArg = None) -> None:
        """Move a deal into a stage: dealstage, its pipeline and hs_date_entered_<stage>."""
        with self._lock:
            pipeline_id = self._stage_pipeline(stage_id)
            when = hubspot_time(self._ms(at))
            self.record_modify(
                "deals",
                deal_id,
                {"dealstage": stage_id, "pipeline": pipeline_id},
                modified_at=at,
            )
            record = self._stores["deals"].records[int(deal_id)]
            record.properties[f"hs_date_entered_{stage_id}"] = when
            self._history_note(record, "dealstage", stage_id, self._ms(at))

    def _history_note(self, record: StoredRecord, name: str, value: str, at_ms: int) -> None:
        """HubSpot keeps every value a property held; Cue reads dealstage's."""
        record.history.setdefault(name, []).append((value, at_ms))

    def owner_add(
        self,
        email: str,
        first_name: str = "",
        last_name: str = "",
        *,
        archived: bool = False,
        owner_id: str | None = None,
        updated_at: TimeArg = None,
    ) -> str:
        with self._lock:
            owner_id = owner_id or str(100_000 + len(self._owners) + 1)
            now = hubspot_time(self._ms(updated_at))
            self._owners[owner_id] = {
                "id": owner_id,
                "email": email,
                "type": "PERSON",
                "firstName": first_name,
                "lastName": last_name,
                "userId": int(owner_id) + 1_000_000,
                "userIdIncludingInactive": int(owner_id) + 1_000_000,
                "createdAt": now,
                "updatedAt": now,
                "archived": archived,
                "teams": [],
            }
            return owner_id

    def owner_update(self, owner_id: str, **changes: Any) -> None:
        """Change an owner (email, firstName, lastName, archived): its updatedAt moves on."""
        with self._lock:
            self._owners[owner_id] |= changes | {"updatedAt": hubspot_time(self.now_ms())}

    def pipeline_add(self, pipeline_id: str, label: str, stages: Iterable[tuple[str, str]]) -> None:
        """A deal pipeline with its stages in order; each stage gets its
        hs_date_entered_<stage> property, as in HubSpot."""
        with self._lock:
            now = hubspot_time(self.now_ms())
            self._pipelines[pipeline_id] = {
                "id": pipeline_id,
                "label": label,
                "displayOrder": len(self._pipelines),
                "stages": [
                    {
                        "id": stage_id,
                        "label": stage_label,
                        "displayOrder": order,
                        "metadata": {"isClosed": str(stage_id.startswith("closed")).lower()},
                        "createdAt": now,
                        "updatedAt": now,
                        "archived": False,
                        "writePermissions": "CRM_PERMISSIONS_ENFORCEMENT",
                    }
                    for order, (stage_id, stage_label) in enumerate(stages)
                ],
                "createdAt": now,
                "updatedAt": now,
                "archived": False,
            }
            for stage_id, stage_label in stages:
                name = f"hs_date_entered_{stage_id}"
                self._definitions["deals"][name] = PropertyDefinition(
                    name, f"Date entered '{stage_label}'", "datetime", "date", read_only=True
                )

    def property_add(self, object_type: str, definition: PropertyDefinition) -> None:
        with self._lock:
            self._definitions[self._type(object_type)][definition.name] = definition

    def property_remove(self, object_type: str, name: str) -> None:
        with self._lock:
            self._definitions[self._type(object_type)].pop(name, None)

    # Store helpers (callers hold the lock)

    def _type(self, object_type: str) -> str:
        name = object_type_name(object_type)
        if name is None:
            raise ValueError(f"unknown object type {object_type!r}")
        return name

    def _store(self, object_type: str) -> ObjectStore:
        return self._stores[self._type(object_type)]

    def _live(self, store: ObjectStore, record_id: str) -> StoredRecord:
        record = store.live(int(record_id))
        if record is None:
            raise KeyError(f"no live {store.name} {record_id}")
        return record

    def _ms(self, moment: TimeArg) -> int:
        if moment is None:
            return self.now_ms()
        if isinstance(moment, datetime):
            if moment.tzinfo is None:
                raise ValueError("give an aware datetime")
            return epoch_ms(moment)
        return int(moment)

    def _stage_pipeline(self, stage_id: str) -> str:
        for pipeline in self._pipelines.values():
            if any(stage["id"] == stage_id for stage in pipeline["stages"]):
                return pipeline["id"]
        raise ValueError(f"no pipeline has a stage {stage_id!r}")

    def _values_set(self, store: ObjectStore, record: StoredRecord, values: dict[str, Any]) -> None:
        definitions = self._definitions[store.name]
        for name, value in values.items():
            text = lookup.normalized_value(definitions.get(name), value)
            if text == "":
                record.properties.pop(name, None)
            else:
                record.properties[name] = text

    def _lifecycle_stamp(self, store: ObjectStore, record: StoredRecord, values: dict) -> None:
        """HubSpot stamps hs_lifecyclestage_<stage>_date when a contact enters a stage."""
        stage = values.get("lifecyclestage")
        if store.name == "contacts" and stage:
            record.properties[f"hs_lifecyclestage_{stage}_date"] = hubspot_time(record.modified_ms)

    def _properties_write(
        self, store: ObjectStore, record: StoredRecord, values: dict[str, Any], bump: bool = True
    ) -> None:
        """A write through the API: values, task completion time, and a new modified time."""
        self._values_set(store, record, values)
        if store.name == "deals" and values.get("dealstage"):
            self._history_note(record, "dealstage", str(values["dealstage"]), self.now_ms())
        if store.name == "tasks" and "hs_task_status" in values:
            if values["hs_task_status"] == "COMPLETED":
                record.properties["hs_task_completion_date"] = hubspot_time(self.now_ms())
            else:
                record.properties.pop("hs_task_completion_date", None)
        if bump:
            store.touch(record, self.now_ms())
        self._lifecycle_stamp(store, record, values)

    def _associate(self, from_type: str, from_id: int, to_type: str, to_id: int) -> None:
        forward = lookup.ASSOCIATION_TYPE_IDS[(from_type, to_type)][0]
        backward = lookup.ASSOCIATION_TYPE_IDS[(to_type, from_type)][0]
        self._associations.setdefault((from_type, to_type), {}).setdefault(from_id, {})[to_id] = (
            forward
        )
        self._associations.setdefault((to_type, from_type), {}).setdefault(to_id, {})[from_id] = (
            backward
        )

    def _linked(self, from_type: str, to_type: str, from_id: int) -> dict[int, int]:
        return self._associations.get((from_type, to_type), {}).get(from_id, {})
