"""A hand-written ``seismag explain`` folder (explain.json + explain.csv), for the figure and report tests."""

from __future__ import annotations

import numpy as np

from seismag.layout.explain import write_explain

CHANNELS = ["H", "D", "Z"]
DAYS = 5


def write_explain_folder(folder, *, gradients: bool = True, activity: bool = True, model: str = "gru"):
    """Two groups; class 1's attribution on Z's last day, which stands out; Kp high on day -2."""
    rng = np.random.default_rng(0)

    def method(peak: float, stands):
        mean = rng.normal(0, 0.002, (DAYS, 3))
        mean[-1, 2] = peak
        share = np.zeros((DAYS, 3))
        share[-1, 2] = 0.8 if peak else 0.1
        return {"mean": mean.tolist(), "std": np.full((DAYS, 3), 0.01).tolist(),
                "fold_std": np.full((DAYS, 3), 0.005).tolist(), "top_share": share.tolist(),
                "no_top_share": 0.1, "stands_out": stands}

    groups = []
    for name, peak, stands in (("class 1", 0.2, [[DAYS - 1, 2]]), ("class 0", 0.0, [])):
        methods = {"occlusion": method(peak, stands)}
        if gradients:
            methods["integrated_gradients"] = method(peak, stands)
        kp = [1.0, 2.0, 3.0, 7.0, 2.0] if activity else None
        group = {"name": name, "n_windows": 10, "mean_prob_class1": 0.7 if peak else 0.2, "methods": methods,
                 "activity": {"max_kp": kp, "min_dst": [-10.0, -12.0, -20.0, -90.0, -30.0] if activity else None}}
        if gradients:
            group["hourly_integrated_gradients"] = rng.normal(0, 0.001, (DAYS * 24, 3)).tolist()
        groups.append(group)
    record = {"model": model, "window_days": DAYS, "rows": [f"day -{DAYS - d}" for d in range(DAYS)],
              "channels": CHANNELS, "source": "data/window-5", "n_windows": 20, "n_members": 2,
              "methods": {}, "integrated_gradients_note": None if gradients else f"{model}: only occlusion applies",
              "hours_per_day": 24 if gradients else None, "groups": groups}
    write_explain(folder, record, [["row 0", "class 1", 1, "0.7", "occlusion", 1, "Z", "0.2"]])
    return folder
