"""Compliance lint, rule by rule: errors block a submission, warnings reach the approver."""

import pytest

from apps.accounts.models import Brand
from apps.accounts.services import brand_save
from apps.library.lint import Finding, LintInput, template_lint
from apps.library.preview import sms_worst_case

pytestmark = pytest.mark.django_db  # the brand lint demands is data

STOP = "Reply STOP to opt out."
ADDRESS = "Cue Demo Inc., 100 Market Street, Suite 300, Springfield, IL 62701"
CLEAN = f'Cue Demo: {{{{ contact.first_name | "Hi" }}}}, your webinar starts soon. {STOP}'


def lint(body, *, channel="sms", category="marketing", subject="", links=None, defaults=None):
    worst = sms_worst_case(body=body, defaults=defaults or {}) if channel == "sms" else None
    return template_lint(
        LintInput(
            channel=channel, category=category, body=body, subject=subject,
            links=links or {}, defaults=defaults or {}, worst_case=worst,
        )
    )  # fmt: skip


def rules(findings):
    return [(finding.rule, finding.level) for finding in findings]


def test_a_clean_marketing_sms_has_no_findings():
    assert lint(CLEAN) == []


# --- brand ----------------------------------------------------------------------------


def test_it_requires_the_brand_in_a_marketing_sms():
    assert lint(f"Your webinar starts soon. {STOP}") == [
        Finding(
            "brand_missing", "error", 'Say who is texting: a marketing SMS must name "Cue Demo".'
        )
    ]


def test_it_finds_the_brand_in_any_case():
    assert lint(f"CUE DEMO: your webinar starts soon. {STOP}") == []


def test_it_reads_the_brand_the_admin_set_at_each_run():
    brand_save(name="Acme Fleet")

    assert rules(lint(CLEAN)) == [("brand_missing", "error")]
    assert lint(f"Acme Fleet: your webinar starts soon. {STOP}") == []


def test_it_refuses_a_placeholder_inside_the_brand():
    assert lint(f"Cue {{{{ contact.first_name }}}}Demo: hi. {STOP}")[0] == Finding(
        "brand_placeholder",
        "error",
        'Write the brand name "Cue Demo" out in full, with no placeholder inside it.',
    )


def test_it_asks_for_a_brand_name_while_none_is_set():
    Brand.objects.all().delete()

    assert lint(CLEAN) == [
        Finding(
            "brand_unset",
            "error",
            "The brand has no name yet: an admin sets it under Accounts → Brand.",
        )
    ]


def test_a_brand_that_only_a_placeholder_default_would_print_does_not_count():
    body = f'{{{{ company.name | "Cue Demo" }}}}: your webinar starts soon. {STOP}'

    assert rules(lint(body)) == [("brand_missing", "error")]


# --- opt-out --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "opt_out",
    [
        "Reply STOP to opt out.",
        "reply stop to unsubscribe",
        "Txt STOP to end",
        "Text STOP to quit.",
        "STOP to cancel",
        "Reply STOP to stop.",
    ],
)
def test_it_accepts_common_opt_out_wording(opt_out):
    assert lint(f"Cue Demo: your webinar starts soon. {opt_out}") == []


@pytest.mark.parametrize(
    "body",
    [
        "Cue Demo: your webinar starts soon.",
        "Cue Demo: STOP by our booth!",
        "Cue Demo: Reply {{ contact.first_name }} STOP.",
    ],
)
def test_it_requires_opt_out_language_in_a_marketing_sms(body):
    assert [f for f in lint(body) if f.level == "error"] == [
        Finding(
            "opt_out_missing",
            "error",
            'Tell the recipient how to opt out, e.g. "Reply STOP to opt out".',
        )
    ]


# --- segments -------------------------------------------------------------------------


def test_it_limits_a_marketing_sms_to_three_segments_at_its_longest():
    body = f'Cue Demo: {"a" * 400} {{{{ contact.company | "you" }}}} {STOP}'

    assert lint(body) == [
        Finding(
            "segments",
            "error",
            "At its longest this message needs 4 segments; a marketing SMS may use at most 3.",
        )
    ]


def test_it_counts_placeholders_at_their_longest_not_as_typed():
    # 454 septets fit 3 segments as typed, but a 40-character company tips it to 4.
    body = f"Cue Demo: {'a' * 400}{{{{ contact.company }}}} {STOP}"
    assert len(body) == 454

    assert rules(lint(body, defaults={"contact.company": "you"})) == [("segments", "error")]


def test_it_reads_the_segment_limit_from_settings(settings):
    settings.CUE_TEMPLATE_LINT = {**settings.CUE_TEMPLATE_LINT, "MAX_SEGMENTS": 1}
    body = f"Cue Demo: {'a' * 160} {STOP}"

    assert rules(lint(body)) == [("segments", "error")]


def test_marketing_sms_rules_can_be_switched_off(settings):
    settings.CUE_TEMPLATE_LINT = {**settings.CUE_TEMPLATE_LINT, "MARKETING_SMS": False}

    assert lint("Your webinar starts soon." + "a" * 600) == []


# --- URL shorteners -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "domain"),
    [
        ("bit.ly/3xYz", "bit.ly"),
        ("https://TinyURL.com/abc", "tinyurl.com"),
        ("http://t.co/abc", "t.co"),
        ("see goo.gl/maps/x", "goo.gl"),
    ],
)
def test_it_refuses_a_public_url_shortener_in_the_body(text, domain):
    assert lint(f"Cue Demo: details at {text} {STOP}") == [
        Finding(
            "shortener",
            "error",
            f'The public URL shortener "{domain}" is not allowed: carriers filter it. '
            "Use a tracked link such as {link:book}.",
        )
    ]


@pytest.mark.parametrize("text", ["at.com", "https://example.com/t.co-guide", "bowl.ly"])
def test_it_leaves_lookalike_addresses_alone(text):
    assert lint(f"Cue Demo: details at {text} {STOP}") == []


def test_it_refuses_a_shortener_as_a_link_destination():
    links = {"book": {"url": "https://www.bit.ly/book", "key": True}}

    assert lint(f"Cue Demo: book at {{link:book}} {STOP}", links=links) == [
        Finding(
            "shortener",
            "error",
            'Link "book" points at the public URL shortener "bit.ly": link to the destination '
            "itself.",
            "links",
        )
    ]


def test_it_refuses_shorteners_in_transactional_sms_too():
    assert rules(lint("Your code ships today: bit.ly/x", category="transactional")) == [
        ("shortener", "error")
    ]


# --- transactional templates that read as marketing ------------------------------------


def test_it_refuses_a_transactional_message_that_reads_as_promotional():
    findings = lint("Your order ships today. Take 20% off your next one - FREE delivery!",
                    category="transactional")  # fmt: skip

    assert findings == [
        Finding(
            "promotional",
            "error",
            'This transactional message reads as promotional ("% off", "free", "off your next"): '
            "remove the promotion, or make the template marketing, which needs marketing consent.",
        )
    ]


def test_everyday_phrases_holding_a_promotional_word_are_not_promotional():
    assert lint("Your meeting is at 3pm. Feel free to reply with questions.",
                category="transactional") == []  # fmt: skip
    assert rules(lint("Feel free to shop now.", category="transactional")) == [
        ("promotional", "error")
    ]


def test_it_matches_promotional_words_as_words():
    assert lint("Your route avoids the freeway today.", category="transactional") == []


def test_it_reads_the_promotional_words_from_settings(settings):
    settings.CUE_TEMPLATE_LINT = {**settings.CUE_TEMPLATE_LINT, "PROMOTIONAL_WORDS": ["upgrade"]}

    assert rules(lint("Your upgrade is ready.", category="transactional")) == [
        ("promotional", "error")
    ]


def test_marketing_sms_rules_do_not_apply_to_transactional_sms():
    assert lint("Your meeting with Riley is confirmed for 3pm.", category="transactional") == []


# --- email, and what applies to everything --------------------------------------------


def test_it_requires_a_subject_for_email():
    assert lint("Hello", channel="email", category="transactional") == [
        Finding("subject_required", "error", "An email template needs a subject.", "subject")
    ]


def test_marketing_email_needs_no_sms_opt_out():
    body = f"Cue Demo: the recording is ready.\n{ADDRESS}\nUnsubscribe: {{link:unsubscribe}}"
    assert lint(body, channel="email", subject="Your recording") == []


def test_it_requires_a_body():
    assert rules(lint("  ", category="transactional")) == [("body_required", "error")]


def test_it_warns_about_placeholders_without_a_default_and_unused_links():
    links = {"guide": {"url": "https://example.com/guide"}}

    findings = lint(
        "Cue Demo: hi {{ contact.first_name }} at {{ contact.company }}. " + STOP,
        links=links,
        defaults={"contact.company": "your team"},
    )

    assert findings == [
        Finding(
            "no_default",
            "warning",
            "{{ contact.first_name }} has no default, so it renders empty when the value is "
            "missing.",
        ),
        Finding("unused_link", "warning", 'Link "guide" is declared but not used.', "links"),
    ]


def test_it_lists_errors_before_warnings():
    findings = lint("Hi {{ contact.first_name }}")

    assert [finding.level for finding in findings] == ["error", "error", "warning"]
