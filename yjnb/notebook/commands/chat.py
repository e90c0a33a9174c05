"""%%yj_chat: send the cell to one or several chat models and stream the answers.

What a %%yj_chat cell does: fill `{name}` from the namespace (`services/prompt.py`), build one
request per model carrying its conversation (`services/conversations.py`), check every one of
them with the core's one validation (`prepare_chat`) before anything is sent, check the credit
budget, send the checked requests and stream them into one live view (`services/streams.py`,
`views/stream_view.py`), then store the result in `_yj` (and `-o VAR`) without displaying it
again. Formats: `markdown` (default), `text` (plain
text), `code` (the answer's code blocks go into a new cell below), `json` (the answer is
parsed: `_yj` and VAR get the parsed value; the `ChatResult` is in `_yj_chat` as always).

`images=`/`files=` attach files to the message (`services/chat_parts.py`; openai and gateway
profiles), `--api responses` uses the Responses API (openai profiles). The default model
follows the profile's protocol (`protocols.py`).
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError

from ..._config import Settings
from ..._errors import ValidationError
from ..._prepare import prepare_chat
from ..._types import ChatResult
from ..protocols import default_model, protocol_of
from ..services.budget import check_budget, usage_line
from ..services.chat_parts import Attachments, split_attachments
from ..services.conversations import Conversation, Request, conversation
from ..services.prompt import PromptError, interpolate
from ..services.streams import Outcome, run_streams
from ..views.stream_view import ColumnsView, StreamView

if TYPE_CHECKING:
    from ..session import Session

__all__ = ["parse_params", "run_chat"]

_INT = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?|[+-]?(inf|nan)", re.IGNORECASE)
_CODE_BLOCK = re.compile(r"^ {0,3}(`{3,}|~{3,})([^\n`]*)\n(.*?)^ {0,3}\1[ \t]*$", re.M | re.S)
_RESERVED = {
    "model": "-m MODEL",
    "prompt": "the cell body",
    "stream": "--no-stream",
    "system": "-s SYSTEM",
    "sys_prompt": "-s SYSTEM",
    "catelogid": "nothing (chat is always t2t)",
    "messages": "the cell body (the conversation is kept for you)",
    "input": "the cell body",
    "api": "--api responses",
    "platform": "--platform P",
}


# -- arguments --------------------------------------------------------------------------------


def parse_value(raw: str) -> Any:
    """`0.2` -> 0.2, `100` -> 100, `true`/`false` -> bool, `none`/`null` -> None, else str."""
    low = raw.lower()
    if low in ("true", "false"):
        return low == "true"
    if low in ("none", "null"):
        return None
    if _INT.fullmatch(raw):
        return int(raw)
    if _FLOAT.fullmatch(raw):
        return float(raw)
    return raw


def parse_params(words: list[str]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for word in words:
        name, sep, value = word.partition("=")
        if not sep or not name.isidentifier():
            raise UsageError(
                f"{word!r} is not a name=value parameter (e.g. temperature=0.2); "
                "the prompt goes in the cell body, below the %%yj_chat line"
            )
        if name in _RESERVED:
            raise UsageError(f"{name}= is set by yjnb; use {_RESERVED[name]} instead")
        params[name] = parse_value(value)
    return params


def _models(session: Session, arg: str | None, settings: Settings) -> list[str]:
    models: list[str] = []
    for name in (arg or default_model(session.options, "chat", settings)).split(","):
        if name.strip() and name.strip() not in models:
            models.append(name.strip())
    if not models:
        raise UsageError("no model: give -m MODEL or %config YJMagics.model = 'NAME'")
    return models


def _output_mode(session: Session) -> str:
    """ "display" in a Jupyter kernel (or when asked), "stdout" in terminal IPython."""
    if session.options.stream_output != "auto":
        return str(session.options.stream_output)
    names = {cls.__name__ for cls in type(session.shell).__mro__}
    return "display" if "ZMQInteractiveShell" in names else "stdout"


# -- %%yj_chat --------------------------------------------------------------------------------


def run_chat(session: Session, args: Any, cell: str) -> None:
    prompt = _prompt(session, args, cell)
    words, attachments = split_attachments(args.params)
    params = parse_params(words)
    if args.output and not args.output.isidentifier():
        raise UsageError(f"-o {args.output!r} is not a valid variable name")
    settings = session.profile_settings(args.profile, args.platform)
    models = _models(session, args.model, settings)
    # One conversation per (profile, model); a gateway's platforms each keep their own.
    where = settings.profile + (f"/{settings.platform}" if settings.platform else "")
    convs = [conversation(session.conversations, where, m, new=args.new) for m in models]
    requests = _checked(session, settings, args, prompt, convs, params, attachments)
    client = session.client(args.profile, args.platform)
    check_budget(session, force=args.force, demo=client.settings.demo, models=models)

    mode = _output_mode(session)
    out = _stream(session, args, client, models, requests, mode)
    for conv, req, result, error in zip(convs, requests, out.results, out.errors, strict=True):
        if result is not None and error is None and not result.interrupted:
            conv.add(req.prompt, result.text, session.options.max_history)
    _store(session, args, models, out)
    if out.interrupted:
        if mode == "stdout":
            print("interrupted: the partial answer is kept in _yj")
        return
    _raise_problems(models, out, demo=client.settings.demo)


def _checked(
    session: Session,
    settings: Settings,
    args: Any,
    prompt: str,
    convs: list[Conversation],
    params: dict[str, Any],
    attachments: Attachments,
) -> list[Request]:
    """One request per model, each checked once by the core before any is sent; every
    problem of every model in one UsageError, each warning printed once."""
    protocol = protocol_of(settings)
    problems: list[str] = []
    requests = []
    for conv in convs:
        req = conv.request(
            prompt, system=args.system, max_history=session.options.max_history, protocol=protocol
        )
        try:
            req.prepared = prepare_chat(
                protocol, req.wire_prompt, model=req.model, profile=settings.profile,
                system=req.system, stream=not args.no_stream, api=args.api,
                platform=args.platform, params={**req.params, **params}, **attachments.params(),
            )  # fmt: skip
        except ValidationError as exc:
            problems += [p for p in exc.problems if p not in problems]
        requests.append(req)
    if problems:
        count = f"{len(problems)} problem{'s' if len(problems) > 1 else ''}"
        raise UsageError(f"nothing was sent; {count}: " + "; ".join(problems))
    warnings = [w for r in requests if r.prepared for w in r.prepared.warnings]
    for warning in dict.fromkeys(warnings):
        print(f"yjnb: {warning}")
    return requests


def _prompt(session: Session, args: Any, cell: str) -> str:
    """The cell with `{name}` filled from the namespace (unless `--raw`); not empty."""
    try:
        prompt = cell if args.raw else interpolate(cell, session.shell.user_ns)
    except PromptError as exc:
        raise UsageError(str(exc)) from None
    if not prompt.strip():
        raise UsageError("the cell is empty: write the prompt below the %%yj_chat line")
    return prompt


def _stream(
    session: Session, args: Any, client: Any, models: list[str], requests: list[Any], mode: str
) -> Outcome:
    """Stream every request into one live view, then its footer and the usage line."""
    demo = client.settings.demo
    view: StreamView | ColumnsView
    if len(models) == 1:
        view = StreamView(models[0], mode=mode, fmt=args.format, demo=demo)
    else:
        view = ColumnsView(models, mode=mode, demo=demo)
    view.start()
    out = run_streams(client.aio, requests, view, interval=session.options.refresh_interval)
    notes = [_note(out, i) for i in range(len(models))]
    extra = _usage_line(out.results, demo=demo)
    if isinstance(view, StreamView):
        view.finish(out.results[0], note=notes[0], extra=extra)
    else:
        view.finish(out.results, notes, extra)
    return out


def _usage_line(results: list[ChatResult | None], *, demo: bool) -> str:
    """This cell's tokens and credits: reported ones as they are; an interrupted answer's
    tokens and the price table's credits marked as estimates; none reported: said so."""
    done = [r for r in results if r is not None]
    reported = [r.usage.total_tokens for r in done if r.usage is not None]
    guessed = [r.usage_estimate.completion_tokens for r in done if r.usage_estimate is not None]
    estimates = [r.credits_estimate for r in done if r.credits_estimate is not None]
    return usage_line(
        "chat",
        tokens=sum(reported) if reported and not guessed else None,
        tokens_estimate=sum(reported) + sum(guessed) if guessed else None,
        credits_estimate=sum(estimates) if estimates else None,
        demo=demo,
    )


def _raise_problems(models: list[str], out: Outcome, *, demo: bool) -> None:
    """One UsageError naming every model that failed (after the answers were stored)."""
    problems = [
        f"{m}: {_one_line(e)}" + (" (nothing was sent)" if isinstance(e, ValidationError) else "")
        for m, e in zip(models, out.errors, strict=True)
        if e is not None
    ]
    if problems:
        kept = " (the partial answer is on screen and in _yj)" if _any_text(out) else ""
        raise UsageError("; ".join(problems) + kept + (" [demo mode]" if demo else ""))


def _note(out: Outcome, i: int) -> str | None:
    if out.interrupted:
        return "interrupted: the partial answer is kept in _yj"
    error = out.errors[i]
    if error is not None:
        return f"stopped: {type(error).__name__}"
    return None


def _join(*parts: str | None) -> str | None:
    kept = [p for p in parts if p]
    return " · ".join(kept) if kept else None


def _one_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {' '.join(str(exc).split())}"


def _any_text(out: Outcome) -> bool:
    return any(r is not None and (r.text or r.reasoning) for r in out.results)


def _store(session: Session, args: Any, models: list[str], out: Outcome) -> None:
    """`_yj_chat` = the ChatResult (a dict by model for several); `_yj` and VAR = the value."""
    ns = session.shell.user_ns
    by_model = {m: r for m, r in zip(models, out.results, strict=True) if r is not None}
    chat: Any = by_model if len(models) > 1 else out.results[0]
    ns["_yj_chat"] = ns["_yj"] = chat
    if args.output:
        ns[args.output] = chat
    failed = any(e is not None for e in out.errors) or out.interrupted
    if chat is None or failed:
        return
    if args.format == "code":
        _code_to_next_cell(session, by_model)
    elif args.format == "json":
        value = _parse_json(by_model, single=len(models) == 1)  # UsageError if not JSON
        ns["_yj"] = value
        if args.output:
            ns[args.output] = value


def _blocks(text: str, want: str | None = None) -> list[str]:
    found = [(info.strip().lower(), body) for _, info, body in _CODE_BLOCK.findall(text)]
    if want is not None:
        found = [(lang, body) for lang, body in found if lang == want] or found
    return [body.rstrip("\n") for _, body in found]


def _parse_json(by_model: dict[str, ChatResult], *, single: bool) -> Any:
    parsed: dict[str, Any] = {}
    for model, result in by_model.items():
        text = result.text.strip()
        candidates = [text, *_blocks(text, "json")]
        error: ValueError | None = None
        for candidate in candidates:
            try:
                parsed[model] = json.loads(candidate)
                break
            except ValueError as exc:
                error = error or exc
        else:
            raise UsageError(
                f"-f json: the answer of {model} is not JSON ({error}) and holds no JSON "
                "code block; the answer is kept in _yj"
            )
    return next(iter(parsed.values())) if single else parsed


def _code_to_next_cell(session: Session, by_model: dict[str, ChatResult]) -> None:
    pieces = []
    for model, result in by_model.items():
        code = "\n\n".join(_blocks(result.text, "python"))
        if code and len(by_model) > 1:
            code = f"# --- {model} ---\n{code}"
        if code:
            pieces.append(code)
    if not pieces:
        print("-f code: the answer holds no code block; no cell was added")
        return
    session.shell.set_next_input("\n\n".join(pieces), replace=False)
