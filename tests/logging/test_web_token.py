"""Who may use the web viewer: loopback with a Host check by default, else a token."""

from __future__ import annotations

import pytest
from twisted.trial import unittest

from octavo.logging._events import format_message
from octavo.logging._web._access import (
    AccessError,
    AccessPolicy,
    check_token_text,
    choose_policy,
    is_loopback,
    viewer_url,
)
from octavo.logging._web._resources import ViewerResource
from octavo.logging._web._store import EventStore

from ._web_http import get, open_stream, serve
from ._web_records import event, record

TOKEN = "s3cret-token_for.tests"


@pytest.mark.parametrize(
    ("interface", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("localhost", True),
        ("::1", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.7", False),
        ("example.org", False),
    ],
)
def test_is_loopback(interface: str, loopback: bool) -> None:
    """Loopback addresses and ``localhost`` only."""
    assert is_loopback(interface) is loopback


@pytest.mark.parametrize("interface", ["0.0.0.0", "::", "10.0.0.5"])
def test_any_other_interface_gets_a_fresh_token(interface: str) -> None:
    """Off loopback, without --token, a random token is made (a new one each time)."""
    first, second = choose_policy(interface, 8080, None), choose_policy(interface, 8080, None)
    assert first.token is not None and second.token is not None
    assert first.token != second.token and len(first.token) >= 32
    assert check_token_text(first.token) == first.token
    assert first.allowed_hosts is None


def test_a_given_token_is_required_on_any_interface() -> None:
    """--token holds on loopback too."""
    assert choose_policy("127.0.0.1", 1, TOKEN) == AccessPolicy(TOKEN, None)
    assert choose_policy("0.0.0.0", 1, TOKEN) == AccessPolicy(TOKEN, None)


@pytest.mark.parametrize(
    ("token", "reason"),
    [("short", "16 to 256"), ("x" * 300, "16 to 256"), ("with space in it!!", "letters")],
)
def test_unusable_tokens_are_refused(token: str, reason: str) -> None:
    """A token must be long enough and URL-safe as it is."""
    with pytest.raises(AccessError, match=reason):
        choose_policy("0.0.0.0", 1, token)


def test_the_policy_compares_tokens_and_hosts() -> None:
    """Right token only; without a token, loopback Host names at the right port only."""
    with_token = AccessPolicy(TOKEN, None)
    assert with_token.allows(TOKEN, "anything")
    assert not with_token.allows(None, "127.0.0.1:1")
    assert not with_token.allows(TOKEN + "x", None)
    assert not with_token.allows("é" * 20, None)
    loopback = choose_policy("127.0.0.1", 8123, None)
    assert loopback.token is None
    for host in ("127.0.0.1:8123", "localhost:8123", "LOCALHOST:8123", "[::1]:8123"):
        assert loopback.allows(None, host)
    for host in ("evil.example:8123", "127.0.0.1:8124", None):
        assert not loopback.allows(None, host)


def test_the_url_names_a_reachable_host_and_the_token() -> None:
    """Wildcards are shown as 127.0.0.1; IPv6 addresses in brackets; the token as ?token=."""
    assert viewer_url("127.0.0.1", 80, None) == "http://127.0.0.1:80/"
    assert viewer_url("0.0.0.0", 81, TOKEN) == f"http://127.0.0.1:81/?token={TOKEN}"
    assert viewer_url("::1", 82, None) == "http://[::1]:82/"


class TokenRequired(unittest.TestCase):
    def setUp(self) -> None:
        store = EventStore(format_message, 10)
        store.add(record(event(1, "private")))
        self.resource = ViewerResource(
            store, AccessPolicy(TOKEN, None), source="app.flog", live=False
        )
        self.base = serve(self, self.resource)

    async def test_every_path_without_the_right_token_is_403(self) -> None:
        for path in ("/", "/static/app.js", "/events.json", "/incidents.json", "/stream", "/x"):
            for query in ("", "?token=", "?token=wrong-token-wrong-token", f"?tokens={TOKEN}"):
                code, _, body = await get(self.base + path + query)
                assert (code, body) == (403, b"forbidden: this viewer needs its token\n"), path
                assert b"private" not in body

    async def test_the_right_token_opens_every_path(self) -> None:
        for path in ("/static/app.js", "/static/style.css", "/events.json", "/info.json"):
            code, _, _ = await get(f"{self.base}{path}?token={TOKEN}")
            assert code == 200, path
        _, _, body = await get(f"{self.base}/events.json?token={TOKEN}")
        assert b"private" in body
        _, reader = await open_stream(f"{self.base}/stream?token={TOKEN}")
        await reader.wait_for(b"private")
        reader.disconnect()
        await reader.closed

    async def test_the_page_passes_its_token_on_to_its_files(self) -> None:
        code, _, body = await get(f"{self.base}/?token={TOKEN}")
        assert code == 200
        assert f'src="static/app.js?token={TOKEN}"'.encode() in body
        assert f'href="static/style.css?token={TOKEN}"'.encode() in body


class HostChecked(unittest.TestCase):
    async def test_a_foreign_host_header_is_403_on_loopback(self) -> None:
        resource = ViewerResource(
            EventStore(format_message, 10), AccessPolicy(None, frozenset()), source="s", live=False
        )
        base = serve(self, resource)
        port = int(base.rsplit(":", 1)[1])
        resource.policy = choose_policy("127.0.0.1", port, None)
        code, _, _ = await get(base + "/events.json")
        assert code == 200
        code, _, _ = await get(
            base + "/events.json", {b"Host": [f"rebound.example:{port}".encode()]}
        )
        assert code == 403
