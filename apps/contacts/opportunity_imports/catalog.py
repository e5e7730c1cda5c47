"""What an opportunity import checks rows against, read once per import (never per row):
the pipelines, their stages, and the opportunity attributes."""

import re
from dataclasses import dataclass

from apps.contacts.attributes import attribute_definitions
from apps.contacts.models import (
    AttributeDefinition,
    AttributeObject,
    Pipeline,
    PipelineStage,
    StageMeaning,
)

ATTRIBUTE_TARGET = "attr:"  # "attr:plan" fills the opportunity attribute "plan"


class RowRejected(Exception):
    """A row that cannot be imported; its message is the reason shown in the report."""


@dataclass(frozen=True)
class ImportCatalog:
    """What rows are checked against, read once per import."""

    pipelines: list[Pipeline]
    stages: dict[int, list[PipelineStage]]  # pipeline id → its stages in order
    attributes: dict[str, AttributeDefinition]

    @classmethod
    def load(cls) -> "ImportCatalog":
        pipelines = list(Pipeline.objects.order_by("-is_default", "label", "id"))
        stages: dict[int, list[PipelineStage]] = {p.pk: [] for p in pipelines}
        for stage in PipelineStage.objects.order_by("pipeline", "order", "id"):
            stages[stage.pipeline_id].append(stage)
        definitions = attribute_definitions(object_type=AttributeObject.OPPORTUNITY)
        return cls(pipelines=pipelines, stages=stages, attributes=definitions)

    def default_pipeline(self) -> Pipeline | None:
        return next((p for p in self.pipelines if p.is_default), None)

    def pipeline_named(self, text: str) -> Pipeline:
        found = _by_key_or_label(text, [(p.key, p.label, p) for p in self.pipelines])
        if found is None:
            known = ", ".join(p.key for p in self.pipelines)
            raise RowRejected(f"Unknown pipeline {text!r}; use one of: {known}.")
        return found

    def stage_key(self, text: str, pipeline: Pipeline | None) -> str:
        """The key of the stage `text` names (key or label) in the pipeline (None: the
        default pipeline, where an opportunity without one is)."""
        pipeline = pipeline or self.default_pipeline()
        stages = self.stages.get(pipeline.pk, []) if pipeline else []
        found = _by_key_or_label(text, [(s.key, s.label, s) for s in stages])
        if found is None:
            known = ", ".join(s.key for s in stages)
            raise RowRejected(
                f"Stage {text!r} is not a stage of the pipeline {pipeline}; use one of: {known}."
            )
        return found.key

    def is_closed(self, pipeline: Pipeline | None, key: str) -> bool:
        pipeline = pipeline or self.default_pipeline()
        stages = self.stages.get(pipeline.pk, []) if pipeline else []
        closed = (StageMeaning.WON, StageMeaning.LOST)
        return any(s.key == key and s.meaning in closed for s in stages)

    def attribute_targets(self) -> dict[str, str]:
        return {f"{ATTRIBUTE_TARGET}{key}": d.label for key, d in self.attributes.items()}


def _by_key_or_label(text: str, candidates: list[tuple[str, str, object]]):
    wanted = _comparable(text)
    for key, label, item in candidates:
        if wanted in (_comparable(key), _comparable(label)):
            return item
    return None


def _comparable(value: str) -> str:
    return re.sub(r"[\s_-]+", " ", value.strip().lower())
