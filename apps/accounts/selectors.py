from apps.accounts.models import BRAND_ID, Brand, User


def user_roles(*, user: User) -> list[str]:
    return sorted(user.groups.values_list("name", flat=True))


def brand_current() -> Brand:
    """The account's brand, read per use so an edit in the admin holds at once. An install
    whose brand was never set gets an empty one: lint then says to set it, and keyword
    replies carry no name rather than someone else's."""
    return Brand.objects.filter(pk=BRAND_ID).first() or Brand(pk=BRAND_ID)
