"""The networks of Cantata, their registry and their checkpoints (no file formats beyond that).

Importing this package is cheap: the registry (and torch) load on first use of a name
below, and each model module registers its class when it is imported.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    name: "cantata.models.registry"
    for name in (
        "MODEL_MODULES",
        "Checkpoint",
        "build",
        "load_checkpoint",
        "register",
        "registered",
        "save_checkpoint",
    )
}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'cantata.models' has no attribute {name!r}")
