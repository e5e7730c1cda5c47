import factory

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
