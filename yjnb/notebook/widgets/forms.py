"""`TaskForm`, `yjnb.form("video")` / `%yj_video` with no prompt: an ipywidgets form drawn from
the catalog.

catelog, model, prompt, then the model's own fields (see `form_fields`), defaults filled in.
Changing the catelog or the model rebuilds the fields (the prompt is kept). Every change is
checked with the core's one validation (`prepare_task`): a problem disables Submit and is
shown next to its field. Submit sends the checked request in the background; "copy as magic"
shows the `%yj_video ...` line that sends the same request.

What a submit makes is an ordinary output, not a widget: its live card (then the video, or
the image with its embedded data) is a display in the cell that shows the form (or, when
`submit()` is called from code, in the cell that calls it). A saved notebook keeps it, with or
without widget state; only the form itself needs its kernel.

The catalog is that of the profile's protocol: an openai or gateway profile (`profile=`, or
the session's current one) lists the OpenAI-style models (nano-banana, dall-e, veo-3.1, sora-2).

A form works on a `Session` (its settings, clients and task watchers): `yjnb.form()` (in the
extension loader, `yjnb/notebook/__init__.py`) passes the one of the loaded extension.
"""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING, Any

import ipywidgets as w

from ..._catalog_types import Prepared
from ..._errors import ValidationError, YJError
from ..._prepare import prepare_task
from ...protocols.base import PreparedTask
from ..protocols import check_platform_option, default_model, protocol_of
from ..views.html import esc
from .form_fields import Field

if TYPE_CHECKING:
    from ..services.tasks import Watcher
    from ..session import Session

__all__ = ["TaskForm"]

CATELOG_LABELS = {
    "t2v": "text to video",
    "i2v": "image to video",
    "ref2v": "reference to video",
    "t2i": "text to image",
}


class TaskForm(w.VBox):
    """The form. Tests and code use `fields`, `prompt`, `catelog`, `model`, `submit_button`,
    `params()`, `prepared()`, `payload()`, `problems()`, `magic_line()` and `submit()`;
    `protocol` is the profile's protocol and `catalog` its catalog, where the models come from."""

    def __init__(
        self,
        kind: str,
        session: Session,
        *,
        model: str | None = None,
        values: dict[str, Any] | None = None,
        profile: str | None = None,
        platform: str | None = None,
    ) -> None:
        if kind not in ("video", "image"):
            raise ValueError(f"form kind must be 'video' or 'image', not {kind!r}")
        self.kind = kind
        self.session = session
        self.profile = profile or None
        self.platform = platform or None
        settings = session.profile_settings(self.profile, self.platform)
        check_platform_option(settings, self.platform)
        self.profile_name = settings.profile
        self.protocol = protocol_of(settings)
        self.catalog = self.protocol.catalog
        self.watchers: list[Watcher] = []
        self.fields: dict[str, Field] = {}
        catelogs = self.catalog.kind_catelogs(kind)
        model = model or default_model(session.options, kind, settings)
        values = dict(values or {})
        self.catelog = w.Dropdown(
            options=[(f"{c} ({CATELOG_LABELS.get(c, c)})", c) for c in catelogs],
            value=self._first_catelog(model, values, catelogs),
            description="catelog",
            disabled=len(catelogs) == 1,
        )
        self.model = w.Dropdown(description="model", layout=w.Layout(width="420px"))
        self.prompt = w.Textarea(
            placeholder="prompt: what to generate",
            layout=w.Layout(width="600px", height="72px"),
        )
        self.prompt_error = w.HTML("")
        self.field_box = w.VBox()
        self.submit_button = w.Button(description="Submit", button_style="primary", icon="play")
        self.copy_button = w.ToggleButton(description="copy as magic", icon="clipboard")
        self.magic_text = w.Textarea(layout=w.Layout(width="600px", height="56px", display="none"))
        self.status = w.HTML("")
        self.display_parent: Any = None  # the header of the cell that displayed the form
        self._building = False
        super().__init__(
            [
                w.HBox([self.catelog, self.model]),
                w.HBox([self.prompt, self.prompt_error]),
                self.field_box,
                w.HBox([self.submit_button, self.copy_button]),
                self.status,
                self.magic_text,
            ]
        )
        self._set_models(model)
        self._build_fields(values)
        self._observe()
        self._changed()

    # -- building ----------------------------------------------------------------------------

    def _first_catelog(self, model: str, values: dict[str, Any], catelogs: tuple[str, ...]) -> str:
        """The catelog the model and values imply, else the first one the model has."""
        try:
            start = self.catalog.infer_catelog(self.kind, model, values)
        except ValidationError:
            start = catelogs[0]
        if start not in catelogs or self._spec(model, start) is None:
            start = next((c for c in catelogs if self._spec(model, c)), catelogs[0])
        return start

    def _observe(self) -> None:
        self.catelog.observe(self._catelog_changed, names="value")
        self.model.observe(self._model_changed, names="value")
        self.prompt.observe(self._changed, names="value")
        self.submit_button.on_click(lambda _: self.submit())
        self.copy_button.observe(self._changed, names="value")

    def _spec(self, model: str, catelog: str) -> Any:
        return self.catalog.spec(model, catelog)

    def _set_models(self, preferred: str | None) -> None:
        ids = [s.id for s in self.catalog.specs(self.catelog.value)]
        self._building = True
        try:
            self.model.options = ids
            self.model.value = preferred if preferred in ids else ids[0]
        finally:
            self._building = False

    def _build_fields(self, values: dict[str, Any] | None = None) -> None:
        s = self._spec(self.model.value, self.catelog.value)
        self.fields = {p.name: Field(p) for p in (s.params if s else ())}
        for name, value in (values or {}).items():
            p = s.param(name) if s else None
            if p is not None and p.name in self.fields:
                self.fields[p.name].set_value(value)
        for field in self.fields.values():
            field.observe(self._changed)
        self.field_box.children = [f.box for f in self.fields.values()]

    def _catelog_changed(self, change: Any) -> None:
        self._set_models(self.model.value)
        self._build_fields()
        self._changed()

    def _model_changed(self, change: Any) -> None:
        if self._building:
            return
        self._build_fields()
        self._changed()

    # -- values ------------------------------------------------------------------------------

    def params(self) -> dict[str, Any]:
        """The parameters the magic would get: only fields that differ from their default,
        plus `catelog` when the files given would not imply the chosen one."""
        out = {name: f.value() for name, f in self.fields.items()}
        out = {k: v for k, v in out.items() if v is not None}
        inferred = self.catalog.infer_catelog(self.kind, self.model.value, out)
        if inferred != self.catelog.value:
            out["catelog"] = self.catelog.value
        return out

    def prepared(self) -> PreparedTask:
        """The request checked by the core's one validation, as the equivalent magic line
        would send it; `ValidationError` listing every problem otherwise."""
        return prepare_task(
            self.protocol,
            self.kind,
            self.prompt.value,
            model=self.model.value,
            profile=self.profile_name,
            catelog=self.catelog.value,
            params=self.params(),
        )

    def payload(self) -> Prepared:
        """The model, catelog, prompt and wire fields and files of `prepared()`."""
        return self.prepared().request

    def problems(self) -> dict[str, list[str]]:
        """Problems by field name ("prompt" for the prompt, "" for the rest)."""
        out: dict[str, list[str]] = {}
        try:
            self.payload()
        except ValidationError as exc:
            for problem in exc.problems:
                key = next(
                    (n for n in self.fields if problem.startswith((f"{n} ", f"{n}:"))),
                    "prompt" if problem.startswith("prompt") else "",
                )
                out.setdefault(key, []).append(problem)
        return out

    def magic_line(self) -> str:
        """The `%yj_video ...` line (or `%%yj_video` cell) that sends the same request."""
        words = [f"-m {shlex.quote(self.model.value)}"]
        if self.profile:
            words.append(f"-p {shlex.quote(self.profile)}")
        if self.platform:
            words.append(f"--platform {shlex.quote(self.platform)}")
        params = self.params()
        for name in ("catelog", *self.fields):
            if name not in params:
                continue
            value = params["catelog"] if name == "catelog" else self.fields[name].magic_value()
            words.append(shlex.quote(f"{name}={value}"))
        prompt = self.prompt.value.strip()
        line = " ".join(words)
        if "\n" in prompt or "=" in prompt or prompt.startswith("-") or not prompt:
            return f"%%yj_{self.kind} {line}\n{prompt}"
        return f"%yj_{self.kind} {line} {shlex.quote(prompt)}"

    def _changed(self, change: Any = None) -> None:
        problems = self.problems()
        for name, field in self.fields.items():
            field.show_problems(problems.get(name, []))
        prompt = problems.get("prompt", [])
        self.prompt_error.value = (
            f"<span style='color:#cf222e'>{esc('; '.join(prompt))}</span>" if prompt else ""
        )
        other = problems.get("", [])
        self.status.value = (
            f"<span style='color:#cf222e'>{esc('; '.join(other))}</span>" if other else ""
        )
        self.submit_button.disabled = bool(problems)
        self.submit_button.tooltip = (
            "fix the fields marked in red first" if problems else "start the task"
        )
        if self.copy_button.value:
            self.magic_text.value = self.magic_line()
            self.magic_text.layout.display = None
        else:
            self.magic_text.layout.display = "none"

    # -- submitting --------------------------------------------------------------------------

    def _ipython_display_(self) -> None:
        """Displayed as `display_data`, never as a cell's `Out[n]`; the cell is remembered:
        a click's results go there."""
        from IPython.display import display

        from ..views.sinks import capture_parent

        self.display_parent = capture_parent(self.session.shell)
        bundle = super()._repr_mimebundle_() if self._repr_mimebundle_ is not None else None
        if bundle:
            display(bundle, raw=True)

    def _result_parent(self) -> Any:
        """The cell for a submit's outputs: the one running now if `submit()` is called from
        code, else (a click on Submit) the one that displayed the form."""
        from ..views.sinks import capture_parent

        current = capture_parent(self.session.shell)
        if isinstance(current, dict) and current.get("msg_type") == "execute_request":
            return current
        return self.display_parent or current

    def submit(self) -> Watcher | None:
        """Start the task in the background; its live card is an ordinary output of the form's
        cell. Returns the `Watcher` (its `.task` fills in), or None if the input or the
        budget stopped it."""
        from IPython.core.error import UsageError

        from ..services.budget import check_budget
        from ..services.tasks import start_task
        from ..views.sinks import DisplaySink

        try:
            prepared = self.prepared()
        except ValidationError:
            self._changed()
            return None
        try:
            demo = self.session.profile_settings(self.profile, self.platform).demo
            check_budget(self.session, force=False, demo=demo, models=[prepared.model])
            watcher = start_task(
                self.session,
                prepared,
                sink=DisplaySink(self.session.shell, parent=self._result_parent()),
                profile=self.profile,
                platform=self.platform,
            )
        except (UsageError, YJError) as exc:
            self.status.value = f"<span style='color:#cf222e'>{esc(exc)}</span>"
            return None
        self.status.value = ""
        self.watchers.append(watcher)
        return watcher
