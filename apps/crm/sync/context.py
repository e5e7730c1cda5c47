"""What a sync run reads once and looks up for every record: the field mapping plans, the
stage mappings, and the Cue ids of the owners and companies already linked."""

from functools import cached_property

from apps.crm.mapping import Plan, plan_for
from apps.crm.models import CrmOwner, ObjectType, RecordLink, StageMapping


class SyncContext:
    def __init__(self, system: str):
        self.system = system
        self._plans: dict[str, Plan] = {}

    def plan(self, object_type: str) -> Plan:
        if object_type not in self._plans:
            self._plans[object_type] = plan_for(self.system, object_type)
        return self._plans[object_type]

    def forget(self) -> None:
        """Drops what a rolled-back page may have added."""
        for name in ("owner_users", "lifecycle_stages", "deal_stages"):
            self.__dict__.pop(name, None)

    @cached_property
    def owner_users(self) -> dict[str, int | None]:
        rows = CrmOwner.objects.filter(system=self.system).values_list("record_id", "user_id")
        return dict(rows)

    def owner_user_id(self, record_id: str | None) -> int | None:
        return self.owner_users.get(record_id) if record_id else None

    @cached_property
    def lifecycle_stages(self) -> dict[str, str]:
        """CRM lifecycle value → Cue lifecycle stage key."""
        rows = StageMapping.objects.filter(system=self.system, kind=StageMapping.Kind.LIFECYCLE)
        return dict(rows.values_list("crm_stage", "lifecycle_stage__key"))

    @cached_property
    def deal_stages(self) -> dict[tuple[str, str], tuple[int, str]]:
        """(CRM pipeline, CRM stage) → (Cue pipeline id, stage key)."""
        rows = StageMapping.objects.filter(system=self.system, kind=StageMapping.Kind.DEAL)
        values = rows.values_list(
            "crm_pipeline", "crm_stage", "pipeline_stage__pipeline_id", "pipeline_stage__key"
        )
        return {(p, s): (pipeline_id, key) for p, s, pipeline_id, key in values}

    def company_ids(self, record_ids: set[str]) -> dict[str, int]:
        links = RecordLink.objects.filter(
            system=self.system, object_type=ObjectType.COMPANY, record_id__one_of=record_ids
        )
        return dict(links.values_list("record_id", "company_id"))
