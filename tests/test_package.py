"""Importing cantata is cheap and has no side effects."""

from __future__ import annotations

import subprocess
import sys


def test_import_is_lazy_and_quiet():
    code = ("import sys, cantata; heavy = [m for m in ('torch', 'av', 'soundfile', 'rich') "
            "if m in sys.modules]; print(heavy, cantata.__version__)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.startswith("[] ")
    assert result.stderr == ""


def test_lazy_attributes_resolve():
    import cantata

    assert cantata.Waveform.__name__ == "Waveform"
    assert callable(cantata.load)
