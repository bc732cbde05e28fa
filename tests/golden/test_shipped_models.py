"""Golden tests: every shipped checkpoint's outputs on a fixed synthetic song are unchanged.

The references in ``data/`` were computed by ``make_references.py`` (which also holds the
input and the calls made here). A failure means a model's output changed: a bug, unless the
model was deliberately re-shipped; then rerun ``make_references.py``.

Tolerances: rerunning with 1, 2 or 4 threads changes outputs by at most 1.3e-7 (float32
rounding); the tolerances below (1e-4) are about 1000 times that, to allow for other CPUs
and BLAS builds, and 50-400 times smaller than a small real change: scaling a model's first
weight tensor by 1 % moves its outputs by 5e-3 (separator, continuer) to 4e-2 (speech).
"""

from __future__ import annotations

import numpy as np
import pytest
from make_references import CASES, DATA, continuer

#: (case, key) -> (rtol, atol); keys not listed must match exactly
TOLERANCES = {
    **{(case, "probs"): (0.0, 1e-4) for case in CASES if "detector" in case},
    ("separator", "samples"): (0.0, 1e-4),  # stems peak at 0.56: -75 dB of it
    ("separator", "rms"): (1e-4, 1e-6),
    ("embedder", "vectors"): (0.0, 1e-4),  # adjacent segments lie ~1.5 apart
    ("continuer", "predicted"): (0.0, 1e-4),
    ("defect-detector", "events"): (0.0, 0.02),  # seconds; a frame is 11.6 ms
    ("tagger", "chunk_scores"): (0.0, 1e-4),
    ("tagger", "scores"): (0.0, 1e-4),
    ("restorer", "samples"): (0.0, 1e-4),  # the song peaks at 0.7
}


@pytest.mark.parametrize("case", list(CASES))
def test_shipped_model_output_is_unchanged(case: str) -> None:
    with np.load(DATA / f"{case}.npz") as stored:
        expected = dict(stored)
    actual = continuer(expected["inputs"]) if case == "continuer" else CASES[case]()
    assert actual.keys() == expected.keys()
    for key, want in expected.items():
        got = actual[key]
        assert got.shape == want.shape, f"{case}/{key}: shape {got.shape} != {want.shape}"
        rtol, atol = TOLERANCES.get((case, key), (0.0, 0.0))
        if want.dtype.kind == "f":
            np.testing.assert_allclose(got, want, rtol=rtol, atol=atol,
                                       err_msg=f"{case}/{key} changed")
        else:
            np.testing.assert_array_equal(got, want, err_msg=f"{case}/{key} changed")
