"""The lifecycle stages and the pipeline Cue starts with: today's keys, so every existing
Contact.lifecycle_stage and Opportunity.stage keeps its meaning. Seeded by migration 0007
and again after every migrate or flush that leaves the tables empty (post_migrate), never
over stages the customer has defined."""

from django.db import connection

# (key, label, meaning), in order.
LIFECYCLE = [
    ("subscriber", "Subscriber", "prospect"),
    ("lead", "Lead", "prospect"),
    ("mql", "Marketing qualified lead", "mql"),
    ("sql", "Sales qualified lead", "sql"),
    ("opportunity", "Opportunity", "opportunity"),
    ("customer", "Customer", "customer"),
    ("churned", "Churned", "churned"),
]
PIPELINE = ("sales", "Sales pipeline")
PIPELINE_STAGES = [
    ("discovery", "Discovery", "open"),
    ("demo", "Demo", "open"),
    ("proposal", "Proposal", "open"),
    ("negotiation", "Negotiation", "open"),
    ("closed_won", "Closed won", "won"),
    ("closed_lost", "Closed lost", "lost"),
]


def stages_seed(apps=None, schema_editor=None) -> None:
    """Creates the default stages where none exist. Safe to run again."""
    from django.apps import apps as global_apps

    apps = apps or global_apps
    conn = schema_editor.connection if schema_editor else connection
    if "contacts_pipelinestage" not in conn.introspection.table_names():
        return  # migrated back to before stages existed
    definition = apps.get_model("contacts", "LifecycleStageDefinition")
    pipeline_model = apps.get_model("contacts", "Pipeline")
    stage_model = apps.get_model("contacts", "PipelineStage")
    if not definition.objects.exists():
        definition.objects.bulk_create(
            definition(key=key, label=label, order=order, meaning=meaning)
            for order, (key, label, meaning) in enumerate(LIFECYCLE, 1)
        )
    if not pipeline_model.objects.exists():
        pipeline = pipeline_model.objects.create(
            key=PIPELINE[0], label=PIPELINE[1], is_default=True
        )
        stage_model.objects.bulk_create(
            stage_model(pipeline=pipeline, key=key, label=label, order=order, meaning=meaning)
            for order, (key, label, meaning) in enumerate(PIPELINE_STAGES, 1)
        )
