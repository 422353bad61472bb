"""The logging RemoteInterfaces carry Foolscap 24.9's names, methods and arguments."""

from __future__ import annotations

from octavo.logging import _interfaces as ri
from octavo.tub import getRemoteInterfaceByName

EXPECTED = {
    "RILogObserver.foolscap.lothar.com": {
        "msg": ["logmsg"],
        "done": [],
        "new_incident": ["name", "trigger"],
        "done_with_incident_catchup": [],
    },
    "RILogFile.foolscap.lothar.com": {"get_header": [], "get_events": ["receiver"]},
    "RISubscription.foolscap.lothar.com": {"unsubscribe": []},
    "RILogPublisher.foolscap.lothar.com": {
        "get_versions": [],
        "get_pid": [],
        "subscribe_to_all": ["observer", "catch_up"],
        "unsubscribe": ["subscription"],
        "enumerate_logfiles": [],
        "list_incidents": ["since"],
        "subscribe_to_incidents": ["observer", "catch_up", "since"],
        "get_incident": ["incident_name"],
    },
    "RILogGatherer.foolscap.lothar.com": {"logport": ["nodeid", "logport"]},
}


#: Octavo's own methods beside Foolscap's (its batched event subscriptions)
EXTENSIONS = {
    "RILogObserver.foolscap.lothar.com": {"msg_batch": ["lines"]},
    "RILogPublisher.foolscap.lothar.com": {"subscribe_to_batches": ["observer", "catch_up"]},
}


def test_names_methods_and_arguments() -> None:
    for remote_name, methods in EXPECTED.items():
        iface = getRemoteInterfaceByName(remote_name)
        assert iface.__remote_name__ == remote_name
        ours = {**methods, **EXTENSIONS.get(remote_name, {})}
        assert sorted(iface.names()) == sorted(ours)
        for method, args in ours.items():
            assert list(iface[method].argumentNames) == args, (remote_name, method)


def test_the_extensions_constraints() -> None:
    assert ri.RILogPublisher["subscribe_to_batches"].required == ["observer"]
    lines = ri.RILogObserver["msg_batch"].argConstraints["lines"]
    assert lines.maxLength == ri.MAX_BATCH_BYTES


def test_optional_arguments_have_foolscap_defaults() -> None:
    assert ri.RILogPublisher["subscribe_to_all"].required == ["observer"]
    assert ri.RILogPublisher["subscribe_to_incidents"].required == ["observer"]
    assert ri.RILogPublisher["list_incidents"].required == []


def test_incident_gatherer_speaks_log_gatherer() -> None:
    assert ri.RIIncidentGatherer is ri.RILogGatherer
