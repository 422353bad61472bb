"""Shared pieces of the RPC benchmark: payloads, cached certificates, RSS, the systems.

Used by ``bench_rpc.py`` (the orchestrator) and by its two subprocess scripts
``_rpc_server.py`` and ``_rpc_client.py``. Nothing here is used by tests.
"""

from __future__ import annotations

import datetime
import importlib
import json
import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
CERT_CACHES = {"rsa": RESULTS / "rpc-certs.json", "ecdsa": RESULTS / "rpc-certs-ecdsa.json"}
#: the key each system's Tubs make for themselves (Foolscap: RSA-2048; Octavo: ECDSA
#: P-256); the echo's ends use RSA-2048 as Foolscap does
DEFAULT_KEYS = {"foolscap": "rsa", "octavo": "ecdsa", "echo": "rsa"}
#: set to "rsa" in an Octavo process's environment: its Tubs use RSA-2048 certificates
#: too (the new-connection row with the same keys on both systems)
KEYS_ENV = "RPC_TUB_KEYS"

SYSTEMS = ("foolscap", "octavo")

# Certificate slots in the cache: one server, one micro-benchmark client, the fresh
# client Tubs of the connection-time figure, then one per load-run client Tub.
SERVER_CERT = 0
CLIENT_CERT = 1
CONNECT_CERTS = range(2, 42)
LOAD_CERT_BASE = 42


def nested_dict() -> dict[str, list[object]]:
    """200 str keys, each a list of a small int, two short strs and a tuple (JSON ~7.7 KB)."""
    return {f"key{i:03d}": [i % 10, "ab", "cd", (i, "x")] for i in range(200)}


MEGABYTE = b"\xa5" * 1_000_000
#: the big-argument rows: bytes arguments of 10 MB and 50 MB (serial calls, like MEGABYTE)
PAYLOAD_SIZES = (10_000_000, 50_000_000)
#: the Octavo server allows them with this max-token-size (its default is 16 MiB; its
#: max-message-size, 64 MiB, already covers a 50 MB argument)
SERVER_MAX_TOKEN_SIZE = 64 * 1024 * 1024


def tub_keys(system: str) -> str:
    """The kind of key ("rsa" or "ecdsa") ``system``'s Tubs use in this process."""
    if system == "octavo" and os.environ.get(KEYS_ENV) == "rsa":
        return "rsa"
    return DEFAULT_KEYS.get(system, "rsa")


def make_certificate(kind: str = "rsa") -> str:
    """A self-signed certificate and key as PEM, in Foolscap's layout: RSA-2048 (what
    Foolscap makes) or ECDSA P-256 (what Octavo makes), SHA-256 signed.

    The certificate comes first, then the PKCS#8 key: what Foolscap's ``certData=``
    reads (and Octavo's). Built with ``cryptography`` so no Tub code is involved.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import NameOID

    key: Any
    if kind == "ecdsa":
        key = ec.generate_private_key(ec.SECP256R1())
    else:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "newpb_thingy")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    pem = cert.public_bytes(serialization.Encoding.PEM) + key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return pem.decode("ascii")


def load_certificates(kind: str = "rsa") -> list[str]:
    """The cached certificates of that kind of key (empty if none are cached yet)."""
    try:
        certs = json.loads(CERT_CACHES[kind].read_text(encoding="ascii"))
    except (OSError, ValueError):
        return []
    if not isinstance(certs, list) or not all(isinstance(c, str) for c in certs):
        return []
    return certs


def ensure_certificates(count: int, kinds: tuple[str, ...] = ("rsa",)) -> None:
    """At least ``count`` distinct certificates of each kind, made once and cached in
    results/.

    Every client Tub of the load run needs its own TubID, and making 500 RSA keys costs
    tens of seconds, which is not what the benchmark measures; so they are made once
    (on all cores) and reused by later runs.
    """
    for kind in kinds:
        certs = load_certificates(kind)
        missing = count - len(certs)
        if missing <= 0:
            continue
        workers = max(1, os.cpu_count() or 1)
        with ProcessPoolExecutor(max_workers=workers) as pool:
            certs.extend(pool.map(make_certificate, [kind] * missing, chunksize=8))
        RESULTS.mkdir(exist_ok=True)
        tmp = CERT_CACHES[kind].with_suffix(".tmp")
        tmp.write_text(json.dumps(certs), encoding="ascii")
        tmp.replace(CERT_CACHES[kind])


def rss_kib(pid: int | None = None) -> int:
    """Resident set size of process ``pid`` (default: this one) in KiB, from /proc."""
    path = f"/proc/{pid if pid is not None else 'self'}/status"
    with open(path, encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS line in {path}")


def stdin_line() -> bytes:
    """One line from stdin, read a byte at a time so nothing after it is consumed (a
    reactor reading stdin later gets the rest); b"" at end of file."""
    line = bytearray()
    while not line.endswith(b"\n"):
        byte = os.read(0, 1)
        if not byte:
            break
        line += byte
    return bytes(line)


def global_reactor() -> Any:
    """Twisted's global reactor, typed loosely (its interfaces are zope, not typing)."""
    from twisted.internet import reactor

    return reactor


def tub_classes(system: str) -> tuple[Any, Any]:
    """(Tub, Referenceable) of ``system``: "foolscap" (24.9) or "octavo"."""
    if system == "foolscap":
        api = importlib.import_module("foolscap.api")
        return api.Tub, api.Referenceable
    if system == "octavo":
        tub = importlib.import_module("octavo.tub")
        if hasattr(tub, "Tub") and hasattr(tub, "Referenceable"):
            return tub.Tub, tub.Referenceable
        # The package __init__ does not re-export them yet: take them from their modules.
        tub_module = importlib.import_module("octavo.tub._tub")
        ref_module = importlib.import_module("octavo.tub._referenceable")
        return tub_module.Tub, ref_module.Referenceable
    raise ValueError(f"unknown RPC system {system!r}; expected one of {SYSTEMS}")


def bounded(max_count: int, seconds: float) -> Callable[[int], bool]:
    """A loop guard: true while fewer than ``max_count`` rounds ran and time is left."""
    deadline = time.perf_counter() + seconds

    def more(done: int) -> bool:
        return done < max_count and time.perf_counter() < deadline

    return more


#: the arguments of the schema figure: an int and a ListOf(bytes) (10 items of 32 bytes)
STORE_ARGS = (7, [b"i" * 32] * 10)
#: the name under which the server registers its typed service (next to "bench")
TYPED_NAME = "bench-typed"

_TYPED: dict[str, Any] = {}


def has_schemas(system: str) -> bool:
    """Whether ``system`` has RemoteInterfaces (an Octavo baseline from before issue 11
    has none: its schema figures are left out)."""
    api = importlib.import_module("foolscap.api" if system == "foolscap" else "octavo.tub")
    return hasattr(api, "RemoteInterface") and hasattr(api, "ListOf")


def typed_interface(system: str) -> Any:
    """``system``'s RemoteInterface of the schema figure (declared once per process):
    ``store(n=int, items=ListOf(bytes))`` answering None, in Foolscap's spelling."""
    if system not in _TYPED:
        api = importlib.import_module("foolscap.api" if system == "foolscap" else "octavo.tub")
        namespace: dict[str, Any] = {"int": int, "ListOf": api.ListOf}
        exec("def store(n=int, items=ListOf(bytes)):\n    return None\n", namespace)
        _TYPED[system] = api.RemoteInterface.__class__(
            "RIBenchStore",
            (api.RemoteInterface,),
            {"__remote_name__": "RIBenchStore.octavo.benchmarks", "store": namespace["store"]},
        )
    return _TYPED[system]
