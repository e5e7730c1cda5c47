"""Which email backend the environment picks, and a production ESP never takes webhooks
without their basic-auth secret."""

from tests.core.test_manage_environment import _manage

SHOW = "from django.conf import settings; print(settings.EMAIL_BACKEND)"
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "s" * 50,
    "ALLOWED_HOSTS": "cue.example.com",
    "PUBLIC_BASE_URL": "https://cue.example.com",
}


def test_it_sends_through_the_esp_anymail_names():
    run = _manage(
        "shell", "-c", SHOW, ANYMAIL_ESP="postmark", ANYMAIL_WEBHOOK_SECRET="a:b", **PRODUCTION
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip().splitlines()[-1] == "anymail.backends.postmark.EmailBackend"


def test_without_an_esp_email_goes_by_email_url():
    run = _manage("shell", "-c", SHOW, EMAIL_URL="smtp://mail.example.com:25", **PRODUCTION)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip().splitlines()[-1] == "django.core.mail.backends.smtp.EmailBackend"


def test_production_refuses_an_esp_without_the_webhook_secret():
    run = _manage("shell", "-c", SHOW, ANYMAIL_ESP="postmark", **PRODUCTION)
    assert run.returncode == 1
    assert "ANYMAIL_WEBHOOK_SECRET (user:password) is required with ANYMAIL_ESP." in run.stderr


def test_it_refuses_an_esp_anymail_is_not_set_up_for_here():
    run = _manage("shell", "-c", SHOW, ANYMAIL_ESP="pigeon", DEBUG="true")
    assert run.returncode == 1
    assert "ANYMAIL_ESP must be one of postmark, sendgrid, mailgun, amazon_ses." in run.stderr
