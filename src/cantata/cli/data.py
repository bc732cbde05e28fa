"""``cantata data synth|inspect``: make training material and look at it."""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

from rich.table import Table

from cantata.cli.output import Output
from cantata.data.records import Example
from cantata.errors import ConfigError
from cantata.threads import available_cores
from cantata.types import Waveform

LANE_ORDER = ("vocal", "speech", "accompaniment", "silence")


def add_parser(sub: Any, *, parents: list[argparse.ArgumentParser]) -> None:
    data = sub.add_parser("data", help="make and inspect training material")
    verbs = data.add_subparsers(dest="verb", required=True, metavar="VERB")
    synth = verbs.add_parser("synth", parents=parents,
                             help="synthesize songs, speech mixes or defective music",
                             description="Synthesize training material with exact stems and "
                                         "frame labels, or clean music with injected defects "
                                         "and their labels; resumes an interrupted run.")
    synth.add_argument("kind", choices=["speech-mix", "song", "defects", "noisy"])
    synth.add_argument("--hours", type=float, required=True, help="how much audio to make")
    synth.add_argument("--out", type=Path, required=True, help="output folder")
    synth.add_argument("--jobs", type=int, default=available_cores(),
                       help="worker processes (default: the cores this process may use)")
    synth.add_argument("--seed", type=int, default=0)
    synth.add_argument("--sample-rate", type=int,
                       help="default 22050; defects: each track's own rate")
    synth.add_argument("--example-s", type=float,
                       help="length of each example (default 30; defects: 10)")
    _add_defect_options(synth)
    _add_noisy_options(synth)
    real = synth.add_argument_group("real recordings beside the synthetic ones")
    real.add_argument("--real-speech", action="append", default=[], metavar="DIR",
                      help="folder of real speech (LibriSpeech-style or speaker folders)")
    real.add_argument("--real-instrumentals", action="append", default=[], metavar="DIR",
                      help="folder of vocal-free music, or a MIR-1K-style stem folder")
    real.add_argument("--real-vocals", action="append", default=[], metavar="DIR",
                      help="folder of isolated singing (MIR-1K-style stems)")
    real.add_argument("--p-real", type=float, default=0.3,
                      help="probability of a real recording for each part (default 0.3)")
    synth.set_defaults(run=run_synth)
    inspect = verbs.add_parser("inspect", parents=parents, help="totals, label balance, a plot",
                               description="Summarise a folder with a manifest.jsonl and draw "
                                           "one example: spectrogram with label lanes.")
    inspect.add_argument("folder", type=Path)
    inspect.add_argument("--example", help="id of the example to draw (default: the first)")
    inspect.add_argument("--png", type=Path,
                         help="where to write the plot (default: FOLDER/inspect.png)")
    inspect.set_defaults(run=run_inspect)


def _add_defect_options(synth: argparse.ArgumentParser) -> None:
    from cantata.data.labels import DEFECT_TYPES

    group = synth.add_argument_group("defects: clean music with injected defects")
    group.add_argument("--music", action="append", default=[], metavar="DIR",
                       help="clean music: 'debian' (the installed game soundtracks, the "
                            "default), a MIR-1K folder, a folder with a manifest.jsonl (e.g. "
                            "'synth song' output) or any folder of audio; repeatable")
    group.add_argument("--include-benchmark", action="store_true",
                       help="also use the detection benchmark's held-out soundtracks")
    group.add_argument("--p-clean", type=float, default=0.2,
                       help="share of clips left clean (default 0.2)")
    group.add_argument("--p-encoded", type=float, default=0.3,
                       help="share of clips whose clean music first goes through a "
                            "transparent MP3/AAC/Opus encode (default 0.3): encoded music "
                            "is not codec damage")
    group.add_argument("--max-defects", type=int, default=3,
                       help="a defective clip gets 1..N defects (default 3)")
    group.add_argument("--types", nargs="+", choices=DEFECT_TYPES, metavar="TYPE",
                       help=f"defect types to inject (default all: {' '.join(DEFECT_TYPES)})")
    group.add_argument("--phone-codecs", nargs="+", choices=["opus", "gsm"],
                       default=["opus", "gsm"], metavar="CODEC",
                       help="codecs of phone passages: opus (6 kbit/s), gsm (needs the ffmpeg "
                            "command with libgsm); default both")
    group.add_argument("--weak-labels", action="append", default=[], metavar="CSV",
                       help="your own recordings with weak labels (columns path,types; "
                            "types separated by ';' or '|'), listed in the manifest too")


def run_synth(args: argparse.Namespace, out: Output) -> int:
    from cantata.data.synth.factory import FactoryConfig, synthesize

    if args.hours <= 0 or args.jobs < 1:
        raise ConfigError("--hours must be > 0 and --jobs >= 1")
    if args.kind == "defects":
        return run_synth_defects(args, out)
    if args.kind == "noisy":
        return run_synth_noisy(args, out)
    if not 0 <= args.p_real <= 1:
        raise ConfigError(f"--p-real must be within 0..1, got {args.p_real}")
    args.example_s = 30.0 if args.example_s is None else args.example_s
    rate = 22050 if args.sample_rate is None else args.sample_rate
    config = FactoryConfig(sample_rate=rate, example_s=args.example_s,
                           real_speech=tuple(args.real_speech),
                           real_instrumentals=tuple(args.real_instrumentals),
                           real_vocals=tuple(args.real_vocals), p_real=args.p_real)
    total = max(1, -(-int(args.hours * 3600) // int(args.example_s)))
    with out.progress(f"synth {args.kind}", total=total, unit="examples") as advance:
        report = synthesize(args.kind, hours=args.hours, out_dir=args.out, jobs=args.jobs,
                            seed=args.seed, config=config, on_progress=lambda _: advance(1))
    return _show_synth(args, out, report)


def run_synth_defects(args: argparse.Namespace, out: Output) -> int:
    from cantata.data.labels import DEFECT_TYPES
    from cantata.data.synth.defect_clips import DefectSetConfig, synthesize_defects
    from cantata.data.synth.defects import InjectConfig

    args.example_s = 10.0 if args.example_s is None else args.example_s
    if args.example_s <= 0 or (args.sample_rate is not None and args.sample_rate <= 0):
        raise ConfigError("--example-s and --sample-rate must be > 0")
    if not 0 <= args.p_clean <= 1 or args.max_defects < 1:
        raise ConfigError("--p-clean must be within 0..1 and --max-defects >= 1")
    inject = InjectConfig(p_clean=args.p_clean, max_defects=args.max_defects,
                          types=tuple(args.types or DEFECT_TYPES),
                          phone_codecs=tuple(args.phone_codecs))
    config = DefectSetConfig(music=tuple(args.music or ["debian"]), example_s=args.example_s,
                             sample_rate=args.sample_rate,
                             include_benchmark=args.include_benchmark, inject=inject,
                             weak_labels=tuple(args.weak_labels), p_encoded=args.p_encoded)
    total = max(1, math.ceil(args.hours * 3600 / args.example_s))
    with out.progress("synth defects", total=total, unit="examples") as advance:
        report = synthesize_defects(hours=args.hours, out_dir=args.out, jobs=args.jobs,
                                    seed=args.seed, config=config,
                                    on_progress=lambda _: advance(1))
    return _show_synth(args, out, report)


def _add_noisy_options(synth: argparse.ArgumentParser) -> None:
    from cantata.data.synth.noisy import HELD_OUT_NOISE

    group = synth.add_argument_group("noisy: clean/noisy pairs for restoration (--music and "
                                     "--p-clean above apply too; default rate 48000)")
    group.add_argument("--speech", action="append", default=[], metavar="DIR",
                       help="clean speech: clean material too, and the talkers of babble")
    group.add_argument("--noise", action="append", default=[], metavar="DIR",
                       help="real noise recordings (a folder or a file); repeatable")
    group.add_argument("--hold-out-noise", nargs="*", default=list(HELD_OUT_NOISE),
                       metavar="NAME", help="real noise files (name without suffix) kept "
                                            f"out for testing (default: {HELD_OUT_NOISE[0]})")
    group.add_argument("--snr", nargs=2, type=float, default=[-5.0, 25.0],
                       metavar=("LOW", "HIGH"), help="music-to-noise ratio range in dB "
                                                      "(default -5 25)")


def run_synth_noisy(args: argparse.Namespace, out: Output) -> int:
    from cantata.data.synth.noisy import NoisySetConfig, synthesize_noisy

    args.example_s = 6.0 if args.example_s is None else args.example_s
    config = NoisySetConfig(music=tuple(args.music or ["debian"]), speech=tuple(args.speech),
                            noise=tuple(args.noise), hold_out=tuple(args.hold_out_noise),
                            example_s=args.example_s, p_clean=args.p_clean,
                            snr_db=(args.snr[0], args.snr[1]),
                            sample_rate=48000 if args.sample_rate is None else args.sample_rate)
    total = max(1, math.ceil(args.hours * 3600 / args.example_s))
    with out.progress("synth noisy", total=total, unit="examples") as advance:
        report = synthesize_noisy(hours=args.hours, out_dir=args.out, jobs=args.jobs,
                                  seed=args.seed, config=config,
                                  on_progress=lambda _: advance(1))
    return _show_synth(args, out, report)


def _show_synth(args: argparse.Namespace, out: Output, report: Any) -> int:
    """Print (or give as JSON) what a synth run made."""
    made_h = report.hours * report.n_made / report.n_examples
    summary = {"manifest": str(report.manifest), "examples": report.n_examples,
               "made": report.n_made, "hours": round(report.hours, 4),
               "wall_s": round(report.wall_s, 1), "cpu_s": round(report.cpu_s, 1),
               "hours_per_cpu_hour": round(made_h / (report.cpu_s / 3600), 1)
               if report.n_made and report.cpu_s > 0 else None}
    if out.json_mode:
        out.json(summary)
    elif not out.quiet:
        out.show(f"[bold]{report.n_examples}[/] {args.kind} examples ({report.hours:.2f} h) in "
                 f"{report.manifest.parent} — made {report.n_made} in {report.wall_s:.0f} s"
                 + (f", {summary['hours_per_cpu_hour']} h of audio per CPU-hour"
                    if summary["hours_per_cpu_hour"] else ""))
    return 0


def run_inspect(args: argparse.Namespace, out: Output) -> int:
    from cantata import audio
    from cantata.data.inspect import summarize
    from cantata.data.records import read_manifest
    from cantata.plot import plot_lanes

    examples = list(read_manifest(args.folder))
    if not examples:
        raise ConfigError(f"{args.folder}: the manifest lists no examples")
    summary = summarize(examples)
    wanted = args.example or examples[0].id
    chosen = next((ex for ex in examples if ex.id == wanted), None)
    if chosen is None:
        raise ConfigError(f"{args.folder}: no example with id {args.example!r}")
    present = {seg.label for seg in chosen.regions}
    labels = [lab for lab in LANE_ORDER if lab in present] + sorted(present - set(LANE_ORDER))
    png = args.png or Path(args.folder) / "inspect.png"
    wav = audio.load(chosen.audio) if chosen.audio else _sum_stems(chosen)
    plot_lanes(wav, chosen.regions, png, labels=labels, title=f"{chosen.id} ({chosen.source})")
    if out.json_mode:
        out.json({**summary.to_dict(), "plotted": chosen.id, "png": str(png)})
        return 0
    out.show(f"{args.folder}: {summary.n_examples} examples, {summary.hours:.2f} h, "
             f"{summary.n_groups} groups")
    table = Table()
    table.add_column("label")
    table.add_column("share of time", justify="right")
    for label, fraction in summary.label_fraction.items():
        table.add_row(label, f"{100 * fraction:.1f} %")
    out.show(table)
    out.show(f"sources: {', '.join(f'{k} ({v})' for k, v in summary.sources.items())}")
    out.show(f"plot of {chosen.id}: {png}")
    return 0


def _sum_stems(example: Example) -> Waveform:
    from cantata import audio

    stems = [audio.load(p) for p in example.stems.values()]
    if not stems:
        raise ConfigError(f"example {example.id} has neither audio nor stems")
    n = min(s.n_samples for s in stems)
    return Waveform(sum(s.samples[:, :n] for s in stems), stems[0].sample_rate)
