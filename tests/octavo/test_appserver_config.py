"""BASEDIR: create, add, list, and the refusals of unsafe or corrupt ones."""

from __future__ import annotations

import io
import json
import os
import stat

from twisted.trial.unittest import SynchronousTestCase

from octavo.api._appserver._admin import add_service, create_basedir, list_services
from octavo.api._appserver._basedir import check_basedir, load_services, read_config
from octavo.api._appserver._cli import run
from octavo.api._appserver._errors import (
    BasedirError,
    ServiceArgumentsError,
    UnknownServiceTypeError,
)
from octavo.api._appserver._options import (
    CommandOptions,
    UploadOptions,
    parse_service_args,
)
from octavo.tub import Tub

from ._appserver_support import temp_root


class Create(SynchronousTestCase):
    def setUp(self) -> None:
        self.root = temp_root(self)
        self.basedir = str(self.root / "b")

    def test_layout_is_flappservers(self) -> None:
        """create makes a 0700 BASEDIR with flappserver's files, and furl_prefix names
        the TubID of tub.pem."""
        tubid = create_basedir(self.basedir, "tcp:3116", "tcp:example.org:3116", 0o027)
        assert stat.S_IMODE(os.stat(self.basedir).st_mode) == 0o700
        names = set(os.listdir(self.basedir))
        assert {"port", "location", "umask", "tub.pem", "furl_prefix", "services.json"} <= names
        assert "services" in names and any(n.endswith(".tac") for n in names)
        config = read_config(self.basedir)
        assert config.port == "tcp:3116" and config.umask == 0o027
        assert config.furl_prefix == f"pb://{tubid}@tcp:example.org:3116/"
        assert Tub(certFile=os.path.join(self.basedir, "tub.pem")).getTubID() == tubid
        assert stat.S_IMODE(os.stat(os.path.join(self.basedir, "tub.pem")).st_mode) == 0o600
        with open(os.path.join(self.basedir, "services.json")) as f:
            assert json.load(f) == {"version": 1, "services": {}}

    def test_existing_directory_is_refused(self) -> None:
        os.mkdir(self.basedir)
        with self.assertRaises(BasedirError) as e:
            create_basedir(self.basedir, "tcp:3116", "tcp:h:1")
        assert "pre-existing" in str(e.exception)

    def test_cli_create_needs_location(self) -> None:
        with self.assertRaises(SystemExit):
            run(["create", self.basedir], io.StringIO(), io.StringIO())
        assert not os.path.exists(self.basedir)


class AddAndList(SynchronousTestCase):
    def setUp(self) -> None:
        root = temp_root(self)
        self.basedir = str(root / "b")
        self.target = str(root / "target")
        os.mkdir(self.target)
        create_basedir(self.basedir, "tcp:3116", "tcp:example.org:3116")

    def test_add_then_list(self) -> None:
        """add stores the service with an absolute TARGETDIR and an unguessable swissnum."""
        rel = os.path.relpath(self.target)
        furl, folder = add_service(self.basedir, "upload-file", ["--mode", "0600", rel], "up")
        furl2, _ = add_service(self.basedir, "run-command", [self.target, "echo", "-n", "x"])
        assert folder == os.path.join(self.basedir, "services", "1") and os.path.isdir(folder)
        services = load_services(self.basedir)
        swissnum = furl.rsplit("/", 1)[1]
        assert len(swissnum) == 32 and furl != furl2
        entry = services[swissnum]
        assert entry.type == "upload-file" and entry.comment == "up"
        assert entry.args == ("--mode", "0600", os.path.abspath(self.target))
        listed = {s.furl: s for s in list_services(self.basedir)}
        assert listed[furl2].args == (self.target, "echo", "-n", "x")
        assert listed[furl2].folder.endswith(os.path.join("services", "2"))
        out = io.StringIO()
        assert run(["list", self.basedir], out, io.StringIO()) == 0
        assert furl in out.getvalue() and "# up" in out.getvalue()

    def test_bad_service_arguments_are_refused(self) -> None:
        """Each bad add is refused with a one-line error, and nothing is stored."""
        cases = [
            ("no-such-type", [self.target]),
            ("upload-file", []),
            ("upload-file", ["--mode", "banana", self.target]),
            ("upload-file", ["--max-size", "-1", self.target]),
            ("upload-file", [self.target + "-missing"]),
            ("run-command", [self.target]),
            ("upload-file", ["--bogus", self.target]),
        ]
        for kind, args in cases:
            err = io.StringIO()
            assert run(["add", self.basedir, kind, *args], io.StringIO(), err) == 1, args
            line = err.getvalue()
            assert line.startswith("octavo-server: error: ") and line.count("\n") == 1, line
        assert load_services(self.basedir) == {}
        assert os.listdir(os.path.join(self.basedir, "services")) == []

    def test_unknown_type_names_the_known_ones(self) -> None:
        with self.assertRaises(UnknownServiceTypeError) as e:
            parse_service_args("ftp", ["x"])
        assert "upload-file" in str(e.exception) and "run-command" in str(e.exception)

    def test_options(self) -> None:
        """Foolscap's flags, its --mode reading (0-prefixed octal), and Octavo's additions."""
        up = parse_service_args("upload-file", ["--allow-subdirectories", "--mode=0640", "/t"])
        assert up == UploadOptions("/t", 0o640, True, None)
        assert parse_service_args("upload-file", ["--mode", "420", "/t"]) == UploadOptions(
            "/t", 420
        )
        assert parse_service_args("upload-file", ["--max-size", "10", "/t"]).max_size == 10
        cmd = parse_service_args(
            "run-command", ["--accept-stdin", "--no-stdout", "--single-instance", "/d", "ls", "-l"]
        )
        assert cmd == CommandOptions(
            "/d", ("ls", "-l"), accept_stdin=True, send_stdout=False, single_instance=True
        )
        with self.assertRaises(ServiceArgumentsError):
            parse_service_args("run-command", ["--no-such-flag", "/d", "ls"])


class Refusals(SynchronousTestCase):
    def setUp(self) -> None:
        root = temp_root(self)
        self.basedir = str(root / "b")
        create_basedir(self.basedir, "tcp:3116", "tcp:example.org:3116")

    def assert_refused(self, argv: list[str], *words: str) -> None:
        err = io.StringIO()
        assert run(argv, io.StringIO(), err) == 1
        line = err.getvalue()
        assert line.startswith("octavo-server: error: ") and line.count("\n") == 1, line
        for w in words:
            assert w in line, line

    def test_wrong_permissions(self) -> None:
        """A BASEDIR others can read is refused by list, add and start."""
        os.chmod(self.basedir, 0o755)
        with self.assertRaises(BasedirError):
            check_basedir(self.basedir)
        self.assert_refused(["list", self.basedir], "0755", "chmod 700")
        self.assert_refused(["add", self.basedir, "upload-file", "/tmp"], "0755")
        self.assert_refused(["start", "--nodaemon", self.basedir], "0755")

    def test_missing_basedir(self) -> None:
        self.assert_refused(["list", self.basedir + "-nope"], "cannot use BASEDIR")

    def test_corrupt_services_json(self) -> None:
        """Broken JSON, a wrong version or a broken entry: one line naming the file."""
        path = os.path.join(self.basedir, "services.json")
        for text in [
            "{not json",
            '{"version": 2, "services": {}}',
            '{"version": 1, "services": []}',
            '{"version": 1, "services": {"abc": {"type": "upload-file"}}}',
            '{"version": 1, "services": {"abc": {"relative_basedir": "../x",'
            ' "type": "upload-file", "args": [], "comment": null}}}',
        ]:
            with open(path, "w") as f:
                f.write(text)
            self.assert_refused(["list", self.basedir], "services.json")
            self.assert_refused(["start", "--nodaemon", self.basedir], "services.json")

    def test_corrupt_config_files(self) -> None:
        for name, text, word in [
            ("umask", "banana\n", "umask"),
            ("location", "\n", "location"),
            ("furl_prefix", "http://x\n", "furl_prefix"),
        ]:
            path = os.path.join(self.basedir, name)
            with open(path) as f:
                old = f.read()
            with open(path, "w") as f:
                f.write(text)
            self.assert_refused(
                ["list", self.basedir]
                if name != "location"
                else ["start", "--nodaemon", self.basedir],
                word,
            )
            with open(path, "w") as f:
                f.write(old)

    def test_stop_without_a_running_server(self) -> None:
        err = io.StringIO()
        assert run(["stop", self.basedir], io.StringIO(), err) == 2
        assert "no running server" in err.getvalue()
