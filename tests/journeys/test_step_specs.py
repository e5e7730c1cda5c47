"""One definition per step kind: every kind has one complete spec in the registry, its config
reads and writes the stored form, and the simulator runs the engine's own step logic dry —
it takes the same path and writes nothing."""

import inspect
from dataclasses import is_dataclass

import pytest
from django.apps import apps

from apps.journeys.admin.forms import StepForm
from apps.journeys.admin.journeys import KIND_FIELDSETS
from apps.journeys.models import Activity, Enrollment, Step, StepKind
from apps.journeys.simulator import journey_simulate
from apps.journeys.steps import SPECS, Move, StepConfig, StepSpec, step_form_initial
from apps.journeys.steps.branch import BranchConfig
from apps.journeys.steps.wait import WaitConfig
from tests.journeys.builders import journey_build, sms_template
from tests.journeys.scenario import happen

pytestmark = pytest.mark.django_db

LEADS = {"all": [{"field": "lifecycle_stage", "op": "in", "value": ["lead"]}]}


@pytest.mark.parametrize("kind", StepKind.values)
def test_every_kind_has_one_complete_spec(kind):
    spec = SPECS[kind]
    assert isinstance(spec, StepSpec) and not inspect.isabstract(type(spec))
    assert spec.kind == kind
    assert spec.badge and spec.colour.startswith("#")
    assert is_dataclass(spec.Config) and issubclass(spec.Config, StepConfig)
    config = spec.config(Step(kind=kind, config={}))
    assert isinstance(config, spec.Config)
    assert isinstance(config.stored(), dict)
    assert all(isinstance(edge, tuple) and len(edge) == 2 for edge in spec.edges(config))
    assert isinstance(spec.problems(Step(kind=kind, key="a", config={}), config), list)
    assert isinstance(spec.summary(config, {}), str)
    assert isinstance(spec.config_from_form({}), spec.Config)
    assert isinstance(spec.initial(config, own=True), dict)
    assert set(_flat(spec.layout)) <= set(StepForm.base_fields)
    assert (spec.fieldset == "") == (kind not in _kinds_with_a_fieldset())


def test_the_registry_holds_every_kind_and_nothing_else():
    assert sorted(SPECS) == sorted(StepKind.values)


def test_a_spec_without_a_run_cannot_be_registered():
    class Incomplete(StepSpec):
        kind, badge, colour, fieldset = "ring", "RING", "#ffffff", ""
        Config = WaitConfig

        def edges(self, config):
            return []

        def summary(self, config, template_names):
            return ""

        def config_from_form(self, cleaned):
            return WaitConfig()

    with pytest.raises(TypeError):
        Incomplete()


def test_a_config_reads_and_writes_the_stored_form():
    stored = {"condition": {"rules": LEADS}, "then": "text", "else": "done"}
    config = BranchConfig.read(stored)
    assert (config.then, config.otherwise) == ("text", "done")
    assert config.stored() == stored
    # Unknown keys are not kept, a missing one takes its default, and junk reads as empty.
    assert BranchConfig.read({"then": "text", "colour": "red"}).stored() == {"then": "text"}
    assert BranchConfig.read(["not", "a", "dict"]) == BranchConfig()
    assert WaitConfig.read({"hours": 24}).stored() == {"hours": 24}


def test_the_builder_fills_each_kind_s_fields_from_the_stored_config():
    initial = step_form_initial(StepKind.WAIT, {"days": 2, "next": "text"})
    assert (initial["wait_amount"], initial["wait_unit"], initial["next_step"]) == (
        2,
        "days",
        "text",
    )
    assert (initial["on_suppressed"], initial["events"], initial["variants"]) == (
        "continue",
        [],
        [],
    )
    assert "sms_template" not in initial


def test_the_simulator_takes_the_engine_s_path_and_writes_nothing(
    clock, opted_in_contact, django_capture_on_commit_callbacks
):
    # Given a journey with a step of most kinds, and two leads
    journey = journey_build(
        steps=[
            ("check", "branch", {"condition": {"rules": LEADS}, "then": "call", "else": "done"}),
            ("call", "create_task", {"reason": "Call about the webinar", "next": "ab"}),
            (
                "ab",
                "split",
                {
                    "variants": [
                        {"name": "A", "percent": 100, "next": "text"},
                        {"name": "B", "percent": 0},
                    ]
                },
            ),
            ("text", "send_sms", {"template": sms_template().pk, "next": "promote"}),
            ("promote", "set_lifecycle_stage", {"stage": "mql", "next": "pause"}),
            ("pause", "wait", {"hours": 24, "next": "done"}),
            ("done", "exit", {}),
        ]
    )
    simulated, entered = (
        opted_in_contact(lifecycle_stage="lead"),
        opted_in_contact(lifecycle_stage="lead"),
    )
    before = _row_counts()
    # When one is simulated
    with django_capture_on_commit_callbacks() as callbacks:
        simulation = journey_simulate(
            journey=journey, contact=simulated, event_type="webinar_registered"
        )
    # Then the path runs to the end, and nothing was written or queued
    assert simulation.path == ["check", "call", "ab", "text", "promote", "pause", "done"]
    assert simulation.ending == "Ends here (completed)."
    assert _row_counts() == before and callbacks == []
    simulated.refresh_from_db()
    assert simulated.lifecycle_stage == "lead"
    # And the other, entering for real, takes the same steps as far as the wait
    with django_capture_on_commit_callbacks(execute=True):
        happen(entered, "webinar_registered", "reg-1")
    enrollment = Enrollment.objects.get(contact=entered)
    taken = Activity.objects.filter(enrollment=enrollment).exclude(step_key="")
    keys = list(dict.fromkeys(taken.values_list("step_key", flat=True)))
    assert keys == simulation.path[: simulation.path.index("pause") + 1]
    assert (enrollment.state, enrollment.current_step.key) == ("waiting", "pause")


def test_a_run_decides_and_its_context_acts():
    """A run only returns a Move: the engine and the simulator act on it differently."""

    class Recording:
        dry, holdout = True, False

    move = SPECS[StepKind.EXIT].run(Recording(), Step(key="done", kind="exit"), None)
    assert move == Move(
        end_state="completed",
        reason="Reached an exit step.",
        said="Reaches an exit step.",
        ending="Ends here (completed).",
    )


def _flat(layout) -> list[str]:
    return [name for line in layout for name in (line if isinstance(line, tuple) else (line,))]


def _kinds_with_a_fieldset() -> set[str]:
    return {
        kind for title, (kinds, _) in KIND_FIELDSETS.items() if title != "Next" for kind in kinds
    }


def _row_counts() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}
