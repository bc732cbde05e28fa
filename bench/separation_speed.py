"""Separation speed, beside an Open-Unmix-sized reference network and the gated mode.

Usage:
    python bench/separation_speed.py [--model separator] [--gate-model singing]
                                     [--repeats 2] [--record docs/separation.md]

All on one 4-minute stereo 44.1 kHz mp3 (the shipped example song, looped), 2 torch
threads, best of ``--repeats``, in multiples of real time:

1. decoding alone (the floor of anything that reads mp3);
2. ``cantata separate`` with ``--model`` (decode + separate + write two 16-bit wav stems;
   with the window buffers kept, :func:`cantata.allocator.keep_window_buffers`, as the
   command does), the same with glibc's allocator defaults (what ran before), the same
   keeping all freed memory (:func:`cantata.allocator.keep_freed_memory`, an opt-in:
   faster, but the peak memory grows; see ``separation_memory.py``), and the same with the
   network's batch norm left as separate layers (what ran before
   :mod:`cantata.models.fusion` folded it into the convolutions);
3. an untrained Open-Unmix-sized network (3-layer BiLSTM, hidden 512, over 2049-bin
   magnitudes at 44.1 kHz, n_fft 4096, hop 1024, about 8.9 M parameters, with Open-Unmix's
   input and output affine layers): STFT + network + ISTFT on the decoded audio, one target
   (decoding, writing and Open-Unmix's other three targets and Wiener filter not counted);
4. ``cantata separate --wiener 1`` (one iteration of multichannel Wiener filtering);
5. ``cantata separate --gate`` on the song and on a 4-minute instrumental (the other
   example, looped), with the share of the duration it skipped.

glibc's allocator settings cannot be undone within a process, so the jobs run in three
fresh child processes, one per setting (this script again, with ``--part``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
from torch import nn

from _report import best_of, machine, markers, record
from cantata import audio
from cantata.allocator import keep_freed_memory, keep_window_buffers
from cantata.capabilities import model_path
from cantata.errors import ModelLoadError
from cantata.models.registry import load_checkpoint
from cantata.models.separator import debug_separator
from cantata.separate.api import Separator
from cantata.testing import write_compressed
from cantata.types import Waveform

MARK_BEGIN, MARK_END = markers("separation_speed")
EXAMPLES = Path(__file__).parents[1] / "examples"
SONG = "karissa-hobbs-lets-go-fishin-30s.ogg"
INSTRUMENTAL = "kevin-macleod-vibe-ace-20s.ogg"
DURATION_S = 240


def looped_mp3(example: str, out: Path, seconds: int = DURATION_S) -> Path:
    """A stereo 44.1 kHz mp3 of ``seconds`` made from a shipped example, looped."""
    wav = audio.load(EXAMPLES / example)
    loops = int(np.ceil(seconds * wav.sample_rate / wav.n_samples))
    samples = np.tile(wav.samples, (1, loops))[:, : seconds * wav.sample_rate]
    return write_compressed(out, Waveform(samples, wav.sample_rate))


def load_separator(model: str, **kwargs: object) -> tuple[Separator, str]:
    """The separator ``model``; the debug model, with a note, when it is not shipped yet."""
    try:
        return Separator.from_pretrained(model, **kwargs), model
    except ModelLoadError as err:
        if model != "separator":
            raise
        print(f"note: {err}\nnote: measuring the debug model instead", file=sys.stderr)
        return Separator.from_pretrained("debug", **kwargs), "debug"


def unfold_batch_norm(separator: Separator, model: str) -> None:
    """Run ``separator`` on its network as trained, batch norm as separate layers (as
    before :mod:`cantata.models.fusion`)."""
    net = debug_separator() if model == "debug" else load_checkpoint(
        model_path(model, "separate"))[0]
    separator.backend.model = net.eval()  # type: ignore[attr-defined]


class OpenUnmixLike(nn.Module):
    """An Open-Unmix-sized spectrogram model (one target), untrained: a speed reference.

    Shape: magnitude (batch, channels, bins, frames) -> same (the estimated target).
    """

    def __init__(self, *, n_bins: int = 2049, max_bin: int = 1487, n_channels: int = 2,
                 hidden: int = 512, n_layers: int = 3) -> None:
        super().__init__()
        self.max_bin, self.hidden = max_bin, hidden
        self.input_mean = nn.Parameter(torch.zeros(max_bin))
        self.input_scale = nn.Parameter(torch.ones(max_bin))
        self.fc1 = nn.Linear(max_bin * n_channels, hidden, bias=False)
        self.bn1 = nn.BatchNorm1d(hidden)
        self.lstm = nn.LSTM(hidden, hidden // 2, n_layers, bidirectional=True, dropout=0.4)
        self.fc2 = nn.Linear(hidden * 2, hidden, bias=False)
        self.bn2 = nn.BatchNorm1d(hidden)
        self.fc3 = nn.Linear(hidden, n_bins * n_channels, bias=False)
        self.bn3 = nn.BatchNorm1d(n_bins * n_channels)
        self.output_scale = nn.Parameter(torch.ones(n_bins))
        self.output_mean = nn.Parameter(torch.ones(n_bins))

    def forward(self, mag: torch.Tensor) -> torch.Tensor:
        batch, channels, bins, frames = mag.shape
        mix = mag.permute(3, 0, 1, 2)  # (frames, batch, channels, bins)
        x = (mix[..., : self.max_bin] + self.input_mean) * self.input_scale
        x = self.fc1(x.reshape(frames * batch, -1))  # (frames * batch, hidden)
        x = torch.tanh(self.bn1(x)).reshape(frames, batch, self.hidden)
        x = torch.cat([x, self.lstm(x)[0]], -1)  # (frames, batch, 2 * hidden)
        x = torch.relu(self.bn2(self.fc2(x.reshape(frames * batch, -1))))
        x = self.bn3(self.fc3(x)).reshape(frames, batch, channels, bins)
        x = torch.relu(x * self.output_scale + self.output_mean) * mix
        return x.permute(1, 2, 3, 0)  # (batch, channels, bins, frames)


def open_unmix_job(samples: np.ndarray) -> tuple[nn.Module, object]:
    """The reference model and a job: STFT -> network -> ISTFT with the mixture's phase."""
    model = OpenUnmixLike().eval()
    window = torch.hann_window(4096)
    x = torch.from_numpy(samples)  # (channels, time)

    def job() -> torch.Tensor:
        with torch.inference_mode():
            spec = torch.stft(x, 4096, 1024, window=window, return_complex=True)
            mag = model(spec.abs()[None])[0]  # (channels, bins, frames)
            vocals = torch.polar(mag, spec.angle())
            return torch.istft(vocals, 4096, 1024, window=window, length=x.shape[1])

    return model, job


def timings(part: str, model: str, gate_model: str, repeats: int) -> dict[str, float]:
    """Seconds per job in this process: ``part`` "window" keeps the window buffers, as
    ``cantata separate`` runs, and times every job; "glibc" keeps glibc's allocator
    defaults and "kept" keeps all freed memory (:mod:`cantata.allocator`), which users may
    opt into: both time the plain job only."""
    if part == "window":
        assert keep_window_buffers(), "keep_window_buffers did not apply (unset MALLOC_*?)"
    if part == "kept":
        assert keep_freed_memory(), "keep_freed_memory did not apply (unset MALLOC_*?)"
    torch.set_num_threads(2)
    separator, model = load_separator(model)
    times = {f"model:{model}": 0.0}
    with tempfile.TemporaryDirectory() as tmp:
        song = looped_mp3(SONG, Path(tmp) / "song.mp3")
        out = Path(tmp) / "stems"

        def separate(sep: Separator, path: Path) -> float:
            return sep.separate_to_files(path, out, overwrite=True).skipped_s

        times["plain"] = best_of(repeats, lambda: separate(separator, song))
        if part != "window":
            return times
        unfolded, _ = load_separator(model)
        unfold_batch_norm(unfolded, model)
        times["unfolded"] = best_of(repeats, lambda: separate(unfolded, song))
        filtered, _ = load_separator(model, wiener=1)
        times["wiener"] = best_of(repeats, lambda: separate(filtered, song))
        instrumental = looped_mp3(INSTRUMENTAL, Path(tmp) / "instrumental.mp3")
        times["decode"] = best_of(repeats, lambda: [b for b in audio.stream(song, block_s=10)])
        reference, job = open_unmix_job(audio.load(song).samples)
        times["umx"] = best_of(repeats, job)
        times["umx_params"] = sum(p.numel() for p in reference.parameters()) / 1e6
        gated, _ = load_separator(model, gate=gate_model)
        times["instrumental"] = best_of(repeats, lambda: separate(separator, instrumental))
        for name, path in (("song", song), ("instrumental", instrumental)):
            times[f"skipped_{name}"] = separate(gated, path)
            times[f"gate_{name}"] = best_of(repeats, lambda p=path: separate(gated, p))
    return times


def rows(model: str, gate_model: str, repeats: int) -> tuple[list[str], str]:
    """The table rows, and the model measured (debug when ``separator`` is not shipped);
    each allocator setting is measured in a fresh process."""
    t = {}
    for part in ("window", "glibc", "kept"):
        done = subprocess.run([sys.executable, __file__, "--part", part, "--model", model,
                               "--gate-model", gate_model, "--repeats", str(repeats)],
                              stdout=subprocess.PIPE, text=True, check=True)
        t[part] = json.loads(done.stdout.splitlines()[-1])
    default, glibc, kept = t["window"], t["glibc"], t["kept"]
    model = next(k for k in default if k.startswith("model:")).split(":", 1)[1]

    def speed(seconds: float) -> float:
        return DURATION_S / seconds

    results = [
        f"| decode only (mp3 -> 44.1 kHz stereo, streamed) | {speed(default['decode']):.0f}x | |",
        f"| `cantata separate --model {model}` (decode + separate + write 2 x 16-bit wav) | "
        f"**{speed(default['plain']):.1f}x** | |",
        f"| the same with glibc's allocator defaults (as before 2026-12-06) | "
        f"{speed(glibc['plain']):.1f}x | |",
        f"| the same keeping all freed memory (opt-in, `cantata.allocator`; more memory) | "
        f"{speed(kept['plain']):.1f}x | |",
        f"| the same with batch norm as separate layers (not folded into the convolutions) | "
        f"{speed(default['unfolded']):.1f}x | |",
        f"| `cantata separate --wiener 1` (the same + one iteration of multichannel Wiener "
        f"filtering) | {speed(default['wiener']):.1f}x | |",
        f"| Open-Unmix-sized network, untrained ({default['umx_params']:.1f} M parameters, "
        f"one target): STFT + network + ISTFT | {speed(default['umx']):.1f}x | |",
        f"| `cantata separate --gate` on the song ({gate_model} detector; "
        f"{100 * default['skipped_song'] / DURATION_S:.0f} % skipped) | "
        f"{speed(default['gate_song']):.1f}x | "
        f"{default['plain'] / default['gate_song']:.2f}x |",
        f"| `cantata separate` on the instrumental | {speed(default['instrumental']):.1f}x | |",
        f"| `cantata separate --gate` on the instrumental ({gate_model} detector; "
        f"{100 * default['skipped_instrumental'] / DURATION_S:.0f} % skipped) | "
        f"{speed(default['gate_instrumental']):.1f}x | "
        f"{default['instrumental'] / default['gate_instrumental']:.2f}x |",
    ]
    return results, model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="separator")
    parser.add_argument("--gate-model", default="singing")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--record", help="write the table into this markdown file")
    parser.add_argument("--part", choices=["window", "glibc", "kept"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.part:  # a child process of rows()
        print(json.dumps(timings(args.part, args.model, args.gate_model, args.repeats)))
        return
    table, model = rows(args.model, args.gate_model, args.repeats)
    section = "\n".join([
        MARK_BEGIN,
        f"### Speed ({dt.date.today()}, {machine()})",
        "",
        f"`python bench/separation_speed.py --model {model} --gate-model "
        f"{args.gate_model}`: a 4-minute stereo 44.1 kHz mp3, best of {args.repeats}, 2 torch "
        "threads, multiples of real time; each allocator setting in a fresh process.",
        "",
        "| job | speed | gate speed-up |",
        "|---|---:|---:|",
        *table,
        MARK_END,
    ])
    print(section)
    if args.record:
        record(args.record, "separation_speed", section)


if __name__ == "__main__":
    main()
