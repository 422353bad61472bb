"""Run benchmark modules and print their tables: ``python benchmarks/run.py [NAME ...]``.

Every ``benchmarks/bench_NAME.py`` is a benchmark module: it defines
``run() -> Report`` (see ``_harness.py``). With no NAME all modules run in name order;
``--list`` shows them. Results are printed and written as JSON to
``benchmarks/results/NAME-YYYYmmddTHHMMSS.json`` and ``benchmarks/results/NAME.json``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


def available() -> list[str]:
    """Names of the benchmark modules present (bench_NAME.py -> NAME)."""
    return sorted(path.stem.removeprefix("bench_") for path in HERE.glob("bench_*.py"))


def run_one(name: str) -> None:
    """Import bench_NAME, run it, print its report and save its JSON."""
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))
    module = importlib.import_module(f"bench_{name}")
    started = time.perf_counter()
    report = module.run()
    elapsed = time.perf_counter() - started
    print(f"## {name}  ({elapsed:.1f} s, Python {platform.python_version()})\n")
    print(report.render())
    print()
    RESULTS.mkdir(exist_ok=True)
    doc = {
        "benchmark": name,
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "machine": platform.machine(),
        "seconds": round(elapsed, 2),
        "tables": [
            {"title": title, "headers": headers, "rows": rows}
            for title, headers, rows in report.tables
        ],
        "notes": report.notes,
        "data": report.data,
    }
    text = json.dumps(doc, indent=1, default=str) + "\n"
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    (RESULTS / f"{name}-{stamp}.json").write_text(text, encoding="utf-8")
    (RESULTS / f"{name}.json").write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the chosen benchmark modules."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="benchmark names (default: all)")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = parser.parse_args(argv)
    names = available()
    if args.list:
        print("\n".join(names))
        return 0
    unknown = [name for name in args.names if name not in names]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; have: {', '.join(names)}")
    for name in args.names or names:
        run_one(name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
