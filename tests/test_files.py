"""The atomic-write helper, the one overwrite message, and no umask change at import."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from cantata import files
from cantata.errors import CantataError
from cantata.files import (
    OutputExistsError,
    atomic_output,
    check_overwrite,
    exists_problem,
    write_bytes_atomic,
    write_text_atomic,
)


def _current_umask() -> int:
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


def test_writes_through_a_hidden_temp_beside_the_destination(tmp_path):
    dest = tmp_path / "deep" / "er" / "out.bin"
    with atomic_output(dest) as tmp:
        assert tmp.parent == dest.parent and tmp.name.startswith(".out.bin.")
        assert tmp.suffix == ".part" and not dest.exists()
        tmp.write_bytes(b"result")
    assert dest.read_bytes() == b"result"
    assert [p.name for p in dest.parent.iterdir()] == ["out.bin"]


def test_an_exception_leaves_no_temp_and_the_old_file(tmp_path):
    dest = tmp_path / "out.txt"
    dest.write_text("old")
    with pytest.raises(RuntimeError, match="boom"), atomic_output(dest, overwrite=True) as tmp:
        tmp.write_text("half")
        raise RuntimeError("boom")
    assert dest.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_refuses_an_existing_file_unless_asked(tmp_path):
    dest = tmp_path / "out.txt"
    dest.write_text("precious")
    with pytest.raises(OutputExistsError, match="out.txt: file exists"):
        write_text_atomic(dest, "new")
    assert dest.read_text() == "precious"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]
    assert write_text_atomic(dest, "new", overwrite=True) == dest
    assert dest.read_text() == "new"


def test_write_bytes_atomic(tmp_path):
    dest = write_bytes_atomic(tmp_path / "a" / "b.bin", b"\x00\x01")
    assert dest.read_bytes() == b"\x00\x01"


def test_missing_folder_is_an_error_without_parents(tmp_path):
    with pytest.raises(FileNotFoundError), atomic_output(tmp_path / "no" / "x", parents=False):
        pass
    assert not (tmp_path / "no").exists()


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_result_gets_the_mode_a_plain_open_would(tmp_path, monkeypatch, umask):
    monkeypatch.setattr(files, "_umask", lambda: umask)
    files.new_file_mode.cache_clear()
    old = os.umask(umask)
    try:
        with open(tmp_path / "plain", "w"):
            pass
        write_text_atomic(tmp_path / "atomic", "{}")
    finally:
        os.umask(old)
        files.new_file_mode.cache_clear()
    expected = (tmp_path / "plain").stat().st_mode & 0o777
    assert (tmp_path / "atomic").stat().st_mode & 0o777 == expected == 0o666 & ~umask


def test_umask_is_read_as_it_is(monkeypatch):
    umask = _current_umask()
    assert files._umask() == umask
    monkeypatch.setattr(files, "open", _no_proc, raising=False)
    assert files._umask() == umask and _current_umask() == umask


def _no_proc(*args, **kwargs):
    raise OSError("no /proc here")


def test_import_leaves_the_umask_alone():
    """Importing reads nothing; on Linux even the first write reads /proc, not os.umask."""
    code = (
        "import os\n"
        "os.umask(0o027)\n"
        "calls = []\n"
        "real = os.umask\n"
        "os.umask = lambda mask: calls.append(mask) or real(mask)\n"
        "import cantata.files as files\n"
        "assert calls == [] and real(0o027) == 0o027, calls\n"
        "if os.path.exists('/proc/self/status'):\n"
        "    assert files.new_file_mode() == 0o640 and calls == [], calls\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_the_one_message():
    assert exists_problem() == "file exists (use --overwrite to replace it)"
    assert exists_problem("--force") == "file exists (use --force to replace it)"


def test_check_overwrite(tmp_path):
    dest = tmp_path / "x.pt"
    check_overwrite(dest, False)
    dest.write_bytes(b"")
    check_overwrite(dest, True)
    with pytest.raises(OutputExistsError) as err:
        check_overwrite(dest, False, flag="--force")
    assert str(err.value) == f"{dest}: file exists (use --force to replace it)"
    assert isinstance(err.value, CantataError)
