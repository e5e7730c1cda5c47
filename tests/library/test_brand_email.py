"""The brand's name and postal address, edited in the admin, hold for the next email's lint
at once (no restart: the lint reads the brand at each use) and the edit is in the brand's
history with who made it."""

import pytest

from apps.accounts.models import Brand
from apps.library.errors import LibraryError
from apps.library.services import template_create, version_submit
from tests.accounts.test_brand import CHANGE, brand_form
from tests.library.test_email_html import ADDRESS, LINKS

pytestmark = pytest.mark.django_db

NEW_ADDRESS = "Acme Fleet LLC, 9 Harbor Road, Portland, ME 04101"


def email_for(marketer, name: str, brand: str, address: str):
    html = (
        f'<p>{brand}: <a href="{{link:recording}}">the recording</a>.</p>'
        f'<p>{address}<br><a href="{{link:unsubscribe}}">Unsubscribe</a></p>'
    )
    template = template_create(
        actor=marketer, name=name, channel="email", purpose="progress", category="marketing",
        subject="Your recording", body="", html=html, links=LINKS,
    )  # fmt: skip
    return template.versions.get()


def test_a_brand_edit_in_the_admin_holds_for_the_next_email_and_is_in_history(
    admin_client, admin_user, marketer
):
    before = email_for(marketer, "Before", "Cue Demo", ADDRESS)
    assert version_submit(actor=marketer, version=before, notify=False).status == "submitted"

    response = admin_client.post(CHANGE, brand_form(name="Acme Fleet", postal_address=NEW_ADDRESS))

    assert response.status_code == 302
    old = email_for(marketer, "Old brand", "Cue Demo", ADDRESS)
    with pytest.raises(LibraryError) as refused:
        version_submit(actor=marketer, version=old, notify=False)
    assert (
        f'The HTML part must show the postal address: "{NEW_ADDRESS}".'
        in (refused.value.as_field_errors()["html"])
    )
    new = email_for(marketer, "New brand", "Acme Fleet", NEW_ADDRESS)
    assert version_submit(actor=marketer, version=new, notify=False).status == "submitted"
    latest = Brand.history.order_by("-history_id").first()
    assert (latest.name, latest.postal_address, latest.history_user) == (
        "Acme Fleet",
        NEW_ADDRESS,
        admin_user,
    )
