"""The ``cantata`` command. Only this package prints; the library logs."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

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
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(sub, parents=[common])
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    level = logging.WARNING - 10 * args.verbose if not args.quiet else logging.ERROR
    logging.basicConfig(level=max(level, logging.DEBUG),
                        format="cantata: %(levelname)s: %(message)s")
    out = Output(json_mode=args.json, quiet=args.quiet)
    try:
        return int(args.run(args, out) or 0)
    except CantataError as err:
        out.error(str(err))
        return EXIT_USAGE
    except KeyboardInterrupt:
        out.error("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
