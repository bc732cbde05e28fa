"""Where the original sings and the singer does not."""

from __future__ import annotations

import pytest

from cantata.detect.karaoke import missed_singing, should_prompt
from cantata.types import Segment


def v(a: float, b: float) -> Segment:
    return Segment(a, b, "vocal")


def test_missed_stretches():
    original = [v(1, 5), v(8, 10)]
    take = [v(1, 2), v(2.2, 3.0), v(8.5, 12)]
    missed = [(s.start_s, s.end_s) for s in missed_singing(original, take)]
    assert missed == [(3.0, 5.0), (8.0, 8.5)]


def test_short_gaps_are_not_missed_lines():
    assert missed_singing([v(1, 5)], [v(1, 2.9), v(3.2, 5)]) == []


def test_nothing_sung_misses_everything():
    assert [(s.start_s, s.end_s) for s in missed_singing([v(1, 2)], [])] == [(1, 2)]


@pytest.mark.parametrize(("now", "since", "expected"),
                         [(3.0, 2.0, True), (3.0, 2.8, False), (6.0, 2.0, False),
                          (3.0, None, False)])
def test_prompt(now, since, expected):
    assert should_prompt([v(1, 5)], now_s=now, silent_since_s=since) is expected
