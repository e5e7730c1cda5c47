from django.apps import AppConfig


class SendsConfig(AppConfig):
    """The policy gate, outbound messages, transports, dispatch and Twilio webhooks."""

    name = "apps.sends"
    label = "sends"
    verbose_name = "Sends"

    periodic_tasks = {
        "sweep messages": {"task": "sends.messages_sweep", "every": 30},
    }

    def ready(self) -> None:
        from anymail.signals import inbound, tracking

        from apps.contacts.events import event_handler_register
        from apps.contacts.selectors import timeline_source_register
        from apps.sends.erasure import sends_erasure_parts_register
        from apps.sends.merge import sends_merge_parts_register
        from apps.sends.policy import gate_check_register
        from apps.sends.selectors import message_timeline_entries
        from apps.sends.sender_rule import SENDER_RULE_ORIGINS, sender_registration_check
        from apps.sends.services.double_opt_in import double_opt_in_on_events
        from apps.sends.webhooks.email import email_inbound_receive, email_tracking_receive

        event_handler_register("sends.double_opt_in", double_opt_in_on_events, order=10)
        timeline_source_register("sends", message_timeline_entries)
        sends_merge_parts_register()
        sends_erasure_parts_register()
        gate_check_register(
            "sender_registration", sender_registration_check, origins=SENDER_RULE_ORIGINS
        )
        tracking.connect(email_tracking_receive, dispatch_uid="sends.email_tracking")
        inbound.connect(email_inbound_receive, dispatch_uid="sends.email_inbound")
