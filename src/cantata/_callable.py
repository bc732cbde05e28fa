"""Packages that are also functions: ``cantata.detect(y, sr=sr)`` next to
``from cantata.detect import VoiceDetector``.

A package module's class is switched to a subclass of :class:`CallablePackage` naming its
function; calling the package calls the function, and ``help()`` and
:func:`inspect.signature` show the function's docstring and signature (loaded on first
use, so importing the package stays cheap).
"""

from __future__ import annotations

import importlib
import inspect
import types
from collections.abc import Callable
from typing import Any


class CallablePackage(types.ModuleType):
    """A package module that can be called like its function ``FUNCTION`` (``"module:name"``)."""

    FUNCTION = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Keep the docstring property: a class body sets its own ``__doc__`` (None)."""
        super().__init_subclass__(**kwargs)
        cls.__doc__ = CallablePackage.__dict__["__doc__"]

    def _function(self) -> Callable[..., Any]:
        module, name = self.FUNCTION.split(":")
        return getattr(importlib.import_module(module), name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._function()(*args, **kwargs)

    @property
    def __doc__(self) -> str:
        """The function's signature and docstring, then the package's own docstring."""
        function = self._function()
        own = inspect.cleandoc(vars(self).get("__doc__") or "")
        signature = inspect.signature(function)
        bare = signature.replace(return_annotation=inspect.Signature.empty, parameters=[
            p.replace(annotation=inspect.Parameter.empty) for p in signature.parameters.values()])
        head = f"{function.__name__}{bare}"
        return f"{head}\n\n{inspect.cleandoc(function.__doc__ or '')}\n\n{own}"

    @property
    def __signature__(self) -> inspect.Signature:
        return inspect.signature(self._function())
