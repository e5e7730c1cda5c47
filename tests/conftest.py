import pytest

from apps.accounts import roles
from tests.factories import UserFactory


@pytest.fixture
def make_user(db):
    def make(role: str, **fields):
        return UserFactory(role=role, **fields)

    return make


@pytest.fixture
def admin_user(make_user):
    return make_user(roles.ADMIN, username="admin")


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client
