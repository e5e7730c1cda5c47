"""Placeholders on custom attributes: {{ contact.attr.plan | "your plan" }}, checked
against the definitions when a draft is saved or submitted, rendered from the contact."""

import re

import pytest

from apps.contacts.models import AttributeDefinition
from apps.library.errors import LibraryError
from apps.library.placeholders import (
    placeholders_errors,
    placeholders_parse,
    placeholders_worst_case,
    template_render,
)
from apps.library.placeholders.syntax import Value
from apps.library.services import version_submit
from tests.factories import AttributeDefinitionFactory, ContactFactory
from tests.library.conftest import BODY

pytestmark = pytest.mark.django_db

PLAN = '{{ contact.attr.plan | "your plan" }}'


@pytest.fixture
def plan():
    return AttributeDefinitionFactory(key="plan", type="choice", options=["free", "pro"])


def errors(body, subject="", defaults=None):
    return placeholders_errors(body=body, subject=subject, links={}, defaults=defaults or {})


def test_it_reads_an_attribute_placeholder_with_its_default():
    assert placeholders_parse(f"On {PLAN}.")[1] == Value(PLAN, "contact.attr.plan", "your plan")


def test_a_defined_attribute_is_accepted(plan):
    assert errors(f"Hi, {PLAN}", subject="{{ contact.attr.plan }}") == {}


def test_an_undefined_attribute_is_refused_in_the_field_that_names_it(plan):
    found = errors(
        "{{ contact.attr.plna }} {{ contact.attr.plna }}",
        subject="{{ contact.attr.seats }}",
        defaults={"contact.attr.color": "red", "contact.attr.plan": "your plan"},
    )

    assert found == {
        "body": ['Unknown attribute "contact.attr.plna": define it as a contact attribute first.'],
        "subject": [
            'Unknown attribute "contact.attr.seats": define it as a contact attribute first.'
        ],
        "defaults": [
            'Unknown attribute "contact.attr.color": define it as a contact attribute first.'
        ],
    }


@pytest.mark.parametrize(
    "body", ["{{ contact.attr.Plan }}", "{{ contact.attr }}", "{{ contact.attr.plan.x }}"]
)
def test_a_malformed_attribute_name_is_an_unknown_placeholder(body):
    assert errors(body)["body"][0].startswith(f'Unknown placeholder "{body}". Known placeholders:')


def test_a_company_attribute_is_not_a_contact_attribute():
    AttributeDefinitionFactory(key="tier", object_type="company")

    assert list(errors("{{ contact.attr.tier }}")) == ["body"]


def test_it_renders_the_stored_value_or_the_default(plan):
    AttributeDefinitionFactory(key="trial", type="boolean")
    AttributeDefinitionFactory(key="channels", type="list")
    pro = ContactFactory(attributes={"plan": "pro", "trial": True, "channels": ["sms", "email"]})
    bare = ContactFactory(attributes={})
    text = f"{PLAN} / {{{{ contact.attr.trial }}}} / {{{{ contact.attr.channels | 'none' }}}}"
    version = type("V", (), {"body": text, "subject": "", "defaults": {}})()

    assert template_render(version=version, contact=pro).body == "pro / yes / sms, email"
    assert template_render(version=version, contact=bare).body == "your plan /  / none"


def test_worst_case_sizing_counts_an_attribute_at_40_characters():
    assert placeholders_worst_case(text="{{ contact.attr.plan }}", defaults={}) == "x" * 40


def test_submission_refuses_a_draft_whose_attribute_was_removed_since(
    plan, marketer, make_template
):
    template = make_template(body=BODY.replace("{{ contact.first_name", "{{ contact.attr.plan"))
    draft = template.versions.get()
    AttributeDefinition.objects.filter(key="plan").delete()

    message = 'Unknown attribute "contact.attr.plan": define it as a contact attribute first.'
    with pytest.raises(LibraryError, match=re.escape(message)):
        version_submit(actor=marketer, version=draft)

    draft.refresh_from_db()
    assert draft.status == "draft"
