"""octavo.banana against Foolscap 24.9, stdlib json and pickle, measured in one run.

Speed: encode and decode of four values (a 200-key dict of small lists, 1 MB of bytes,
10,000 small ints, a tree of tuples 50 deep), best-of timings, MB/s of each codec's own
output, and speed ratios (other codec's time / Octavo's time, so >1 means Octavo is that
many times faster). Memory: a long stream fed to octavo.banana's Decoder in 64 KiB chunks,
with the tracemalloc peak compared to the largest single token in the stream.
"""

from __future__ import annotations

import json
import pickle
import resource
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

from _harness import Report, best_of

from octavo import banana

# Budget per (value, codec, direction) timing, in seconds; 4 x 4 x 2 of them.
BUDGET = 0.6
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
            timings["encode"][name] = best_of(lambda e=encode, v=value: e(v), budget=BUDGET)
            timings["decode"][name] = best_of(lambda d=decode, b=blob: d(b), budget=BUDGET)
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


def _stream() -> tuple[list[bytes], int, int]:
    """Messages from one Encoder (open counts continue), and the largest token size."""
    big = 1 << 20
    encoder = banana.Encoder()
    messages = []
    for i in range(24):
        messages.append(encoder.encode([bytes([i]) * big, nested_dict(), list(range(500))]))
    return messages, big, len(messages)


def _memory(report: Report) -> None:
    messages, largest_token, count = _stream()
    total = sum(len(m) for m in messages)
    stream = b"".join(messages)
    del messages
    decoder = banana.Decoder()
    received = 0
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    tracemalloc.start()
    base, _ = tracemalloc.get_traced_memory()
    started = time.perf_counter()
    view = memoryview(stream)
    for offset in range(0, len(stream), CHUNK):
        for event in decoder.receive_data(bytes(view[offset : offset + CHUNK])):
            if isinstance(event, banana.ObjectReceived):
                received += 1
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    elapsed = time.perf_counter() - started
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    if received != count:
        raise AssertionError(f"decoded {received} of {count} objects")
    growth = peak - base
    ratio = growth / largest_token
    verdict = "PASS" if ratio < 2 else "FAIL"
    report.table(
        "Memory: decoding a long stream fed in 64 KiB chunks",
        ["stream", "objects", "largest token", "tracemalloc peak growth", "ratio", "< 2x"],
        [
            [
                f"{total / 1e6:.1f} MB",
                count,
                f"{largest_token} B",
                f"{growth} B",
                f"{ratio:.2f}x",
                verdict,
            ]
        ],
    )
    report.notes.append(
        f"Peak RSS (ru_maxrss) grew by {max(0, rss_after - rss_before)} bytes while "
        f"decoding (the stream itself is held in memory beforehand); decoding under "
        f"tracemalloc took {elapsed:.1f} s."
    )
    report.data["memory"] = {
        "stream_bytes": total,
        "objects": count,
        "largest_token": largest_token,
        "tracemalloc_peak_growth": growth,
        "ratio": ratio,
        "rss_growth": max(0, rss_after - rss_before),
    }


def run() -> Report:
    """Measure speed and memory; return the report."""
    report = Report("banana")
    _speed(report)
    _memory(report)
    return report
