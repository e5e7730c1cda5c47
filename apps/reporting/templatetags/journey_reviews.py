"""`{% journey_reviews_waiting %}`: on the dashboard (the admin index), the journey versions
that wait for the signed-in approver, each linking to its journey."""

from django import template
from django.urls import reverse

from apps.journeys.selectors import journey_versions_awaiting_review

register = template.Library()

SHOWN = 10


@register.inclusion_tag("admin/journeys/reviews_waiting.html", takes_context=True)
def journey_reviews_waiting(context):
    user = context["request"].user
    if not user.has_perm("journeys.activate_journey"):
        return {"visible": False}
    waiting = journey_versions_awaiting_review(user=user).select_related("journey", "author")
    return {
        "visible": True,
        "count": waiting.count(),
        "versions": [
            (version, reverse("admin:journeys_journey_change", args=[version.journey_id]))
            for version in waiting.order_by("submitted_at", "pk")[:SHOWN]
        ],
    }
