from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Users, roles, teams for routing, and working hours."""

    name = "apps.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        # Django makes permissions after every migrate (post_migrate); the role groups
        # must then be brought up to date with them, or a new model's permissions would
        # reach no role until someone remembered to sync by hand.
        post_migrate.connect(_roles_sync_after_migrate, sender=self)


def _roles_sync_after_migrate(sender, using="default", **kwargs) -> None:
    from apps.accounts.roles import roles_sync

    roles_sync()
