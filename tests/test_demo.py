from seismag.cli import main


def test_demo_runs_every_stage_end_to_end(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--tiny", "--quiet", "--windows", "7,14"]) == 0
    printed = capsys.readouterr().out
    report = out / "results" / "report.html"
    assert report.is_file() and report.stat().st_size > 10_000
    assert str(report) in printed
    for model, display in [("gru", "GRU"), ("lstm", "LSTM"), ("rnn", "RNN"), ("mlp", "MLP"),
                           ("transformer", "Transformer")]:
        for days in (7, 14):
            assert (out / "results" / f"{model}_models" / f"{display}Model_{days}day_ensemble.pth").is_file()
    figures = out / "results" / "performance_visualization"
    assert (figures / "ROC_analysis" / "multi_model_roc_curves.png").is_file()
    assert len(list((figures / "Individual_Confusion_Matrices").glob("*.png"))) == 11  # 10 + colour bar
    assert list((out / "logs").glob("training_*.log"))
