"""Timing and reporting helpers shared by the benchmark modules (never used by tests)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Report", "best_of", "format_table"]


def best_of(
    func: Callable[[], object], *, repeat: int = 5, budget: float = 0.5, batch: float = 0.02
) -> float:
    """Best seconds per call of ``func``, timeit style, within about ``budget`` seconds.

    One call calibrates the batch size so a batch lasts at least ``batch`` seconds; then
    up to ``repeat`` batches run, stopping early (after one) once ``budget`` is spent.
    """
    clock = time.perf_counter
    start = clock()
    func()
    single = max(clock() - start, 1e-9)
    number = max(1, int(batch / single))
    best = single
    spent = clock() - start
    for _ in range(repeat):
        begin = clock()
        for _ in range(number):
            func()
        elapsed = clock() - begin
        best = min(best, elapsed / number)
        spent += elapsed
        if spent >= budget:
            break
    return best


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain-text (Markdown pipe) table, columns padded to their widest cell."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(cells[0]), rule, *(line(row) for row in cells[1:])])


@dataclass
class Report:
    """What one benchmark module measured: tables to print and data to save as JSON."""

    name: str
    tables: list[tuple[str, list[str], list[list[object]]]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    def table(self, title: str, headers: list[str], rows: list[list[object]]) -> None:
        """Add a titled table."""
        self.tables.append((title, headers, rows))

    def render(self) -> str:
        """All tables and notes as text."""
        parts = []
        for title, headers, rows in self.tables:
            parts.append(f"{title}\n\n{format_table(headers, rows)}")
        parts.extend(self.notes)
        return "\n\n".join(parts)
