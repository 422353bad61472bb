"""octavo.banana against Foolscap 24.9, stdlib json and pickle, measured in one run.

Speed: encode and decode of four values (a 200-key dict of small lists, 1 MB of bytes,
10,000 small ints, a tree of tuples 50 deep), best-of timings, MB/s of each codec's own
output, and speed ratios (other codec's time / Octavo's time, so >1 means Octavo is that
many times faster). Memory: a long stream read from a file in 64 KiB chunks into one
Decoder, in a child process: peak RSS growth and tracemalloc peak against the largest
single token in the stream.
"""

from __future__ import annotations

import gc
import json
import os
import pickle
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

from _harness import Report, best_of

from octavo import banana

# Per (value, codec, direction) timing: up to REPEAT batches of >= BATCH s each, stopping
# once BUDGET s are spent; there are 4 x 4 x 2 of them, so the speed part stays under ~35 s.
BUDGET = 1.0
REPEAT = 15
BATCH = 0.05
CHUNK = 64 * 1024


def nested_dict() -> dict[str, list[object]]:
    """200 str keys, each a list of a small int, two short strs and a tuple.

    Its JSON form is about 7.7 KB; Banana spends an OPEN sequence on every str and
    tuple, so its Banana form is larger (both sizes are printed).
    """
    return {f"key{i:03d}": [i % 10, "ab", "cd", (i, "x")] for i in range(200)}


def tuple_tree(depth: int = 50) -> tuple[object, ...]:
    """Tuples nested ``depth`` deep, each level also holding an int and a short str."""
    node: tuple[object, ...] = (0, "leaf")
    for level in range(1, depth):
        node = (node, level, "n")
    return node


VALUES: dict[str, Callable[[], object]] = {
    "dict 200 keys": nested_dict,
    "bytes 1 MB": lambda: b"\xa5" * 1_000_000,
    "list 10k ints": lambda: list(range(10_000)),
    "tuple tree 50 deep": tuple_tree,
}


def _foolscap() -> tuple[Callable[[Any], bytes], Callable[[bytes], Any]]:
    from foolscap.storage import serialize, unserialize
    from twisted.python.failure import Failure

    def wait(deferred: Any) -> Any:
        results: list[Any] = []
        deferred.addBoth(results.append)
        (result,) = results  # storage serialization fires synchronously
        if isinstance(result, Failure):
            result.raiseException()
        return result

    return (lambda obj: wait(serialize(obj))), (lambda data: wait(unserialize(data)))


def codecs() -> dict[str, tuple[Callable[[Any], bytes], Callable[[bytes], Any]]]:
    """Name -> (encode, decode), each taking/returning bytes."""
    return {
        "octavo": (banana.serialize, banana.unserialize),
        "foolscap": _foolscap(),
        "json": (lambda obj: json.dumps(obj).encode(), json.loads),
        "pickle": (
            lambda obj: pickle.dumps(obj, pickle.HIGHEST_PROTOCOL),
            pickle.loads,
        ),
    }


def _speed(report: Report) -> None:
    table = codecs()
    rows: list[list[object]] = []
    sizes: list[list[object]] = []
    data: dict[str, Any] = {}
    for label, make in VALUES.items():
        value = make()
        encoded: dict[str, bytes] = {}
        for name, (encode, _) in table.items():
            try:
                encoded[name] = encode(value)
            except TypeError:  # json has no bytes
                continue
        if encoded["octavo"] != encoded["foolscap"]:
            raise AssertionError(f"{label}: octavo and Foolscap bytes differ")
        sizes.append([label, *(len(encoded[n]) if n in encoded else "n/a" for n in table)])
        timings: dict[str, dict[str, float]] = {"encode": {}, "decode": {}}
        for name, (encode, decode) in table.items():
            if name not in encoded:
                continue
            blob = encoded[name]
            timings["encode"][name] = best_of(
                lambda e=encode, v=value: e(v), repeat=REPEAT, budget=BUDGET, batch=BATCH
            )
            timings["decode"][name] = best_of(
                lambda d=decode, b=blob: d(b), repeat=REPEAT, budget=BUDGET, batch=BATCH
            )
        data[label] = {"sizes": {n: len(b) for n, b in encoded.items()}, "seconds": timings}
        for op in ("encode", "decode"):
            secs = timings[op]
            mbps = [f"{len(encoded[n]) / secs[n] / 1e6:.1f}" if n in secs else "n/a" for n in table]
            vs_foolscap = secs["foolscap"] / secs["octavo"]
            vs_json = f"{secs['json'] / secs['octavo']:.2f}x" if "json" in secs else "n/a"
            rows.append([label, op, *mbps, f"{vs_foolscap:.1f}x", vs_json])
    names = list(table)
    report.table("Serialized size in bytes", ["value", *names], sizes)
    report.table(
        "Speed in MB/s of each codec's own output; ratios are speed-ups of Octavo "
        "(other's time / Octavo's time)",
        ["value", "op", *names, "octavo/foolscap", "octavo/json"],
        rows,
    )
    report.data["speed"] = data


MEMORY_MESSAGES = 16
BIG_TOKEN = 1 << 20


def _write_stream(path: str) -> tuple[int, int]:
    """Write one Encoder's messages (open counts continue) to ``path``, one at a time.

    Each message is a 1 MiB bytes token, the 200-key dict and 500 ints. Returns the
    stream size and the number of messages.
    """
    encoder = banana.Encoder()
    total = 0
    with open(path, "wb") as out:
        for i in range(MEMORY_MESSAGES):
            message = encoder.encode([bytes([i]) * BIG_TOKEN, nested_dict(), list(range(500))])
            out.write(message)
            total += len(message)
    return total, MEMORY_MESSAGES


def _peak_rss() -> int:
    """This process's peak resident set size in bytes (VmHWM; ru_maxrss elsewhere).

    ru_maxrss survives exec on Linux (a child starts with its parent's peak), so the
    per-address-space VmHWM from /proc is preferred.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def decode_file(path: str, mode: str) -> dict[str, int]:
    """Feed ``path`` to a fresh Decoder in 64 KiB reads, dropping each object at once.

    ``mode`` is ``rss`` (peak RSS growth over the baseline taken just before),
    ``trace`` (tracemalloc peak) or ``trace-gc`` (tracemalloc peak, collecting cyclic
    garbage after every object). Runs in a child process so RSS starts low, after one
    small warm-up message so lazily built module tables are not counted as growth.
    """
    # Warm up first, so one-time lazy tables (module caches) do not count as growth.
    warm = banana.Decoder()
    warm.receive_data(banana.serialize([b"w" * 100, nested_dict(), list(range(500))]))
    warm.events()
    del warm
    decoder = banana.Decoder()
    received = 0
    if mode != "rss":
        tracemalloc.start()
    rss_before = _peak_rss()
    with open(path, "rb") as stream:
        while chunk := stream.read(CHUNK):
            decoder.receive_data(chunk)
            while (event := decoder.next_event()) is not None:
                if not isinstance(event, banana.ObjectReceived):
                    raise AssertionError(f"unexpected event {event!r}")
                received += 1
                del event
                if mode == "trace-gc":
                    gc.collect()
    result = {"objects": received}
    if mode == "rss":
        result["growth"] = _peak_rss() - rss_before
    else:
        result["growth"] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return result


def _memory(report: Report) -> None:
    rows: list[list[object]] = []
    data: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "stream.banana")
        total, count = _write_stream(path)
        labels = {
            "rss": "peak RSS growth",
            "trace": "tracemalloc peak",
            "trace-gc": "tracemalloc peak, gc.collect() after each object",
        }
        for mode, label in labels.items():
            started = time.perf_counter()
            child = subprocess.run(
                [sys.executable, __file__, "--decode-file", path, mode],
                check=True,
                capture_output=True,
                text=True,
                timeout=120,
            )
            result = json.loads(child.stdout)
            if result["objects"] != count:
                raise AssertionError(f"decoded {result['objects']} of {count} objects")
            ratio = result["growth"] / BIG_TOKEN
            rows.append(
                [
                    label,
                    f"{result['growth'] / 2**20:.2f} MiB",
                    f"{ratio:.2f}x",
                    "yes" if ratio < 2 else "NO",
                    f"{time.perf_counter() - started:.1f} s",
                ]
            )
            data[mode] = {**result, "ratio": ratio}
    report.table(
        f"Memory: a {total / 1e6:.1f} MB stream of {count} objects read from a file in "
        f"64 KiB chunks into one Decoder (largest token {BIG_TOKEN} B = 1 MiB)",
        ["measure", "growth", "x largest token", "< 2x", "time"],
        rows,
    )
    report.data["memory"] = {"stream_bytes": total, "largest_token": BIG_TOKEN, **data}


def run() -> Report:
    """Measure speed and memory; return the report."""
    report = Report("banana")
    _speed(report)
    _memory(report)
    return report


if __name__ == "__main__":
    # The memory check's child process: bench_banana.py --decode-file PATH MODE
    if len(sys.argv) == 4 and sys.argv[1] == "--decode-file":
        print(json.dumps(decode_file(sys.argv[2], sys.argv[3])))
    else:
        raise SystemExit("run benchmarks through benchmarks/run.py")
