"""Which calibrator a saved ensemble carries, and one sentence saying what ``prob_class1`` is.

The calibrator itself (Platt scaling fitted on the training run's out-of-fold rows, its
checks and its application) is :mod:`seismag.training.calibration`; training stores it in
the ensemble's ``extra['calibration']``. ``predict``, ``evaluate`` and ``scan`` read it here.
"""

from __future__ import annotations

from seismag.training.calibration import checked_record


def calibrator(extra: dict, where="the ensemble") -> dict | None:
    """The ensemble's probability calibrator (``extra['calibration']``), checked; None for an ensemble
    saved before ensembles carried one: its probabilities are the members' weighted mean, uncalibrated.

    Raises
    ------
    CheckpointError
        One line naming ``where``: a calibrator that is not a Platt calibrator of finite numbers.
    """
    return checked_record(extra.get("calibration"), str(where))


def calibration_words(extra: dict, calibrated: bool = True) -> str:
    """One line saying whether ``prob_class1`` is calibrated, and why not."""
    record = calibrator(extra)
    if not calibrated:
        return "uncalibrated (--no-calibration)"
    if record is None:
        return "uncalibrated: this ensemble was saved before ensembles carried a calibrator"
    return (f"calibrated ({record['method']} scaling fitted on {record['n_rows']} out-of-fold training rows: "
            f"slope {record['slope']:.3g}, intercept {record['intercept']:.3g})")
