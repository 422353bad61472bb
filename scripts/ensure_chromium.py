"""Make sure Debian's Chromium is at /usr/bin/chromium for the logging env's browser test.

Does nothing when it is there. Otherwise runs ``apt-get update`` then
``apt-get install -y --no-install-recommends chromium``, as root or through sudo, and exits
non-zero with a one-line reason when it cannot. The browser test drives this binary with
Playwright's ``executable_path``; ``playwright install`` (a download of its own) is never used.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
APT_STEPS = (
    ["apt-get", "update"],
    ["apt-get", "install", "-y", "--no-install-recommends", "chromium"],
)


class EnsureError(Exception):
    """Chromium is missing and could not be installed; the message says why."""


def privileged_prefix() -> list[str]:
    """``[]`` as root, ``["sudo", "-n"]`` when sudo is there, else an EnsureError."""
    if os.geteuid() == 0:
        return []
    if shutil.which("sudo") is None:
        raise EnsureError("not root and no sudo to run apt-get with")
    return ["sudo", "-n"]


def ensure(chromium: Path = CHROMIUM) -> bool:
    """Install Chromium unless *chromium* exists; True when this call installed it."""
    if chromium.exists():
        return False
    if shutil.which("apt-get") is None:
        raise EnsureError(f"{chromium} is missing and there is no apt-get to install it")
    prefix = privileged_prefix()
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for step in APT_STEPS:
        done = subprocess.run(
            [*prefix, *step],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            check=False,
        )
        if done.returncode != 0:
            last = (done.stderr.decode("utf-8", "replace").strip().splitlines() or ["?"])[-1]
            raise EnsureError(f"`{' '.join(step)}` failed ({done.returncode}): {last}")
    if not chromium.exists():
        raise EnsureError(f"apt-get installed chromium but {chromium} is still missing")
    return True


def main() -> int:
    """Command line entry: 0 when Chromium is there (now), 1 with a one-line reason if not."""
    try:
        installed = ensure()
    except (EnsureError, OSError) as exc:
        print(f"ensure_chromium: {exc}", file=sys.stderr)
        return 1
    if installed:
        print(f"ensure_chromium: installed {CHROMIUM}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
