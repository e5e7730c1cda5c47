"""Messages a staff user sends to themselves through the normal pipeline: the code that
proves their phone is theirs, and test sends of a template version before anyone else
gets it. (Verification lives in accounts; texting the code needs the pipeline, so the
sending half lives here.)"""

import time
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from apps.accounts.models import PhoneVerification, User
from apps.accounts.services import phone_verification_start
from apps.consent.models import Channel
from apps.contacts.models import Contact
from apps.library.models import TemplateVersion
from apps.library.placeholders import placeholders_errors
from apps.sends.errors import SendsError
from apps.sends.models import MessageCategory, MessageOrigin, OutboundMessage
from apps.sends.services.messages import message_create, sample_contact

TEST_SEND_INTERVAL = timedelta(seconds=30)


@transaction.atomic
def phone_verification_send(*, user: User) -> tuple[PhoneVerification, OutboundMessage]:
    """Starts a verification of the user's phone and texts them its code."""
    verification, code = phone_verification_start(user=user)
    message = message_create(
        origin=MessageOrigin.NOTIFICATION,
        category=MessageCategory.NOTIFICATION,
        recipient_user=user,
        to_address=str(verification.phone),
        body=f"Your Cue verification code is {code}. It expires in 10 minutes.",
        send_key=f"verify:{verification.pk}",
    )
    return verification, message


@transaction.atomic
def version_test_send(
    *, version: TemplateVersion, user: User, contact: Contact | None = None
) -> OutboundMessage:
    """Sends the version, whatever its status, to the user's own verified phone (or, for
    email, their own address), rendered for `contact` or the sample contact and marked
    [TEST]. At most one per user per 30 seconds."""
    _placeholders_check(version)
    user = _test_send_throttle(user)
    channel = version.template.channel
    return message_create(
        origin=MessageOrigin.TEST_SEND,
        category=MessageCategory.TRANSACTIONAL,
        channel=channel,
        recipient_user=user,
        to_address=_own_address(user, channel),
        template_version=version,
        render_contact=contact if contact is not None else sample_contact(),
        send_key=f"test-send:{version.pk}:{user.pk}:{int(time.time())}",
    )


def _placeholders_check(version: TemplateVersion) -> None:
    errors = placeholders_errors(
        body=version.body, subject=version.subject, links=version.links,
        defaults=version.defaults, html=version.html,
    )  # fmt: skip
    if errors:
        found = " ".join(message for messages in errors.values() for message in messages)
        raise SendsError(
            f"Version {version.number} cannot be tested until it is fixed: {found}",
            field="template_version",
        )


def _test_send_throttle(user: User) -> User:
    """Locks the user's row, so that two clicks at once cannot both pass, and returns it
    fresh (its phone and verification as stored now)."""
    user = User.objects.select_for_update().get(pk=user.pk)
    since = timezone.now() - TEST_SEND_INTERVAL
    recent = OutboundMessage.objects.filter(
        origin=MessageOrigin.TEST_SEND, recipient_user=user, created_at__gte=since
    )
    if recent.exists():
        raise SendsError(
            "You sent yourself a test less than 30 seconds ago; wait a moment and try again.",
            field="template_version",
            code="rate_limited",
        )
    return user


def _own_address(user: User, channel: str) -> str:
    if channel == Channel.EMAIL:
        if not user.email:
            raise SendsError("You have no email address to send a test to.", field="email")
        return user.email
    if not user.phone_is_verified:
        raise SendsError(
            "Verify your phone before sending yourself a test.",
            field="phone",
            code="phone_unverified",
        )
    return str(user.phone)
