"""Admin pieces every app uses."""

from functools import cached_property

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from simple_history.admin import SimpleHistoryAdmin


class HistoryAdmin(SimpleHistoryAdmin):
    """History is evidence: it can be read, never reverted or edited through the admin.
    (simple-history's history page would otherwise save a POST from anyone who may view.)"""

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)

    def revert_disabled(self, request, obj=None):
        return True


class CappedCountPaginator(Paginator):
    """Counts at most CAP rows (one bounded query), so a changelist over millions of rows
    never scans the whole table to number its pages; the last pages past CAP are reached
    by filtering or searching instead."""

    CAP = 10_000

    @cached_property
    def count(self) -> int:
        return self.object_list[: self.CAP].count()
