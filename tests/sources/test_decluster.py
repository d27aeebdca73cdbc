"""Gardner-Knopoff declustering: window formulas, hand-made clusters, and Tohoku 2011 on the USGS catalog."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from seismag.sources.catalog import EARTH_RADIUS_KM, Catalog, haversine_km, read_catalog
from seismag.sources.decluster import gardner_knopoff, gk_distance_km, gk_time_days
from seismag.errors import ConfigError, DataError

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
SIGNIFICANT = SHARED / "catalog" / "usgs_significant_1965_2016.csv"

KM_PER_DEGREE = EARTH_RADIUS_KM * np.pi / 180.0  # along a meridian, as haversine_km measures


def north(km: float, lat: float = 35.0) -> float:
    """The latitude ``km`` north of ``lat`` on the same meridian."""
    return lat + km / KM_PER_DEGREE


def at(days: float, base: str = "2000-01-01T00:00:00") -> np.datetime64:
    return np.datetime64(base, "s") + np.timedelta64(int(round(days * 86400)), "s")


def catalog(*events) -> Catalog:
    """Events as ``(days after 2000-01-01, km north of 35N 140E, magnitude, id)``."""
    return Catalog.from_events([(at(d), north(km), 140.0, 10.0, m, name) for d, km, m, name in events])


def index(cat: Catalog, name: str) -> int:
    return int(np.flatnonzero(cat.event_id == name)[0])


def test_window_formulas():
    # 10 ** (0.1238 M + 0.983) km; 10 ** (0.5409 M - 0.547) days below 6.5, 10 ** (0.032 M + 2.7389) from 6.5.
    assert gk_distance_km(7.0) == pytest.approx(10 ** 1.8496)
    assert gk_distance_km(7.0) == pytest.approx(70.729, abs=1e-3)
    assert gk_time_days(6.4) == pytest.approx(10 ** 2.91476)
    assert gk_time_days(6.4) == pytest.approx(821.79, abs=0.01)
    assert gk_time_days(6.6) == pytest.approx(10 ** 2.9501)
    assert gk_time_days(6.6) == pytest.approx(891.46, abs=0.01)
    assert gk_time_days(6.5) == pytest.approx(884.91, abs=0.01)  # the M >= 6.5 branch
    assert gk_time_days(6.4999999) == pytest.approx(930.79, abs=0.01)  # the other branch, just below
    assert gk_time_days(9.1) == pytest.approx(1071.77, abs=0.01)
    assert gk_distance_km(9.1) == pytest.approx(128.70, abs=0.01)
    np.testing.assert_allclose(gk_time_days(np.array([5.5, 7.0])), [267.886, 918.121], atol=1e-3)


def test_a_mainshock_its_aftershocks_a_foreshock_and_an_unrelated_event():
    cat = catalog(
        (0.0, 0.0, 7.0, "main"),
        (2.0, 10.0, 5.0, "after-10km-2d"),
        (30.0, 20.0, 5.5, "after-20km-30d"),
        (1.0, 500.0, 6.0, "far-500km"),
        (-1.0, -15.0, 6.0, "fore-15km"),
    )
    result = gardner_knopoff(cat)
    main, far, fore = index(cat, "main"), index(cat, "far-500km"), index(cat, "fore-15km")
    after = [index(cat, "after-10km-2d"), index(cat, "after-20km-30d")]
    assert np.flatnonzero(result.mainshock).tolist() == sorted([main, far])
    assert result.aftershock[after].all() and result.foreshock[fore] and not result.mainshock[fore]
    assert result.n_clusters == 2
    # Clusters numbered by mainshock time: main (2000-01-01) is 0, the far event (01-02) 1.
    assert result.cluster[[fore, main, *after]].tolist() == [0, 0, 0, 0] and result.cluster[far] == 1
    assert (result.mainshock.astype(int) + result.foreshock + result.aftershock == 1).all()
    assert result.mainshocks().event_id.tolist() == ["main", "far-500km"]

    periods = result.aftershock_periods()
    assert len(periods) == 1 and periods.mainshock_index[0] == main and periods.source_index[0] == main
    assert periods.start[0] == at(0.0)
    assert (periods.end[0] - periods.start[0]).astype(np.int64) == pytest.approx(gk_time_days(7.0) * 86400, abs=1)
    assert periods.latitude[0] == pytest.approx(35.0) and periods.radius_km[0] == pytest.approx(70.729, abs=1e-3)
    covered = periods.covers(cat.time, cat.latitude, cat.longitude)
    assert covered.tolist() == [False, True, False, True, True]  # fore (before), main, far, 2 aftershocks
    # A point just inside the circle at the window's end, and just outside either.
    assert periods.covers(periods.end[0], north(70.0), 140.0).tolist() == [True]
    assert periods.covers(periods.end[0] + np.timedelta64(2, "s"), north(70.0), 140.0).tolist() == [False]
    assert periods.covers(at(10.0), north(72.0), 140.0).tolist() == [False]


def test_foreshock_fraction_zero_looks_forward_only():
    cat = catalog((0.0, 0.0, 7.0, "main"), (-1.0, -15.0, 6.0, "fore"), (2.0, 10.0, 5.0, "after"))
    result = gardner_knopoff(cat, foreshock_fraction=0.0)
    # The M7 no longer gathers the M6 before it; the M6's own window only holds taken events.
    assert result.mainshock.tolist() == [True, True, False] and not result.foreshock.any()
    with pytest.raises(ConfigError, match="foreshock_fraction"):
        gardner_knopoff(cat, foreshock_fraction=1.5)


@pytest.mark.parametrize(
    "magnitude, inside_days, outside_days",
    [(6.4, 800.0, 850.0), (6.6, 850.0, 900.0)],  # T(6.4) = 821.8 days, T(6.6) = 891.5 days
)
def test_time_window_either_side_of_the_6_5_switch(magnitude, inside_days, outside_days):
    cat = catalog((0.0, 0.0, magnitude, "main"), (inside_days, 0.0, 5.0, "in"), (outside_days, 0.0, 5.0, "out"))
    result = gardner_knopoff(cat)
    assert result.aftershock.tolist() == [False, True, False]
    assert result.mainshock.tolist() == [True, False, True]


def test_distance_window_bound():
    cat = catalog((0.0, 0.0, 7.0, "main"), (1.0, 70.0, 5.0, "at-70km"), (1.5, -72.0, 5.0, "at-72km"))
    result = gardner_knopoff(cat)  # L(7) = 70.73 km
    assert result.aftershock.tolist() == [False, True, False]


def test_equal_magnitudes_the_earlier_is_the_mainshock():
    cat = catalog((5.0, 0.0, 6.0, "later"), (0.0, 5.0, 6.0, "earlier"))
    result = gardner_knopoff(cat)
    assert result.mainshock[index(cat, "earlier")] and result.aftershock[index(cat, "later")]


def test_linked_windows_reach_secondary_aftershocks():
    # The M4.5 is 95 km from the M7 (outside its 70.7 km) but 35 km from the M5 aftershock
    # (inside that one's 40.1 km, 143.7 days).
    cat = catalog((0.0, 0.0, 7.0, "main"), (1.0, 60.0, 5.0, "after"), (2.0, 95.0, 4.5, "secondary"))
    plain = gardner_knopoff(cat)
    assert plain.mainshock.tolist() == [True, False, True]
    linked = gardner_knopoff(cat, linked=True)
    assert linked.mainshock.tolist() == [True, False, False] and linked.aftershock[2]
    assert linked.linked and not plain.linked
    periods = linked.aftershock_periods()
    assert periods.source_index.tolist() == [0, 1, 2]
    # The members' windows reach back 143.7 and 77.1 days: cut to start at the mainshock.
    assert (periods.start == at(0.0)).all()
    np.testing.assert_allclose((periods.end - at(0.0)).astype(np.int64) / 86400,
                               [gk_time_days(7.0), 1 + gk_time_days(5.0), 2 + gk_time_days(4.5)], atol=1e-4)
    np.testing.assert_allclose(periods.radius_km, gk_distance_km(np.array([7.0, 5.0, 4.5])))
    assert periods.covers(cat.time, cat.latitude, cat.longitude).tolist() == [True, True, True]
    assert plain.aftershock_periods().covers(cat.time[2], cat.latitude[2], cat.longitude[2]).tolist() == [False]


def test_empty_catalog_and_bad_events():
    empty = Catalog.from_events([], start="2000-01-01", end="2001-01-01")
    result = gardner_knopoff(empty)
    assert result.n_clusters == 0 and result.cluster.shape == (0,) and result.mainshock.shape == (0,)
    periods = result.aftershock_periods()
    assert len(periods) == 0 and periods.covers([at(0.0)], [35.0], [140.0]).tolist() == [False]
    single = gardner_knopoff(catalog((0.0, 0.0, 6.0, "alone")))
    assert single.mainshock.tolist() == [True] and len(single.aftershock_periods()) == 0
    with pytest.raises(DataError, match="'bad' has no finite magnitude"):
        gardner_knopoff(catalog((0.0, 0.0, 6.0, "ok"), (1.0, 0.0, np.nan, "bad")))


@pytest.fixture(scope="module")
def usgs() -> Catalog:
    if not SIGNIFICANT.is_file():
        pytest.skip("shared USGS catalog not present")
    return read_catalog(SIGNIFICANT)


def test_tohoku_2011_on_the_usgs_catalog(usgs):
    tohoku = index(usgs, "OFFICIAL20110311054624120_30")  # 2011-03-11 05:46:24 M9.1, 38.297N 142.373E
    foreshock = index(usgs, "USP000HVHJ")  # 2011-03-09 02:45:20 M7.3, 38.435N 142.842E
    ibaraki = index(usgs, "USP000HVPA")  # 2011-03-11 06:15:40 M7.9, 36.281N 141.111E
    assert usgs.magnitude[[tohoku, foreshock, ibaraki]].tolist() == [9.1, 7.3, 7.9]
    assert haversine_km(usgs.latitude[tohoku], usgs.longitude[tohoku], usgs.latitude[foreshock],
                        usgs.longitude[foreshock]) == pytest.approx(43.7, abs=0.1)
    assert haversine_km(usgs.latitude[tohoku], usgs.longitude[tohoku], usgs.latitude[ibaraki],
                        usgs.longitude[ibaraki]) == pytest.approx(250.4, abs=0.1)

    plain = gardner_knopoff(usgs)
    assert plain.mainshock[tohoku]
    assert plain.foreshock[foreshock] and not plain.mainshock[foreshock]
    assert plain.cluster[foreshock] == plain.cluster[tohoku]
    # 250 km is outside the M9.1's 128.7 km circle: plain windows keep the M7.9 a mainshock.
    assert plain.mainshock[ibaraki] and plain.cluster[ibaraki] != plain.cluster[tohoku]
    members = plain.cluster == plain.cluster[tohoku]
    assert members.sum() == 112
    assert haversine_km(38.297, 142.373, usgs.latitude[members], usgs.longitude[members]).max() <= 128.71
    periods = plain.aftershock_periods()
    row = int(np.flatnonzero(periods.mainshock_index == tohoku)[0])
    assert periods.start[row] == np.datetime64("2011-03-11T05:46:24")
    assert (periods.end[row] - periods.start[row]).astype(np.int64) == pytest.approx(gk_time_days(9.1) * 86400, abs=1)
    assert periods.radius_km[row] == pytest.approx(128.70, abs=0.01)
    assert len(periods) == len(np.unique(plain.cluster[plain.aftershock]))
    assert periods.covers(usgs.time[plain.aftershock], usgs.latitude[plain.aftershock],
                          usgs.longitude[plain.aftershock]).all()

    linked = gardner_knopoff(usgs, linked=True)
    assert linked.mainshock[tohoku] and linked.foreshock[foreshock]
    assert linked.aftershock[ibaraki] and linked.cluster[ibaraki] == linked.cluster[tohoku]
    assert (linked.cluster == linked.cluster[tohoku]).sum() == 319
    linked_periods = linked.aftershock_periods()
    assert linked_periods.covers(usgs.time[linked.aftershock], usgs.latitude[linked.aftershock],
                                 usgs.longitude[linked.aftershock]).all()


# ------------------------------------------------------------------------- causal declustering


def test_causal_an_earlier_smaller_event_stays_a_mainshock():
    # M6 at day 10, M7 at day 100 20 km away, M5.6 at day 105 5 km from the M7.
    cat = catalog((10.0, 0.0, 6.0, "m6"), (100.0, 20.0, 7.0, "m7"), (105.0, 25.0, 5.6, "m5.6"))
    plain = gardner_knopoff(cat)
    assert plain.foreshock.tolist() == [True, False, False]  # the M7's window reaches back 918 days
    causal = gardner_knopoff(cat, causal=True)
    assert causal.mainshock.tolist() == [True, True, False]
    assert causal.aftershock.tolist() == [False, False, True] and not causal.foreshock.any()
    assert causal.causal and causal.foreshock_fraction == 0.0 and not plain.causal
    assert causal.cluster[2] == causal.cluster[1]  # the M7's aftershock, not the M6's
    periods = causal.aftershock_periods()
    assert periods.mainshock_index.tolist() == [1] and periods.start.tolist() == [at(100.0)]
    assert periods.known_from.tolist() == [at(105.0)]  # known once its first aftershock has happened
    assert (plain.aftershock_periods().known_from == plain.aftershock_periods().start).all()


def test_causal_refuses_what_would_look_ahead_or_let_a_smaller_event_decide():
    cat = catalog((0.0, 0.0, 7.0, "main"), (2.0, 10.0, 5.0, "after"))
    with pytest.raises(ConfigError, match="linked"):
        gardner_knopoff(cat, causal=True, linked=True)
    with pytest.raises(ConfigError, match="foreshock"):
        gardner_knopoff(cat, causal=True, foreshock_fraction=0.5)
    assert gardner_knopoff(cat, causal=True, foreshock_fraction=0.0).aftershock.tolist() == [False, True]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_causal_roles_before_a_date_do_not_depend_on_the_events_after_it(seed):
    rng = np.random.default_rng(seed)
    n = 300
    days = np.sort(rng.uniform(0.0, 3000.0, n))
    cat = catalog(*[(d, km, m, f"e{i}") for i, (d, km, m) in
                    enumerate(zip(days, rng.uniform(-150.0, 150.0, n), 4.5 + rng.exponential(0.6, n)))])
    whole = gardner_knopoff(cat, causal=True)
    assert 0 < whole.aftershock.sum() < n and not whole.foreshock.any()
    plain = gardner_knopoff(cat)
    differs = 0
    for cut in (500.0, 1500.0, 2500.0):
        before = cat.time < at(cut)
        part = cat.select(before)
        assert (gardner_knopoff(part, causal=True).mainshock == whole.mainshock[before]).all()
        differs += int((gardner_knopoff(part).mainshock != plain.mainshock[before]).sum())
    assert differs > 0  # plain Gardner-Knopoff does change its mind about earlier events
