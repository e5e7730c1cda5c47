"""Admin pieces every app uses."""

from functools import cached_property

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connection, models
from django_celery_beat import admin as celery_beat_admin
from django_celery_beat.models import PeriodicTask
from simple_history.admin import SimpleHistoryAdmin
from simple_history.models import DeletedObject
from simple_history.template_utils import HistoricalRecordContextHelper

from apps.core.text import StorableJSONField


class HistoryValues(HistoricalRecordContextHelper):
    """Values on the history page as people read them: an empty link is "(none)", not
    simple-history's "Deleted template version (pk=None)", and a deleted row says so."""

    def prepare_delta_change_value(self, change, value):
        if isinstance(value, DeletedObject):
            if value.pk is None:
                return "(none)"
            return f"{value.model._meta.verbose_name} #{value.pk} (deleted)"
        return super().prepare_delta_change_value(change, value)


class HistoryAdmin(SimpleHistoryAdmin):
    """History is evidence: it can be read, never reverted or edited through the admin.
    (simple-history's history page would otherwise save a POST from anyone who may view.)"""

    formfield_overrides = {models.JSONField: {"form_class": StorableJSONField}}

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)

    def revert_disabled(self, request, obj=None):
        return True

    def get_historical_record_context_helper(self, request, historical_record):
        return HistoryValues(self.model, historical_record)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Recorded or computed by Cue: read by those who may view, changed by no one (an admin
    included), so what is shown stays what happened."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CappedCountPaginator(Paginator):
    """Counts at most CAP rows (one bounded query), so a changelist over millions of rows
    never scans the whole table to number its pages; the last pages past CAP are reached
    by filtering or searching instead."""

    CAP = 10_000

    @cached_property
    def count(self) -> int:
        return self.object_list.order_by()[: self.CAP].count()


class IndexedValuesFilter(admin.SimpleListFilter):
    """A list filter offering a column's distinct values, found by hopping through the
    column's index (one seek per value) instead of a SELECT DISTINCT that reads every row:
    the difference between milliseconds and seconds on a table of ten million events.
    The column must lead an index. Subclass with `indexed_values_filter`."""

    field_name = ""
    MAX_VALUES = 200

    def lookups(self, request, model_admin):
        values = self._distinct_values(model_admin.model)
        return [(value, value) for value in values if value != ""]

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        return queryset.filter(**{self.field_name: self.value()})

    def _distinct_values(self, model) -> list:
        quote = connection.ops.quote_name
        table = quote(model._meta.db_table)
        column = quote(model._meta.get_field(self.field_name).column)
        with connection.cursor() as cursor:
            cursor.execute(
                f"""WITH RECURSIVE found(value) AS (
                    SELECT MIN({column}) FROM {table}
                    UNION ALL
                    SELECT (SELECT MIN({column}) FROM {table} WHERE {column} > found.value)
                    FROM found WHERE found.value IS NOT NULL
                ) SELECT value FROM found WHERE value IS NOT NULL LIMIT %s""",
                [self.MAX_VALUES],
            )
            return [str(row[0]) for row in cursor.fetchall()]


def indexed_values_filter(field_name: str, title: str) -> type[IndexedValuesFilter]:
    return type(
        f"{field_name.title().replace('_', '')}IndexedFilter",
        (IndexedValuesFilter,),
        {"field_name": field_name, "parameter_name": field_name, "title": title},
    )


class ScheduleAdmin(celery_beat_admin.PeriodicTaskAdmin):
    """The beat's own admin, its enable, disable, toggle and run actions kept to those who
    may change schedules: those actions ask for no permission of their own, so whoever may
    only look (Compliance) could otherwise switch the audits off, or run them."""

    def get_actions(self, request):
        if not self.has_change_permission(request):
            return {}
        return super().get_actions(request)


admin.site.unregister(PeriodicTask)
admin.site.register(PeriodicTask, ScheduleAdmin)
