"""Branch conditions: the contact as the CRM sees it now (the segment rule language), or
what became of a message an earlier step sent."""

from apps.journeys.models import Enrollment


def condition_holds(enrollment: Enrollment, condition: dict) -> tuple[bool, str]:
    if "rules" in condition:
        from apps.contacts.segments import segment_contacts

        holds = segment_contacts(rules=condition["rules"]).filter(pk=enrollment.contact_id).exists()
        return holds, f"Contact {'matches' if holds else 'does not match'} the branch rules."
    outcome = condition.get("step_outcome") or {}
    holds = step_outcome_happened(enrollment, outcome.get("step", ""), outcome.get("is", ""))
    verb = "was" if holds else "was not"
    return holds, f"The message of step {outcome.get('step')} {verb} {outcome.get('is')}."


def step_outcome_happened(enrollment: Enrollment, step_key: str, outcome: str) -> bool:
    from apps.sends.models import InboundMessage, LinkClick, OutboundMessage

    step = enrollment.journey.steps.filter(key=step_key).first()
    messages = OutboundMessage.objects.filter(
        enrollment_id=enrollment.pk, step_id=getattr(step, "pk", None)
    )
    if outcome == "delivered":
        return messages.filter(status="delivered").exists()
    if outcome == "clicked":
        return LinkClick.objects.filter(link__message__in=messages, is_bot=False).exists()
    if outcome == "replied":
        first = messages.filter(sent_at__isnull=False).order_by("sent_at").first()
        return (
            bool(first)
            and InboundMessage.objects.filter(
                from_address=first.to_address, received_at__gte=first.sent_at
            ).exists()
        )
    if outcome == "opened":
        from apps.contacts.models import Event

        ids = list(messages.values_list("pk", flat=True))
        return Event.objects.filter(
            contact_id=enrollment.contact_id, type="email_open", properties__message_id__in=ids
        ).exists()
    return False
