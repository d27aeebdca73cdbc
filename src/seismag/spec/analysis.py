"""The SPEC's Module 2 report: the class balance of every window of a dataset, printed.

The analysis reads only what it needs: each ``window-{N}/data_{c}.npy`` is opened
memory-mapped, its shape comes from the ``.npy`` header, and only the label column
(the last one) is read, to check that every row of ``data_0.npy`` is labelled 0 and
every row of ``data_1.npy`` is labelled 1. Checking the feature values themselves
(NaN, infinities, ...) is the loader's job (``seismag.dataset.loading``). The counts,
severity and weights come from :mod:`seismag.dataset.balance`, which training uses too;
this module adds the SPEC's analyzer, its result types and the printed report, whose
format the SPEC fixes (``seismag analyze`` prints it).

The SPEC's usage runs as written::

    results = quick_analyze(base_path="./data")

    analyzer = DatasetAnalyzer(base_path="./data")
    results = analyzer.analyze_all_windows()
    window_7_analysis = results['7']
    if window_7_analysis:
        print(f"Imbalance ratio: {window_7_analysis.imbalance_analysis.imbalance_ratio:.2f}:1")
        print(f"Suggested weights: {window_7_analysis.imbalance_analysis.suggested_weights}")

May import everything (a :mod:`seismag.spec` module); nothing in the core imports it.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from seismag import defaults
from seismag.dataset.balance import DEFAULT_BETA, ImbalanceAnalysis, analyze_imbalance
from seismag.errors import ConfigError, DataError
from seismag.layout.seed import CLASS_FILES, check_class_file, window_dir, window_dir_name

__all__ = [
    "DEFAULT_DATA_DIR",
    "DEFAULT_WINDOW_PERIODS",
    "AnalysisSummary",
    "DatasetAnalyzer",
    "WindowAnalysis",
    "quick_analyze",
]

# The analyzer words every label problem the same way.
_ANALYSIS_LABEL = ("label column (last column) must be {label} in {class_file}, but {n_wrong} of "
               "{n_rows} rows differ (first: row {first}, label {first_value!r})")

#: How ``seismag analyze`` words each problem :func:`~seismag.layout.seed.check_class_file` finds
#: (the SPEC analyzer's wording, which its users and tests read).
ANALYSIS_WORDS: dict[str, str] = {
    "missing": "missing class file (class {label} samples of the {days}-day window)",
    "directory": "a directory, not a .npy file",
    "symlink_loop": "a symbolic link loop (the link never reaches a file)",
    "not_readable": "cannot be read ({cause})",
    "zero_bytes": "empty file (0 bytes)",
    "npz": "not a single .npy array (looks like an .npz archive)",
    "no_header": "not a readable .npy array (no NumPy header){looks}",
    "pickled": "not a readable .npy array (pickled Python objects, dtype object, not numbers)",
    "truncated": ("not a readable .npy array (truncated: the header promises {promised}, "
                  "the file holds fewer bytes ({size} of {needed}))"),
    "not_mappable": "not a readable .npy array ({error})",
    "unreadable": "not a readable .npy array ({error})",
    "dtype": "non-numeric dtype {dtype}; expected integer or float values",
    "ndim": "expected a 2-D array (n_samples, n_features + 1), got shape {shape}",
    "empty": "empty file: no samples (shape {shape})",
    "columns": ("{found} feature columns (+ 1 label column), expected {expected} "
                "= {days} days x {steps} steps per day"),
    "label_not_finite": _ANALYSIS_LABEL,
    "label_not_binary": _ANALYSIS_LABEL,
    "label_mismatch": _ANALYSIS_LABEL,
}


DEFAULT_DATA_DIR = Path("data")
DEFAULT_WINDOW_PERIODS = tuple(str(days) for days in defaults.WINDOWS)
DEFAULT_STEPS_PER_DAY = defaults.STEPS_PER_DAY  # 1-minute samples

_ASSESSMENTS = {
    "balanced": "Balanced",
    "mild": "Mild imbalance",
    "moderate": "Moderate imbalance",
    "severe": "Severe imbalance",
}

_RULE = "=" * 70
_SUBRULE = "-" * 40


@dataclass
class WindowAnalysis:
    """Class balance of one window (``window`` is the key, e.g. ``'7'``).

    ``n_features`` excludes the label column and equals ``window_days * steps_per_day``;
    ``class_files[c]`` is the path of ``data_{c}.npy``.
    """

    window: str
    window_days: int
    steps_per_day: int
    n_samples: int
    n_features: int
    class_counts: list[int]
    class_proportions: list[float]
    imbalance_analysis: ImbalanceAnalysis
    window_dir: str
    class_files: list[str]

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class AnalysisSummary:
    """Across windows: which were analysed, the most imbalanced one, an overall verdict.

    ``overall_severity`` is the severity of the most imbalanced window and
    ``assessment`` says it in words (e.g. ``'Mild imbalance'``).
    """

    windows_requested: list[str]
    windows_analyzed: list[str]
    windows_missing: list[str]
    most_imbalanced_window: str | None
    max_imbalance_ratio: float | None
    overall_severity: str | None
    assessment: str
    notes: dict[str, str] = field(default_factory=dict)

    @property
    def n_windows_analyzed(self) -> int:
        return len(self.windows_analyzed)

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "n_windows_analyzed": self.n_windows_analyzed}


# --------------------------------------------------------------------------- analyzer


class DatasetAnalyzer:
    """Class balance of every window of a dataset in the seed layout.

    Parameters
    ----------
    base_path : str or path-like
        The folder holding ``window-{N}/data_0.npy`` and ``data_1.npy``.
    window_periods : iterable of str or int
        Window lengths in days, analysed in this order; results are keyed by their
        string form (``'7'``).
    steps_per_day : int
        Samples per day (1440 for 1-minute data); every file must hold
        ``N * steps_per_day`` feature columns plus the label column.
    beta : float
        For the ``'effective'`` class weights.

    Attributes
    ----------
    results : dict[str, WindowAnalysis | None]
        The last analysis (``None`` for a window whose folder is absent).
    notes : dict[str, str]
        Why a window has no result.
    """

    def __init__(
        self,
        base_path: str | os.PathLike = DEFAULT_DATA_DIR,
        window_periods: Iterable[str | int] = DEFAULT_WINDOW_PERIODS,
        steps_per_day: int = DEFAULT_STEPS_PER_DAY,
        beta: float = DEFAULT_BETA,
    ):
        self.base_path = Path(base_path)
        self.window_periods = _normalize_periods(window_periods)
        if isinstance(steps_per_day, bool) or not isinstance(steps_per_day, (int, np.integer)) or steps_per_day < 1:
            raise ConfigError(f"steps_per_day must be a positive integer, got {steps_per_day!r}")
        self.steps_per_day = int(steps_per_day)
        if not 0.0 <= float(beta) < 1.0:
            raise ConfigError(f"beta must be in [0, 1), got {beta!r}")
        self.beta = float(beta)
        self.results: dict[str, WindowAnalysis | None] = {}
        self.notes: dict[str, str] = {}

    def window_dir(self, period: str | int) -> Path:
        return window_dir(self.base_path, _normalize_period(period))

    def analyze_window(self, period: str | int) -> WindowAnalysis:
        """Analyse one window; raises :class:`DataError` naming the file for any problem.

        Problems: the window folder or a class file is missing, a file is not a readable
        ``.npy`` array, not 2-D, empty, not numeric, has other than
        ``days * steps_per_day`` feature columns, or a label that does not match its file.
        """
        key = _normalize_period(period)
        days = int(key)
        window_dir = self.window_dir(key)
        if not window_dir.is_dir():
            raise DataError(
                window_dir,
                f"missing window directory (expected {CLASS_FILES[0]} and {CLASS_FILES[1]} for the {days}-day window here)",
            )
        class_files = [window_dir / name for name in CLASS_FILES]
        shapes = [
            _inspect_class_file(path, label, days, self.steps_per_day) for label, path in enumerate(class_files)
        ]
        class_counts = [n_rows for n_rows, _ in shapes]
        n_samples = sum(class_counts)
        analysis = WindowAnalysis(
            window=key,
            window_days=days,
            steps_per_day=self.steps_per_day,
            n_samples=n_samples,
            n_features=shapes[0][1],
            class_counts=class_counts,
            class_proportions=[count / n_samples for count in class_counts],
            imbalance_analysis=analyze_imbalance(class_counts, beta=self.beta),
            window_dir=str(window_dir),
            class_files=[str(path) for path in class_files],
        )
        self.results[key] = analysis
        self.notes.pop(key, None)
        return analysis

    def analyze_all_windows(self, strict: bool = False) -> dict[str, WindowAnalysis | None]:
        """Analyse every window in ``window_periods``.

        With ``strict=False`` (the SPEC's "analysis of available windows") a window whose
        folder is absent maps to ``None`` and ``notes`` says why; with ``strict=True`` it
        raises :class:`DataError`. A window that is present but broken always raises, and
        so does a ``base_path`` that does not exist or holds none of the windows.
        """
        if not self.base_path.is_dir():
            raise DataError(self.base_path, "data directory not found")
        results: dict[str, WindowAnalysis | None] = {}
        notes: dict[str, str] = {}
        for key in self.window_periods:
            window_dir = self.window_dir(key)
            if not strict and not window_dir.exists():
                results[key] = None
                notes[key] = f"{window_dir} not found"
                continue
            results[key] = self.analyze_window(key)
        if not any(result is not None for result in results.values()):
            expected = ", ".join(window_dir_name(key) for key in self.window_periods)
            raise DataError(self.base_path, f"no window directories found (expected {expected})")
        self.results = results
        self.notes = notes
        return dict(results)

    def summary(self) -> AnalysisSummary:
        """Windows analysed, the most imbalanced one (first on ties) and the overall assessment."""
        results = self._ensure_results()
        analyzed = [key for key, result in results.items() if result is not None]
        missing = [key for key, result in results.items() if result is None]
        if not analyzed:
            return AnalysisSummary(
                list(self.window_periods), [], missing, None, None, None, "No windows analysed", dict(self.notes)
            )
        worst = max(analyzed, key=lambda key: results[key].imbalance_analysis.imbalance_ratio)
        worst_analysis = results[worst].imbalance_analysis
        return AnalysisSummary(
            windows_requested=list(self.window_periods),
            windows_analyzed=analyzed,
            windows_missing=missing,
            most_imbalanced_window=worst,
            max_imbalance_ratio=worst_analysis.imbalance_ratio,
            overall_severity=worst_analysis.severity,
            assessment=_ASSESSMENTS[worst_analysis.severity],
            notes=dict(self.notes),
        )

    def format_report(self) -> str:
        """The SPEC's "Expected Output": per-window distribution, summary, implementation guide."""
        results = self._ensure_results()
        summary = self.summary()
        lines = [_RULE, "Dataset Distribution Analysis", f"Base Path: {self.base_path}", _RULE]
        for key, result in results.items():
            lines += ["", f"Analyzing window: {key} days", _SUBRULE]
            if result is None:
                lines.append(f"Skipped: {self.notes.get(key, 'not analysed')}")
                continue
            lines += _format_window(result)
        lines += ["", _RULE, "Summary", _RULE, f"Windows analyzed: {summary.n_windows_analyzed}"]
        if summary.windows_missing:
            lines.append(f"Windows missing: {', '.join(summary.windows_missing)}")
        if summary.most_imbalanced_window is not None:
            lines.append(
                f"Most imbalanced: Window {summary.most_imbalanced_window} ({summary.max_imbalance_ratio:.2f}:1)"
            )
        lines.append(f"Assessment: {summary.assessment}")
        lines += ["", _RULE, "Implementation Guide", _RULE]
        for key, result in results.items():
            if result is None:
                continue
            lines += ["", *_format_guide(result)]
        return "\n".join(lines) + "\n"

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form of the analysis (``seismag analyze --json``)."""
        results = self._ensure_results()
        return {
            "base_path": str(self.base_path),
            "steps_per_day": self.steps_per_day,
            "beta": self.beta,
            "windows": {key: (None if result is None else result.to_dict()) for key, result in results.items()},
            "notes": dict(self.notes),
            "summary": self.summary().to_dict(),
        }

    def _ensure_results(self) -> dict[str, WindowAnalysis | None]:
        if not self.results:
            self.analyze_all_windows()
        return self.results


def quick_analyze(
    base_path: str | os.PathLike | None = None,
    window_periods: Iterable[str | int] = DEFAULT_WINDOW_PERIODS,
    steps_per_day: int = DEFAULT_STEPS_PER_DAY,
) -> dict[str, WindowAnalysis | None]:
    """Analyse the available windows, print the report, return the results.

    ``base_path=None`` means ``./data``. Windows whose folder is absent are ``None``.
    """
    analyzer = DatasetAnalyzer(
        DEFAULT_DATA_DIR if base_path is None else base_path, window_periods, steps_per_day=steps_per_day
    )
    results = analyzer.analyze_all_windows()
    print(analyzer.format_report(), end="")
    return results


# --------------------------------------------------------------------------- helpers


def _normalize_period(period: str | int) -> str:
    text = str(period).strip()
    if isinstance(period, bool) or not text.isdigit() or int(text) < 1:
        raise ConfigError(f"window period must be a positive whole number of days, got {period!r}")
    return str(int(text))


def _normalize_periods(periods: Iterable[str | int]) -> tuple[str, ...]:
    if isinstance(periods, (str, int)):
        periods = [periods]
    keys: list[str] = []
    for period in periods:
        key = _normalize_period(period)
        if key not in keys:
            keys.append(key)
    if not keys:
        raise ConfigError("no window periods given")
    return tuple(keys)


def _inspect_class_file(path: Path, label: int, days: int, steps_per_day: int) -> tuple[int, int]:
    """(n_rows, n_features) of one class file, after the seed layout's checks (in the analyzer's words)."""
    array = check_class_file(path, label, days, steps_per_day, words=ANALYSIS_WORDS)
    try:
        return int(array.shape[0]), int(array.shape[1] - 1)
    finally:
        del array  # release the memory map


def _format_weights(weights: Sequence[float]) -> str:
    # Three decimals (the SPEC's "[0.801, 1.331]"); three significant digits for small
    # weights such as the unscaled 'effective' ones (~1e-3), which 3 decimals would erase.
    spec = ".3f" if min(abs(value) for value in weights) >= 0.1 else ".3g"
    return "[" + ", ".join(f"{value:{spec}}" for value in weights) + "]"


def _format_window(result: WindowAnalysis) -> list[str]:
    imbalance = result.imbalance_analysis
    proportions = ", ".join(f"{share * 100:.1f}%" for share in result.class_proportions)
    lines = [
        f"Total samples: {result.n_samples:,}",
        f"Class distribution: {list(result.class_counts)}",
        f"Class proportions: {proportions}",
        "",
        "Imbalance Analysis:",
        f"  Ratio: {imbalance.imbalance_ratio:.2f}:1",
        f"  Severity: {imbalance.severity.upper()}",
        f"  Strategy: {imbalance.strategy}",
        f"  Weights: {_format_weights(imbalance.suggested_weights)}",
        "  Weights by method:",
    ]
    width = max(len(method) for method in imbalance.weights_by_method) + 1
    for method, weights in imbalance.weights_by_method.items():
        extra = f"  (beta = {imbalance.beta:g})" if method == "effective" else ""
        lines.append(f"    {method + ':':<{width}} {_format_weights(weights)}{extra}")
    lines.append("  Recommendations:")
    lines += [f"    - {text}" for text in imbalance.recommendations]
    return lines


def _format_guide(result: WindowAnalysis) -> list[str]:
    imbalance = result.imbalance_analysis
    lines = [
        f"# Window {result.window} days:",
        f"weights = torch.tensor({_format_weights(imbalance.suggested_weights)})",
        "criterion = nn.CrossEntropyLoss(weight=weights)",
    ]
    if imbalance.severity == "moderate":
        lines.append("# Moderate imbalance: also balance the batches (torch.utils.data.WeightedRandomSampler)")
    elif imbalance.severity == "severe":
        lines.append("# Severe imbalance: also consider focal loss (alpha=weights, gamma=2.0) and balanced batches")
    return lines
