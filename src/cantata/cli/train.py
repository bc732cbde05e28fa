"""``cantata train speech-detector|singing-detector|separator|embedder|continuer``: train a
model, keep the best checkpoint; ``cantata train average``: average checkpoints."""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cantata.cli.output import Output
from cantata.errors import ConfigError


def add_parser(sub: Any, *, parents: list[argparse.ArgumentParser]) -> None:
    train = sub.add_parser("train", help="train a model")
    models = train.add_subparsers(dest="model", required=True, metavar="MODEL")
    speech = models.add_parser("speech-detector", parents=parents,
                               help="the source task: speech in speech + music mixes")
    speech.add_argument("--data", type=Path, action="append", required=True, metavar="DIR",
                        help="speech-mix folder with a manifest (cantata data synth speech-mix)")
    _add_common(speech)
    speech.set_defaults(run=run_speech)
    singing = models.add_parser("singing-detector", parents=parents,
                                help="the target task: singing in songs, with transfer",
                                description="Train the CRNN singing detector on a small labelled "
                                            "song set, moving conv layers from a speech detector.")
    singing.add_argument("--init", type=Path, metavar="SPEECH_CKPT",
                         help="speech-detector checkpoint to transfer from")
    singing.add_argument("--layers", default="all",
                         help="bottom conv layers to move: 1, 2, ... or all (default)")
    singing.add_argument("--mode", choices=["fixed", "finetune", "none"], default="none",
                         help="moved layers frozen, fine-tuned, or no transfer (default)")
    singing.add_argument("--task", choices=["binary", "multilabel"], default="binary")
    singing.add_argument("--causal", action="store_true", help="the live (causal) variant")
    _add_song_data(singing)
    _add_common(singing)
    singing.set_defaults(run=run_singing)
    _add_separator(models, parents)
    _add_embedder(models, parents)
    _add_continuer(models, parents)
    _add_average(models, parents)


def _add_song_data(p: argparse.ArgumentParser) -> None:
    """The song sources both singing detection and separation train on."""
    p.add_argument("--mir1k", type=Path, metavar="DIR", help="MIR-1K-style folder")
    p.add_argument("--train-singers", help="comma-separated MIR-1K singers to train on")
    p.add_argument("--songs", type=Path, action="append", default=[], metavar="DIR",
                   help="songs with stems and a manifest (cantata data synth song)")
    p.add_argument("--instrumentals", action="append", default=[], metavar="DIR",
                   help="vocal-free music folder, or 'debian' for the installed Debian "
                        "soundtracks (the detection benchmark's test tracks are always left out)")


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", type=Path, required=True, help="run folder (resumed if it exists)")
    p.add_argument("--steps", type=int, default=1500)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--eval-every", type=int, default=250)
    p.add_argument("--patience", type=int, default=4)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=2, help="data-loading processes")
    p.add_argument("--keep-checkpoints", action="store_true",
                   help="also keep every evaluation's weights as OUT/steps/step-<step>.pt "
                        "(for cantata train average)")


def _train_config(args: argparse.Namespace) -> Any:
    """The loop's settings; also readies this process for training (kept freed memory)."""
    from cantata.allocator import keep_freed_memory
    from cantata.train.config import TrainConfig

    keep_freed_memory()
    return TrainConfig(max_steps=args.steps, batch_size=args.batch_size, lr=args.lr,
                       eval_every=args.eval_every, patience=args.patience, seed=args.seed,
                       num_workers=args.workers, lr_schedule="cosine",
                       keep_checkpoints=args.keep_checkpoints)


def run_speech(args: argparse.Namespace, out: Output) -> int:
    from cantata.train.recipes import train_speech_detector

    with _progress(out, args.steps) as on_event:
        result = train_speech_detector(args.data, out_dir=args.out, train=_train_config(args),
                                       command=_command(), on_progress=on_event)
    return _report(out, result)


def run_singing(args: argparse.Namespace, out: Output) -> int:
    from cantata.train.recipes import train_singing_detector

    layers = args.layers if args.layers == "all" else _int(args.layers, "--layers")
    singers = args.train_singers.split(",") if args.train_singers else None
    with _progress(out, args.steps) as on_event:
        result = train_singing_detector(
            out_dir=args.out, train=_train_config(args), task=args.task, causal=args.causal,
            mir1k=args.mir1k, songs=args.songs, instrumentals=args.instrumentals,
            train_singers=singers, init=args.init,
            layers=layers, mode=args.mode, command=_command(), on_progress=on_event)
    return _report(out, result)


def _command() -> str:
    return "cantata " + " ".join(shlex.quote(a) for a in sys.argv[1:])


def _int(value: str, flag: str) -> int:
    try:
        return int(value)
    except ValueError as err:
        raise ConfigError(f"{flag} takes a number or 'all', got {value!r}") from err


def _detection_line(m: dict[str, Any]) -> str:
    return (f"balanced accuracy {m.get('balanced_accuracy', 0):.3f} "
            f"(threshold {m.get('threshold', 0.5):.2f}), F1 {m.get('f1', 0):.3f}, "
            f"loss {m.get('loss', 0):.3f}")


def _separation_line(m: dict[str, Any]) -> str:
    return (f"SI-SDR vocals {m.get('val_si_sdr_vocals', 0):.2f} dB, "
            f"accompaniment {m.get('val_si_sdr_accompaniment', 0):.2f} dB, "
            f"loss {m.get('val_loss', 0):.3f}")


@contextmanager
def _progress(out: Output, steps: int, describe: Callable[[dict[str, Any]], str] = _detection_line,
              ) -> Iterator[Callable[[dict[str, Any]], None]]:
    """A progress bar over steps fed by the loop's events; each evaluation prints a line
    (``describe`` of its metrics)."""
    done = 0
    with out.progress("training", total=steps, unit="steps") as advance:

        def on_event(event: dict[str, Any]) -> None:
            nonlocal done
            step = int(event.get("step", done))
            if step > done:
                advance(step - done)
                done = step
            if event.get("event") == "eval" and not out.quiet and not out.json_mode:
                out.err_console.print(f"step {step}: {describe(event.get('metrics', {}))}")

        yield on_event


def _report(out: Output, result: Any, metric: str = "balanced accuracy {:.3f}") -> int:
    summary = {"best": str(result.best_path), "best_metric": round(result.best_metric, 4),
               "best_step": result.best_step, "steps": result.steps_done,
               "stopped_early": result.stopped_early}
    if out.json_mode:
        out.json(summary)
    else:
        out.show(f"best checkpoint {result.best_path} (step {result.best_step}, "
                 f"{metric.format(result.best_metric)} on validation)")
    return 0


def _add_separator(models: Any, parents: list[argparse.ArgumentParser]) -> None:
    p = models.add_parser("separator", parents=parents,
                          help="vocal / accompaniment separation (mask U-Net)",
                          description="Train the mask U-Net separator on vocals mixed over "
                                      "accompaniment on the fly.")
    _add_song_data(p)
    p.add_argument("--musdb", type=Path, metavar="DIR",
                   help="MUSDB18-style folder (only its train tracks are used)")
    p.add_argument("--vocals", type=Path, action="append", default=[], metavar="DIR",
                   help="folder of vocal-only recordings (a cappella stems, clean speech), "
                        "mixed over the other sources' accompaniment; repeatable")
    p.add_argument("--pitch-tempo", type=float, metavar="P",
                   help="probability that a training stem is shifted by up to +-2 semitones "
                        "and +-10%% tempo (default 0.1)")
    p.add_argument("--reverb", type=float, default=0.0, metavar="P",
                   help="probability that the training vocals are played in a synthetic room "
                        "(RT60 0.3-2 s), the wet vocals being the target (default 0)")
    p.add_argument("--test-singers", metavar="LIST",
                   help="comma-separated MIR-1K singers held out for testing, never read "
                        "(default abjones,bobon,heycat; name fewer to train on more)")
    p.add_argument("--mask", choices=["irm", "psm", "cirm"], default="irm")
    p.add_argument("--loss", default="l1", help="l1 (default), mse, mrstft, sisdr, winsdr, or a "
                                                "sum such as l1+sisdr")
    p.add_argument("--channels", type=int, choices=[1, 2], default=1,
                   help="train on mono (default) or stereo mixes")
    p.add_argument("--init", type=Path, metavar="SEPARATOR_CKPT",
                   help="start from a trained separator (its architecture and weights)")
    p.add_argument("--refine-channels", type=int, metavar="N",
                   help="width of the full-resolution mask refinement (0: none); with "
                        "--init, a wider one than the checkpoint's grows it, starting from "
                        "what it computes")
    p.add_argument("--context-units", type=int, metavar="N",
                   help="units of the bottleneck's bidirectional GRU along time (0: none)")
    p.add_argument("--bottleneck-blocks", type=int, metavar="N",
                   help="residual blocks deepening the bottleneck (0: none); with --init, "
                        "new ones start as the identity")
    p.add_argument("--decoder-blocks", type=int, metavar="N",
                   help="residual blocks after each decoder level (0: none); with --init, "
                        "new ones start as the identity")
    p.add_argument("--phase-steps", type=int, metavar="N",
                   help="consistency steps for the vocals' phase, trained through and kept "
                        "with the model (default: the --init checkpoint's, else 0)")
    p.add_argument("--fold", type=_fold, metavar="BINSxFRAMES",
                   help="what the first level folds into channels (default 4x2; 2x2 keeps "
                        "twice the frequency detail for about 1.4x the time)")
    _add_common(p)
    p.set_defaults(run=run_separator)


def _fold(text: str) -> tuple[int, int]:
    """``"2x2"`` -> (2, 2)."""
    try:
        bins, frames = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected BINSxFRAMES such as 2x2, got {text!r}") from None
    if bins < 1 or frames < 1:
        raise argparse.ArgumentTypeError(f"fold sizes must be positive, got {text!r}")
    return bins, frames


def run_separator(args: argparse.Namespace, out: Output) -> int:
    from cantata.train.recipes import TEST_SINGERS, train_separator

    singers = args.train_singers.split(",") if args.train_singers else None
    held_out = TEST_SINGERS if args.test_singers is None else \
        [s for s in args.test_singers.split(",") if s]
    with _progress(out, args.steps, _separation_line) as on_event:
        result = train_separator(
            out_dir=args.out, train=_train_config(args), mir1k=args.mir1k, songs=args.songs,
            instrumentals=args.instrumentals, musdb=args.musdb, vocals=args.vocals,
            p_pitch_tempo=args.pitch_tempo, p_reverb=args.reverb, mask=args.mask, loss=args.loss,
            n_channels=args.channels, train_singers=singers, test_singers=held_out,
            init=args.init, refine_channels=args.refine_channels,
            context_units=args.context_units,
            bottleneck_blocks=args.bottleneck_blocks, decoder_blocks=args.decoder_blocks,
            phase_steps=args.phase_steps, first_fold=args.fold, command=_command(),
            on_progress=on_event)
    return _report(out, result, "vocals SI-SDR {:.2f} dB")


def _add_music(p: argparse.ArgumentParser) -> None:
    """The music the embedder and the continuer learn from."""
    p.add_argument("--mir1k", type=Path, metavar="DIR", help="MIR-1K-style folder")
    p.add_argument("--instrumentals", action="append", default=[], metavar="DIR",
                   help="vocal-free music folder, or 'debian' for the installed Debian "
                        "game soundtracks")
    p.add_argument("--songs", type=Path, action="append", default=[], metavar="DIR",
                   help="synthetic songs with a manifest (cantata data synth song)")


def _require_music(args: argparse.Namespace) -> None:
    if not (args.mir1k or args.instrumentals or args.songs):
        raise ConfigError("no music: give --mir1k DIR, --instrumentals DIR|debian and/or "
                          "--songs DIR")


def _add_embedder(models: Any, parents: list[argparse.ArgumentParser]) -> None:
    p = models.add_parser(
        "embedder", parents=parents, help="music embeddings (self-supervised on adjacency)",
        description="Train the music embedder on adjacent segments of tracks: adversarial "
                    "DSSM or adversarial adjacency, with or without the N(0, I) prior.")
    p.add_argument("--system", choices=["dssm", "adjacency"], default="dssm",
                   help="training system (default dssm)")
    p.add_argument("--no-prior", dest="prior", action="store_false",
                   help="train without the adversarial N(0, I) prior")
    _add_music(p)
    p.add_argument("--feature", choices=["logmel", "mfcc", "chroma"],
                   help="input representation (default logmel)")
    p.add_argument("--cache", type=Path, metavar="DIR",
                   help="folder caching the tracks' features across runs")
    p.add_argument("--dim", type=int, help="embedding size (default 64)")
    p.add_argument("--segment-s", type=float, help="seconds per embedding (default 3)")
    p.add_argument("--similarity", choices=["euclidean", "cosine"], default="euclidean",
                   help="DSSM similarity and validation ranking (default euclidean)")
    p.add_argument("--temperature", type=float,
                   help="DSSM temperature (default 2 for euclidean, 0.1 for cosine)")
    p.add_argument("--gan-lr-scale", type=float, default=5.0,
                   help="learning-rate multiplier of the prior discriminator (default 5)")
    p.add_argument("--generator-lr-scale", type=float,
                   help="learning-rate multiplier of the embedder's updates in the GAN "
                        "phase (default 0.1)")
    p.add_argument("--degrade", type=float, default=0.0, metavar="P",
                   help="probability that a training anchor is heard as re-recorded by a "
                        "phone in a room, for robust query by example (logmel; default 0)")
    _add_common(p)
    p.set_defaults(run=run_embedder, batch_size=32, patience=0)


def _embedding_line(m: dict[str, Any]) -> str:
    line = (f"MRR {m.get('val_mrr', 0):.3f}, recall@1 {m.get('val_recall1', 0):.3f}, "
            f"|z|/sqrt(d) {m.get('val_norm', 0):.2f}, |Cov - I| {m.get('val_cov_dist', 0):.2f}")
    if "val_prior_acc" in m:
        line += f", prior discriminator accuracy {m['val_prior_acc']:.2f}"
    return line


def run_embedder(args: argparse.Namespace, out: Output) -> int:
    from cantata.train.recipes import train_embedder
    from cantata.train.tasks.embedding import GENERATOR_LR_SCALE

    _require_music(args)
    generator_lr_scale = (GENERATOR_LR_SCALE if args.generator_lr_scale is None
                          else args.generator_lr_scale)
    with _progress(out, args.steps, _embedding_line) as on_event:
        result = train_embedder(
            out_dir=args.out, train=_train_config(args), mir1k=args.mir1k,
            instrumentals=args.instrumentals, songs=args.songs, cache=args.cache,
            system=args.system, prior=args.prior, feature=args.feature, dim=args.dim,
            segment_s=args.segment_s, similarity=args.similarity, temperature=args.temperature,
            gan_lr_scale=args.gan_lr_scale, generator_lr_scale=generator_lr_scale,
            degrade=args.degrade, command=_command(), on_progress=on_event)
    return _report(out, result, "adjacent-segment MRR {:.3f}")


def _add_continuer(models: Any, parents: list[argparse.ArgumentParser]) -> None:
    p = models.add_parser(
        "continuer", parents=parents, help="the next-embedding model of cantata continue",
        description="Train the continuer: a GRU predicting each next segment embedding of "
                    "the music the embedder learnt from.")
    p.add_argument("--embedder", default="embedder", metavar="NAME|CKPT",
                   help="the embedder whose vectors it predicts (default: the shipped one)")
    _add_music(p)
    p.add_argument("--cache", type=Path, metavar="DIR", help="the embedder's feature cache")
    _add_common(p)
    p.set_defaults(run=run_continuer, batch_size=32, patience=0)


def run_continuer(args: argparse.Namespace, out: Output) -> int:
    from cantata.train.recipes import train_continuer

    _require_music(args)

    def line(m: dict[str, Any]) -> str:
        return (f"MSE {m.get('val_mse', 0):.3f} (repeating the last: "
                f"{m.get('val_mse_repeat_last', 0):.3f}), next-segment MRR "
                f"{m.get('val_next_mrr', 0):.3f}")

    with _progress(out, args.steps, line) as on_event:
        result = train_continuer(
            out_dir=args.out, train=_train_config(args), embedder=args.embedder,
            mir1k=args.mir1k, instrumentals=args.instrumentals, songs=args.songs,
            cache=args.cache, command=_command(), on_progress=on_event)
    return _report(out, result, "validation MSE {:.3f}")


def _add_average(models: Any, parents: list[argparse.ArgumentParser]) -> None:
    p = models.add_parser(
        "average", parents=parents, help="average the weights of checkpoints of one run",
        description="Write the mean of the weights of several checkpoints of one model (for "
                    "example the last evaluations of a run trained with --keep-checkpoints); "
                    "it often generalises a little better than any one of them.")
    p.add_argument("checkpoints", nargs="+", type=Path, metavar="CKPT")
    p.add_argument("--out", type=Path, required=True, help="checkpoint file to write")
    p.add_argument("--force", action="store_true", help="replace OUT if it exists")
    p.set_defaults(run=run_average)


def run_average(args: argparse.Namespace, out: Output) -> int:
    from cantata.train.average import average_checkpoints

    path = average_checkpoints(args.checkpoints, args.out, overwrite=args.force)
    if out.json_mode:
        out.json({"out": str(path), "averaged": [str(p) for p in args.checkpoints]})
    else:
        out.show(f"wrote {path}, the mean of {len(args.checkpoints)} checkpoints")
    return 0
