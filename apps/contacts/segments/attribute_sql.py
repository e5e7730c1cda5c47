"""The SQL of attribute conditions, written for each database: a number read only where
the JSON holds a number, and equality as JSON containment (PostgreSQL, GIN-indexed) or
the JSON type and value at the key (SQLite)."""

import json

from django.db.models import BooleanField, Expression, F, FloatField


class _AttributeCondition(Expression):
    """A test on the contact's attribute `key`, written for each database."""

    output_field = BooleanField()
    conditional = True

    def __init__(self, key: str):
        super().__init__()
        self.column, self.key = F("attributes"), key

    def get_source_expressions(self):
        return [self.column]

    def set_source_expressions(self, expressions):
        (self.column,) = expressions

    def resolve_expression(self, *args, **kwargs):
        copy = self.copy()
        copy.column = self.column.resolve_expression(*args, **kwargs)
        return copy


class AttributeNumber(_AttributeCondition):
    """The value at the key as a number, or NULL when it is not a JSON number: a stray
    string left by an older definition of another type neither matches nor breaks a cast."""

    output_field = FloatField()
    conditional = False

    def as_postgresql(self, compiler, connection):
        sql, params = compiler.compile(self.column)
        number = f"jsonb_typeof({sql} -> %s) = 'number'"
        return (
            f"(CASE WHEN {number} THEN ({sql} ->> %s)::double precision END)",
            [*params, self.key, *params, self.key],
        )

    def as_sql(self, compiler, connection):
        sql, params = compiler.compile(self.column)
        path = f'$."{self.key}"'
        number = f"json_type({sql}, %s) IN ('integer', 'real')"
        return (
            f"(CASE WHEN {number} THEN json_extract({sql}, %s) END)",
            [*params, path, *params, path],
        )


class AttributeContains(_AttributeCondition):
    """The attribute equals `value` (or, for a list, holds the item).

    PostgreSQL: `attributes @> '{"key": value}'`, served by the GIN index. SQLite: the JSON
    type and value at the key, so that true never equals the number 1."""

    def __init__(self, key: str, value, *, item: bool = False):
        super().__init__(key)
        self.value, self.item = value, item

    def as_postgresql(self, compiler, connection):
        sql, params = compiler.compile(self.column)
        document = {self.key: [self.value] if self.item else self.value}
        return f"({sql} @> %s::jsonb)", [*params, json.dumps(document)]

    def as_sql(self, compiler, connection):
        sql, params = compiler.compile(self.column)
        path = f'$."{self.key}"'
        if self.item:
            inner = f"SELECT 1 FROM json_each({sql}, %s) AS item WHERE item.value = %s"
            return f"EXISTS ({inner})", [*params, path, self.value]
        if isinstance(self.value, bool):
            return f"(json_type({sql}, %s) = %s)", [*params, path, str(self.value).lower()]
        json_type = {str: "text", int: "integer", float: "real"}[type(self.value)]
        return (
            f"(json_type({sql}, %s) = %s AND json_extract({sql}, %s) = %s)",
            [*params, path, json_type, *params, path, self.value],
        )
