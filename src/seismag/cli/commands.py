"""What each ``seismag`` command does: parse nothing, decide nothing, call one library function
and print what it returned. Options left unset (``None``) are not passed on, so the library's
defaults apply."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from seismag import defaults
from seismag.cli.options import config_from_args
from seismag.errors import ConfigError


def given(args, *names: str) -> dict:
    """The options among ``names`` that were given on the command line (unset ones are left to
    the library's defaults)."""
    return {name: getattr(args, name) for name in names if getattr(args, name) is not None}


def cmd_env(args) -> None:
    from seismag.environment import check_environment, environment_json, format_environment_info

    info = check_environment(device_preference=args.device)
    print(environment_json(info) if args.json else format_environment_info(info))


_SYNTH_WINDOW_OPTIONS = {"preset": "preset", "windows": "windows", "components": "components",
                         "precursor_in": "precursor_in"}
_SYNTH_RECORD_OPTIONS = {"days": "days", "stations": "n_stations", "start": "start",
                         "storm_coincidence": "storm_coincidence", "lead_days": "lead_days"}


def _given(args, options: dict, other: dict, mode: str) -> dict:
    """The options of ``mode`` that were given (library name -> value); the other mode's
    options are refused, never silently ignored."""
    stray = [f"--{name.replace('_', '-')}" for name in given(args, *other)]
    if stray:
        raise ConfigError(f"{', '.join(stray)} {'does' if len(stray) == 1 else 'do'} not apply to {mode}")
    return {options[name]: value for name, value in given(args, *options).items()}


def cmd_synth(args) -> None:
    if args.records:
        from seismag.synth.records import generate_records

        record = generate_records(args.out, seed=args.seed, effect=args.effect, overwrite=args.overwrite,
                                  **_given(args, _SYNTH_RECORD_OPTIONS, _SYNTH_WINDOW_OPTIONS, "--records"))
        settings, events = record["settings"], record["events"]
        print(f"synthetic records written to {args.out}: {settings['n_stations']} stations x {settings['days']} days "
              f"from {settings['start']} (effect {settings['effect']:g}, seed {settings['seed']})")
        print(f"  {len(record['files']['observatory'])} IAGA-2002 files, {len(events)} events "
              f"({sum(e['coinciding_storm'] is not None for e in events)} with a coinciding storm), "
              f"{len(record['storms'])} storms; {record['files']['catalog']}, {record['files']['kp']}, "
              f"{record['files']['dst']}, {len(record['files']['ssc'])} SSC list(s), records.json")
        return
    from seismag.synth.windows import generate_dataset
    from seismag.layout.seed import window_dir_name

    options = _given(args, _SYNTH_WINDOW_OPTIONS, _SYNTH_RECORD_OPTIONS, "windows (add --records)")
    if "windows" in options:
        options["windows"] = tuple(options["windows"])
    summary = generate_dataset(args.out, seed=args.seed, effect=args.effect, overwrite=args.overwrite, **options)
    print(f"synthetic dataset written to {args.out} (preset {summary['preset']}, effect {summary['effect']:g}, "
          f"seed {summary['seed']}, channels {','.join(summary['channels'])})")
    for window, info in summary["windows"].items():
        print(f"  {window_dir_name(window)}: {info['n_class0']} class-0 and {info['n_class1']} class-1 samples, "
              f"{info['n_features']} features, {info['n_events']} events")


def cmd_analyze(args) -> None:
    from seismag.spec.analysis import DatasetAnalyzer

    periods = [str(w) for w in (args.windows or defaults.WINDOWS)]
    analyzer = DatasetAnalyzer(args.data, window_periods=periods, **given(args, "steps_per_day"))
    if args.windows:  # windows asked for by name must exist
        for period in periods:
            analyzer.analyze_window(period)
    else:
        analyzer.analyze_all_windows()
    print(json.dumps(analyzer.to_dict(), indent=2) if args.json else analyzer.format_report().rstrip())


def cmd_models(args) -> None:
    from seismag.models import format_model_table

    window = defaults.WINDOWS[0] if args.window is None else args.window  # 0 is refused by the library
    print(format_model_table(window, **given(args, "steps_per_day")))


def cmd_train(args) -> None:
    from seismag.training.pipeline import format_summary_table, run_experiment, setup_logging

    config = config_from_args(args)
    setup_logging()
    results = run_experiment(config, args.data, args.out, resume=args.resume, progress=not args.quiet,
                             executor=args.executor, address=args.address)
    print(format_summary_table(results))
    print(f"\nresults written to {args.out}")


def cmd_tune(args) -> None:
    from seismag.tune import StudySpec, format_tune_result, parse_duration, run_study

    spec = StudySpec.build(args.data, args.model, args.window, trials=args.trials,
                           timeout=parse_duration(args.timeout), storage=args.storage, study_name=args.study,
                           preset=args.preset, config_file=args.config, out_dir=args.out, protocol=args.protocol,
                           epochs=args.epochs, seed=args.seed, steps_per_day=args.steps_per_day, split=args.split,
                           train_until=args.train_until)
    print(format_tune_result(run_study(spec)))


def cmd_predict(args) -> None:
    from seismag.inference import predict_file

    rows = predict_file(args.ensemble, args.input, out=args.out, device=args.device, station=args.station,
                        calibrated=not args.no_calibration)
    if args.out:
        print(f"{rows} predictions written to {args.out}")


def cmd_scan(args) -> None:
    import warnings

    from seismag.inference import scan_data, scan_records

    def progress(line: str) -> None:
        print(f"seismag scan: {line}", file=sys.stderr)

    options = dict(allow_in_sample=args.allow_in_sample, device=args.device, start=args.start, end=args.end,
                   progress=progress, calibrated=not args.no_calibration, **given(args, "max_missing"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if args.data is not None:
                stray = [f"--{name}" for name in ("kp", "dst", "ssc") if getattr(args, name) is not None]
                if stray:
                    raise ConfigError(f"{', '.join(stray)}: not with --data (its meta.csv holds the activity columns)")
                summary = scan_data(args.ensemble, args.data, args.out, **options)
            else:
                summary = scan_records(args.ensemble, args.observatory, args.out, kp=args.kp, dst=args.dst,
                                       ssc=args.ssc, **options)
        finally:
            for warning in caught:
                print(f"seismag scan: warning: {warning.message}", file=sys.stderr)
    counts = "; ".join(f"{name} {c['scored']} scored, {c['empty']} empty, {c['in_sample']} in-sample"
                       for name, c in summary["models"].items())
    print(f"{summary['rows']} rows ({len(summary['stations'])} stations) written to {summary['out']}: {counts}")


def cmd_evaluate(args) -> None:
    from seismag.inference import evaluate_results
    from seismag.training.pipeline import format_summary_table

    notes: list[str] = []
    results = evaluate_results(args.results, args.test_data, args.out, models=args.models,
                               windows=args.windows, device=args.device, notes=notes,
                               calibrated=not args.no_calibration)
    out = Path(args.out) if args.out else Path(args.results) / "evaluation"
    print(format_summary_table(results))
    for message in notes:
        print(f"note: {message}")
    if not args.no_figures:
        from seismag.plots import plot_all
        from seismag.report import write_report

        plot_all(out, dpi=300)
        print(f"report written to {write_report(out)}")
    print(f"evaluation written to {out}")


def cmd_plot(args) -> None:
    from seismag.layout.results import FIGURE_FOLDER
    from seismag.plots import plot_all

    files = plot_all(args.results, dpi=args.dpi, fmt=args.format)
    print(f"{len(files)} figures written under {Path(args.results) / FIGURE_FOLDER}")


def cmd_report(args) -> None:
    from seismag.report import write_report

    path = write_report(args.results, out=args.out, skill_dir=args.skill, explain_dir=args.explain)
    print(f"report written to {path}")


def cmd_explain(args) -> None:
    from seismag.inference.explain import explain
    from seismag.plots.explain import plot_explain

    record = explain(args.ensemble, args.out, input_path=args.input, data_dir=args.data, rows=args.rows,
                     scores=args.scores, observatory=args.observatory, kp=args.kp, dst=args.dst,
                     station=args.station, device=args.device, progress=print,
                     **given(args, "top", "ig_steps", "max_missing"))
    figures = plot_explain(args.out, dpi=args.dpi)
    for group in record["groups"]:
        for method, values in group["methods"].items():
            cells = ", ".join(f"{record['channels'][c]} {record['rows'][r]}" for r, c in values["stands_out"][:3])
            print(f"  {group['name']} ({group['n_windows']} windows), {method.replace('_', ' ')}: "
                  f"{'stands out: ' + cells if cells else 'no cell stands out'}")
    for note in figures.notes:
        print(f"note: {note}")
    print(f"explain written to {args.out} (explain.json, explain.csv, {len(figures)} figures)")


def cmd_build(args) -> None:
    from seismag.dataset.build import build_dataset, format_build_report
    from seismag.dataset.recipe import Recipe

    recipe = Recipe.parse(despike=args.despike, baseline=args.baseline, sq_quiet_days=args.sq_quiet_days,
                          diff=args.diff, local_time=args.local_time)
    options = given(args, "min_magnitude", "radius", "lead_days", "stride_days", "max_missing")
    if args.windows is not None:
        options["windows"] = tuple(args.windows)
    report = build_dataset(args.observatory, args.catalog, args.out, component=args.component,
                           components=args.components, radius_km=args.radius_km, max_depth_km=args.max_depth_km,
                           recipe=recipe, kp=args.kp, dst=args.dst, ssc=args.ssc, exclude_storms=args.exclude_storms,
                           decluster=args.decluster, overwrite=args.overwrite, **options)
    print(format_build_report(report).rstrip())


def cmd_skill(args) -> None:
    from seismag.layout.dataset_info import LABEL_KEYS
    from seismag.evaluation.skill import evaluate_skill, format_skill_report

    result = evaluate_skill(args.scores, args.catalog, args.out, **{key: getattr(args, key) for key in LABEL_KEYS},
                            override_labels=args.override_labels, kp=args.kp, dst=args.dst,
                            surrogates=args.surrogates, seed=args.seed, allow_in_sample=args.allow_in_sample)
    print(format_skill_report(result))
    from seismag.plots.skill import plot_skill

    figures = plot_skill(args.out, scores=args.scores, kp=args.kp, dst=args.dst, dpi=args.dpi)
    for note in figures.notes:
        print(f"note: {note}")
    print(f"skill written to {args.out} ({len(figures)} figures in {Path(args.out) / 'figures'})")


def cmd_demo(args) -> None:
    from seismag.demo import run_demo

    report = run_demo(args.out, seed=args.seed, models=args.models, windows=args.windows,
                      tiny=args.tiny, progress=not args.quiet)
    print(f"\nopen the report: {report}")


COMMANDS = {"env": cmd_env, "synth": cmd_synth, "analyze": cmd_analyze, "models": cmd_models,
            "train": cmd_train, "predict": cmd_predict, "scan": cmd_scan, "explain": cmd_explain,
            "plot": cmd_plot, "report": cmd_report,
            "build": cmd_build, "evaluate": cmd_evaluate, "tune": cmd_tune, "skill": cmd_skill, "demo": cmd_demo}
