"""The threads the numeric libraries get: the cores this process may use, idle ones first."""

from __future__ import annotations

import os

import pytest
import torch

from cantata import threads
from cantata.cli import main


@pytest.fixture
def machine(monkeypatch, tmp_path):
    """A fake machine: ``machine(cpus, cpu_max=None, busy=())`` sets the affinity mask, the
    cgroup v2 quota file and which CPUs are busy in /proc/stat."""

    def make(cpus, cpu_max=None, busy=()):
        monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(cpus))
        v2 = tmp_path / "cpu.max"
        if cpu_max is not None:
            v2.write_text(cpu_max + "\n")
        monkeypatch.setattr(threads, "CGROUP_V2", v2)
        monkeypatch.setattr(threads, "CGROUP_V1", (tmp_path / "q", tmp_path / "p"))
        samples = iter([{c: (0, 0) for c in range(64)},
                        {c: (9 if c in busy else 1, 10) for c in range(64)}])
        monkeypatch.setattr(threads, "_cpu_times", lambda: next(samples))
        monkeypatch.setattr(threads.time, "sleep", lambda s: None)

    return make


def test_affinity_not_cpu_count(machine, monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    machine({2, 5, 7})
    assert threads.available_cores() == 3
    assert threads.default_threads() == 3


@pytest.mark.parametrize(("cpu_max", "expected"), [("max 100000", 8), ("200000 100000", 2),
                                                   ("150000 100000", 2), ("50000 100000", 1)])
def test_cgroup_quota(machine, cpu_max, expected):
    machine(range(8), cpu_max=cpu_max)
    assert threads.available_cores() == expected
    assert threads.default_threads() == expected


def test_cgroup_v1_quota(machine, tmp_path):
    machine(range(8))
    (tmp_path / "q").write_text("300000\n")
    (tmp_path / "p").write_text("100000\n")
    assert threads.available_cores() == 3
    (tmp_path / "q").write_text("-1\n")
    assert threads.available_cores() == 8


def test_busy_cores_are_left_alone(machine):
    machine({0, 1}, busy={1})
    assert threads.default_threads() == 1
    machine({0, 1}, busy={0, 1})
    assert threads.default_threads() == 1  # never fewer than one
    machine(range(4), busy={9, 10})  # busy elsewhere, outside the affinity mask
    assert threads.default_threads() == 4


@pytest.fixture
def restore_threads(monkeypatch):
    for name in threads.THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(threads, "_configured", None)
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_set_threads(restore_threads, machine):
    machine({0, 1, 2}, busy={0})
    assert threads.set_threads(1) == 1
    assert torch.get_num_threads() == 1
    assert all(os.environ[name] == "1" for name in threads.THREAD_VARIABLES)
    assert threads.set_threads() == 2
    assert torch.get_num_threads() == 2 and threads.configured_threads() == 2


def test_the_users_omp_num_threads_wins_over_the_default(restore_threads, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert threads.set_threads() == 3
    assert torch.get_num_threads() == 3


@pytest.mark.parametrize(("argv", "expected"), [(["info", "--threads", "1"], 1),
                                                (["info"], None),
                                                (["detect", "--threads", "2"], 2)])
def test_every_command_takes_threads(monkeypatch, tmp_path, argv, expected):
    calls = []
    monkeypatch.setattr(threads, "set_threads", calls.append)
    main([*argv, str(tmp_path / "missing.wav")])
    assert calls == [expected]


def test_bad_threads(capsys):
    with pytest.raises(SystemExit):
        main(["info", "--threads", "0", "x.wav"])
    assert "--threads" in capsys.readouterr().err


def test_scan_workers_share_the_threads(machine, monkeypatch):
    from cantata.scan.local import threads_per_worker

    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    machine({0, 1})
    monkeypatch.setattr(threads, "_configured", None)
    assert threads_per_worker(1) == 2 and threads_per_worker(2) == 1
    monkeypatch.setattr(threads, "_configured", 6)  # cantata scan --threads 6 --jobs 2
    assert threads_per_worker(2) == 3


@pytest.mark.parametrize(("flags", "expected"), [([], [None, 1]), (["--threads", "2"], [2])])
def test_live_detection_runs_on_one_thread_by_default(monkeypatch, tmp_path, flags, expected):
    """Its 50 ms blocks are too small to share: two threads ran 7x slower on a busy machine."""
    calls = []
    monkeypatch.setattr(threads, "set_threads", calls.append)
    main(["detect", "--live", "--fast", str(tmp_path / "missing.wav"), *flags])
    assert calls == expected


@pytest.mark.parametrize("argv", [["catalog", "ls"], ["train", "separator", "--out", "r"],
                                  ["data", "synth", "song", "--hours", "1", "--out", "x"],
                                  ["serve"], ["models"], ["export", "onnx", "a", "b"],
                                  ["search", "q.wav"], ["scan", "lib"], ["embed", "a.wav"],
                                  ["separate", "a.wav"], ["train", "average", "a", "--out", "c"]])
def test_every_command_parses_threads(argv):
    from cantata.cli import parse

    assert parse([*argv, "--threads", "3"]).threads == 3
