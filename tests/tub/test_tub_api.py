"""The Tub's local API: options, names and furlFiles, hints, location, service life."""

from __future__ import annotations

import os
import stat

import pytest
from twisted.internet.endpoints import HostnameEndpoint, TCP4ClientEndpoint, TCP6ClientEndpoint
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.testing import MemoryReactorClock
from zope.interface import implementer

from octavo.furl import TubRef
from octavo.tub._errors import (
    InvalidHintError,
    MissingPluginError,
    NoLocationError,
    PBError,
    TubStoppedError,
    WrongNameError,
    WrongTubIdError,
)
from octavo.tub._net._hints import DefaultTCP, IConnectionHintHandler
from octavo.tub._net._identity import create_certificate
from octavo.tub._options import register_plugin_factory, unregister_plugin_factory
from octavo.tub._registry import generateSwissnumber
from octavo.tub._tub import Tub, get_local_ip_for

CERT = create_certificate()


class Thing:
    """A stand-in for a Referenceable (hashable, weakly referenceable)."""


def make_tub(**kw) -> Tub:
    return Tub(certData=CERT, reactor=MemoryReactorClock(), **kw)


def located_tub() -> Tub:
    t = make_tub()
    t.setLocation("127.0.0.1:1234")
    return t


def test_class_attributes_match_foolscap():
    """The class attributes have Foolscap's values."""
    assert Tub.unsafeTracebacks is True
    assert Tub.logLocalFailures is False and Tub.logRemoteFailures is False
    assert Tub.debugBanana is False
    assert (Tub.NAMEBITS, Tub.TUBIDBITS) == (160, 16)
    assert Tub.keepaliveTimeout == 240 and Tub.disconnectTimeout is None


def test_set_options():
    """setOption understands Foolscap's option names."""
    t = make_tub(options={"logLocalFailures": 1})
    assert t.logLocalFailures is True
    t.setOption("logRemoteFailures", True)
    t.setOption("keepaliveTimeout", "30")
    t.setOption("disconnectTimeout", 90)
    t.setOption("expose-remote-exception-types", False)
    t.setOption("accept-gifts", False)
    t.setOption("handle-old-duplicate-connections", True)
    assert t.logRemoteFailures and t.keepaliveTimeout == 30 and t.disconnectTimeout == 90
    assert t.expose_remote_exception_types is False and t.accept_gifts is False
    assert t._options.handle_old_duplicate_connections == 60
    assert Tub.keepaliveTimeout == 240  # the class is untouched


def test_unknown_option_is_keyerror():
    """An unknown option name raises KeyError naming it."""
    with pytest.raises(KeyError, match="no-such-option"):
        make_tub().setOption("no-such-option", 1)


def test_log_option_without_plugin_is_clear(monkeypatch):
    """Log options without octavo-logging fail with a message saying what to install."""
    monkeypatch.setattr("octavo.tub._tub_logging.find_plugin_factory", lambda name: None)
    with pytest.raises(MissingPluginError, match="octavo-logging"):
        make_tub().setOption("log-gatherer-furl", "pb://x@y/z")


def test_log_option_goes_to_plugin():
    """Log options are handed to the registered logging plug-in, told of the location."""
    calls = []

    class Plugin:
        def __init__(self, tub):
            self.tub = tub

        def set_option(self, name, value):
            calls.append((name, value))
            return "done"

        def location_set(self):
            calls.append("located")

    register_plugin_factory("logging", Plugin)
    try:
        t = make_tub()
        assert t.setOption("bridge-twisted-logs", True) == "done"
        t.setLocation("127.0.0.1:1")
    finally:
        unregister_plugin_factory("logging")
    assert calls == [("bridge-twisted-logs", True), "located"]


def test_log_methods_go_to_plugin():
    """Foolscap's log methods of the Tub are served by the logging plug-in."""
    calls = []

    class Plugin:
        def __init__(self, tub):
            self.tub = tub

        def set_option(self, name, value):
            calls.append((name, value))

        def location_set(self):
            pass

        def get_log_port(self):
            return "logport"

        def get_log_port_furl(self):
            return "pb://logport"

        def log(self, *args, **kwargs):
            calls.append((args, kwargs))
            return 7

    register_plugin_factory("logging", Plugin)
    try:
        t = make_tub()
        t.setLogGathererFURL("pb://g")
        t.setLogGathererFURLFile("g.furl")
        t.setLogPortFURLFile("lp.furl")
        assert (t.getLogPort(), t.getLogPortFURL()) == ("logport", "pb://logport")
        assert t.log("hello", level=20) == 7
    finally:
        unregister_plugin_factory("logging")
    assert calls == [
        ("log-gatherer-furl", "pb://g"),
        ("log-gatherer-furlfile", "g.furl"),
        ("logport-furlfile", "lp.furl"),
        (("hello",), {"level": 20, "tubID": t.getTubID()}),
    ]


def test_log_without_plugin_goes_to_twisted(monkeypatch):
    """Without octavo-logging, tub.log reaches Twisted's logger; getLogPort says what is missing."""
    from twisted.logger import globalLogPublisher

    monkeypatch.setattr("octavo.tub._tub_logging.find_plugin_factory", lambda name: None)
    seen = []
    globalLogPublisher.addObserver(seen.append)
    try:
        t = make_tub()
        assert t.log("disk full", level=30) is None
    finally:
        globalLogPublisher.removeObserver(seen.append)
    assert [(e["message"], e["tubID"], e["log_level"].name) for e in seen] == [
        ("disk full", t.getTubID(), "warn")
    ]
    with pytest.raises(MissingPluginError, match="octavo-logging"):
        t.getLogPort()


def test_register_needs_location():
    """registerReference before setLocation raises NoLocationError."""
    with pytest.raises(NoLocationError):
        make_tub().registerReference(Thing())


def test_set_location_only_once():
    """setLocation may be called only once."""
    t = located_tub()
    with pytest.raises(PBError):
        t.setLocation("127.0.0.1:2")


def test_register_and_lookup():
    """Registered objects get FURLs, are found by name and by URL, and are kept alive."""
    t = located_tub()
    thing = Thing()
    furl = t.registerReference(thing)
    assert furl.startswith(f"pb://{t.getTubID()}@127.0.0.1:1234/")
    name = furl.rsplit("/", 1)[1]
    assert len(name) == 32
    assert t.getReferenceForName(name) is thing
    assert t.getReferenceForURL(furl) is thing
    assert t.registerReference(thing) == furl
    assert t.getOrCreateURLForReference(thing) == furl
    assert t.registerReference(Thing(), "named").endswith("/named")


def test_unknown_name_hides_swissnum():
    """Looking up an unknown name raises KeyError showing only two characters."""
    with pytest.raises(KeyError) as e:
        located_tub().getReferenceForName("secretname")
    assert "se" in str(e.value) and "secretname" not in str(e.value)


def test_unregister_and_revoke():
    """unregisterURL/unregisterReference/revokeReference make the name unreachable."""
    t = located_tub()
    a, b, c = Thing(), Thing(), Thing()
    fa, fb, fc = t.registerReference(a), t.registerReference(b), t.registerReference(c)
    t.unregisterURL(fa)
    t.unregisterReference(b)
    t.revokeReference(c)
    for f in (fa, fb, fc):
        with pytest.raises(KeyError):
            t.getReferenceForURL(f)
    assert all(t.isReferenceRevoked(x) for x in (a, b, c))
    assert t.strongReferences == []
    t.registerReference(c)
    assert not t.isReferenceRevoked(c)


def test_name_lookup_handlers():
    """Lookup handlers are asked for unknown names, in order, first hit wins."""
    t = located_tub()
    thing = Thing()

    def handler(name):
        return thing if name == "dyn" else None

    t.registerNameLookupHandler(handler)
    assert t.getReferenceForName("dyn") is thing
    t.unregisterNameLookupHandler(handler)
    with pytest.raises(KeyError):
        t.getReferenceForName("other")


def test_furlfile_rules(tmp_path):
    """furlFile: written privately and atomically, its name reused, mismatches refused."""
    path = str(tmp_path / "thing.furl")
    t = located_tub()
    furl = t.registerReference(Thing(), furlFile=path)
    with open(path) as f:
        assert f.read() == furl + "\n"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    t2 = located_tub()  # same certificate, a later run
    assert t2.registerReference(Thing(), furlFile=path) == furl
    with pytest.raises(WrongNameError):
        located_tub().registerReference(Thing(), "other", furlFile=path)
    stranger = Tub(reactor=MemoryReactorClock())
    stranger.setLocation("127.0.0.1:1")
    with pytest.raises(WrongTubIdError):
        stranger.registerReference(Thing(), furlFile=path)


def test_swissnumbers():
    """Swissnumbers come from os.urandom: NAMEBITS bits as 32 base32 characters."""
    assert generateSwissnumber(160, lambda n: b"\x00" * n) == "a" * 32
    assert len(make_tub().generateSwissnumber(160)) == 32
    with pytest.raises(ValueError):
        generateSwissnumber(7)


def test_hint_handlers():
    """Handlers must provide IConnectionHintHandler; removeAll clears even TCP."""

    @implementer(IConnectionHintHandler)
    class H:
        def hint_to_endpoint(self, hint, reactor, update_status):
            raise InvalidHintError("never")

        def describe(self):
            return "h"

    t = make_tub()
    with pytest.raises(TypeError):
        t.addConnectionHintHandler("x", object())
    t.addConnectionHintHandler("x", H())
    assert set(t._connectionHandlers) == {"tcp", "x"}
    t.removeAllConnectionHintHandlers()
    assert t._connectionHandlers == {}


@pytest.mark.parametrize(
    ("hint", "host", "port"),
    [
        ("tcp:127.0.0.1:80", "127.0.0.1", 80),
        ("tcp:[::1]:99", "::1", 99),
        ("tcp:example.com:5", "example.com", 5),
        ("localhost:7", "localhost", 7),
    ],
)
def test_tcp_handler(hint, host, port):
    """The TCP handler takes IPv4, bracketed IPv6 and DNS names."""
    from octavo.tub._net._hints import convert_legacy_hint

    ep, h = DefaultTCP().hint_to_endpoint(convert_legacy_hint(hint), MemoryReactorClock(), print)
    assert h == host and ep._port == port


@pytest.mark.parametrize(
    ("hint", "kind"),
    [("tcp:127.0.0.1:80", TCP4ClientEndpoint), ("tcp:[::1]:99", TCP6ClientEndpoint)],
)
def test_tcp_handler_dials_ip_literals_without_a_lookup(hint, kind):
    """An IP-literal hint gets a plain TCP endpoint (no resolver), a name a HostnameEndpoint."""
    reactor = MemoryReactorClock()
    ep, _ = DefaultTCP().hint_to_endpoint(hint, reactor, print)
    assert type(ep) is kind
    ep.connect(Factory.forProtocol(Protocol))
    assert len(reactor.tcpClients) == 1
    named, _ = DefaultTCP().hint_to_endpoint("tcp:example.com:5", reactor, print)
    assert type(named) is HostnameEndpoint


def test_tcp_handler_refuses_junk():
    """A malformed TCP hint raises InvalidHintError."""
    with pytest.raises(InvalidHintError):
        DefaultTCP().hint_to_endpoint("tcp:exa mple:x", MemoryReactorClock(), print)


def test_local_ip_finder_sends_nothing_on_loopback():
    """The default-route probe returns an address string (only a connected UDP socket)."""
    assert get_local_ip_for(("127.0.0.1", 9)) == "127.0.0.1"


def test_set_location_automatically():
    """setLocationAutomatically uses the listeners' ports and the found address."""
    t = make_tub()
    t.startService()
    listener = t.listenOn("tcp:0")
    port = listener.getPortnum()
    d = t.setLocationAutomatically("10.9.8.7", _get_local_ip=lambda: "192.0.2.1")
    assert d.called
    hints = t.locationHints[0].split(",")
    assert hints == sorted(f"{a}:{port}" for a in ("10.9.8.7", "127.0.0.1", "192.0.2.1"))


def test_clone_has_same_identity():
    """clone() makes a new Tub with the same TubID and options."""
    t = make_tub()
    t.setOption("keepaliveTimeout", 5)
    c = t.clone()
    assert c is not t and c.getTubID() == t.getTubID() and c.keepaliveTimeout == 5


def test_stopped_tub_refuses_use():
    """After stopService a Tub cannot be restarted or used to connect."""
    t = make_tub()
    t.startService()
    d = t.stopService()
    assert d.called
    with pytest.raises(TubStoppedError):
        t.startService()
    with pytest.raises(TubStoppedError):
        t.getReference("pb://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@127.0.0.1:1/x")
    with pytest.raises(TubStoppedError):
        t.connectTo("pb://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@127.0.0.1:1/x", print)


def test_get_reference_before_start_is_queued():
    """getReference before startService waits for the Tub to start."""
    t = make_tub()
    d = t.getReference("pb://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@tcp:127.0.0.1:1/x")
    assert not d.called
    assert len(t._pending_getReferences) == 1
    t.startService()
    assert t._pending_getReferences == []
    assert len(t._connections.active_connectors) == 1


def test_tor_handler_needs_txtorcon_or_refuses_private_hosts():
    """Without txtorcon the Tor handler says what to install; with it, private IPs are refused."""
    from octavo.tub._net._tor import is_non_public_numeric_address, tor_handler

    assert is_non_public_numeric_address("10.0.0.1") and is_non_public_numeric_address("::1")
    assert not is_non_public_numeric_address("8.8.8.8")
    assert not is_non_public_numeric_address("example.onion")
    try:
        handler = tor_handler()
    except ImportError as e:
        assert "octavo-tub[tor]" in str(e)
        return
    with pytest.raises(InvalidHintError, match="non-Tor-able"):
        handler.hint_to_endpoint("tor:10.1.2.3:80", MemoryReactorClock(), print)


def test_connection_tables_are_read_only_views():
    """brokers, tubConnectors and waitingForBrokers show the ConnectionManager's tables."""
    t = make_tub()
    t.startService()
    d = t.getBrokerForTubRef(TubRef("a" * 32, ("tcp:127.0.0.1:1",)))
    assert list(t.tubConnectors) == [TubRef("a" * 32)]
    assert t.waitingForBrokers == {TubRef("a" * 32): [d]}
    assert t.brokers == {}
    with pytest.raises(TypeError):
        t.brokers[TubRef("a" * 32)] = object()  # type: ignore[index]
    t.stopService()
    d.addErrback(lambda f: None)
