"""`field__one_of=values`: the `in` lookup for the long lists of a batch (a sync page's
2,000 record ids). On PostgreSQL the values travel as one array parameter,
`field = ANY(%s::bigint[])` or `::text[]`: with `in`, Django compiles a placeholder per
value and psycopg quotes each one into the statement, about 14 ms of CPU for 2,000 ids,
and the server parses them all again. Same rows as `in`; elsewhere it is `in`.

Registered on every field but relations (give their column: `company_id__one_of`) by
CoreConfig.ready()."""

from django.core.exceptions import EmptyResultSet
from django.db import models
from django.db.models.lookups import In

_INTEGERS = {
    "AutoField",
    "BigAutoField",
    "SmallAutoField",
    "IntegerField",
    "BigIntegerField",
    "SmallIntegerField",
    "PositiveIntegerField",
    "PositiveBigIntegerField",
    "PositiveSmallIntegerField",
}
_TEXTS = {"CharField", "TextField", "SlugField", "EmailField"}


class OneOf(In):
    lookup_name = "one_of"

    def as_postgresql(self, compiler, connection):
        element = _array_element(self.lhs.output_field)
        if element is None or not self.rhs_is_direct_value():
            return super().as_sql(compiler, connection)
        # The values were prepared one by one by the field (get_prep_lookup), as for `in`.
        values = list(dict.fromkeys(value for value in self.rhs if value is not None))
        if not values:
            raise EmptyResultSet
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s::{element}[])", [*lhs_params, values]


def _array_element(field: models.Field) -> str | None:
    """The array type the values go in (no length: a varchar(n) cast would cut a longer
    value short and let it match), or None for a field this lookup leaves to `in`."""
    if field.is_relation:
        field = field.target_field
    kind = field.get_internal_type()
    if kind in _INTEGERS:
        return "bigint"
    if kind in _TEXTS:
        return "text"
    return None
