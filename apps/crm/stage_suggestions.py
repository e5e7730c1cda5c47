"""Which Cue stage each unmapped CRM deal stage or lifecycle value most plainly means: the
one with the same key or label, else, for a deal stage labelled won or lost, the stage of
that meaning. Anything less plain is left unmapped and listed, for a person to decide."""

import re
from dataclasses import dataclass

from apps.contacts.models import (
    LifecycleStageDefinition,
    Pipeline,
    PipelineStage,
    StageMeaning,
)
from apps.crm.adapters import PipelineInfo
from apps.crm.models import StageMapping
from apps.crm.sync.deals import ONLY_PIPELINE


@dataclass(frozen=True)
class StageSuggestion:
    crm_pipeline: str  # as the mapping stores it
    crm_stage: str
    crm_label: str
    stage: PipelineStage | LifecycleStageDefinition | None  # None: left unmapped
    why: str


def stage_suggestions(system: str, pipelines: list[PipelineInfo]) -> list[StageSuggestion]:
    """A suggestion for every CRM deal stage no mapping names yet, in the CRM's order."""
    mapped = set(
        StageMapping.objects.filter(system=system, kind=StageMapping.Kind.DEAL).values_list(
            "crm_pipeline", "crm_stage"
        )
    )
    cue_pipelines = list(Pipeline.objects.prefetch_related("stages"))
    suggestions = []
    for pipeline in pipelines:
        key = ONLY_PIPELINE.get(system, pipeline.id)
        cue_pipeline = _pipeline_for(pipeline, cue_pipelines)
        for stage_id, label in pipeline.stages:
            if (key, stage_id) not in mapped:
                stage, why = _stage_for(stage_id, label, cue_pipeline)
                suggestions.append(StageSuggestion(key, stage_id, label, stage, why))
    return suggestions


def lifecycle_suggestions(system: str, values: list[str]) -> list[StageSuggestion]:
    """A suggestion for every lifecycle value of the CRM no mapping names yet, in order."""
    mapped = set(
        StageMapping.objects.filter(system=system, kind=StageMapping.Kind.LIFECYCLE).values_list(
            "crm_stage", flat=True
        )
    )
    stages = list(LifecycleStageDefinition.objects.order_by("order", "id"))
    suggestions = []
    for value in dict.fromkeys(values):
        if value in mapped:
            continue
        same = next((s for s in stages if _plain(value) in {_plain(s.key), _plain(s.label)}), None)
        why = "same key or label" if same else "no Cue lifecycle stage with the same key or label"
        suggestions.append(StageSuggestion("", value, value, same, why))
    return suggestions


def _pipeline_for(pipeline: PipelineInfo, cue_pipelines: list[Pipeline]) -> Pipeline | None:
    wanted = {_plain(pipeline.id), _plain(pipeline.label)}
    same = [p for p in cue_pipelines if {_plain(p.key), _plain(p.label)} & wanted]
    return (same or [p for p in cue_pipelines if p.is_default] or [None])[0]


def _stage_for(
    stage_id: str, label: str, pipeline: Pipeline | None
) -> tuple[PipelineStage | None, str]:
    if pipeline is None:
        return None, "Cue has no pipeline to map it into."
    stages = list(pipeline.stages.all())
    wanted = {_plain(stage_id), _plain(label)}
    for stage in stages:
        if {_plain(stage.key), _plain(stage.label)} & wanted:
            return stage, "same key or label"
    words = set(re.findall(r"[a-z]+", f"{label} {stage_id}".lower()))
    for meaning in (StageMeaning.WON, StageMeaning.LOST):
        if meaning.value in words:
            stage = next((s for s in stages if s.meaning == meaning), None)
            if stage is not None:
                return stage, f"labelled {meaning.label.lower()}"
    return None, "no Cue stage with the same key, label or meaning"


def _plain(text: str) -> str:
    """ "Closed Won", "closed_won" and "closedwon" are one name."""
    return re.sub(r"[^a-z0-9]", "", text.lower())
