"""Flogfiles as Foolscap 24.9 writes them, and reading them back, bad lines included."""

from __future__ import annotations

import bz2
import json
import math
import pickle
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.python import failure

from octavo.logging import FlogWriter, read_flogfile
from octavo.logging._flogfile import (
    MAGIC,
    FlogLineError,
    FurlFileError,
    NotAFlogFileError,
    PickleFlogFileError,
    encode_record,
)


def _read(path: Path) -> tuple[list[dict[str, Any]], list[FlogLineError]]:
    errors: list[FlogLineError] = []
    return list(read_flogfile(str(path), errors.append)), errors


def _write_sample(path: Path, n: int = 3, pad: str = "") -> None:
    with FlogWriter(str(path), "log-file-observer", pid=42, threshold=20) as w:
        for i in range(n):
            ev = {"num": i, "message": f"m{i}{pad}", "level": 20, "time": 1.5}
            w.write_event(ev, "tub", 2.5)


@pytest.mark.parametrize("name", ["x.flog", "x.flog.bz2"])
def test_write_then_read(tmp_path: Path, name: str) -> None:
    """The magic line, a header record, then one wrapper per event; bz2 by file name."""
    path = tmp_path / name
    _write_sample(path)
    raw = bz2.decompress(path.read_bytes()) if name.endswith(".bz2") else path.read_bytes()
    assert raw.startswith(MAGIC)
    lines = raw[len(MAGIC) :].splitlines()
    header = json.loads(lines[0])["header"]
    assert header["type"] == "log-file-observer" and header["pid"] == 42
    assert header["threshold"] == 20 and "twisted" in header["versions"]
    assert json.loads(lines[1]) == {
        "from": "tub",
        "rx_time": 2.5,
        "d": {"num": 0, "message": "m0", "level": 20, "time": 1.5},
    }
    records, errors = _read(path)
    assert errors == []
    assert records[0]["header"] == header
    assert [r["d"]["message"] for r in records[1:]] == ["m0", "m1", "m2"]


def test_a_compressed_file_is_read_whatever_its_name(tmp_path: Path) -> None:
    """A bzip2 flogfile named without .bz2 (and concatenated streams) is read as one."""
    packed = tmp_path / "x.flog.bz2"
    _write_sample(packed)
    renamed = tmp_path / "x.flog"
    more = b'{"from": "tub", "rx_time": 3.0, "d": {"num": 3, "message": "m3"}}\n'
    renamed.write_bytes(packed.read_bytes() + bz2.compress(more))
    records, errors = _read(renamed)
    assert errors == []
    assert [r["d"]["message"] for r in records[1:]] == ["m0", "m1", "m2", "m3"]


def test_failures_and_bytes_are_written_as_foolscap_writes_them() -> None:
    """A Failure becomes {"@": "Failure", ...}; bytes and other objects UnJSONable."""
    try:
        raise ValueError("oops")
    except ValueError:
        f = failure.Failure()
    record = json.loads(encode_record({"d": {"failure": f, "b": b"\x00x", "t": (1, 2)}}))
    d = record["d"]
    assert d["failure"]["@"] == "Failure"
    assert "oops" in d["failure"]["traceback"] and "ValueError" in d["failure"]["str"]
    assert d["failure"]["repr"] == repr(f)
    assert d["b"]["@"] == "UnJSONable" and d["b"]["repr"] == repr(b"\x00x")
    assert d["t"] == [1, 2]


def test_objects_json_refuses_still_encode() -> None:
    """Cycles, tuple keys and objects whose repr raises give a line, never an error."""

    class Bad:
        def __repr__(self) -> str:
            raise RuntimeError("no repr")

    cyclic: list[object] = []
    cyclic.append(cyclic)
    record = json.loads(encode_record({"d": {"c": cyclic, (1, 2): "k", "bad": Bad()}}))
    assert record["d"]["(1, 2)"] == "k"
    assert record["d"]["bad"]["@"] == "Unreprable"
    assert isinstance(record["d"]["c"], list)


def test_pickle_flogfile_is_refused_not_loaded(tmp_path: Path) -> None:
    """An old pickle flogfile is refused with a clear error and never unpickled."""
    path = tmp_path / "old.flog"
    path.write_bytes(pickle.dumps({"header": 1}, protocol=0))
    assert path.read_bytes().startswith(b"(dp0")
    with pytest.raises(PickleFlogFileError, match="pickle"):
        _read(path)


def test_furl_file_and_other_files_are_refused(tmp_path: Path) -> None:
    """A FURL file and any other file give their own clear errors."""
    furl = tmp_path / "logport.furl"
    furl.write_text("pb://abc@tcp:host:1/swiss\n")
    with pytest.raises(FurlFileError, match="FURL"):
        _read(furl)
    other = tmp_path / "notes.txt"
    other.write_text("hello\n")
    with pytest.raises(NotAFlogFileError, match="not a flogfile"):
        _read(other)
    notbz2 = tmp_path / "x.flog.bz2"
    notbz2.write_bytes(b"plain text")
    with pytest.raises(NotAFlogFileError):
        _read(notbz2)


def test_garbage_lines_are_reported_and_skipped(tmp_path: Path) -> None:
    """Each bad line is reported with its number; the records around it are kept."""
    path = tmp_path / "bad.flog"
    good = encode_record({"from": "t", "rx_time": 1.0, "d": {"num": 1}})
    path.write_bytes(
        MAGIC
        + encode_record({"header": {"type": "log-file-observer"}})
        + good
        + b"this is not json\n"
        + b"[1, 2]\n"
        + b'{"x": 1}\n'
        + b'{"d": 5}\n'
        + b"\xff\xfe\n"
        + b"[" * 100_000
        + b"\n"
        + good
    )
    records, errors = _read(path)
    assert len(records) == 3
    assert [e.lineno for e in errors] == [4, 5, 6, 7, 8, 9]
    assert "not JSON" in errors[0].reason
    assert "not a JSON object" in errors[1].reason
    assert "neither a header nor an event" in errors[2].reason


def test_default_error_report_is_a_warning(tmp_path: Path) -> None:
    """Without on_error each bad line is a FlogFileWarning."""
    path = tmp_path / "bad.flog"
    path.write_bytes(MAGIC + b"garbage\n")
    with pytest.warns(UserWarning, match="line 2"):
        assert list(read_flogfile(str(path))) == []


def test_truncated_flog(tmp_path: Path) -> None:
    """A file cut inside its last line keeps every whole record and reports the cut."""
    path = tmp_path / "cut.flog"
    _write_sample(path, 5)
    data = path.read_bytes()
    path.write_bytes(data[:-10])
    records, errors = _read(path)
    assert len(records) == 5  # header + 4 events
    assert len(errors) == 1 and "truncated" in errors[0].reason


def test_truncated_flog_bz2(tmp_path: Path) -> None:
    """A cut .bz2 gives what could be decompressed, then one error for the rest."""
    path = tmp_path / "cut.flog.bz2"
    _write_sample(path, 20_000, pad="x" * 100)  # about 2.5 MB: three bz2 blocks
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 3 // 4])
    records, errors = _read(path)
    assert records[0]["header"]["type"] == "log-file-observer"
    assert [r["d"]["num"] for r in records[1:]] == list(range(len(records) - 1))
    assert errors
    assert "ends early or is corrupt" in errors[-1].reason


def test_overlong_line_is_skipped_without_holding_it(tmp_path: Path, monkeypatch: Any) -> None:
    """A line over MAX_LINE_BYTES is reported and skipped; the next line is read."""
    monkeypatch.setattr("octavo.logging._flogfile.MAX_LINE_BYTES", 100)
    path = tmp_path / "long.flog"
    good = encode_record({"from": "t", "rx_time": 1.0, "d": {"num": 1}})
    path.write_bytes(MAGIC + b'{"d": {"x": "' + b"a" * 5000 + b'"}}\n' + good)
    records, errors = _read(path)
    assert [r["d"]["num"] for r in records] == [1]
    assert "longer than 100 bytes" in errors[0].reason


_json_scalars = st.none() | st.booleans() | st.integers() | st.text() | st.floats(allow_nan=False)
_json_values = st.recursive(
    _json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)
_events = st.dictionaries(st.text(), _json_values, max_size=6).map(
    lambda d: {**d, "num": 7, "time": 1.25, "level": 20}
)


@settings(max_examples=60, deadline=None)
@given(events=st.lists(_events, max_size=5), from_=st.text(), compress=st.booleans())
def test_records_round_trip(
    tmp_path_factory: pytest.TempPathFactory,
    events: list[dict[str, Any]],
    from_: str,
    compress: bool,
) -> None:
    """Any JSON-able events are read back exactly as they were written."""
    path = tmp_path_factory.mktemp("rt") / ("x.flog.bz2" if compress else "x.flog")
    with FlogWriter(str(path), "gatherer", start=1.0) as w:
        for ev in events:
            w.write_event(ev, from_, 3.0)
    records, errors = _read(path)
    assert errors == []
    assert records[0]["header"]["type"] == "gatherer"
    assert [r["d"] for r in records[1:]] == events
    assert all(r["from"] == from_ and r["rx_time"] == 3.0 for r in records[1:])


def test_infinite_floats_round_trip(tmp_path: Path) -> None:
    """Python's json writes inf and NaN (as Foolscap's does) and reads them back."""
    path = tmp_path / "inf.flog"
    with FlogWriter(str(path), None) as w:
        w.write_event({"num": 1, "v": math.inf}, "t", 1.0)
    (record,) = _read(path)[0]
    assert record["d"]["v"] == math.inf


@pytest.mark.parametrize("name", ["p.flog", "p.flog.bz2"])
def test_progress_adds_up_to_the_file_size(tmp_path: Path, name: str) -> None:
    """progress(n) is told every byte of the file as stored, compressed or not."""
    path = tmp_path / name
    _write_sample(path, 5000)
    told: list[int] = []
    records = list(read_flogfile(str(path), progress=told.append))
    assert len(records) == 5001
    assert told and all(n > 0 for n in told)
    assert sum(told) == path.stat().st_size
