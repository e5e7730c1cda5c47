"""A customer's own pipeline and lifecycle stages, named nothing like Cue's defaults."""

from apps.contacts.models import LifecycleStageDefinition, Pipeline, PipelineStage

ENTERPRISE_STAGES = [
    ("disc", "Discovery", "open"),
    ("nego", "Negotiation", "open"),
    ("signed", "Signed", "won"),
    ("dropped", "Dropped", "lost"),
]


def enterprise_pipeline() -> Pipeline:
    """Discovery → Negotiation → Signed (won), or Dropped (lost); not the default."""
    pipeline = Pipeline.objects.create(key="enterprise", label="Enterprise")
    for order, (key, label, meaning) in enumerate(ENTERPRISE_STAGES, 1):
        PipelineStage.objects.create(
            pipeline=pipeline, key=key, label=label, order=order, meaning=meaning
        )
    return pipeline


def customer_lifecycle() -> None:
    """Two stages of the customer's own after Cue's defaults: evaluating (an SQL) and
    paying (a customer)."""
    LifecycleStageDefinition.objects.create(
        key="evaluating", label="Evaluating", order=10, meaning="sql"
    )
    LifecycleStageDefinition.objects.create(
        key="paying", label="Paying", order=20, meaning="customer"
    )
