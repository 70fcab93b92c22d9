"""The table of figures: printed, written to ``benchmarks/results.md`` and as JSON."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Row:
    """One figure of the table."""

    group: str
    figure: str
    value: str
    target: str = ""
    #: True/False when there is a target, None when the figure is informative only.
    met: bool | None = None
    note: str = ""


@dataclass
class Report:
    """Everything one run measured."""

    date: str
    counts: str
    machine: dict[str, str]
    rows: list[Row] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def add(self, row: Row) -> None:
        self.rows.append(row)

    @property
    def missed(self) -> list[Row]:
        return [row for row in self.rows if row.met is False]

    @property
    def met(self) -> list[Row]:
        return [row for row in self.rows if row.met is True]

    # -- output ----------------------------------------------------------------------
    def table(self) -> str:
        """The figures as a Markdown table."""
        lines = [
            "| Group | Figure | Value | Target | Met |",
            "|---|---|---|---|---|",
        ]
        for row in self.rows:
            met = {True: "yes", False: "**NO**", None: "-"}[row.met]
            lines.append(
                f"| {row.group} | {row.figure} | {row.value} | {row.target or '-'} | {met} |"
            )
        return "\n".join(lines)

    def markdown(self) -> str:
        """The whole results file."""
        machine = "\n".join(f"- {name}: {value}" for name, value in self.machine.items())
        notes = "\n".join(
            f"- **{row.figure}**: {row.note}" for row in self.rows if row.note
        )
        if self.missed:
            verdict = "Missed: " + "; ".join(
                f"{row.figure} ({row.value}, target {row.target})" for row in self.missed
            )
        else:
            verdict = f"All {len(self.met)} targets met."
        problems = "\n".join(f"- {text}" for text in self.problems) or "- none"
        return (
            "# Benchmark results\n\n"
            "Written by `python -m benchmarks` (`make bench`); see docs/performance.md for\n"
            "how each figure is measured and how to read it. Every figure is a ratio or a\n"
            "count measured side by side in this one run, on this one machine.\n\n"
            f"- Date: {self.date}\n"
            f"- Counts: {self.counts}\n\n"
            "## Machine\n\n"
            f"{machine}\n\n"
            "## Figures\n\n"
            f"{self.table()}\n\n"
            f"**Targets:** {verdict}\n\n"
            "## Notes\n\n"
            f"{notes or '- none'}\n\n"
            "## Problems during the run\n\n"
            f"{problems}\n"
        )

    def write(self, path: Path) -> None:
        path.write_text(self.markdown(), encoding="utf-8")

    def as_json(self) -> str:
        data = {
            "date": self.date,
            "counts": self.counts,
            "machine": self.machine,
            "rows": [asdict(row) for row in self.rows],
            "raw": self.raw,
            "problems": self.problems,
        }
        return json.dumps(data, indent=2, default=str)
