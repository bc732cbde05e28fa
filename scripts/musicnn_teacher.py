"""The teacher's scores for distilling a tagger: musicnn over every 3 s chunk of each recording.

A training-time tool, run in its own environment (TensorFlow never enters Cantata's)::

    python3 -m venv /tmp/tfvenv
    /tmp/tfvenv/bin/pip install 'tensorflow-cpu==2.15.1' 'numpy<2' 'librosa==0.10.2' soundfile
    /tmp/tfvenv/bin/pip install --no-deps musicnn==0.1.0
    /tmp/tfvenv/bin/python scripts/musicnn_teacher.py data/tagger/train.jsonl \
        data/tagger/test.jsonl

For each line of the labels files (``scripts/tagger_corpus.py`` writes them) whose
``teacher`` file is missing, it writes that ``.npz``: ``starts`` (chunks,) in seconds,
``scores`` (chunks, tags) the teacher's probabilities, ``tags`` its vocabulary, ``teacher``
its name. Chunks are musicnn's own input (16 kHz, 512-point FFT, hop 256, 96 mel bands,
187 frames = 3 s) every ``--hop-frames`` frames, plus one ending with the recording; a
recording shorter than a chunk is padded with silence. The graph is built once and the
checkpoint read once, so it runs at the network's speed. Reruns skip finished files.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import librosa
import numpy as np
import tensorflow as tf
from musicnn import configuration as config
from musicnn import models

tf.compat.v1.disable_eager_execution()

N_FRAMES = 187
BATCH = 64


def log_mel(path: str) -> np.ndarray:
    """(frames, 96) musicnn's input representation of a recording."""
    y, sr = librosa.load(path, sr=config.SR, mono=True)
    mel = librosa.feature.melspectrogram(y=y, sr=sr, hop_length=config.FFT_HOP,
                                         n_fft=config.FFT_SIZE, n_mels=config.N_MELS).T
    return np.log10(10000 * mel.astype(np.float16) + 1).astype(np.float32)


def patches(rep: np.ndarray, hop: int) -> tuple[np.ndarray, np.ndarray]:
    """(chunks, 187, 96) patches and their first frames."""
    if len(rep) < N_FRAMES:
        rep = np.concatenate([rep, np.zeros((N_FRAMES - len(rep), rep.shape[1]), rep.dtype)])
    firsts = list(range(0, len(rep) - N_FRAMES + 1, hop))
    if firsts[-1] != len(rep) - N_FRAMES:
        firsts.append(len(rep) - N_FRAMES)
    return np.stack([rep[f:f + N_FRAMES] for f in firsts]), np.array(firsts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("labels", nargs="+", help="labels files (JSONL with path, teacher)")
    parser.add_argument("--model", default="MTT_musicnn")
    parser.add_argument("--hop-frames", type=int, default=94, help="94 frames = 1.5 s")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    rows = [json.loads(line) for f in args.labels for line in open(f) if line.strip()]
    todo = [r for r in rows if not os.path.exists(r["teacher"])]
    print(f"{len(rows)} recordings, {len(todo)} to label", flush=True)
    tags = config.MTT_LABELS if "MTT" in args.model else config.MSD_LABELS
    with tf.name_scope("model"):
        x = tf.compat.v1.placeholder(tf.float32, [None, N_FRAMES, config.N_MELS])
        training = tf.compat.v1.placeholder(tf.bool)
        y = tf.nn.sigmoid(models.define_model(x, training, args.model, len(tags))[0])
    threads = dict(intra_op_parallelism_threads=args.threads, inter_op_parallelism_threads=1)
    sess = tf.compat.v1.Session(config=tf.compat.v1.ConfigProto(**threads))
    sess.run(tf.compat.v1.global_variables_initializer())
    folder = os.path.join(os.path.dirname(models.__file__), args.model) + "/"
    tf.compat.v1.train.Saver().restore(sess, folder)
    began, seconds = time.time(), 0.0
    for i, row in enumerate(todo):
        try:
            rep = log_mel(row["path"])
        except Exception as err:  # noqa: BLE001 - one unreadable file must not stop the run
            print(f"skipping {row['path']}: {err}", file=sys.stderr)
            continue
        batch, firsts = patches(rep, args.hop_frames)
        scores = np.concatenate([sess.run(y, {x: batch[k:k + BATCH], training: False})
                                 for k in range(0, len(batch), BATCH)])
        os.makedirs(os.path.dirname(row["teacher"]), exist_ok=True)
        partial = row["teacher"] + ".part.npz"
        np.savez(partial, starts=(firsts * config.FFT_HOP / config.SR).astype(np.float32),
                 scores=scores.astype(np.float32), tags=np.array(tags),
                 teacher=np.array(f"musicnn 0.1.0 {args.model}"),
                 chunk_s=np.float32(N_FRAMES * config.FFT_HOP / config.SR))
        os.replace(partial, row["teacher"])
        seconds += len(rep) * config.FFT_HOP / config.SR
        if i % 50 == 0 or i == len(todo) - 1:
            spent = time.time() - began
            print(f"{i + 1}/{len(todo)}  {seconds / 3600:.2f} h of audio in {spent:.0f} s "
                  f"({seconds / max(spent, 1e-9):.0f}x real time)", flush=True)


if __name__ == "__main__":
    main()
