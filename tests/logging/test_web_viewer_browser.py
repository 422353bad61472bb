"""The web viewer in a real browser: Playwright drives Debian's Chromium (/usr/bin/chromium).

The viewer runs in a subprocess (``python -m octavo.logging._cli.web_viewer FILE --follow``)
so that Twisted's reactor stays out of Playwright's way; the test reads the URL it prints.
A screenshot is kept under $OCTAVO_TEST_ARTIFACTS (else pytest's tmp_path).
"""

from __future__ import annotations

import os
import select
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from ._web_records import INCARNATION, TUBID, append, event, header, record, write_flogfile

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: Every wait of this test is bounded by this many seconds (milliseconds for Playwright).
WAIT = 20.0
WAIT_MS = WAIT * 1000
OTHER_TUBID = "zzzzlpv4yb3qgvhwdtpkcn2mcfcnqbyq"
INJECTION = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'


def key(num: int) -> str:
    """The permalink key of event *num* of TUBID."""
    return f"E{TUBID}_{INCARNATION}_{num}"


def records() -> list[dict[str, object]]:
    """A header, a parent with two children, noise, an incident, an injection, another Tub."""
    return [
        header(),
        record(event(1, "starting up", facility="app.startup")),
        record(event(2, "loading config", facility="app.startup", parent=1)),
        record(event(3, "config loaded", facility="app.startup", parent=2)),
        *(record(event(n, f"tick {n}", level=10, facility="app.timer")) for n in range(4, 10)),
        record(event(10, "disk is full", level=30, facility="app.disk")),
        record(event(11, INJECTION, facility="app.web")),
        record(event(1, "hello from elsewhere", facility="peer"), tubid=OTHER_TUBID),
    ]


def first_line(proc: subprocess.Popen[str]) -> str:
    """The first line *proc* prints, waiting at most WAIT seconds."""
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], WAIT)
    assert ready, "no line printed in time"
    return proc.stdout.readline().strip()


def read_url(proc: subprocess.Popen[str]) -> str:
    """The first line the viewer prints: its URL."""
    url = first_line(proc)
    assert url.startswith("http://127.0.0.1:"), url
    return url


def stop(proc: subprocess.Popen[str]) -> None:
    """Terminate *proc* and wait for it (killing it if it lingers)."""
    proc.terminate()
    try:
        proc.wait(timeout=WAIT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=WAIT)


@contextmanager
def running_viewer(source: str | Path, *options: str) -> Iterator[str]:
    """A viewer subprocess on *source* with *options*; yields its URL, kills it at the end.

    Its stderr goes to a file (a pipe nobody reads could fill up and block it), printed
    afterwards for pytest to show if the test failed.
    """
    with tempfile.TemporaryFile("w+") as errors:
        proc = subprocess.Popen(
            [sys.executable, "-m", "octavo.logging._cli.web_viewer", str(source), *options],
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
        try:
            yield read_url(proc)
        finally:
            stop(proc)
            errors.seek(0)
            print(f"viewer stderr: {errors.read()[-4000:]!r}")


@pytest.fixture
def viewer(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A viewer following a flogfile: (its URL, the file)."""
    flog = write_flogfile(tmp_path / "app.flog", records())
    with running_viewer(flog, "--follow") as url:
        yield url, flog


@pytest.fixture
def page() -> Iterator[Page]:
    """A page of a headless Chromium."""
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: run scripts/ensure_chromium.py"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=WAIT_MS
        )
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 900})
            context.set_default_timeout(WAIT_MS)
            yield context.new_page()
        finally:
            browser.close()


def artifacts(tmp_path: Path) -> Path:
    """Where to keep screenshots: $OCTAVO_TEST_ARTIFACTS, else *tmp_path*."""
    folder = Path(os.environ.get("OCTAVO_TEST_ARTIFACTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def open_viewer(page: Page, url: str) -> None:
    """Load the page and wait until it has shown the events it was sent."""
    page.goto(url, timeout=WAIT_MS)
    expect(page.locator("body[data-ready=true]")).to_have_count(1)


def shown_texts(page: Page) -> list[str]:
    """The message cells of the rows now shown."""
    return page.locator("#event-body tr:not([hidden]) td.msg").all_inner_texts()


def test_the_page_shows_filters_follows_and_links_events(
    viewer: tuple[str, Path], page: Page, tmp_path: Path
) -> None:
    """Events listed and escaped, filters, folding, a live event, incidents, a permalink."""
    url, flog = viewer
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    open_viewer(page, url)
    rows = page.locator("#event-body tr")
    expect(rows).to_have_count(12)
    expect(page.locator("#status")).to_have_text("live")

    # a peer's markup is text on the page, never markup
    expect(page.locator("#event-body td.msg", has_text="<img src=x")).to_have_count(1)
    assert page.locator("#event-body img, #event-body script").count() == 0
    assert page.evaluate("window.__pwned") is None

    # filters: minimum level, facility prefix, tubid, text
    page.select_option("#level", "30")
    expect(page.locator("#event-body tr:not([hidden])")).to_have_count(1)
    assert shown_texts(page) == ["disk is full"]
    page.select_option("#level", "0")
    page.fill("#facility", "app.start")
    expect(page.locator("#event-body tr:not([hidden])")).to_have_count(3)
    page.fill("#facility", "")
    page.fill("#tubid", OTHER_TUBID[:6])
    assert shown_texts(page) == ["hello from elsewhere"]
    page.fill("#tubid", "")
    page.fill("#text", "TICK")
    expect(page.locator("#event-body tr:not([hidden])")).to_have_count(6)
    page.fill("#text", "")
    expect(page.locator("#event-body tr:not([hidden])")).to_have_count(12)

    # times in UTC on request (event 1 is at 1_700_000_001)
    page.check("#utc")
    expect(page.locator(f"[id='{key(1)}'] td.time")).to_have_text("22:13:21.000")
    expect(page.locator("#incident-list a")).to_have_text("22:13:30.000 WEIRD: disk is full")
    page.uncheck("#utc")

    # nesting: event 1 folds away its child and grandchild
    assert page.locator(f"[id='{key(3)}'] td.fold-cell").get_attribute("style") == (
        "padding-left: 2.2em;"
    )
    page.locator(f"[id='{key(1)}'] button.fold").click()
    expect(page.locator(f"[id='{key(2)}']")).to_be_hidden()
    expect(page.locator(f"[id='{key(3)}']")).to_be_hidden()
    page.locator(f"[id='{key(1)}'] button.fold").click()
    expect(page.locator(f"[id='{key(3)}']")).to_be_visible()

    # the timeline draws bars, the last of which leads to the newest event
    bars = page.locator("#chart rect")
    assert bars.count() >= 2
    bars.last.dispatch_event("click")
    expect(page.locator("#event-body tr.selected")).to_have_attribute("id", key(11))
    assert "pid 4242" in (page.locator("#source").get_attribute("title") or "")
    page.check("#follow")

    # the incident list links to the WEIRD event
    incident = page.locator("#incident-list a")
    expect(incident).to_have_count(1)
    expect(incident).to_contain_text("WEIRD: disk is full")
    incident.click()
    expect(page.locator("#event-body tr.selected")).to_have_attribute("id", key(10))

    # a new line in the file shows up live, with no reload
    append(flog, [record(event(12, "arrived while watching", level=35, facility="app.late"))])
    expect(page.locator("#event-body tr", has_text="arrived while watching")).to_have_count(1)
    expect(rows).to_have_count(13)
    expect(incident).to_have_count(2)

    # a permalink selects and scrolls to its event on load
    page.goto(url + "#" + key(7), timeout=WAIT_MS)
    page.reload(timeout=WAIT_MS)
    expect(page.locator("body[data-ready=true]")).to_have_count(1)
    selected = page.locator("#event-body tr.selected")
    expect(selected).to_have_attribute("id", key(7))
    expect(selected).to_be_in_viewport()

    shot = artifacts(tmp_path) / f"web-viewer-{int(time.time())}.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"web viewer screenshot: {shot}")
    assert shot.stat().st_size > 0
    assert errors == []


def test_the_page_keeps_no_more_events_than_the_viewer(page: Page, tmp_path: Path) -> None:
    """With --max-events 5 the page starts with 5 rows and trims live ones in batches."""
    flog = write_flogfile(tmp_path / "many.flog", [record(event(n, f"old {n}")) for n in range(20)])
    with running_viewer(flog, "--follow", "--max-events", "5") as url:
        open_viewer(page, url)
        rows = page.locator("#event-body tr")
        expect(rows).to_have_count(5)
        expect(page.locator("#counts")).to_have_text("5 events, 5 shown, 15 oldest dropped")
        append(flog, [record(event(n, f"new {n}")) for n in range(100, 250)])
        expect(page.locator("#event-body tr", has_text="new 249")).to_have_count(1)
        # 5 + 150 rows: trimmed back to 5 when 101 were over, then 49 more arrived
        expect(rows).to_have_count(54)
        expect(page.locator("#counts")).to_have_text("54 events, 54 shown, 116 oldest dropped")
        assert page.locator("#event-body tr", has_text="new 195").count() == 0
        assert page.locator("#event-body tr", has_text="new 196").count() == 1


def test_a_file_read_once_is_shown_without_a_stream(page: Page, tmp_path: Path) -> None:
    """Without --follow the page says so and opens no event stream."""
    flog = write_flogfile(tmp_path / "once.flog", records())
    streams: list[str] = []
    page.on(
        "request", lambda request: streams.extend([request.url] if "/stream" in request.url else [])
    )
    with running_viewer(flog) as url:
        open_viewer(page, url)
        expect(page.locator("#event-body tr")).to_have_count(12)
        expect(page.locator("#status")).to_have_text("file read once")
        expect(page.locator("#source")).not_to_contain_text("(live)")
    assert streams == []


def test_a_log_port_is_followed_live_until_it_goes_away(page: Page) -> None:
    """A FURL source: events logged by another process appear; its end is shown."""
    port = subprocess.Popen(
        [sys.executable, "-m", "tests.logging._web_logport"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        furl = first_line(port)
        assert furl.startswith("pb://"), furl
        assert port.stdin is not None
        with running_viewer(furl) as url:
            open_viewer(page, url)
            expect(page.locator("#status")).to_have_text("live")
            port.stdin.write("20 hello from the log port\n30 something odd <b>here</b>\n")
            port.stdin.flush()
            expect(page.locator("#event-body tr")).to_have_count(2)
            expect(page.locator("#event-body td.msg").first).to_have_text("hello from the log port")
            expect(page.locator("#incident-list a")).to_contain_text("something odd <b>here</b>")
            assert "log-port" in (page.locator("#source").get_attribute("title") or "")
            port.stdin.close()
            port.wait(timeout=WAIT)
            expect(page.locator("#status")).to_have_text("the log port is gone: reconnecting")
    finally:
        stop(port)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on just now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_a_page_open_across_a_restart_of_the_viewer_starts_again(
    page: Page, tmp_path: Path
) -> None:
    """The viewer process stops and another starts on the same port: its numbering starts
    again. The page, still open, sees the new run on the stream it reopens and reloads:
    it shows exactly what the new viewer holds, with the selected event still selected
    (its permalink names the same event in both), then follows it live."""
    flog = write_flogfile(tmp_path / "app.flog", [record(event(n, f"old {n}")) for n in range(5)])
    port = str(free_port())
    with running_viewer(flog, "--follow", "--port", port) as url:
        open_viewer(page, url + "#" + key(1))
        expect(page.locator("#event-body tr")).to_have_count(5)
        expect(page.locator("#status")).to_have_text("live")
        expect(page.locator("#event-body tr.selected")).to_have_attribute("id", key(1))
    expect(page.locator("#status")).to_have_text("reconnecting to the viewer")
    # the file now holds old event 1, then three events of the application restarted
    # (a new incarnation): four events at seqs 0..3, where the page saw five
    restarted = ["fedcba9876543210", None]
    write_flogfile(
        flog,
        [
            record(event(1, "old 1")),
            *(record(event(n, f"new {n}", incarnation=restarted)) for n in range(3)),
        ],
    )
    with running_viewer(flog, "--follow", "--port", port) as again:
        assert again == url
        expect(page.locator("#event-body td.msg")).to_have_text(
            ["old 1", "new 0", "new 1", "new 2"]
        )
        expect(page.locator("#status")).to_have_text("live")
        expect(page.locator("#event-body tr.selected")).to_have_attribute("id", key(1))
        append(flog, [record(event(3, "new 3", incarnation=restarted))])
        expect(page.locator("#event-body td.msg")).to_have_text(
            ["old 1", "new 0", "new 1", "new 2", "new 3"]
        )
        expect(page.locator("#counts")).to_have_text("5 events, 5 shown")
