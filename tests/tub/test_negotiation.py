"""The sans-IO negotiation core: Foolscap 24.9's exchange, decisions and errors."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from octavo.tub._errors import DuplicateConnection, NegotiationError, RemoteNegotiationError
from octavo.tub._negotiation._machine import (
    Established,
    ExistingConnection,
    Failed,
    Negotiator,
    Redirected,
    ReplaceExisting,
    SendData,
    StartTLS,
    loopback_params,
)
from octavo.tub._wire._vocabulary import hash_vocab_table

BIG = "z" * 32  # sorts after SMALL: the master
SMALL = "a" * 32


@dataclass
class FakeState:
    tubid: str
    incarnation: str = "0123456789abcdef"
    master_table: dict[str, int] = field(default_factory=dict)
    slave_table: dict[str, tuple[str, str]] = field(default_factory=dict)
    handle_old_duplicate_connections: int | None = None
    existing: dict[str, ExistingConnection] = field(default_factory=dict)

    def existing_connection(self, tubid: str) -> ExistingConnection | None:
        return self.existing.get(tubid)


def client(state: FakeState, target: str, cert: str | None = None) -> Negotiator:
    return Negotiator.client(
        state, target, "example", now=lambda: 1000.0, peer_certificate_tubid=lambda: cert or target
    )


def server(state: FakeState, cert: str, redirects: dict[str, str] | None = None) -> Negotiator:
    def lookup(tubid: str) -> tuple[FakeState | None, str | None]:
        if tubid == state.tubid:
            return state, None
        return None, (redirects or {}).get(tubid)

    return Negotiator.server(lookup, now=lambda: 1000.0, peer_certificate_tubid=lambda: cert)


def sent(events: list[object]) -> bytes:
    return b"".join(e.data for e in events if isinstance(e, SendData))


def pump(c: Negotiator, s: Negotiator) -> tuple[list[object], list[object]]:
    """Run a client/server pair to completion; return all events of each."""
    c_events = c.connection_made()
    s_events = s.connection_made()
    all_c, all_s = list(c_events), list(s_events)
    for _ in range(10):
        to_s, to_c = sent(c_events), sent(s_events)
        if not to_s and not to_c:
            break
        s_events = s.receive_data(to_s) if to_s else []
        c_events = c.receive_data(to_c) if to_c else []
        all_c += c_events
        all_s += s_events
    return all_c, all_s


def test_client_request_is_foolscaps_get():
    """The client's first bytes are Foolscap's HTTP-style Upgrade request."""
    c = client(FakeState(SMALL), BIG)
    assert sent(c.connection_made()) == (
        b"GET /id/" + BIG.encode() + b" HTTP/1.1\r\nHost: example\r\n"
        b"Upgrade: TLS/1.0\r\nConnection: Upgrade\r\n\r\n"
    )


def test_server_answers_101_then_tls_then_hello():
    """The server answers 101, starts TLS, then sends a sorted hello block."""
    s = server(FakeState(BIG), cert=SMALL)
    s.connection_made()
    events = s.receive_data(b"GET /id/" + BIG.encode() + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert isinstance(events[0], SendData)
    assert events[0].data.startswith(b"HTTP/1.1 101 Switching Protocols\r\n")
    assert isinstance(events[1], StartTLS)
    hello = events[2].data
    assert hello.endswith(b"\r\n\r\n")
    keys = [line.split(b":")[0] for line in hello.split(b"\r\n") if line]
    assert keys == sorted(keys)
    assert b"my-tub-id: " + BIG.encode() in hello
    assert b"last-connection" not in hello


@pytest.mark.parametrize("client_is_master", [True, False])
def test_full_exchange_establishes_both_sides(client_is_master):
    """Both sides reach Established with the same params; the master decides."""
    ctub, stub = (BIG, SMALL) if client_is_master else (SMALL, BIG)
    cstate, sstate = FakeState(ctub, "c" * 16), FakeState(stub, "d" * 16)
    c = client(cstate, stub, cert=stub)
    s = server(sstate, cert=ctub)
    all_c, all_s = pump(c, s)
    ce = [e for e in all_c if isinstance(e, Established)]
    se = [e for e in all_s if isinstance(e, Established)]
    assert len(ce) == len(se) == 1
    assert ce[0].their_tubid == stub and se[0].their_tubid == ctub
    assert ce[0].is_master is client_is_master and se[0].is_master is not client_is_master
    for key in ("banana-decision-version", "initial-vocab-table-index"):
        assert ce[0].params[key] == se[0].params[key]
    assert ce[0].params["initial-vocab-table-index"] == 1
    master_state, slave_state = (cstate, sstate) if client_is_master else (sstate, cstate)
    slave_tubid = slave_state.tubid
    assert master_state.master_table == {slave_tubid: 1}
    assert slave_state.slave_table == {master_state.tubid: (master_state.incarnation, "1")}


def test_leftover_bytes_after_decision_go_to_the_broker():
    """Bytes following the decision block are handed over with Established."""
    sstate = FakeState(SMALL)
    c = client(FakeState(BIG), SMALL)
    s = server(sstate, cert=BIG)
    c_events = c.connection_made()
    s_events = s.receive_data(sent(c_events))
    c_events = c.receive_data(sent(s_events))  # client (master) decides
    decision = sent(c_events)
    s_events = s.receive_data(sent(s_events[:0]) + decision + b"BANANA")
    est = [e for e in s_events if isinstance(e, Established)]
    assert est and est[0].leftover == b"BANANA"


def test_certificate_must_match_claimed_tubid():
    """A peer whose certificate hashes to another TubID is refused, with a reason."""
    c = client(FakeState(SMALL), BIG, cert="m" * 32)
    s = server(FakeState(BIG), cert=SMALL)
    all_c, _ = pump(c, s)
    failed = [e for e in all_c if isinstance(e, Failed)]
    assert failed and "TubID mismatch" in str(failed[0].error)
    # the client never hands the connection to a Broker (the server, being the
    # master, may already have decided; its Broker then sees the error and closes)
    assert not any(isinstance(e, Established) for e in all_c)


def test_client_refuses_the_wrong_tub():
    """Reaching a Tub other than the FURL's TubID fails before any Broker exists."""
    other = "q" * 32
    c = client(FakeState(SMALL), BIG, cert=other)
    events = c.connection_made()
    c.receive_data(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: TLS/1.0, PB/1.0\r\n\r\n")
    hello = (
        b"banana-negotiation-range: 3 3\r\ninitial-vocab-table-range: 0 1\r\n"
        b"my-incarnation: 00\r\nmy-tub-id: " + other.encode() + b"\r\n\r\n"
    )
    events = c.receive_data(hello)
    assert isinstance(events[-1], Failed)
    assert "wrong Tub" in str(events[-1].error)


def test_no_certificate_may_not_claim_a_tubid():
    """A hello claiming a TubID without a TLS certificate is refused."""
    c = Negotiator.client(
        FakeState(SMALL), BIG, "h", now=lambda: 0.0, peer_certificate_tubid=lambda: None
    )
    c.connection_made()
    c.receive_data(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: TLS/1.0\r\n\r\n")
    events = c.receive_data(
        b"banana-negotiation-range: 3 3\r\nmy-tub-id: " + BIG.encode() + b"\r\n\r\n"
    )
    assert "must use a certificate" in str(events[-1].error)


def test_unknown_tubid_gets_http_500():
    """A GET for a TubID this listener does not serve gets a 500 and a close."""
    s = server(FakeState(BIG), cert=SMALL)
    s.connection_made()
    events = s.receive_data(b"GET /id/" + SMALL.encode() + b" HTTP/1.1\r\n\r\n")
    assert sent(events).startswith(b"HTTP/1.1 500 Internal Server Error: unknown TubID")
    assert isinstance(events[-1], Failed)


def test_redirect_is_sent_and_followed():
    """A listener redirect sends 303 + Location; the client reports Redirected."""
    s = server(FakeState(BIG), cert=SMALL, redirects={SMALL: "tcp:elsewhere:99"})
    s.connection_made()
    events = s.receive_data(b"GET /id/" + SMALL.encode() + b" HTTP/1.1\r\n\r\n")
    assert sent(events) == b"HTTP/1.1 303 See Other\r\nLocation: tcp:elsewhere:99\r\n\r\n"
    c = client(FakeState(BIG), SMALL)
    c.connection_made()
    cev = c.receive_data(sent(events))
    assert cev[0] == Redirected("tcp:elsewhere:99")
    assert isinstance(cev[-1], Failed)


def test_http_client_gets_clear_error():
    """A web browser (or garbage) gets an HTTP 500 naming the problem."""
    s = server(FakeState(BIG), cert=SMALL)
    s.connection_made()
    events = s.receive_data(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert b"500" in sent(events) and b"not a Foolscap client" in sent(events)


def test_header_too_long():
    """More than 4096 bytes without a blank line fails with 'Header too long'."""
    s = server(FakeState(BIG), cert=SMALL)
    s.connection_made()
    events = s.receive_data(b"x" * 5000)
    assert isinstance(events[-1], Failed) and "Header too long" in str(events[-1].error)
    assert s.receive_data(b"more") == []


def test_connection_lost_mid_negotiation():
    """Losing the connection mid-negotiation reports the phase it happened in."""
    c = client(FakeState(SMALL), BIG)
    c.connection_made()
    events = c.connection_lost("peer went away")
    assert isinstance(events[-1], Failed)
    assert "plaintext" in str(events[-1].error) and "peer went away" in str(events[-1].error)
    assert c.connection_lost("again") == []


def test_remote_error_block_is_reported():
    """An error block from the peer becomes a RemoteNegotiationError, not echoed back."""
    c = client(FakeState(SMALL), BIG)
    c.connection_made()
    c.receive_data(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: TLS/1.0\r\n\r\n")
    events = c.receive_data(b"banana-decision-version: 1\r\nerror: Duplicate connection\r\n\r\n")
    assert sent(events) == b""
    assert isinstance(events[-1].error, RemoteNegotiationError)
    assert "Duplicate connection" in str(events[-1].error)


def test_error_after_hello_is_sent_as_block():
    """An error found in the hello is sent to the peer as an error block."""
    s = server(FakeState(BIG), cert=SMALL)
    s.connection_made()
    s.receive_data(b"GET /id/" + BIG.encode() + b" HTTP/1.1\r\n\r\n")
    events = s.receive_data(b"banana-negotiation-range: 1 2\r\n\r\n")
    assert b"error: I can't handle banana version 2" in sent(events)
    assert b"banana-decision-version: 1" in sent(events)


def _offer(incarnation: str | None, last: str | None) -> bytes:
    lines = [b"banana-negotiation-range: 3 3", b"my-tub-id: " + SMALL.encode()]
    if incarnation is not None:
        lines.append(b"my-incarnation: " + incarnation.encode())
    if last is not None:
        lines.append(b"last-connection: " + last.encode())
    return b"\r\n".join(lines) + b"\r\n\r\n"


def _master_with_existing(existing: ExistingConnection, threshold: int | None = None):
    state = FakeState(BIG, "mine" * 4, handle_old_duplicate_connections=threshold)
    state.existing[SMALL] = existing
    s = server(state, cert=SMALL)
    s.connection_made()
    s.receive_data(b"GET /id/" + BIG.encode() + b" HTTP/1.1\r\n\r\n")
    return s, state


@pytest.mark.parametrize(
    ("incarnation", "last", "accept"),
    [
        ("theirs-new", "none 0", True),  # peer restarted
        ("theirs", "none 0", False),  # parallel attempt
        ("theirs", "pastlife 3", True),  # they remember our past life
        ("theirs", "minemineminemine 5", True),  # they know our current seqnum
        ("theirs", "minemineminemine 4", False),  # older seqnum
        ("theirs", "minemineminemine 9", False),  # weird
    ],
)
def test_duplicate_connection_rules(incarnation, last, accept):
    """The master keeps or replaces an existing connection by Foolscap's rules."""
    s, _ = _master_with_existing(ExistingConnection("theirs", 5, 900.0))
    events = s.receive_data(_offer(incarnation, last))
    if accept:
        assert ReplaceExisting(SMALL, f"[{SMALL[:4]}] replaced by a new connection") in events
        assert isinstance(events[-1], Established)
    else:
        assert isinstance(events[-1], Failed)
        assert isinstance(events[-1].error, DuplicateConnection)
        assert b"error: Duplicate connection" in sent(events)


@pytest.mark.parametrize(("threshold", "accept"), [(None, False), (60, True), (200, False)])
def test_handle_old_duplicate_connections(threshold, accept):
    """Old peers (no incarnation) replace a connection only if it is old enough."""
    s, _ = _master_with_existing(ExistingConnection(None, None, 900.0), threshold)
    events = s.receive_data(_offer(None, None))
    assert isinstance(events[-1], Established if accept else Failed)


def test_slave_replaces_existing_on_decision():
    """The non-master drops its existing connection when the master decides anew."""
    cstate = FakeState(SMALL)
    cstate.existing[BIG] = ExistingConnection(None, None, 0.0)
    c = client(cstate, BIG)
    c.connection_made()
    c.receive_data(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: TLS/1.0\r\n\r\n")
    c.receive_data(b"banana-negotiation-range: 3 3\r\nmy-tub-id: " + BIG.encode() + b"\r\n\r\n")
    vocab = f"1 {hash_vocab_table(1)}".encode()
    events = c.receive_data(
        b"banana-decision-version: 3\r\ncurrent-connection: abc 7\r\n"
        b"initial-vocab-table-index: " + vocab + b"\r\n\r\n"
    )
    assert isinstance(events[0], ReplaceExisting)
    assert isinstance(events[-1], Established)
    assert cstate.slave_table[BIG] == ("abc", "7")


def test_bad_vocab_hash_refused():
    """A decision whose vocab-table hash differs from ours is refused."""
    c = client(FakeState(SMALL), BIG)
    c.connection_made()
    c.receive_data(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: TLS/1.0\r\n\r\n")
    c.receive_data(b"banana-negotiation-range: 3 3\r\nmy-tub-id: " + BIG.encode() + b"\r\n\r\n")
    events = c.receive_data(
        b"banana-decision-version: 3\r\ninitial-vocab-table-index: 1 ffff\r\n\r\n"
    )
    assert "does not match" in str(events[-1].error)


def test_vocab_hash_matches_foolscap():
    """The vocab table check value is Foolscap's (sha1 of the NUL-joined words)."""
    assert hash_vocab_table(0) == "da39"
    assert loopback_params() == {"banana-decision-version": 3, "initial-vocab-table-index": 1}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=300), max_size=20))
def test_garbage_never_crashes(chunks):
    """Any bytes end in a clean Failed (or wait for more), never an exception."""
    for make in (
        lambda: server(FakeState(BIG), cert=SMALL),
        lambda: client(FakeState(SMALL), BIG),
    ):
        n = make()
        n.connection_made()
        for chunk in chunks:
            for event in n.receive_data(chunk):
                if isinstance(event, Failed):
                    assert isinstance(event.error, NegotiationError)
                    assert str(event.error)


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=1, max_value=50))
def test_exchange_in_small_pieces(size):
    """Negotiation works however the bytes are split."""
    c = client(FakeState(BIG), SMALL)
    s = server(FakeState(SMALL), cert=BIG)
    c_out = sent(c.connection_made())
    s_out = b""
    done_c = done_s = False
    for _ in range(50):
        for i in range(0, len(c_out), size):
            ev = s.receive_data(c_out[i : i + size])
            s_out += sent(ev)
            done_s |= any(isinstance(e, Established) for e in ev)
        c_out = b""
        for i in range(0, len(s_out), size):
            ev = c.receive_data(s_out[i : i + size])
            c_out += sent(ev)
            done_c |= any(isinstance(e, Established) for e in ev)
        s_out = b""
        if done_c and done_s:
            break
    assert done_c and done_s
