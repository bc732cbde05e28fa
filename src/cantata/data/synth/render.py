"""Arrangement to audio: a Standard MIDI File (mido) played by the FluidSynth CLI.

FluidSynth runs as a subprocess in fast-render mode with its own reverb and chorus
off (our effects come after), loading only the soundfont samples the piece uses, and
writes raw little-endian float32 stereo, which is read straight into an array.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from cantata.data.synth.arrangement import Arrangement, Track
from cantata.errors import CantataError
from cantata.types import Waveform

log = logging.getLogger(__name__)

DEFAULT_SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
TICKS_PER_BEAT = 480
GAIN = 0.4
_SETUP_HINT = "scripts/setup.sh train installs it"


def _ticks(seconds: float, tempo_bpm: float) -> int:
    return max(0, round(seconds * tempo_bpm / 60 * TICKS_PER_BEAT))


def _note_spans(track: Track, tempo_bpm: float) -> list[tuple[int, int, int, int]]:
    """(on tick, off tick, key, velocity) per note; a repeated key cuts the earlier note."""
    spans = []
    sounding: dict[int, int] = {}
    for note in sorted(track.notes, key=lambda n: n.start_s):
        key = int(np.clip(round(note.pitch_midi), 0, 127))
        on = _ticks(note.start_s, tempo_bpm)
        off = max(on + 1, _ticks(note.end_s, tempo_bpm))
        if key in sounding and spans[sounding[key]][1] > on:
            a, _, k, v = spans[sounding[key]]
            spans[sounding[key]] = (a, max(a + 1, on), k, v)
        sounding[key] = len(spans)
        spans.append((on, off, key, int(np.clip(round(note.velocity * 127), 1, 127))))
    return spans


def _track_messages(track: Track, *, tempo_bpm: float, end_tick: int) -> list:
    """The messages of one track in order, with delta times."""
    import mido

    ch = track.channel
    timed = [(0, 0, mido.Message("program_change", channel=ch, program=track.program)),
             (0, 0, mido.Message("control_change", channel=ch, control=7,
                                 value=round(track.volume * 127))),
             (0, 0, mido.Message("control_change", channel=ch, control=10,
                                 value=int(np.clip(round(64 + track.pan * 63), 0, 127))))]
    for on, off, key, velocity in _note_spans(track, tempo_bpm):
        timed.append((on, 2, mido.Message("note_on", channel=ch, note=key, velocity=velocity)))
        timed.append((off, 1, mido.Message("note_off", channel=ch, note=key)))
    timed.append((end_tick, 3, mido.Message("control_change", channel=ch, control=120, value=0)))
    timed.sort(key=lambda m: (m[0], m[1]))
    messages, now = [], 0
    for tick, _, message in timed:
        messages.append(message.copy(time=tick - now))
        now = tick
    return messages


def write_midi(arrangement: Arrangement, path: Path) -> None:
    """Save ``arrangement``'s tracks (not its melody) as a type-1 Standard MIDI File."""
    import mido

    mid = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT)
    num, den = (int(x) for x in arrangement.time_signature.split("/"))
    conductor = mido.MidiTrack([
        mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(arrangement.tempo_bpm)),
        mido.MetaMessage("time_signature", numerator=num, denominator=den)])
    mid.tracks.append(conductor)
    end_tick = _ticks(arrangement.duration_s, arrangement.tempo_bpm) + 1
    for track in arrangement.tracks:
        mid.tracks.append(mido.MidiTrack(_track_messages(track, tempo_bpm=arrangement.tempo_bpm,
                                                         end_tick=end_tick)))
    mid.save(path)


def find_tools(soundfont: str | Path | None) -> tuple[str, Path]:
    """The fluidsynth executable and the soundfont.

    Raises:
        CantataError: either is missing; the message names the Debian package.
    """
    exe = shutil.which("fluidsynth")
    if exe is None:
        raise CantataError("fluidsynth is not installed: install the Debian package "
                           f"'fluidsynth' ({_SETUP_HINT})")
    font = Path(soundfont) if soundfont is not None else DEFAULT_SOUNDFONT
    if not font.is_file():
        hint = (f"install the Debian package 'fluid-soundfont-gm' ({_SETUP_HINT})"
                if soundfont is None else "check the path")
        raise CantataError(f"soundfont {font} not found: {hint}")
    return exe, font


def fluidsynth(midi: Path, *, sample_rate: int, soundfont: str | Path | None,
               out_dir: Path) -> np.ndarray:
    """Render a MIDI file with FluidSynth: float32 array (2, time), dry, unnormalised."""
    exe, font = find_tools(soundfont)
    raw = out_dir / "render.f32"
    cmd = [exe, "-ni", "-q", "-R", "0", "-C", "0", "-g", str(GAIN), "-r", str(sample_rate),
           "-O", "float", "-T", "raw", "-E", "little", "-o", "synth.lock-memory=0",
           "-o", "synth.dynamic-sample-loading=1", "-o", "synth.polyphony=128",
           "-F", str(raw), str(font), str(midi)]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0 or not raw.is_file():
        raise CantataError(f"fluidsynth failed (exit {result.returncode}): "
                           f"{result.stderr.strip()[-500:]}")
    if result.stderr.strip():
        log.debug("fluidsynth: %s", result.stderr.strip()[-500:])
    samples = np.fromfile(raw, dtype="<f4")
    return samples[: len(samples) // 2 * 2].reshape(-1, 2).T.astype(np.float32)


def render_dry(arrangement: Arrangement, *, sample_rate: int,
               soundfont: str | Path | None) -> Waveform:
    """The arrangement's tracks through FluidSynth: stereo, exactly ``duration_s`` long."""
    find_tools(soundfont)
    n = round(arrangement.duration_s * sample_rate)
    with tempfile.TemporaryDirectory(prefix="cantata-fluidsynth-") as tmp:
        midi = Path(tmp) / "song.mid"
        write_midi(arrangement, midi)
        audio = fluidsynth(midi, sample_rate=sample_rate, soundfont=soundfont, out_dir=Path(tmp))
    out = np.zeros((2, n), np.float32)
    out[:, : min(n, audio.shape[1])] = audio[:, :n]
    return Waveform(out, sample_rate)

