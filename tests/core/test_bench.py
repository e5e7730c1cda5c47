"""The benchmark harness runs every scenario at a tiny scale and reports ratios."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bench import harness
from bench.harness import Figure

ROOT = Path(__file__).resolve().parents[2]
FIGURE_LINE = re.compile(r"^.+: [\d.e+-]+ \S+ \([\d.e+-]+x .+: [\d.e+-]+ \S+\)$")
CAMPAIGN_SENT_ONCE = re.compile(
    r"^([24]) engine and \1 dispatch processes: messages accepted of (\d+) enrolled "
    r"\(\2 provider calls, 0 duplicate, 0 time-limit hits\): \2 messages \(1\.00x"
)


@pytest.mark.worker
def test_it_prints_each_figure_as_a_ratio_and_writes_results(tmp_path):
    inherited = {
        k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DEBUG")
    }
    env = {
        **inherited,
        "BENCH_SCALE": "0.002",
        "BENCH_OUTPUT_DIR": str(tmp_path),
        "BENCH_DB_SUFFIX": f"_test{os.getpid()}",
    }
    run = subprocess.run(
        [sys.executable, "-m", "bench"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1500,  # every scenario, real worker processes included, on a shared machine
    )
    assert run.returncode == 0, run.stderr[-3000:]
    figures = [
        line for line in run.stdout.splitlines() if line and not line.startswith(("#", "wrote"))
    ]
    assert figures, run.stdout
    assert [line for line in figures if not FIGURE_LINE.match(line)] == []
    results = (tmp_path / "results.md").read_text()
    assert "| figure | value | baseline | ratio | target |" in results
    assert len(list(tmp_path.glob("results-*.json"))) == 1
    # The campaign's real workers sent every message once, with 2 processes and with 4.
    campaign = [line for line in figures if " messages accepted of " in line]
    assert [CAMPAIGN_SENT_ONCE.match(line) is not None for line in campaign] == [True, True], (
        campaign
    )


def test_a_partial_run_keeps_the_other_scenarios_results(tmp_path, monkeypatch):
    monkeypatch.setenv("BENCH_OUTPUT_DIR", str(tmp_path))
    machine = {
        "date": "2026-11-22 10:00 UTC", "python": "3.11", "cpu": "cpu", "cores": 2,
        "memory": "1Gi", "database": "sqlite 3", "scale": 1.0,
    }  # fmt: skip
    harness.results_save("sqlite", machine, {"a": [Figure("fa", 2.0, "s", "base", 1.0)]})
    later = {**machine, "date": "2026-11-23 10:00 UTC"}
    harness.results_save("sqlite", later, {"b": [Figure("fb", 1.0, "s", "base", 4.0)]})
    harness.results_save("sqlite", later, {"a": [Figure("fa2", 3.0, "s", "base", 1.0)]})

    runs = json.loads((tmp_path / "results-sqlite.json").read_text())["runs"]
    assert {name: [f["name"] for f in run["figures"]] for name, run in runs.items()} == {
        "a": ["fa2"],
        "b": ["fb"],
    }
    results = (tmp_path / "results.md").read_text()
    assert "| fa2 | 3 s | base: 1 s | 3.00x |  |" in results
    assert "| fb | 1 s | base: 4 s | 0.25x |  |" in results
    assert "fa |" not in results
