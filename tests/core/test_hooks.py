"""Hand-off hooks: records are built only when a handler listens, each handler runs in its
own savepoint, and a handler (or the reading) that fails never undoes the change."""

import logging
from dataclasses import dataclass

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.core.hooks import Hook
from apps.core.models import Heartbeat

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Change:
    key: str


def beat(name: str) -> None:
    Heartbeat.objects.create(name=name, seen_at=timezone.now())


def test_it_builds_nothing_when_no_handler_is_registered():
    built = []
    assert Hook("h").fire(lambda: built.append(1) or [Change("a")]) == 0
    assert built == []


def test_it_builds_nothing_when_no_handler_listens():
    hook, built, seen = Hook("h"), [], []
    hook.register("quiet", seen.append, listening=lambda: False)
    assert hook.fire(lambda: built.append(1) or [Change("a")]) == 0
    assert (built, seen) == ([], [])


def test_it_hands_the_whole_batch_to_each_listening_handler_once():
    hook, first, second, skipped = Hook("h"), [], [], []
    hook.register("first", first.append)
    hook.register("second", second.append, listening=lambda: True)
    hook.register("off", skipped.append, listening=lambda: False)
    batch = [Change("a"), Change("b")]
    assert hook.fire(lambda: batch) == 2
    assert (first, second, skipped) == ([batch], [batch], [])


def test_registering_a_name_again_replaces_the_handler():
    hook, old, new = Hook("h"), [], []
    hook.register("one", old.append)
    hook.register("one", new.append)
    hook.fire(lambda: [Change("a")])
    assert (old, new) == ([], [[Change("a")]])


def test_it_calls_no_handler_for_an_empty_batch():
    hook, seen = Hook("h"), []
    hook.register("one", seen.append)
    assert (hook.fire(lambda: []), seen) == (0, [])


def test_a_failing_handler_rolls_back_alone_and_the_change_stands(caplog):
    hook = Hook("tests.change")

    def broken(records):
        beat("half-written")
        beat("half-written")  # unique name: IntegrityError inside its savepoint

    hook.register("broken", broken)
    hook.register("fine", lambda records: beat("fine"))
    with caplog.at_level(logging.ERROR, logger="apps.core.hooks"), transaction.atomic():
        beat("the change")
        hook.fire(lambda: [Change("k1"), Change("k2")])
    assert sorted(Heartbeat.objects.values_list("name", flat=True)) == ["fine", "the change"]
    [logged] = caplog.records
    assert logged.getMessage() == (
        "tests.change handler 'broken' failed on 2 record(s) (k1, k2); the change stands"
    )
    assert logged.exc_info[0] is IntegrityError


def test_a_failing_read_hands_nothing_on_and_the_change_stands(caplog):
    hook, seen = Hook("tests.change"), []
    hook.register("one", seen.append)

    def unreadable():
        Heartbeat.objects.raw("SELECT * FROM no_such_table")[0]

    with caplog.at_level(logging.ERROR, logger="apps.core.hooks"), transaction.atomic():
        beat("the change")
        assert hook.fire(unreadable) == 0
        beat("after")  # the transaction is still usable
    assert (seen, sorted(Heartbeat.objects.values_list("name", flat=True))) == (
        [],
        ["after", "the change"],
    )
    assert [r.getMessage() for r in caplog.records] == [
        "tests.change: reading the records failed; the change stands"
    ]
