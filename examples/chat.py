"""A chat room passing Referenceables: members join with an object of their own.

Each member gives the room a ``Member`` (a Referenceable on the member's own Tub) and
gets back a ``Speaker``, a reference only that member holds: speaking through it is
how the room knows who speaks, so nobody can talk under another's name. The room
pushes every message to each member by calling its Member back. A member whose Tub
goes away is dropped when the room sees its connection close. Three Tubs on
127.0.0.1 (the room, alice, bob); it stops by itself.
Run it: ``python examples/chat.py``.
"""

from __future__ import annotations

from abc import abstractmethod

from twisted.internet import defer, task
from zope.interface import implementer  # type: ignore[import-untyped,unused-ignore]

from octavo.tub import Referenceable, RemoteException, RemoteInterface, RemoteReference, Tub

#: a Referenceable of ours going out, or a reference we hold; either arrives as a reference
Ref = Referenceable | RemoteReference


# Declarations only: @abstractmethod with a docstring for a body, which mypy accepts;
# the Tub reads the annotated signatures as the schema.
class RIMember(RemoteInterface):
    """What the room calls on each member."""

    __remote_name__ = "RIMember.chat.examples.octavo"

    @abstractmethod
    def hear(self, sender: str, text: str) -> None:
        """A message said in the room (sender "*" for the room's own notices)."""


class RISpeaker(RemoteInterface):
    """One member's voice in the room."""

    __remote_name__ = "RISpeaker.chat.examples.octavo"

    @abstractmethod
    def say(self, text: str) -> int:
        """Say text to everyone; how many members heard it."""

    @abstractmethod
    def who(self) -> list[str]:
        """The names of the members, in the order they joined."""

    @abstractmethod
    def leave(self) -> None:
        """Leave the room; this Speaker stops working."""


class RIChatRoom(RemoteInterface):
    """The room's public face: the FURL gives only this."""

    __remote_name__ = "RIChatRoom.chat.examples.octavo"

    @abstractmethod
    def join(self, name: str, member: Ref) -> RemoteReference:
        """Join as name, heard through member; a Speaker (a reference) to talk with."""


@implementer(RIChatRoom)
class ChatRoom(Referenceable):
    """The room, on the server's Tub: members by name, each a RemoteReference."""

    def __init__(self) -> None:
        self.members: dict[str, RemoteReference] = {}
        #: fired with a name when that member is dropped (the demo waits on it)
        self.dropped: defer.Deferred[str] = defer.Deferred()

    async def broadcast(self, sender: str, text: str) -> int:
        """Push text to every member; how many took it."""
        members = list(self.members.values())
        results = await defer.DeferredList(
            [m.call(RIMember.hear, sender, text) for m in members], consumeErrors=True
        )
        return sum(1 for ok, _ in results if ok)

    def remote_join(self, name: str, member: RemoteReference) -> defer.Deferred[Speaker]:
        if name in self.members:
            raise ValueError(f"the name {name!r} is taken")
        self.members[name] = member
        member.notifyOnDisconnect(self.disconnected, name, member)
        # everyone (the newcomer too) hears of it before the join is answered
        d = defer.ensureDeferred(self.broadcast("*", f"{name} joined"))
        return d.addCallback(lambda _: Speaker(self, name))

    async def part(self, name: str, why: str) -> None:
        self.members.pop(name, None)
        await self.broadcast("*", f"{name} left ({why})")

    def disconnected(self, name: str, member: RemoteReference) -> None:
        if self.members.get(name) is member:
            d = defer.ensureDeferred(self.part(name, "connection lost"))
            d.addCallback(lambda _: self.dropped.callback(name))


@implementer(RISpeaker)
class Speaker(Referenceable):
    """Made by the room for one member: speaks with that member's name."""

    def __init__(self, room: ChatRoom, name: str) -> None:
        self.room: ChatRoom | None = room
        self.name = name

    def remote_say(self, text: str) -> defer.Deferred[int]:
        if self.room is None:
            raise ValueError("you left the room")
        return defer.ensureDeferred(self.room.broadcast(self.name, text))

    def remote_who(self) -> list[str]:
        return list(self.room.members) if self.room else []

    def remote_leave(self) -> defer.Deferred[None]:
        room, self.room = self.room, None
        if room is None:
            return defer.succeed(None)
        return defer.ensureDeferred(room.part(self.name, "said goodbye"))


@implementer(RIMember)
class Member(Referenceable):
    """A member's ear, on the member's own Tub: prints what the room pushes."""

    def __init__(self, name: str) -> None:
        self.name = name

    def remote_hear(self, sender: str, text: str) -> None:
        print(f"  [{self.name}'s screen] {sender}: {text}")


async def run(reactor: object) -> None:
    server, alice_tub, bob_tub = Tub(), Tub(), Tub()
    for t in (server, alice_tub, bob_tub):
        t.startService()
    try:
        port = server.listenOn("tcp:0:interface=127.0.0.1").getPortnum()
        server.setLocation(f"127.0.0.1:{port}")
        room = ChatRoom()
        furl = server.registerReference(room, "lobby")

        print("alice joins")
        alice_room = await alice_tub.getReference(furl)
        alice = await alice_room.call(RIChatRoom.join, "alice", Member("alice"))
        print("bob joins")
        bob_room = await bob_tub.getReference(furl)
        bob = await bob_room.call(RIChatRoom.join, "bob", Member("bob"))
        print("in the room:", await alice.call(RISpeaker.who))

        print("alice says hello")
        print("  heard by", await alice.call(RISpeaker.say, "hello, bob"), "members")
        print("bob answers")
        print("  heard by", await bob.call(RISpeaker.say, "hi alice!"), "members")
        try:
            await bob_room.call(RIChatRoom.join, "alice", Member("mallory"))
        except RemoteException as e:
            print("bob cannot join as alice:", e.failure.getErrorMessage())

        print("alice leaves")
        await alice.call(RISpeaker.leave)
        print("in the room:", await bob.call(RISpeaker.who))

        print("bob's Tub stops without leaving")
        await bob_tub.stopService()
        print("the room dropped", await room.dropped)
        print("in the room:", list(room.members))
    finally:
        await defer.gatherResults([t.stopService() for t in (alice_tub, bob_tub, server)])


if __name__ == "__main__":
    # the whole demo takes a few seconds; a bound in case something hangs
    task.react(lambda reactor: defer.ensureDeferred(run(reactor)).addTimeout(60, reactor))
