"""A file store with Copyables: documents and file descriptions sent by value.

``Document`` (a name and its bytes) and ``FileInfo`` (name, size, SHA-256) are
dataclasses made Copyable: what travels is their state, and the receiving Tub
rebuilds them with the factory it registered for their copytype, checking each
attribute against a schema as it arrives (the store takes documents of at most
``MAX_SIZE`` bytes, and refuses a bigger one before reading it all). Each Tub
registers only what it reads, in its own registry (``tub.copyables``). All on
127.0.0.1; it stops by itself. Run it: ``python examples/filestore.py``.
"""

from __future__ import annotations

import hashlib
from abc import abstractmethod
from dataclasses import asdict, dataclass
from typing import Any

from twisted.internet import defer, task
from zope.interface import implementer  # type: ignore[import-untyped,unused-ignore]

from octavo.tub import (
    AttributeDictConstraint,
    ByteStringConstraint,
    Copyable,
    CopyableRegistry,
    IntegerConstraint,
    Referenceable,
    RemoteException,
    RemoteInterface,
    RemoteReference,
    Tub,
    UnicodeConstraint,
    Violation,
    registerRemoteCopyFactory,
)

MAX_SIZE = 64 * 1024
NAME = UnicodeConstraint(maxLength=200)


@dataclass
class Document(Copyable):
    """A file's name and contents."""

    typeToCopy = "Document.filestore.examples.octavo"
    name: str
    data: bytes

    def getStateToCopy(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class FileInfo(Copyable):
    """What the store knows of a file without its contents."""

    typeToCopy = "FileInfo.filestore.examples.octavo"
    name: str
    size: int
    sha256: str

    @classmethod
    def of(cls, doc: Document) -> FileInfo:
        return cls(doc.name, len(doc.data), hashlib.sha256(doc.data).hexdigest())

    def getStateToCopy(self) -> dict[str, Any]:
        return asdict(self)


def reads_documents(registry: CopyableRegistry) -> None:
    """Let a Tub receive Documents (of at most MAX_SIZE bytes)."""
    schema = AttributeDictConstraint(("name", NAME), ("data", ByteStringConstraint(MAX_SIZE)))
    registerRemoteCopyFactory(
        Document.typeToCopy, lambda s: Document(**s), schema, cyclic=False, registry=registry
    )


def reads_file_infos(registry: CopyableRegistry) -> None:
    """Let a Tub receive FileInfos."""
    schema = AttributeDictConstraint(
        ("name", NAME),
        ("size", IntegerConstraint()),
        ("sha256", UnicodeConstraint(maxLength=64, minLength=64)),
    )
    registerRemoteCopyFactory(
        FileInfo.typeToCopy, lambda s: FileInfo(**s), schema, cyclic=False, registry=registry
    )


# Declarations only: @abstractmethod with a docstring for a body, which mypy accepts;
# the Tub reads the annotated signatures as the schema (a Copyable class as an
# annotation: an instance of it).
class RIFileStore(RemoteInterface):
    """A flat store of named files."""

    __remote_name__ = "RIFileStore.filestore.examples.octavo"

    @abstractmethod
    def put(self, doc: Document) -> FileInfo:
        """Store doc (replacing a file of the same name); its FileInfo."""

    @abstractmethod
    def get(self, name: str) -> Document:
        """The file called name (KeyError if there is none)."""

    @abstractmethod
    def listing(self) -> list[FileInfo]:
        """Every file, by name."""

    @abstractmethod
    def delete(self, name: str) -> bool:
        """Remove the file; whether there was one."""


@implementer(RIFileStore)
class FileStore(Referenceable):
    """The server's store, in memory."""

    def __init__(self) -> None:
        self.files: dict[str, Document] = {}

    def remote_put(self, doc: Document) -> FileInfo:
        self.files[doc.name] = doc
        return FileInfo.of(doc)

    def remote_get(self, name: str) -> Document:
        return self.files[name]

    def remote_listing(self) -> list[FileInfo]:
        return [FileInfo.of(self.files[n]) for n in sorted(self.files)]

    def remote_delete(self, name: str) -> bool:
        return self.files.pop(name, None) is not None


async def use(store: RemoteReference) -> None:
    """The client's side: typed calls carrying Copyables both ways."""
    for doc in (Document("notes.txt", b"buy milk\n"), Document("blob.bin", bytes(range(256)))):
        info = await store.call(RIFileStore.put, doc)
        print(f"put {info.name}: {info.size} bytes, sha256 {info.sha256[:16]}...")
    for info in await store.call(RIFileStore.listing):
        print(f"  listed a {type(info).__name__}: {info.name} ({info.size} bytes)")
    doc = await store.call(RIFileStore.get, "notes.txt")
    print(f"got {type(doc).__name__} {doc.name!r}: {doc.data!r}")
    print("delete notes.txt:", await store.call(RIFileStore.delete, "notes.txt"))
    print("delete notes.txt again:", await store.call(RIFileStore.delete, "notes.txt"))
    try:
        await store.call(RIFileStore.get, "notes.txt")
    except RemoteException as e:
        print("get notes.txt:", e.failure.type_name)
    try:
        await store.call(RIFileStore.put, Document("huge.bin", bytes(MAX_SIZE + 1)))
    except RemoteException as e:  # the store's schema refused the document's data
        print("put huge.bin refused by the store:", e.failure.check(Violation) is not None)
    print("files left:", [i.name for i in await store.call(RIFileStore.listing)])


async def run(reactor: object) -> None:
    server, client = Tub(), Tub()
    reads_documents(server.copyables)  # the store reads what is put
    reads_documents(client.copyables)  # the client reads what it gets ...
    reads_file_infos(client.copyables)  # ... and the descriptions
    for t in (server, client):
        t.startService()
    try:
        port = server.listenOn("tcp:0:interface=127.0.0.1").getPortnum()
        server.setLocation(f"127.0.0.1:{port}")
        furl = server.registerReference(FileStore(), "files")
        await use(await client.getReference(furl))
    finally:
        await defer.gatherResults([client.stopService(), server.stopService()])


if __name__ == "__main__":
    # the whole demo takes a few seconds; a bound in case something hangs
    task.react(lambda reactor: defer.ensureDeferred(run(reactor)).addTimeout(60, reactor))
