"""Behaviour conditions: events a contact did (or did not do) and their opportunities.

Both compile to EXISTS / NOT EXISTS subqueries on the contact, never to joins, so a
contact with many events is still one row and "not" means "has none".
"""

import re
from datetime import timedelta

from django.db.models import Count, Exists, OuterRef, Q, Value
from django.db.models.fields.json import KeyTransform
from django.db.models.functions import Coalesce

from apps.contacts.models import Event, Opportunity, Pipeline, PipelineStage, StageMeaning
from apps.contacts.segments.registry import (
    SegmentContext,
    choices_check,
    choose_from,
    days_check,
    flag_check,
    is_number,
    is_whole_number,
    quoted,
    rule_error,
    rule_keys_check,
    rule_path,
)
from apps.contacts.stages import pipeline_stage_keys

EVENT_TYPE = re.compile(r"^[a-z][a-z0-9_]{1,62}$")
# A property key must not look like an array index (PostgreSQL reads "0" as one).
PROPERTY_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,99}$")
MAX_PROPERTIES = 20
MAX_COUNT = 10_000


def event_validate(rule: dict, path: str, context: SegmentContext) -> list[str]:
    optional = ["occurred", "within_days", "properties", "min_count"]
    errors = rule_keys_check(rule, path, required=["event"], optional=optional)
    if not (isinstance(rule["event"], str) and EVENT_TYPE.match(rule["event"])):
        message = (
            f"{quoted(rule['event'])} is not an event type; "
            "use a lowercase slug such as pricing_view"
        )
        errors.append(rule_error(rule_path(path, "event"), message))
    errors += flag_check(rule, "occurred", path)
    if "within_days" in rule:
        errors += days_check(
            rule["within_days"], rule_path(path, "within_days"), name="within_days"
        )
    if "min_count" in rule and not (
        is_whole_number(rule["min_count"]) and 1 <= rule["min_count"] <= MAX_COUNT
    ):
        message = f"min_count needs a whole number from 1 to {MAX_COUNT}"
        errors.append(rule_error(rule_path(path, "min_count"), message))
    if "properties" in rule:
        errors += _properties_check(rule["properties"], rule_path(path, "properties"))
    return errors


def _properties_check(properties, path: str) -> list[str]:
    if not isinstance(properties, dict) or not 1 <= len(properties) <= MAX_PROPERTIES:
        message = f'give an object of 1 to {MAX_PROPERTIES} properties, e.g. {{"plan": "pro"}}'
        return [rule_error(path, message)]
    errors = []
    for key, value in properties.items():
        if not PROPERTY_KEY.match(key):
            message = (
                f"{quoted(key)} is not a property name; use letters, digits, _ and -, "
                "starting with a letter or _"
            )
            errors.append(rule_error(path, message))
        elif not _is_property_value(value):
            message = f"{quoted(value)} is not a text or number value"
            errors.append(rule_error(rule_path(path, key), message))
    return errors


def _is_property_value(value) -> bool:
    return isinstance(value, str) or is_number(value)


def event_compile(rule: dict, context: SegmentContext) -> Q:
    events = Event.objects.filter(contact=OuterRef("pk"), type=rule["event"])
    if "within_days" in rule:
        events = events.filter(occurred_at__gte=context.now - timedelta(days=rule["within_days"]))
    for index, (key, value) in enumerate(rule.get("properties", {}).items()):
        # An explicit key transform under an alias: a key such as "contains" stays a key,
        # and filtering the alias prepares the value as JSON on every backend.
        alias = f"property_{index}"
        events = events.alias(**{alias: KeyTransform(key, "properties")}).filter(**{alias: value})
    min_count = rule.get("min_count", 1)
    if min_count > 1:
        events = events.values("contact").annotate(n=Count("pk")).filter(n__gte=min_count)
    happened = Q(Exists(events))
    return happened if rule.get("occurred", True) else ~happened


def opportunity_validate(rule: dict, path: str, context: SegmentContext) -> list[str]:
    """`{"opportunity": {"pipeline": "sales", "stage": [...], "meaning": [...]}}`: stages are
    keys of the named pipeline; without a pipeline, a key of any pipeline (and it matches in
    every pipeline that has it, as rules saved before pipelines did)."""
    errors = rule_keys_check(rule, path, required=["opportunity"], optional=["exists"])
    errors += flag_check(rule, "exists", path)
    at = rule_path(path, "opportunity")
    details = rule["opportunity"]
    if not isinstance(details, dict):
        return [*errors, rule_error(at, 'give an object, e.g. {"stage": ["demo"]}')]
    errors += rule_keys_check(details, at, required=[], optional=["pipeline", "stage", "meaning"])
    pipelines = {p.key: p for p in Pipeline.objects.prefetch_related("stages")}
    pipeline = details.get("pipeline")
    if "pipeline" in details and pipeline not in pipelines:
        message = f"{quoted(pipeline)} is not a pipeline; {choose_from(pipelines)}"
        return [*errors, rule_error(rule_path(at, "pipeline"), message)]
    if "stage" in details:
        errors += _stages_check(details["stage"], rule_path(at, "stage"), pipelines.get(pipeline))
    if "meaning" in details:
        errors += choices_check(
            details["meaning"],
            rule_path(at, "meaning"),
            allowed=list(StageMeaning.values),
            noun="stage meaning",
        )
    return errors


def _stages_check(stages, path: str, pipeline: Pipeline | None) -> list[str]:
    if pipeline is None:
        return choices_check(stages, path, allowed=pipeline_stage_keys(), noun="opportunity stage")
    allowed = [stage.key for stage in pipeline.stages.all()]
    noun = f'stage of the pipeline "{pipeline.key}"'
    return choices_check(stages, path, allowed=allowed, noun=noun)


def opportunity_compile(rule: dict, context: SegmentContext) -> Q:
    details = rule["opportunity"]
    opportunities = Opportunity.objects.filter(contact=OuterRef("pk"))
    if "pipeline" in details:
        opportunities = opportunities.filter(
            _in_pipeline(Pipeline.objects.get(key=details["pipeline"]))
        )
    if "stage" in details:
        opportunities = opportunities.filter(stage__in=details["stage"])
    if "meaning" in details:
        opportunities = opportunities.filter(_stage_means(details["meaning"]))
    exists = Q(Exists(opportunities))
    return exists if rule.get("exists", True) else ~exists


def _in_pipeline(pipeline: Pipeline) -> Q:
    """An opportunity with no pipeline is in the default one."""
    named = Q(pipeline_id=pipeline.pk)
    return named | Q(pipeline__isnull=True) if pipeline.is_default else named


def _stage_means(meanings: list[str]) -> Q:
    """The opportunity's stage, in its own pipeline, has one of the meanings."""
    default = Pipeline.objects.filter(is_default=True).values_list("pk", flat=True).first()
    stages = PipelineStage.objects.filter(
        key=OuterRef("stage"),
        pipeline_id=Coalesce(OuterRef("pipeline_id"), Value(default)),
        meaning__in=meanings,
    )
    return Q(Exists(stages))
