"""A real server on loopback, over a small scanned catalog, with the debug models."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager

import pytest
import soundfile as sf
import uvicorn

from cantata.analyzers import resolve
from cantata.catalog import Catalog
from cantata.scan import scan
from cantata.serve import ServeConfig, create_app
from cantata.testing import noise


@contextmanager
def running(config: ServeConfig):
    """Serve ``create_app(config)`` on a free loopback port; yields its base URL."""
    server = uvicorn.Server(uvicorn.Config(create_app(config), host="127.0.0.1", port=0,
                                           log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture(scope="session")
def catalog_db(tmp_path_factory):
    """A catalog of three tracks (one stereo 44.1 kHz, one mono, one corrupt), scanned
    with the debug detector and separator."""
    root = tmp_path_factory.mktemp("library")
    for name, rate, channels, seconds in (("stereo song.wav", 44100, 2, 3.0),
                                          ("mono.flac", 16000, 1, 2.0)):
        wav = noise(duration_s=seconds, sample_rate=rate, n_channels=channels, seed=channels)
        sf.write(str(root / name), wav.samples.T, rate)
    (root / "broken.mp3").write_bytes(b"not audio at all" * 20)
    db = root.parent / "catalog.db"
    with Catalog(db) as catalog:
        scan(root, catalog, resolve("detect=debug-multilabel,separate=debug"))
    return db


def debug_config(db=None, **kw) -> ServeConfig:
    return ServeConfig(db=db, detect_model="debug-multilabel", separate_model="debug", **kw)


@pytest.fixture(scope="session")
def server(catalog_db):
    with running(debug_config(catalog_db, token="s3cret")) as url:
        yield url


@pytest.fixture
def wav_bytes(tmp_path):
    """Bytes of a 1.5 s stereo wav file."""
    path = tmp_path / "clip.wav"
    sf.write(str(path), noise(duration_s=1.5, sample_rate=22050, n_channels=2).samples.T, 22050)
    return path.read_bytes()
