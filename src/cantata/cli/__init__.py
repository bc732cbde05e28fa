"""The ``cantata`` command. Only this package prints; the library logs."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from cantata import threads
from cantata._version import __version__
from cantata.capabilities import CAPABILITIES
from cantata.cli import catalog, data, export, info, models, scan, search, serve, train
from cantata.cli.output import Output
from cantata.errors import CantataError

#: each capability's own subcommand, as the capability registry declares it
CAPABILITY_COMMANDS = tuple(importlib.import_module(cap.cli) for cap in CAPABILITIES.values()
                            if cap.cli is not None)
COMMANDS = (info, *CAPABILITY_COMMANDS, scan, catalog, search, serve, data, train, export,
            models)
EXIT_USAGE = 2  # bad input, like argparse's own usage errors


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cantata", description="Turn a music catalog into an AI-indexed library."
    )
    parser.add_argument("--version", action="version", version=f"cantata {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="machine-readable output on stdout")
    common.add_argument("-q", "--quiet", action="store_true", help="no progress bars or summaries")
    common.add_argument("-v", "--verbose", action="count", default=0, help="more log messages")
    common.add_argument("--threads", type=_thread_count, metavar="N",
                        help="threads for torch, BLAS and OpenMP (default: the cores this "
                             "process may use that are idle; OMP_NUM_THREADS if set)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(sub, parents=[common])
    return parser


def _thread_count(text: str) -> int:
    """``--threads``: a whole number of at least one."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, got {text!r}")
    return int(text)


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse ``argv``; an unknown option is reported with its subcommand's own usage."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:
        _command_parser(parser, args).error(f"unrecognized arguments: {' '.join(extra)}")
    return args


def _command_parser(parser: argparse.ArgumentParser,
                    args: argparse.Namespace) -> argparse.ArgumentParser:
    """The innermost (sub)command parser that ``args`` went through."""
    while True:
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        chosen = getattr(args, subs[0].dest, None) if subs else None
        if chosen not in (subs[0].choices if subs else {}):
            return parser
        parser = subs[0].choices[chosen]


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    level = logging.WARNING - 10 * args.verbose if not args.quiet else logging.ERROR
    logging.basicConfig(level=max(level, logging.DEBUG),
                        format="cantata: %(levelname)s: %(message)s")
    threads.set_threads(args.threads)  # before any model loads
    out = Output(json_mode=args.json, quiet=args.quiet)
    try:
        return int(args.run(args, out) or 0)
    except CantataError as err:
        out.error(str(err))
        return EXIT_USAGE
    except OSError as err:  # a path the system refuses (name too long, permissions...)
        out.error(f"{err.filename}: {err.strerror}" if err.filename else str(err))
        return EXIT_USAGE
    except KeyboardInterrupt:
        out.error("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
