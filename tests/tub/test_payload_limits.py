# ruff: noqa: N805, B008 - Foolscap's spelling of RemoteInterfaces: no self, constraints as defaults
"""Big byte-string and str arguments against the size limits, on in-memory Brokers.

``max-token-size`` (the decoder's ``max_token_size``) bounds one byte string (or the
UTF-8 body of one str) and ``max-message-size`` one message; a RemoteInterface argument
declared ``ByteStringConstraint(maxLength=N)`` (or ``Annotated[bytes, MaxLength(N)]``)
lets a byte string of up to N bytes through for that argument, one declared
``UnicodeConstraint(maxLength=N)`` (or ``Annotated[str, MaxLength(N)]``) a str of up to
N code points (a body of up to 4*N bytes), and either raises that message's bound by
the bytes so admitted. The limits are tiny here (1,000 and 4,000 bytes) so the cases stay
small; tests/tub/test_tub_payloads.py sends 50 MB over real TLS.
"""

from __future__ import annotations

import tracemalloc
from typing import Annotated, Any

import pytest
from twisted.internet.defer import Deferred
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase
from zope.interface import implementer

from octavo.tub import (
    ByteStringConstraint,
    ListOf,
    MaxLength,
    Optional,
    Referenceable,
    RemoteInterface,
    UnicodeConstraint,
    Violation,
)
from octavo.tub._options import TubOptions
from octavo.tub._wire._events import CallReceived
from octavo.tub.testing import BrokerConnection, FakeTub

from ._pb_pair import Obj, Pair


class RIPayloadLimits(RemoteInterface):
    __remote_name__ = "RIPayloadLimits.octavo-tests.example"

    def put(data=ByteStringConstraint(maxLength=20_000), tag=bytes):
        return int

    def put_any(data=bytes):
        return int

    def put_list(items=ListOf(ByteStringConstraint(maxLength=20_000), maxLength=2)):
        return int

    def put_many(items=ListOf(bytes, maxLength=100)):
        return int

    def get(n=int):
        return ByteStringConstraint(maxLength=20_000)

    def put_str(text=UnicodeConstraint(maxLength=5000), tag=str):
        return int

    def put_str_any(text=str):
        return int

    def put_str_list(items=ListOf(UnicodeConstraint(maxLength=5000), maxLength=2)):
        return int

    def put_str_optional(text=Optional(UnicodeConstraint(maxLength=5000), "")):
        return int

    def get_str(n=int):
        return UnicodeConstraint(maxLength=5000)


class RIPayloadAnnotated(RemoteInterface):
    __remote_name__ = "RIPayloadAnnotated.octavo-tests.example"

    def put(self, data: Annotated[bytes, MaxLength(20_000)]) -> int: ...

    def put_str(self, text: Annotated[str, MaxLength(5000)] | None = None) -> int: ...


@implementer(RIPayloadLimits)
class Store(Referenceable):  # type: ignore[misc]
    def remote_put(self, data: bytes, tag: bytes = b"") -> int:
        return len(data)

    def remote_put_any(self, data: bytes) -> int:
        return len(data)

    def remote_put_list(self, items: list[bytes]) -> int:
        return sum(map(len, items))

    def remote_put_many(self, items: list[bytes]) -> int:
        return sum(map(len, items))

    def remote_get(self, n: int) -> bytes:
        return b"g" * n

    def remote_put_str(self, text: str, tag: str = "") -> int:
        return len(text)

    def remote_put_str_any(self, text: str) -> int:
        return len(text)

    def remote_put_str_list(self, items: list[str]) -> int:
        return sum(map(len, items))

    def remote_put_str_optional(self, text: str = "") -> int:
        return len(text)

    def remote_get_str(self, n: int) -> str:
        return "€" * n


@implementer(RIPayloadAnnotated)
class AnnotatedStore(Referenceable):  # type: ignore[misc]
    def remote_put(self, data: bytes) -> int:
        return len(data)

    def remote_put_str(self, text: str | None = None) -> int:
        return -1 if text is None else len(text)


class BrokerPair(SynchronousTestCase):
    """Tub B publishes a Store; A calls it over Brokers whose limits are 1,000 bytes a
    token and 4,000 a message. (The helpers of the cases below; no tests.)"""

    limits: dict[str, Any] = {"codec_limits": {"max_token_size": 1000}, "max_message_size": 4000}

    def setUp(self) -> None:
        self.tub_a, self.tub_b = FakeTub("a"), FakeTub("b")
        self.tub_b.names["store"] = Store()
        self.tub_b.names["annotated"] = AnnotatedStore()
        self.conn = BrokerConnection.between(self.tub_a, self.tub_b, clock=Clock(), **self.limits)
        self.store = self.result(self.conn.left.getYourReferenceByName("store"))  # type: ignore[attr-defined]

    def result(self, d: Deferred[Any]) -> Any:
        out: list[Any] = []
        d.addBoth(out.append)
        self.conn.pump()
        self.assertTrue(out, "the Deferred did not fire")
        return out[0]

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        return self.result(self.store.callRemote(method, *args, **kwargs))

    def assert_refused(self, got: Any, *words: str) -> None:
        self.assertTrue(hasattr(got, "check") and got.check(Violation), got)
        for word in words:
            self.assertIn(word, str(got.value))

    def assert_alive(self) -> None:
        self.assertEqual(self.call("put_any", b"ok"), 2)
        self.assertFalse(self.conn.right_transport.lose_requested)

    def call_in_pieces(self, method: str, *args: Any, **kwargs: Any) -> list[Any]:
        """Make a call whose bytes reach B 700 at a time (max-message-size bounds a
        message that spans reads); what it fired with, if it did."""
        out: list[Any] = []
        self.store.callRemote(method, *args, **kwargs).addBoth(out.append)
        self.conn.clock.advance(0)
        data = self.conn.left_transport.take()
        self.assertGreater(len(data), 4000)
        for i in range(0, len(data), 700):
            self.conn.right.dataReceived(data[i : i + 700])
        self.conn.pump()
        return out


class PayloadLimits(BrokerPair):
    """Byte strings."""

    def test_an_argument_its_constraint_allows_passes_both_limits(self) -> None:
        """A 10,000-byte argument declared maxLength=20,000 arrives, past the token and
        the message limits, with the fast paths on or off."""
        self.assertEqual(self.call("put", b"\xa5" * 10_000, tag=b"t"), 10_000)
        self.assert_alive()

    def test_an_annotated_argument_passes_too(self) -> None:
        """``Annotated[bytes, MaxLength(20_000)]`` allows the same as the constraint."""
        ref = self.result(self.conn.left.getYourReferenceByName("annotated"))  # type: ignore[attr-defined]
        self.assertEqual(self.result(ref.callRemote("put", b"\xa5" * 10_000)), 10_000)

    def test_list_items_their_constraint_allows_pass(self) -> None:
        """The allowance applies inside a ListOf too: two 3,000-byte items pass."""
        self.assertEqual(self.call("put_list", [b"a" * 3000, b"b" * 3000]), 6000)

    def test_a_result_its_constraint_allows_arrives(self) -> None:
        """A 10,000-byte result of a method declared to return up to 20,000 arrives."""
        self.assertEqual(self.call("get", 10_000), b"g" * 10_000)

    def test_past_its_constraint_the_argument_is_refused(self) -> None:
        """Past maxLength the argument is refused (by the caller's own check, before
        it is sent) and the connection goes on."""
        got = self.call("put", b"x" * 30_000)
        self.assert_refused(got, "30000")
        self.assert_alive()

    def test_an_unconstrained_argument_keeps_the_token_limit(self) -> None:
        """``bytes`` (no maxLength) keeps max_token_size: refused, the limit named; the
        connection goes on serving."""
        got = self.call("put_any", b"x" * 2000)
        self.assert_refused(got, "2000>1000", "max_token_size")
        self.assert_alive()

    def test_other_arguments_of_the_call_keep_the_token_limit(self) -> None:
        """The allowance is for its own argument only: a big ``tag`` is refused."""
        got = self.call("put", b"x" * 10, tag=b"t" * 2000)
        self.assert_refused(got, "2000>1000", "max_token_size")
        self.assert_alive()

    def test_the_message_bound_grows_by_the_allowed_bytes_only(self) -> None:
        """A message may take max_message_size plus the bytes its constraints allowed
        past the token limit: 6,000 bytes of allowed items pass, but 4,500 bytes of
        items each under the token limit are past max_message_size: that connection
        closes, naming the limit."""
        self.assertEqual(self.call_in_pieces("put_list", [b"a" * 3000, b"b" * 3000]), [6000])
        self.assertFalse(self.conn.right_transport.lose_requested)
        self.assertEqual(self.call("put_many", [b"a" * 900] * 4), 3600)
        self.call_in_pieces("put_many", [b"a" * 900] * 5)
        self.assertTrue(self.conn.closed)

    def test_a_refused_string_past_max_message_size_leaves_the_connection_up(self) -> None:
        """A 10,000-byte unconstrained argument (past max_message_size too) is refused
        with an error answer; its body, skipped unread, does not count against
        max_message_size, so the connection goes on."""
        (got,) = self.call_in_pieces("put_any", b"x" * 10_000)
        self.assert_refused(got, "10000>1000", "max_token_size")
        self.assertFalse(self.conn.closed)
        self.assert_alive()


class StrPayloadLimits(BrokerPair):
    """strs: a str is a ``unicode`` sequence whose UTF-8 body is one STRING token; its
    constraint's maxLength counts code points and allows 4 bytes each."""

    def test_a_str_its_constraint_allows_passes_both_limits(self) -> None:
        """A str of 3,000 3-byte code points (9,000 bytes) declared maxLength=5,000
        arrives, past the token and the message limits, read whole or in pieces."""
        self.assertEqual(self.call("put_str", "€" * 3000, tag="t"), 3000)
        self.assertEqual(self.call_in_pieces("put_str", "€" * 3000, tag="t"), [3000])
        self.assert_alive()

    def test_an_annotated_str_passes_too(self) -> None:
        """``Annotated[str, MaxLength(5000)] | None`` allows the same as the constraint."""
        ref = self.result(self.conn.left.getYourReferenceByName("annotated"))  # type: ignore[attr-defined]
        self.assertEqual(self.result(ref.callRemote("put_str", "😀" * 4000)), 4000)
        self.assertEqual(self.result(ref.callRemote("put_str", None)), -1)

    def test_strs_in_a_list_or_optional_pass(self) -> None:
        """The allowance applies inside a ListOf and an Optional too."""
        self.assertEqual(self.call("put_str_list", ["€" * 1500, "é" * 1500]), 3000)
        self.assertEqual(self.call("put_str_optional", "a" * 4000), 4000)
        self.assertEqual(self.call("put_str_optional"), 0)

    def test_a_str_result_its_constraint_allows_arrives(self) -> None:
        """A 6,000-byte str result of a method declared to return up to 5,000 code
        points arrives (the caller's decoder applies the allowance)."""
        self.assertEqual(self.call("get_str", 2000), "€" * 2000)

    def test_an_unconstrained_str_keeps_the_token_limit(self) -> None:
        """``str`` (no maxLength) keeps max_token_size: refused, the limit named; the
        connection goes on serving. So does another argument of the call."""
        self.assert_refused(self.call("put_str_any", "x" * 2000), "2000>1000", "max_token_size")
        self.assert_alive()
        got = self.call("put_str", "x", tag="t" * 2000)
        self.assert_refused(got, "2000>1000", "max_token_size")
        self.assert_alive()

    def test_the_callee_counts_code_points(self) -> None:
        """maxLength counts code points, also where a caller skipped its own check
        (``_useSchema=False``): 5,001 3-byte code points (15,003 bytes, within the 20,000
        the body may take) are decoded and refused; 5,000 pass."""
        self.assertEqual(self.call("put_str", "€" * 5000, tag="t", _useSchema=False), 5000)
        got = self.call("put_str", "€" * 5001, tag="t", _useSchema=False)
        self.assert_refused(got, "string too long (5001 > 5000)")
        self.assert_alive()

    def test_a_body_announced_past_the_allowance_is_refused_at_its_header(self) -> None:
        """A body of 25,000 bytes, more than 5,000 code points can take, is refused at
        its header and skipped unread as it arrives in pieces: not counted against
        max_message_size, so the connection goes on."""
        (got,) = self.call_in_pieces("put_str", "a" * 25_000, tag="t", _useSchema=False)
        self.assert_refused(got, "string too long (25000 bytes > 4*5000)")
        self.assertFalse(self.conn.closed)
        self.assert_alive()


class TokenSizeOption(SynchronousTestCase):
    def test_the_option_reaches_the_decoder(self) -> None:
        """``max-token-size`` is a Tub option whose value is the decoder's limit."""
        options = TubOptions()
        self.assertEqual(options.max_token_size, 16 * 1024 * 1024)
        options.set("max-token-size", 60_000_000)
        self.assertEqual(options.broker_arguments()["codec_limits"]["max_token_size"], 60_000_000)
        with self.assertRaises(ValueError):
            options.set("max-token-size", 0)


@pytest.mark.parametrize("size", [10_000_000, 50_000_000], ids=["10MB", "50MB"])
@pytest.mark.parametrize("fast", [True, False], ids=["fast", "general"])
def test_a_big_argument_is_held_once_while_it_arrives(size: int, fast: bool) -> None:
    """A call carrying a ``size``-byte argument, fed to the callee's connection in
    16 KiB reads (TLS records), takes under 1.5x the argument in traced memory until
    the call is handed out (the stream is made before tracing starts)."""
    pair = Pair(fast_paths=fast, decoder_limits={"max_token_size": size})
    proxy = pair.publish("echo", Obj(echo=lambda v: None))
    _, data = pair.call(pair.a, proxy.tracker.clid, "echo", b"\xa5" * size)
    conn = pair.b
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        with memoryview(data) as view:
            for i in range(0, len(data), 16384):
                conn.receive_data(bytes(view[i : i + 16384]))
        (event,) = conn.events()
        assert isinstance(event, CallReceived)
        assert len(event.args[0]) == size
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert peak < 1.5 * size, peak / size
