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
