"""`{% reviews_waiting %}`: on the dashboard (the admin index), how many template versions
wait for the signed-in reviewer, linking to the template list filtered to them."""

from django import template
from django.urls import reverse
from django.utils.http import urlencode

from apps.library.admin.templates import ReviewStateFilter
from apps.library.selectors import may_review_templates, versions_awaiting_review

register = template.Library()


@register.inclusion_tag("admin/library/reviews_waiting.html", takes_context=True)
def reviews_waiting(context):
    user = context["request"].user
    if not may_review_templates(user):
        return {"visible": False}
    query = urlencode({ReviewStateFilter.parameter_name: ReviewStateFilter.FOR_ME})
    return {
        "visible": True,
        "count": versions_awaiting_review(user=user).count(),
        "url": f"{reverse('admin:library_messagetemplate_changelist')}?{query}",
    }
