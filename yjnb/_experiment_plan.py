"""An experiment's plan: its inputs checked and every cell's call prepared, before any request.

A cell is one (data row, prompt, model, sample). Every problem of the inputs is found at once
and raised as one `ValidationError`: a template naming a column that is not there (naming it
and listing the columns), parameters a model refuses, an empty rendered prompt, chat and media
models mixed in one run.

An experiment has one kind: "chat", or "image"/"video" when its models are media models (by
the catalog, or `kind=`); a media cell is a prepared task (`Cell.task`) instead of a chat.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ._errors import ValidationError
from ._experiment_cache import cache_key
from ._templates import PromptError, field_names, interpolate
from .protocols.base import PreparedChat, PreparedTask
from .scorers import Judge

__all__ = ["DEFAULT_PROMPT", "KINDS", "Cell", "Plan", "make_plan"]

DEFAULT_PROMPT = "default"  # the name of a prompt given as one string
MAX_LISTED = 10  # problems of rows listed before "... and N more"
KINDS = ("chat", "image", "video")
Prepare = Callable[..., PreparedChat]
PrepareTask = Callable[..., PreparedTask]  # (kind, prompt, model=, params=) -> PreparedTask


@dataclass
class Cell:
    """One call of the experiment, prepared."""

    row: int  # position in the data
    prompt_name: str
    model: str
    sample: int
    chat: PreparedChat | None  # None for a media cell
    params: dict[str, Any]
    key: str
    task: PreparedTask | None = None  # a media cell's checked task

    @property
    def kind(self) -> str:
        return "chat" if self.task is None else self.task.kind

    @property
    def prompt(self) -> str:
        """The rendered prompt sent."""
        return self.chat.prompt if self.chat is not None else self.task.request.prompt  # type: ignore[union-attr]

    @property
    def system(self) -> str | None:
        return self.chat.system if self.chat is not None else None


@dataclass
class Plan:
    """What an experiment will do: its rows, prompts, models and every cell, in order."""

    name: str
    rows: list[dict[str, Any]]
    columns: list[str]
    prompts: dict[str, str]
    models: list[str]
    scorers: dict[str, Callable[..., Any]]
    repeat: int
    kind: str = "chat"  # "chat", "image" or "video"
    cells: list[Cell] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # A judge's call for a question (the judge scorers' calls); None without judges.
    judge_cell: Callable[[Judge, str], Cell] | None = None


def as_rows(data: Any) -> tuple[list[dict[str, Any]], list[str]]:
    """The data as row dicts and its columns: a DataFrame, a list of dicts, a list of str."""
    if hasattr(data, "to_dict") and hasattr(data, "columns"):  # a pandas DataFrame
        names = [str(c) for c in data.columns]
        tuples = data.itertuples(index=False, name=None)
        return [dict(zip(names, values, strict=True)) for values in tuples], names
    if isinstance(data, (str, bytes)) or not isinstance(data, (list, tuple)):
        raise ValidationError(
            f"data must be a DataFrame, a list of dicts or a list of strings, not "
            f"{type(data).__name__}"
        )
    if all(isinstance(item, str) for item in data):
        return [{"input": item} for item in data], ["input"]
    if all(isinstance(item, Mapping) for item in data):
        columns: list[str] = []
        for item in data:
            columns += [str(k) for k in item if str(k) not in columns]
        return [{str(k): v for k, v in item.items()} for item in data], columns
    raise ValidationError("data: a list must hold only dicts (rows) or only strings (inputs)")


def as_prompts(prompt: Any) -> dict[str, str]:
    if isinstance(prompt, str):
        return {DEFAULT_PROMPT: prompt}
    if isinstance(prompt, Mapping) and prompt:
        bad = [str(k) for k, v in prompt.items() if not isinstance(v, str) or not v.strip()]
        if bad:
            raise ValidationError(f"prompt {', '.join(bad)}: each template must be a non-empty str")
        return {str(k): v for k, v in prompt.items()}
    raise ValidationError('prompt must be a template string or {"name": template, ...}')


def as_models(models: Any, default: str) -> list[str]:
    if models is None:
        return [default]
    listed = [models] if isinstance(models, str) else list(models)
    if not listed or not all(isinstance(m, str) and m.strip() for m in listed):
        raise ValidationError("models must be a model name or a non-empty list of names")
    return list(dict.fromkeys(listed))


def params_by_model(params: Any, models: list[str]) -> dict[str, dict[str, Any]]:
    """`{...}` for every model, or `{"model": {...}}` (keys that are the models, dict values)."""
    if params is None:
        return {m: {} for m in models}
    if not isinstance(params, Mapping):
        raise ValidationError(f"params must be a dict, not {type(params).__name__}")
    per_model = params and all(k in models and isinstance(v, Mapping) for k, v in params.items())
    if per_model:
        return {m: dict(params.get(m, {})) for m in models}
    return {m: dict(params) for m in models}


def template_problems(templates: Mapping[str, str | None], columns: list[str]) -> list[str]:
    """Each column a template names that the data does not have."""
    problems = []
    for label, template in templates.items():
        for name in field_names(template or ""):
            if name not in columns:
                problems.append(
                    f"{label} names column {{{name}}}, which the data does not have; columns: "
                    f"{', '.join(columns) or '(none)'} (write {{{{{name}}}}} for literal braces)"
                )
    return problems


def default_name(prompts: Mapping[str, str], models: list[str], system: str | None) -> str:
    material = json.dumps([sorted(prompts.items()), models, system], ensure_ascii=False)
    return "experiment-" + hashlib.sha256(material.encode()).hexdigest()[:8]


def render(template: str | None, row: Mapping[str, Any]) -> str | None:
    return None if template is None else interpolate(template, row)


def prepare_call(
    plan: Plan, prepare: Prepare, prepare_task: PrepareTask, text: str, **kw: Any
) -> tuple[PreparedChat | None, PreparedTask | None]:
    """One cell's checked call: a chat, or a task in a media run (which takes no system)."""
    if plan.kind == "chat":
        return prepare(text, **kw), None
    kw.pop("system", None)
    params = {k: v for k, v in kw.items() if k != "model"}
    return None, prepare_task(plan.kind, text, model=kw["model"], params=params)


def prepare_cells(
    plan: Plan,
    prepare: Prepare,
    prepare_task: PrepareTask,
    params: Mapping[str, dict[str, Any]],
    system: str | None,
    where: Mapping[str, str],
) -> None:
    """Fill `plan.cells`, or raise one `ValidationError` with every problem."""
    problems: list[str] = []
    for model in plan.models:  # bad parameters: once per model, before the rows
        try:
            chat, task = prepare_call(plan, prepare, prepare_task, "probe", model=model,
                                      **params[model])  # fmt: skip
            plan.warnings += (chat or task).warnings  # type: ignore[union-attr]
        except ValidationError as exc:
            problems += [f"{model}: {p}" for p in exc.problems]
    for label, judge in plan.scorers.items():
        if isinstance(judge, Judge):
            try:
                prepare("probe", model=judge.model, **judge.params)
            except ValidationError as exc:
                problems += [f"judge {label!r}: {judge.model}: {p}" for p in exc.problems]
    if problems:
        raise ValidationError(problems)
    for i, row in enumerate(plan.rows):
        for prompt_name, template in plan.prompts.items():
            try:
                text, sys_text = render(template, row) or "", render(system, row)
            except PromptError as exc:
                problems.append(f"row {i}, prompt {prompt_name!r}: {exc}")
                continue
            for model in plan.models:
                try:
                    chat, task = prepare_call(plan, prepare, prepare_task, text, model=model,
                                              system=sys_text, **params[model])  # fmt: skip
                except ValidationError as exc:
                    problems += [f"row {i}, prompt {prompt_name!r}: {p}" for p in exc.problems]
                    continue
                for sample in range(plan.repeat):
                    key = cache_key(
                        protocol=where["protocol"], base_url=where["base_url"], model=model,
                        system=sys_text, prompt=text, params=params[model], sample=sample,
                        kind=plan.kind,
                    )  # fmt: skip
                    plan.cells.append(
                        Cell(i, prompt_name, model, sample, chat, params[model], key, task)
                    )
    if problems:
        more = len(problems) - MAX_LISTED
        raise ValidationError(
            problems[:MAX_LISTED] + ([f"... and {more} more"] if more > 0 else [])
        )
    plan.warnings = list(dict.fromkeys(plan.warnings))


def run_kind(models: list[str], kind_of: Callable[[str], str], kind: str | None) -> str:
    """The run's one kind: `kind=` when given, else the catalog's for its models; chat and
    media models mixed, or image and video models mixed, are refused."""
    if kind is not None:
        if kind not in KINDS:
            raise ValidationError(f"kind={kind!r}: use one of {', '.join(KINDS)}")
        return kind
    kinds = {m: kind_of(m) for m in models}
    found = set(kinds.values())
    if len(found) > 1:
        listed = "; ".join(f"{m} ({k})" for m, k in kinds.items())
        raise ValidationError(
            f"one experiment runs one kind of model, not a mix: {listed}; run the chat, image "
            "and video models as separate experiments"
        )
    return found.pop()


def make_plan(
    data: Any,
    prompt: Any,
    models: Any,
    *,
    default_model: Callable[[str], str],
    kind_of: Callable[[str], str],
    prepare: Prepare,
    prepare_task: PrepareTask,
    where: Mapping[str, str],
    kind: str | None = None,
    system: str | None = None,
    params: Any = None,
    scorers: Any = None,
    name: str | None = None,
    repeat: int = 1,
) -> Plan:
    """Check everything and prepare every cell; one `ValidationError` with every problem.
    `default_model(kind)` is the profile's model of a kind; `kind_of(model)` the catalog's
    kind of a model ("chat" for a model it does not know)."""
    rows, columns = as_rows(data)
    prompts = as_prompts(prompt)
    model_list = as_models(models, default_model(kind if kind in KINDS else "chat"))
    the_kind = run_kind(model_list, kind_of, kind)
    problems = []
    if system is not None and not isinstance(system, str):
        problems.append(f"system must be a string or template, not {type(system).__name__}")
    if system is not None and the_kind != "chat":
        problems.append(f"system: {the_kind} models take no system prompt; leave it out")
    if isinstance(repeat, bool) or not isinstance(repeat, int) or repeat < 1:
        problems.append(f"repeat must be a whole number, 1 or more; got {repeat!r}")
    if name is not None and (not isinstance(name, str) or not name.strip()):
        problems.append("name must be a non-empty string")
    checked_scorers = check_scorers(scorers, columns, problems, the_kind)
    labels = {f"prompt {k!r}": v for k, v in prompts.items()}
    problems += template_problems({**labels, "system": system}, columns)
    if problems:
        raise ValidationError(problems)
    by_model = params_by_model(params, model_list)
    plan = Plan(
        name=name or default_name(prompts, model_list, system), rows=rows, columns=columns,
        prompts=prompts, models=model_list, scorers=checked_scorers, repeat=repeat,
        kind=the_kind,
    )  # fmt: skip
    prepare_cells(plan, prepare, prepare_task, by_model, system, where)
    if any(isinstance(s, Judge) for s in plan.scorers.values()):
        plan.judge_cell = judge_cells(prepare, where)
    return plan


def judge_cells(prepare: Prepare, where: Mapping[str, str]) -> Callable[[Judge, str], Cell]:
    """Makes a judge's call for a question: cached under its own key, like any cell's."""

    def judge_cell(judge: Judge, question: str) -> Cell:
        chat = prepare(question, model=judge.model, **judge.params)
        key = cache_key(
            protocol=where["protocol"], base_url=where["base_url"], model=judge.model,
            system=None, prompt=question, params=judge.params, sample=0,
        )  # fmt: skip
        return Cell(-1, "judge", judge.model, 0, chat, dict(judge.params), key)

    return judge_cell


RESERVED_COLUMNS = (
    "prompt", "model", "sample", "text", "status", "error", "prompt_tokens", "completion_tokens",
    "cached_tokens", "latency_s", "ttft_s", "credits", "credits_estimate", "cached", "cached_from",
    "usage_id",
    "taskid", "image_path", "video_path", "cover_path",
)  # fmt: skip


def check_scorers(
    scorers: Any, columns: list[str], problems: list[str], kind: str = "chat"
) -> dict[str, Any]:
    if scorers is None:
        return {}
    if not isinstance(scorers, Mapping):
        problems.append('scorers must be a dict: {"name": callable(text, row), ...}')
        return {}
    taken = set(RESERVED_COLUMNS) | set(columns)
    for label, scorer in scorers.items():
        if not callable(scorer):
            problems.append(f"scorer {label!r} is not callable; use callable(text, row)")
        if label in taken:
            problems.append(f"scorer {label!r} would hide the column of that name; rename it")
        if isinstance(scorer, Judge) and kind != "chat":
            problems.append(f"scorer {label!r}: a judge reads text; {kind} answers are files")
        elif isinstance(scorer, Judge):
            problems += template_problems({f"judge {label!r} rubric": scorer.rubric}, columns)
    return {str(k): v for k, v in scorers.items()}
