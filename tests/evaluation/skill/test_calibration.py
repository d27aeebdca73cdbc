"""The verdicts of ``seismag skill`` checked by simulation on the referee's network
(:mod:`referee`: six stations 1 degree apart, every event within reach of three, a year of
daily scores), with Poisson and with clustered events.

- zero-skill forecasts (noise per station-day, one noise series shared by the network, a
  per-station constant) share one expected ASS, 0.5, and none is called above its
  surrogates, or different from a zero-skill storm reference, in more than about 10 % of
  draws at nominal 5 %;
- a forecast raised on the lead days before each event at the stations in reach is above
  its surrogates and ahead of the zero-skill reference in at least 90 % of draws.

Under the event-level count (an event caught when any of its three stations is under
alarm) the per-station noise scored ~0.75 and the shared noise ~0.5, and the paired
``D > 2 sd`` rule called zero-skill forecasts different in a third of the clustered draws:
these tests fail on that code.
"""

from __future__ import annotations

import numpy as np
import pytest

from referee import LEAD_DAYS, NULL_FORECASTS, RADIUS_KM, network
from seismag.evaluation.skill import evaluate_skill

DRAWS = 60


def judge(seed: int, kind: str, forecasts, surrogates: int = 99) -> dict:
    scores, catalog = network(seed, kind, forecasts=forecasts)
    return evaluate_skill(scores, catalog, radius_km=RADIUS_KM, lead_days=LEAD_DAYS, surrogates=surrogates,
                          seed=seed)


@pytest.fixture(scope="module", params=["poisson", "clustered"])
def null_runs(request):
    kind = request.param
    return kind, [judge(1000 + seed, kind, (*NULL_FORECASTS, "activity_7day"))["models"] for seed in range(DRAWS)]


def test_zero_skill_forecasts_share_one_expected_ass(null_runs):
    kind, runs = null_runs
    mean = {name: np.mean([run[name]["ass"] for run in runs]) for name in NULL_FORECASTS}
    assert mean["station_noise_7day"] == pytest.approx(0.5, abs=0.03), (kind, mean)
    assert mean["shared_noise_7day"] == pytest.approx(0.5, abs=0.03), (kind, mean)
    assert abs(mean["station_noise_7day"] - mean["shared_noise_7day"]) <= 0.03, (kind, mean)
    assert all(run["constant_7day"]["ass"] == pytest.approx(0.5) for run in runs)
    assert all(run["reference:rate"]["ass"] == pytest.approx(0.5) for run in runs)


def test_zero_skill_forecasts_are_rarely_called_significant_or_different(null_runs):
    kind, runs = null_runs
    for name in NULL_FORECASTS:
        raw = np.mean([run[name]["ass_p_value"] <= 0.05 for run in runs])
        called = np.mean([run[name]["significant"] for run in runs])
        different = np.mean([run[name]["versus"]["activity_7day"]["outcome"] != "indistinguishable" for run in runs])
        assert raw <= 0.12 and called <= 0.10 and different <= 0.10, (kind, name, raw, called, different)
    # the per-station constant has no timing at all: its surrogates are itself, and it is the rate reference
    assert all(run["constant_7day"]["ass_p_value"] == 1.0 for run in runs)
    assert all(run["constant_7day"]["versus"]["reference:rate"]["p_value"] == 1.0 for run in runs)


@pytest.mark.parametrize("kind", ["poisson", "clustered"])
def test_a_planted_precursor_is_significant_and_ahead_of_a_zero_skill_reference(kind):
    runs = [judge(2000 + seed, kind, ("precursor_7day", "activity_7day"), 199)["models"]
            for seed in range(30)]
    significant = np.mean([run["precursor_7day"]["significant"] for run in runs])
    ahead = np.mean([run["precursor_7day"]["versus"]["activity_7day"]["outcome"] == "ahead" for run in runs])
    assert significant >= 0.9 and ahead >= 0.9, (kind, significant, ahead)
    assert all("ahead of alarms raised by geomagnetic storms (timing only" in run["precursor_7day"]["verdict"]
               for run in runs if run["precursor_7day"]["versus"]["activity_7day"]["outcome"] == "ahead")
