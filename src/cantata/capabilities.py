"""The capability registry: every capability of Cantata declared once, in one place.

A capability (singing detection, separation, embeddings, ...) is one :class:`Capability`
entry in :data:`CAPABILITIES`. It names its network(s), its shipped weights and model
cards, its tiny ``debug`` models, its API class, its scan analyzer, its training recipes,
its HTTP routes and how its network exports to ONNX. The CLI (``cantata train``,
``cantata export``, ``cantata models``), the server, ``scripts/ship_model.py`` and the
analyzers loop over this registry instead of listing capabilities by hand.

Entries point at code by ``"module:attribute"`` strings, imported on first use
(:func:`load`), so this module imports nothing heavy and sits at the bottom of the layers:
anything may import it, and listing models loads no model code.

Adding a capability: one entry here, a model in ``cantata.models``, a training task and a
recipe in ``cantata.train``, an API class in ``cantata.<capability>.api`` and a config file
in ``configs/<capability>/`` (see ``docs/architecture.md``).
"""

from __future__ import annotations

import hashlib
import importlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cantata.errors import ModelLoadError

#: where shipped checkpoints (``<stem>-<sha8>.pt``) and their model cards (``<stem>.md``) live
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"


@dataclass(frozen=True)
class ShippedModel:
    """A trained model that ships with Cantata.

    Attributes:
        name: what users type, e.g. ``"singing"`` (``--model singing``).
        stem: the weights' file stem: ``cantata/weights/<stem>-<sha8>.pt`` and ``<stem>.md``.
        summary: one line on what it does.
        recipe: its training recipe, ``configs/<capability>/<file>.yaml``, relative to the
            repository root.
    """

    name: str
    stem: str
    summary: str
    recipe: str

    @property
    def card(self) -> Path:
        """The model card (``cantata/weights/<stem>.md``)."""
        return WEIGHTS_DIR / f"{self.stem}.md"

    def card_facts(self) -> dict[str, Any]:
        """The model card's front matter: ``capability``, ``data`` (one line),
        ``training_time_min`` and ``quality`` (set name -> measured figures).

        Raises:
            ModelLoadError: the card is missing or its front matter is not YAML.
        """
        import yaml

        try:
            text = self.card.read_text(encoding="utf-8")
            _, front, _ = text.split("---\n", 2) if text.startswith("---\n") else ("", "", "")
            facts = yaml.safe_load(front) or {}
        except (OSError, ValueError, yaml.YAMLError) as err:
            raise ModelLoadError(f"{self.card}: unreadable model card front matter ({err})") \
                from err
        if not isinstance(facts, dict):
            raise ModelLoadError(f"{self.card}: front matter must be a mapping")
        return facts

    @property
    def path(self) -> Path:
        """The checkpoint file.

        Raises:
            ModelLoadError: not there (the model has not been trained and shipped yet).
        """
        found = sorted(WEIGHTS_DIR.glob(f"{self.stem}-[0-9a-f]*.pt"))
        if not found:
            capability_name = self.recipe.split("/")[1]
            raise ModelLoadError(f"the shipped model {self.name!r} has no weights in "
                                 f"{WEIGHTS_DIR} (expected {self.stem}-<hash>.pt); train it "
                                 f"with `cantata train {capability_name} --config "
                                 f"{self.recipe} --out RUN`")
        return found[-1]


@dataclass(frozen=True)
class Capability:
    """Everything Cantata knows about one capability, as names and import strings.

    Attributes:
        name: the capability, e.g. ``"detect"``; also its scan analyzer's and serve route's
            name where it has them.
        summary: one line for listings.
        networks: registry names of its networks (:mod:`cantata.models.registry`) -> the
            module that registers each, e.g. ``{"separator": "cantata.models.separator"}``;
            a checkpoint's ``name`` picks its capability.
        shipped: its shipped models; the first is the default (with none, a model must be
            named).
        debug: tiny random-weight models for tests and offline runs (P8): name ->
            ``"module:factory"`` of the network (the API's ``from_pretrained(name)`` calls it).
        api: the class users load (``from_pretrained(name_or_path)``), ``"module:Class"``.
        analyzer: module with ``resolve(model)`` and ``ANALYZER`` (the
            :class:`~cantata.analyzers.Analyzer` subclass) for ``cantata scan``, or None.
        recipes: training recipe name -> ``"module:RecipeConfig"`` (``cantata train``).
        routes: ``"module:add_routes"`` adding its HTTP routes to the server, or None.
        export: ``"module:function"`` giving its network's ONNX export (see
            :mod:`cantata.export.examples`), or None.
        cli: module of its ``cantata`` subcommand (``add_parser(sub, parents=...)``), or
            None.
    """

    name: str
    summary: str
    networks: Mapping[str, str]
    shipped: tuple[ShippedModel, ...]
    api: str
    debug: Mapping[str, str] = field(default_factory=dict)
    analyzer: str | None = None
    recipes: Mapping[str, str] = field(default_factory=dict)
    routes: str | None = None
    export: str | None = None
    cli: str | None = None

    @property
    def default_model(self) -> str:
        """The first shipped model.

        Raises:
            ModelLoadError: none has shipped yet (a debug model's output is meaningless, so
                it is never a default); the message says how to train one.
        """
        if not self.shipped:
            recipes = ", ".join(self.recipes)
            raise ModelLoadError(f"{self.name}: no trained model ships yet; train one "
                                 f"(`cantata train {self.name} --config FILE --out RUN`, "
                                 f"recipe {recipes}) and pass its checkpoint as the model, "
                                 "or 'debug' for a smoke test")
        return self.shipped[0].name

    def model_names(self) -> list[str]:
        """Shipped then debug names, in order."""
        return [m.name for m in self.shipped] + list(self.debug)


CAPABILITIES: dict[str, Capability] = {
    c.name: c for c in (
        Capability(
            name="detect",
            summary="where the singing (or speech) is, as time regions",
            networks={"speech-detector": "cantata.models.detector",
                      "singing-detector": "cantata.models.detector"},
            shipped=(
                ShippedModel("singing", "singing-detector-binary",
                             "vocal / non-vocal regions of songs (CRNN, transfer from speech)",
                             "configs/detect/singing-binary.yaml"),
                ShippedModel("singing-multilabel", "singing-detector-multilabel",
                             "vocal, accompaniment and silence regions of songs",
                             "configs/detect/singing-multilabel.yaml"),
                ShippedModel("singing-causal", "singing-detector-causal",
                             "live singing detection (causal CRNN, karaoke prompts)",
                             "configs/detect/singing-causal.yaml"),
                ShippedModel("speech", "speech-detector",
                             "speech in speech + music mixes (the transfer source)",
                             "configs/detect/speech.yaml"),
            ),
            debug={"debug": "cantata.detect.api:debug_detector",
                   "debug-multilabel": "cantata.detect.api:debug_detector"},
            api="cantata.detect.api:VoiceDetector",
            analyzer="cantata.analyzers.detect",
            recipes={"speech-detector": "cantata.train.recipes.detect:SpeechDetectorRecipe",
                     "singing-detector": "cantata.train.recipes.detect:SingingDetectorRecipe"},
            routes="cantata.serve.routes.detect:add_routes",
            export="cantata.export.examples:detector",
            cli="cantata.cli.detect",
        ),
        Capability(
            name="separate",
            summary="vocal and accompaniment stems (mask U-Net on the STFT)",
            networks={"separator": "cantata.models.separator"},
            shipped=(ShippedModel("separator", "separator",
                                  "vocals / accompaniment, full band, any rate and channels",
                                  "configs/separate/separator.yaml"),),
            debug={"debug": "cantata.models.separator:debug_separator"},
            api="cantata.separate.api:Separator",
            analyzer="cantata.analyzers.separate",
            recipes={"separator": "cantata.train.recipes.separate:SeparatorRecipe"},
            routes="cantata.serve.routes.separate:add_routes",
            export="cantata.export.examples:separator",
            cli="cantata.cli.separate",
        ),
        Capability(
            name="embed",
            summary="music embeddings of segments, for query by example",
            networks={"embedder": "cantata.models.embedder"},
            shipped=(ShippedModel("embedder", "embedder",
                                  "64-d embeddings of 3 s segments (adversarial DSSM)",
                                  "configs/embed/embedder.yaml"),),
            debug={"debug": "cantata.models.embedder:debug_embedder"},
            api="cantata.embed.api:Embedder",
            analyzer="cantata.analyzers.embed",
            recipes={"embedder": "cantata.train.recipes.embed:EmbedderRecipe"},
            export="cantata.export.examples:embedder",
            cli="cantata.cli.embed",
        ),
        Capability(
            name="continue",
            summary="continue a piece with catalog music (next-embedding GRU)",
            networks={"continuer": "cantata.models.continuer"},
            shipped=(ShippedModel("continuer", "continuer",
                                  "predicts the next segment's embedding of the embedder",
                                  "configs/continue/continuer.yaml"),),
            api="cantata.embed.generate:load_continuer",
            recipes={"continuer": "cantata.train.recipes.embed:ContinuerRecipe"},
            export="cantata.export.examples:continuer",
            cli="cantata.cli.generate",
        ),
        Capability(
            name="defects",
            summary="clicks, dropouts, clipping, codec damage and other defects, as events",
            networks={"defect-detector": "cantata.models.defect_detector"},
            shipped=(
                ShippedModel("defects", "defect-detector",
                             "clicks, dropouts, clipping, codec damage, noise bursts, skips and "
                             "DC offset as events (a weak-label CRNN and the rules, a decision "
                             "per type)", "configs/defects/defect-detector.yaml"),
            ),
            debug={"debug": "cantata.models.defect_detector:debug_defect_detector"},
            api="cantata.defects.api:DefectDetector",
            analyzer="cantata.analyzers.defects",
            recipes={"defect-detector": "cantata.train.recipes.defects:DefectDetectorRecipe"},
            routes="cantata.serve.routes.defects:add_routes",
            export="cantata.export.examples:defect_detector",
            cli="cantata.cli.defects",
        ),
        Capability(
            name="assess",
            summary="quality report: lossy history, loudness, clipping, duplicates, a grade",
            networks={},  # rule-based: nothing to train or ship
            shipped=(),
            api="cantata.assess.api:Assessor",
            analyzer="cantata.analyzers.assess",
            routes="cantata.serve.routes.assess:add_routes",
            cli="cantata.cli.assess",
        ),
        Capability(
            name="tag",
            summary="genre, mood, instrument and voice tags (one binary head per tag)",
            networks={"tagger": "cantata.models.tagger"},
            shipped=(
                ShippedModel("tagger", "tagger",
                             "the MagnaTagATune top-50 tags (instruments, voice, genre, mood), "
                             "distilled from musicnn with honest voice and instrument labels",
                             "configs/tag/tagger.yaml"),
            ),
            debug={"debug": "cantata.models.tagger:debug_tagger"},
            api="cantata.tag.api:Tagger",
            analyzer="cantata.analyzers.tag",
            recipes={"tagger": "cantata.train.recipes.tag:TaggerRecipe"},
            routes="cantata.serve.routes.tag:add_routes",
            export="cantata.export.examples:tagger",
            cli="cantata.cli.tag",
        ),
        Capability(
            name="restore",
            summary="denoise and declick (causal CRNN mask, AR click interpolation)",
            networks={"restorer": "cantata.models.restorer"},
            shipped=(ShippedModel("restorer", "restorer",
                                  "denoise music: causal CRNN mask on the 48 kHz STFT, 32 ms "
                                  "latency, any rate and channels",
                                  "configs/restore/restorer.yaml"),),
            debug={"debug": "cantata.models.restorer:debug_restorer"},
            api="cantata.restore.api:AudioRestorer",
            analyzer="cantata.analyzers.restore",
            recipes={"restorer": "cantata.train.recipes.restore:RestorerRecipe"},
            routes="cantata.serve.routes.restore:add_routes",
            export="cantata.export.examples:restorer",
            cli="cantata.cli.restore",
        ),
        Capability(
            name="lyrics",
            summary="time-stamped lyrics: a time for every line and word (syllable alignment)",
            networks={},  # the separator's and the singing detector's, loaded through theirs
            shipped=(),
            api="cantata.lyrics.api:LyricsAligner",
            analyzer="cantata.analyzers.lyrics",
            cli="cantata.cli.lyrics",
        ),
    )
}
"""Every capability, by name."""


def capability(name: str) -> Capability:
    """The capability ``name``.

    Raises:
        ModelLoadError: no such capability (the message lists them).
    """
    if name not in CAPABILITIES:
        raise ModelLoadError(f"unknown capability {name!r}; known: {', '.join(CAPABILITIES)}")
    return CAPABILITIES[name]


def shipped_models() -> Iterator[tuple[Capability, ShippedModel]]:
    """Every shipped model with its capability, in registry order."""
    for cap in CAPABILITIES.values():
        for model in cap.shipped:
            yield cap, model


def shipped(name: str, capability_name: str | None = None) -> ShippedModel | None:
    """The shipped model called ``name`` (within one capability if given), or None."""
    for cap, model in shipped_models():
        if model.name == name and capability_name in (None, cap.name):
            return model
    return None


def shipped_path(name: str, capability_name: str | None = None) -> Path:
    """The checkpoint file of the shipped model ``name``.

    Raises:
        ModelLoadError: not a shipped model, or its weights are missing.
    """
    model = shipped(name, capability_name)
    if model is None:
        raise ModelLoadError(f"no shipped model {name!r}; shipped: "
                             f"{', '.join(m.name for _, m in shipped_models())}")
    return model.path


def model_path(name_or_path: str | os.PathLike[str], capability_name: str) -> Path:
    """The checkpoint of a shipped model's name in ``capability_name``, else the argument
    as a path (checked to be a file).

    Raises:
        ModelLoadError: neither a shipped name nor an existing file (the message lists the
            capability's models).
    """
    name = os.fspath(name_or_path)
    model = shipped(name, capability_name)
    if model is not None:
        return model.path
    path = Path(name)
    if not path.is_file():
        names = ", ".join(capability(capability_name).model_names())
        raise ModelLoadError(f"{capability_name}: unknown model {name!r} (available: {names}; "
                             f"or a checkpoint file)")
    return path


def weights_identity(path: str | os.PathLike[str]) -> str:
    """A checkpoint's identity: its file stem, plus a hash of its bytes unless the stem
    already ends in one (the shipped ``<name>-<sha8>.pt`` files)."""
    path = Path(path)
    tail = path.stem.rsplit("-", 1)[-1]
    if len(tail) == 8 and all(c in "0123456789abcdef" for c in tail):
        return path.stem
    digest = hashlib.blake2b(path.read_bytes(), digest_size=4).hexdigest()
    return f"{path.stem}-{digest}"


def describe(model: ShippedModel) -> dict[str, Any]:
    """What ``cantata models --json`` says of a shipped model (see the README).

    Raises:
        ModelLoadError: its weights or its card are missing.
    """
    cap, path, facts = _capability_of(model), model.path, model.card_facts()
    return {"name": model.name, "capability": cap.name, "summary": model.summary,
            "version": path.stem, "file": str(path), "size_bytes": path.stat().st_size,
            "data": facts.get("data", ""), "training_time_min": facts.get("training_time_min"),
            "quality": dict(facts.get("quality") or {}), "recipe": model.recipe,
            "card": str(model.card)}


def _capability_of(model: ShippedModel) -> Capability:
    return next(cap for cap, m in shipped_models() if m is model)


def capability_of_network(network: str) -> Capability:
    """The capability a checkpoint's registry name (``checkpoint.name``) belongs to.

    Raises:
        ModelLoadError: a network no capability declares.
    """
    for cap in CAPABILITIES.values():
        if network in cap.networks:
            return cap
    raise ModelLoadError(f"no capability declares the network {network!r}")


def load(target: str) -> Any:
    """The object an import string ``"package.module:attribute"`` names (imported now)."""
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module), attribute)
