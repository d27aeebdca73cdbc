"""A hand-made ``seismag skill`` folder: skill.json, scores.csv and Kp / Dst files.

The skill.json follows the contract of ``seismag skill`` exactly; its numbers were worked
out by hand (see :func:`skill_dict`), so the figures' data and the report's table can be
checked against them. Shared by the skill-figure and the report tests (as
``plots.skill_folder``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from seismag.scores import proper_scores
import pytest

from seismag.sources.indices.dst import write_dst_wdc
from seismag.sources.indices.kp import write_kp_csv


def point(threshold, tau, nu, alpha):
    return {"threshold": threshold, "tau": tau, "nu": nu, "alpha": alpha}


def skill_dict(in_sample: bool = False) -> dict:
    """Two stations, three target events and four (event, station) pairs, lead 3 days,
    scores 2020-01-01..10 at each (skill.json version 2).

    Pairs: E1 is within reach of AAA and BBB, E2 of BBB, E3 of AAA: N = 4 pairs, so nu
    (the fraction of pairs missed) steps by 0.25. Station-days: each station's horizons
    [d, d + 3) for d = Jan 1..10 cover Jan 1..12: 12 days, 24 in all. Trajectories, ASS:
      gru_7day   (0,1) (0.1,0.5) (0.25,0) (1,0): flat-then-down area 0.1*1 + 0.15*0.5 = 0.175,
                 ASS 0.825; G at the first tau >= 0.05, 0.1: (1-0.5)/0.1 = 5, at >= 0.2: 1/0.25 = 4
      lstm_7day  (0,1) (0.5,0.5) (1,0): trapezoid area 0.5, ASS 0.5; G = 0.5/0.5 = 1
      reference:rate and reference:random: the diagonal (0,1) (1,0), ASS 0.5, G 1
      reference:kp  (0,1) (0.2,0.5) (1,0): trapezoid 0.2*0.75 + 0.8*0.25 = 0.35, ASS 0.65; G 2.5
      reference:dst (0,1) (0.3,0.5) (1,0): trapezoid 0.3*0.75 + 0.7*0.25 = 0.4, ASS 0.6; G 5/3
    alpha = P(X >= hits), X ~ Bin(4, tau): gru at (0.1, 0.5) 1 - 0.9^4 - 4*0.1*0.9^3 = 0.0523,
    at (0.25, 0) 0.25^4 = 0.0039. The pointwise contour: h hits are significant while
    P(X >= h) <= 0.05: tau <= 0.01274 (h = 1), 0.09761 (2), 0.24860 (3), 0.47287 (4).
    """
    period = {"train_until": "2019-12-01", "first_window_start": "2019-01-01",
              "last_horizon_end": "2020-01-05" if in_sample else "2019-12-01"}

    def entry(kind, ass, p, gains, molchan, verdict, model_in_sample=False, adjusted=None, versus=None):
        record = {"kind": kind, "in_sample": model_in_sample, "training_period": period if kind == "model" else None,
                  "window_days": 7, "n_events": 3, "n_pairs": 4, "n_station_days": 24, "ass": ass,
                  "ass_p_value": p, "ass_p_adjusted": adjusted,
                  "significant": None if adjusted is None else adjusted <= 0.05,
                  "ass_surrogate_mean": None if p is None else 0.5, "ass_surrogate_sd": None if p is None else 0.09,
                  "probability_gain": dict(zip(("0.05", "0.1", "0.2"), gains)), "molchan": molchan,
                  "verdict": verdict}
        if versus is not None:
            record["versus"] = {name: {"ass_difference": ass - other, "p_value": p_value, "p_adjusted": p_adjusted,
                                       "outcome": outcome}
                                for name, (other, p_value, p_adjusted, outcome) in versus.items()}
        return record

    diagonal = [point(None, 0, 1, 1.0), point(None, 1.0, 0.0, None)]
    data = {
        "format": "seismag-skill", "version": 2,
        "settings": {"scores": "scores.csv", "catalog": "catalog.csv", "min_magnitude": 6.0,
                     "radius": "dobrovolsky", "radius_km": None, "lead_days": 3, "max_depth_km": 70.0,
                     "decluster": False, "surrogates": 200, "surrogates_used": 200, "seed": 1, "kp": "kp.csv",
                     "dst": "dst.dat"},
        "scored_period": {"start": "2020-01-01", "end": "2020-01-13"},
        "in_sample": in_sample,
        "stations": {"AAA": {"latitude": 35.0, "longitude": 140.0, "n_station_days": 12},
                     "BBB": {"latitude": 36.0, "longitude": 141.0, "n_station_days": 12}},
        "events": [
            {"id": "E1", "time": "2020-01-05T12:00:00Z", "magnitude": 6.5, "latitude": 35.5,
             "longitude": 140.5, "depth_km": 10.0, "stations": ["AAA", "BBB"]},
            {"id": "E2", "time": "2020-01-08T03:30:00Z", "magnitude": 6.1, "latitude": 36.2,
             "longitude": 141.3, "depth_km": 30.0, "stations": ["BBB"]},
            {"id": "E3", "time": "2020-01-10T06:00:00Z", "magnitude": 6.2, "latitude": 35.1,
             "longitude": 140.1, "depth_km": 20.0, "stations": ["AAA"]},
        ],
        "n_pairs": 4,
        "contour_95": [{"tau": 0.0, "nu": 0.75}, {"tau": 0.0127, "nu": 0.75}, {"tau": 0.0128, "nu": 0.5},
                       {"tau": 0.0976, "nu": 0.5}, {"tau": 0.0977, "nu": 0.25}, {"tau": 0.2486, "nu": 0.25},
                       {"tau": 0.2487, "nu": 0.0}, {"tau": 0.4728, "nu": 0.0}],
        "contour": "pointwise: binomial over independent (event, station) pairs; not a test of the curve",
        "family": {"members": ["gru_7day", "lstm_7day"],
                   "adjustment": "Westfall-Young single-step min-p over shared resamples"},
        "models": {
            "gru_7day": entry("model", 0.825, 0.031, (5.0, 5.0, 4.0),
                              [point(None, 0, 1, 1.0), point(0.9, 0.1, 0.5, 0.0523),
                               point(0.7, 0.25, 0.0, 0.0039), point(0.0, 1.0, 0.0, 1.0)],
                              "ASS 0.82 above its circular-shift surrogates (p = 0.031, adjusted p = 0.045); "
                              "ahead of alarms raised by geomagnetic storms (timing only: reference:kp ASS 0.65, "
                              "difference +0.17, p = 0.01, adjusted p = 0.02, reference:dst ASS 0.60, difference "
                              "+0.23, p = 0.005, adjusted p = 0.01)",
                              adjusted=0.045,
                              versus={"reference:rate": (0.5, 0.002, 0.004, "ahead"),
                                      "reference:kp": (0.65, 0.01, 0.02, "ahead"),
                                      "reference:dst": (0.6, 0.005, 0.01, "ahead")}),
            "lstm_7day": entry("model", 0.5, 0.62, (1.0, 1.0, 1.0),
                               [point(None, 0, 1, 1.0), point(0.5, 0.5, 0.5, 0.6875), point(0.0, 1.0, 0.0, 1.0)],
                               "ASS 0.50 indistinguishable from its circular-shift surrogates (p = 0.62, "
                               "adjusted p = 0.8); indistinguishable from alarms raised by geomagnetic storms",
                               model_in_sample=in_sample, adjusted=0.8,
                               versus={"reference:rate": (0.5, 1.0, 1.0, "indistinguishable"),
                                       "reference:kp": (0.65, 0.3, 0.5, "indistinguishable"),
                                       "reference:dst": (0.6, 0.4, 0.6, "indistinguishable")}),
            "reference:random": entry("reference", 0.5, None, (1.0, 1.0, 1.0), diagonal,
                                      "random alarms: the diagonal nu = 1 - tau, ASS 0.5"),
            "reference:rate": entry("reference", 0.5, 1.0, (1.0, 1.0, 1.0),
                                    [point(None, 0, 1, 1.0), point(0.0, 1.0, 0.0, 1.0)],
                                    "knows where events happen and nothing of when: on timing it is the diagonal"),
            "reference:kp": entry("reference", 0.65, 0.2, (2.5, 2.5, 2.5),
                                  [point(None, 0, 1, 1.0), point(6.0, 0.2, 0.5, 0.1808), point(0.0, 1.0, 0.0, 1.0)],
                                  "alarms raised by geomagnetic storms alone (daily max Kp, 7-day window)"),
            "reference:dst": entry("reference", 0.6, 0.3, (5 / 3, 5 / 3, 5 / 3),
                                   [point(None, 0, 1, 1.0), point(80.0, 0.3, 0.5, 0.3483), point(0.0, 1.0, 0.0, 1.0)],
                                   "alarms raised by geomagnetic storms alone (-min Dst, 7-day window)"),
        },
        "notes": [],
    }
    # The reliability of gru_7day's daily probabilities: 20 rows, 3 of them with an event.
    outcome = np.array([0] * 17 + [1] * 3)
    probability = np.array([0.05] * 12 + [0.3] * 5 + [0.1, 0.6, 0.9])
    data["models"]["gru_7day"]["reliability"] = {
        **proper_scores(outcome, probability), "brier_rate_reference": 0.13, "brier_skill_rate": 0.21,
        "calibration": "calibrated (platt scaling ...)", "note": "test"}
    return data


DAYS = np.arange(np.datetime64("2020-01-01"), np.datetime64("2020-01-11"))  # Jan 1..10


def write_scores(path: Path) -> Path:
    """AAA: both models every day, gru's score empty on Jan 4. BBB: gru only, no row on Jan 6."""
    lines = ["station,latitude,longitude,window_end,model,prob_class1,member_std,missing_fraction,in_sample"]
    for model, stations in (("gru_7day", ("AAA", "BBB")), ("lstm_7day", ("AAA",))):
        for station in stations:
            for index, day in enumerate(DAYS):
                if station == "BBB" and index == 5:
                    continue
                empty = station == "AAA" and model == "gru_7day" and index == 3
                score = "" if empty else f"{(index + 1) / 20 + (0.3 if model == 'lstm_7day' else 0):.2f}"
                std = "" if empty else "0.01"
                lines.append(f"{station},35.0,140.0,{day},{model},{score},{std},{0.9 if empty else 0.0},false")
    path.write_text("\n".join(lines) + "\n")
    return path


def kp_values() -> np.ndarray:
    """Jan 1..12: the same eight 3-hourly values every day (largest 2.0, slot 2), except slot 3."""
    values = np.tile(np.array([1.0, 1.333, 2.0, 0.0, 0.667, 1.0, 0.333, 0.0]), (12, 1))
    values[:, 3] = [1.0, 2.0, 3.0, 4.0, 5.333, 6.0, 2.667, 1.0, 1.0, 2.0, 3.0, 4.0]
    return values


def dst_values() -> np.ndarray:
    values = np.full((12, 24), -5.0)
    values[:, 7] = [-10, -20, -30, -40, -55, -80, -35, -20, -15, -10, -12, -9]
    return values


@pytest.fixture
def skill_dir(tmp_path) -> Path:
    folder = tmp_path / "skill"
    folder.mkdir()
    (folder / "skill.json").write_text(json.dumps(skill_dict(), indent=2))
    write_scores(folder / "scores.csv")
    days = np.arange(np.datetime64("2020-01-01"), np.datetime64("2020-01-13"))
    write_kp_csv(folder / "kp.csv", days, kp_values())
    write_dst_wdc(folder / "dst.dat", days, dst_values())
    return folder
