"""``cantata serve``: the HTTP API with dynamic batching, and the web page of the catalog."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from cantata.cli.output import Output
from cantata.cli.scan import DEFAULT_DB

TOKEN_ENV = "CANTATA_TOKEN"


def add_parser(sub: Any, *, parents: list[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("serve", parents=parents, help="serve the API and the catalog's web page",
                       description="Serve singing detection and separation over HTTP (with "
                                   "dynamic batching of concurrent requests), the catalog's "
                                   "tracks, audio and stems, Prometheus metrics, and a web page "
                                   "to browse and listen. OpenAPI docs at /docs.")
    p.add_argument("--db", type=Path, default=Path(DEFAULT_DB),
                   help=f"the catalog to serve (default {DEFAULT_DB}; made by cantata scan)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1: this machine only; 0.0.0.0 for "
                        "all interfaces — then set a token)")
    p.add_argument("--port", type=int, default=8000)
    secret = p.add_mutually_exclusive_group()
    secret.add_argument("--token", default=os.environ.get(TOKEN_ENV),
                        help=f"bearer token required on every route but /healthz (default: "
                             f"${TOKEN_ENV}; none: open). Other users see it in ps: prefer "
                             f"--token-file or ${TOKEN_ENV}. The page takes it once as ?token=")
    secret.add_argument("--token-file", type=Path, metavar="PATH",
                        help="read the token from this file's first line")
    p.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                   help="without a token only requests to localhost or --host are answered "
                        "(421 otherwise); also answer this name (repeatable; '*': any)")
    p.add_argument("--detect-model", default="singing", metavar="NAME|CKPT")
    p.add_argument("--separate-model", default="separator", metavar="NAME|CKPT")
    p.add_argument("--defects-model", metavar="NAME|CKPT",
                   help="the model behind /v1/defects (default: the shipped defect detector; "
                        "while none ships, /v1/defects is served only when this is given)")
    p.add_argument("--tag-model", metavar="NAME|CKPT",
                   help="the tagger behind /v1/tag (default: the shipped tagger; while none "
                        "ships, /v1/tag is served only when this is given)")
    p.add_argument("--restore-model", metavar="NAME|CKPT",
                   help="the restorer behind /v1/restore (default: the shipped restorer; "
                        "while none ships, /v1/restore is served only when this is given)")
    p.add_argument("--max-batch-size", type=int, default=32,
                   help="most /v1/detect requests in one forward pass (default 32)")
    p.add_argument("--max-wait-ms", type=float, default=10.0,
                   help="longest a request waits for others to batch with (default 10)")
    p.add_argument("--max-queue", type=int, default=256,
                   help="requests waiting beyond this get 503 + Retry-After (default 256)")
    p.add_argument("--no-batching", action="store_true",
                   help="one request per forward pass (same as --max-batch-size 1)")
    p.add_argument("--max-upload-mb", type=float, default=100.0)
    p.add_argument("--body-timeout", type=float, default=30.0, metavar="SECONDS",
                   help="an upload that sends nothing for this long gets 408 (default 30)")
    p.add_argument("--max-duration", type=float, default=600.0, metavar="SECONDS",
                   help="longest audio accepted by /v1/detect and /v1/separate (default 600)")
    p.add_argument("--timeout", type=float, default=120.0, metavar="SECONDS",
                   help="a request without its result by then gets 504 (default 120)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, out: Output) -> int:
    import uvicorn

    from cantata.allocator import keep_window_buffers
    from cantata.errors import ConfigError
    from cantata.serve import BatchingConfig, ServeConfig, create_app

    try:
        batching = BatchingConfig(max_batch_size=1 if args.no_batching else args.max_batch_size,
                                  max_wait_ms=args.max_wait_ms, max_queue=args.max_queue)
        config = ServeConfig(db=args.db, token=_token(args), host=args.host,
                             port=args.port or None,  # 0: a free port, any
                             allowed_hosts=tuple(args.allow_host),
                             detect_model=args.detect_model, separate_model=args.separate_model,
                             defects_model=args.defects_model, tag_model=args.tag_model,
                             restore_model=args.restore_model,
                             batching=batching, max_upload_mb=args.max_upload_mb,
                             body_timeout_s=args.body_timeout, max_duration_s=args.max_duration,
                             timeout_s=args.timeout)
    except ValueError as err:
        raise ConfigError(str(err)) from err
    keep_window_buffers()  # /v1/separate runs window after window, as `cantata separate`
    app = create_app(config)
    if not out.quiet:
        shown = f"http://{args.host}:{args.port}/"
        out.err_console.print(f"cantata: serving {args.db} on {shown} (API docs: {shown}docs)"
                              + ("; token required" if config.token else ""))
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning" if out.quiet else "info",
                access_log=args.verbose > 0)
    return 0


def _token(args: argparse.Namespace) -> str | None:
    """The token: ``--token-file``'s first line, else ``--token`` or $CANTATA_TOKEN."""
    from cantata.errors import ConfigError

    if args.token_file is None:
        return args.token or None
    try:
        lines = args.token_file.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{args.token_file}: cannot read the token: "
                          f"{getattr(err, 'strerror', None) or err}") from err
    if not lines or not lines[0].strip():
        raise ConfigError(f"{args.token_file}: the token file's first line is empty")
    return lines[0].strip()
