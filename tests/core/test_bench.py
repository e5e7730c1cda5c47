"""The benchmark harness runs every scenario at a tiny scale and reports ratios."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIGURE_LINE = re.compile(r"^.+: [\d.e+-]+ \S+ \([\d.]+x .+: [\d.e+-]+ \S+\)$")


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
        timeout=600,
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
