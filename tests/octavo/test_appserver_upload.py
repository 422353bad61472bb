"""The upload-file service with a fake client source: names, atomic writes, quota."""

from __future__ import annotations

import os
import stat
from typing import Any

from twisted.internet import defer
from twisted.trial.unittest import SynchronousTestCase

from octavo.api._appserver._errors import (
    BadFilenameError,
    BadRequestError,
    BusyError,
    QuotaExceededError,
)
from octavo.api._appserver._names import split_name
from octavo.api._appserver._options import UploadOptions
from octavo.api._appserver._upload import FileUploader

from ._appserver_support import temp_root


class FakeSource:
    """A client's read(size) source: answers from ``data`` (or as ``answer`` says)."""

    def __init__(self, data: bytes, answer: Any = None) -> None:
        self.data = data
        self.pos = 0
        self.asked: list[int] = []
        self.answer = answer
        self.in_flight = 0

    def callRemote(self, method: str, size: int, **kw: Any) -> defer.Deferred[Any]:
        assert method == "read" and "_resultConstraint" in kw
        self.asked.append(size)
        if self.answer is not None:
            return self.answer(size)
        chunk = self.data[self.pos : self.pos + size]
        self.pos += len(chunk)
        return defer.succeed(chunk)


class Names(SynchronousTestCase):
    def test_refused_names(self) -> None:
        """Each name that could leave the target is refused, with what was wrong."""
        for name, word in [
            ("../x", "'..'"),
            ("..", "'..'"),
            ("a/../../x", "'..'"),
            ("/etc/passwd", "absolute"),
            ("", "empty"),
            ("a//b", "empty"),
            ("./x", "'.'"),
            ("a\\..\\b", "backslash"),
            ("x\x00y", "NUL"),
            ("a/b", "subdirectories"),
            ("x" * 5000, "longer"),
            (b"\xff\xfe", "UTF-8"),
        ]:
            with self.assertRaises(BadFilenameError, msg=repr(name)) as e:
                split_name(name, allow_subdirectories=False)
            assert word in str(e.exception), (name, str(e.exception))
        with self.assertRaises(BadRequestError):
            split_name(12, False)
        with self.assertRaises(BadFilenameError):
            split_name("../x", allow_subdirectories=True)

    def test_accepted_names(self) -> None:
        assert split_name("a.deb", False) == ["a.deb"]
        assert split_name(b"a.deb", False) == ["a.deb"]
        assert split_name("d/e/f", True) == ["d", "e", "f"]
        assert split_name("..a", False) == ["..a"]


class Upload(SynchronousTestCase):
    def setUp(self) -> None:
        self.root = temp_root(self)
        self.target = self.root / "target"
        self.target.mkdir()

    def uploader(self, **kw: Any) -> FileUploader:
        return FileUploader(UploadOptions(str(self.target), **kw), blocksize=4)

    def put(self, up: FileUploader, name: Any, source: Any) -> Any:
        return self.successResultOf(up.remote_putfile(name, source))

    def fail(self, up: FileUploader, name: Any, source: Any) -> Exception:
        d = up.remote_putfile(name, source)
        return self.failureResultOf(d).value  # type: ignore[no-any-return]

    def test_file_arrives_block_by_block_with_its_mode(self) -> None:
        src = FakeSource(b"hello, world")
        assert self.put(self.uploader(mode=0o640), b"greeting.txt", src) is None
        path = self.target / "greeting.txt"
        assert path.read_bytes() == b"hello, world"
        assert stat.S_IMODE(path.stat().st_mode) == 0o640
        assert src.asked == [4, 4, 4, 4, 4]  # the next block is asked for ahead
        assert os.listdir(self.target) == ["greeting.txt"]

    def test_replaces_an_existing_file_atomically(self) -> None:
        (self.target / "f").write_bytes(b"old contents")
        seen: list[bytes] = []

        def answer(size: int) -> defer.Deferred[bytes]:
            seen.append((self.target / "f").read_bytes())  # still the old file meanwhile
            return defer.succeed(b"new" if len(seen) == 1 else b"")

        self.put(self.uploader(), "f", FakeSource(b"", answer))
        assert seen == [b"old contents"] * 3  # (one read ahead)
        assert (self.target / "f").read_bytes() == b"new"

    def test_quota(self) -> None:
        """A file past --max-size is refused; nothing (not even a temporary) is left."""
        err = self.fail(self.uploader(max_size=10), "big", FakeSource(b"x" * 11))
        assert isinstance(err, QuotaExceededError) and "10 bytes" in str(err)
        assert os.listdir(self.target) == []
        self.put(self.uploader(max_size=10), "ok", FakeSource(b"x" * 10))
        assert (self.target / "ok").read_bytes() == b"x" * 10

    def test_oversized_or_wrong_answers(self) -> None:
        for answer in [b"12345", "text", 7, None]:
            src = FakeSource(b"", lambda size, a=answer: defer.succeed(a))
            err = self.fail(self.uploader(), "f", src)
            assert isinstance(err, BadRequestError), answer
        assert os.listdir(self.target) == []

    def test_source_failure_leaves_nothing(self) -> None:
        calls = []

        def answer(size: int) -> defer.Deferred[bytes]:
            calls.append(size)
            if len(calls) == 1:
                return defer.succeed(b"part")
            return defer.fail(ConnectionError("client went away"))

        err = self.fail(self.uploader(), "f", FakeSource(b"", answer))
        assert isinstance(err, ConnectionError)
        assert os.listdir(self.target) == []

    def test_bad_names_and_sources(self) -> None:
        up = self.uploader()
        for name in ["../escape", "/abs", "a/b", ""]:
            assert isinstance(self.fail_sync(up, name, FakeSource(b"x")), BadFilenameError)
        assert isinstance(self.fail_sync(up, "f", "not a reference"), BadRequestError)
        assert isinstance(self.fail_sync(up, ["f"], FakeSource(b"x")), BadRequestError)
        assert os.listdir(self.target) == []
        assert not (self.root / "escape").exists()

    def fail_sync(self, up: FileUploader, name: Any, source: Any) -> Exception:
        try:
            up.remote_putfile(name, source)
        except Exception as e:
            return e
        raise AssertionError("not refused")

    def test_subdirectories(self) -> None:
        up = self.uploader(allow_subdirectories=True)
        self.put(up, "a/b/c.txt", FakeSource(b"deep"))
        assert (self.target / "a" / "b" / "c.txt").read_bytes() == b"deep"
        (self.target / "plain").write_bytes(b"")
        err = self.fail(up, "plain/x", FakeSource(b"x"))
        assert isinstance(err, BadFilenameError)

    def test_symlink_out_of_the_target_is_not_followed(self) -> None:
        """A link planted in the target (to a folder or a file outside) is never written
        through: a folder link is refused, a file link is replaced by the upload."""
        outside = self.root / "outside"
        outside.mkdir()
        (outside / "victim").write_bytes(b"keep")
        os.symlink(outside, self.target / "link")
        os.symlink(outside / "victim", self.target / "victim")
        up = self.uploader(allow_subdirectories=True)
        err = self.fail(up, "link/x", FakeSource(b"evil"))
        assert isinstance(err, BadFilenameError)
        self.put(up, "victim", FakeSource(b"new"))
        assert (outside / "victim").read_bytes() == b"keep"
        assert not (self.target / "victim").is_symlink()
        assert (self.target / "victim").read_bytes() == b"new"
        assert sorted(os.listdir(outside)) == ["victim"]

    def test_uploads_at_once_are_bounded(self) -> None:
        """Past max_uploads waiting uploads a new one is refused (BusyError); once one
        ends, another is taken."""
        up = FileUploader(UploadOptions(str(self.target)), blocksize=4, max_uploads=2)
        pending: list[defer.Deferred[bytes]] = []

        def answer(size: int) -> defer.Deferred[bytes]:
            pending.append(defer.Deferred())
            return pending[-1]

        first = up.remote_putfile("a", FakeSource(b"", answer))
        up.remote_putfile("b", FakeSource(b"", answer))
        with self.assertRaises(BusyError):
            up.remote_putfile("c", FakeSource(b"x"))
        pending[0].callback(b"")
        assert self.successResultOf(first) is None
        self.put(up, "c", FakeSource(b"x"))
        assert (self.target / "c").read_bytes() == b"x"

    def test_upload_onto_a_folder_is_refused(self) -> None:
        (self.target / "d").mkdir()
        err = self.fail(self.uploader(), "d", FakeSource(b"x"))
        assert isinstance(err, BadFilenameError)
        assert os.listdir(self.target) == ["d"]
