"""The core must stay free of the UI: importing it never loads Textual."""

import subprocess
import sys


def test_core_and_store_do_not_import_textual() -> None:
    code = (
        "import sys, pkgutil, importlib, tui.core\n"
        "for m in pkgutil.iter_modules(tui.core.__path__):\n"
        "    importlib.import_module('tui.core.' + m.name)\n"
        "import tui.store, tui.ingest, tui.exchange, tui.evidence, tui.demo\n"
        "bad = [m for m in sys.modules if m.split('.')[0] == 'textual']\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
