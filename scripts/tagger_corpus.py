"""The distillation corpus of the shipped tagger: audio, groups, honest labels, teacher files.

Writes two labels files (:mod:`cantata.tag.labels` JSONL) into ``--out``:

- ``train.jsonl``: what ``cantata train tagger`` learns from (it splits off validation
  by group itself);
- ``test.jsonl``: held out for ``bench/tag_distill.py``: MIR-1K singers abjones, bobon
  and heycat, one soundtrack track in seven (chosen by a hash of its name), the songs of
  ``--test-songs``, the solo recordings of held-out chorales, the two demo songs.

Each line: ``path``, ``album`` (the group: singer, song, soundtrack track), ``tags``
(honest positives), ``absent`` (honest negatives) and ``teacher`` (the ``.npz`` that
``scripts/musicnn_teacher.py`` writes: the teacher's scores of every chunk). Honest labels:
MIR-1K mixes (0 dB) sing and their accompaniments do not; the Debian soundtracks are
instrumental (files with voice are excluded at the source); synthetic songs know their
voice's sex, their instruments (General MIDI programs) and their tempo; solo recordings
(``scripts/solo_instruments.py``) know their one instrument. Every other head
learns from the teacher alone.

Usage (in the project's environment)::

    python scripts/tagger_corpus.py --mir1k ../shared/data/mir1k --songs SONGS \
        --test-songs TEST_SONGS --solo SOLO --speech ../shared/data/speech \
        --demo ../shared/data/music --out data/tagger
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np
import soundfile as sf

from cantata import audio
from cantata.data.sources._files import audio_files
from cantata.data.sources.instrumentals import SAMPLE_PACKS, load_instrumentals

VOICE = ("vocal", "vocals", "singing", "voice")
MALE = ("male", "man", "male vocal", "male voice")
FEMALE = ("female", "woman", "female vocal", "female voice")
NO_VOICE = ("no vocals", "no vocal", "no voice")
TEST_SINGERS = ("abjones", "bobon", "heycat")
#: General MIDI programs (0-based) -> MagnaTagATune tag.
PROGRAM_TAGS = {
    "piano": range(0, 6), "harpsichord": range(6, 7), "guitar": range(24, 32),
    "violin": range(40, 41), "cello": range(42, 43), "harp": range(46, 47),
    "strings": range(40, 52), "flute": range(73, 74), "synth": range(80, 96),
}
FAST_BPM, SLOW_BPM = 150.0, 85.0


def instrumental() -> dict[str, list[str]]:
    return {"tags": list(NO_VOICE), "absent": [*VOICE, *MALE, *FEMALE]}


def sung(sex: str | None = None) -> dict[str, list[str]]:
    tags, absent = list(VOICE), list(NO_VOICE)
    if sex == "male":
        tags, absent = tags + list(MALE), absent + list(FEMALE)
    elif sex == "female":
        tags, absent = tags + list(FEMALE), absent + list(MALE)
    return {"tags": tags, "absent": absent}


def held_out(name: str, one_in: int = 7) -> bool:
    return int(hashlib.sha1(name.encode()).hexdigest(), 16) % one_in == 0


def teacher_file(out: Path, path: Path) -> str:
    return str(out / "teacher" / (hashlib.sha1(str(path).encode()).hexdigest()[:20] + ".npz"))


def mir1k_rows(root: Path, out: Path) -> list[dict]:
    """Each clip's 0 dB mix (written to ``out/mir1k``) and its accompaniment."""
    rows = []
    (out / "mir1k").mkdir(parents=True, exist_ok=True)
    for clip in sorted(p for p in root.iterdir() if p.is_dir()):
        singer = clip.name.split("_")[0]
        acc, _ = sf.read(clip / "accompaniment.ogg", dtype="float32")
        voc, rate = sf.read(clip / "vocals.ogg", dtype="float32")
        n = min(len(acc), len(voc))
        acc, voc = acc[:n], voc[:n]
        gain = np.sqrt((acc ** 2).mean() / max((voc ** 2).mean(), 1e-12))
        mix = acc + gain * voc
        mix /= max(1.0, float(np.abs(mix).max()) / 0.99)
        mix_path = out / "mir1k" / f"{clip.name}.wav"
        if not mix_path.exists():
            sf.write(mix_path, mix, rate, subtype="PCM_16")
        split = "test" if singer in TEST_SINGERS else "train"
        rows.append({"path": str(mix_path), "album": f"mir1k/{singer}", "split": split,
                     **sung()})
        rows.append({"path": str(clip / "accompaniment.ogg"), "album": f"mir1k/{singer}",
                     "split": split, **instrumental()})
    return rows


def song_labels(example: dict) -> dict[str, list[str]]:
    """The honest tags of a synthetic song's accompaniment: instruments, drums, tempo."""
    acc = example["meta"]["accompaniment"]
    programs = {int(p) for part, p in acc.get("programs", {}).items() if part != "drums"}
    tags, absent = [], []
    for tag, span in PROGRAM_TAGS.items():
        (tags if programs & set(span) else absent).append(tag)
    (tags if acc.get("drums", "none") != "none" else absent).append("drums")
    bpm = float(acc.get("tempo_bpm", 0) or 0)
    if bpm >= FAST_BPM:
        tags.append("fast")
        absent.append("slow")
    elif 0 < bpm <= SLOW_BPM:
        tags.append("slow")
        absent.append("fast")
    return {"tags": tags, "absent": absent}


def song_rows(root: Path, split: str) -> list[dict]:
    rows = []
    for meta in sorted(root.glob("*/example.json")):
        example = json.loads(meta.read_text())
        folder = meta.parent
        music = song_labels(example)
        sex = example["meta"].get("voice", {}).get("gender")
        voiced, bare = sung(sex), instrumental()
        group = f"songs/{root.name}/{folder.name}"
        rows.append({"path": str(folder / example["audio"]), "album": group, "split": split,
                     "tags": voiced["tags"] + music["tags"],
                     "absent": voiced["absent"] + music["absent"]})
        rows.append({"path": str(folder / example["stems"]["accompaniment"]), "album": group,
                     "split": split, "tags": bare["tags"] + music["tags"],
                     "absent": bare["absent"] + music["absent"]})
    return rows


SOLO = ("piano", "harpsichord", "guitar", "harp", "strings", "violin", "flute", "cello", "sitar")


def solo_rows(root: Path) -> list[dict]:
    """``scripts/solo_instruments.py``'s recordings: one instrument, no voice, no drums."""
    rows = []
    for split in ("train", "test"):
        for line in (root / f"{split}.jsonl").read_text().splitlines():
            row = json.loads(line)
            name = row["instrument"]
            tags = [name, "strings"] if name in ("violin", "cello") else [name]
            bare = instrumental()
            rows.append({"path": row["path"], "album": f"solo/{row['chorale']}",
                         "split": split, "tags": bare["tags"] + tags,
                         "absent": bare["absent"] + ["drums"]
                         + [t for t in SOLO if t not in tags]})
    return rows


def soundtrack_rows() -> list[dict]:
    rows = []
    for ex in load_instrumentals():
        if ex.group in SAMPLE_PACKS:
            continue
        split = "test" if held_out(ex.id) else "train"
        rows.append({"path": ex.audio, "album": ex.id, "split": split, **instrumental()})
    return rows


def folder_rows(root: Path, split: str, kind: str) -> list[dict]:
    """Recordings with teacher labels only (speech: no singing; demo songs)."""
    absent = ["singing", "choir", "choral", "opera"] if kind == "speech" else []
    return [{"path": str(p), "album": f"{kind}/{p.parent.name}/{p.stem}", "split": split,
             "tags": [], "absent": absent} for p in audio_files(root)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mir1k", type=Path, required=True)
    parser.add_argument("--songs", type=Path, help="synthetic songs to train on")
    parser.add_argument("--test-songs", type=Path, help="synthetic songs to hold out")
    parser.add_argument("--solo", type=Path, help="scripts/solo_instruments.py's output")
    parser.add_argument("--speech", type=Path)
    parser.add_argument("--demo", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    for name in ("mir1k", "songs", "test_songs", "solo", "speech", "demo", "out"):
        if getattr(args, name) is not None:
            setattr(args, name, getattr(args, name).resolve())
    rows = mir1k_rows(args.mir1k, args.out) + soundtrack_rows()
    if args.songs:
        rows += song_rows(args.songs, "train")
    if args.test_songs:
        rows += song_rows(args.test_songs, "test")
    if args.solo:
        rows += solo_rows(args.solo)
    if args.speech:
        rows += folder_rows(args.speech, "train", "speech")
    if args.demo:
        rows += folder_rows(args.demo, "test", "demo")
    seconds = {"train": 0.0, "test": 0.0}
    files = {"train": [], "test": []}
    for row in rows:
        row["teacher"] = teacher_file(args.out, Path(row["path"]))
        seconds[row["split"]] += audio.info(row["path"]).duration_s
        files[row.pop("split")].append(row)
    for split, kept in files.items():
        (args.out / f"{split}.jsonl").write_text(
            "".join(json.dumps(r) + "\n" for r in kept))
        print(f"{split}: {len(kept)} recordings, {seconds[split] / 3600:.2f} h")


if __name__ == "__main__":
    main()
