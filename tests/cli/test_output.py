"""Human output to a pipe: tables as wide as their rows need, within limits."""

from __future__ import annotations

from rich.table import Table

from cantata.cli.output import MAX_PIPE_WIDTH, PIPE_WIDTH, Output


def _table(path: str) -> Table:
    table = Table()
    for name in ("path", "status"):
        table.add_column(name, overflow="fold")
    table.add_row(path, "failed: not a decodable audio file (Invalid data found)")
    return table


def test_piped_tables_keep_long_cells_on_one_line(capsys):
    path = "/music/" + "a-long-folder-name/" * 8 + "bad.mp3"  # wider than PIPE_WIDTH
    Output().show(_table(path))
    out = capsys.readouterr().out
    assert path in out and PIPE_WIDTH < max(map(len, out.splitlines())) <= MAX_PIPE_WIDTH


def test_piped_tables_still_wrap_beyond_the_limit(capsys):
    path = "/music/" + "x" * (MAX_PIPE_WIDTH + 50) + "/bad.mp3"
    Output().show(_table(path))
    assert max(map(len, capsys.readouterr().out.splitlines())) <= MAX_PIPE_WIDTH
