"""Octavo Tubs and real Foolscap 24.9 Tubs (in a separate process) talk both ways."""

from __future__ import annotations

import os
import shutil
import socket
import sys
import tempfile
from typing import Any

from twisted.internet import defer, protocol, reactor
from twisted.trial import unittest

from octavo.banana import fast_paths_default
from octavo.tub import UnicodeConstraint
from octavo.tub._errors import DeadReferenceError
from octavo.tub._net._identity import TubIdentity, create_certificate
from octavo.tub._referenceable import Referenceable
from octavo.tub._tub import Tub
from octavo.tub._wire._events import AnswerReceived, CallReceived
from octavo.tub._wire._fast_decoder import FastDecoder

from .foolscap_peer import literal

PEER = os.path.join(os.path.dirname(__file__), "foolscap_peer.py")

INERT_VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    2**70,
    -(2**70),
    1.5,
    b"bytes\x00\xff",
    "unicode \u2603",
    [],
    [1, [2, [3]]],
    (1, "two", b"three"),
    {"a": 1, "b": [2]},
    {b"k": b"v", b"": None},
    {1, 2, 3},
    frozenset({"x"}),
    {"nested": ({"deep": [1, (2, {3})]},)},
]


class FoolscapPeer(protocol.ProcessProtocol):
    """Drives foolscap_peer.py: start, send commands, read answers, stop."""

    def __init__(self) -> None:
        self.furl: defer.Deferred[str] = defer.Deferred()
        self.ended: defer.Deferred[None] = defer.Deferred()
        self._buffer = b""
        self._waiting: dict[int, defer.Deferred[tuple[str, str]]] = {}
        self._next = 0
        self.stderr = b""

    @classmethod
    def start(cls, *args: str) -> FoolscapPeer:
        peer = cls()
        env = dict(os.environ, PYTHONWARNINGS="ignore")
        reactor.spawnProcess(
            peer, sys.executable, [sys.executable, PEER, *args], env=env, usePTY=False
        )
        return peer

    def outReceived(self, data: bytes) -> None:
        self._buffer += data
        while b"\n" in self._buffer:
            line, self._buffer = self._buffer.split(b"\n", 1)
            text = line.decode()
            if text.startswith("FURL "):
                self.furl.callback(text[5:])
                continue
            kind, ident, rest = [*text.split(" ", 2), ""][:3]
            d = self._waiting.pop(int(ident), None)
            if d is not None:
                d.callback((kind, rest))

    def errReceived(self, data: bytes) -> None:
        self.stderr += data[-4000:]

    def processEnded(self, reason: object) -> None:
        for d in self._waiting.values():
            d.callback(("X", "peer process ended"))
        self._waiting.clear()
        if not self.furl.called:
            self.furl.errback(RuntimeError(f"peer died: {self.stderr.decode()[-2000:]}"))
        self.ended.callback(None)

    def command(self, *cmd: Any) -> defer.Deferred[tuple[str, str]]:
        self._next += 1
        d: defer.Deferred[tuple[str, str]] = defer.Deferred()
        self._waiting[self._next] = d
        self.transport.write(f"{self._next} {cmd!r}\n".encode())  # type: ignore[union-attr]
        return d

    async def call(self, furl: str, method: str, *args: Any) -> Any:
        """Have Foolscap call ``method`` on ``furl``; return the result or raise."""
        kind, text = await self.command("call", furl, method, list(args))
        if kind != "R":
            raise RemoteCallError(text)
        return literal(text)

    def kill(self) -> defer.Deferred[None]:
        if not self.ended.called:
            self.transport.signalProcess("KILL")  # type: ignore[union-attr]
        return self.ended


class RemoteCallError(Exception):
    """Foolscap reported a failed call (the text is Foolscap's failure)."""


class Echo(Referenceable):  # type: ignore[misc]
    """What Foolscap calls on our side."""

    def __init__(self) -> None:
        self.held: list[defer.Deferred[Any]] = []

    def remote_echo(self, x: Any) -> Any:
        return x

    def remote_fail(self, msg: str) -> None:
        raise ValueError(msg)

    def remote_use(self, ref: Any, a: int, b: int) -> Any:
        return ref.callRemote("add", a, b)

    def remote_child(self, name: str) -> Child:
        return Child(name)

    def remote_hang(self) -> defer.Deferred[Any]:
        d: defer.Deferred[Any] = defer.Deferred()
        self.held.append(d)
        return d


class Child(Referenceable):  # type: ignore[misc]
    def __init__(self, name: str) -> None:
        self.name = name

    def remote_name(self) -> str:
        return self.name


class Doubler(Referenceable):  # type: ignore[misc]
    def remote_got(self, value: Any) -> Any:
        return value * 2


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port: int = s.getsockname()[1]
    s.close()
    return port


async def settle(seconds: float = 0.05) -> None:
    d: defer.Deferred[None] = defer.Deferred()
    reactor.callLater(seconds, d.callback, None)
    await d


class Interop(unittest.TestCase):
    timeout = 60

    def make_tub(self, listen: bool = True, cert: bytes | None = None) -> Tub:
        t = Tub(certData=cert)
        t.startService()
        self.addCleanup(t.stopService)
        if listen:
            port = t.listenOn("tcp:0:interface=127.0.0.1").getPortnum()
            t.setLocation(f"127.0.0.1:{port}")
        return t

    async def peer(self, *args: str) -> tuple[FoolscapPeer, str]:
        p = FoolscapPeer.start(*args)
        self.addCleanup(p.kill)
        furl = await p.furl
        return p, furl

    # -- Octavo calls Foolscap -----------------------------------------------

    async def test_octavo_calls_foolscap_with_every_inert_type(self) -> None:
        """Every inert type survives a round trip through a Foolscap Tub."""
        _, furl = await self.peer()
        rref = await self.make_tub(listen=False).getReference(furl)
        for value in INERT_VALUES:
            assert await rref.callRemote("echo", value) == value, value
        assert await rref.callRemote("add", 1, b=2) == 3
        assert rref.getRemoteTubID() == furl[5:37]

    async def test_octavo_big_payloads(self) -> None:
        """A 1 MB argument and a 1 MB result cross the wire intact."""
        _, furl = await self.peer()
        rref = await self.make_tub(listen=False).getReference(furl)
        payload = os.urandom(1 << 20)
        assert await rref.callRemote("echo", payload) == payload
        assert await rref.callRemote("big", 1 << 20) == b"x" * (1 << 20)

    async def test_50_mb_both_ways_with_foolscap(self) -> None:
        """A 50 MB argument to Foolscap and its 50 MB echo back, our max-token-size
        raised to 64 MiB (Foolscap has no token limit); by default the echo would be
        refused here."""
        _, furl = await self.peer()
        tub = self.make_tub(listen=False)
        tub.setOption("max-token-size", 64 * 1024 * 1024)
        rref = await tub.getReference(furl)
        payload = b"\xa5" * 50_000_000
        assert await rref.callRemote("echo", payload) == payload

    async def test_a_20_mib_str_from_foolscap_by_declaration(self) -> None:
        """Foolscap sends a str's UTF-8 body as one STRING token whatever its size: a
        20 MiB str echoed back arrives, with the default max-token-size, where the call
        declares its result ``UnicodeConstraint(maxLength=30_000_000)``, and is refused
        naming the limit where nothing declares it; the connection goes on."""
        _, furl = await self.peer()
        rref = await self.make_tub(listen=False).getReference(furl)
        text = "a" * (20 * 2**20 - 3000) + "\u20ac" * 1000
        declared = UnicodeConstraint(maxLength=30_000_000)
        assert await rref.callRemote("echo", text, _resultConstraint=declared) == text
        with self.assertRaises(Exception) as e:
            await rref.callRemote("echo", text)
        assert "max_token_size" in str(e.exception), e.exception
        assert await rref.callRemote("echo", "ok") == "ok"

    async def test_octavo_gets_foolscap_exceptions(self) -> None:
        """A Foolscap method's exception arrives as a failure naming its type and text."""
        _, furl = await self.peer()
        rref = await self.make_tub(listen=False).getReference(furl)
        with self.assertRaises(Exception) as e:
            await rref.callRemote("fail", "boom")
        assert "boom" in str(e.exception) and "ValueError" in str(e.exception)

    async def test_octavo_passes_referenceable_and_is_called_back(self) -> None:
        """Foolscap calls back through a Referenceable we passed as an argument."""
        _, furl = await self.peer()
        rref = await self.make_tub(listen=False).getReference(furl)
        assert await rref.callRemote("callback", Doubler(), 21) == 42

    async def test_octavo_receives_new_referenceable(self) -> None:
        """A Referenceable returned by Foolscap can be called."""
        _, furl = await self.peer()
        rref = await self.make_tub(listen=False).getReference(furl)
        child = await rref.callRemote("make_child", "kid")
        assert await child.callRemote("name") == "kid"

    async def test_octavo_sees_connection_drop_mid_call(self) -> None:
        """Killing the Foolscap process mid-call errbacks the call (DeadReferenceError)."""
        peer, furl = await self.peer()
        rref = await self.make_tub(listen=False).getReference(furl)
        lost: list[bool] = []
        rref.notifyOnDisconnect(lambda: lost.append(True))
        d = rref.callRemote("hang")
        await settle()
        await peer.kill()
        with self.assertRaises(Exception) as e:
            await d
        assert isinstance(e.exception, (DeadReferenceError, ConnectionError)) or (
            "lost" in str(e.exception).lower()
        )
        await settle()
        assert lost == [True]

    async def test_octavo_wrong_tubid_refused(self) -> None:
        """A FURL naming another TubID at Foolscap's address is refused."""
        _, furl = await self.peer()
        other = TubIdentity.from_pem(create_certificate()).tubid
        wrong = "pb://" + other + furl[37:]
        with self.assertRaises(Exception) as e:
            await self.make_tub(listen=False).getReference(wrong)
        assert "unknown TubID" in str(e.exception)

    async def test_octavo_wrong_swissnum_refused(self) -> None:
        """A FURL with an unknown name is refused by Foolscap; nothing is called."""
        _, furl = await self.peer()
        wrong = furl.rsplit("/", 1)[0] + "/nosuchname"
        with self.assertRaises(Exception) as e:
            await self.make_tub(listen=False).getReference(wrong)
        assert "unable to find reference" in str(e.exception) or "KeyError" in str(e.exception)

    # -- Foolscap calls Octavo -----------------------------------------------

    async def test_foolscap_calls_octavo_with_every_inert_type(self) -> None:
        """Foolscap reaches an Octavo Tub and every inert type survives the round trip."""
        peer, _ = await self.peer()
        tub = self.make_tub()
        ours = tub.registerReference(Echo())
        for value in INERT_VALUES:
            assert await peer.call(ours, "echo", value) == value, value

    async def test_foolscaps_simple_calls_and_answers_take_our_fast_path(self) -> None:
        """Foolscap writes calls and answers our whole-message reader takes (its CLOSE
        digits as its OPENs wrote them, its vocabulary words, its headers): the calls it
        makes to us and the answers it sends to ours are read by the fast path, with
        the values intact."""
        if not fast_paths_default():
            raise unittest.SkipTest("the fast paths are off (OCTAVO_FAST_PATHS=0)")
        taken: list[Any] = []  # the events of the messages the fast path read
        message = FastDecoder._message

        def recording(decoder: FastDecoder, buf: bytes, p: int) -> Any:
            read = message(decoder, buf, p)
            taken.append(read[1])
            return read

        self.patch(FastDecoder, "_message", recording)
        simple: list[Any] = [None, 7, -3, 2**40, b"x" * 100, "snow \u2603", [1, "a"], (2, b"b")]
        simple.append({"k": [1, 2], "j": None})
        peer, furl = await self.peer()
        ours = self.make_tub().registerReference(Echo())
        for value in simple:
            assert await peer.call(ours, "echo", value) == value, value
        calls = [e for e in taken if isinstance(e, CallReceived) and e.methodname == "echo"]
        assert [tuple(e.args) for e in calls] == [(v,) for v in simple]
        rref = await self.make_tub(listen=False).getReference(furl)
        del taken[:]
        for value in simple:
            assert await rref.callRemote("echo", value) == value, value
        assert [e.result for e in taken if isinstance(e, AnswerReceived)] == simple

    async def test_foolscap_big_payload_to_octavo(self) -> None:
        """Foolscap sends us a 1 MB argument and gets it back."""
        peer, _ = await self.peer()
        ours = self.make_tub().registerReference(Echo())
        payload = b"\x01\x02" * (1 << 19)
        assert await peer.call(ours, "echo", payload) == payload

    async def test_foolscap_gets_octavo_exceptions(self) -> None:
        """Our method's exception reaches Foolscap as a failure naming its type."""
        peer, _ = await self.peer()
        ours = self.make_tub().registerReference(Echo())
        with self.assertRaises(RemoteCallError) as e:
            await peer.call(ours, "fail", "kaboom")
        assert "kaboom" in str(e.exception) and "ValueError" in str(e.exception)

    async def test_foolscap_passes_referenceable_we_call_back(self) -> None:
        """Foolscap passes its own object; we call back through it."""
        peer, _ = await self.peer()
        ours = self.make_tub().registerReference(Echo())
        kind, text = await peer.command("call_with_target", ours, "use", [2, 3])
        assert (kind, text) == ("R", "5")

    async def test_foolscap_receives_our_new_referenceable(self) -> None:
        """Foolscap calls a Referenceable we returned to it."""
        peer, _ = await self.peer()
        ours = self.make_tub().registerReference(Echo())
        kind, text = await peer.command("call_result", ours, "child", ["kid"], "name", [])
        assert (kind, text) == ("R", "'kid'")

    async def test_foolscap_sees_our_connection_drop_mid_call(self) -> None:
        """Stopping our Tub mid-call makes Foolscap's call fail, not hang."""
        peer, _ = await self.peer()
        tub = self.make_tub()
        ours = tub.registerReference(Echo())
        assert await peer.call(ours, "echo", 1) == 1
        d = peer.command("call", ours, "hang", [])
        await settle(0.2)
        await tub.stopService()
        kind, text = await d
        assert kind == "E" and ("DeadReference" in text or "Connection" in text), text

    async def test_foolscap_wrong_swissnum_refused(self) -> None:
        """Foolscap asking us for an unknown name gets a clear error."""
        peer, _ = await self.peer()
        tub = self.make_tub()
        with self.assertRaises(RemoteCallError) as e:
            await peer.call(tub.buildURL("nosuchname"), "echo", 1)
        assert "unable to find reference" in str(e.exception) or "KeyError" in str(e.exception)

    async def test_foolscap_wrong_tubid_refused(self) -> None:
        """Foolscap asking our listener for another TubID is refused."""
        peer, _ = await self.peer()
        tub = self.make_tub()
        other = TubIdentity.from_pem(create_certificate()).tubid
        wrong = tub.buildURL("x").replace(tub.getTubID(), other)
        with self.assertRaises(RemoteCallError) as e:
            await peer.call(wrong, "echo", 1)
        assert "unknown TubID" in str(e.exception) or "Negotiation" in str(e.exception)

    # -- both ways at once -----------------------------------------------------

    async def test_simultaneous_connections(self) -> None:
        """Both Tubs dial each other at once; duplicates resolve and calls are answered."""
        peer, furl = await self.peer()
        tub = self.make_tub()
        ours = tub.registerReference(Echo())
        d_ours = tub.getReference(furl)
        d_theirs = peer.call(ours, "echo", "hello")
        results = await defer.DeferredList([d_ours, defer.ensureDeferred(d_theirs)])
        assert all(ok for ok, _ in results), results
        rref = results[0][1]
        await settle(0.3)
        assert len(tub.brokers) == 1
        # every path still answers afterwards (re-fetch: a replaced connection
        # kills the references made through it)
        rref = await tub.getReference(furl)
        assert await rref.callRemote("echo", 7) == 7
        assert await peer.call(ours, "echo", 8) == 8

    async def test_key_types_mixed_both_ways(self) -> None:
        """Foolscap presenting our ECDSA certificate and Octavo presenting an RSA one
        (Foolscap's kind) connect and call each other both ways; each end sees the
        other's TubID. (The other tests cover Foolscap's RSA against our ECDSA.)"""
        tmpdir = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, tmpdir)
        certfile = os.path.join(tmpdir, "peer.pem")
        ecdsa = create_certificate()
        assert b"BEGIN CERTIFICATE" in ecdsa
        with open(certfile, "wb") as f:
            f.write(ecdsa)
        peer, furl = await self.peer("--certfile", certfile)
        assert furl[5:37] == TubIdentity.from_pem(ecdsa).tubid
        tub = self.make_tub(cert=create_certificate(key_type="rsa"))
        rref = await tub.getReference(furl)
        assert rref.getRemoteTubID() == furl[5:37]
        assert await rref.callRemote("echo", "ecdsa") == "ecdsa"
        ours = tub.registerReference(Echo())
        assert ours[5:37] == tub.getTubID()
        assert await peer.call(ours, "echo", b"rsa") == b"rsa"

    async def test_connect_to_foolscap_server_that_restarts(self) -> None:
        """connectTo reconnects when a Foolscap server restarts on the same port and cert."""
        tmpdir = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, tmpdir)
        certfile = os.path.join(tmpdir, "peer.pem")
        port = str(free_port())
        peer, furl = await self.peer("--certfile", certfile, "--port", port)
        tub = self.make_tub(listen=False)
        connected: list[Any] = []
        waiters: list[defer.Deferred[None]] = []

        def got(rref: Any) -> None:
            connected.append(rref)
            for d in waiters:
                d.callback(None)
            waiters.clear()

        def next_connection() -> defer.Deferred[None]:
            d: defer.Deferred[None] = defer.Deferred()
            waiters.append(d)
            return d

        first = next_connection()
        rc = tub.connectTo(furl, got)
        await first
        assert await connected[0].callRemote("echo", 1) == 1
        second = next_connection()
        await peer.kill()
        _peer2, furl2 = await self.peer("--certfile", certfile, "--port", port)
        assert furl2 == furl
        await second
        assert await connected[1].callRemote("echo", 2) == 2
        rc.stopConnecting()
