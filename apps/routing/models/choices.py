from django.db import models


class SignalType(models.TextChoices):
    """What happened that may deserve a person's follow-up."""

    REPLY = "reply", "Replied by SMS"
    KEY_LINK_CLICK = "key_link_click", "Clicked a key link"
    DEMO_REQUEST = "demo_request", "Requested a demo"
    PRICING_VIEW = "pricing_view", "Viewed pricing with high intent"
    JOURNEY_STEP = "journey_step", "A journey asked for a follow-up"


class Intent(models.TextChoices):
    """What an inbound reply means, as far as words can tell."""

    POSITIVE = "positive", "Positive: interested, call me, book, pricing"
    NEGATIVE = "negative", "Negative or not now"
    QUESTION = "question", "A question"
    NEUTRAL = "neutral", "No clear intent"


class JourneyScope(models.TextChoices):
    ANY = "any", "In a journey or not"
    IN_JOURNEY = "in_journey", "Only during a journey"
    OUTSIDE_JOURNEY = "outside_journey", "Only outside journeys"


class Strategy(models.TextChoices):
    OWNER_FIRST = "owner_first", "Contact owner, else round robin in the team, else the team queue"
    ROUND_ROBIN = "round_robin", "Round robin in the team, else the team queue"
    QUEUE = "queue", "Straight to the team queue"


class SlaClock(models.TextChoices):
    BUSINESS = "business", "Business hours (the owner's working hours)"
    CLOCK = "clock", "Clock time (24/7)"


class Priority(models.IntegerChoices):
    URGENT = 1, "Urgent"
    HIGH = 2, "High"
    NORMAL = 3, "Normal"
    LOW = 4, "Low"


class TaskStatus(models.TextChoices):
    OPEN = "open", "Open"
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"
    CANCELED = "canceled", "Canceled"


OPEN_STATUSES = (TaskStatus.OPEN, TaskStatus.IN_PROGRESS)


class Outcome(models.TextChoices):
    MEETING_BOOKED = "meeting_booked", "Meeting booked"
    CONNECTED = "connected", "Connected"
    LEFT_VOICEMAIL = "left_voicemail", "Left voicemail"
    NOT_INTERESTED = "not_interested", "Not interested"
    WRONG_NUMBER = "wrong_number", "Wrong number"


class AssignmentKind(models.TextChoices):
    OWNER = "owner", "Contact owner"
    ROUND_ROBIN = "round_robin", "Round robin"
    QUEUE = "queue", "Team queue"
    REASSIGNED = "reassigned", "Reassigned by a manager"
    TAKEN = "taken", "Taken from the team queue"


class EscalationKind(models.TextChoices):
    WARNING = "warning", "SLA warning sent to the owner"
    BREACH = "breach", "SLA breached; manager told"
    REQUEUED = "requeued", "Moved to the team queue after the breach"


class NotificationKind(models.TextChoices):
    ASSIGNED = "assigned", "New task"
    QUEUED = "queued", "New task in the team queue"
    REASSIGNED = "reassigned", "Task reassigned to you"
    WARNING = "warning", "SLA about to breach"
    BREACH = "breach", "SLA breached"


class WebhookEvent(models.TextChoices):
    TASK_CREATED = "task.created", "Task created"
    TASK_UPDATED = "task.updated", "Task updated"
    TASK_COMPLETED = "task.completed", "Task completed"
    SIGNAL_RECEIVED = "signal.received", "Intent signal received"
    MESSAGE_STATUS = "message.status", "Message status (sent, delivered, failed, …)"
    MESSAGE_CLICKED = "message.clicked", "Tracked link clicked"
    MESSAGE_REPLIED = "message.replied", "Reply received"
    CONSENT_CHANGED = "consent.changed", "Consent changed"
