"""Promises (eventual send) whose target is a RemoteReference to a Foolscap 24.9 object."""

from __future__ import annotations

import pytest
from twisted.trial import unittest

from octavo.tub import Tub, makePromise, send, when

from .test_tub_interop import FoolscapPeer


class PromiseToFoolscap(unittest.TestCase):
    timeout = 60

    async def test_messages_queued_on_a_promise_of_a_foolscap_reference(self) -> None:
        """Messages sent to a promise before it resolves to a RemoteReference to a
        Foolscap object are delivered (callRemote) in order once it resolves; a
        failing one breaks only its own result."""
        peer = FoolscapPeer.start()
        self.addCleanup(peer.kill)
        target = await peer.furl
        a = Tub()
        a.startService()
        self.addCleanup(a.stopService)
        p, resolve = makePromise()
        sums = [when(send(p).add(i, 10)) for i in range(3)]
        failed = when(p.fail("no"))
        echoed = when(p.echo(["x", 1]))
        a.getReference(target).addBoth(resolve)
        assert [await d for d in sums] == [10, 11, 12]
        with pytest.raises(Exception, match="ValueError"):
            await failed
        assert await echoed == ["x", 1]
