"""The web viewer's sans-IO side: checking events, filters, the bounded store, JSON, tails."""

from __future__ import annotations

import bz2
import json
from pathlib import Path
from typing import Any

import pytest

from octavo.logging._events import format_message
from octavo.logging._web._filter import EventFilter, FilterError, parse_filter
from octavo.logging._web._json import encode, events_body, incidents_body, info_body, sse_message
from octavo.logging._web._model import (
    MAX_EXPANSION,
    MAX_FACILITY,
    MAX_TEXT,
    BadEventError,
    event_key,
    expansion_bound,
    view_event,
)
from octavo.logging._web._store import EventStore
from octavo.logging._web._tail import MAGIC, FlogTail, TailError

from ._web_records import INCARNATION, TUBID, append, event, header, line, record, write_flogfile


def store_of(*records: dict[str, Any], limit: int = 100) -> EventStore:
    """A store holding *records*."""
    store = EventStore(format_message, limit)
    for rec in records:
        store.add(rec)
    return store


def test_an_event_is_flattened_with_its_stable_key_and_parent_key() -> None:
    """Key and parent key are tubid, incarnation and number; the text is formatted."""
    d = event(5, "%(who)s joined", format="%(who)s joined", who="alice", parent=4, level=23)
    shown = view_event(record(d), 0, format_message)
    assert shown.key == f"E{TUBID}_{INCARNATION}_5"
    assert shown.parent_key == event_key(TUBID, INCARNATION, 4)
    assert (shown.text, shown.level, shown.num) == ("alice joined", 23, 5)
    assert shown.as_json()["parent"] == f"E{TUBID}_{INCARNATION}_4"
    assert not shown.is_incident


def test_keys_quote_whatever_a_peer_puts_in_tubid_and_incarnation() -> None:
    """A hostile tubid cannot break out of the key: it is percent-quoted."""
    d = event(1, "x", incarnation=['"><b>', None])
    shown = view_event(record(d, tubid="a b#<x>"), 0, format_message)
    assert shown.key == "Ea%20b%23%3Cx%3E_%22%3E%3Cb%3E_1"


def test_an_event_without_a_number_gets_a_store_key() -> None:
    """Events with no ``num`` are keyed by their place in the store."""
    d = event(1, "anonymous")
    del d["num"]
    assert view_event(record(d), 7, format_message).key == "S7"
    assert view_event(record(d), 7, format_message, run="ab12").key == "Sab12_7"


def test_each_store_numbers_in_its_own_run() -> None:
    """A store's run is random unless given; keys of events without a num carry it, so
    the same place in a restarted viewer is another key (events with a num keep theirs)."""
    d = event(1, "anonymous")
    del d["num"]
    first, second = store_of(record(d), record(event(2, "numbered"))), store_of(record(d))
    assert first.run != second.run and len(first.run) == 16 and first.run.isalnum()
    assert [e.key for e in first] == [f"S{first.run}_0", f"E{TUBID}_{INCARNATION}_2"]
    assert [e.key for e in second] == [f"S{second.run}_0"]
    assert EventStore(format_message, 10, run="given1").run == "given1"
    for bad in ["", "a-b", "x" * 33, "caf\u00e9"]:
        with pytest.raises(ValueError, match="run"):
            EventStore(format_message, 10, run=bad)
    body = json.loads(events_body(list(first), first, more=False))
    assert body["run"] == first.run
    assert json.loads(info_body(first, "f", live=False))["run"] == first.run


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"num": "3"}, "num"),
        ({"num": True}, "num"),
        ({"level": "WEIRD"}, "level"),
        ({"time": float("nan")}, "time"),
        ({"time": "noon"}, "time"),
        ({"facility": 12}, "facility"),
        ({"parent": 1.5}, "parent"),
        ({"incarnation": [7, None]}, "incarnation"),
    ],
)
def test_a_malformed_field_is_refused_by_name(change: dict[str, Any], named: str) -> None:
    """BadEventError names the field that was wrong."""
    d = event(1, "x")
    d.update(change)
    with pytest.raises(BadEventError, match=named):
        view_event(record(d), 0, format_message)


def test_a_record_without_an_event_is_refused() -> None:
    """The ``d`` object is required."""
    with pytest.raises(BadEventError, match="'d'"):
        view_event({"from": TUBID}, 0, format_message)


def test_long_fields_are_cut_and_say_so() -> None:
    """Text and facility are bounded, with the count of what was cut."""
    d = event(1, "m" * (MAX_TEXT + 10), facility="f" * (MAX_FACILITY + 3))
    shown = view_event(record(d), 0, format_message)
    assert shown.text == "m" * MAX_TEXT + "... [10 more characters]"
    assert shown.facility.endswith("... [3 more characters]")


def test_a_formatter_that_raises_leaves_a_marker() -> None:
    """Whatever the formatter raises, the event is still shown."""

    def broken(_: object) -> str:
        raise RuntimeError("boom")

    assert view_event(record(event(1, "x")), 0, broken).text == (
        "[unformattable event: RuntimeError]"
    )


def test_a_format_that_could_blow_up_is_shown_unformatted() -> None:
    """Many references to a long field, or a huge width: no formatting, a marker instead."""
    long = "x" * 10_000
    bomb = event(1, "", format="%(a)s" * 200, a=long)
    assert expansion_bound(bomb) > MAX_EXPANSION
    shown = view_event(record(bomb), 0, format_message)
    assert shown.text == "%(a)s" * 200 + " [not formatted: it could grow too large]"
    wide = event(2, "%99999999d", args=[1])
    assert view_event(record(wide), 0, format_message).text.endswith(
        "[not formatted: it could grow too large]"
    )
    star = event(3, "", format="%(a)*d", a=1)
    assert expansion_bound(star) > MAX_EXPANSION
    nested = event(4, "%s %s", args=[[long] * 60, "b"])
    assert expansion_bound(nested) > MAX_EXPANSION


def test_ordinary_formats_are_formatted() -> None:
    """A few references to short fields, and widths, are well within the bound."""
    fine = event(1, "", format="%(who)s has %(n)5d items", who="alice", n=3)
    assert expansion_bound(fine) < 200
    assert view_event(record(fine), 0, format_message).text == "alice has     3 items"
    assert view_event(record(event(2, "%s+%s", args=(1, 2))), 0, format_message).text == "1+2"


def test_a_flogfile_failure_shows_its_traceback() -> None:
    """The ``{"@": "Failure"}`` object of a flogfile gives its traceback text."""
    failure = {"@": "Failure", "str": "boom", "repr": "<F>", "traceback": "Traceback: boom\n"}
    shown = view_event(record(event(1, "failed", failure=failure)), 0, format_message)
    assert shown.failure == "Traceback: boom\n"


def test_filters_test_level_facility_tubid_and_text() -> None:
    """Each of the four tests, and the empty filter."""
    shown = view_event(
        record(event(1, "Disk FULL", level=30, facility="app.disk")), 0, format_message
    )
    assert EventFilter().matches(shown)
    assert EventFilter(min_level=30).matches(shown)
    assert not EventFilter(min_level=35).matches(shown)
    assert EventFilter(facility="app.").matches(shown)
    assert not EventFilter(facility="disk").matches(shown)
    assert EventFilter(tubid=TUBID[:4]).matches(shown)
    assert not EventFilter(tubid="zz").matches(shown)
    assert EventFilter(text="disk full").matches(shown)
    assert not EventFilter(text="empty").matches(shown)


def test_parse_filter_reads_query_parameters_and_refuses_bad_ones() -> None:
    """level must be an integer, each parameter given once and bounded."""
    assert parse_filter({"level": ["23"], "facility": ["a"], "text": ["t"]}) == EventFilter(
        23, "a", "", "t"
    )
    with pytest.raises(FilterError, match="level"):
        parse_filter({"level": ["high"]})
    with pytest.raises(FilterError, match="level is '²', not an integer"):
        parse_filter({"level": ["²"]})
    with pytest.raises(FilterError, match="facility is given 2 times"):
        parse_filter({"facility": ["a", "b"]})
    with pytest.raises(FilterError, match="tubid is longer"):
        parse_filter({"tubid": ["x" * 1000]})


def test_the_store_drops_its_oldest_events_and_counts_them() -> None:
    """Past the limit the oldest go; seq numbers keep counting."""
    store = store_of(*(record(event(n, f"e{n}")) for n in range(10)), limit=4)
    assert [e.num for e in store] == [6, 7, 8, 9]
    assert store.dropped == 6
    assert (store.first_seq, store.next_seq) == (6, 10)
    assert [e.num for e in store.after(7, 10)] == [8, 9]
    assert [e.num for e in store.after(-1, 3)] == [6, 7, 8]
    assert store.after(9, 10) == []


def test_the_store_bounds_the_text_it_holds_too() -> None:
    """Past max_chars the oldest go as well; the newest always stays."""
    store = EventStore(format_message, 100, max_chars=3000)
    for n in range(4):
        store.add(record(event(n, "m" * 1000)))
    assert [e.num for e in store] == [2, 3]
    assert store.dropped == 2 and store.chars == 2 * (256 + 1000)
    store.add(record(event(9, "m" * 5000)))
    assert [e.num for e in store] == [9]
    assert store.dropped == 4


def test_the_store_counts_rejected_records_and_keeps_headers() -> None:
    """A bad record is counted with its reason; headers are summarised, not stored as events."""
    bad = event(1, "x")
    bad["num"] = "one"
    store = store_of(header(versions={"octavo": "0.1"}), record(bad))
    assert (len(store), store.rejected) == (0, 1)
    assert "num" in store.last_rejection
    assert list(store.headers) == [
        {"type": "log-file-observer", "pid": 4242, "versions": {"octavo": "0.1"}}
    ]


def test_incident_headers_mark_their_trigger_and_weird_events_are_incidents() -> None:
    """An incident's triggering event is marked whether it came before or after the header."""
    trigger = event(2, "the trigger", level=25)
    store = store_of(
        record(event(1, "before")),
        record(trigger),
        {"header": {"type": "incident", "trigger": trigger}},
        record(event(3, "bad", level=40)),
    )
    assert [(e.num, e.trigger) for e in store] == [(1, False), (2, True), (3, False)]
    assert [e.num for e in store.incidents(10)] == [2, 3]
    assert [e.num for e in store.incidents(1)] == [3]
    later = store_of({"header": {"type": "incident", "trigger": trigger}}, record(trigger))
    assert [e.trigger for e in later] == [True]


def test_select_filters_and_limits() -> None:
    """select: events above a seq that pass the filter, at most *limit*."""
    store = store_of(*(record(event(n, f"e{n}", level=10 + n)) for n in range(10)))
    assert [e.num for e in store.select(EventFilter(min_level=15), 6, 10)] == [7, 8, 9]
    assert [e.num for e in store.select(EventFilter(min_level=15), -1, 2)] == [5, 6]


def test_listeners_get_each_new_event_until_unsubscribed() -> None:
    """subscribe returns its own undo."""
    store = store_of()
    seen: list[int | None] = []
    unsubscribe = store.subscribe(lambda e: seen.append(e.num))
    store.add(record(event(1, "a")))
    unsubscribe()
    store.add(record(event(2, "b")))
    assert seen == [1]


def test_json_bodies_escape_markup_and_carry_the_counters() -> None:
    """No ``<``, ``>`` or ``&`` survives in a body; the counters come along."""
    store = store_of(*(record(event(n, "<script>&</script>")) for n in range(3)), limit=2)
    body = events_body(store.after(-1, 10), store, more=False)
    assert b"<" not in body and b">" not in body and b"&" not in body
    decoded = json.loads(body)
    assert decoded["events"][0]["text"] == "<script>&</script>"
    assert (decoded["dropped"], decoded["held"], decoded["last"], decoded["next"]) == (1, 2, 2, 3)
    assert json.loads(incidents_body(store)) == {"incidents": []}
    info = json.loads(info_body(store, "app.flog", live=True))
    assert (info["source"], info["live"], info["limit"]) == ("app.flog", True, 2)
    with pytest.raises(ValueError):
        encode(float("nan"))


def test_an_sse_message_is_one_event_with_its_seq_as_id() -> None:
    """id, event name, one data line, blank line."""
    store = store_of(record(event(1, "line one\nline two")))
    (shown,) = list(store)
    message = sse_message(shown, store.run)
    assert message.startswith(b"id: " + store.run.encode() + b"-0\nevent: log\ndata: {")
    assert message.endswith(b"}\n\n")
    assert message.count(b"\n") == 4
    assert json.loads(message.split(b"data: ")[1])["text"] == "line one\nline two"


def test_a_tail_returns_only_complete_new_lines(tmp_path: Path) -> None:
    """Lines come as they are completed; a partial line waits for its newline."""
    flog = write_flogfile(tmp_path / "t.flog", [header(), record(event(1, "a"))])
    tail = FlogTail(str(flog))
    assert [r.get("d", {}).get("num") for r in tail.read()] == [None, 1]
    assert tail.read() == []
    with flog.open("a", encoding="utf-8") as f:
        f.write(json.dumps(record(event(2, "b")))[:20])
    assert tail.read() == []
    with flog.open("a", encoding="utf-8") as f:
        f.write(json.dumps(record(event(2, "b")))[20:] + "\n")
    assert [r["d"]["num"] for r in tail.read()] == [2]
    tail.close()


def test_a_tail_skips_bad_and_overlong_lines(tmp_path: Path) -> None:
    """Non-JSON, non-object and too-long lines are counted, not returned."""
    flog = write_flogfile(tmp_path / "t.flog", [])
    with flog.open("a", encoding="utf-8") as f:
        f.write("not json\n[1, 2]\n" + "x" * 300 + "\n")
    append(flog, [record(event(1, "ok"))])
    tail = FlogTail(str(flog), max_line=200)
    assert [r["d"]["num"] for r in tail.read()] == [1]
    assert tail.skipped == 3
    tail.close()


def test_a_truncated_file_is_read_again_from_its_start(tmp_path: Path) -> None:
    """A file replaced by a shorter one is followed from its beginning."""
    flog = write_flogfile(tmp_path / "t.flog", [record(event(n, "old")) for n in range(5)])
    tail = FlogTail(str(flog))
    assert len(tail.read()) == 5
    write_flogfile(flog, [record(event(9, "new"))])
    assert [r["d"]["num"] for r in tail.read()] == [9]
    tail.close()


def test_a_tail_refuses_what_is_not_a_flogfile(tmp_path: Path) -> None:
    """Wrong magic (plain or compressed), a missing file, corrupt bzip2: TailErrors naming
    the file."""
    other = tmp_path / "notes.txt"
    other.write_text("hello\n", "utf-8")
    with pytest.raises(TailError, match=r"notes\.txt: not a flogfile"):
        FlogTail(str(other)).read()
    with pytest.raises(TailError, match=r"missing\.flog"):
        FlogTail(str(tmp_path / "missing.flog")).read()
    packed = tmp_path / "notes.flog.bz2"
    packed.write_bytes(bz2.compress(b"(dp0\nS'pickled'\n"))
    with pytest.raises(TailError, match="pickle"):
        FlogTail(str(packed)).read()
    packed.write_bytes(b"BZh9" + b"garbage!" * 20)
    tail = FlogTail(str(packed))
    for _ in range(2):  # said again on each read, never read past
        with pytest.raises(TailError, match="corrupt bzip2"):
            tail.read()
    tail.close()
    assert MAGIC == b"# foolscap flogfile v1\n"


def compressed(records: list[dict[str, Any]], *, magic: bool = True) -> bytes:
    return bz2.compress(((MAGIC.decode() if magic else "") + "".join(map(line, records))).encode())


def test_a_tail_reads_a_bz2_flogfile_and_follows_its_new_streams(tmp_path: Path) -> None:
    """A .bz2 file is read whole; streams appended later (bzip2 FILE >> F) come as they
    complete, a partial one waits; so does a growing file's partial block."""
    flog = tmp_path / "t.flog.bz2"
    flog.write_bytes(compressed([header(), record(event(1, "a"))]))
    tail = FlogTail(str(flog))
    assert [r.get("d", {}).get("num") for r in tail.read()] == [None, 1]
    assert tail.read() == []
    more = compressed([record(event(2, "b")), record(event(3, "c"))], magic=False)
    with flog.open("ab") as f:
        f.write(more[:30])
    assert tail.read() == []
    with flog.open("ab") as f:
        f.write(more[30:])
    assert [r["d"]["num"] for r in tail.read()] == [2, 3]
    tail.close()


def test_a_tail_follows_a_file_bz2file_is_writing(tmp_path: Path) -> None:
    """What a BZ2File writer has put out (whole blocks, then the rest at close) is read."""
    flog = tmp_path / "w.flog.bz2"
    writer = bz2.BZ2File(flog, "wb", compresslevel=1)  # 100 kB blocks
    writer.write(MAGIC)
    tail = FlogTail(str(flog))
    assert tail.read() == []  # nothing whole yet
    n = 0
    while flog.stat().st_size == 0:  # until the first block is out
        n += 1
        writer.write(line(record(event(n, "x" * 200))).encode())
    early = [r["d"]["num"] for r in tail.read()]
    assert early and early == list(range(1, len(early) + 1)) and len(early) < n
    writer.close()
    late = [r["d"]["num"] for r in tail.read()]
    assert early + late == list(range(1, n + 1))
    tail.close()


def test_a_tail_reads_a_compressed_file_a_piece_at_a_time(tmp_path: Path) -> None:
    """Each read gives at most max_read decompressed bytes (a bomb is read in pieces)."""
    flog = tmp_path / "many.flog"  # compressed, though its name does not say so
    flog.write_bytes(compressed([record(event(n, "y" * 100)) for n in range(1000)]))
    tail = FlogTail(str(flog), max_read=20_000)
    counts = []
    while batch := tail.read():
        counts.append(len(batch))
    assert sum(counts) == 1000 and len(counts) > 5 and max(counts) < 200
    tail.close()
