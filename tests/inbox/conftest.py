import pytest

from apps.accounts import roles
from tests.routing.conftest import (  # noqa: F401 - fixtures shared with the task page's tests
    make_rep,
    manager,
    now,
    riley,
    sam,
    team,
    text_in,
)


@pytest.fixture
def compliance(make_user):
    return make_user(roles.COMPLIANCE, username="casey", first_name="Casey")
