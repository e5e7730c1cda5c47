"""The double opt-in request: a web-form opt-in to marketing SMS stays pending until the
person answers this text with YES."""

from apps.accounts.selectors import brand_current
from apps.consent.models import ConsentRecord
from apps.consent.services import CONSENT_PENDING_EVENT
from apps.sends.models import MessageOrigin
from apps.sends.services.messages import message_create


def confirmation_body(record: ConsentRecord) -> str:
    form = record.form
    brand = form.brand if form else brand_current().name
    program = f" {form.program_name}" if form else ""
    frequency = f" {form.message_frequency}." if form else ""
    return (
        f"{brand}: Reply YES to confirm you want{program} texts.{frequency} "
        "Msg & data rates may apply. Reply HELP for help, STOP to cancel."
    )


def double_opt_in_on_events(events) -> None:
    """Event handler: one confirmation request per pending opt-in (keyed by its record)."""
    for event in events:
        if event.type != CONSENT_PENDING_EVENT:
            continue
        record = (
            ConsentRecord.objects.select_related("form")
            .filter(pk=event.properties.get("consent_record_id"))
            .first()
        )
        if record is None:
            continue
        message_create(
            send_key=f"double-opt-in:{record.pk}",
            origin=MessageOrigin.DOUBLE_OPT_IN,
            category="transactional",
            contact=event.contact,
            to_address=record.address,
            body=confirmation_body(record),
        )
