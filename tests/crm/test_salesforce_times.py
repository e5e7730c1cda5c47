"""Salesforce's times are read as strptime reads them, whichever way Cue reads them."""

import random
from datetime import datetime

from apps.crm.salesforce.records import SALESFORCE_DATETIME, datetime_parse


def read(parse, value: str):
    try:
        moment = parse(value)
    except ValueError:
        return "refused"
    return moment, moment.utcoffset()


def test_it_reads_every_time_as_strptime_does():
    rnd = random.Random(20261207)
    values = [
        f"{rnd.randint(1, 9999):04d}-{rnd.randint(0, 13):02d}-{rnd.randint(0, 32):02d}"
        f"T{rnd.randint(0, 25):02d}:{rnd.randint(0, 61):02d}:{rnd.randint(0, 61):02d}"
        f".{rnd.randint(0, 999):03d}{rnd.choice('+-')}{rnd.randint(0, 2500):04d}"
        for _ in range(20_000)
    ]
    values += [
        "2026-03-02T09:00:00.000+0000",
        "2026-03-02T09:00:00.000-0800",
        "2026-03-02T09:00:00.5+0000",
        "2026-03-02T09:00:00.000Z",
        "2026-03-02T09:00:00+0000",
        "2026-03-02",
    ]

    differing = [
        value
        for value in values
        if read(datetime_parse, value)
        != read(lambda v: datetime.strptime(v, SALESFORCE_DATETIME), value)
    ]

    assert differing == []
    assert read(datetime_parse, "2026-03-02T09:00:00.000-0800")[1].total_seconds() == -8 * 3600
