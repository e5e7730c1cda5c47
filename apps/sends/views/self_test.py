"""The "Send me a test" button of the template page: the working version, whatever its
status, to the user's own verified phone (or email), through the normal pipeline."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from apps.contacts.models import Contact
from apps.library.models import TemplateVersion
from apps.sends.errors import SendsError
from apps.sends.models import MessageStatus, OutboundMessage
from apps.sends.services.self_sends import version_test_send

NOT_SENT = (MessageStatus.SUPPRESSED, MessageStatus.CANCELED)


@require_POST
def version_test_send_view(request, version_id: int):
    if not request.user.has_perm("library.view_messagetemplate"):
        raise PermissionDenied
    version = get_object_or_404(TemplateVersion.objects.select_related("template"), pk=version_id)
    try:
        contact = _chosen_contact(request)
        message = version_test_send(version=version, user=request.user, contact=contact)
    except SendsError as error:
        messages.error(request, error.message)
    else:
        _report(request, version, message)
    return HttpResponseRedirect(
        reverse("admin:library_messagetemplate_change", args=[version.template_id])
    )


def _chosen_contact(request) -> Contact | None:
    """The contact the test is written for, if one was chosen (the preview's contact)."""
    raw = request.POST.get("contact", "").strip()
    if not raw:
        return None
    contact = None
    if raw.isdigit() and request.user.has_perm("contacts.view_contact"):
        contact = Contact.objects.select_related("company", "owner").filter(pk=raw).first()
    if contact is None:
        raise SendsError(f"There is no contact {raw} you can see.", field="contact")
    return contact


def _report(request, version: TemplateVersion, message: OutboundMessage) -> None:
    url = reverse("admin:sends_outboundmessage_change", args=[message.pk])
    if message.status in NOT_SENT:
        messages.warning(
            request,
            format_html(
                'The test was not sent: {} <a href="{}">Message {}</a>.',
                message.reason,
                url,
                message.pk,
            ),
        )
        return
    messages.success(
        request,
        format_html(
            'A test of version {} is on its way to {}. <a href="{}">Message {}</a>.',
            version.number,
            message.to_address,
            url,
            message.pk,
        ),
    )
