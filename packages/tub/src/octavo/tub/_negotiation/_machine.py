"""Sans-IO connection negotiation, wire-compatible with Foolscap 24.9.

A :class:`Negotiator` is fed the bytes a peer sends (``receive_data``) and
returns the events that follow: bytes to send, the moment to start TLS, an
existing connection to drop, and finally either :class:`Established` (hand the
connection to a Broker with the given parameters) or :class:`Failed`.

The exchange, for the side that dialled (client) and the side that accepted
(server)::

    client: GET /id/<target tubid> HTTP/1.1 + Upgrade: TLS/1.0     (plaintext)
    server: HTTP/1.1 101 Switching Protocols                       (plaintext)
    both:   start TLS; send a hello block (key: value lines, blank line)
    master: (the side with the larger TubID) sends the decision block
    both:   switch to Banana

The peer's TLS certificate must hash to the TubID it claims, and a client must
reach the TubID it asked for; otherwise negotiation fails and nothing is
delivered to a Broker.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol

from octavo.banana import Encoder
from octavo.tub._errors import DuplicateConnection, NegotiationError, RemoteNegotiationError
from octavo.tub._wire._vocabulary import VOCAB_RANGE, hash_vocab_table

__all__ = [
    "MAX_HEADER_BYTES",
    "Established",
    "ExistingConnection",
    "Failed",
    "NegotiationState",
    "Negotiator",
    "Redirected",
    "ReplaceExisting",
    "SendData",
    "StartTLS",
    "loopback_params",
]

MIN_VERSION = 3
MAX_VERSION = 3
MAX_HEADER_BYTES = 4096


def loopback_params() -> dict[str, object]:
    """The parameters two ends of a loopback (same-Tub) connection would agree on."""
    return {
        "banana-decision-version": MAX_VERSION,
        "initial-vocab-table-index": VOCAB_RANGE[1],
    }


# --- events ------------------------------------------------------------------


@dataclass(frozen=True)
class SendData:
    """Write these bytes to the transport."""

    data: bytes


@dataclass(frozen=True)
class StartTLS:
    """Start TLS now (bytes sent before this event go out in plaintext)."""


@dataclass(frozen=True)
class ReplaceExisting:
    """Drop the established connection to ``tubid``: this one replaces it."""

    tubid: str
    reason: str


@dataclass(frozen=True)
class Established:
    """Negotiation succeeded: hand the connection to a Broker.

    ``leftover`` are bytes already received after the negotiation blocks; they
    belong to the Broker.
    """

    their_tubid: str
    params: dict[str, object]
    is_master: bool
    leftover: bytes


@dataclass(frozen=True)
class Redirected:
    """The server told us (before failing) that the Tub lives at ``location``."""

    location: str


@dataclass(frozen=True)
class Failed:
    """Negotiation failed; close the transport after sending queued bytes."""

    error: NegotiationError


Event = SendData | StartTLS | ReplaceExisting | Established | Redirected | Failed


# --- what negotiation needs from its Tub -------------------------------------


@dataclass(frozen=True)
class ExistingConnection:
    """What the master knows about an established connection to a peer."""

    slave_incarnation: str | None
    seqnum: int | None
    created_at: float


class NegotiationState(Protocol):
    """The Tub-side state a negotiation reads and updates."""

    @property
    def tubid(self) -> str: ...

    @property
    def incarnation(self) -> str: ...

    @property
    def master_table(self) -> MutableMapping[str, int]: ...

    @property
    def slave_table(self) -> MutableMapping[str, tuple[str, str]]: ...

    @property
    def handle_old_duplicate_connections(self) -> int | None: ...

    def existing_connection(self, tubid: str) -> ExistingConnection | None: ...


class _Phase(Enum):
    PLAINTEXT = 0
    ENCRYPTED = 1
    DECIDING = 2
    BANANA = 3
    ABANDONED = 4


def _best_overlap(my_min: int, my_max: int, your_min: int, your_max: int, name: str) -> int:
    best = min(my_max, your_max)
    if best < my_min:
        raise NegotiationError(f"I can't handle {name} {best}")
    if best < your_min:
        raise NegotiationError(f"You can't handle {name} {best}")
    return best


def _parse_range(value: str, name: str) -> tuple[int, int]:
    parts = value.split()
    if len(parts) != 2 or not all(p.isdigit() and len(p) <= 9 for p in parts):
        raise NegotiationError(f"malformed {name}: {value!r}")
    return int(parts[0]), int(parts[1])


def _parse_block(header: bytes) -> dict[str, str]:
    block: dict[str, str] = {}
    for line in header.split(b"\r\n"):
        key, colon, value = line.partition(b":")
        if not colon:
            raise NegotiationError(f"malformed negotiation line (no colon): {line[:80]!r}")
        try:
            block[key.decode("ascii").lower()] = value.lstrip().decode("utf-8")
        except UnicodeDecodeError as e:
            raise NegotiationError(f"negotiation line is not text: {line[:80]!r}") from e
    return block


def _encode_block(block: dict[str, str]) -> bytes:
    lines = [f"{k.lower()}: {block[k]}\r\n".encode() for k in sorted(block)]
    return b"".join(lines) + b"\r\n"


def _one_line(msg: str) -> str:
    return msg.replace("\n", " ").replace("\r", " ")


@dataclass
class Negotiator:
    """One side of one connection's negotiation (construct with client/server)."""

    is_client: bool
    now: Callable[[], float]
    peer_certificate_tubid: Callable[[], str | None]
    state: NegotiationState | None = None
    target_tubid: str | None = None
    target_host: str = ""
    lookup: Callable[[str], tuple[NegotiationState | None, str | None]] | None = None
    their_tubid: str | None = None
    error: NegotiationError | None = None
    _buffer: bytes = b""
    _receive: _Phase = _Phase.PLAINTEXT
    _send: _Phase = _Phase.PLAINTEXT
    _version: int = MAX_VERSION
    _started: bool = field(default=False)
    #: a server that refuses every request, saying why
    refusal: str | None = None

    @classmethod
    def client(
        cls,
        state: NegotiationState,
        target_tubid: str,
        target_host: str,
        *,
        now: Callable[[], float],
        peer_certificate_tubid: Callable[[], str | None],
    ) -> Negotiator:
        """Negotiate as the dialling side, asking for ``target_tubid``."""
        return cls(
            is_client=True,
            now=now,
            peer_certificate_tubid=peer_certificate_tubid,
            state=state,
            target_tubid=target_tubid,
            target_host=target_host,
        )

    @classmethod
    def server(
        cls,
        lookup: Callable[[str], tuple[NegotiationState | None, str | None]],
        *,
        now: Callable[[], float],
        peer_certificate_tubid: Callable[[], str | None],
        refusal: str | None = None,
    ) -> Negotiator:
        """Negotiate as the accepting side; ``lookup(tubid)`` gives (tub, redirect).

        With ``refusal`` set, the request is answered with an HTTP 500 carrying it
        (the peer's negotiation fails with that reason) and nothing more happens.
        """
        return cls(
            is_client=False,
            now=now,
            peer_certificate_tubid=peer_certificate_tubid,
            lookup=lookup,
            refusal=refusal,
        )

    @property
    def finished(self) -> bool:
        """True once negotiation has succeeded or failed."""
        return self._receive in (_Phase.BANANA, _Phase.ABANDONED)

    @property
    def phase(self) -> str:
        """The name of the phase we are receiving in (for diagnostics)."""
        return self._receive.name.lower()

    # -- entry points ---------------------------------------------------------

    def connection_made(self) -> list[Event]:
        """Call once when the transport connects; the client speaks first."""
        if self._started:
            raise RuntimeError("connection_made called twice")
        self._started = True
        if not self.is_client:
            return []
        request = (
            f"GET /id/{self.target_tubid} HTTP/1.1\r\n"
            f"Host: {self.target_host}\r\n"
            "Upgrade: TLS/1.0\r\n"
            "Connection: Upgrade\r\n\r\n"
        )
        self._send = _Phase.ENCRYPTED
        return [SendData(request.encode("utf-8"))]

    def receive_data(self, data: bytes) -> list[Event]:
        """Feed bytes from the peer; return what follows from them."""
        if self._receive in (_Phase.ABANDONED, _Phase.BANANA):
            return []
        self._buffer += data
        events: list[Event] = []
        try:
            while self._receive not in (_Phase.ABANDONED, _Phase.BANANA):
                eoh = self._buffer.find(b"\r\n\r\n", 0, MAX_HEADER_BYTES + 4)
                if eoh == -1:
                    if len(self._buffer) > MAX_HEADER_BYTES:
                        raise NegotiationError("Header too long")
                    break
                header, self._buffer = self._buffer[:eoh], self._buffer[eoh + 4 :]
                if self._receive is _Phase.PLAINTEXT:
                    if self.is_client:
                        events += self._client_plaintext(header)
                    else:
                        events += self._server_plaintext(header)
                elif self._receive is _Phase.ENCRYPTED:
                    events += self._hello(header)
                else:
                    events += self._deciding(header)
        except NegotiationError as e:
            events += self._fail(e)
        return events

    def connection_lost(self, reason: str) -> list[Event]:
        """The transport closed before negotiation finished."""
        if self.finished:
            return []
        return self._fail(
            NegotiationError(f"connection lost during negotiation ({self.phase}): {reason}"),
            send=False,
        )

    def abandon(self, reason: str) -> list[Event]:
        """Give up (e.g. on timeout), telling the peer why when we can."""
        if self.finished:
            return []
        return self._fail(NegotiationError(reason))

    # -- phases ---------------------------------------------------------------

    def _server_plaintext(self, header: bytes) -> list[Event]:
        first = header.split(b"\r\n", 1)[0]
        parts = first.split()
        if len(parts) != 3 or parts[0] != b"GET" or not parts[1].startswith(b"/id/"):
            raise NegotiationError(
                f"expected 'GET /id/<tubid> HTTP/1.1', got {first[:80]!r}; not a Foolscap client?"
            )
        try:
            target = parts[1][4:].decode("ascii")
        except UnicodeDecodeError as e:
            raise NegotiationError("requested TubID is not ASCII") from e
        if not target:
            raise NegotiationError("secure Tubs require encryption")
        if self.refusal is not None:
            raise NegotiationError(self.refusal)
        assert self.lookup is not None
        state, redirect = self.lookup(target)
        if state is None:
            if redirect is not None:
                response = f"HTTP/1.1 303 See Other\r\nLocation: {redirect}\r\n\r\n"
                self._send = _Phase.ABANDONED
                return [
                    SendData(response.encode("utf-8")),
                    *self._fail(NegotiationError(f"redirected to {redirect}"), send=False),
                ]
            raise NegotiationError(f"unknown TubID {target}")
        self.state = state
        response = (
            "HTTP/1.1 101 Switching Protocols\r\n"
            "Upgrade: TLS/1.0, PB/1.0\r\n"
            "Connection: Upgrade\r\n\r\n"
        )
        self._send = _Phase.ENCRYPTED
        return [SendData(response.encode("ascii")), *self._start_encrypted()]

    def _client_plaintext(self, header: bytes) -> list[Event]:
        lines = header.split(b"\r\n")
        parts = lines[0].split(None, 2)
        status = parts[1] if len(parts) >= 2 else b""
        if status == b"303":
            for line in lines[1:]:
                key, _, value = line.partition(b":")
                if key.strip().lower() == b"location":
                    location = value.strip().decode("utf-8", "replace")
                    self._send = _Phase.ABANDONED
                    return [
                        Redirected(location),
                        *self._fail(
                            RemoteNegotiationError(f"redirected to {location}"), send=False
                        ),
                    ]
        if status != b"101":
            text = lines[0][:200].decode("utf-8", "replace")
            if status == b"500":
                raise RemoteNegotiationError(f"peer refused: {text}")
            raise NegotiationError(f"expected 101 Switching Protocols, got {text!r}")
        if b"Upgrade: TLS/1.0" not in header:
            raise NegotiationError("101 response did not contain the TLS upgrade")
        return self._start_encrypted()

    def _start_encrypted(self) -> list[Event]:
        assert self.state is not None
        self._receive = _Phase.ENCRYPTED
        hello = {
            "banana-negotiation-range": f"{MIN_VERSION} {MAX_VERSION}",
            "initial-vocab-table-range": f"{VOCAB_RANGE[0]} {VOCAB_RANGE[1]}",
            "my-tub-id": self.state.tubid,
            "my-incarnation": self.state.incarnation,
        }
        if self.is_client:
            assert self.target_tubid is not None
            ir, seq = self.state.slave_table.get(self.target_tubid, ("none", "0"))
            hello["last-connection"] = f"{ir} {seq}"
        return [StartTLS(), SendData(_encode_block(hello))]

    def _hello(self, header: bytes) -> list[Event]:
        assert self.state is not None
        offer = _parse_block(header)
        if "error" in offer:
            raise RemoteNegotiationError(offer["error"])
        if "banana-negotiation-range" not in offer:
            if "banana-negotiation-version" in offer:
                raise NegotiationError(
                    "Peer is speaking foolscap-0.0.5 or earlier, which is not "
                    "compatible with this version. Please upgrade the peer."
                )
            raise NegotiationError("No valid banana-negotiation sequence seen")
        their_min, their_max = _parse_range(
            offer["banana-negotiation-range"], "banana-negotiation-range"
        )
        self._version = _best_overlap(
            MIN_VERSION, MAX_VERSION, their_min, their_max, "banana version"
        )
        if offer.get("negotiation-forced", "").lower() == "true":
            raise NegotiationError("forced negotiation is not supported")

        claimed = offer.get("my-tub-id")
        cert_tubid = self.peer_certificate_tubid()
        if cert_tubid is None:
            if claimed is not None:
                raise NegotiationError("you must use a certificate to claim a TubID")
            raise NegotiationError("peer presented no certificate and claimed no TubID")
        if claimed != cert_tubid:
            raise NegotiationError(
                f"TubID mismatch: peer claims {claimed!r} but its certificate is {cert_tubid}"
            )
        if self.is_client and claimed != self.target_tubid:
            raise NegotiationError(
                f"connected to the wrong Tub: wanted {self.target_tubid}, reached {claimed}"
            )
        self.their_tubid = claimed
        my_tubid = self.state.tubid
        # The larger TubID is the master; a tie (only possible talking to
        # ourselves over the network) goes to the server.
        i_am_master = my_tubid > claimed or (my_tubid == claimed and not self.is_client)
        if not i_am_master:
            self._send = _Phase.BANANA
            self._receive = _Phase.DECIDING
            return []

        events: list[Event] = []
        self._send = _Phase.DECIDING
        existing = self.state.existing_connection(claimed)
        if existing is not None:
            if not self._accept_over_existing(offer, existing):
                raise DuplicateConnection("Duplicate connection")
            events.append(ReplaceExisting(claimed, f"[{claimed[:4]}] replaced by a new connection"))
        seqnum = self.state.master_table.get(claimed, 0) + 1
        self.state.master_table[claimed] = seqnum
        vocab_min, vocab_max = _parse_range(
            offer.get("initial-vocab-table-range", "0 0"), "initial-vocab-table-range"
        )
        vocab_index = _best_overlap(
            VOCAB_RANGE[0], VOCAB_RANGE[1], vocab_min, vocab_max, "initial vocab set"
        )
        decision = {
            "banana-decision-version": str(self._version),
            "current-connection": f"{self.state.incarnation} {seqnum}",
            "initial-vocab-table-index": f"{vocab_index} {hash_vocab_table(vocab_index)}",
        }
        params: dict[str, object] = {
            "banana-decision-version": self._version,
            "initial-vocab-table-index": vocab_index,
            "current-slave-IR": offer.get("my-incarnation"),
            "current-seqnum": seqnum,
        }
        events.append(SendData(_encode_block(decision)))
        events.append(self._established(params, is_master=True))
        return events

    def _accept_over_existing(self, offer: dict[str, str], existing: ExistingConnection) -> bool:
        """Decide (as master) whether a new offer replaces an existing connection."""
        assert self.state is not None
        if not offer.get("my-incarnation") or "last-connection" not in offer:
            threshold = self.state.handle_old_duplicate_connections
            if threshold is None:
                return False
            return self.now() - existing.created_at >= threshold
        if offer["my-incarnation"] != existing.slave_incarnation:
            return True  # the peer restarted: our connection is stale
        pieces = offer["last-connection"].split()
        if len(pieces) != 2 or not pieces[1].isdigit():
            raise NegotiationError(f"malformed last-connection: {offer['last-connection']!r}")
        master_ir, master_seqnum = pieces[0], int(pieces[1])
        if master_ir == "none":
            return False  # probably a parallel connection from the same attempt
        if master_ir != self.state.incarnation:
            return True  # they remember a past life of ours: ours is stale
        # Same seqnum: they know our connection and still reconnect, so it is
        # stale. An older seqnum (or anything stranger): keep ours.
        return existing.seqnum is not None and master_seqnum == existing.seqnum

    def _deciding(self, header: bytes) -> list[Event]:
        assert self.state is not None and self.their_tubid is not None
        decision = _parse_block(header)
        if "error" in decision:
            raise RemoteNegotiationError(f"Banana negotiation failed: {decision['error']}")
        version_s = decision.get("banana-decision-version")
        if not version_s:
            raise NegotiationError("No banana-decision-version value")
        if not version_s.isdigit() or not MIN_VERSION <= int(version_s) <= MAX_VERSION:
            raise NegotiationError(
                f"I cannot handle banana-decision-version value of {version_s[:20]!r}"
            )
        vocab_index = 0
        vocab_s = decision.get("initial-vocab-table-index")
        if vocab_s:
            pieces = vocab_s.split()
            if len(pieces) != 2 or not pieces[0].isdigit() or len(pieces[0]) > 9:
                raise NegotiationError(f"malformed initial-vocab-table-index: {vocab_s!r}")
            vocab_index = int(pieces[0])
            if not VOCAB_RANGE[0] <= vocab_index <= VOCAB_RANGE[1]:
                raise NegotiationError(f"I can't handle initial vocab table index {vocab_index}")
            ours = hash_vocab_table(vocab_index)
            if vocab_index > 0 and ours != pieces[1]:
                raise NegotiationError(
                    f"Our hash for vocab-table-index {vocab_index} ({ours}) does not "
                    f"match your hash ({pieces[1]})"
                )
        events: list[Event] = []
        if self.state.existing_connection(self.their_tubid) is not None:
            events.append(ReplaceExisting(self.their_tubid, "replaced by a new connection"))
        current = decision.get("current-connection")
        if current:
            pieces = current.split()
            if len(pieces) != 2:
                raise NegotiationError(f"malformed current-connection: {current!r}")
            self.state.slave_table[self.their_tubid] = (pieces[0], pieces[1])
        params: dict[str, object] = {
            "banana-decision-version": int(version_s),
            "initial-vocab-table-index": vocab_index,
        }
        events.append(self._established(params, is_master=False))
        return events

    def _established(self, params: dict[str, object], *, is_master: bool) -> Established:
        assert self.their_tubid is not None
        self._receive = self._send = _Phase.BANANA
        leftover, self._buffer = self._buffer, b""
        return Established(self.their_tubid, params, is_master, leftover)

    def _fail(self, error: NegotiationError, *, send: bool = True) -> list[Event]:
        events: list[Event] = []
        if send and not isinstance(error, RemoteNegotiationError):
            msg = _one_line(str(error))
            if self._send is _Phase.PLAINTEXT:
                events.append(
                    SendData(f"HTTP/1.1 500 Internal Server Error: {msg}\r\n\r\n".encode())
                )
            elif self._send in (_Phase.ENCRYPTED, _Phase.DECIDING):
                block = {"banana-decision-version": "1", "error": msg}
                events.append(SendData(_encode_block(block)))
            elif self._send is _Phase.BANANA:
                events.append(SendData(Encoder.error(msg)))  # a Banana ERROR token
        self._receive = self._send = _Phase.ABANDONED
        self._buffer = b""
        self.error = error
        events.append(Failed(error))
        return events
