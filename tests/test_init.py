"""The public surface: lazy names, a cheap import, no heavy modules until needed."""

from __future__ import annotations

import subprocess
import sys

import yjnb


def test_public_names_resolve_and_all_is_sorted() -> None:
    assert list(yjnb.__all__) == sorted(yjnb.__all__)
    for name in yjnb.__all__:
        assert getattr(yjnb, name) is not None
    assert issubclass(yjnb.InsufficientBalanceError, yjnb.APIError)
    assert issubclass(yjnb.APIError, yjnb.YJError)
    assert issubclass(yjnb.ValidationError, ValueError)


def test_import_yjnb_loads_no_heavy_modules() -> None:
    code = (
        "import sys, yjnb; heavy = {'httpx', 'IPython', 'ipywidgets', 'pandas', 'starlette'};"
        "print(sorted(heavy & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_unknown_attribute_is_an_attribute_error() -> None:
    try:
        yjnb.NoSuchThing  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError as exc:
        assert "NoSuchThing" in str(exc)
    else:
        raise AssertionError("expected AttributeError")
