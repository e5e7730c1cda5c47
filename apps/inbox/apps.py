from django.apps import AppConfig


class InboxConfig(AppConfig):
    """The shared SMS inbox: every reply lands in a conversation someone can work."""

    name = "apps.inbox"
    label = "inbox"
    verbose_name = "Inbox"
    default_auto_field = "django.db.models.BigAutoField"

    periodic_tasks = {
        "file replies the inbox missed": {"task": "inbox.replies_sweep", "every": 300},
    }

    def ready(self) -> None:
        from apps.inbox.erasure import inbox_erasure_parts_register
        from apps.inbox.hooks import inbox_listen
        from apps.inbox.merge import inbox_merge_parts_register

        inbox_listen()
        inbox_merge_parts_register()
        inbox_erasure_parts_register()
