import factory
from django.utils import timezone

from apps.accounts.models import Team, User
from apps.accounts.services import user_role_set


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"Team {n}")


class UserFactory(factory.django.DjangoModelFactory):
    """A user holding one role: `UserFactory(role="Marketer")`."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.django.Password("pw-for-tests")

    @factory.post_generation
    def role(user, create, extracted, **kwargs):
        if create and extracted:
            user_role_set(user=user, role=extracted)


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "contacts.Company"

    name = factory.Faker("company")
    domain = factory.Sequence(lambda n: f"company{n}.example")


class ContactFactory(factory.django.DjangoModelFactory):
    """A prospect lead with a unique US mobile-style number and email."""

    class Meta:
        model = "contacts.Contact"

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.Sequence(lambda n: f"contact{n}@example.com")
    phone = factory.Sequence(lambda n: f"+1415555{n % 10000:04d}")
    time_zone = "America/Los_Angeles"
    region = "CA"


class EventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "contacts.Event"

    contact = factory.SubFactory(ContactFactory)
    type = "pricing_view"
    occurred_at = factory.LazyFunction(timezone.now)
    idempotency_key = factory.Sequence(lambda n: f"event-{n}")
    source = "test"


class MessageTemplateFactory(factory.django.DjangoModelFactory):
    """A marketing SMS template with no versions; add them with TemplateVersionFactory or,
    for anything past draft, through apps.library.services."""

    class Meta:
        model = "library.MessageTemplate"

    name = factory.Sequence(lambda n: f"Template {n}")
    channel = "sms"
    purpose = "remind"
    category = "marketing"


class TemplateVersionFactory(factory.django.DjangoModelFactory):
    """A draft version that passes marketing SMS lint as written."""

    class Meta:
        model = "library.TemplateVersion"

    template = factory.SubFactory(MessageTemplateFactory)
    number = factory.Sequence(lambda n: n + 1)
    author = factory.SubFactory(UserFactory, role="Marketer")
    body = (
        'Cue Demo: {{ contact.first_name | "Hi" }}, your webinar starts in 1 hour. '
        "Join: {link:join} Reply STOP to opt out."
    )
    links = factory.LazyFunction(lambda: {"join": {"url": "https://example.com/join"}})


class AttributeDefinitionFactory(factory.django.DjangoModelFactory):
    """A text attribute of contacts: `AttributeDefinitionFactory(key="plan", type="choice",
    options=["free", "pro"])`."""

    class Meta:
        model = "contacts.AttributeDefinition"

    object_type = "contact"
    key = factory.Sequence(lambda n: f"attr_{n}")
    label = factory.LazyAttribute(lambda d: d.key.replace("_", " ").capitalize())
    type = "text"
