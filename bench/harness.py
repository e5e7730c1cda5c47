"""The benchmark harness: every figure is a ratio to a baseline measured in the same run,
because absolute times on a shared machine mean little."""

import json
import os
import platform
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent


def output_dir() -> Path:
    return Path(os.environ.get("BENCH_OUTPUT_DIR", BENCH_DIR))


@dataclass(frozen=True)
class Figure:
    """One measured figure, its baseline from the same run, and the target it must meet."""

    name: str
    value: float
    unit: str
    baseline_name: str
    baseline_value: float
    target: str = ""

    @property
    def ratio(self) -> float:
        return self.value / self.baseline_value if self.baseline_value else float("inf")

    def line(self) -> str:
        return (
            f"{self.name}: {self.value:.4g} {self.unit} "
            f"({ratio_text(self.ratio)} {self.baseline_name}: "
            f"{self.baseline_value:.4g} {self.unit})"
        )


def ratio_text(ratio: float) -> str:
    """Two decimals, or two significant digits for the small ratios of "N times faster"."""
    return f"{ratio:.2f}x" if ratio >= 0.1 else f"{ratio:.2g}x"


def scale() -> float:
    return float(os.environ.get("BENCH_SCALE", "1"))


def scaled(n: int) -> int:
    return max(10, int(n * scale()))


def timed(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def percentile(values: list[float], percent: int) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * percent / 100))]


def best_of(
    work: Callable[[], object], *, runs: int = 3, setup: Callable[[], object] | None = None
):
    """The fastest of several runs: the least disturbed by other load on the machine."""
    times = []
    for _ in range(runs):
        if setup:
            setup()
        times.append(timed(work))
    return min(times)


def machine_description(vendor: str, server_version: str) -> dict:
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "python": platform.python_version(),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory": _memory(),
        "database": f"{vendor} {server_version}",
        "scale": scale(),
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory() -> str:
    try:
        out = subprocess.run(["free", "-h"], capture_output=True, text=True, check=True).stdout
        return out.splitlines()[1].split()[1]
    except (OSError, subprocess.CalledProcessError, IndexError):
        return "unknown"


def results_save(vendor: str, machine: dict, figures_by_scenario: dict[str, list[Figure]]) -> Path:
    """Records this run's scenarios in results-<vendor>.json, keeping the scenarios it did
    not run (BENCH_ONLY) from earlier runs, each with the machine and date of its own run."""
    path = output_dir() / f"results-{vendor}.json"
    runs = _runs_read(path)
    for scenario, figures in figures_by_scenario.items():
        runs[scenario] = {
            "machine": machine,
            "figures": [asdict(f) | {"ratio": f.ratio} for f in figures],
        }
    path.write_text(json.dumps({"runs": dict(sorted(runs.items()))}, indent=2) + "\n")
    results_render()
    return path


def _runs_read(path: Path) -> dict:
    try:
        return json.loads(path.read_text()).get("runs", {})
    except (OSError, ValueError):
        return {}


def results_render() -> Path:
    """Writes bench/results.md from every results-<vendor>.json present."""
    sections = [
        "# Benchmark results",
        "",
        "Each figure is a ratio to a baseline measured in "
        "the same run (`make bench`); lower is better for times. Which targets are met, by",
        "how much the others are missed, why, and what would close them: [targets.md](targets.md).",
        "",
    ]
    for path in sorted(output_dir().glob("results-*.json")):
        sections += _section(_runs_read(path))
    out = output_dir() / "results.md"
    out.write_text("\n".join(sections) + "\n")
    return out


def _section(runs: dict) -> list[str]:
    if not runs:
        return []
    first = next(iter(runs.values()))["machine"]
    lines = [f"## {first['database']}", ""]
    for scenario, run in runs.items():
        m = run["machine"]
        lines += [
            f"### {scenario}",
            "",
            f"{m['date']} · {m['cpu']} · {m['cores']} cores · {m['memory']} RAM · "
            f"Python {m['python']} · {m['database']} · scale {m['scale']}",
            "",
            "| figure | value | baseline | ratio | target |",
            "|---|---|---|---|---|",
        ]
        for f in run["figures"]:
            lines.append(
                f"| {f['name']} | {f['value']:.4g} {f['unit']} | {f['baseline_name']}: "
                f"{f['baseline_value']:.4g} {f['unit']} | {ratio_text(f['ratio'])} | "
                f"{f['target']} |"
            )
        lines.append("")
    return lines
