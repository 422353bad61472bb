"""An AppServer and octavo-client's code over real loopback connections."""

from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path
from typing import Any

from twisted.internet import reactor
from twisted.trial import unittest

from octavo.api._appclient._command import run_command
from octavo.api._appclient._upload import FileSource, upload_files
from octavo.api._appserver._admin import add_service
from octavo.api._appserver._server import AppServer
from octavo.tub import RemoteException, Tub

from ._appserver_support import make_basedir, temp_root


class AppServerOverLoopback(unittest.TestCase):
    def setUp(self) -> None:
        self.root = temp_root(self)
        self.basedir, self.port = make_basedir(self.root)
        self.target = self.root / "target"
        self.target.mkdir()
        old = os.umask(0o022)
        self.addCleanup(os.umask, old)

    def start_server(self) -> AppServer:
        server = AppServer(self.basedir, io.StringIO())
        server.startService()
        self.addCleanup(server.stopService)
        return server

    async def client(self, furl: str) -> Any:
        tub = Tub()
        tub.startService()
        self.addCleanup(tub.stopService)
        return await tub.getReference(furl)

    async def test_upload_and_run(self) -> None:
        """octavo-client's upload and run-command code against a running server."""
        up_furl, _ = add_service(
            self.basedir, "upload-file", ["--max-size", "3000000", str(self.target)]
        )
        run_furl, _ = add_service(
            self.basedir,
            "run-command",
            [
                "--accept-stdin",
                str(self.target),
                sys.executable,
                "-c",
                "import sys; d = sys.stdin.read(); print(len(d)); sys.exit(4)",
            ],
        )
        self.start_server()
        source = self.root / "payload.bin"
        source.write_bytes(os.urandom(2_500_000))  # three blocks of 1 MiB
        out = io.StringIO()
        rref = await self.client(up_furl)
        bar = io.StringIO()
        assert await upload_files(rref, [str(source)], out, bar, progress=True) == 0
        assert out.getvalue() == "payload.bin: uploaded\n"
        assert "payload.bin" in bar.getvalue() and "%" in bar.getvalue()  # tqdm's bar
        assert (self.target / "payload.bin").read_bytes() == source.read_bytes()

        stdin_file = self.root / "stdin"
        stdin_file.write_bytes(b"x" * 200_000)
        stdout, stderr = io.BytesIO(), io.BytesIO()
        rref = await self.client(run_furl)
        with stdin_file.open("rb") as stdin:
            code = await run_command(rref, stdout, stderr, stdin, reactor)
        assert code == 4
        assert stdout.getvalue() == b"200000\n"

    async def test_bad_input_fails_that_call_only(self) -> None:
        """../ and absolute names, a file past the quota and garbage arguments are each
        refused with a named error; the service goes on serving."""
        up_furl, _ = add_service(
            self.basedir, "upload-file", ["--max-size", "10", str(self.target)]
        )
        self.start_server()
        rref = await self.client(up_furl)
        small = self.root / "small"
        small.write_bytes(b"0123456789")
        big = self.root / "big"
        big.write_bytes(b"x" * 11)
        for name, source, error in [
            (b"../escape", small, "BadFilenameError"),
            (b"/tmp/abs", small, "BadFilenameError"),
            (b"big", big, "QuotaExceededError"),
            (12345, small, "BadRequestError"),
        ]:
            with source.open("rb") as f, self.assertRaises(Exception) as e:
                await rref.callRemote("putfile", name, FileSource(f))
            assert error in repr(e.exception) + str(e.exception), e.exception
        with self.assertRaises(Exception) as e:
            await rref.callRemote("putfile", b"x", "not a reference")
        assert "BadRequestError" in repr(e.exception) + str(e.exception)
        with self.assertRaises(RemoteException) as e:
            await rref.callRemote("no_such_method")
        assert "no remote method 'no_such_method'" in repr(e.exception)
        assert sorted(os.listdir(self.target)) == []
        assert not (self.root / "escape").exists()
        assert await upload_files(rref, [str(small)], io.StringIO(), io.StringIO()) == 0
        assert (self.target / "small").read_bytes() == b"0123456789"

    async def test_garbage_to_run_command(self) -> None:
        """execute with no watcher, a str to feed_stdin, an unknown method: each call is
        refused by name and the command still runs for a proper client."""
        furl, _ = add_service(
            self.basedir,
            "run-command",
            [
                "--accept-stdin",
                str(self.target),
                sys.executable,
                "-c",
                "import sys; sys.stdin.read()",
            ],
        )
        self.start_server()
        rref = await self.client(furl)
        for args, error in [
            ((), "BadArgumentsError"),
            ((12,), "BadRequestError"),
            (("w",), "BadRequestError"),
        ]:
            with self.assertRaises(RemoteException) as e:
                await rref.callRemote("execute", *args)
            assert error in repr(e.exception), e.exception
        with self.assertRaises(RemoteException):
            await rref.callRemote("feed_stdin", b"x")
        code = await run_command(rref, io.BytesIO(), io.BytesIO(), None, reactor)
        assert code == 0

    async def test_corrupt_config_while_running(self) -> None:
        """A corrupt services.json makes new lookups fail (one logged line), the
        services already reached keep working, and a repaired file serves again."""
        furl, _ = add_service(self.basedir, "upload-file", [str(self.target)])
        self.start_server()
        rref = await self.client(furl)
        path = Path(self.basedir) / "services.json"
        good = path.read_text()
        path.write_text("{broken")
        with self.assertRaises(RemoteException) as e:
            await self.client(furl)
        assert "unable to find reference" in repr(e.exception)
        self.flushLoggedErrors()
        small = self.root / "f"
        small.write_bytes(b"still served")
        assert await upload_files(rref, [str(small)], io.StringIO(), io.StringIO()) == 0
        path.write_text(good)
        again = await self.client(furl)
        assert await upload_files(again, [str(small)], io.StringIO(), io.StringIO()) == 0

    async def test_furls_survive_a_restart(self) -> None:
        """A second server on the same BASEDIR has the same TubID: old FURLs work."""
        furl, _ = add_service(self.basedir, "upload-file", [str(self.target)])
        first = AppServer(self.basedir, io.StringIO())
        first.startService()
        await first.stopService()
        second = self.start_server()
        assert second.tub.getTubID() == first.tub.getTubID()
        assert furl.startswith(f"pb://{second.tub.getTubID()}@")
        assert json.loads((Path(self.basedir) / "services.json").read_text())["version"] == 1
        rref = await self.client(furl)
        f = self.root / "after-restart"
        f.write_bytes(b"ok")
        await upload_files(rref, [str(f)], io.StringIO(), io.StringIO())
        assert (self.target / "after-restart").read_bytes() == b"ok"
