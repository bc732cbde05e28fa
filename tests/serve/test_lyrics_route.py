"""``POST /v1/lyrics``: time-stamped lyrics of an uploaded song."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
import soundfile as sf
from conftest import running
from fastapi.testclient import TestClient

from cantata import audio
from cantata.lyrics import LyricsAligner
from cantata.serve import ServeConfig, create_app
from cantata.serve.batching import BatchingConfig
from cantata.testing import noise

AUTH = {"Authorization": "Bearer s3cret"}
LYRICS = "[ar: someone]\nHello there my friend\n\n[Chorus]\nsing it again\n"


def config(**kw) -> ServeConfig:
    return ServeConfig(detect_model="debug-multilabel", separate_model="debug",
                       token="s3cret", **kw)


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app(config()), headers=AUTH, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture(scope="module")
def song(tmp_path_factory):
    """A 3 s stereo file."""
    path = tmp_path_factory.mktemp("lyrics") / "song.wav"
    sf.write(str(path), noise(duration_s=3.0, sample_rate=22050, n_channels=2, seed=5)
             .samples.T * 0.3, 22050)
    return path


def form(song, lyrics=LYRICS, **fields):
    return {"files": {"file": ("song.wav", song.read_bytes(), "audio/wav")},
            "data": {"lyrics": lyrics, **fields}}


def test_lyrics_answers_the_json_of_the_cli(client, song):
    response = client.post("/v1/lyrics", **form(song, language="en"))
    assert response.status_code == 200, response.text
    body = response.json()
    aligner = LyricsAligner.from_pretrained(separator="debug", detector="debug-multilabel")
    expected = aligner.align(audio.load(song), LYRICS, language="en").to_dict()
    assert body == {**expected, "file": "song.wav"}  # what `cantata lyrics align` writes
    assert body["language"] == "en"
    assert [line["text"] for line in body["lines"]] == ["Hello there my friend",
                                                        "sing it again"]
    words = [w for line in body["lines"] for w in line["words"]]
    assert [w["text"] for w in words] == "Hello there my friend sing it again".split()
    assert all(0 <= w["start"] <= w["end"] <= 3.0 for w in words)
    assert [w["start"] for w in words] == sorted(w["start"] for w in words)


def test_lyrics_as_a_file_field_without_language(client, song):
    response = client.post("/v1/lyrics", files={
        "file": ("take.wav", song.read_bytes(), "audio/wav"),
        "lyrics": ("song.txt", "\ufeffone two\nthree".encode(), "text/plain")})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["file"] == "take.wav" and body["language"] is None
    assert [len(line["words"]) for line in body["lines"]] == [2, 1]


@pytest.mark.parametrize(("kw", "status", "says"), [
    ({"lyrics": "  \n[Chorus]\n"}, 422, "no words"),
    ({"lyrics": "la la", "language": "not a language"}, 422, "ISO 639-1"),
])
def test_lyrics_refuses_bad_fields(client, song, kw, status, says):
    lyrics = kw.pop("lyrics")
    response = client.post("/v1/lyrics", **form(song, lyrics, **kw))
    assert response.status_code == status and says in response.json()["detail"]


def test_lyrics_refuses_a_missing_part_or_bad_audio(client, song):
    no_lyrics = client.post("/v1/lyrics", files={"file": ("song.wav", song.read_bytes(),
                                                          "audio/wav")})
    assert no_lyrics.status_code == 422 and "'lyrics'" in no_lyrics.json()["detail"]
    no_file = client.post("/v1/lyrics", data={"lyrics": LYRICS},
                          files={"other": ("x.txt", b"x", "text/plain")})
    assert no_file.status_code == 422 and "'file'" in no_file.json()["detail"]
    raw = client.post("/v1/lyrics", content=song.read_bytes(),
                      headers={"Content-Type": "audio/wav"})
    assert raw.status_code == 415 and "multipart" in raw.json()["detail"]
    bad = client.post("/v1/lyrics", files={"file": ("song.mp3", b"ID3" + b"\0" * 500,
                                                    "audio/mpeg")}, data={"lyrics": LYRICS})
    assert bad.status_code == 422 and "song.mp3" in bad.json()["detail"]
    text = client.post("/v1/lyrics", files={"file": ("a.txt", b"words", "text/plain")},
                       data={"lyrics": LYRICS})
    assert text.status_code == 415
    not_utf8 = client.post("/v1/lyrics", files={
        "file": ("song.wav", song.read_bytes(), "audio/wav"),
        "lyrics": ("song.txt", "Grüße".encode("latin-1"), "text/plain")})
    assert not_utf8.status_code == 422 and "UTF-8" in not_utf8.json()["detail"]
    assert TestClient(client.app).post("/v1/lyrics", **form(song)).status_code == 401


def test_lyrics_upload_limits(song):
    small = config(max_upload_mb=0.01)
    with TestClient(create_app(small), headers=AUTH) as c:
        assert c.post("/v1/lyrics", **form(song)).status_code == 413
    short = config(max_duration_s=1.0)
    with TestClient(create_app(short), headers=AUTH) as c:
        too_long = c.post("/v1/lyrics", **form(song))
    assert too_long.status_code == 413 and "song.wav" in too_long.json()["detail"]


def test_a_full_lyrics_queue_answers_503(song, monkeypatch):
    original = LyricsAligner.align

    def slow(self, *args, **kw):
        time.sleep(0.3)
        return original(self, *args, **kw)

    monkeypatch.setattr(LyricsAligner, "align", slow)

    async def flood(url):
        async with httpx.AsyncClient(base_url=url, timeout=60, headers=AUTH) as c:
            return await asyncio.gather(*(c.post("/v1/lyrics", **form(song))
                                          for _ in range(5)))

    busy = config(batching=BatchingConfig(max_batch_size=1, max_wait_ms=0, max_queue=1))
    with running(busy) as url:
        responses = asyncio.run(flood(url))
    codes = sorted(r.status_code for r in responses)
    assert 200 in codes and 503 in codes
    refused = next(r for r in responses if r.status_code == 503)
    assert refused.headers["retry-after"] == "1" and "busy" in refused.json()["detail"]
