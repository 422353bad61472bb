"""octavo-client's pieces: FURL options, names sent, the read source, the watcher."""

from __future__ import annotations

import io

from twisted.trial.unittest import SynchronousTestCase

from octavo.api._appclient._cli import _describe
from octavo.api._appclient._command import LOST, SIGNALLED, Watcher
from octavo.api._appclient._furl import ClientUsageError, choose_furl
from octavo.api._appclient._upload import MAX_READ, FileSource, upload_name
from octavo.tub import RemoteException

from ._appserver_support import temp_root

FURL = "pb://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@127.0.0.1:1/swiss"


class Furl(SynchronousTestCase):
    def test_furl_or_furlfile(self) -> None:
        root = temp_root(self)
        ff = root / "f.furl"
        ff.write_text(f"# comment\n\n  {FURL}  \npb://second\n")
        assert choose_furl(FURL, None) == FURL
        assert choose_furl(None, str(ff)) == FURL
        empty = root / "empty"
        empty.write_text("# nothing\n")
        for furl, furlfile, word in [
            (None, None, "must provide"),
            (FURL, str(ff), "not both"),
            (None, str(root / "nope"), "cannot read"),
            (None, str(empty), "no pb://"),
        ]:
            with self.assertRaises(ClientUsageError) as e:
                choose_furl(furl, furlfile)
            assert word in str(e.exception)


class Upload(SynchronousTestCase):
    def test_names(self) -> None:
        """The base name by default (as flappclient); --keep-paths sends the path."""
        assert upload_name("/some/where/x.deb", keep_paths=False) == "x.deb"
        assert upload_name("dir/./sub/x.deb", keep_paths=True) == "dir/sub/x.deb"

    def test_read_source(self) -> None:
        """read(size) answers at most size bytes, b"" at the end, and counts progress;
        sizes that are not 1..16 MiB ints are refused."""

        class Bar:
            n = 0

            def update(self, k: int) -> None:
                self.n += k

        bar = Bar()
        src = FileSource(io.BytesIO(b"abcdefg"), bar)
        assert [src.remote_read(3), src.remote_read(3), src.remote_read(3)] == [
            b"abc",
            b"def",
            b"g",
        ]
        assert src.remote_read(3) == b"" and bar.n == 7
        for size in [0, -1, MAX_READ + 1, "3", 2.0, True]:
            with self.assertRaises(ValueError):
                src.remote_read(size)


class RunCommand(SynchronousTestCase):
    def test_watcher(self) -> None:
        """Output is written as it comes; done gives the exit code, 127 for a signal;
        only the first end counts (a later disconnect does not change it)."""
        out, err = io.BytesIO(), io.BytesIO()
        w = Watcher(out, err)
        w.remote_stdout(b"a")
        w.remote_stderr(b"b")
        w.remote_stdout("not bytes")
        w.remote_done(None, 5)
        w.finish(LOST)
        assert self.successResultOf(w.finished) == 5
        assert (out.getvalue(), err.getvalue()) == (b"a", b"b")
        w2 = Watcher(io.BytesIO(), io.BytesIO())
        w2.remote_done(9, None)
        assert self.successResultOf(w2.finished) == SIGNALLED

    def test_describe(self) -> None:
        class Copied:
            type_name = "octavo.api._appserver._errors.QuotaExceededError"
            value = "'x' is larger than this service's limit of 10 bytes"

        assert _describe(RemoteException(Copied())) == (
            "QuotaExceededError: 'x' is larger than this service's limit of 10 bytes"
        )
        assert _describe(OSError("line one\nline two")) == "line two"
