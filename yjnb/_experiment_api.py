"""`yjnb.experiment()`: the sync entry point (the work is `_experiment`'s).

Apart from `_experiment` so that `AsyncClient.experiment` can use `_experiment` without a
cycle: this module needs the clients, `_experiment` does not.
"""

from __future__ import annotations

from typing import Any

from ._experiment import Experiment, prepare_experiment
from ._runner import Runner
from ._sync import Client

__all__ = ["experiment"]


def experiment(
    data: Any,
    prompt: Any,
    models: Any = None,
    *,
    system: str | None = None,
    params: Any = None,
    scorers: Any = None,
    name: str | None = None,
    repeat: int = 1,
    concurrency: int | None = None,
    budget: float | None = None,
    budget_tokens: int | None = None,
    kind: str | None = None,
    media_dir: Any = None,
    timeout: float | None = None,
    cache: bool = True,
    dry_run: bool = False,
    profile: str | None = None,
    client: Any = None,
) -> Experiment:
    """Run every (data row, prompt, model, sample) and return the `Experiment`.

    See the README, "Prompt experiments (Python API)". Works in scripts and inside a running
    Jupyter kernel; an interrupt returns the run with its finished rows (status
    "interrupted"): run the same call again to finish it, paying only for what is missing.
    `budget=` (credits, from your price table) or `budget_tokens=` stops the run cleanly when
    reached (the rest `skipped_budget`; status "budget"), as does an exhausted balance.
    Image and video models (by the catalog, or `kind=`) run as tasks: their files are saved
    in `media_dir` (default `YJ_HOME/media`), each waited for up to `timeout` seconds.
    """
    if client is None:
        client = Client(profile=profile)
    runner: Runner | None = client._runner if isinstance(client, Client) else None
    aio = client.aio if isinstance(client, Client) else client
    aio = aio._for(profile)
    run = prepare_experiment(
        aio, runner, data, prompt, models, system=system, params=params, scorers=scorers,
        name=name, repeat=repeat, concurrency=concurrency, budget=budget,
        budget_tokens=budget_tokens, kind=kind, media_dir=media_dir, timeout=timeout,
        cache=cache, dry_run=dry_run,
    )  # fmt: skip
    if run.status != "dry_run":
        run._run_sync()
    return run
