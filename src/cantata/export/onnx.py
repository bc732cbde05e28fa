"""ONNX export of the core net (features in, logits out), with a sidecar and a parity check (P9).

Feature extraction and post-processing stay outside the graph: the sidecar JSON written
beside the ``.onnx`` file carries what a runtime needs to rebuild them (feature config,
labels, ...), plus the graph's input and output names and shapes.

Export uses the TorchScript-based exporter (``dynamo=False``): the default torch.export
based one needs the ``onnxscript`` package, which the ``[onnx]`` extra does not install.
ONNX Runtime (``[onnx]`` extra) is imported only when a graph is run.
"""

from __future__ import annotations

import json
import logging
import os
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from cantata._version import __version__
from cantata.errors import CantataError, ConfigError, ModelLoadError, ShapeError
from cantata.files import atomic_output, write_text_atomic
from cantata.models.registry import check_json_like

logger = logging.getLogger(__name__)

OPSET_VERSION = 17
"""ONNX opset the graphs are written with."""

_RESERVED_KEYS = (
    "format_version",
    "code_version",
    "onnx_file",
    "opset_version",
    "inputs",
    "outputs",
)
_ORT_DTYPES = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(float16)": np.float16,
}


def export_onnx(
    model: nn.Module,
    example_input: Tensor,
    out_path: str | os.PathLike[str],
    *,
    input_names: Sequence[str] = ("features",),
    output_names: Sequence[str] = ("logits",),
    dynamic_axes: Mapping[str, Mapping[int, str]] | None = None,
    sidecar: Mapping[str, Any],
) -> Path:
    """Write ``model`` as an ONNX graph plus a JSON sidecar, both atomically.

    Args:
        model: the core net: one tensor in, one tensor out. Exported in eval mode (its
            mode is restored afterwards).
        example_input: an input the graph is traced with, e.g. shape
            ``(batch, n_features, n_frames)``.
        out_path: the ``.onnx`` file (``.onnx`` is appended when missing); the sidecar is
            the same path with ``.json``.
        input_names: name of the one graph input.
        output_names: name of the one graph output.
        dynamic_axes: per input/output name, the axes that may vary, as
            ``{axis: "name"}``. Default: the first axes are ``"batch"``, the input's last
            axis is ``"frames"``, and so is every output axis that has the input's frame
            count for two different counts (other output sizes follow from the graph).
        sidecar: JSON-like facts for runtimes (feature config dict, labels, sample rate);
            stored at the top level of the sidecar beside ``inputs`` and ``outputs``.

    Returns:
        The ``.onnx`` path.

    Raises:
        ConfigError: not exactly one input and one output name, or a sidecar that is not
            JSON-like or uses a reserved key.
        CantataError: the exporter failed, or (default ``dynamic_axes``) the model does not
            take one more frame than ``example_input`` has.
    """
    if len(input_names) != 1 or len(output_names) != 1:
        raise ConfigError(
            f"export_onnx writes one input and one output, got {list(input_names)} and "
            f"{list(output_names)}"
        )
    check_json_like(sidecar, what="ONNX sidecar")
    reserved = sorted(set(sidecar) & set(_RESERVED_KEYS))
    if reserved:
        raise ConfigError(f"sidecar keys {reserved} are reserved")
    onnx_path = _onnx_path(out_path)
    with _eval_mode(model), atomic_output(onnx_path, overwrite=True) as tmp:
        if dynamic_axes is None:
            dynamic_axes = {
                input_names[0]: {0: "batch", example_input.ndim - 1: "frames"},
                output_names[0]: {0: "batch", **_frame_axes(model, example_input)},
            }
        _torch_export(model, example_input, tmp, input_names, output_names, dynamic_axes)
        described = _describe(tmp)
    info = {
        "format_version": 1,
        "code_version": __version__,
        "onnx_file": onnx_path.name,
        "opset_version": OPSET_VERSION,
        **described,
        **sidecar,
    }
    sidecar_path = onnx_path.with_suffix(".json")
    write_text_atomic(sidecar_path, json.dumps(info, indent=2) + "\n", overwrite=True)
    logger.info("exported %s and %s", onnx_path, sidecar_path.name)
    return onnx_path


def check_parity(
    model: nn.Module,
    onnx_path: str | os.PathLike[str],
    example_input: Tensor,
    *,
    atol: float = 1e-4,
) -> float:
    """Compare ONNX Runtime with eager PyTorch (eval mode) on ``example_input``.

    Args:
        model: the torch model the graph was exported from.
        onnx_path: the exported graph.
        example_input: the input for both, e.g. random features of shape
            ``(batch, n_features, n_frames)``, any size the graph's dynamic axes allow.
        atol: largest absolute difference accepted.

    Returns:
        The largest absolute difference between the two outputs.

    Raises:
        CantataError: the outputs differ in shape, or by more than ``atol``.
    """
    onnx_out = OnnxModel(onnx_path)(example_input.detach().cpu().numpy())
    with _eval_mode(model), torch.no_grad():
        torch_out = model(example_input).detach().cpu().numpy()
    if onnx_out.shape != torch_out.shape:
        raise CantataError(
            f"{onnx_path}: ONNX output shape {onnx_out.shape} != torch {torch_out.shape}"
        )
    diff = float(np.max(np.abs(onnx_out.astype(np.float64) - torch_out), initial=0.0))
    if not diff <= atol:  # also catches NaN
        raise CantataError(f"{onnx_path}: ONNX differs from torch by {diff:.3g} > atol={atol}")
    return diff


class OnnxModel:
    """An exported graph run with ONNX Runtime, called like the torch model.

    Args:
        path: the ``.onnx`` file; its sidecar JSON, if present, is read into
            :attr:`sidecar`.
        providers: ONNX Runtime execution providers, in order of preference.

    Raises:
        CantataError: onnxruntime is not installed.
        ModelLoadError: the file is missing, not an ONNX graph, or not one input and one
            output.

    Example:
        >>> logits = OnnxModel("detector.onnx")(features)  # doctest: +SKIP
    """

    def __init__(
        self, path: str | os.PathLike[str], *, providers: Sequence[str] = ("CPUExecutionProvider",)
    ) -> None:
        self.path = Path(path)
        self._session = _session(self.path, providers)
        inputs, outputs = self._session.get_inputs(), self._session.get_outputs()
        if len(inputs) != 1 or len(outputs) != 1 or inputs[0].type not in _ORT_DTYPES:
            raise ModelLoadError(f"{self.path}: need one float input and one output")
        self.input_name: str = inputs[0].name
        self.output_name: str = outputs[0].name
        self.input_shape: list[int | str | None] = list(inputs[0].shape)
        self._dtype = _ORT_DTYPES[inputs[0].type]
        sidecar_path = self.path.with_suffix(".json")
        self.sidecar: dict[str, Any] | None = (
            json.loads(sidecar_path.read_text(encoding="utf-8")) if sidecar_path.is_file() else None
        )

    def __call__(self, features: np.ndarray) -> np.ndarray:
        """Run the graph.

        Args:
            features: input of the shape the graph takes, e.g.
                ``(batch, n_features, n_frames)``; cast to the graph's float type.

        Returns:
            The graph's output, e.g. logits ``(batch, n_labels, n_frames)``.

        Raises:
            ShapeError: wrong rank, or a fixed axis of the wrong size.
        """
        features = np.asarray(features, dtype=self._dtype)
        fixed_ok = all(
            not isinstance(want, int) or want == got
            for want, got in zip(self.input_shape, features.shape, strict=False)
        )
        if features.ndim != len(self.input_shape) or not fixed_ok:
            raise ShapeError(
                f"{self.path.name} takes {self.input_name!r} of shape {self.input_shape}, "
                f"got {features.shape}"
            )
        return self._session.run([self.output_name], {self.input_name: features})[0]


def _onnx_path(out_path: str | os.PathLike[str]) -> Path:
    path = Path(out_path)
    return path if path.suffix == ".onnx" else path.with_name(path.name + ".onnx")


def _frame_axes(model: nn.Module, example_input: Tensor) -> dict[int, str]:
    """Output axes sized like the input's last axis, for its length and one frame more."""
    longer = torch.cat([example_input, example_input[..., -1:]], dim=-1)
    try:
        with torch.no_grad():
            shapes = [model(features).shape for features in (example_input, longer)]
    except RuntimeError as err:
        raise CantataError(f"the model does not take other frame counts: {err}") from err
    n_frames = example_input.shape[-1]
    return {
        axis: "frames"
        for axis, (size, size_longer) in enumerate(zip(*shapes, strict=True))
        if axis > 0 and (size, size_longer) == (n_frames, n_frames + 1)
    }


def _torch_export(
    model: nn.Module,
    example_input: Tensor,
    path: Path,
    input_names: Sequence[str],
    output_names: Sequence[str],
    dynamic_axes: Mapping[str, Mapping[int, str]],
) -> None:
    with warnings.catch_warnings():
        # Using the TorchScript exporter is deliberate (see the module docstring).
        warnings.filterwarnings(
            "ignore", "You are using the legacy TorchScript", DeprecationWarning
        )
        warnings.filterwarnings("ignore", "The feature will be removed", DeprecationWarning)
        # A GRU traced at one batch size warns that others may fail; callers check parity
        # at another batch size (cantata export onnx does), which is what settles it.
        warnings.filterwarnings("ignore", "Exporting a model to ONNX with a batch_size other "
                                "than 1", UserWarning)
        try:
            torch.onnx.export(
                model,
                (example_input,),
                str(path),
                dynamo=False,
                opset_version=OPSET_VERSION,
                input_names=list(input_names),
                output_names=list(output_names),
                dynamic_axes={name: dict(axes) for name, axes in dynamic_axes.items()},
            )
        except RuntimeError as err:  # torch.onnx.errors.OnnxExporterError is one too
            raise CantataError(f"ONNX export to {path.name} failed: {err}") from err


def _describe(path: Path) -> dict[str, Any]:
    """Names, shapes (int or axis name) and element types of the graph's inputs/outputs."""
    session = _session(path, ("CPUExecutionProvider",))

    def entries(args: Sequence[Any]) -> list[dict[str, Any]]:
        return [{"name": a.name, "shape": list(a.shape), "type": a.type} for a in args]

    return {"inputs": entries(session.get_inputs()), "outputs": entries(session.get_outputs())}


def _session(path: Path, providers: Sequence[str]) -> Any:
    """An ONNX Runtime session on ``path``."""
    try:
        import onnxruntime as ort
        from onnxruntime.capi import onnxruntime_pybind11_state as ort_errors
    except ImportError as err:
        raise CantataError(
            "running ONNX graphs needs onnxruntime: pip install cantata[onnx]"
        ) from err
    if not path.is_file():
        raise ModelLoadError(f"{path}: not a file")
    bad_graph = (
        ort_errors.Fail,
        ort_errors.InvalidArgument,
        ort_errors.InvalidGraph,
        ort_errors.InvalidProtobuf,
        ort_errors.NoSuchFile,
        ort_errors.NotImplemented,
    )
    try:
        return ort.InferenceSession(str(path), providers=list(providers))
    except bad_graph as err:
        raise ModelLoadError(f"{path}: not a usable ONNX graph ({err})") from err


@contextmanager
def _eval_mode(model: nn.Module) -> Iterator[None]:
    """Put ``model`` in eval mode, then every submodule back in the mode it was in."""
    modes = [(module, module.training) for module in model.modules()]
    model.eval()
    try:
        yield
    finally:
        for module, training in modes:
            module.training = training
