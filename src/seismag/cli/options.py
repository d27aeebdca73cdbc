"""The command line's words: one argparse block per command, its options, help and examples.

Every option the library has a default for is left unset here (``None``), so the library's
default applies; help texts quote :mod:`seismag.defaults`. ``--help`` and the README are
checked against this one place.
"""

from __future__ import annotations

import argparse

from seismag import defaults
from seismag.config import FLAG_GROUPS, MODEL_FLAGS, TRAIN_FLAGS, Flag, make_config


def _csv_ints(text: str) -> list[int]:
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got '{text}'") from None


def _csv_names(text: str) -> list[str]:
    return [x.strip().lower() for x in text.split(",") if x.strip()]


def _number(text: str) -> int | float | str:
    """A run setting's number as written: an int, else a float, else the text. The config
    checks it (config.check_setting), so `--epochs 2.7` gets the same one-line message as
    `epochs = 2.7` in a TOML file, not argparse's usage block."""
    for parse in (int, float):
        try:
            return parse(text)
        except ValueError:
            pass
    return text


def _csv_numbers(text: str) -> list[int | float | str]:
    return [_number(x.strip()) for x in text.split(",") if x.strip()]


# How a config setting's flag reads its text; the config checks the value.
_PARSE = {int: _number, float: _number, tuple[int, ...]: _csv_numbers, tuple[str, ...]: _csv_names}


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose actions may carry ``describe``: a function that writes the
    action's help when help is printed. The model list comes from the registry, which
    imports torch; asking it only then keeps every other command's start fast."""

    def format_help(self) -> str:
        for action in self._actions:
            describe = getattr(action, "describe", None)
            if describe is not None:
                action.help = describe()
        return super().format_help()

    def error(self, message: str):
        # One line, like every other error (argparse would print the whole usage first).
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="seismag",
        description="Geomagnetic earthquake-precursor classification: train and compare "
                    "GRU, LSTM, RNN, MLP and Transformer models with honest cross-validation.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Start with:  seismag demo      (synthetic data -> forecast skill, training -> figures -> report)",
    )
    from seismag import __version__

    parser.add_argument("--version", action="version", version=f"seismag {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str, help_text: str, example: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help_text, description=help_text,
                              epilog="example:\n  " + example,
                              formatter_class=argparse.RawDescriptionHelpFormatter)

    p = command("env", "Environment report: versions, CPUs, GPUs, memory, chosen device (SPEC Module 1).",
                "seismag env --json")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")
    p.add_argument("--device", default="auto", help="device preference to resolve (default: auto)")

    p = command("synth", "Write a synthetic dataset in the seed layout (window-N/data_0.npy, data_1.npy, meta.csv), "
                         "or with --records continuous IAGA-2002 records, a catalog and activity indices.",
                "seismag synth --out data/ --preset quick --seed 42 --effect 1.0\n  "
                "seismag synth --records --out raw/ --days 120 --stations 6 --effect 0 --storm-coincidence 1")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--effect", type=float, default=None,
                   help="precursor strength (default 1); 0 = no signal (classifiers must sit at chance)")
    p.add_argument("--overwrite", action="store_true", help="replace what an earlier synth wrote in --out")
    group = p.add_argument_group("windows (the default)")
    group.add_argument("--preset", default=None, help="quick (default; small, minutes to train) or paper (SPEC sizes)")
    group.add_argument("--windows", type=_csv_ints, default=None,
                       help=f"window lengths in days (default {_shown(defaults.WINDOWS)})")
    group.add_argument("--components", type=_csv_names, default=None,
                       help="channels of a row among H,D,Z,F (e.g. H,D,Z); writes dataset.json "
                            "(default: H alone, no dataset.json)")
    group.add_argument("--precursor-in", type=_csv_names, default=None,
                       help="channels that carry the class-1 precursor, among H,Z (default both; "
                            "Z alone is a known answer for seismag explain)")
    group = p.add_argument_group("continuous records (--records)")
    group.add_argument("--records", action="store_true",
                       help="write OUT/observatory/ (IAGA-2002, H D Z F, one file per station-month), "
                            "OUT/catalog.csv, OUT/indices/ and OUT/records.json instead of windows")
    group.add_argument("--days", type=int, default=None, help="record length in days (default 90)")
    group.add_argument("--stations", type=int, default=None, help="stations of the network (default 6)")
    group.add_argument("--start", default=None, help="first day, YYYY-MM-DD (default 2020-01-01)")
    group.add_argument("--storm-coincidence", type=float, default=None,
                       help="share of events with a storm starting in the lead window before them (default 0)")
    group.add_argument("--lead-days", type=int, default=None,
                       help=f"that lead window, days (default {defaults.LEAD_DAYS}, as build's --lead-days)")

    p = command("analyze", "Class balance, imbalance severity and class weights per window (SPEC Module 2).",
                "seismag analyze --data data/ --windows 7,14,30")
    p.add_argument("--data", required=True, help="folder with window-N sub-folders")
    p.add_argument("--windows", type=_csv_ints, default=None,
                   help=f"window lengths (default: {_shown(defaults.WINDOWS)} that exist)")
    p.add_argument("--steps-per-day", type=int, default=None, help=f"samples per day (default {defaults.STEPS_PER_DAY})")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")

    p = command("models", "Sizes and layers of every registered model's paper preset for a window.",
                "seismag models --window 7")
    p.add_argument("--window", type=int, default=None, help=f"window length in days (default {defaults.WINDOWS[0]})")
    p.add_argument("--steps-per-day", type=int, default=None, help=f"samples per day (default {defaults.STEPS_PER_DAY})")

    p = command("train", "K-fold training of every chosen model on every chosen window, with F1-weighted ensembles.",
                "seismag train --data data/ --models gru,mlp --windows 7 --preset quick --out results/")
    _add_train_options(p)

    p = command("tune", "Hyperparameter search (Optuna) for one model and window; writes a config for train --config.",
                "seismag tune --data data/ --model gru --window 7 --trials 50 --timeout 2h "
                "--storage sqlite:///tune.db")
    p.add_argument("--data", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--window", type=int, required=True, help="window length in days")
    p.add_argument("--trials", type=int, default=50, help="trials in the study, over all workers (50)")
    p.add_argument("--timeout", default=None, help="stop starting trials after this long (e.g. 90m, 2h)")
    p.add_argument("--storage", default=None,
                   help="Optuna storage URL shared by workers (default: sqlite file in --out)")
    p.add_argument("--study", default=None, help="study name (default seismag-MODEL-Nd)")
    p.add_argument("--out", default="tuning", help="folder for best_config.toml, trials.csv, summary")
    p.add_argument("--protocol", default="fold", choices=["fold", "nested"],
                   help="fold: search inside outer fold 1's training rows; nested: one search per fold")
    p.add_argument("--preset", default="paper")
    p.add_argument("--config", default=None, help="TOML run configuration to start from")
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--steps-per-day", type=int, default=None)
    p.add_argument("--split", default=None)
    _add_flag(p, TRAIN_FLAGS["train_until"])  # the windows train --train-until trains on; best_config.toml records it

    p = command("predict", "Score new windows with a saved ensemble.",
                "seismag predict --ensemble results/gru_models/GRUModel_7day_ensemble.pth "
                "--input new_windows.npy --out preds.csv")
    p.add_argument("--ensemble", required=True, help="an {Model}Model_{N}day_ensemble.pth file")
    p.add_argument("--input", required=True, help=".npy of raw rows as the seed layout stores them (every "
                   "channel, before the recipe; optionally + label column); the ensemble applies its own recipe")
    p.add_argument("--out", default=None, help="CSV to write (default: print to stdout)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--station", default=None, help="the rows' station, for a recipe that selects local time "
                   "(default: the ensemble's one training station)")
    _add_no_calibration(p)

    p = command("scan", "Score continuous records day by day with saved ensembles: one row per station, day and "
                        "model (scores.csv; an empty score where a window misses too much data).",
                "seismag scan --ensemble results/gru_models/GRUModel_7day_ensemble.pth --observatory raw/observatory "
                "--out scores.csv --start 2021-01-01")
    p.add_argument("--ensemble", nargs="+", required=True, help="one or more {Model}Model_{N}day_ensemble.pth files")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--observatory", nargs="+", help="IAGA-2002/ImagCDF files and/or folders")
    source.add_argument("--data", default=None, help="a built folder instead (its meta.csv gives window_end)")
    p.add_argument("--out", required=True, help="the scores CSV to write")
    p.add_argument("--kp", default=None, metavar="FILE", help="Kp file, for activity ensembles (max_kp)")
    p.add_argument("--dst", default=None, metavar="FILE", help="Dst file, for activity ensembles (min_dst)")
    p.add_argument("--ssc", default=None, metavar="DIR", help="sudden-commencement lists, for activity ensembles")
    p.add_argument("--max-missing", type=float, default=None,
                   help=f"empty score above this missing share ({defaults.MAX_MISSING})")
    p.add_argument("--allow-in-sample", action="store_true",
                   help="score windows inside an ensemble's training period, marked in_sample=true")
    p.add_argument("--start", default=None, metavar="DATE", help="first window_end day scored, YYYY-MM-DD")
    p.add_argument("--end", default=None, metavar="DATE", help="window_end days before this one (exclusive)")
    p.add_argument("--device", default="cpu")
    _add_no_calibration(p)

    p = command("explain", "Which days and channels drive an ensemble's scores: occlusion (every model) and "
                           "integrated gradients (networks), per window and per group; explain.json, explain.csv, "
                           "figures.",
                "seismag explain --ensemble results/mlp_models/MLPModel_7day_ensemble.pth --data data/ "
                "--out results/explain/\n  "
                "seismag explain --ensemble E.pth --scores scores.csv --observatory raw/observatory --kp kp.csv "
                "--out results/explain/")
    p.add_argument("--ensemble", required=True, help="an {Model}Model_{N}day_ensemble.pth file")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--input", default=None, help=".npy of raw rows, as predict reads them (+ label column)")
    source.add_argument("--data", default=None, help="a folder in the seed layout (class 1 vs class 0)")
    source.add_argument("--scores", default=None, help="a scan's scores.csv: explain its alarm and quiet days "
                                                       "(needs --observatory)")
    p.add_argument("--observatory", nargs="+", default=None, help="the records the scan read (with --scores)")
    p.add_argument("--rows", type=_csv_ints, default=None,
                   help="rows to explain (--input: file rows; --data: class-0 rows first, then class 1)")
    p.add_argument("--top", type=int, default=None,
                   help=f"alarm days (and as many quiet days) of a scan (default {defaults.EXPLAIN_TOP_DAYS})")
    p.add_argument("--out", required=True, help="folder for explain.json, explain.csv and figures/ "
                                                "(RESULTS/explain is where seismag report looks)")
    p.add_argument("--kp", default=None, metavar="FILE", help="Kp file: each day's max Kp beneath the maps")
    p.add_argument("--dst", default=None, metavar="FILE", help="Dst file: each day's min Dst beneath the maps")
    p.add_argument("--station", default=None, help="the --input rows' station, for a local-time recipe")
    p.add_argument("--ig-steps", type=int, default=None,
                   help=f"integrated-gradient steps (default {defaults.EXPLAIN_IG_STEPS})")
    p.add_argument("--max-missing", type=float, default=None,
                   help=f"skip windows missing more than this share ({defaults.MAX_MISSING})")
    p.add_argument("--device", default="cpu")
    p.add_argument("--dpi", type=int, default=150)

    p = command("evaluate", "Score the saved ensembles on an external labelled test set (seed layout).",
                "seismag evaluate --results results/ --test-data test_data/")
    p.add_argument("--results", required=True, help="results folder of a training run")
    p.add_argument("--test-data", required=True, help="test windows in the seed layout")
    p.add_argument("--out", default=None, help="default: RESULTS/evaluation")
    p.add_argument("--models", type=_csv_names, default=None)
    p.add_argument("--windows", type=_csv_ints, default=None)
    p.add_argument("--device", default="cpu")
    p.add_argument("--no-figures", action="store_true", help="skip figures and the report")
    _add_no_calibration(p)

    p = command("plot", "Draw every figure of the SPEC's Result_drawing notebook from a results folder.",
                "seismag plot --results results/ --dpi 300 --format png")
    p.add_argument("--results", required=True)
    p.add_argument("--dpi", type=int, default=600)
    p.add_argument("--format", default="png", choices=["png", "pdf", "svg"])

    p = command("report", "Write one self-contained HTML report (tables, protocol, figures, configuration).",
                "seismag report --results results/ --out results/report.html")
    p.add_argument("--results", required=True)
    p.add_argument("--out", default=None, help="HTML file (default: RESULTS/report.html)")
    p.add_argument("--skill", default=None, metavar="DIR",
                   help="seismag skill folder for the 'Forecast skill' section "
                        "(default: RESULTS/skill when it holds skill.json)")
    p.add_argument("--explain", default=None, metavar="DIR",
                   help="seismag explain folder (or a folder of them) for the 'What drives the scores' section "
                        "(default: RESULTS/explain when it holds explain.json)")

    p = command("build", "Build labelled training windows from IAGA-2002 observatory records and an earthquake catalog.",
                "seismag build --observatory mmb_2011_march.txt --catalog usgs.csv --out data/ "
                "--windows 7,14 --components H,D,Z --radius dobrovolsky --lead-days 7")
    p.add_argument("--observatory", nargs="+", required=True, help="IAGA-2002 files and/or folders")
    p.add_argument("--catalog", required=True, help="earthquake catalog CSV (USGS ComCat or significant-earthquakes layout)")
    p.add_argument("--out", required=True, help="output folder (seed layout)")
    p.add_argument("--windows", type=_csv_ints, default=None, help=f"window lengths in days ({_shown(defaults.WINDOWS)})")
    channels = p.add_mutually_exclusive_group()
    channels.add_argument("--component", default=None, choices=["H", "Z", "F", "X", "Y", "D", "E"],
                          help="one channel (default H)")
    channels.add_argument("--components", default=None, metavar="LIST",
                          help="several channels in column order, e.g. H,D,Z: IAGA letters, F (derived "
                               "from H and Z when the files have none) and the ratio Z/H")
    p.add_argument("--min-magnitude", type=float, default=None,
                   help=f"smallest magnitude that labels a window ({defaults.MIN_MAGNITUDE})")
    radius = p.add_mutually_exclusive_group()
    radius.add_argument("--radius-km", type=float, default=None, help="fixed radius around each station")
    radius.add_argument("--radius", default=None, choices=["dobrovolsky"],
                        help=f"per-event Dobrovolsky radius 10^(0.43 M) km (default: {defaults.RADIUS})")
    p.add_argument("--lead-days", type=int, default=None,
                   help=f"label horizon after a window's end (default {defaults.LEAD_DAYS})")
    p.add_argument("--max-depth-km", type=float, default=None,
                   help="only events at most this deep label windows (default: any depth, by epicentral distance)")
    p.add_argument("--stride-days", type=int, default=None,
                   help=f"days between the starts of a station's windows ({defaults.STRIDE_DAYS})")
    p.add_argument("--max-missing", type=float, default=None,
                   help=f"drop windows with more missing minutes ({defaults.MAX_MISSING})")
    g = p.add_argument_group("geomagnetic activity and declustering")
    g.add_argument("--kp", default=None, metavar="FILE", help="GFZ Kp (the shared CSV or Kp_ap_Ap_SN_F107 text): "
                   "max_kp per window in meta.csv")
    g.add_argument("--dst", default=None, metavar="FILE", help="WDC Kyoto Dst exchange format: min_dst per window")
    g.add_argument("--ssc", default=None, metavar="DIR", help="sudden-commencement lists: n_ssc per window")
    g.add_argument("--exclude-storms", default=None, metavar="RULE",
                   help='drop windows holding a disturbed day, e.g. "kp>=5,dst<=-50" (any clause)')
    g.add_argument("--decluster", action="store_true", help="Gardner-Knopoff: mainshocks label windows, windows "
                   "in aftershock periods near the station are dropped")
    r = p.add_argument_group("preprocessing recipe (recorded in dataset.json, applied wherever windows become "
                             "model input; fixed order despike, baseline, sq, diff, local time)")
    r.add_argument("--despike", nargs="?", const="default", default=None, metavar="HALF,SIGMA",
                   help="Hampel filter per channel (default 7,3: +/-7 steps, 3 robust sigma)")
    r.add_argument("--baseline", default=None, choices=["first-day", "window"],
                   help="remove each channel's first-day or window median")
    r.add_argument("--sq-quiet-days", type=int, default=None, metavar="N",
                   help="remove the mean daily curve of the window's N quietest days")
    r.add_argument("--diff", action="store_true", help="first differences (dB/dt)")
    r.add_argument("--local-time", default=None, metavar="A-B",
                   help="keep only local hours A to B of each day, e.g. 0-4 (from the station's longitude)")
    p.add_argument("--overwrite", action="store_true", help="replace an earlier build in --out")

    p = command("skill", "Alarm-based forecast skill of daily scores against a catalog: Molchan diagram, area skill "
                         "score, probability gain, circular-shift surrogates, random / Kp / Dst references.",
                "seismag skill --scores scores.csv --catalog catalog.csv --out skill/ --lead-days 7 "
                "--kp kp.csv --dst dst.dat --surrogates 1000")
    p.add_argument("--scores", required=True, metavar="CSV", help="scores.csv written by seismag scan")
    p.add_argument("--catalog", required=True, metavar="CAT", help="earthquake catalog CSV (as for build)")
    p.add_argument("--out", required=True, metavar="DIR", help="folder for skill.json and skill.csv")
    t = p.add_argument_group("targets (default: as the models' training windows were labelled, recorded by scan "
                             "beside --scores; else build's defaults; a flag that contradicts the record is refused)")
    t.add_argument("--min-magnitude", type=float, default=None, metavar="M", help="smallest target magnitude")
    radius = t.add_mutually_exclusive_group()
    radius.add_argument("--radius", default=None, choices=["dobrovolsky"],
                        help="per-event Dobrovolsky radius 10^(0.43 M) km")
    radius.add_argument("--radius-km", type=float, default=None, metavar="R", help="fixed radius around each station")
    t.add_argument("--lead-days", type=int, default=None, metavar="L", help="a row forecasts [window_end, +L days)")
    t.add_argument("--max-depth-km", type=float, default=None, metavar="KM", help="only events at most this deep")
    t.add_argument("--decluster", action=argparse.BooleanOptionalAction, default=None,
                   help="Gardner-Knopoff mainshocks only (--no-decluster: every event)")
    t.add_argument("--override-labels", action="store_true",
                   help="judge with the flags even where they contradict the recorded labels, or the models disagree")
    p.add_argument("--kp", default=None, metavar="FILE", help="Kp file: the reference:kp alarms")
    p.add_argument("--dst", default=None, metavar="FILE", help="Dst file (WDC format): the reference:dst alarms")
    p.add_argument("--surrogates", type=int, default=1000, metavar="N", help="circular-shift surrogates (1000; 0: none)")
    p.add_argument("--seed", type=int, default=42, metavar="S", help="seed of the surrogate shifts (42)")
    p.add_argument("--allow-in-sample", action="store_true",
                   help="judge scores inside a training period (marked in-sample) instead of refusing")
    p.add_argument("--dpi", type=float, default=300, help="resolution of the figures in DIR/figures (300)")

    p = command("demo", "Synthetic data -> the forecast path (records, train until a cutoff, scan after it, skill "
                        "against random and Kp/Dst alarms) and all models on 7/14/30-day windows -> figures -> "
                        "HTML report, which opens with the forecast verdicts.",
                "seismag demo --out demo/")
    p.add_argument("--out", default="demo",
                   help="folder for forecast/, data/, results/ and the report (default: demo)")
    p.add_argument("--seed", type=int, default=42)
    _add_flag(p, TRAIN_FLAGS["models"])
    _add_flag(p, TRAIN_FLAGS["windows"])
    p.add_argument("--tiny", action="store_true", help="much smaller data and models (for tests / a smoke check)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser


def _add_no_calibration(p: argparse.ArgumentParser) -> None:
    p.add_argument("--no-calibration", action="store_true",
                   help="prob_class1 as the members' weighted mean, without the ensemble's calibrator "
                        "(Platt scaling fitted on the training run's out-of-fold rows)")


def _add_train_options(p: argparse.ArgumentParser) -> None:
    """`seismag train`'s options: a few of its own, then one flag per entry of
    config.TRAIN_FLAGS and config.MODEL_FLAGS, in their groups."""
    p.add_argument("--data", required=True, help="folder with window-N sub-folders (seed layout)")
    p.add_argument("--out", default="results", help="results folder (default: results)")
    p.add_argument("--preset", default=None, help="paper (SPEC protocol, default) or quick")
    p.add_argument("--config", default=None, help="TOML file with any of the options below")
    groups = {key: p.add_argument_group(title) for key, title in FLAG_GROUPS.items()}
    for flag in [*TRAIN_FLAGS.values(), *MODEL_FLAGS.values()]:
        _add_flag(groups[flag.group] if flag.group else p, flag)
    p.add_argument("--resume", action="store_true", help="skip folds whose artifacts are complete")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument("--executor", default="local", choices=["local", "ray"],
                   help="local (default) or ray: run each model x window as a Ray task")
    p.add_argument("--address", default=None, help="Ray cluster address for --executor ray (e.g. auto)")


def _add_flag(container, flag: Flag) -> argparse.Action:
    """The argparse argument of a config setting. Its default is None (unset), so the
    preset and the --config file apply unless the flag is given."""
    if flag.type is bool:
        kind = {"action": argparse.BooleanOptionalAction}
    elif flag.type in _PARSE:
        kind = {"type": _PARSE[flag.type]}
    elif flag.type is str:
        kind = {}
    else:
        raise TypeError(f"{flag.option}: no command-line form for {flag.type}")
    lazy = callable(flag.choices) or callable(flag.default)
    action = container.add_argument(flag.option, dest=flag.dest, default=None, metavar=flag.metavar,
                                    help=None if lazy else _flag_help(flag), **kind)
    if lazy:
        action.describe = lambda: _flag_help(flag)
    return action


def _flag_help(flag: Flag) -> str:
    """The help line: what the flag does, its choices (with their notes), its default."""
    choices = flag.choices() if callable(flag.choices) else flag.choices
    default = flag.default() if callable(flag.default) else flag.default
    text = flag.help
    if choices and flag.type is str:  # one of them: the default is marked in the list
        listed = []
        for choice in choices:
            notes = (["default"] if choice == default else []) + ([flag.notes[choice]] if choice in flag.notes else [])
            listed.append(f"{choice} ({', '.join(notes)})" if notes else choice)
        text = f"{text}: {', '.join(listed)}" if text else ", ".join(listed)
        default = None
    elif choices:  # a comma list of them
        text = f"{text} {', '.join(choices)}"
    if flag.default_text is not None:
        text += f" (default: {flag.default_text})"
    elif default is not None:
        text += f" (default: {_shown(default)})"
    return text


def _shown(value) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, (tuple, list)):
        return ",".join(map(str, value))
    return str(value)


def config_from_args(args: argparse.Namespace):
    values = {name: getattr(args, name, None) for name in TRAIN_FLAGS}
    # an empty --hidden-sizes sets nothing, as a flag left out
    common = {name: value for name in MODEL_FLAGS if (value := getattr(args, name, None)) not in (None, [])}
    if common:
        values["model_overrides"] = {"*": common}
    return make_config(args.preset or "paper", args.config, **values)
