"""Bad gifts from a hostile peer: each fails its own call, nothing else.

A raw Banana peer (tests/tub/_raw_peer.py) sends the server calls whose argument is a
hand-made ``their-reference``: to a Tub that does not exist (a closed 127.0.0.1 port),
with a swissnum that was never given out, with a FURL that is not one, or a gift loop
(the FURL names the raw peer itself, which answers the server's getReferenceByName
with another such gift, and so on). Each time the call carrying the gift gets an error,
the raw peer is told ``decgift``, and both the raw peer and a good client of the same
server are still served.
"""

from __future__ import annotations

import socket
import time
from typing import Any

from octavo.banana import Decoder, ObjectReceived, Unslicer
from octavo.furl import TubRef
from octavo.tub._errors import Violation
from octavo.tub._net._identity import TubIdentity, create_certificate
from octavo.tub._tub import Tub
from octavo.tub._wire._events import CallReceived, CallRefused, GiftReceived
from octavo.tub._wire._vocabulary import INITIAL_VOCAB_TABLES

from ._pb_pair import Obj, Pair
from ._raw_peer import (
    CERTS,
    REPLIES,
    RawBroker,
    RawPeerCase,
    raw_call,
    tclose,
    tint,
    topen,
    tstr,
    until,
)


def test_the_pending_gift_bound_refuses_one_message_only() -> None:
    """Sans-IO: past ``max_pending_gifts`` unresolved gifts, a call carrying one more
    is refused with a Violation; resolving the waiting gifts makes room again."""
    pair = Pair()
    proxy = pair.publish("echo", Obj(echo=lambda v: v))
    pair.b.max_pending_gifts = 2
    gift = Pair().publish("g", Obj())
    for _ in range(3):
        pair.b.receive_data(pair.call(pair.a, proxy.tracker.clid, "echo", gift)[1])
    events = pair.b.events()
    gifts = [e for e in events if isinstance(e, GiftReceived)]
    refused = [e for e in events if isinstance(e, CallRefused)]
    assert len(gifts) == 2 and pair.b.gifts_pending == 2
    assert len(refused) == 1 and isinstance(refused[0].reason, Violation)
    assert "too many gifts waiting" in str(refused[0].reason)
    for g in gifts:
        pair.b.gift_resolved(g.gift, "ref")
    assert pair.b.gifts_pending == 0
    assert [type(e) for e in pair.b.events()] == [CallReceived, CallReceived]
    pair.b.receive_data(pair.call(pair.a, proxy.tracker.clid, "echo", gift)[1])
    assert [type(e) for e in pair.b.events()] == [GiftReceived]


def their_reference(gift_id: int, furl: str, n: int = 950) -> bytes:
    """A their-reference sequence as raw tokens (OPEN number ``n``)."""
    return topen(n, b"their-reference") + tint(gift_id) + tstr(furl.encode()) + tclose(n)


def raw_answer(reqid: int, value: bytes) -> bytes:
    return topen(960, b"answer") + tint(reqid) + value + tclose(960)


class Seq(Unslicer):
    """Any nested sequence (a call's ``arguments``), as ``(opentype, [children])``."""

    def __init__(self, opentype: tuple[str, ...]) -> None:
        self.opentype = opentype
        self.children: list[object] = []

    def receiveChild(self, obj: object) -> None:
        self.children.append(obj)

    def receiveClose(self) -> object:
        return (self.opentype, self.children)


GIFT_PEER_READS = REPLIES.copy()
GIFT_PEER_READS.register(("call",), Seq, top_level=True)
GIFT_PEER_READS.register(("arguments",), Seq)


class GiftPeer(RawBroker):
    """A raw peer that also reads the server's calls to it (getReferenceByName,
    decgift, decref) into ``calls``: (reqID, method, kwargs)."""

    def __init__(self, tub: Tub, tubref: Any, params: dict[str, object], info: Any) -> None:
        super().__init__(tub, tubref, params, info)
        index = params.get("initial-vocab-table-index")
        vocab = INITIAL_VOCAB_TABLES.get(index) if isinstance(index, int) else None
        self.decoder = Decoder(unslicers=GIFT_PEER_READS, vocab=vocab)
        self.calls: list[tuple[int, str, dict[bytes, object]]] = []

    def dataReceived(self, data: bytes) -> None:
        self.decoder.receive_data(data)
        for ev in self.decoder.events():
            if not isinstance(ev, ObjectReceived):
                continue
            (kind,), body = ev.obj  # type: ignore[misc]
            if kind == "call":
                reqid, _clid, method, (_ot, args) = body
                kw = dict(zip(args[1 + args[0] :: 2], args[2 + args[0] :: 2], strict=True))
                self.calls.append((reqid, method.decode(), kw))
            else:
                reqid, value = body
                self.replies[reqid] = (kind, value)

    def calls_of(self, method: str) -> list[tuple[int, str, dict[bytes, object]]]:
        return [c for c in self.calls if c[1] == method]


class GiftPeerTub(Tub):
    def _make_broker(self, tubref: Any, params: dict[str, object], info: Any) -> Any:
        return GiftPeer(self, tubref, params, info)


def closed_port() -> int:
    """A 127.0.0.1 port nobody listens on (bound, then closed)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port: int = s.getsockname()[1]
    s.close()
    return port


class BadGifts(RawPeerCase):
    #: a small bound of gifts waiting on one connection, set as the Tub option
    server_options = {"max-pending-gifts": 5}

    async def setUp(self) -> None:  # type: ignore[override]
        await super().setUp()
        self.peer = await self.gift_peer()
        self.peer.call(1, 0, "getReferenceByName", name="target")
        kind, ref = await self.peer.reply(1)
        assert kind == "answer"
        self.peer_clid: int = ref[1][0]

    async def gift_peer(self) -> GiftPeer:
        t = self.tub(GiftPeerTub, CERTS[3], listen=True)
        tubref = TubRef(self.server.getTubID(), tuple(self.server.locationHints))
        broker = await t.getBrokerForTubRef(tubref)
        assert isinstance(broker, GiftPeer)
        return broker

    def send_gift(self, reqid: int, gift_id: int, furl: str) -> None:
        self.peer.send(raw_call(reqid, self.peer_clid, b"echo", their_reference(gift_id, furl)))

    async def assert_all_still_served(self) -> None:
        await self.assert_good_client_served()
        self.peer.call(900, self.peer_clid, "echo", "peer still here")
        assert await self.peer.reply(900) == ("answer", "peer still here")
        await self.assert_raw_alive()

    async def assert_decgift(self, gift_id: int) -> None:
        await until(lambda: self.peer.calls_of("decgift"))
        (_reqid, _m, kw) = self.peer.calls_of("decgift")[0]
        assert kw == {b"giftID": gift_id, b"count": 1}

    async def test_gift_to_a_tub_that_does_not_exist(self) -> None:
        """A their-reference to a closed 127.0.0.1 port fails that call quickly."""
        nobody = TubIdentity.from_pem(create_certificate()).tubid
        started = time.monotonic()
        self.send_gift(10, 7, f"pb://{nobody}@tcp:127.0.0.1:{closed_port()}/swiss")
        text = await self.peer.error_text(10)
        assert "refused" in text.lower(), text
        assert time.monotonic() - started < 5
        await self.assert_decgift(7)
        await self.assert_all_still_served()

    async def test_gift_with_a_swissnum_never_given(self) -> None:
        """A their-reference naming an object the server's own Tub never registered
        fails that call with the lookup's error."""
        self.send_gift(11, 8, self.server.buildURL("never-given-out"))
        text = await self.peer.error_text(11)
        assert "unable to find reference" in text
        await self.assert_decgift(8)
        await self.assert_all_still_served()

    async def test_gift_with_a_swissnum_a_third_tub_never_gave(self) -> None:
        """The same for a third (real) Tub that has no such name."""
        third = self.tub(Tub, CERTS[4], listen=True)
        self.send_gift(12, 9, third.buildURL("not-there"))
        text = await self.peer.error_text(12)
        assert "unable to find reference" in text
        await self.assert_all_still_served()

    async def test_gift_that_is_not_a_furl(self) -> None:
        """A their-reference whose FURL does not parse fails that call."""
        self.send_gift(13, 10, "pb://not a furl")
        text = await self.peer.error_text(13)
        assert "FURL" in text or "furl" in text, text
        await self.assert_all_still_served()

    async def test_gift_loop(self) -> None:
        """The peer gives the server a reference to its own object, and answers the
        server's getReferenceByName with yet another such gift, again and again: the
        server refuses the gift past its bound of gifts waiting on one connection,
        every waiting gift then fails, and so does the call that started it."""
        conn = self.server_broker(self.peer).connection
        assert conn.max_pending_gifts == 5  # (from the Tub option)
        furl = f"pb://{self.peer.tub.getTubID()}@127.0.0.1:1/loop"
        self.send_gift(20, 100, furl)
        answered = 0

        def asked() -> list[tuple[int, str, dict[bytes, object]]]:
            return self.peer.calls_of("getReferenceByName")

        while answered < 20:
            await until(lambda n=answered: len(asked()) > n or 20 in self.peer.replies)
            if 20 in self.peer.replies:
                break
            reqid, _m, kw = asked()[answered]
            assert kw == {b"name": b"loop"}
            answered += 1
            self.peer.send(raw_answer(reqid, their_reference(100 + answered, furl)))
        assert answered <= 6
        text = await self.peer.error_text(20)
        assert "too many gifts waiting" in text, text
        await self.assert_all_still_served()
        assert conn.gifts_pending == 0

    async def test_a_flood_of_gifts_in_one_call(self) -> None:
        """A call carrying more gifts than the connection's bound is refused with a
        Violation; the gifts taken before the bound are still resolved (and
        acknowledged), and nothing else is disturbed."""
        conn = self.server_broker(self.peer).connection
        assert conn.max_pending_gifts == 5  # (from the Tub option)
        nobody = TubIdentity.from_pem(create_certificate()).tubid
        furl = f"pb://{nobody}@tcp:127.0.0.1:{closed_port()}/swiss"
        gifts = b"".join(their_reference(200 + i, furl, 951 + i) for i in range(10))
        listed = topen(970, b"list") + gifts + tclose(970)
        self.peer.send(raw_call(30, self.peer_clid, b"echo", listed))
        text = await self.peer.error_text(30)
        assert "too many gifts waiting" in text, text
        await until(lambda: len(self.peer.calls_of("decgift")) == 5)
        assert conn.gifts_pending == 0
        await self.assert_all_still_served()
