"""From scored rows to station-days: which days are scored, and each day's alarm level.

A row (station ``s``, ``window_end`` d, score p) forecasts the ``lead_days`` whole UTC days
``[d, d + lead_days)`` of station ``s``. So:

- the **scored station-days** of a station are the union of its rows' horizons, whether
  the row has a score or is empty (an empty score is no alarm, never a skipped day);
- at threshold theta a row with ``p >= theta`` puts its horizon under alarm, so a
  station-day is under alarm exactly when the highest score among the rows whose horizon
  covers it is ``>= theta``. That highest score is the day's **alarm level**, and the
  Molchan trajectory needs nothing else (:mod:`seismag.evaluation.skill.molchan`);
- what is judged is the **timing** of the alarms: each station-day's level is replaced by
  its rank among the levels of its own station's days (:meth:`StationDays.timing_levels`),
  so a threshold puts the same share of every station's days under alarm. A forecast is
  then credited for knowing *when* events happen at a station, never for knowing *where*
  (which station sees more of them): a per-station constant, or the per-station event
  rate, ranks every day of a station alike and lies on the diagonal. This is Zechar &
  Jordan's (2008) reference measure with each station's own days as the reference: the
  alarm fraction tau counts each station in proportion to its scored days, whatever the
  scale of its scores.

Days are counted on one axis shared by all stations, from the earliest window end to the
last horizon's end. Calendar arithmetic is NumPy's ``datetime64[D]``: a window ending
2019-12-30 with ``lead_days`` 5 covers 2019-12-30 .. 2020-01-03.

May import numpy.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

__all__ = ["StationDays"]


@dataclass(frozen=True)
class StationDays:
    """The rows under evaluation and the station-days they score.

    Attributes
    ----------
    first_day : datetime64[D]
        Day 0 of the axis: the earliest window end.
    lead_days : int
    row_station : ndarray of int64, shape (n_rows,)
        Station index of each row; rows sorted by station, then window end.
    row_offset : ndarray of int64, shape (n_rows,)
        ``window_end - first_day`` in days.
    scored : ndarray of bool, shape (n_stations, n_days)
        True for the scored station-days.
    """

    first_day: np.datetime64
    lead_days: int
    row_station: np.ndarray
    row_offset: np.ndarray
    scored: np.ndarray

    @classmethod
    def from_rows(cls, n_stations: int, station, window_end, lead_days: int) -> "StationDays":
        """The station-days scored by rows ``(station, window_end)``.

        Parameters
        ----------
        n_stations : int
        station : array of int, shape (n_rows,)
        window_end : array of datetime64[D], shape (n_rows,)
            Not empty. Rows sorted by station, then window end, none repeated: scores
            given to :meth:`levels` are in this order.
        lead_days : int
            At least 1.
        """
        station = np.asarray(station, dtype=np.int64)
        window_end = np.asarray(window_end, dtype="datetime64[D]")
        if station.size == 0:
            raise ValueError("no rows to score")
        if lead_days < 1:
            raise ValueError(f"lead_days must be at least 1, got {lead_days}")
        step = np.diff(station)
        if np.any(step < 0) or np.any((step == 0) & (np.diff(window_end) <= np.timedelta64(0, "D"))):
            raise ValueError("rows must be sorted by station, then window_end, without repeats")
        first_day = window_end.min()
        offset = (window_end - first_day).astype(np.int64)
        n_days = int(offset.max()) + lead_days
        has_row = np.zeros((n_stations, n_days), dtype=bool)
        has_row[station, offset] = True
        return cls(first_day=first_day, lead_days=int(lead_days), row_station=station, row_offset=offset,
                   scored=_spread(has_row, lead_days, np.logical_or))

    @property
    def n_days(self) -> int:
        return int(self.scored.shape[1])

    @property
    def n_rows(self) -> int:
        return int(self.row_station.shape[0])

    @property
    def n_station_days(self) -> int:
        return int(self.scored.sum())

    @property
    def period(self) -> tuple[np.datetime64, np.datetime64]:
        """``(start, end)`` of the axis; ``end`` exclusive (the last horizon's end)."""
        return self.first_day, self.first_day + np.timedelta64(self.n_days, "D")

    def day_offset(self, days) -> np.ndarray:
        """Offsets of ``days`` (datetime64-like) on the axis; -1 for days off it."""
        offset = (np.asarray(days, dtype="datetime64[D]") - self.first_day).astype(np.int64)
        return np.where((offset >= 0) & (offset < self.n_days), offset, -1)

    def levels(self, score) -> np.ndarray:
        """The alarm level of every station-day: the highest score of the rows covering it.

        Parameters
        ----------
        score : array of float, shape (n_rows,)
            One per row in this object's row order; NaN for an empty score.

        Returns
        -------
        ndarray of float64, shape (n_stations, n_days)
            NaN where no row with a score covers the day (unscored days included; use
            :attr:`scored` to tell them apart).
        """
        grid = np.full(self.scored.shape, np.nan)
        grid[self.row_station, self.row_offset] = np.asarray(score, dtype=np.float64)
        return _spread(grid, self.lead_days, np.fmax)

    def timing_levels(self, score) -> np.ndarray:
        """The alarm levels of ``score`` (:meth:`levels`) as ranks within each station.

        Each scored station-day with a level gets its mid-rank among its station's scored
        days with a level, ``(rank - 1/2) / n`` in (0, 1), ties sharing their mean rank;
        a station whose days all tie (a constant) sits at 0.5 on every day. NaN elsewhere
        (no alarm at any threshold, as before).

        Returns
        -------
        ndarray of float64, shape (n_stations, n_days)
        """
        levels = self.levels(score)
        out = np.full(levels.shape, np.nan)
        station, day = np.nonzero(self.scored & np.isfinite(levels))
        if station.size == 0:
            return out
        value = levels[station, day]
        order = np.lexsort((value, station))
        station, day, value = station[order], day[order], value[order]
        counts = np.bincount(station, minlength=levels.shape[0])
        first_of_station = (np.cumsum(counts) - counts)[station]
        position = np.arange(station.size) - first_of_station  # 0-based rank within the station
        # ties: the same station and value form a run; every member takes the run's mean position
        new_run = np.r_[True, (np.diff(station) != 0) | (np.diff(value) != 0)]
        run = np.cumsum(new_run) - 1
        run_mean = np.bincount(run, weights=position) / np.bincount(run)
        out[station, day] = (run_mean[run] + 0.5) / counts[station]
        return out

    def within(self, start, end) -> "StationDays":
        """These station-days with the days outside ``[start, end)`` no longer scored
        (e.g. past the catalog's end, where no event can be known)."""
        axis = self.first_day + np.arange(self.n_days).astype("timedelta64[D]")
        inside = (axis >= np.datetime64(start, "D")) & (axis < np.datetime64(end, "D"))
        return dataclasses.replace(self, scored=self.scored & inside[None, :])

    def station_starts(self) -> tuple[np.ndarray, np.ndarray]:
        """For each row, the index of its station's first row and its station's row count."""
        n_stations = self.scored.shape[0]
        counts = np.bincount(self.row_station, minlength=n_stations)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        return starts[self.row_station], counts[self.row_station]


def _spread(grid: np.ndarray, lead_days: int, combine) -> np.ndarray:
    """``out[:, d] = combine(grid[:, d - lead_days + 1 .. d])``: each day takes in the rows
    whose horizon ``[window_end, window_end + lead_days)`` covers it."""
    out = grid.copy()
    for lag in range(1, min(lead_days, grid.shape[1])):
        out[:, lag:] = combine(out[:, lag:], grid[:, :-lag])
    return out
