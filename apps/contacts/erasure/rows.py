"""Row helpers every part uses: rows as JSON-ready dicts, history rows, and scrubbing the
text and JSON columns of chosen rows."""

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from apps.contacts.erasure.traces import PersonTraces


class _Encoder(DjangoJSONEncoder):
    def default(self, o):
        try:
            return super().default(o)
        except TypeError:
            return str(o)  # phone numbers, IP objects: their text


def rows_export(queryset) -> list[dict]:
    """Every column of every row, JSON-ready (dates ISO 8601, decimals as text)."""
    return json.loads(json.dumps(list(queryset.order_by("pk").values()), cls=_Encoder))


def history_of(model) -> type[models.Model] | None:
    """The simple-history model of `model`, if it keeps history."""
    history = getattr(model, "history", None)
    return getattr(history, "model", None)


def history_export(model, ids) -> list[dict]:
    """The history rows of those objects (every version kept of each)."""
    history = history_of(model)
    if history is None:
        return []
    return rows_export(history.objects.filter(id__in=list(ids)).order_by("history_id"))


def history_count(model, ids) -> int:
    history = history_of(model)
    return history.objects.filter(id__in=list(ids)).count() if history else 0


def rows_scrub(queryset, fields: list[str], traces: PersonTraces, **set_values) -> int:
    """Replaces the person's traces in the text/JSON `fields` of each row, and sets
    `set_values` on every row; the rows changed are counted once each."""
    changed = 0
    for row in queryset.values("pk", *fields):
        values = {name: _scrubbed(row[name], traces) for name in fields}
        values = {name: value for name, value in values.items() if value != row[name]}
        values.update(set_values)
        if values:
            changed += queryset.model._base_manager.filter(pk=row["pk"]).update(**values)
    return changed


def history_scrub(model, ids, fields: list[str], traces: PersonTraces, **set_values) -> int:
    """rows_scrub on the history rows of those objects."""
    history = history_of(model)
    if history is None:
        return 0
    known = {f.name for f in history._meta.concrete_fields}
    fields = [name for name in fields if name in known]
    set_values = {name: value for name, value in set_values.items() if name in known}
    return rows_scrub(history.objects.filter(id__in=list(ids)), fields, traces, **set_values)


def _scrubbed(value, traces: PersonTraces):
    if isinstance(value, str):
        return traces.scrub(value)
    if isinstance(value, dict | list):
        return traces.scrub_data(value)
    return value
