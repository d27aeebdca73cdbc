"""Declustering an earthquake catalog with the Gardner & Knopoff (1974) space-time windows.

Labels must not treat an aftershock as an independent earthquake to be forecast: a window
whose label horizon holds only aftershocks of an earlier mainshock tests whether a model
sees the mainshock's aftermath, not a precursor. This module owns that decision.

Windows
-------
An event of magnitude ``M`` owns a circle of radius ``L(M)`` around its epicentre and a
time window ``T(M)``, with the fits to Gardner & Knopoff's (1974, BSSA 64, 1363-1367)
table that are in wide use::

    L(M) = 10 ** (0.1238 * M + 0.983)   km
    T(M) = 10 ** (0.032  * M + 2.7389)  days   for M >= 6.5
    T(M) = 10 ** (0.5409 * M - 0.547)   days   for M <  6.5

Checked against the reference implementation in the GEM OpenQuake Hazard Modeller's
Toolkit, ``openquake/hmtk/seismicity/declusterer/distance_time_windows.py``
(``GardnerKnopoffWindow.calc``: the same coefficients and the same ``M < 6.5`` switch;
hmtk divides by 364.75 to work in years, this module works in days). The two branches do
not meet at M 6.5 (T(6.5-) = 930.8 days, T(6.5) = 884.9 days); the fit is used as
published. Examples: M 5.5 gives 267.9 days and 46.1 km, M 6.4 821.8 days and 59.6 km,
M 6.6 891.5 days and 63.1 km, M 7 918.1 days and 70.7 km, M 9.1 1071.8 days and 128.7 km.

Algorithm
---------
As ``GardnerKnopoffType1.decluster`` of the same toolkit
(``openquake/hmtk/seismicity/declusterer/dec_gardner_knopoff.py``): events are taken in
order of decreasing magnitude (equal magnitudes: the earlier first). An event not yet
assigned opens a cluster and gathers every unassigned event within ``L(M)`` km (great-circle
distance between epicentres) whose origin time lies from ``foreshock_fraction * T(M)``
days before it to ``T(M)`` days after it (bounds included). It is the cluster's
mainshock, the largest event of the cluster by construction; members after it (or at the
same second) are aftershocks, members before it foreshocks. Neither is a mainshock. An
event whose window gathers nobody is a cluster of one, and its own mainshock. One
difference from hmtk: an event already taken as a mainshock of one is never gathered
later by a smaller event's window (with ``foreshock_fraction < 1`` hmtk could do so, which
would make a cluster's mainshock smaller than one of its members).

``linked=True`` lets every member's window gather further events too (secondary
aftershocks, as in linked-window declustering), until the cluster stops growing. The
circle of a great earthquake is far smaller than its rupture (128.7 km for M 9.1, against
a rupture of some 500 km), and linking is the usual remedy; the price is that chains of
windows can reach far. On the USGS M>=5.5 catalog 1965-2016, for the 2011 Tohoku M 9.1:

- plain windows: a cluster of 112 events from 2008-07-19 to 2013-08-04, all within
  128.6 km of the epicentre. The M 7.3 foreshock of 2011-03-09 (44 km, two days before)
  is a foreshock; the M 7.9 of 06:15 UTC, 29 minutes after, lies 250 km from the M 9.1
  epicentre, outside its circle, and stays a mainshock.
- ``linked=True``: 319 events from 2002-10-12 to 2014-05-02, up to 389 km away; the
  M 7.9 is an aftershock.

:meth:`Declustered.aftershock_periods` gives the space-time regions where an event counts
as an aftershock, for window builders that exclude windows whose label horizon holds
only aftershocks.

Causal declustering
-------------------
Plain Gardner-Knopoff looks into the future: an M 6 becomes a foreshock of an M 7 that
strikes months later, so a label built from it would change once the M 7 is in the
catalog. ``causal=True`` (what ``seismag build --decluster`` and ``seismag skill
--decluster`` use) removes aftershocks only: an event is taken out by a mainshock of at
least its magnitude that happened before it (or in the same second) and whose window
holds it, never by a later event. It is the algorithm above with ``foreshock_fraction``
0 and no linking, and by induction over time an event's role depends only on the
catalog up to its origin time: the mainshock that takes it out is earlier, and that
one's role depends only on events earlier still. Every event is a mainshock or an
aftershock; foreshocks, which only the future reveals, stay mainshocks. For the M 6 at
day 10 and the M 7 at day 100 nearby, both are mainshocks, and an M 5.6 at day 105 near
the M 7 is the M 7's aftershock.

The aftershock periods of a causal declustering say, too, from when on each is known:
``known_from`` is the origin time of the cluster's first aftershock. A window builder
that counts a period only where it is known by a window's label horizon end (``seismag
build``) decides about that window from the catalog up to that horizon end alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from seismag.sources.catalog import Catalog, haversine_km
from seismag.errors import ConfigError, DataError

__all__ = [
    "AftershockPeriods",
    "Declustered",
    "gardner_knopoff",
    "gk_distance_km",
    "gk_time_days",
]

_SECONDS_PER_DAY = 86_400.0
#: The magnitude at which the time-window fit switches branch.
GK_TIME_SWITCH_MAGNITUDE = 6.5


def gk_distance_km(magnitude) -> np.ndarray | float:
    """Gardner-Knopoff distance window, km: ``10 ** (0.1238 * M + 0.983)``."""
    m = np.asarray(magnitude, dtype=np.float64)
    distance = np.power(10.0, 0.1238 * m + 0.983)
    return float(distance) if distance.ndim == 0 else distance


def gk_time_days(magnitude) -> np.ndarray | float:
    """Gardner-Knopoff time window, days: ``10 ** (0.032 M + 2.7389)`` for M >= 6.5, else
    ``10 ** (0.5409 M - 0.547)``."""
    m = np.asarray(magnitude, dtype=np.float64)
    days = np.where(
        m >= GK_TIME_SWITCH_MAGNITUDE,
        np.power(10.0, 0.032 * m + 2.7389),
        np.power(10.0, 0.5409 * m - 0.547),
    )
    return float(days) if days.ndim == 0 else days


@dataclass(frozen=True)
class AftershockPeriods:
    """Space-time regions where an event counts as an aftershock, one row per window.

    Without linking there is one row per mainshock that has aftershocks: from the
    mainshock's origin time to ``T(M)`` days later, within ``L(M)`` km of its epicentre.
    With ``linked=True`` a cluster also has one row per other member whose window reaches
    past the mainshock time (that window, cut to start at the mainshock time), since
    those windows gathered aftershocks too. Every aftershock of the catalog lies in a row
    of its cluster.

    Attributes
    ----------
    cluster : ndarray of int64, shape (k,)
    mainshock_index : ndarray of int64, shape (k,)
        Index of the cluster's mainshock in the catalog.
    source_index : ndarray of int64, shape (k,)
        Index of the event whose window the row is (the mainshock itself without linking).
    start, end : ndarray of datetime64[s], shape (k,)
    latitude, longitude : ndarray of float64, shape (k,)
        Centre of the circle (the source event's epicentre), degrees.
    radius_km : ndarray of float64, shape (k,)
    known_from : ndarray of datetime64[s], shape (k,)
        From when the row is known to hold aftershocks: its ``start`` (plain declustering,
        which knows the whole catalog), or the origin time of its cluster's first
        aftershock (causal declustering, where the future is not known).
    """

    cluster: np.ndarray
    mainshock_index: np.ndarray
    source_index: np.ndarray
    start: np.ndarray
    end: np.ndarray
    latitude: np.ndarray
    longitude: np.ndarray
    radius_km: np.ndarray
    known_from: np.ndarray

    def __len__(self) -> int:
        return int(self.cluster.shape[0])

    def covers(self, time, latitude, longitude) -> np.ndarray:
        """True for each point (origin time, latitude, longitude) inside some row.

        Bounds are included, as in the declustering. Arguments broadcast to shape (m,).
        """
        times = np.atleast_1d(np.asarray(time, dtype="datetime64[s]"))
        times, lats, lons = np.broadcast_arrays(
            times, np.atleast_1d(np.asarray(latitude, dtype=np.float64)),
            np.atleast_1d(np.asarray(longitude, dtype=np.float64)),
        )
        inside = np.zeros(times.shape, dtype=bool)
        order = np.argsort(times, kind="stable")
        sorted_times = times[order]
        for row in range(len(self)):
            lo = np.searchsorted(sorted_times, self.start[row], side="left")
            hi = np.searchsorted(sorted_times, self.end[row], side="right")
            if lo == hi:
                continue
            candidates = order[lo:hi]
            distance = np.atleast_1d(
                haversine_km(self.latitude[row], self.longitude[row], lats[candidates], lons[candidates])
            )
            inside[candidates[distance <= self.radius_km[row]]] = True
        return inside


@dataclass(frozen=True)
class Declustered:
    """The result of :func:`gardner_knopoff`: every event's cluster and role.

    Attributes
    ----------
    catalog : Catalog
        The catalog declustered (time order).
    cluster : ndarray of int64, shape (n,)
        Cluster number of each event, 0 .. n_clusters - 1 in order of the mainshocks'
        origin times; an event alone in its window is a cluster of one.
    mainshock, foreshock, aftershock : ndarray of bool, shape (n,)
        Each event is exactly one of the three.
    window_km, window_days : ndarray of float64, shape (n,)
        ``L(M)`` and ``T(M)`` of each event.
    foreshock_fraction : float
    linked : bool
    causal : bool
        Aftershock removal only, by earlier events (see the module docstring).
    """

    catalog: Catalog
    cluster: np.ndarray
    mainshock: np.ndarray
    foreshock: np.ndarray
    aftershock: np.ndarray
    window_km: np.ndarray
    window_days: np.ndarray
    foreshock_fraction: float = 1.0
    linked: bool = False
    causal: bool = False

    @property
    def n_clusters(self) -> int:
        return int(self.mainshock.sum())

    def mainshocks(self) -> Catalog:
        """The declustered catalog: the mainshocks only (clusters of one included)."""
        return self.catalog.select(self.mainshock)

    def aftershock_periods(self) -> AftershockPeriods:
        """Where and when an event counts as an aftershock (see :class:`AftershockPeriods`)."""
        cat = self.catalog
        main_of_cluster = np.full(self.n_clusters, -1, dtype=np.int64)
        main_of_cluster[self.cluster[self.mainshock]] = np.flatnonzero(self.mainshock)
        with_aftershocks = np.unique(self.cluster[self.aftershock])
        # The catalog is in time order: the first aftershock of each cluster is its lowest index.
        first_aftershock = {}
        for event in np.flatnonzero(self.aftershock)[::-1].tolist():
            first_aftershock[int(self.cluster[event])] = event
        rows: list[tuple[int, int, int, np.datetime64, np.datetime64, np.datetime64]] = []
        for cluster in with_aftershocks.tolist():
            main = int(main_of_cluster[cluster])
            sources = np.flatnonzero(self.cluster == cluster) if self.linked else np.array([main])
            for source in sources.tolist():
                # Whole seconds, rounded outwards: the bounds are inclusive in the declustering.
                start = cat.time[source] - _seconds(self.foreshock_fraction * self.window_days[source])
                end = cat.time[source] + _seconds(self.window_days[source])
                start = max(start, cat.time[main]) if source != main else cat.time[main]
                if end < cat.time[main]:
                    continue
                known = cat.time[first_aftershock[cluster]] if self.causal else start
                rows.append((cluster, main, source, start, end, known))
        source = np.array([row[2] for row in rows], dtype=np.int64)
        return AftershockPeriods(
            cluster=np.array([row[0] for row in rows], dtype=np.int64),
            mainshock_index=np.array([row[1] for row in rows], dtype=np.int64),
            source_index=source,
            start=np.array([row[3] for row in rows], dtype="datetime64[s]"),
            end=np.array([row[4] for row in rows], dtype="datetime64[s]"),
            latitude=cat.latitude[source],
            longitude=cat.longitude[source],
            radius_km=self.window_km[source],
            known_from=np.array([row[5] for row in rows], dtype="datetime64[s]"),
        )


def gardner_knopoff(catalog: Catalog, *, foreshock_fraction: float | None = None, linked: bool = False,
                    causal: bool = False) -> Declustered:
    """Decluster ``catalog`` with Gardner & Knopoff (1974) windows (see the module docstring).

    Parameters
    ----------
    catalog : Catalog
        Events in time order (as :func:`~seismag.sources.catalog.read_catalog` gives them).
    foreshock_fraction : float, optional
        How much of ``T(M)`` before a mainshock gathers foreshocks, 0..1. 1 (the default)
        uses the whole window before as after it; 0 gathers aftershocks only.
    linked : bool
        Let every member's window gather further events too (see the module docstring).
    causal : bool
        Causal declustering (see the module docstring): aftershocks only, each removed by
        an earlier mainshock at least as large, so an event's role depends on the catalog
        up to its origin time alone. ``foreshock_fraction`` is then 0 (giving another is
        an error) and ``linked`` must be False (a linked chain lets a smaller member take
        out a larger event).

    Returns
    -------
    Declustered

    Raises
    ------
    ConfigError
        ``foreshock_fraction`` outside 0..1; ``causal`` with linking or a foreshock fraction.
    DataError
        An event without a finite magnitude or epicentre.
    """
    if causal and linked:
        raise ConfigError("causal declustering takes no linked windows: a chain of windows lets a smaller "
                          "event take out a larger one")
    if causal and foreshock_fraction not in (None, 0, 0.0):
        raise ConfigError(f"causal declustering gathers no foreshocks (they need the future); "
                          f"foreshock_fraction {foreshock_fraction!r} cannot apply")
    fraction = (0.0 if causal else 1.0) if foreshock_fraction is None else float(foreshock_fraction)
    if not 0.0 <= fraction <= 1.0:
        raise ConfigError(f"foreshock_fraction must be in 0..1, got {foreshock_fraction!r}")
    n = len(catalog)
    magnitude = np.asarray(catalog.magnitude, dtype=np.float64)
    bad = ~(np.isfinite(magnitude) & np.isfinite(catalog.latitude) & np.isfinite(catalog.longitude))
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        problem = f"event {str(catalog.event_id[first])!r} has no finite magnitude or epicentre"
        raise DataError(catalog.path or "(catalog)", problem)
    radius = np.atleast_1d(gk_distance_km(magnitude)) if n else np.zeros(0)
    duration = np.atleast_1d(gk_time_days(magnitude)) if n else np.zeros(0)
    days = (catalog.time - catalog.time[0]).astype(np.int64) / _SECONDS_PER_DAY if n else np.zeros(0)
    if n and np.any(np.diff(days) < 0):
        raise DataError(catalog.path or "(catalog)", "events are not in time order")

    provisional = np.full(n, -1, dtype=np.int64)
    is_main = np.zeros(n, dtype=bool)
    taken = np.zeros(n, dtype=bool)
    order = np.lexsort((days, -magnitude))  # largest first; equal magnitudes: the earlier first
    next_id = 0
    for seed in order.tolist():
        if taken[seed]:
            continue
        taken[seed] = True
        members = [seed]
        frontier = [seed]
        while frontier:
            source = frontier.pop()
            lo = np.searchsorted(days, days[source] - fraction * duration[source], side="left")
            hi = np.searchsorted(days, days[source] + duration[source], side="right")
            candidates = np.arange(lo, hi)
            candidates = candidates[~taken[candidates]]
            if candidates.size == 0:
                continue
            distance = np.atleast_1d(
                haversine_km(catalog.latitude[source], catalog.longitude[source],
                             catalog.latitude[candidates], catalog.longitude[candidates])
            )
            gathered = candidates[distance <= radius[source]]
            taken[gathered] = True
            members.extend(gathered.tolist())
            if linked:
                frontier.extend(gathered.tolist())
        provisional[members] = next_id
        is_main[seed] = True
        next_id += 1

    # Number the clusters in time order of their mainshocks.
    renumber = np.empty(next_id, dtype=np.int64)
    renumber[provisional[np.flatnonzero(is_main)]] = np.arange(next_id)
    cluster = renumber[provisional] if n else provisional
    main_time = np.empty(next_id)
    main_time[cluster[is_main]] = days[is_main]
    before = days < main_time[cluster] if n else np.zeros(0, dtype=bool)
    return Declustered(
        catalog=catalog,
        cluster=cluster,
        mainshock=is_main,
        foreshock=~is_main & before,
        aftershock=~is_main & ~before,
        window_km=radius,
        window_days=duration,
        foreshock_fraction=fraction,
        linked=bool(linked),
        causal=bool(causal),
    )


def _seconds(days: float) -> np.timedelta64:
    """``days`` as whole seconds, rounded up (so a window never shrinks)."""
    return np.timedelta64(int(math.ceil(days * _SECONDS_PER_DAY)), "s")
