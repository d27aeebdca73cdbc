import html
import json

from seismag.cli import main


def test_demo_runs_every_stage_end_to_end(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--tiny", "--quiet", "--windows", "7,14"]) == 0
    printed = capsys.readouterr().out
    report = out / "results" / "report.html"
    assert report.is_file() and report.stat().st_size > 10_000
    assert str(report) in printed
    from seismag.models import get_model_entry, list_models

    trained = list_models(default_run=True)
    assert {"gru", "lstm", "rnn", "mlp", "transformer", "features"} <= set(trained)
    for model, display in [(m, get_model_entry(m).display_name) for m in trained]:
        for days in (7, 14):
            assert (out / "results" / f"{model}_models" / f"{display}Model_{days}day_ensemble.pth").is_file()
    figures = out / "results" / "performance_visualization"
    assert (figures / "ROC_analysis" / "multi_model_roc_curves.png").is_file()
    # one per model and window, plus the colour bar
    assert len(list((figures / "Individual_Confusion_Matrices").glob("*.png"))) == 2 * len(trained) + 1
    assert list((out / "logs").glob("training_*.log"))

    # The forecast path: trained before the cutoff, scored after it, judged with the references.
    assert (out / "forecast" / "results" / "features_models" / "FeaturesModel_7day_ensemble.pth").is_file()
    assert (out / "forecast" / "scores.csv").is_file()
    skill = json.loads((out / "results" / "skill" / "skill.json").read_text())
    assert not skill["in_sample"] and skill["events"]
    assert skill["models"]["features_7day"]["kind"] == "model"
    assert {"reference:random", "reference:kp", "reference:dst"} <= set(skill["models"])
    assert (out / "results" / "skill" / "figures" / "molchan.png").is_file()
    assert "features_7day" in printed  # the verdicts are printed

    # The report opens with it: the Molchan diagram, then the verdicts, then the cross-validation tables.
    page = report.read_text(encoding="utf-8")
    headings = [part.split("'", 1)[0] for part in page.split("<h2 id='")[1:]]
    assert headings[0] == "skill" and "metrics" in headings
    molchan, table = page.index("<img src='data:image/png;base64,"), page.index("id='skill-table'")
    metrics = page.index("<h2 id='metrics'>")
    assert page.index("<h2 id='skill'>") < molchan < table < metrics
    assert "alt='Molchan diagram" in page[molchan:table]
    for name, entry in skill["models"].items():
        assert html.escape(entry["verdict"], quote=True) in page[table:metrics], name
