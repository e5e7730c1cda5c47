"""The admin's forms for CRM mappings and the dry run. A mapping is checked against the
CRM's own field types when the CRM can be read, and against Cue's side alone when it
cannot (the CRM's values are then checked at sync, one by one); either way a mapping that
cannot hold the value is refused with the reason."""

from django import forms

from apps.contacts.models import LifecycleStageDefinition, PipelineStage
from apps.crm import mapping
from apps.crm.connections import connection_configured
from apps.crm.models import FieldMapping, ObjectType, StageMapping, System
from apps.crm.selectors import crm_fields_read, crm_pipelines_read
from apps.crm.sync.deals import ONLY_PIPELINE

# The objects each CRM has whose fields map onto Cue's (HubSpot has no leads).
MAPPED_OBJECT_TYPES = {
    System.HUBSPOT: (ObjectType.COMPANY, ObjectType.CONTACT, ObjectType.DEAL),
    System.SALESFORCE: (ObjectType.COMPANY, ObjectType.LEAD, ObjectType.CONTACT, ObjectType.DEAL),
}
_CUE_FIELD_HELP = (
    'A Cue field ("first_name", "email", "phone", "region", "name", "amount"…), a custom '
    'attribute as "attr.<key>", or a role: "owner", "lifecycle_stage", '
    '"consent.sms_opt_out", "consent.sms_opt_in", "consent.evidence".'
)


def _system_label(system: str) -> str:
    return System(system).label


class FieldMappingForm(forms.ModelForm):
    class Meta:
        model = FieldMapping
        fields = ["system", "object_type", "crm_field", "cue_field", "direction"]
        help_texts = {"cue_field": _CUE_FIELD_HELP}

    # Why the CRM's side was not checked, for the admin to say after saving.
    unchecked: str = ""

    def clean(self):
        data = super().clean()
        system, object_type = data.get("system"), data.get("object_type")
        crm_field, cue_field = data.get("crm_field"), data.get("cue_field")
        if not (system and object_type and crm_field and cue_field):
            return data
        if object_type not in MAPPED_OBJECT_TYPES[system]:
            names = ", ".join(MAPPED_OBJECT_TYPES[system])
            self.add_error("object_type", f"{_system_label(system)} maps only {names}.")
            return data
        if cue_field in (mapping.OPT_OUT, mapping.OPT_IN) and "email" in crm_field.lower():
            self.add_error(
                "cue_field",
                f"{crm_field} is about email; SMS consent needs a field of its own "
                "(an email opt-out or opt-in says nothing about texts).",
            )
            return data
        crm_type = self._crm_type(system, object_type, crm_field)
        if crm_type is None:
            return data
        problem = mapping.mapping_problem(object_type, cue_field, crm_type)
        if problem:
            self.add_error("cue_field", problem)
        self.instance.crm_type = crm_type
        return data

    def _crm_type(self, system: str, object_type: str, crm_field: str) -> str | None:
        """The CRM field's type; "" when the CRM cannot be read; None (with the form
        error) when the CRM has no such field."""
        read = crm_fields_read(system, object_type)
        if read.value is None:
            self.unchecked = (
                f"{read.problem} Its field type was not checked: each value will be checked "
                "at sync, and one Cue cannot hold is reported with its record."
            )
            return ""
        found = next((f for f in read.value if f.name == crm_field), None)
        if found is None:
            self.add_error(
                "crm_field",
                f"{_system_label(system)} has no {object_type} field {crm_field!r} "
                "(use the field's internal name, not its label).",
            )
            return None
        return found.type


class StageMappingForm(forms.ModelForm):
    """A CRM stage and the Cue stage it means. Where the CRM can be read, its pipelines'
    stages are offered to pick from, and a typed deal stage must be one of them."""

    crm_choice = forms.ChoiceField(
        label="CRM stage from the CRM",
        required=False,
        help_text="Pick a stage the CRM has, or type its pipeline and stage ids below.",
    )

    class Meta:
        model = StageMapping
        fields = [
            "system",
            "kind",
            "crm_choice",
            "crm_pipeline",
            "crm_stage",
            "pipeline_stage",
            "lifecycle_stage",
        ]
        labels = {"crm_pipeline": "CRM pipeline", "crm_stage": "CRM stage"}
        help_texts = {
            "crm_pipeline": "The CRM's pipeline id (HubSpot); Salesforce's one stage list is "
            '"opportunity"; empty for lifecycle stages.',
            "crm_stage": "The CRM's stage id (HubSpot), stage name (Salesforce), or "
            "lifecycle value.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.pipelines: dict = {}
        if "crm_stage" not in self.fields:
            return  # shown read-only: nothing to pick, so the CRM is not asked
        # A stage picked from the CRM says its system, kind and pipeline by itself.
        for name in ("system", "kind", "crm_stage"):
            self.fields[name].required = False
        self.fields["pipeline_stage"].queryset = PipelineStage.objects.select_related("pipeline")
        self.fields["lifecycle_stage"].queryset = LifecycleStageDefinition.objects.all()
        self.pipelines, problems = self._pipelines()
        self.fields["crm_choice"].choices = [("", "—"), *self._choices()]
        if problems:
            self.fields["crm_choice"].help_text += " " + " ".join(problems)

    def _pipelines(self) -> tuple[dict, list[str]]:
        pipelines, problems = {}, []
        for system in System.values:
            if not connection_configured(system):
                continue
            read = crm_pipelines_read(system)
            if read.value is None:
                problems.append(read.problem)
            else:
                pipelines[system] = read.value
        return pipelines, problems

    def _choices(self) -> list:
        groups = []
        for system, pipelines in self.pipelines.items():
            for pipeline in pipelines:
                options = [
                    (f"{system}|{pipeline.id}|{stage_id}", f"{label} ({stage_id})")
                    for stage_id, label in pipeline.stages
                ]
                groups.append((f"{_system_label(system)}: {pipeline.label}", options))
        return groups

    def clean(self):
        data = super().clean()
        if data.get("crm_choice"):
            self._take_choice(data)
        for name in ("system", "kind"):
            if not data.get(name) and name not in self.errors:
                self.add_error(name, "Choose one, or pick the stage from the CRM.")
        if self.errors:
            return data
        if not data.get("crm_stage"):
            self.add_error("crm_stage", "Name the CRM stage (or pick it from the CRM).")
            return data
        kind = data.get("kind")
        if kind == StageMapping.Kind.DEAL:
            self._deal_check(data)
        elif kind == StageMapping.Kind.LIFECYCLE:
            self._lifecycle_check(data)
        return data

    def _take_choice(self, data: dict) -> None:
        system, pipeline, stage = data["crm_choice"].split("|", 2)
        if data.get("system") and data["system"] != system:
            self.add_error("crm_choice", f"That is a {_system_label(system)} stage.")
            return
        if data.get("kind") == StageMapping.Kind.LIFECYCLE:
            # On the kind, so that the model's own check of the kind is not run on top.
            self.add_error("kind", "A stage picked from the CRM is a deal stage.")
            return
        data.update(system=system, kind=StageMapping.Kind.DEAL, crm_pipeline=pipeline)
        data["crm_stage"] = stage

    def _deal_check(self, data: dict) -> None:
        if data.get("lifecycle_stage"):
            self.add_error("lifecycle_stage", "A deal stage maps to a pipeline stage only.")
        if not data.get("pipeline_stage"):
            self.add_error("pipeline_stage", "Choose the Cue pipeline stage it means.")
        system = data.get("system")
        if not system:
            return
        if system in ONLY_PIPELINE:
            # The CRM has one stage list; the sync names it by this one pipeline.
            data["crm_pipeline"] = ONLY_PIPELINE[system]
        elif not data.get("crm_pipeline"):
            self.add_error("crm_pipeline", f"Name the {_system_label(system)} pipeline.")
            return
        self._stage_exists(system, data.get("crm_pipeline") or "", data["crm_stage"])

    def _stage_exists(self, system: str, pipeline_key: str, stage: str) -> None:
        pipelines = self.pipelines.get(system)
        if pipelines is None:
            return  # the CRM could not be read: a deal in an unknown stage is reported at sync
        for pipeline in pipelines:
            if pipeline.id != pipeline_key:
                continue
            if stage in {stage_id for stage_id, _ in pipeline.stages}:
                return
            names = ", ".join(stage_id for stage_id, _ in pipeline.stages)
            self.add_error("crm_stage", f"{pipeline.label} has no stage {stage!r}: {names}.")
            return
        self.add_error("crm_pipeline", f"{_system_label(system)} has no pipeline {pipeline_key!r}.")

    def _lifecycle_check(self, data: dict) -> None:
        if data.get("pipeline_stage"):
            self.add_error("pipeline_stage", "A lifecycle value maps to a lifecycle stage only.")
        if not data.get("lifecycle_stage"):
            self.add_error("lifecycle_stage", "Choose the Cue lifecycle stage it means.")
        data["crm_pipeline"] = ""


class DryRunForm(forms.Form):
    object_type = forms.ChoiceField(
        choices=[
            (t.value, t.label)
            for t in (
                ObjectType.OWNER,
                ObjectType.COMPANY,
                ObjectType.LEAD,
                ObjectType.CONTACT,
                ObjectType.DEAL,
            )
        ],
        help_text="Its first 20 records are read from the CRM and applied as a sync would, "
        "then everything is rolled back.",
    )

    def __init__(self, *args, system: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.system = system

    def clean_object_type(self) -> str:
        object_type = self.cleaned_data["object_type"]
        if object_type != ObjectType.OWNER and object_type not in MAPPED_OBJECT_TYPES[self.system]:
            raise forms.ValidationError(f"{_system_label(self.system)} has no {object_type}s.")
        return object_type
