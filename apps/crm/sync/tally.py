"""What one page of records did, counted for the run."""

from dataclasses import dataclass, field

KINDS = ("created", "updated", "unchanged", "archived", "skipped", "failed")


@dataclass
class Tally:
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    taken: list[str] = field(default_factory=list)  # record ids taken whole (errors resolved)

    def add(self, kind: str, record_id: str | None = None) -> None:
        self.counts[kind] += 1
        if record_id is not None and kind in ("created", "updated", "unchanged", "archived"):
            self.taken.append(record_id)

    def into(self, totals: dict) -> dict:
        for kind, count in self.counts.items():
            totals[kind] = totals.get(kind, 0) + count
        return totals
