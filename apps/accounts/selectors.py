from apps.accounts.models import User


def user_roles(*, user: User) -> list[str]:
    return sorted(user.groups.values_list("name", flat=True))
