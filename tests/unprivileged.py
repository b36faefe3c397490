"""Running the real command as root without root's power over file permissions, so that the
mode bits of a test's files apply to it as to any user (CI runs as root)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys


def run_unprivileged(*args: str) -> subprocess.CompletedProcess[str]:
    """``triage ARGS`` in a child; as root, without the capabilities that override file
    permissions (``setpriv``)."""
    command = [sys.executable, "-m", "tui", *args]
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        assert setpriv, "setpriv (util-linux) is needed to drop root's file-permission override"
        command = [
            setpriv,
            "--bounding-set",
            "-dac_override,-dac_read_search",
            "--inh-caps=-all",
            *command,
        ]
    return subprocess.run(command, capture_output=True, text=True)
