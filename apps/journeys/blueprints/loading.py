"""Loading a blueprint: a DRAFT journey owned by whoever loads it, never activated."""

from dataclasses import dataclass, field

from django.db import transaction

from apps.contacts.models import LifecycleMeaning, Segment
from apps.contacts.stages import lifecycle_first_key_meaning
from apps.journeys.blueprints.catalog import (
    BLUEPRINTS,
    SEGMENTS,
    Blueprint,
    LifecycleKeyOf,
    blueprint_templates,
)
from apps.journeys.models import Journey, JourneyStatus, Step
from apps.journeys.services import JourneyError
from apps.library.demo import demo_templates
from apps.library.models import MessageTemplate


@dataclass(frozen=True)
class BlueprintLoad:
    journey: Journey
    missing_templates: list[str] = field(default_factory=list)


def template_names() -> dict[str, str]:
    """Demo slug → template name, for every template a blueprint may use."""
    return {spec.slug: spec.name for spec in [*demo_templates(), *blueprint_templates()]}


def blueprint_get(slug: str) -> Blueprint:
    blueprint = next((b for b in BLUEPRINTS if b.slug == slug), None)
    if blueprint is None:
        raise JourneyError(f"No blueprint {slug!r}.", field="blueprint")
    return blueprint


@transaction.atomic
def blueprint_load(*, blueprint: Blueprint, actor, name: str | None = None) -> BlueprintLoad:
    """Creates a DRAFT journey from the blueprint, owned by `actor`; never activates it."""
    if not actor.has_perm("journeys.add_journey"):
        raise JourneyError("Only a marketer may create journeys.")
    fields = _stage_keys_put(blueprint, blueprint.fields)
    configs = [_stage_keys_put(blueprint, config) for _, _, config in blueprint.steps]
    templates, missing = _templates(blueprint)
    journey = Journey(
        name=_free_name(name or blueprint.name),
        status=JourneyStatus.DRAFT,
        owner=actor,
        entry_segment=_segment(blueprint.segment, actor),
        **fields,
    )
    _audited_save(journey, actor, f"Loaded from the blueprint {blueprint.name}")
    steps = []
    for position, ((key, kind, _), config) in enumerate(zip(blueprint.steps, configs, strict=True)):
        step = Step(
            journey=journey,
            key=key,
            kind=kind,
            config=_resolved(config, templates),
            position=position,
        )
        _audited_save(step, actor, f"Loaded from the blueprint {blueprint.name}")
        steps.append(step)
    journey.first_step = steps[0]
    _audited_save(journey, actor, "First step set")
    return BlueprintLoad(journey=journey, missing_templates=missing)


def _stage_keys_put(blueprint: Blueprint, value):
    """The value with each LifecycleKeyOf replaced by the key of the customer's stage with
    that meaning; a refusal that says what to add when no stage has it."""
    if isinstance(value, LifecycleKeyOf):
        key = lifecycle_first_key_meaning(value.meaning)
        if key is None:
            meaning = LifecycleMeaning(value.meaning).label.lower()
            raise JourneyError(
                f"The blueprint “{blueprint.name}” needs a lifecycle stage that means "
                f"{meaning}, and none does. Give one of your stages that meaning under "
                "Contacts → Lifecycle stage definitions, then load it again.",
                field="blueprint",
            )
        return key
    if isinstance(value, dict):
        return {name: _stage_keys_put(blueprint, item) for name, item in value.items()}
    if isinstance(value, list):
        return [_stage_keys_put(blueprint, item) for item in value]
    return value


def _audited_save(instance, actor, reason: str) -> None:
    instance._history_user = actor
    instance._change_reason = reason
    instance.save()


def _templates(blueprint: Blueprint) -> tuple[dict[str, int], list[str]]:
    names = template_names()
    wanted = {slug: names.get(slug, slug) for slug in blueprint.template_slugs()}
    found = {t.name.lower(): t.pk for t in MessageTemplate.objects.filter(name__in=wanted.values())}
    by_slug = {slug: found[name.lower()] for slug, name in wanted.items() if name.lower() in found}
    missing = [name for slug, name in wanted.items() if slug not in by_slug]
    return by_slug, missing


def _resolved(config: dict, templates: dict[str, int]) -> dict:
    reference = str(config.get("template", ""))
    if not reference.startswith("@"):
        return dict(config)
    resolved = {k: v for k, v in config.items() if k != "template"}
    if reference[1:] in templates:
        resolved["template"] = templates[reference[1:]]
    return resolved


def _segment(name: str, actor) -> Segment | None:
    if not name:
        return None
    segment = Segment.objects.filter(name=name).first()
    if segment is None:
        segment = Segment(name=name, rules=SEGMENTS[name], created_by=actor)
        _audited_save(segment, actor, "Created for a journey blueprint")
    return segment


def _free_name(name: str) -> str:
    taken = set(Journey.objects.filter(name__startswith=name).values_list("name", flat=True))
    if name not in taken:
        return name
    number = 2
    while f"{name} ({number})" in taken:
        number += 1
    return f"{name} ({number})"
