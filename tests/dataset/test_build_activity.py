"""seismag build with geomagnetic indices, storm exclusion, declustering and a recipe, on the shared
Memambetsu March 2011 record (H, D, Z) and the shared Kp / Dst / SSC files."""
import csv
import json
from pathlib import Path

import numpy as np
import pytest

from seismag.dataset.build import build_dataset
from seismag.sources.catalog import Catalog
from seismag.sources.indices.dst import read_dst
from seismag.sources.indices.kp import read_kp
from seismag.errors import ConfigError, DataError
from seismag.layout.dataset_info import read_dataset_info

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
MMB = SHARED / "observatory" / "mmb_2011_march.txt"
CATALOG = SHARED / "catalog" / "usgs_significant_1965_2016.csv"
KP = SHARED / "indices" / "kp_gfz_2006_2022.csv"
DST = SHARED / "indices" / "dst_kyoto_2006_2022.dat"
SSC = SHARED / "indices" / "ssc"

pytestmark = pytest.mark.skipif(not MMB.is_file(), reason="../shared/data is not available")


def meta_rows(folder):
    with open(folder / "window-7" / "meta.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def daily(series_days, values, day):
    return float(values[np.flatnonzero(series_days == np.datetime64(day))[0]])


@pytest.fixture(scope="module")
def with_indices(tmp_path_factory):
    out = tmp_path_factory.mktemp("mmb") / "data"
    build_dataset([MMB], CATALOG, out, windows=(7,), components="H,D,Z", kp=KP, dst=DST, ssc=SSC,
                  recipe=[{"step": "baseline", "reference": "first_day"}])
    return out


def test_activity_columns_hold_the_windows_index_extremes(with_indices):
    kp, dst = read_kp(KP), read_dst(DST)
    kp_max, dst_min = kp.daily_max(), dst.daily_min()
    assert daily(kp.days, kp_max, "2011-03-11") == pytest.approx(5.667, abs=1e-3)
    assert daily(dst.days, dst_min, "2011-03-11") == -83.0
    rows = meta_rows(with_indices)
    assert rows and all(row["max_kp"] != "" and row["min_dst"] != "" for row in rows)
    for row in rows:
        first = np.datetime64(row["window_start"][:10])
        days = first + np.arange(7)
        expected_kp = max(daily(kp.days, kp_max, d) for d in days)
        expected_dst = min(daily(dst.days, dst_min, d) for d in days)
        assert float(row["max_kp"]) == pytest.approx(expected_kp, abs=1e-3)
        assert float(row["min_dst"]) == expected_dst
    holding_tohoku = [r for r in rows if r["window_start"][:10] <= "2011-03-11" < r["window_end"][:10]]
    assert holding_tohoku and all(float(r["max_kp"]) >= 5.667 - 1e-3 for r in holding_tohoku)


def test_dataset_json_lists_channels_recipe_and_activity(with_indices):
    info = read_dataset_info(with_indices)
    assert info.channels == ("H", "D", "Z") and info.units == ("nT", "arcmin", "nT")
    assert info.activity_columns == ("max_kp", "min_dst", "n_ssc")
    assert info.recipe == ({"step": "baseline", "reference": "first_day"},)
    assert info.stations["MMB"]["longitude"] == pytest.approx(144.189)
    report = json.loads((with_indices / "build_report.json").read_text())
    assert report["settings"]["kp"] == str(KP) and "baseline (first-day median)" in report["settings"]["recipe"]


def test_exclude_storms_drops_exactly_the_windows_with_a_disturbed_day(with_indices, tmp_path):
    out = tmp_path / "quiet"
    report = build_dataset([MMB], CATALOG, out, windows=(7,), components="H,D,Z", kp=KP, dst=DST,
                           exclude_storms="kp>=5,dst<=-50")
    kp, dst = read_kp(KP), read_dst(DST)
    kp_max, dst_min = kp.daily_max(), dst.daily_min()

    def disturbed(day):
        return daily(kp.days, kp_max, day) >= 5 or daily(dst.days, dst_min, day) <= -50

    everything = meta_rows(with_indices)
    expected_kept = [r["window_start"] for r in everything
                     if not any(disturbed(np.datetime64(r["window_start"][:10]) + k) for k in range(7))]
    kept = meta_rows(out)
    assert sorted(r["window_start"] for r in kept) == sorted(expected_kept)
    assert all(r["disturbed_days"] == "0" for r in kept)
    dropped = len(everything) - len(kept)
    assert dropped > 0 and report.window(7).dropped == {"disturbed_day": dropped}
    assert f"disturbed_day {dropped}" in (out / "build_report.txt").read_text()


def test_a_storm_rule_without_its_index_is_one_line(tmp_path):
    with pytest.raises(ConfigError, match=r"names dst, but no --dst file"):
        build_dataset([MMB], CATALOG, tmp_path / "x", windows=(7,), kp=KP, exclude_storms="kp>=5,dst<=-50")
    with pytest.raises(ConfigError):
        build_dataset([MMB], CATALOG, tmp_path / "x", windows=(7,), kp=KP, exclude_storms="kp=>5")
    assert not (tmp_path / "x").exists()


def test_a_bad_recipe_is_refused_before_anything_is_written(tmp_path):
    with pytest.raises((ConfigError, DataError), match="quiet"):
        build_dataset([MMB], CATALOG, tmp_path / "x", windows=(7,), recipe=[{"step": "sq", "quiet_days": 9}])
    assert not (tmp_path / "x").exists()


def test_declustering_labels_by_mainshocks_and_drops_aftershock_periods(tmp_path):
    # a mainshock M6.5 30 km from Memambetsu on 2011-03-15 and its M5.6 aftershock on 03-20
    catalog = Catalog.from_events([("2011-03-15T12:00:00", 43.8, 144.5, 10.0, 6.5, "main"),
                                   ("2011-03-20T12:00:00", 43.85, 144.45, 10.0, 5.6, "after")],
                                  start="2011-01-01", end="2011-06-01")
    plain = build_dataset([MMB], catalog, tmp_path / "plain", windows=(7,))
    declustered = build_dataset([MMB], catalog, tmp_path / "dec", windows=(7,), decluster=True)
    by_end = {r["window_end"][:10]: r for r in meta_rows(tmp_path / "plain")}
    assert by_end["2011-03-20"]["event_id"] == "after"  # without declustering the aftershock labels
    kept = {r["window_end"][:10]: r for r in meta_rows(tmp_path / "dec")}
    assert kept["2011-03-15"]["event_id"] == "main" and kept["2011-03-15"]["label"] == "1"
    assert all(end <= "2011-03-15" for end in kept)  # later windows reach into the aftershock period
    dropped = declustered.window(7).dropped
    assert dropped["aftershock_period"] == len(by_end) - len(kept) > 0
    assert plain.window(7).dropped == {}
