"""Filling `{name}` in a %%yj_chat prompt from the user's namespace.

The rules are the core's (`yjnb._templates`), shared with `yjnb.experiment`; here a field that
cannot be filled also says that ``--raw`` turns filling off.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..._templates import PromptError
from ..._templates import interpolate as fill

__all__ = ["PromptError", "interpolate"]

RAW_ADVICE = ", or use --raw"


def interpolate(text: str, namespace: Mapping[str, Any]) -> str:
    """`text` with its fields filled from `namespace` (see `yjnb._templates`)."""
    return fill(text, namespace, RAW_ADVICE)
