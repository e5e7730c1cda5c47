"""A deliberately small SOQL: what Cue's Salesforce adapter sends, and nothing more.

    SELECT field, ... FROM Object
      [WHERE condition]  -- comparisons (= != < <= > >=), IN (...), NOT IN (...),
                         -- AND / OR with parentheses (SOQL refuses a bare mix of the two)
      [ORDER BY field [ASC|DESC], ...]
      [LIMIT n]

Anything else (relationship paths, subqueries, functions, LIKE, GROUP BY, OFFSET, date
literals such as TODAY) is refused with Salesforce's MALFORMED_QUERY, so an adapter that
drifts into a query the fake cannot judge fails loudly instead of passing on a guess.
Datetimes compare at whole seconds, as Salesforce compares SystemModstamp.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from .schema import ObjectSpec

DATETIME_TYPES = {"datetime"}
DATE_TYPES = {"date"}
NUMBER_TYPES = {"int", "double", "currency", "percent"}
STRING_TYPES = {"string", "email", "phone", "url", "textarea", "id", "reference", "picklist"}

TOKEN = re.compile(
    r"""\s*(?:
      (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2}))
    | (?P<date>\d{4}-\d{2}-\d{2})
    | (?P<number>-?\d+(?:\.\d+)?)
    | (?P<string>'(?:[^'\\]|\\.)*')
    | (?P<op><=|>=|!=|<>|=|<|>)
    | (?P<punct>[(),])
    | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
    | (?P<other>\S)
    )""",
    re.VERBOSE,
)
KEYWORDS = {
    "SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "IN", "ORDER", "BY", "ASC", "DESC",
    "LIMIT", "NULL", "TRUE", "FALSE",
}  # fmt: skip


class SoqlError(Exception):
    """A query Salesforce would refuse, with its errorCode (MALFORMED_QUERY,
    INVALID_FIELD, INVALID_TYPE)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


Predicate = Callable[[dict[str, Any]], bool]
# Sorts after every record id: (X, this) is past every row stamped X.
_AFTER_EVERY_ID = "\U0010ffff"


@dataclass(frozen=True)
class Condition:
    """A parsed WHERE node: a predicate plus the least (SystemModstamp, Id) it can match
    (None: unbounded), which lets the store start a keyset scan where the matches start
    (at the page's own position, even inside a hundred thousand rows sharing one
    SystemModstamp), and the field values every match must hold one of
    (`field IN (...)`, None: any), which lets it look the rows up by value instead of
    reading them all, as Salesforce's indexes on Id and lookup fields do.
    `stamp_equals` and `id_floor` are what an atom says of each half of the pair, for
    the AND around it to combine."""

    matches: Predicate
    key_floor: tuple[str, str] | None
    one_of: tuple[str, frozenset] | None = None
    stamp_equals: str | None = None
    id_floor: str | None = None


@dataclass(frozen=True)
class Query:
    object_name: str
    fields: tuple[str, ...]
    where: Condition | None
    order_by: tuple[tuple[str, bool], ...]  # (field, descending)
    limit: int | None


def datetime_canonical(moment: datetime) -> str:
    """The one text form of a datetime in the fake: Salesforce's own, at whole seconds.
    Lexical order of these strings is time order, which the store's index relies on."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


DATETIME_LITERAL = re.compile(
    r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.\d+)?(Z|([+-])(\d{2}):(\d{2}))$"
)


def datetime_literal_parse(text: str) -> str:
    match = DATETIME_LITERAL.match(text)
    if match is None:
        raise SoqlError("MALFORMED_QUERY", f"invalid dateTime literal: {text}")
    base, zone, sign, hours, minutes = match.groups()
    moment = datetime.strptime(base, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    if zone != "Z":
        offset = timedelta(hours=int(hours), minutes=int(minutes))
        moment = moment - offset if sign == "+" else moment + offset
    return datetime_canonical(moment)


def tokenize(text: str) -> list[tuple[str, str]]:
    tokens = []
    position = 0
    while position < len(text):
        match = TOKEN.match(text, position)
        if match is None or match.end() == position:
            break
        position = match.end()
        kind = match.lastgroup
        value = match.group(kind)
        if kind == "other":
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{value}'")
        if kind == "word" and value.upper() in KEYWORDS:
            kind, value = "keyword", value.upper()
        tokens.append((kind, value))
    return tokens


class _Parser:
    def __init__(self, text: str, schema: dict[str, ObjectSpec]):
        self.tokens = tokenize(text)
        self.position = 0
        self.schema = schema
        self.spec: ObjectSpec | None = None

    def parse(self) -> Query:
        self._expect_keyword("SELECT")
        names = self._field_names()
        self._expect_keyword("FROM")
        object_name = self._word("an object name")
        if object_name not in self.schema:
            raise SoqlError("INVALID_TYPE", f"sObject type '{object_name}' is not supported.")
        self.spec = self.schema[object_name]
        fields = tuple(self._field(name) for name in names)
        if len(set(fields)) < len(fields):
            duplicate = next(name for name in fields if fields.count(name) > 1)
            raise SoqlError("INVALID_FIELD", f"duplicate field selected: {duplicate}")
        where = self._or() if self._accept_keyword("WHERE") else None
        order_by = self._order_by() if self._accept_keyword("ORDER") else ()
        limit = self._limit() if self._accept_keyword("LIMIT") else None
        if self.position < len(self.tokens):
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{self._peek()[1]}'")
        return Query(object_name, fields, where, order_by, limit)

    def _field_names(self) -> list[str]:
        names = [self._word("a field name")]
        while self._accept_punct(","):
            names.append(self._word("a field name"))
        return names

    def _field(self, name: str) -> str:
        assert self.spec is not None
        # Field names are case-insensitive in SOQL; answers use the schema's spelling.
        for known in self.spec.fields:
            if known.lower() == name.lower():
                return known
        raise SoqlError("INVALID_FIELD", f"No such column '{name}' on entity '{self.spec.name}'.")

    def _order_by(self) -> tuple[tuple[str, bool], ...]:
        self._expect_keyword("BY")
        order = []
        while True:
            name = self._field(self._word("a field name"))
            descending = self._accept_keyword("DESC")
            if not descending:
                self._accept_keyword("ASC")
            order.append((name, descending))
            if not self._accept_punct(","):
                return tuple(order)

    def _limit(self) -> int:
        kind, value = self._next()
        if kind != "number" or not value.isdigit():
            raise SoqlError("MALFORMED_QUERY", "LIMIT needs a whole number")
        return int(value)

    # Conditions

    def _or(self) -> Condition:
        terms = [self._and()]
        while self._accept_keyword("OR"):
            terms.append(self._and())
        if len(terms) == 1:
            return terms[0][0]
        if any(count > 1 for _, count in terms):
            raise SoqlError("MALFORMED_QUERY", "unexpected token: 'OR' (use parentheses)")
        conditions = [condition for condition, _ in terms]
        floors = [condition.key_floor for condition in conditions]
        return Condition(
            matches=lambda row: any(condition.matches(row) for condition in conditions),
            key_floor=None if None in floors else min(floors),
        )

    def _and(self) -> tuple[Condition, int]:
        conditions = [self._atom()]
        while self._accept_keyword("AND"):
            conditions.append(self._atom())
        if len(conditions) == 1:
            return conditions[0], 1
        floors = [c.key_floor for c in conditions if c.key_floor is not None]
        stamps = [c.stamp_equals for c in conditions if c.stamp_equals is not None]
        ids = [c.id_floor for c in conditions if c.id_floor is not None]
        if stamps and ids:  # SystemModstamp = X AND Id > Y: from (X, Y) on
            floors.append((max(stamps), max(ids)))
        one_of = next((c.one_of for c in conditions if c.one_of is not None), None)
        return (
            Condition(
                matches=lambda row: all(condition.matches(row) for condition in conditions),
                key_floor=max(floors) if floors else None,
                one_of=one_of,
            ),
            len(conditions),
        )

    def _atom(self) -> Condition:
        if self._accept_punct("("):
            condition = self._or()
            self._expect_punct(")")
            return condition
        name = self._field(self._word("a field name"))
        negated = self._accept_keyword("NOT")
        if negated or self._accept_keyword("IN"):
            if negated:
                self._expect_keyword("IN")
            return self._in(name, negated)
        kind, operator = self._next()
        if kind != "op":
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{operator}'")
        return self._comparison(name, "!=" if operator == "<>" else operator, self._literal(name))

    def _in(self, name: str, negated: bool) -> Condition:
        self._expect_punct("(")
        values = {self._literal(name)}
        while self._accept_punct(","):
            values.add(self._literal(name))
        self._expect_punct(")")
        if negated:
            return Condition(lambda row: row.get(name) not in values, None)
        return Condition(lambda row: row.get(name) in values, None, (name, frozenset(values)))

    def _comparison(self, name: str, operator: str, value: Any) -> Condition:
        matches = _COMPARISONS[operator](name, value)
        if value is None:  # matches no row, or any row but nulls: no floor either way
            return Condition(matches, None)
        if name == "SystemModstamp" and operator in ("=", ">="):
            return Condition(matches, (value, ""), stamp_equals=value if operator == "=" else None)
        if name == "SystemModstamp" and operator == ">":
            return Condition(matches, (value, _AFTER_EVERY_ID))
        if name == "Id" and operator in (">", ">="):
            # The least id greater than Y is Y followed by the least character.
            return Condition(matches, None, id_floor=value + "\x00" if operator == ">" else value)
        return Condition(matches, None)

    def _literal(self, name: str) -> Any:
        assert self.spec is not None
        field_type = self.spec.fields[name].type
        kind, text = self._next()
        if kind == "keyword" and text == "NULL":
            return None
        if kind == "word":
            raise SoqlError("MALFORMED_QUERY", f"unsupported literal: {text}")
        expected = {
            "datetime": field_type in DATETIME_TYPES,
            "date": field_type in DATE_TYPES,
            "number": field_type in NUMBER_TYPES,
            "string": field_type in STRING_TYPES,
            "keyword": field_type == "boolean" and text in ("TRUE", "FALSE"),
        }
        if not expected.get(kind, False):
            raise SoqlError(
                "INVALID_FIELD",
                f"value of filter criterion for field '{name}' must be of type "
                f"{field_type} and should {'' if field_type in STRING_TYPES else 'not '}"
                "be enclosed in quotes",
            )
        return _literal_value(kind, text)

    # Tokens

    def _peek(self) -> tuple[str, str]:
        if self.position >= len(self.tokens):
            return ("end", "end of query")
        return self.tokens[self.position]

    def _next(self) -> tuple[str, str]:
        token = self._peek()
        self.position += 1
        return token

    def _word(self, what: str) -> str:
        kind, value = self._next()
        if kind != "word":
            raise SoqlError("MALFORMED_QUERY", f"expected {what}, found '{value}'")
        return value

    def _accept_keyword(self, keyword: str) -> bool:
        if self._peek() == ("keyword", keyword):
            self.position += 1
            return True
        return False

    def _expect_keyword(self, keyword: str) -> None:
        if not self._accept_keyword(keyword):
            raise SoqlError("MALFORMED_QUERY", f"expected {keyword}, found '{self._peek()[1]}'")

    def _accept_punct(self, punct: str) -> bool:
        if self._peek() == ("punct", punct):
            self.position += 1
            return True
        return False

    def _expect_punct(self, punct: str) -> None:
        if not self._accept_punct(punct):
            raise SoqlError("MALFORMED_QUERY", f"expected '{punct}', found '{self._peek()[1]}'")


def _literal_value(kind: str, text: str) -> Any:
    if kind == "datetime":
        return datetime_literal_parse(text)
    if kind == "number":
        return float(text) if "." in text else int(text)
    if kind == "string":
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    if kind == "keyword":
        return text == "TRUE"
    return text


def _ordered(test: Callable[[Any, Any], bool]) -> Callable[[str, Any], Predicate]:
    # Salesforce: an ordering comparison with a null on either side matches nothing.
    def build(name: str, value: Any) -> Predicate:
        def matches(row: dict[str, Any]) -> bool:
            current = row.get(name)
            return current is not None and value is not None and test(current, value)

        return matches

    return build


_COMPARISONS: dict[str, Callable[[str, Any], Predicate]] = {
    "=": lambda name, value: lambda row: row.get(name) == value,
    "!=": lambda name, value: lambda row: row.get(name) != value,
    "<": _ordered(lambda a, b: a < b),
    "<=": _ordered(lambda a, b: a <= b),
    ">": _ordered(lambda a, b: a > b),
    ">=": _ordered(lambda a, b: a >= b),
}


def query_parse(text: str, schema: dict[str, ObjectSpec]) -> Query:
    """Parse one SOQL query against the schema; SoqlError if Salesforce would refuse it
    or the fake does not speak it."""
    return _Parser(text, schema).parse()
