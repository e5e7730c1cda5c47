"""Placeholders: what is accepted, the exact error for what is not, and rendering that
inserts contact data literally and never fails."""

from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.library.placeholders import (
    Invalid,
    Link,
    Text,
    Value,
    placeholders_errors,
    placeholders_parse,
    placeholders_validate,
    placeholders_worst_case,
    template_render,
    tracked_link_length,
)
from tests.factories import CompanyFactory, ContactFactory, UserFactory

LINKS = {"book": {"url": "https://example.com/book", "key": True}}
EXAMPLE = '{{ contact.first_name | "there" }}'


def validate(body, links=None, defaults=None):
    return placeholders_validate(
        body=body, links=LINKS if links is None else links, defaults=defaults or {}
    )


def version(body, subject="", defaults=None, links=None):
    return SimpleNamespace(
        body=body, subject=subject, defaults=defaults or {}, links=LINKS if links is None else links
    )


def contact(first_name="Dana", last_name="Reyes", company="Acme", owner="Sam", phone=None):
    return SimpleNamespace(
        first_name=first_name,
        last_name=last_name,
        company=SimpleNamespace(name=company),
        owner=SimpleNamespace(first_name=owner, phone=phone),
    )


# --- what is accepted -----------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "Hi {{ contact.first_name }}",
        "Hi {{contact.first_name}}",
        'Hi {{ contact.first_name | "there" }}',
        "Hi {{ contact.first_name|'there' }}",
        "{{ contact.last_name }} at {{ contact.company }} / {{ company.name }}",
        "Call {{ owner.first_name }} on {{ owner.phone }}",
        "Book: {link:book}",
        "Plain text with a lone { and } and {} and 50% off :-}",
    ],
)
def test_it_accepts_allowed_placeholders_and_plain_text(body):
    assert validate(body) == []


def test_it_tokenizes_text_values_and_links_in_order():
    assert placeholders_parse('Hi {{ contact.first_name | "there" }}, see {link:book}!') == [
        Text("Hi "),
        Value('{{ contact.first_name | "there" }}', "contact.first_name", "there"),
        Text(", see "),
        Link("{link:book}", "book"),
        Text("!"),
    ]


# --- each error, exactly --------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (
            "Hi {{ contact.nickname }}",
            'Unknown placeholder "{{ contact.nickname }}". Known placeholders: '
            "contact.first_name, contact.last_name, contact.company, company.name, "
            "owner.first_name, owner.phone, contact.attr.<key>.",
        ),
        ("{{ contact.__class__ }}", 'Attribute access is not allowed: "{{ contact.__class__ }}".'),
        (
            "{{ contact._state.db }}",
            'Attribute access is not allowed: "{{ contact._state.db }}".',
        ),
        (
            "{{ contact.first_name() }}",
            'Malformed placeholder "{{ contact.first_name() }}": write a name such as '
            "contact.first_name.",
        ),
        (
            "{{ contact.first_name | upper }}",
            'Malformed placeholder "{{ contact.first_name | upper }}": only a quoted default '
            f'may follow "|", e.g. {EXAMPLE}.',
        ),
        (
            "{{ contact.first_name | }}",
            'Malformed placeholder "{{ contact.first_name | }}": only a quoted default may '
            f'follow "|", e.g. {EXAMPLE}.',
        ),
        ("Hi {{ }}", f'Empty placeholder "{{{{ }}}}": name a value, e.g. {EXAMPLE}.'),
        (
            "{% if contact.first_name %}Hi",
            'Template logic is not allowed: "{% if contact.first_name %}".',
        ),
        ("Hi {{ contact.first_name, see you", 'Unclosed "{{" in "{{ contact.first_name, see you".'),
        ("Hi {% load os", 'Unclosed "{%" in "{% load os".'),
        ("Hi there }} bye", 'Stray "}}" with no "{{" before it in "Hi there }}".'),
        ("Hi %} bye", 'Stray "%}" with no "{%" before it in "Hi %}".'),
        (
            "Hi {first_name}",
            'Unknown placeholder "{first_name}": placeholders use double braces, e.g. '
            "{{ contact.first_name }}.",
        ),
        (
            "Book {link:Book_Now}",
            'Malformed link "{link:Book_Now}": a link key is lowercase letters, digits and '
            "underscores, e.g. {link:book}.",
        ),
        (
            "Book {link:}",
            'Malformed link "{link:}": a link key is lowercase letters, digits and '
            "underscores, e.g. {link:book}.",
        ),
        ("Book { link:book }", 'Malformed link "{ link:book }": write it as {link:key}.'),
        (
            "Join {link:join}",
            'Link "{link:join}" is not declared: add "join" to the links.',
        ),
    ],
)
def test_it_rejects_each_malformed_or_unknown_tag_with_its_exact_text(body, error):
    assert validate(body) == [error]


def test_it_reports_every_problem_once_in_order_quoting_at_most_40_characters():
    body = "{{ contact.x }} {link:join} {{ contact.x }} }}"

    assert validate(body) == [
        'Unknown placeholder "{{ contact.x }}". Known placeholders: contact.first_name, '
        "contact.last_name, contact.company, company.name, owner.first_name, owner.phone, "
        "contact.attr.<key>.",
        'Link "{link:join}" is not declared: add "join" to the links.',
        'Stray "}}" with no "{{" before it in "tact.x }} {link:join} {{ contact.x }} }}".',
    ]


@pytest.mark.parametrize(
    ("links", "error"),
    [
        ([], 'Links must be an object: {"book": {"url": "https://…", "key": false}}.'),
        (
            {"Book Now": {"url": "https://example.com"}},
            'Link key "Book Now" must be lowercase letters, digits and underscores.',
        ),
        ({"book": "https://example.com"}, 'Link "book" needs a "url".'),
        ({"book": {"url": "http://example.com"}}, 'Link "book" must point to an https:// address.'),
        (
            {"book": {"url": "javascript:alert(1)"}},
            'Link "book" must point to an https:// address.',
        ),
        (
            {"book": {"url": "https://example.com", "key": "yes"}},
            'Link "book": "key" must be true or false.',
        ),
        (
            {"book": {"url": "https://example.com", "utm": "x"}},
            'Link "book" has unknown fields: utm.',
        ),
    ],
)
def test_it_rejects_badly_declared_links(links, error):
    assert error in validate("Hi", links=links)


@pytest.mark.parametrize(
    ("defaults", "error"),
    [
        (["there"], 'Defaults must be an object: {"contact.first_name": "there"}.'),
        ({"contact.nickname": "pal"}, 'Default for unknown placeholder "contact.nickname".'),
        ({"contact.first_name": 3}, 'Default for "contact.first_name" must be text.'),
        (
            {"contact.first_name": "x" * 101},
            'Default for "contact.first_name" is longer than 100 characters.',
        ),
    ],
)
def test_it_rejects_bad_defaults(defaults, error):
    assert validate("Hi", defaults=defaults) == [error]


def test_it_keeps_links_out_of_an_email_subject():
    errors = placeholders_errors(body="Hi", subject="See {link:book}", links=LINKS, defaults={})

    assert errors == {"subject": ['Links belong in the body, not here: "{link:book}".']}


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from([*"{}%|\"' .:_-abclinkx", "\n", "é", "😜"])))
def test_it_reads_any_text_without_raising_and_loses_nothing(text):
    tokens = placeholders_parse(text)

    assert "".join(t.text if isinstance(t, Text) else t.source for t in tokens) == text
    invalid = {token.message for token in tokens if isinstance(token, Invalid)}
    assert invalid <= set(validate(text))


# --- rendering ------------------------------------------------------------------------


def test_it_renders_every_placeholder_and_link():
    rendered = template_render(
        version=version(
            "{{ contact.first_name }} {{ contact.last_name }} of {{ contact.company }} "
            "({{ company.name }}): call {{ owner.first_name }} at {{ owner.phone }} {link:book}",
            subject="For {{ contact.first_name }}",
        ),
        contact=contact(phone="+12025550105"),
        link_url=lambda key: f"https://cue.example.com/l/{key}-token",
    )

    assert rendered.body == (
        "Dana Reyes of Acme (Acme): call Sam at +12025550105 https://cue.example.com/l/book-token"
    )
    assert rendered.subject == "For Dana"
    assert rendered.link_keys == ("book",)


@pytest.mark.django_db
def test_it_renders_a_real_contact_with_its_company_and_owner():
    owner = UserFactory(first_name="Riley", phone="+12025550106")
    person = ContactFactory(
        first_name="Tom", company=CompanyFactory(name="Northwind Health"), owner=owner
    )

    rendered = template_render(
        version=version("{{ contact.first_name }} / {{ company.name }} / {{ owner.phone }}"),
        contact=person,
    )

    assert rendered.body == "Tom / Northwind Health / +12025550106"


@pytest.mark.parametrize(
    ("first_name", "defaults", "expected"),
    [
        ("Dana", {"contact.first_name": "friend"}, "Hi Dana"),
        ("", {"contact.first_name": "friend"}, "Hi there"),
        (None, {}, "Hi there"),
        ("   ", {}, "Hi there"),
    ],
)
def test_it_falls_back_to_the_inline_default(first_name, defaults, expected):
    rendered = template_render(
        version=version('Hi {{ contact.first_name | "there" }}', defaults=defaults),
        contact=contact(first_name=first_name),
    )

    assert rendered.body == expected


def test_it_falls_back_to_the_version_default_then_to_nothing():
    template = version(
        "Hi {{ contact.first_name }}, {{ contact.last_name }}!",
        defaults={"contact.first_name": "friend"},
    )

    rendered = template_render(version=template, contact=contact(first_name="", last_name=None))

    assert rendered.body == "Hi friend, !"


def test_it_renders_for_no_contact_at_all():
    rendered = template_render(
        version=version('Hi {{ contact.first_name | "there" }} from {{ owner.first_name }}'),
        contact=None,
    )

    assert rendered.body == "Hi there from "


def test_it_inserts_hostile_values_literally_and_never_renders_them_again():
    hostile = contact(
        first_name="{{ owner.phone }}",
        last_name="{% load os %}<script>alert(1)</script>",
        company="{link:book} }} {{",
        owner="😜" * 3,
    )

    rendered = template_render(
        version=version(
            "{{ contact.first_name }}|{{ contact.last_name }}|{{ contact.company }}|"
            "{{ owner.first_name }}"
        ),
        contact=hostile,
        link_url=lambda key: pytest.fail("a value must never mint a link"),
    )

    assert rendered.body == (
        "{{ owner.phone }}|{% load os %}<script>alert(1)</script>|{link:book} }} {{|😜😜😜"
    )
    assert rendered.link_keys == ()


def test_it_treats_a_value_that_cannot_be_read_as_missing():
    class Exploding:
        @property
        def first_name(self):
            raise RuntimeError("lazy load failed")

        @property
        def company(self):
            raise KeyError("company")

    class Unprintable:
        def __str__(self):
            raise ValueError("no")

    exploding = Exploding()
    exploding.owner = SimpleNamespace(first_name=Unprintable(), phone=None)

    rendered = template_render(
        version=version(
            'Hi {{ contact.first_name | "there" }} {{ company.name | "co" }} '
            '{{ owner.first_name | "us" }}'
        ),
        contact=exploding,
    )

    assert rendered.body == "Hi there co us"


def test_it_inserts_a_huge_value_whole():
    rendered = template_render(
        version=version("{{ contact.first_name }}!"), contact=contact(first_name="A" * 100_000)
    )

    assert rendered.body == "A" * 100_000 + "!"


def test_it_uses_a_stand_in_link_of_the_real_length_without_a_link_minter(settings):
    settings.PUBLIC_BASE_URL = "https://cue.example.com"

    rendered = template_render(version=version("{link:book}"), contact=None)

    assert rendered.body == "https://cue.example.com/l/" + "x" * 22
    assert len(rendered.body) == tracked_link_length() == 48


@settings(max_examples=300, deadline=None)
@given(first=st.text(), last=st.text(), company=st.text(), owner=st.text())
def test_it_renders_any_text_value_literally(first, last, company, owner):
    rendered = template_render(
        version=version(
            '{{ contact.first_name | "there" }}|{{ contact.last_name }}|{{ company.name }}|'
            "{{ owner.first_name }}"
        ),
        contact=contact(first, last, company, owner),
    )

    expected = f"{first.strip() or 'there'}|{last.strip()}|{company.strip()}|{owner.strip()}"
    assert rendered.body == expected


# --- worst case -----------------------------------------------------------------------


def test_it_sizes_the_worst_case_with_the_longest_values_and_real_links(settings):
    settings.PUBLIC_BASE_URL = "https://cue.example.com"
    text = (
        '{{ contact.first_name | "there" }} {{ contact.last_name }} {{ contact.company }} '
        "{{ owner.first_name }} {{ owner.phone }} {link:book}"
    )

    worst = placeholders_worst_case(text=text, defaults={"contact.last_name": "Zoë"})

    assert worst == " ".join(
        [
            "there" + "x" * 19,
            "Zoë" + "x" * 21,
            "x" * 40,
            "x" * 16,
            "x" * 16,
            "https://cue.example.com/l/" + "x" * 22,
        ]
    )


def test_a_default_longer_than_the_plausible_value_counts_whole():
    worst = placeholders_worst_case(
        text="{{ owner.first_name }}", defaults={"owner.first_name": "Your account manager"}
    )

    assert worst == "Your account manager"
