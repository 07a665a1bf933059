"""Where inside its hours a scheduled job runs: the one rule the optimizer and the simulator share.

A ``schedule`` table (``job_id, timestamp, gpus``) says how many GPUs a job keeps busy in each hour; a job
holds its ``g`` GPUs at once, so ``gpus / g`` is the *fraction* ``L`` of the hour it runs.  The table does not
say where in the hour that fraction lies, so this module fixes it:

- if the job also runs in the next hour, the piece ends at the end of the hour: ``[t + 1 - L, t + 1]``
  (so it joins the next piece);
- otherwise it starts as early as it may: ``[max(t, release), max(t, release) + L]``.

A schedule that uses, in each hour, at most the part of the hour inside the job's window ``[release,
deadline]`` then runs entirely inside the window (the first hour's piece is end-aligned after the release,
the last hour's piece starts at the hour and ends before the deadline).  Touching pieces are merged into
one *run*.

Examples
--------
>>> hour_runs([10, 11, 12], [0.5, 1.0, 0.25], release=10.5)
[(10.5, 1.75)]
>>> hour_runs([3, 7], [0.5, 0.5], release=2.0)
[(3.0, 0.5), (7.0, 0.5)]
"""

from __future__ import annotations

from collections.abc import Sequence

_EPS = 1e-9


def hour_runs(hours: Sequence[int], fractions: Sequence[float], release: float) -> list[tuple[float, float]]:
    """Runs ``(start, length)`` of one job from its busy fraction per hour [h from the grid start].

    Parameters
    ----------
    hours
        Hour indices the job runs in, increasing, without repeats.
    fractions
        Fraction of each of those hours the job runs, in ``(0, 1]`` [h].
    release
        Earliest time the job may run [h from the grid start].

    Returns
    -------
    list of tuple
        Contiguous runs ``(start [h], length [h])`` in time order.
    """
    runs: list[tuple[float, float]] = []
    hs = [int(h) for h in hours]
    for i, (h, frac) in enumerate(zip(hs, fractions, strict=True)):
        length = min(max(float(frac), 0.0), 1.0)
        if length <= _EPS:
            continue
        followed = i + 1 < len(hs) and hs[i + 1] == h + 1 and float(fractions[i + 1]) > _EPS
        start = h + 1.0 - length if followed else max(float(h), float(release))
        if runs and abs(runs[-1][0] + runs[-1][1] - start) <= 1e-7:
            runs[-1] = (runs[-1][0], runs[-1][1] + length)
        else:
            runs.append((start, length))
    return runs


def overlap_profile(start: float, length: float, first_hour: int, n_hours: int) -> list[float]:
    """Fraction of each hour ``first_hour .. first_hour + n_hours - 1`` covered by ``[start, start + length]``.

    Examples
    --------
    >>> overlap_profile(2.5, 2.0, 2, 3)
    [0.5, 1.0, 0.5]
    """
    end = start + length
    return [max(0.0, min(end, h + 1.0) - max(start, float(h))) for h in range(first_hour, first_hour + n_hours)]
