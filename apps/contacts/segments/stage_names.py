"""Which rules name a stage or a pipeline. A stage that a saved segment (or a journey's
branch, which uses the same rules) names must not be deleted under it: the rules would stop
compiling, or quietly match something else.

Only conditions are read, through groups: a "stage" key inside event properties is data,
not a stage. An opportunity rule without a pipeline names the key in every pipeline.
"""

from collections.abc import Iterator

from apps.contacts.models import Pipeline, PipelineStage, Segment
from apps.contacts.segments.registry import GROUP_KEYS
from apps.contacts.stages import (
    lifecycle_stage_user_register,
    pipeline_stage_user_register,
    pipeline_user_register,
)


def rule_conditions(rule) -> Iterator[dict]:
    """Every condition in the rule tree (a malformed part is skipped, never an error)."""
    if not isinstance(rule, dict):
        return
    if not any(key in rule for key in GROUP_KEYS):
        yield rule
        return
    for key in GROUP_KEYS:
        children = rule.get(key)
        for child in children if isinstance(children, list) else [children]:
            yield from rule_conditions(child)


def rules_name_lifecycle_stage(rules, key: str) -> bool:
    for condition in rule_conditions(rules):
        if condition.get("field") == "lifecycle_stage" and key in _as_list(condition.get("value")):
            return True
    return False


def rules_name_pipeline_stage(rules, *, pipeline_key: str, stage_key: str) -> bool:
    return any(
        details.get("pipeline", pipeline_key) == pipeline_key
        and stage_key in _as_list(details.get("stage"))
        for details in _opportunity_details(rules)
    )


def rules_name_pipeline(rules, pipeline_key: str) -> bool:
    return any(details.get("pipeline") == pipeline_key for details in _opportunity_details(rules))


def _opportunity_details(rules) -> Iterator[dict]:
    for condition in rule_conditions(rules):
        details = condition.get("opportunity")
        if isinstance(details, dict):
            yield details


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def stage_users_register() -> None:
    """Saved segments are users of the stages and pipelines they name."""
    lifecycle_stage_user_register("segments", segments_naming_lifecycle_stage)
    pipeline_stage_user_register("segments", segments_naming_pipeline_stage)
    pipeline_user_register("segments", segments_naming_pipeline)


def segments_naming_lifecycle_stage(key: str) -> list[str]:
    return _segments_where(lambda rules: rules_name_lifecycle_stage(rules, key))


def segments_naming_pipeline_stage(stage: PipelineStage) -> list[str]:
    pipeline_key = stage.pipeline.key
    return _segments_where(
        lambda rules: rules_name_pipeline_stage(
            rules, pipeline_key=pipeline_key, stage_key=stage.key
        )
    )


def segments_naming_pipeline(pipeline: Pipeline) -> list[str]:
    return _segments_where(lambda rules: rules_name_pipeline(rules, pipeline.key))


def _segments_where(names_it) -> list[str]:
    """Segments are few (tens, not millions): their rules are read and walked here."""
    segments = Segment.objects.only("name", "rules").order_by("name")
    return [f"Segment “{segment.name}”" for segment in segments if names_it(segment.rules)]
