"""The customer's lifecycle stages and opportunity pipelines, as the rest of Cue asks about
them. Stages are data (admin: Lifecycle stages, Pipelines); each maps to a meaning Cue
needs, and journeys' goals, attribution, segments and reports ask here, never by name.

- Lifecycle: a stage is further along than another when its `order` is later. A stage
  meaning "churned" comes last on the scale but is no progress: it reaches only a churned
  goal, and no other stage reaches a churned goal.
- Opportunities: an opportunity with no pipeline is in the default one. A move forward is a
  move to a stage that is not lost, from a lost stage or from an earlier one (a reopened deal
  moves forward again).
"""

from collections.abc import Callable

from django.db.models import Q

from apps.contacts.models import (
    Contact,
    LifecycleMeaning,
    LifecycleStage,
    LifecycleStageDefinition,
    Opportunity,
    Pipeline,
    PipelineStage,
    StageMeaning,
)


def lifecycle_stages() -> list[LifecycleStageDefinition]:
    return list(LifecycleStageDefinition.objects.order_by("order", "id"))


def lifecycle_keys() -> list[str]:
    return [stage.key for stage in lifecycle_stages()]


def lifecycle_choices() -> list[tuple[str, str]]:
    return [(stage.key, stage.label) for stage in lifecycle_stages()]


def lifecycle_label(key: str) -> str:
    return dict(lifecycle_choices()).get(key, key)


def lifecycle_meaning(key: str) -> str | None:
    return (
        LifecycleStageDefinition.objects.filter(key=key).values_list("meaning", flat=True).first()
    )


def lifecycle_at_or_after(key: str) -> list[str]:
    """The keys of the stage and every later one (empty for an unknown key)."""
    stages = lifecycle_stages()
    order = next((stage.order for stage in stages if stage.key == key), None)
    return [] if order is None else [stage.key for stage in stages if stage.order >= order]


def lifecycle_keys_meaning(*meanings: str) -> list[str]:
    return list(
        LifecycleStageDefinition.objects.filter(meaning__in=meanings).values_list("key", flat=True)
    )


def lifecycle_first_key_meaning(meaning: str) -> str | None:
    """The key of the earliest stage with this meaning (None when no stage has it)."""
    stages = LifecycleStageDefinition.objects.filter(meaning=meaning).order_by("order", "id")
    return stages.values_list("key", flat=True).first()


def lifecycle_reached(stage: str, goal: str) -> bool:
    """Whether a contact at `stage` has reached `goal`."""
    found = {s.key: s for s in LifecycleStageDefinition.objects.filter(key__in=[stage, goal])}
    if stage not in found or goal not in found:
        return False
    churned = [found[key].meaning == LifecycleMeaning.CHURNED for key in (stage, goal)]
    if any(churned) and not all(churned):
        return False
    return found[stage].order >= found[goal].order


def pipeline_default() -> Pipeline | None:
    return Pipeline.objects.filter(is_default=True).first()


def pipeline_stage(*, pipeline_id: int | None, key: str) -> PipelineStage | None:
    """The stage `key` of the pipeline (None: the default pipeline), or None."""
    stages = PipelineStage.objects.filter(key=key)
    if pipeline_id:
        return stages.filter(pipeline_id=pipeline_id).first()
    return stages.filter(pipeline__is_default=True).first()


def pipeline_stage_keys() -> list[str]:
    """Every stage key of every pipeline, e.g. for a segment rule that names no pipeline."""
    keys = PipelineStage.objects.order_by("pipeline", "order").values_list("key", flat=True)
    return list(dict.fromkeys(keys))


def stage_meaning(*, pipeline_id: int | None, key: str) -> str | None:
    stage = pipeline_stage(pipeline_id=pipeline_id, key=key)
    return stage.meaning if stage else None


def stage_is_closed(*, pipeline_id: int | None, key: str) -> bool:
    return stage_meaning(pipeline_id=pipeline_id, key=key) in (StageMeaning.WON, StageMeaning.LOST)


def stage_is_forward(*, pipeline_id: int | None, from_key: str, to_key: str) -> bool:
    """Whether a move from `from_key` to `to_key` is a move forward (see the module doc)."""
    to = pipeline_stage(pipeline_id=pipeline_id, key=to_key)
    if to is None or to.meaning == StageMeaning.LOST or not from_key:
        return False
    was = pipeline_stage(pipeline_id=pipeline_id, key=from_key)
    return was is None or was.meaning == StageMeaning.LOST or to.order > was.order


def pipeline_stage_reached(*, pipeline_id: int | None, key: str, goal: PipelineStage) -> bool:
    """Whether an opportunity at stage `key` of its pipeline (None: the default one) has
    reached the goal stage: the goal's pipeline, at the goal's order or later, and not lost
    (a lost deal reaches no goal, however far along its lost stage is listed)."""
    stage = pipeline_stage(pipeline_id=pipeline_id, key=key)
    return (
        stage is not None
        and stage.pipeline_id == goal.pipeline_id
        and stage.meaning != StageMeaning.LOST
        and stage.order >= goal.order
    )


# Stages Cue itself writes: a new contact starts as a lead, an opt-in form's as a subscriber.
LIFECYCLE_KEYS_CUE_WRITES = frozenset({LifecycleStage.LEAD, LifecycleStage.SUBSCRIBER})


# What keeps a stage's key (a saved segment's rules; a journey's goal, trigger, set-stage step
# or branch) registers here in AppConfig.ready() a function that names each user of a stage,
# e.g. 'Journey “Onboarding” (its goal)'. A stage that is named must not be deleted under
# them; the refusal lists the names. Segments register from contacts' own ready(), higher
# apps from theirs, so contacts never imports them.
_lifecycle_stage_users: dict[str, Callable[[str], list[str]]] = {}
_pipeline_stage_users: dict[str, Callable[[PipelineStage], list[str]]] = {}
_pipeline_users: dict[str, Callable[[Pipeline], list[str]]] = {}


def lifecycle_stage_user_register(name: str, users: Callable[[str], list[str]]) -> None:
    _lifecycle_stage_users[name] = users


def pipeline_stage_user_register(name: str, users: Callable[[PipelineStage], list[str]]) -> None:
    _pipeline_stage_users[name] = users


def pipeline_user_register(name: str, users: Callable[[Pipeline], list[str]]) -> None:
    _pipeline_users[name] = users


def lifecycle_stage_held(key: str) -> bool:
    """Whether a contact is at the stage, or Cue itself writes it."""
    return key in LIFECYCLE_KEYS_CUE_WRITES or Contact.objects.filter(lifecycle_stage=key).exists()


def lifecycle_stage_users(key: str) -> list[str]:
    """What keeps the stage's key, by name."""
    return [name for users in _lifecycle_stage_users.values() for name in users(key)]


def lifecycle_stage_in_use(key: str) -> bool:
    return lifecycle_stage_held(key) or bool(lifecycle_stage_users(key))


def pipeline_stage_held(stage: PipelineStage) -> bool:
    """Whether an opportunity is at this stage (one with no pipeline is in the default)."""
    in_pipeline = Q(pipeline_id=stage.pipeline_id)
    if stage.pipeline.is_default:
        in_pipeline |= Q(pipeline__isnull=True)
    return Opportunity.objects.filter(in_pipeline, stage=stage.key).exists()


def pipeline_stage_users(stage: PipelineStage) -> list[str]:
    """What keeps the stage's key in its pipeline, by name."""
    return [name for users in _pipeline_stage_users.values() for name in users(stage)]


def pipeline_stage_in_use(stage: PipelineStage) -> bool:
    return pipeline_stage_held(stage) or bool(pipeline_stage_users(stage))


def pipeline_users(pipeline: Pipeline) -> list[str]:
    """What names the pipeline or one of its stages (deleting it deletes its stages)."""
    named = [name for users in _pipeline_users.values() for name in users(pipeline)]
    for stage in pipeline.stages.select_related("pipeline"):
        named += [f"{name} (stage {stage.key})" for name in pipeline_stage_users(stage)]
    return list(dict.fromkeys(named))
