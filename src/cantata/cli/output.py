"""Everything the CLI shows: human tables and progress on a terminal, JSON for machines."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)

PIPE_WIDTH = 120
#: the widest a table printed to a pipe may grow to fit its rows unwrapped
MAX_PIPE_WIDTH = 400


class Output:
    """Where a command's results, errors and progress go.

    Results go to stdout (a rich table, or JSON with ``--json``); errors, logs and
    progress bars go to stderr, so ``--json`` output stays parseable.
    """

    def __init__(self, *, json_mode: bool = False, quiet: bool = False) -> None:
        self.json_mode, self.quiet = json_mode, quiet
        self.console = Console(highlight=False)
        if not self.console.is_terminal:  # piped or captured: no terminal width to respect
            self.console = Console(highlight=False, width=max(self.console.width, PIPE_WIDTH))
        self.err_console = Console(stderr=True, highlight=False)

    def json(self, payload: Any) -> None:
        sys.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")

    def show(self, renderable: Any) -> None:
        """A human result (table, text); skipped in JSON mode."""
        if self.json_mode:
            return
        if self.console.is_terminal:
            self.console.print(renderable)
            return
        # piped or captured: as wide as the table wants (long paths stay on one line)
        natural = self.console.measure(renderable, options=self.console.options.update(
            width=MAX_PIPE_WIDTH)).maximum
        self.console.width = max(min(natural, MAX_PIPE_WIDTH), PIPE_WIDTH)
        self.console.print(renderable)

    def summary(self, renderable: Any) -> None:
        """A human summary ("wrote 3 result files ..."); skipped in JSON mode and with -q."""
        if not self.quiet:
            self.show(renderable)

    def error(self, message: str) -> None:
        """One line on stderr, prefixed like argparse's own errors."""
        print(f"cantata: error: {message}", file=sys.stderr)

    @contextmanager
    def loading(self, what: str) -> Iterator[None]:
        """A spinner on stderr while ``what`` loads (a model: seconds on a first run).

        Shown only on a terminal and without ``--quiet``, like :meth:`progress`.
        """
        if not self.err_console.is_terminal or self.quiet:
            yield
            return
        with self.err_console.status(f"[bold]loading {what}", spinner="dots"):
            yield

    @contextmanager
    def progress(self, description: str, *, total: float, unit: str = "") -> Iterator[Any]:
        """A transient progress bar on stderr; yields ``advance(amount)``.

        Shown only on a terminal and without ``--quiet``: piped output stays clean.
        """
        enabled = self.err_console.is_terminal and not self.quiet
        columns = [TextColumn("[bold]{task.description}"), BarColumn(), TaskProgressColumn(),
                   TextColumn(f"{{task.completed:.0f}}/{{task.total:.0f}} {unit}"),
                   TimeRemainingColumn()]
        with Progress(*columns, console=self.err_console, transient=True,
                      disable=not enabled) as bar:
            task = bar.add_task(description, total=total)
            yield lambda amount: bar.advance(task, amount)


def plural(count: int, noun: str, plural_form: str | None = None) -> str:
    """``"1 region"``, ``"2 regions"``: a count and its noun in the right number."""
    return f"{count} {noun if count == 1 else plural_form or noun + 's'}"
