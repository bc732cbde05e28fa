"""``cantata train CAPABILITY --config FILE [--set KEY=VALUE ...] --out RUN``: train a model
from a recipe (``configs/<capability>/*.yaml``); ``cantata train speech-detector|
singing-detector|separator|embedder|continuer``: one recipe, its flags setting config keys;
``cantata train average``: average checkpoints."""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cantata.capabilities import CAPABILITIES
from cantata.cli.output import Output
from cantata.errors import ConfigError

#: argparse dest prefix of the flags that set a recipe's config key (the rest of the dest)
KEY = "key:"


def add_parser(sub: Any, *, parents: list[argparse.ArgumentParser]) -> None:
    train = sub.add_parser("train", help="train a model")
    models = train.add_subparsers(dest="model", required=True, metavar="MODEL")
    for cap in CAPABILITIES.values():
        if cap.recipes:
            _add_capability(models, parents, cap.name, cap.summary, list(cap.recipes))
    speech = _add_recipe(models, parents, "speech-detector",
                         help="the source task: speech in speech + music mixes")
    _alias(speech, "--data", key="data.speech_mixes", action="append", metavar="DIR",
           help="speech-mix folder with a manifest (cantata data synth speech-mix)")
    _add_common(speech)
    singing = _add_recipe(models, parents, "singing-detector",
                          help="the target task: singing in songs, with transfer",
                          description="Train the CRNN singing detector on a small labelled "
                                      "song set, moving conv layers from a speech detector.")
    _alias(singing, "--init", key="transfer.init", metavar="SPEECH_CKPT",
           help="speech-detector checkpoint to transfer from")
    _alias(singing, "--layers", key="transfer.layers",
           help="bottom conv layers to move: 1, 2, ... or all (default)")
    _alias(singing, "--mode", key="transfer.mode", choices=["fixed", "finetune", "none"],
           help="moved layers frozen, fine-tuned, or no transfer (default)")
    _alias(singing, "--task", key="task", choices=["binary", "multilabel"])
    _alias(singing, "--causal", key="causal", action="store_true",
           help="the live (causal) variant")
    _alias(singing, "--continue-from", key="init", metavar="SINGING_CKPT",
           help="a trained singing detector to go on training (no transfer then)")
    _alias(singing, "--production", key="mix.p_production", type=float, metavar="P",
           help="probability that a training mix is produced like a studio song "
                "(default 0)")
    _alias(singing, "--leads", key="mix.p_leads", type=float, metavar="P",
           help="probability that an instrumental item carries a synthetic lead line "
                "no voice sang, a hard negative (default 0)")
    _add_song_data(singing)
    _add_common(singing)
    _add_separator(models, parents)
    _add_embedder(models, parents)
    _add_continuer(models, parents)
    _add_average(models, parents)


def _add_capability(models: Any, parents: list[argparse.ArgumentParser], name: str,
                    summary: str, recipes: list[str]) -> None:
    p = models.add_parser(name, parents=parents, help=f"from a recipe file: {summary}",
                          description=f"Train a {name!r} model from a recipe file whose "
                                      f"'recipe:' is one of {', '.join(recipes)} "
                                      f"(configs/{name}/*.yaml).")
    p.add_argument("--config", type=Path, required=True, metavar="FILE", help="recipe file")
    _add_overrides(p)
    p.add_argument("--out", type=Path, required=True, help="run folder (resumed if it exists)")
    p.set_defaults(run=run_recipe, capability=name)


def _add_recipe(models: Any, parents: list[argparse.ArgumentParser], name: str,
                **kwargs: Any) -> argparse.ArgumentParser:
    p = models.add_parser(name, parents=parents, **kwargs)
    p.add_argument("--config", type=Path, metavar="FILE",
                   help=f"a {name} recipe file to start from (flags and --set win over it)")
    _add_overrides(p)
    p.set_defaults(run=run_recipe, recipe=name)
    return p


def _add_overrides(p: argparse.ArgumentParser) -> None:
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="set a config key, the value read as YAML (e.g. train.lr=1e-4, "
                        "data.songs=[DIR]); repeatable, later ones win")


def _alias(p: argparse.ArgumentParser, *flags: str, key: str, **kwargs: Any) -> None:
    """A flag setting the recipe's config ``key`` (absent from the namespace unless given)."""
    if kwargs.get("action") not in ("store_true", "store_false") and "choices" not in kwargs:
        kwargs.setdefault("metavar", flags[-1].lstrip("-").upper().replace("-", "_"))
    p.add_argument(*flags, dest=KEY + key, default=argparse.SUPPRESS, **kwargs)


def _add_song_data(p: argparse.ArgumentParser) -> None:
    """The song sources both singing detection and separation train on."""
    _alias(p, "--mir1k", key="data.mir1k", metavar="DIR", help="MIR-1K-style folder")
    _alias(p, "--train-singers", key="data.train_singers", type=_names,
           help="comma-separated MIR-1K singers to train on")
    _alias(p, "--songs", key="data.songs", action="append", metavar="DIR",
           help="songs with stems and a manifest (cantata data synth song)")
    _alias(p, "--instrumentals", key="data.instrumentals", action="append", metavar="DIR",
           help="vocal-free music folder, or 'debian' for the installed Debian "
                "soundtracks (the detection benchmark's test tracks are always left out)")


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", type=Path, required=True, help="run folder (resumed if it exists)")
    _alias(p, "--steps", key="train.max_steps", type=int, help="optimiser steps (default 1500)")
    _alias(p, "--batch-size", key="train.batch_size", type=int)
    _alias(p, "--lr", key="train.lr", type=float, help="peak learning rate (default 1e-3)")
    _alias(p, "--eval-every", key="train.eval_every", type=int, help="(default 250)")
    _alias(p, "--patience", key="train.patience", type=int)
    _alias(p, "--seed", key="train.seed", type=int, help="(default 0)")
    _alias(p, "--workers", key="train.num_workers", type=int,
           help="data-loading processes (default 2)")
    _alias(p, "--keep-checkpoints", key="train.keep_checkpoints", action="store_true",
           help="also keep every evaluation's weights as OUT/steps/step-<step>.pt "
                "(for cantata train average)")


def _names(text: str) -> list[str]:
    """``"a,b,"`` -> ``["a", "b"]``."""
    return [s for s in text.split(",") if s]


def _layers(value: str) -> int | str:
    if value == "all":
        return value
    try:
        return int(value)
    except ValueError as err:
        raise ConfigError(f"--layers takes a number or 'all', got {value!r}") from err


def _features(kind: str) -> dict[str, Any]:
    from cantata.models.registry import config_to_dict
    from cantata.train.recipes.embed import embedder_features

    return config_to_dict(embedder_features(kind))


#: flag values turned into config values when the recipe is built
CONVERT: dict[str, Callable[[Any], Any]] = {"transfer.layers": _layers,
                                            "model.features": _features}


def flag_overrides(args: argparse.Namespace) -> list[tuple[str, Any]]:
    """The (config key, value) pairs the flags given on the command line stand for."""
    return [(dest[len(KEY):], CONVERT.get(dest[len(KEY):], lambda v: v)(value))
            for dest, value in vars(args).items() if dest.startswith(KEY)]


def recipe_of(args: argparse.Namespace) -> Any:
    """The recipe a parsed ``cantata train`` command line describes: the recipe file, then
    the flags, then ``--set`` (later ones win over earlier ones)."""
    from cantata.train.recipes import build_recipe, load_recipe, read_recipe

    if getattr(args, "capability", None):
        return load_recipe(args.config, args.overrides, capability=args.capability)
    data = read_recipe(args.config) if args.config else {"recipe": args.recipe}
    if data["recipe"] != args.recipe:
        raise ConfigError(f"{args.config}: a {data['recipe']!r} recipe, not a {args.recipe!r} "
                          "one")
    return build_recipe(data, [*flag_overrides(args), *args.overrides],
                        source=str(args.config or args.recipe))


def run_recipe(args: argparse.Namespace, out: Output) -> int:
    """Train the recipe the command line describes, with a progress bar."""
    from cantata.allocator import keep_freed_memory

    recipe = recipe_of(args)
    keep_freed_memory()  # faster steps, a higher resident peak (docs/benchmarks.md)
    describe, metric = DESCRIBE.get(recipe.name, (_metrics_line, "best metric {:.4f}"))
    with _progress(out, recipe.train.max_steps, describe) as on_event:
        result = recipe.fit(args.out, on_progress=on_event, command=_command())
    return _report(out, result, metric)


def _command() -> str:
    return "cantata " + " ".join(shlex.quote(a) for a in sys.argv[1:])


def _detection_line(m: dict[str, Any]) -> str:
    return (f"balanced accuracy {m.get('balanced_accuracy', 0):.3f} "
            f"(threshold {m.get('threshold', 0.5):.2f}), F1 {m.get('f1', 0):.3f}, "
            f"loss {m.get('loss', 0):.3f}")


def _separation_line(m: dict[str, Any]) -> str:
    return (f"SI-SDR vocals {m.get('val_si_sdr_vocals', 0):.2f} dB, "
            f"accompaniment {m.get('val_si_sdr_accompaniment', 0):.2f} dB, "
            f"loss {m.get('val_loss', 0):.3f}")


def _embedding_line(m: dict[str, Any]) -> str:
    line = (f"MRR {m.get('val_mrr', 0):.3f}, recall@1 {m.get('val_recall1', 0):.3f}, "
            f"|z|/sqrt(d) {m.get('val_norm', 0):.2f}, |Cov - I| {m.get('val_cov_dist', 0):.2f}")
    if "val_prior_acc" in m:
        line += f", prior discriminator accuracy {m['val_prior_acc']:.2f}"
    return line


def _continuation_line(m: dict[str, Any]) -> str:
    return (f"MSE {m.get('val_mse', 0):.3f} (repeating the last: "
            f"{m.get('val_mse_repeat_last', 0):.3f}), next-segment MRR "
            f"{m.get('val_next_mrr', 0):.3f}")


def _metrics_line(m: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v:.3f}" for k, v in m.items() if isinstance(v, int | float))


#: recipe -> (an evaluation's metrics in words, the best metric's format)
DESCRIBE: dict[str, tuple[Callable[[dict[str, Any]], str], str]] = {
    "speech-detector": (_detection_line, "balanced accuracy {:.3f}"),
    "singing-detector": (_detection_line, "balanced accuracy {:.3f}"),
    "separator": (_separation_line, "vocals SI-SDR {:.2f} dB"),
    "embedder": (_embedding_line, "adjacent-segment MRR {:.3f}"),
    "continuer": (_continuation_line, "validation MSE {:.3f}"),
}


@contextmanager
def _progress(out: Output, steps: int, describe: Callable[[dict[str, Any]], str],
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


def _report(out: Output, result: Any, metric: str) -> int:
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
    p = _add_recipe(models, parents, "separator",
                    help="vocal / accompaniment separation (mask U-Net)",
                    description="Train the mask U-Net separator on vocals mixed over "
                                "accompaniment on the fly.")
    _add_song_data(p)
    _alias(p, "--musdb", key="data.musdb", metavar="DIR",
           help="MUSDB18-style folder (only its train tracks are used)")
    _alias(p, "--vocals", key="data.vocals", action="append", metavar="DIR",
           help="folder of vocal-only recordings (a cappella stems, clean speech), "
                "mixed over the other sources' accompaniment; repeatable")
    _alias(p, "--pitch-tempo", key="mix.p_pitch_tempo", type=float, metavar="P",
           help="probability that a training stem is shifted by up to +-2 semitones "
                "and +-10%% tempo (default 0.1)")
    _alias(p, "--reverb", key="mix.p_reverb", type=float, metavar="P",
           help="probability that the training vocals are played in a synthetic room "
                "(RT60 0.3-2 s), the wet vocals being the target (default 0)")
    _alias(p, "--production", key="mix.p_production", type=float, metavar="P",
           help="probability that a training mix is produced like a studio song: vocal "
                "chain, doubles, harmonies, reverb and delay sends, mastered to "
                "-14..-7 LUFS, sometimes an MP3 (default 0)")
    _alias(p, "--test-singers", key="data.test_singers", type=_names, metavar="LIST",
           help="comma-separated MIR-1K singers held out for testing, never read "
                "(default abjones,bobon,heycat; name fewer to train on more)")
    _alias(p, "--mask", key="model.mask", choices=["irm", "psm", "cirm"])
    _alias(p, "--loss", key="loss", help="l1 (default), mse, mrstft, sisdr, winsdr, or a "
                                         "sum such as l1+sisdr")
    _alias(p, "--channels", key="mix.channels", type=int, choices=[1, 2],
           help="train on mono (default) or stereo mixes")
    _add_separator_model(p)
    _add_common(p)


def _add_separator_model(p: argparse.ArgumentParser) -> None:
    """The separator's network: to start from, to grow."""
    _alias(p, "--init", key="model.init", metavar="SEPARATOR_CKPT",
           help="start from a trained separator (its architecture and weights)")
    _alias(p, "--refine-channels", key="model.refine_channels", type=int, metavar="N",
           help="width of the full-resolution mask refinement (0: none); with "
                "--init, a wider one than the checkpoint's grows it, starting from "
                "what it computes")
    _alias(p, "--context-units", key="model.context_units", type=int, metavar="N",
           help="units of the bottleneck's bidirectional GRU along time (0: none)")
    _alias(p, "--bottleneck-blocks", key="model.bottleneck_blocks", type=int, metavar="N",
           help="residual blocks deepening the bottleneck (0: none); with --init, "
                "new ones start as the identity")
    _alias(p, "--decoder-blocks", key="model.decoder_blocks", type=int, metavar="N",
           help="residual blocks after each decoder level (0: none); with --init, "
                "new ones start as the identity")
    _alias(p, "--phase-steps", key="model.phase_steps", type=int, metavar="N",
           help="consistency steps for the vocals' phase, trained through and kept "
                "with the model (default: the --init checkpoint's, else 0)")
    _alias(p, "--fold", key="model.fold", type=_fold, metavar="BINSxFRAMES",
           help="what the first level folds into channels (default 4x2; 2x2 keeps "
                "twice the frequency detail for about 1.4x the time)")


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


def _add_music(p: argparse.ArgumentParser) -> None:
    """The music the embedder and the continuer learn from."""
    _alias(p, "--mir1k", key="data.mir1k", metavar="DIR", help="MIR-1K-style folder")
    _alias(p, "--instrumentals", key="data.instrumentals", action="append", metavar="DIR",
           help="vocal-free music folder, or 'debian' for the installed Debian "
                "game soundtracks")
    _alias(p, "--songs", key="data.songs", action="append", metavar="DIR",
           help="synthetic songs with a manifest (cantata data synth song)")


def _add_embedder(models: Any, parents: list[argparse.ArgumentParser]) -> None:
    p = _add_recipe(
        models, parents, "embedder", help="music embeddings (self-supervised on adjacency)",
        description="Train the music embedder on adjacent segments of tracks: adversarial "
                    "DSSM or adversarial adjacency, with or without the N(0, I) prior.")
    _alias(p, "--system", key="model.system", choices=["dssm", "adjacency"],
           help="training system (default dssm)")
    _alias(p, "--no-prior", key="model.prior", action="store_false",
           help="train without the adversarial N(0, I) prior")
    _add_music(p)
    _alias(p, "--feature", key="model.features", choices=["logmel", "mfcc", "chroma"],
           help="input representation (default logmel)")
    _alias(p, "--cache", key="data.cache", metavar="DIR",
           help="folder caching the tracks' features across runs")
    _alias(p, "--dim", key="model.dim", type=int, help="embedding size (default 64)")
    _alias(p, "--segment-s", key="model.segment_s", type=float,
           help="seconds per embedding (default 3)")
    _alias(p, "--similarity", key="objective.similarity", choices=["euclidean", "cosine"],
           help="DSSM similarity and validation ranking (default euclidean)")
    _alias(p, "--temperature", key="objective.temperature", type=float,
           help="DSSM temperature (default 2 for euclidean, 0.1 for cosine)")
    _alias(p, "--gan-lr-scale", key="objective.gan_lr_scale", type=float,
           help="learning-rate multiplier of the prior discriminator (default 5)")
    _alias(p, "--generator-lr-scale", key="objective.generator_lr_scale", type=float,
           help="learning-rate multiplier of the embedder's updates in the GAN "
                "phase (default 0.1)")
    _alias(p, "--degrade", key="augment.degrade", type=float, metavar="P",
           help="probability that a training anchor is heard as re-recorded by a "
                "phone in a room, for robust query by example (logmel; default 0)")
    _add_common(p)


def _add_continuer(models: Any, parents: list[argparse.ArgumentParser]) -> None:
    p = _add_recipe(
        models, parents, "continuer", help="the next-embedding model of cantata continue",
        description="Train the continuer: a GRU predicting each next segment embedding of "
                    "the music the embedder learnt from.")
    _alias(p, "--embedder", key="embedder", metavar="NAME|CKPT",
           help="the embedder whose vectors it predicts (default: the shipped one)")
    _add_music(p)
    _alias(p, "--cache", key="data.cache", metavar="DIR", help="the embedder's feature cache")
    _add_common(p)


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
        out.summary(f"wrote {path}, the mean of {len(args.checkpoints)} checkpoints")
    return 0
