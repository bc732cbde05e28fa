"""The one shape of the engines' progress callbacks."""

from __future__ import annotations

from collections.abc import Callable

#: Called with the seconds of audio finished since the previous call (> 0); over a whole
#: recording the calls add up to its duration, so a progress bar advances by each amount.
Progress = Callable[[float], None]
