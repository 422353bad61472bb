"""Hostile peers end to end: one test per attack of issue 10's table, plus the limits.

A real server Tub over loopback TLS, a raw Banana attacker that negotiated properly
(tests/tub/_raw_peer.py) and a well-behaved client of the same Tub. Each test makes
the attack, asserts what the server did about it (a refusal, a close of that one
connection, or reading stopped) and that the good client is still answered. Memory is
not asserted here: ``tox -e bench -- hostile`` measures it (benchmarks/README.md).
Sizes are smaller than the benchmark's where the behaviour does not depend on them.
"""

from __future__ import annotations

from typing import Any

from octavo.banana._vocabulary import _SHARED_VOCABS
from octavo.tub._broker._host import codec_for
from octavo.tub._tub import Tub

from ._raw_peer import (
    CERTS,
    Call,
    RawBroker,
    RawPeerCase,
    raw_call,
    tclose,
    tint,
    topen,
    tstr,
    until,
)

VOCAB_LIMIT = 4096  # octavo.banana.Decoder's default max_vocab_entries
OBJECT_LIMIT = 200_000  # octavo.banana.Decoder's default max_message_objects


def add_vocab(index: int, word: bytes) -> bytes:
    return topen(1, b"add-vocab") + tint(index) + tstr(word) + tclose(1)


def set_vocab(words: dict[int, bytes]) -> bytes:
    body = b"".join(tint(i) + tstr(w) for i, w in words.items())
    return topen(1, b"set-vocab") + body + tclose(1)


def negotiated_words(raw: RawBroker) -> dict[int, bytes]:
    """The initial vocabulary both ends agreed on (kept by a set-vocab, so the raw
    peer's own VOCAB tokens keep their meaning)."""
    return raw.decoder.vocab


class VocabularyAttacks(RawPeerCase):
    async def test_add_vocab_flood_is_per_connection(self) -> None:
        """3,000 add-vocab messages are applied to that connection's table alone:
        nothing shared by the process grows, and the connection goes on."""
        shared, cached = len(_SHARED_VOCABS), len(codec_for(self.server).unslicers.cache)
        self.raw.send(b"".join(add_vocab(1000 + i, b"w%07d" % i) for i in range(3000)))
        await self.assert_raw_alive()
        decoder = self.server_broker().connection.decoder
        assert decoder.vocab[1000 + 2999] == b"w0002999"
        assert (len(_SHARED_VOCABS), len(codec_for(self.server).unslicers.cache)) == (
            shared,
            cached,
        )
        await self.assert_good_client_served()

    async def test_add_vocab_past_the_limit_closes_that_connection(self) -> None:
        """One add-vocab more than max_vocab_entries closes the attacker's connection
        with an ERROR naming the limit."""
        start = len(negotiated_words(self.raw))
        count = VOCAB_LIMIT - start + 1
        self.raw.send(b"".join(add_vocab(1000 + i, b"w%07d" % i) for i in range(count)))
        await self.assert_raw_closed_with_error()
        assert b"max_vocab_entries" in (self.raw.error_message or b"")
        await self.assert_good_client_served()

    async def test_huge_set_vocab_is_refused_as_it_arrives(self) -> None:
        """A set-vocab of 1,000,000 entries is refused at entry max_vocab_entries + 1
        (the rest is never collected); only that connection closes."""
        words = negotiated_words(self.raw)
        words.update({5000 + i: b"%08d" % i for i in range(1_000_000 - len(words))})
        self.raw.send(set_vocab(words))
        await self.assert_raw_closed_with_error()
        assert b"max_vocab_entries" in (self.raw.error_message or b"")
        await self.assert_good_client_served()

    async def test_vocabularies_go_with_their_connections(self) -> None:
        """Five connections in turn, each with its own 4,000-entry set-vocab, then
        closed: the process keeps none of their tables (nothing shared grows)."""
        shared, cached = len(_SHARED_VOCABS), len(codec_for(self.server).unslicers.cache)
        for n in range(5):
            raw = await self.attacker(CERTS[3 + n])
            words = negotiated_words(raw)
            words.update({5000 + i: b"%d-%06d" % (n, i) for i in range(4000 - len(words))})
            raw.send(set_vocab(words))
            raw.call(1, 0, "getReferenceByName", name="target")
            kind, _ = await raw.reply(1)
            assert kind == "answer"
            broker = self.server_broker(raw)
            assert len(broker.connection.decoder.vocab) == 4000
            raw.transport.loseConnection()  # type: ignore[union-attr]
            await until(lambda broker=broker: broker.disconnected)
        assert (len(_SHARED_VOCABS), len(codec_for(self.server).unslicers.cache)) == (
            shared,
            cached,
        )
        await self.assert_raw_alive()
        await self.assert_good_client_served()


class MessageAttacks(RawPeerCase):
    async def test_a_list_of_a_million_empty_lists_is_refused(self) -> None:
        """A 10 MB call whose argument is 1,000,000 empty lists passes the size limit
        but not the object budget: an error answer naming max_message_objects, the
        method never runs, and the same connection goes on."""
        empty = topen(7, b"list") + tclose(7)
        argument = topen(902, b"list") + empty * 1_000_000 + tclose(902)
        self.raw.send(raw_call(2, self.clid, b"take", argument))
        text = await self.raw.error_text(2)
        assert "Violation" in text and "max_message_objects" in text, text
        assert self.target.calls == 0
        await self.assert_raw_alive()
        await self.assert_good_client_served()

    async def test_calls_to_unknown_objects_get_small_answers(self) -> None:
        """1,000 calls to clids that do not exist: each gets an error answer without a
        traceback, all of them together at most 10x the calls' bytes."""
        sent = self.raw.bytes_out
        received = self.raw.bytes_in
        calls = b"".join(
            self.raw.encoder.encode(Call(100 + i, 100_000 + i, "echo", ())) for i in range(1000)
        )
        self.raw.send(calls)
        await until(lambda: len(self.raw.replies) >= 1000, tries=3000)
        texts = [await self.raw.error_text(100 + i) for i in range(1000)]
        assert all("unknown CLID" in t and "Traceback" not in t for t in texts), texts[0]
        assert self.raw.bytes_in - received <= 10 * (self.raw.bytes_out - sent)
        await self.assert_raw_alive()
        await self.assert_good_client_served()


class PeersThatDoNotRead(RawPeerCase):
    server_options = {"max-inbound-calls": 200}

    async def test_slow_calls_past_the_limit_are_not_read(self) -> None:
        """A peer that never reads sends 2,200 calls that never finish: 200 run (the
        limit), the server stops reading the rest and refuses none."""
        self.raw.transport.pauseProducing()  # type: ignore[union-attr]
        self.addCleanup(self.raw.transport.resumeProducing)  # type: ignore[union-attr]
        calls = (Call(100 + i, self.clid, "never") for i in range(2200))
        self.raw.send(b"".join(self.raw.encoder.encode(c) for c in calls))
        broker = self.server_broker()
        await until(lambda: broker.flow.reading_paused, tries=3000)
        await self.assert_good_client_served()
        assert self.target.calls == 200
        assert len(broker.inboundDeliveryQueue) < 2000  # most was never read
        assert self.raw.replies == {}  # nothing refused (nor answered: none finished)
        await self.abort_raw(broker)

    async def test_echoes_to_a_peer_that_does_not_read_stop_reading(self) -> None:
        """A peer that never reads asks for 400 echoes of 64 KiB (26 MB back): once the
        server's send buffer is full it stops reading from that peer, with most calls
        unread; when the peer reads again, every call is answered."""
        self.raw.transport.pauseProducing()  # type: ignore[union-attr]
        self.addCleanup(self.raw.transport.resumeProducing)  # type: ignore[union-attr]
        blob = b"x" * 65536
        calls = (Call(100 + i, self.clid, "echo", (blob,)) for i in range(400))
        self.raw.send(b"".join(self.raw.encoder.encode(c) for c in calls))
        broker = self.server_broker()
        await until(lambda: broker.flow.reading_paused, tries=3000)
        assert broker.connection.messages_completed < 400  # the rest waits unread
        await self.assert_good_client_served()
        self.raw.transport.resumeProducing()  # type: ignore[union-attr]
        await until(lambda: len(self.raw.replies) == 400, tries=3000)
        await self.assert_good_client_served()

    async def abort_raw(self, broker: Any) -> None:
        """The attacker aborts (it cannot flush what the server does not read). A
        connection the server does not read learns of that when it next writes (the
        keepalive PING, after keepaliveTimeout); here the test sends that PING at once."""
        self.raw.transport.abortConnection()  # type: ignore[union-attr]

        def pinged_and_gone() -> bool:
            broker.write(broker.connection.send_ping())
            return bool(broker.disconnected)

        await until(pinged_and_gone)


class ManyPeers(RawPeerCase):
    server_options = {"max-references-per-peer": 50}

    async def test_many_idle_connections_are_all_served_and_released(self) -> None:
        """20 more client Tubs connect and call; once they stop, the server holds only
        the connections it had before."""
        before = len(self.server.brokers)
        clients = []
        for i in range(20):
            tub = Tub()
            tub.startService()
            clients.append(tub)
            ref: Any = await tub.getReference(self.furl)
            assert await ref.callRemote("echo", i) == i
        assert len(self.server.brokers) == before + 20
        for tub in clients:
            await tub.stopService()
        await until(lambda: len(self.server.brokers) == before, tries=1000)
        await self.assert_good_client_served()

    async def test_references_past_the_limit_are_refused(self) -> None:
        """A peer that never releases what it gets: 50 references (the limit, the
        target among them), then an error answer naming the limit for each more."""
        for i in range(60):
            self.raw.call(10 + i, self.clid, "fresh")
        kinds = [(await self.raw.reply(10 + i))[0] for i in range(60)]
        assert kinds == ["answer"] * 49 + ["error"] * 11
        self.raw.call(200, self.clid, "fresh")
        assert "limit 50" in await self.raw.error_text(200)
        await self.assert_raw_alive()
        await self.assert_good_client_served()
