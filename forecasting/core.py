"""The orchestrator: forecasts, cross-validation and sample paths over long frames of many series.

``Forecaster`` takes a history frame (``series_id, timestamp, gpus``), checks it, marks outages missing,
runs one per-series model per series through a ``mapper`` (serial, process pool or Dask), and returns
long frames in the table contract:

- :meth:`Forecaster.forecast` -> ``series_id, timestamp, model, mean, lo_<level>, hi_<level>``
- :meth:`Forecaster.simulate` -> ``series_id, timestamp, sample_id, gpus``
- :meth:`Forecaster.cross_validation` -> the forecast columns plus ``cutoff`` and the actual ``gpus``
- :meth:`Forecaster.run` -> all of it from the same fits, plus a per-series report, outages and residuals.

Horizons beyond ``long_after`` hours (default two weeks) use the model for the first ``switch`` hours
and a daily-level model with trend and an hourly shape after (:mod:`forecasting.longrange`).  A model
that fails on a series falls back to a seasonal naive (or naive) forecast; the report says so.

Examples
--------
>>> import numpy as np, pandas as pd
>>> t = pd.date_range("2024-01-01", periods=24 * 21, freq="h", tz="UTC")
>>> hist = pd.DataFrame({"series_id": "a100", "timestamp": t, "gpus": 40 + 10 * np.sin(np.arange(504) / 24 * 6.28)})
>>> fc = Forecaster("naive24", progress=False).forecast(hist, h=48)
>>> list(fc.columns)
['series_id', 'timestamp', 'model', 'mean', 'lo_80', 'hi_80', 'lo_95', 'hi_95']
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from forecasting.base import ForecastModel, ModelError, level_label
from forecasting.checks import check_history, check_horizon, check_levels
from forecasting.hierarchy import Method, reconcile
from forecasting.longrange import Spliced
from forecasting.metrics import crps_paths
from forecasting.outages import OUTAGE_COLUMNS, detect_outages
from forecasting.planned import PlannedChanges, apply_planned
from forecasting.plausibility import runaway_warnings
from forecasting.registry import make_model, model_names
from scenarios.errors import InputError
from scenarios.parallel import Mapper, SerialMapper

HOUR = pd.Timedelta(hours=1)


@dataclass
class ForecastResult:
    """Everything one forecasting run produced.

    Attributes
    ----------
    forecast
        ``series_id, timestamp, model, mean, lo_<level>, hi_<level>`` [GPUs], UTC.
    paths
        ``series_id, timestamp, sample_id, gpus`` [GPUs], or None when no paths were asked for.
    report
        One row per series: model used, fallback, hours of history, missing and outage hours, seconds, detail.
    outages
        Outage stretches found (``series_id, start, end, hours, rule``; ``*`` = every series).
    residuals
        ``series_id, timestamp, residual``: in-sample one-step errors [GPUs] (used by MinT).
    notes
        What was done to the input and output (resampling, outages, reconciliation, planned changes).
    """

    forecast: pd.DataFrame
    paths: pd.DataFrame | None
    report: pd.DataFrame
    outages: pd.DataFrame
    residuals: pd.DataFrame
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Task:
    series_id: str
    start: pd.Timestamp
    y: np.ndarray
    h: int
    model: str
    options: Mapping[str, Any]
    levels: tuple[float, ...]
    n_paths: int
    seed: np.random.SeedSequence
    long_after: int
    switch: int
    cutoff: pd.Timestamp | None = None
    actual: np.ndarray | None = None


@dataclass
class _Outcome:
    series_id: str
    model: str
    fallback: str | None
    mean: np.ndarray
    lower: dict[float, np.ndarray]
    upper: dict[float, np.ndarray]
    sd: np.ndarray
    paths: np.ndarray | None
    residuals: np.ndarray
    notes: list[str]
    detail: str
    seconds: float
    cutoff: pd.Timestamp | None = None
    crps: np.ndarray | None = None


def build_model(name: str, h: int, options: Mapping[str, Any] | None = None, *, long_after: int = 336,
                switch: int = 168) -> ForecastModel:
    """The model the orchestrator fits for a horizon of ``h`` hours.

    ``auto`` cross-validates on windows of ``min(h, 168)`` hours (the part it forecasts); horizons over
    ``long_after`` hours splice the model with the daily-level model after ``switch`` hours.
    """
    opts = dict(options or {})
    near = min(h, switch) if h > long_after else h
    if name == "auto" and "cv_horizon" not in opts:
        opts["cv_horizon"] = int(min(max(near, 24), 168))
    model = make_model(name, **opts)
    if h > long_after and name != "daily_level":
        return Spliced(model, switch=switch)
    return model


def _fallback_name(name: str, n: int) -> str:
    if name not in ("naive24", "naive") and n >= 48:
        return "naive24"
    return "naive"


def _run_task(task: _Task) -> _Outcome:
    """Fit, predict and simulate one series (module-level so process pools and Dask can run it)."""
    t0 = time.perf_counter()
    rng = np.random.default_rng(task.seed)
    fallback = None
    name = task.model
    for attempt in range(3):
        model = build_model(name, task.h, task.options if name == task.model else None,
                            long_after=task.long_after, switch=task.switch)
        try:
            model.fit(task.y)
            pred = model.predict(task.h, task.levels)
            paths = model.simulate(task.h, task.n_paths, rng) if task.n_paths > 0 else None
            break
        except ModelError as exc:
            nxt = _fallback_name(name, int(np.isfinite(task.y).sum()))
            if attempt == 2 or nxt == name:
                raise
            fallback = f"{task.model} failed ({exc}); used {nxt}"
            name = nxt
    detail = getattr(model, "description", "") or getattr(getattr(model, "short", None), "description", "")
    crps = None
    if task.actual is not None and paths is not None:
        crps = crps_paths(task.actual, paths)
    return _Outcome(
        series_id=task.series_id, model=model.label, fallback=fallback, mean=pred.mean, lower=pred.lower,
        upper=pred.upper, sd=pred.sd if pred.sd is not None else np.full(task.h, np.nan),
        paths=None if paths is None else paths.astype(np.float64), residuals=model.residuals(),
        notes=list(model.notes_), detail=str(detail), seconds=time.perf_counter() - t0, cutoff=task.cutoff,
        crps=crps,
    )


class Forecaster:
    """Forecast many hourly demand series with one model specification.

    Parameters
    ----------
    model
        Model name (see :func:`forecasting.registry.model_names`); ``"auto"`` by default.
    levels
        Central interval levels [%].
    mapper
        Executor (``scenarios.parallel.Mapper``); default: serial in this process.
    progress
        Show a progress bar over series.
    outages
        Detect outage stretches and treat them as missing (see :mod:`forecasting.outages`).
    long_after
        Horizons longer than this use the long-range splice [h].
    switch
        Hours served by the short-range model in the splice [h].
    reconcile
        ``"mint_shrink"``, ``"bottom_up"`` or None: make ``family/team`` forecasts add up.
    planned
        Planned growth and steps applied to forecasts and paths.
    model_options
        Hyper-parameter overrides for the model (e.g. ``{"candidates": [...]}`` for auto).
    """

    def __init__(self, model: str = "auto", *, levels: Sequence[float] = (80, 95), mapper: Mapper | None = None,
                 progress: bool = True, outages: bool = True, long_after: int = 336, switch: int = 168,
                 reconcile: Method | None = None, planned: PlannedChanges | None = None,
                 model_options: Mapping[str, Any] | None = None) -> None:
        if model not in model_names():
            raise InputError(f"unknown model '{model}'", column="model", fix=f"choose one of {', '.join(model_names())}")
        self.model = model
        self.levels = check_levels(levels)
        self.mapper = mapper
        self.progress = progress
        self.outages = outages
        self.long_after = long_after
        self.switch = switch
        self.reconcile = reconcile
        self.planned = planned or PlannedChanges()
        self.model_options = dict(model_options or {})

    # -- input -------------------------------------------------------------------------------------
    def _mapper(self) -> Mapper:
        return self.mapper if self.mapper is not None else SerialMapper(self.progress)

    def min_history(self, h: int) -> int:
        """Hours of history each series needs for this model and horizon [h]."""
        return build_model(self.model, h, self.model_options, long_after=self.long_after,
                           switch=self.switch).min_history()

    def prepare(self, history: pd.DataFrame, h: int = 24, *,
                file: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
        """Check the history and mark outages missing.

        Returns
        -------
        (clean, outages, notes)
        """
        frame, notes = check_history(history, file=file, min_hours=self.min_history(h), model=self.model)
        outages = pd.DataFrame(columns=OUTAGE_COLUMNS)
        if self.outages:
            frame, outages, more = detect_outages(frame)
            notes += more
            if len(outages):
                hours = int(outages["hours"].sum())
                notes.append(f"{len(outages)} outage stretch(es), {hours} h, treated as missing (not zero): "
                             + "; ".join(f"{r.series_id} {r.start:%Y-%m-%d %H:%M}Z+{r.hours}h"
                                         for r in outages.itertuples()))
        return frame, outages, notes

    def _tasks(self, frame: pd.DataFrame, h: int, levels: tuple[float, ...], n_paths: int,
               seed: int) -> list[_Task]:
        groups = list(frame.groupby("series_id", sort=True))
        seeds = np.random.SeedSequence(seed).spawn(len(groups))
        return [
            _Task(series_id=str(sid), start=g["timestamp"].iloc[0], y=g["gpus"].to_numpy(dtype=float), h=h,
                  model=self.model, options=self.model_options, levels=levels, n_paths=n_paths, seed=ss,
                  long_after=self.long_after, switch=self.switch)
            for (sid, g), ss in zip(groups, seeds, strict=True)
        ]

    # -- public ------------------------------------------------------------------------------------
    def run(self, history: pd.DataFrame, h: int, *, levels: Sequence[float] | None = None, n_paths: int = 0,
            seed: int = 0, file: str | None = None) -> ForecastResult:
        """Forecast ``h`` hours after each series' last hour; with ``n_paths`` > 0 also sample paths.

        Means, intervals and paths come from the same fitted models.  Replicable: the same ``seed`` gives the
        same paths on every executor (series ``i`` in sorted order uses ``SeedSequence(seed).spawn(n)[i]``).
        """
        h = check_horizon(h)
        lv = check_levels(levels) if levels is not None else self.levels
        if n_paths < 0:
            raise InputError("number of paths must be >= 0", column="paths")
        frame, outages, notes = self.prepare(history, h, file=file)
        tasks = self._tasks(frame, h, lv, n_paths, seed)
        outcomes: list[_Outcome] = self._mapper().map(_run_task, tasks, desc=f"forecast {self.model}")
        fc = _forecast_frame(tasks, outcomes, lv)
        paths = _paths_frame(tasks, outcomes) if n_paths > 0 else None
        resid = _residual_frame(tasks, outcomes)
        report = _report(tasks, outcomes, frame, outages)
        for o in outcomes:
            if o.fallback:
                notes.append(f"series {o.series_id}: {o.fallback}")
        if self.reconcile is not None:
            sd = pd.DataFrame({
                "series_id": np.repeat([t.series_id for t in tasks], h),
                "timestamp": np.concatenate([_future(t) for t in tasks]),
                "sd": np.concatenate([o.sd for o in outcomes]),
            })
            fc, paths, more = reconcile(fc, paths, residuals=resid, method=self.reconcile, levels=lv, seed=seed,
                                        sd=sd)
            notes += more
        # before planned changes: what runs away here has no planned growth to explain it
        runaway = runaway_warnings(frame, paths, fc)
        if runaway:
            notes[:0] = [f"WARNING {w}" for w in runaway]
            flagged = report["series_id"].isin({w.split(":", 1)[0].removeprefix("series ") for w in runaway})
            report.loc[flagged, "warnings"] = report.loc[flagged, "warnings"].map(
                lambda w: "; ".join(x for x in ("forecast far above the history", w) if x))
        origin = {t.series_id: t.start + (len(t.y) - 1) * HOUR for t in tasks}
        fc, paths, more = apply_planned(fc, paths, self.planned, origin)
        notes += more
        return ForecastResult(forecast=fc, paths=paths, report=report, outages=outages, residuals=resid,
                              notes=notes)

    def forecast(self, history: pd.DataFrame, h: int, levels: Sequence[float] | None = None) -> pd.DataFrame:
        """The forecast table for ``h`` hours ahead (see :meth:`run`)."""
        return self.run(history, h, levels=levels).forecast

    def simulate(self, history: pd.DataFrame, h: int, n_paths: int, seed: int = 0) -> pd.DataFrame:
        """The paths table: ``n_paths`` temporally coherent sample paths per series (see :meth:`run`)."""
        if n_paths < 1:
            raise InputError("simulate needs at least one path", column="n_paths")
        res = self.run(history, h, n_paths=n_paths, seed=seed)
        assert res.paths is not None
        return res.paths

    def cross_validation(self, history: pd.DataFrame, h: int, n_windows: int = 3, step: int | None = None,
                         *, n_paths: int = 0, seed: int = 0, levels: Sequence[float] | None = None) -> pd.DataFrame:
        """Rolling-origin backtest: refit at ``n_windows`` cutoffs, ``step`` hours apart, forecast ``h`` hours.

        Windows end at each series' last hour.  Returns the forecast columns plus ``cutoff`` (last training
        hour) and ``gpus`` (the actual, NaN where missing); with ``n_paths`` also ``crps`` per hour [GPUs].
        """
        h = check_horizon(h)
        lv = check_levels(levels) if levels is not None else self.levels
        step = int(step or h)
        if n_windows < 1 or step < 1:
            raise InputError("cross-validation needs n_windows >= 1 and step >= 1 h", column="n_windows")
        need = self.min_history(h)
        frame, _, _ = self.prepare(history, h)
        tasks: list[_Task] = []
        groups = list(frame.groupby("series_id", sort=True))
        seeds = np.random.SeedSequence(seed).spawn(len(groups) * n_windows)
        k = 0
        for sid, g in groups:
            y = g["gpus"].to_numpy(dtype=float)
            ts = g["timestamp"]
            for j in range(n_windows):
                c = len(y) - h - j * step
                if c < need:
                    k += 1
                    continue
                tasks.append(_Task(series_id=str(sid), start=ts.iloc[0], y=y[:c], h=h, model=self.model,
                                   options=self.model_options, levels=lv, n_paths=n_paths, seed=seeds[k],
                                   long_after=self.long_after, switch=self.switch, cutoff=ts.iloc[c - 1],
                                   actual=y[c:c + h]))
                k += 1
        if not tasks:
            raise InputError(f"history too short for {n_windows} windows of {h} h plus {need} h of training",
                             column="timestamp", fix="use fewer windows or a shorter horizon")
        outcomes = self._mapper().map(_run_task, tasks, desc=f"backtest {self.model}")
        fc = _forecast_frame(tasks, outcomes, lv)
        fc.insert(2, "cutoff", np.repeat([t.cutoff for t in tasks], h))
        fc["cutoff"] = pd.to_datetime(fc["cutoff"], utc=True)
        fc["gpus"] = np.concatenate([t.actual for t in tasks if t.actual is not None])
        if n_paths > 0:
            fc["crps"] = np.concatenate([o.crps if o.crps is not None else np.full(h, np.nan) for o in outcomes])
        fc["seconds"] = np.repeat([o.seconds for o in outcomes], h)
        return fc


# -- frames ------------------------------------------------------------------------------------------
def _future(t: _Task) -> pd.DatetimeIndex:
    last = t.start + (len(t.y) - 1) * HOUR
    return pd.date_range(last + HOUR, periods=t.h, freq="h")


def _forecast_frame(tasks: Sequence[_Task], outcomes: Sequence[_Outcome], levels: Sequence[float]) -> pd.DataFrame:
    cols: dict[str, Any] = {
        "series_id": np.repeat([t.series_id for t in tasks], [t.h for t in tasks]),
        "timestamp": np.concatenate([_future(t) for t in tasks]) if tasks else [],
        "model": np.repeat([o.model for o in outcomes], [t.h for t in tasks]),
        "mean": np.concatenate([o.mean for o in outcomes]) if outcomes else [],
    }
    for lv in levels:
        cols[f"lo_{level_label(lv)}"] = np.concatenate([o.lower[lv] for o in outcomes])
        cols[f"hi_{level_label(lv)}"] = np.concatenate([o.upper[lv] for o in outcomes])
    df = pd.DataFrame(cols)
    df["timestamp"] = pd.to_datetime(df["timestamp"], utc=True)
    df["series_id"] = df["series_id"].astype(str)
    df["model"] = df["model"].astype(str)
    return df


def _paths_frame(tasks: Sequence[_Task], outcomes: Sequence[_Outcome]) -> pd.DataFrame:
    frames = []
    for t, o in zip(tasks, outcomes, strict=True):
        assert o.paths is not None
        n, h = o.paths.shape
        frames.append(pd.DataFrame({
            "series_id": t.series_id,
            "timestamp": np.tile(_future(t), n),
            "sample_id": np.repeat(np.arange(n, dtype=np.int64), h),
            "gpus": o.paths.ravel(),
        }))
    df = pd.concat(frames, ignore_index=True)
    df["timestamp"] = pd.to_datetime(df["timestamp"], utc=True)
    df["series_id"] = df["series_id"].astype(str)
    return df


def _residual_frame(tasks: Sequence[_Task], outcomes: Sequence[_Outcome]) -> pd.DataFrame:
    frames = []
    for t, o in zip(tasks, outcomes, strict=True):
        r = np.asarray(o.residuals, dtype=float)
        n = min(r.size, len(t.y))
        frames.append(pd.DataFrame({
            "series_id": t.series_id,
            "timestamp": pd.date_range(t.start, periods=len(t.y), freq="h")[-n:] if n else [],
            "residual": r[-n:] if n else [],
        }))
    return pd.concat(frames, ignore_index=True)


def _report(tasks: Sequence[_Task], outcomes: Sequence[_Outcome], frame: pd.DataFrame,
            outages: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for t, o in zip(tasks, outcomes, strict=True):
        hit = outages[(outages["series_id"] == t.series_id) | (outages["series_id"] == "*")] if len(outages) else outages
        rows.append({
            "series_id": t.series_id, "model": o.model, "fallback": o.fallback or "",
            "history_hours": len(t.y), "missing_hours": int(np.isnan(t.y).sum()),
            "outage_hours": int(hit["hours"].sum()) if len(hit) else 0,
            "seconds": round(o.seconds, 3), "detail": o.detail,
            "warnings": "; ".join(o.notes[:3]),
        })
    return pd.DataFrame(rows)


def forecast(history: pd.DataFrame, h: int, *, model: str = "auto", levels: Sequence[float] = (80, 95),
             mapper: Mapper | None = None, progress: bool = False, **kwargs: Any) -> pd.DataFrame:
    """Shortcut for ``Forecaster(model, levels=levels, mapper=mapper, **kwargs).forecast(history, h)``."""
    return Forecaster(model, levels=levels, mapper=mapper, progress=progress, **kwargs).forecast(history, h)


def simulate(history: pd.DataFrame, h: int, n_paths: int, *, seed: int = 0, model: str = "auto",
             mapper: Mapper | None = None, progress: bool = False, **kwargs: Any) -> pd.DataFrame:
    """Shortcut for ``Forecaster(model, mapper=mapper, **kwargs).simulate(history, h, n_paths, seed)``."""
    return Forecaster(model, mapper=mapper, progress=progress, **kwargs).simulate(history, h, n_paths, seed)


def cross_validation(history: pd.DataFrame, h: int, n_windows: int = 3, step: int | None = None, *,
                     model: str = "auto", levels: Sequence[float] = (80, 95), mapper: Mapper | None = None,
                     n_paths: int = 0, seed: int = 0, progress: bool = False, **kwargs: Any) -> pd.DataFrame:
    """Shortcut for ``Forecaster(model, ...).cross_validation(history, h, n_windows, step)``."""
    return Forecaster(model, levels=levels, mapper=mapper, progress=progress, **kwargs).cross_validation(
        history, h, n_windows, step, n_paths=n_paths, seed=seed)
