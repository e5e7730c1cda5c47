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
            f"({self.ratio:.2f}x {self.baseline_name}: {self.baseline_value:.4g} {self.unit})"
        )


def scale() -> float:
    return float(os.environ.get("BENCH_SCALE", "1"))


def scaled(n: int) -> int:
    return max(10, int(n * scale()))


def timed(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


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


def results_save(vendor: str, machine: dict, figures: list[Figure]) -> Path:
    path = output_dir() / f"results-{vendor}.json"
    data = {"machine": machine, "figures": [asdict(f) | {"ratio": f.ratio} for f in figures]}
    path.write_text(json.dumps(data, indent=2) + "\n")
    results_render()
    return path


def results_render() -> Path:
    """Writes bench/results.md from every results-<vendor>.json present."""
    sections = [
        "# Benchmark results",
        "",
        "Each figure is a ratio to a baseline measured in "
        "the same run (`make bench`); lower is better for times.",
        "",
    ]
    for path in sorted(output_dir().glob("results-*.json")):
        data = json.loads(path.read_text())
        sections += _section(data)
    out = output_dir() / "results.md"
    out.write_text("\n".join(sections) + "\n")
    return out


def _section(data: dict) -> list[str]:
    m = data["machine"]
    lines = [
        f"## {m['database']}",
        "",
        f"{m['date']} · {m['cpu']} · {m['cores']} cores · {m['memory']} RAM · "
        f"Python {m['python']} · scale {m['scale']}",
        "",
        "| figure | value | baseline | ratio | target |",
        "|---|---|---|---|---|",
    ]
    for f in data["figures"]:
        lines.append(
            f"| {f['name']} | {f['value']:.4g} {f['unit']} | {f['baseline_name']}: "
            f"{f['baseline_value']:.4g} {f['unit']} | {f['ratio']:.2f}x | {f['target']} |"
        )
    return [*lines, ""]
