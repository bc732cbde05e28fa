"""Vocal-free instrumental music: Debian's game soundtracks and sample packs, or your folders.

Every file becomes an Example whose ``audio`` is the accompaniment and whose vocals are
silence (``meta["vocal_free"]``), ready for :class:`~cantata.data.mixing.DynamicMixDataset`'s
accompaniment pool. Files known or suspected to hold voice (see
``../shared/data/README.md``) are left out by :data:`VOCAL_EXCLUSIONS`. MIR-1K's
accompaniment stems are instrumentals too: use :func:`~cantata.data.sources.load_mir1k`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from fnmatch import fnmatch
from pathlib import Path

from cantata.audio import info
from cantata.data.records import Example
from cantata.data.sources._files import PathLike, audio_files, relative_id, require_dir
from cantata.data.sources.stems import VOCAL_FREE
from cantata.errors import AudioLoadError, ConfigError

logger = logging.getLogger(__name__)

SOURCE = "instrumentals"
#: Debian (12, bookworm) packages of instrumental recordings: ``apt-get install`` these.
INSTRUMENTAL_PACKAGES = ("warzone2100-music", "wesnoth-1.16-music", "hedgewars-data",
                         "drascula-music", "sonic-pi-samples", "lmms-common")
#: Group (game or sample pack) -> the folder its package installs the music or samples in.
INSTRUMENTAL_FOLDERS = {
    "warzone2100": Path("/usr/share/games/warzone2100/music"),
    "wesnoth": Path("/usr/share/games/wesnoth/1.16/data/core/music"),
    "hedgewars": Path("/usr/share/games/hedgewars/Data/Music"),
    "drascula": Path("/usr/share/scummvm/drascula/audio"),
    "sonic-pi": Path("/usr/share/sonic-pi/samples"),
    "lmms": Path("/usr/share/lmms/samples"),
}
#: Lower-case glob patterns (``*`` spans folders) of files with voice, or none at all.
VOCAL_EXCLUSIONS = (
    "*/drascula/audio/track2.ogg", "*/drascula/audio/track29.ogg",
    "*/drascula/audio/track31.ogg",              # male vocals (tagger scan)
    "*/wesnoth/*/music/silence.ogg",             # 10 s of silence
    "*/data/sounds/voices/*",                    # hedgewars voice packs
    "*/sonic-pi/samples/ambi_choir.*", "*/sonic-pi/samples/bass_voxy_*",
    "*/sonic-pi/samples/glitch_robot*", "*/sonic-pi/samples/mehackit_robot*",
    "*/sonic-pi/samples/misc_burp.*",
    "*/lmms/samples/misc/breath01.*", "*/lmms/samples/misc/applause01.*",
    "*/lmms/samples/misc/raving_crowd01.*", "*/lmms/samples/stringsnpads/*choir*",
    "*/lmms/samples/stringsnpads/chorus*",
)


def load_instrumentals(roots: Sequence[PathLike] | None = None) -> list[Example]:
    """One Example per vocal-free audio file, sorted by id.

    Args:
        roots: folders to read (group = each folder's name); None reads the folders of
            :data:`INSTRUMENTAL_FOLDERS` that exist (group = game or sample pack).

    Returns:
        Examples with id ``instrumentals/<group>/<relative path>`` and
        ``meta["vocal_free"] = True``.

    Raises:
        ConfigError: a given root is missing, none of the Debian folders exists, or no
            audio file is left.
    """
    folders = _folders(roots)
    examples = []
    for group, folder in folders:
        kept = [p for p in audio_files(folder) if not is_excluded(p)]
        logger.info("instrumentals %s at %s: %d files", group, folder, len(kept))
        examples += [ex for ex in (_example(p, folder, group) for p in kept) if ex is not None]
    if not examples:
        raise ConfigError(f"no instrumental audio files in {', '.join(str(f) for _, f in folders)}")
    return sorted(examples, key=lambda ex: ex.id)


def is_excluded(path: Path) -> bool:
    """Whether a file matches :data:`VOCAL_EXCLUSIONS` (voice, or silence)."""
    name = path.as_posix().lower()
    return any(fnmatch(name, pattern) for pattern in VOCAL_EXCLUSIONS)


def _folders(roots: Sequence[PathLike] | None) -> list[tuple[str, Path]]:
    """(group, folder) pairs to read."""
    if roots is not None:
        return [(Path(r).name, require_dir(r, "instrumental music")) for r in roots]
    found = [(group, folder) for group, folder in INSTRUMENTAL_FOLDERS.items() if folder.is_dir()]
    if not found:
        raise ConfigError(
            "no instrumental music installed (none of "
            f"{', '.join(map(str, INSTRUMENTAL_FOLDERS.values()))}); install the Debian "
            f"packages: scripts/setup.sh music (apt-get install {' '.join(INSTRUMENTAL_PACKAGES)})")
    return found


def _example(path: Path, folder: Path, group: str) -> Example | None:
    """The file as an Example, or None (with a warning) when it cannot be decoded."""
    try:
        header = info(path)
    except AudioLoadError as err:
        logger.warning("skipping %s", err)
        return None
    return Example(
        id=f"{SOURCE}/{group}/{relative_id(path, folder)}", audio=str(path),
        duration_s=header.duration_s, sample_rate=header.sample_rate, group=group,
        source=SOURCE, meta={VOCAL_FREE: True},
    )


#: Groups that are sample packs (loops and one-shots) rather than whole tracks.
SAMPLE_PACKS = ("lmms", "sonic-pi")
#: How many whole tracks the detection benchmark keeps for its false-alarm test.
BENCHMARK_TRACKS = 40


def split_benchmark(examples: Sequence[Example],
                    n_test: int = BENCHMARK_TRACKS) -> tuple[list[Example], list[Example]]:
    """(train, test): the ``n_test`` longest whole tracks (not sample packs) are the test set.

    The singing-detection benchmark measures false alarms on the test tracks; training
    recipes take the rest, so no test track is ever heard in training.
    """
    tracks = sorted((ex for ex in examples if ex.group not in SAMPLE_PACKS),
                    key=lambda ex: (-ex.duration_s, ex.id))
    test_ids = {ex.id for ex in tracks[:n_test]}
    return ([ex for ex in examples if ex.id not in test_ids],
            [ex for ex in tracks if ex.id in test_ids])
