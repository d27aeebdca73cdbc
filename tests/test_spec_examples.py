"""Every code block of ../shared/SPEC.md, run as written against seismag.spec.compat with only
paths substituted and sizes shrunk, and the result it documents asserted.

Blocks are read from SPEC.md itself, so a block that changes there is run as it now
reads; each substitution must still find its text. A block that is not runnable Python
(a fragment of a dict, pseudo-code, matplotlib's own API) is listed in FRAGMENTS with
what stands in for it. ``test_every_python_block_is_handled`` fails on a block that is
neither run nor listed.
"""
import io
import json
import re
from contextlib import redirect_stdout
from pathlib import Path
from textwrap import dedent

import numpy as np
import pytest
import torch

from seismag.spec import compat
from seismag.errors import ConfigError

from helpers import write_synthetic

SPEC = Path(__file__).resolve().parents[1].parent / "shared" / "SPEC.md"
DAYS, SPD = 7, 48  # a 7-day window at 48 steps a day stands in for 1440 one-minute steps

pytestmark = pytest.mark.skipif(not SPEC.is_file(), reason="../shared/SPEC.md is absent")


def blocks() -> list[tuple[str, str]]:
    """(language, text) of every fenced block of SPEC.md, in order."""
    return re.findall(r"```(\w*)\n(.*?)```", SPEC.read_text(encoding="utf-8"), re.S)


def block(number: int, *substitutions: tuple[str, str]) -> str:
    """Block ``number`` with each (old, new) substituted; a substitution that finds nothing fails."""
    language, text = blocks()[number]
    for old, new in substitutions:
        assert old in text, f"SPEC block {number} no longer contains {old!r}"
        text = text.replace(old, new)
    return dedent(text)


def run(number: int, namespace: dict, *substitutions: tuple[str, str]) -> str:
    """Execute block ``number`` in ``namespace``; returns what it printed."""
    code = compile(block(number, *substitutions), f"SPEC.md block {number}", "exec")
    out = io.StringIO()
    with redirect_stdout(out):
        exec(code, namespace)
    return out.getvalue()


def spec_namespace(**names) -> dict:
    """What a notebook has after its first cells: ``from seismag.spec.compat import *`` and torch."""
    namespace: dict = {}
    exec("from seismag.spec.compat import *\nimport json, os\nimport numpy as np\nimport torch\n"
         "import torch.nn as nn\nfrom pathlib import Path\nfrom torch.utils.data import TensorDataset", namespace)
    namespace.update(names)
    return namespace


# Blocks run by a test below, by number, and the test that runs each.
RUN = {
    1: "test_path_settings", 3: "test_path_settings", 4: "test_path_settings", 41: "test_path_settings",
    42: "test_path_settings", 40: "test_path_settings",
    7: "test_module1_environment",
    9: "test_module2_analysis", 10: "test_module2_analysis",
    13: "test_module3_utilities", 14: "test_module3_multi_gpu_is_checked",
    15: "test_module3_metrics_keys", 26: "test_module3_metrics_keys",
    16: "test_module4_configs", 17: "test_module4_configs", 18: "test_module4_configs",
    29: "test_module4_configs", 30: "test_module4_configs", 31: "test_module4_configs",
    19: "test_module4_models_checkpoints_ensemble",
    21: "test_module5_kfold", 27: "test_module5_kfold",
    28: "test_module6_training_config", 32: "test_module6_training_config", 38: "test_module6_training_config",
    33: "test_module6_main_and_ensemble",
    37: "test_module6_class_weight_formula",
    44: "test_figure_colors",
}

# Blocks that are not runnable Python, and what stands in for each.
FRAGMENTS = {
    2: "a parameter default inside the notebook's function (output_dir: str = ...); seismag takes "
       "output_dir= / --out, exercised by every test here",
    22: "dict items without braces; the same parameters go through kfold_train_eval_rnn in test_module5_kfold_options",
    23: "dict items without braces; MLP options are built in test_module4_configs",
    24: "dict items without braces; the Transformer options and its CosineAnnealingLR(T_max) in "
        "test_module5_kfold_options",
    39: "a loop header without a body; choosing windows is window_mapping / windows= (test_module6_training_config)",
    45: "matplotlib's own API: seismag's figures set their own publication style (plots/style.py)",
    46: "matplotlib's own API: the dpi is plot_*(dpi=...) / seismag plot --dpi (tests/plots)",
}


def test_every_python_block_is_handled():
    python = {i for i, (language, _) in enumerate(blocks()) if language == "python"}
    assert python == set(RUN) | set(FRAGMENTS), "a SPEC python block is neither run nor listed"
    assert not set(RUN) & set(FRAGMENTS)
    names = {name for name in globals() if name.startswith("test_")}
    assert set(RUN.values()) <= names


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A project folder as the SPEC lays it out: data/window-7 (tiny), results/, logs/."""
    root = tmp_path_factory.mktemp("your_project")
    write_synthetic(root / "data", days=(DAYS,), n0=24, n1=16, spd=SPD, effect=3.0)
    return root


def window_arrays(project):
    rows = [np.load(project / "data" / f"window-{DAYS}" / f"data_{label}.npy") for label in (0, 1)]
    data = np.nan_to_num(np.vstack(rows))
    return data[:, :-1].astype(np.float32), data[:, -1].astype(np.int64)


# --------------------------------------------------------------------------- paths
def test_path_settings(project, monkeypatch):
    monkeypatch.chdir(project)
    ns = spec_namespace()
    run(1, ns, ('"your_project/data"', f'"{project / "data"}"'))
    assert ns["analyzer"].analyze_all_windows  # the SPEC's analyzer object on the project's data
    run(3, ns, ('"your_project"', f'"{project}"'))
    assert Path(ns["base_path"]) / "data" == project / "data"
    run(40, ns, ('"/your/custom/data/path"', f'"{project}"'))
    assert ns["data_base_path"] == str(project / "data")
    for number in (4, 41, 42):
        run(number, ns, ('r"your_project/results"', f'r"{project / "results"}"'))
        assert ns["BASE_DIR"] == project / "results"
    assert compat.BASE_DIR == Path("results")  # the documented default, relative to the project


# --------------------------------------------------------------------------- Module 1
def test_module1_environment():
    ns = spec_namespace()
    printed = run(7, ns, ("from environment_setup import *", "from seismag.spec.compat import *"))
    assert ns["device"].type in ("cpu", "cuda")
    # The SPEC's expected output (block 8) and the free-memory line.
    for heading in ("PyTorch Environment Information", "Software:", "Python:", "PyTorch:", "NumPy:",
                    "(Mode: numpy_", "Hardware:", "CPUs:", "CUDA:", "GPUs:", "Using device:", "Available memory:"):
        assert heading in printed, heading
    assert ns["memory_stats"]["free_gb"] > 0


# --------------------------------------------------------------------------- Module 2
def test_module2_analysis(tmp_path):
    # The SPEC's own counts for window 7 (1661 / 999) and a severe window, at 48 steps a day.
    rng = np.random.default_rng(0)
    for window, counts in (("7", (1661, 999)), ("14", (220, 20))):
        folder = tmp_path / "data" / f"window-{window}"
        folder.mkdir(parents=True)
        for label, n in enumerate(counts):
            rows = rng.normal(size=(n, int(window) * SPD)).astype(np.float32)
            np.save(folder / f"data_{label}.npy", np.hstack([rows, np.full((n, 1), label, np.float32)]))
    ns = spec_namespace(device=torch.device("cpu"))
    # quick_analyze and the analyzer both take the SPEC's arguments; the steps per day are ours.
    printed = run(9, ns, ("# The DatasetAnalyzer class and analysis functions\nclass DatasetAnalyzer:\n"
                          "    # ... (full implementation in notebook)\n\n# Quick analysis function\n"
                          "def quick_analyze(base_path=None, window_periods=['7', '14', '30']):\n"
                          "    # ... (implementation in notebook)\n", ""),
                  ('quick_analyze(base_path="./data")',
                   f'quick_analyze(base_path="{tmp_path / "data"}", window_periods=["7", "14"], steps_per_day={SPD})'),
                  ('DatasetAnalyzer(base_path="./data")',
                   f'DatasetAnalyzer(base_path="{tmp_path / "data"}", window_periods=["7", "14"], steps_per_day={SPD})'))
    assert "Imbalance ratio: 1.66:1" in printed
    assert ns["window_7_analysis"].imbalance_analysis.suggested_weights == pytest.approx([0.801, 1.331], abs=5e-4)
    # The SPEC's expected report (block 11).
    report = ns["analyzer"].format_report()
    for line in ("Total samples: 2,660", "Class distribution: [1661, 999]", "Class proportions: 62.4%, 37.6%",
                 "Ratio: 1.66:1", "Severity: MILD", "Weights: [0.801, 1.331]"):
        assert line in report, line
    run(10, ns)
    assert isinstance(ns["criterion"], torch.nn.CrossEntropyLoss)
    assert ns["criterion"].weight.tolist() == pytest.approx([0.801, 1.331], abs=5e-4)
    # The severe branch: the SPEC's FocalLoss, from seismag instead of a package named focal_loss.
    ns["results"] = {"7": ns["results"]["14"]}
    assert ns["results"]["7"].imbalance_analysis.severity == "severe"
    run(10, ns, ("from focal_loss import FocalLoss", "from seismag.spec.compat import FocalLoss"))
    criterion = ns["criterion"]
    assert isinstance(criterion, compat.FocalLoss) and criterion.gamma == 2.0
    logits, target = torch.randn(16, 2), torch.randint(0, 2, (16,))
    weights = ns["weights_tensor"].float()
    # Known answer: gamma 0 is the weighted cross-entropy; gamma 2 down-weights easy windows.
    assert compat.FocalLoss(alpha=weights, gamma=0.0)(logits, target) == pytest.approx(
        float(torch.nn.CrossEntropyLoss(weight=weights)(logits, target)), rel=1e-6)
    assert float(criterion(logits, target)) < float(torch.nn.CrossEntropyLoss(weight=weights)(logits, target))


# --------------------------------------------------------------------------- Module 3
def test_module3_utilities(project, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    X, y = window_arrays(project)
    train_dataset = torch.utils.data.TensorDataset(torch.from_numpy(X), torch.from_numpy(y))
    ns = spec_namespace(train_labels=torch.from_numpy(y), train_dataset=train_dataset,
                        YourModelClass=compat.MLPClassifier, input_features=X.shape[1])
    ns["optimizer"], ns["current_epoch"], ns["current_loss"], ns["best_f1_score"] = None, 3, 0.25, 0.8
    # The model and optimizer exist before the checkpoint is saved: run the block in two parts.
    code = block(13)
    head, tail = code.split("# Save checkpoint during training")
    exec(head, ns)
    assert (tmp_path / "logs").is_dir() and any((tmp_path / "logs").glob("training_*.log"))
    counts = np.bincount(y)
    expected = np.sqrt(len(y) / (2 * counts))
    assert ns["weights"].tolist() == pytest.approx((expected * 2 / expected.sum()).tolist())  # normalize=True: sum 2
    drawn = torch.cat([batch[1] for batch in ns["train_loader"]])
    assert len(drawn) == len(y)
    ns["optimizer"] = torch.optim.AdamW(ns["model"].parameters(), lr=1e-3)
    exec(tail.replace("'./results/gru_models/best_model.pth'", "checkpoint_path"), ns)
    assert Path(ns["checkpoint_path"]).parent == Path("results/gru_models")
    assert (ns["epoch"], ns["loss"], ns["info"]) == (3, 0.25, {"best_f1": 0.8})


def test_module3_multi_gpu_is_checked():
    ns = spec_namespace(dataset=torch.utils.data.TensorDataset(torch.zeros(8, 4), torch.tensor([0, 1] * 4)))
    visible = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if visible >= 2:
        run(14, ns)
        assert ns["gpu_ids"] == [0, 1] and ns["train_loader"].batch_size == 64
    else:
        # gpu_ids=[0, 1] on a machine without two GPUs is refused, not returned unchecked.
        with pytest.raises(ConfigError, match="GPU"):
            run(14, ns)
        assert ns["gpu_ids"] == list(range(visible))  # the first call: every visible GPU


def test_module3_metrics_keys():
    metrics = compat.calculate_binary_metrics(np.array([0, 0, 1, 1, 1]), y_class=np.array([0, 1, 1, 1, 0]))
    for key in ("f1", "precision", "recall", "specificity", "mcc", "norm_mcc", "class_acc"):
        assert key in metrics, key
    assert metrics["specificity"] == pytest.approx(0.5) and metrics["class_acc"] == pytest.approx([0.5, 2 / 3])
    assert metrics["norm_mcc"] == pytest.approx((metrics["mcc"] + 1) / 2)


# --------------------------------------------------------------------------- Module 4
def test_module4_configs():
    ns = spec_namespace()
    run(16, ns, ("1440", str(SPD)), ("[512, 256]", "[16, 8]"))
    model = compat.GRUClassifier(**ns["model_config"])
    assert model(torch.randn(3, DAYS, SPD)).shape == (3, 2)
    run(17, ns, ("10080", str(7 * SPD)), ("20160", str(14 * SPD)), ("43200", str(30 * SPD)),
        (", ...}", "}"))
    assert compat.MLPClassifier(**ns["model_config_14d"])(torch.randn(3, 14 * SPD)).shape == (3, 2)
    transformer_shrink = (("'d_model': 512", "'d_model': 16"), ("'nhead': 8", "'nhead': 2"),
                          ("'dim_feedforward': 2048", "'dim_feedforward': 32"))
    run(18, ns, ("1440", str(SPD)), *transformer_shrink)
    assert compat.TransformerClassifier(**ns["model_config"])(torch.randn(3, DAYS, SPD)).shape == (3, 2)
    # Module 6's model-specific dicts.
    recurrent = eval(block(29, ("[512, 256]", "[16, 8]")), {})
    rnn = compat.RNNClassifier(input_size=SPD, **recurrent)
    assert len(rnn.recurrent_layers) == recurrent["num_layers"] == 2
    gru = compat.GRUClassifier(input_size=SPD, **{k: v for k, v in recurrent.items() if k != "nonlinearity"})
    assert gru(torch.randn(2, DAYS, SPD)).shape == (2, 2)
    with pytest.raises(ConfigError, match="num_layers"):
        compat.GRUClassifier(input_size=SPD, hidden_sizes=[16, 8], num_layers=3)
    mlp = eval(block(30, ("[512, 256]", "[16, 8]")), {})
    assert compat.MLPClassifier(input_size=DAYS * SPD, **mlp)(torch.randn(3, DAYS * SPD)).shape == (3, 2)
    # Every activation the SPEC names, in its spelling.
    for name, module in (("ReLU", torch.nn.ReLU), ("Tanh", torch.nn.Tanh), ("GELU", torch.nn.GELU),
                         ("ELU", torch.nn.ELU), ("LeakyReLU", torch.nn.LeakyReLU), ("SELU", torch.nn.SELU)):
        built = compat.MLPClassifier(input_size=DAYS * SPD, hidden_sizes=[8], activation=name)
        assert any(isinstance(m, module) for m in built.modules()), name
    transformer = eval(block(31, *transformer_shrink), {})
    assert compat.TransformerClassifier(input_size=SPD, **transformer)(torch.randn(2, DAYS, SPD)).shape == (2, 2)


def test_module4_models_checkpoints_ensemble(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    torch.manual_seed(0)
    folds = [compat.GRUClassifier(input_size=SPD, hidden_sizes=[8, 4]).eval() for _ in range(5)]
    ns = spec_namespace(optimizer=None, test_data=torch.randn(6, DAYS, SPD),
                        **{f"fold{i + 1}_model": m for i, m in enumerate(folds)})
    (tmp_path / "results" / "gru_models").mkdir(parents=True)
    shrink = [("hidden_sizes=[512, 256],      # Architecture", "hidden_sizes=[8, 4],"),
              ("input_size=1440", f"input_size={SPD}"), ("input_size=10080", f"input_size={DAYS * SPD}"),
              ("hidden_sizes=[512, 256],\n    output_size", "hidden_sizes=[8, 4],\n    output_size")]
    # As written, the block saves the model it built last (the MLP) and reloads it as a GRU:
    # a clear error naming both, not a model of the wrong kind.
    with pytest.raises(compat.CheckpointError, match="'mlp' model"):
        run(19, ns, *shrink)
    # With the MLP kept under another name, the GRU is saved and comes back equal.
    run(19, ns, *shrink, ("model = MLPClassifier(", "mlp_model = MLPClassifier("))
    reloaded = ns["model"]
    assert isinstance(reloaded, compat.GRUClassifier) and isinstance(ns["mlp_model"], compat.MLPClassifier)
    saved = torch.load(tmp_path / "results/gru_models/model_best.pth", weights_only=True)
    assert saved["epoch"] == 50 and saved["metrics"] == {"f1": 0.87, "accuracy": 0.92}
    for name, value in reloaded.state_dict().items():
        assert torch.equal(value, saved["state_dict"][name]), name
    classes, confidence, variance = ns["classifications"], ns["confidence"], ns["variance"]
    probs = torch.stack([torch.softmax(m(ns["test_data"]), 1) for m in folds])
    weights = torch.tensor([0.85, 0.87, 0.86, 0.84, 0.88]) / sum([0.85, 0.87, 0.86, 0.84, 0.88])
    mean = torch.einsum("m,mnc->nc", weights, probs)
    assert torch.equal(classes, mean.argmax(1))
    assert torch.allclose(confidence, mean.max(1).values, atol=1e-6)
    assert torch.allclose(variance, torch.einsum("m,mn->n", weights, (probs[..., 1] - mean[:, 1]) ** 2), atol=1e-6)
    # The strategies the SPEC names, in its spelling.
    x = torch.randn(4, DAYS, SPD)
    for strategy in ("weighted_mean", "voting", "max confidence"):
        assert compat.F1WeightedEnsemble(folds, [1] * 5, strategy=strategy).predict_proba(x).shape == (4, 2)
    info = reloaded.get_model_info()
    assert info["total_params"] == sum(p.numel() for p in reloaded.parameters())
    assert reloaded.monitor_batch_norm_stats()


# --------------------------------------------------------------------------- Module 5
KFOLD_SHRINK = (("epochs=100", "epochs=3"), ("num_folds=5", "num_folds=2"), ("batch_size=32", "batch_size=8"),
                ("hidden_sizes=[512, 256]", "hidden_sizes=[8, 4]"), ("input_size=1440", f"input_size={SPD}"))


def kfold_namespace(project, weights=None):
    """Block 21's inputs: the project's windows (unscaled: each fold standardises), the device."""
    X, y = window_arrays(project)
    device, gpu_ids = compat.setup_device()
    class_weights = compat.calculate_class_weights(y) if weights is None else torch.tensor(weights)
    return spec_namespace(X_scaled=X, y=y, class_weights=class_weights, device=device, gpu_ids=gpu_ids)


def test_module5_kfold(project, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ns = kfold_namespace(project)
    printed = run(21, ns, *KFOLD_SHRINK)
    results = ns["results"]
    assert len(results["val_f1s"]) == 2 and "Average F1 Score:" in printed
    assert f"{np.mean(results['val_f1s']):.4f}" in printed
    folder = tmp_path / "results" / "gru_models"
    for name in ("GRUModel_7day_fold_1.pth", "GRUModel_7day_fold_2_test_probs.npy",
                 "GRUModel_7day_fold_1_train_labels.npy", "GRUModel_7day_fold_2_logs.txt",
                 "GRUModel_7day_summary.json", "GRUModel_7day_ensemble.pth", "GRUModel_7day_ensemble_config.json"):
        assert (folder / name).is_file(), name  # the SPEC's output files (blocks 25 and 35)
    # The loss_fn was used as given: recorded with its weights.
    protocol = json.loads((folder / "GRUModel_7day_summary.json").read_text())["protocol"]
    assert protocol["training_objects"]["loss_weight"] == pytest.approx(ns["class_weights"].tolist())
    printed = run(27, ns)
    summary = json.loads((folder / "GRUModel_7day_summary.json").read_text())
    assert f"Best fold: {summary['best_fold']}" in printed and f"Best F1: {summary['best_val_f1']:.4f}" in printed
    assert summary["best_val_f1"] == pytest.approx(max(results["val_f1s"]))
    assert f"MCC: {np.mean(results['val_mccs']):.4f}" in printed
    config = json.loads((folder / "GRUModel_7day_ensemble_config.json").read_text())
    for key in ("model_name", "window_name", "ensemble_weights", "ensemble_method", "model_params",
                "fold_metrics", "average_metrics"):
        assert key in config, key  # the SPEC's ensemble config structure (block 36)
    assert config["model_name"] == "GRUModel" and config["window_name"] == "7day"
    assert sum(config["ensemble_weights"]) == pytest.approx(1.0)


def fold_probs(folder: Path, folds: int = 2) -> list[np.ndarray]:
    return [np.load(folder / f"GRUModel_7day_fold_{k}_test_probs.npy") for k in range(1, folds + 1)]


def test_module5_loss_fn_weights_change_the_result(tmp_path, monkeypatch):
    # No signal in the data, so what the loss rewards decides the predictions.
    write_synthetic(tmp_path / "data", days=(DAYS,), n0=60, n1=40, spd=SPD, effect=0.0)
    probs = {}
    for name, weights in (("default", None), ("towards_0", [100.0, 0.01]), ("towards_1", [0.01, 100.0])):
        (tmp_path / name).mkdir()
        monkeypatch.chdir(tmp_path / name)
        ns = kfold_namespace(tmp_path, weights)
        run(21, ns, *KFOLD_SHRINK, ("'lr': 0.001", "'lr': 0.01"))
        probs[name] = fold_probs(tmp_path / name / "results" / "gru_models")
    for fold in range(2):
        # Same seed, same folds, same initial weights: only the loss differs, and it moves P(class 1).
        assert probs["towards_0"][fold].mean() < probs["default"][fold].mean() < probs["towards_1"][fold].mean()


def test_module5_selection_outer_is_the_spec_protocol(project, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ns = kfold_namespace(project)
    run(21, ns, *KFOLD_SHRINK, ("dropout_prob=0.3\n)", "dropout_prob=0.3,\n    selection='outer'\n)"))
    folder = tmp_path / "results" / "gru_models"
    summary = json.loads((folder / "GRUModel_7day_summary.json").read_text())
    assert summary["protocol"]["selection"] == "outer"
    for fold, f1 in enumerate(ns["results"]["val_f1s"], start=1):
        log = (folder / f"GRUModel_7day_fold_{fold}_logs.txt").read_text().splitlines()
        val_f1s = [float(re.search(r"val_f1=([\d.]+)", line).group(1)) for line in log if line.startswith("epoch=")]
        # The SPEC: the epoch with the best validation F1 is kept, and that F1 is reported.
        assert f1 == pytest.approx(max(val_f1s), abs=1e-6)


# --------------------------------------------------------------------------- Module 6
def test_module6_training_config(monkeypatch):
    monkeypatch.setattr(compat, "training_config", dict(compat.SPEC_TRAINING_CONFIG))
    documented = {}
    exec(block(28), documented)
    assert compat.training_config == documented["training_config"]  # the documented defaults
    ns = {"training_config": compat.training_config}
    exec(block(38), ns)  # changes the dict main_* reads, in place
    settings = compat.spec_settings("gru")
    assert settings["epochs"] == 200
    assert settings["model_overrides"] == {"gru": {"hidden_sizes": [256, 128], "dropout_prob": 0.5}}
    sequential, flat = block(32).split("# MLP (flattened features)")
    mappings = {}
    exec(sequential, mappings)
    assert mappings["window_mapping"] == compat.window_mapping
    assert compat.spec_windows("gru") == [7, 14, 30]
    exec(flat, mappings)
    assert compat.spec_windows("mlp", mappings["window_mapping"]) == [7, 14, 30]
    with pytest.raises(ConfigError, match="window-7"):
        compat.spec_windows("mlp", mappings["window_mapping"], steps_per_day=SPD)  # 10080 is not 7 x 48
    with pytest.raises(ConfigError, match="training_config"):
        compat.spec_settings("gru", {"epochs": 5, "hiden_sizes": [8]})
    # Blocks 28 and 38 copied into a notebook make a dict of its own: refused, not silently ignored.
    monkeypatch.setattr(compat, "training_config", dict(compat.SPEC_TRAINING_CONFIG))
    user = spec_namespace()
    exec(block(28), user)
    exec(block(38), user)
    with pytest.raises(ConfigError, match="pass it"):
        exec("main_gru(optimize=False)", user)
    assert compat.spec_settings("gru", user["training_config"])["epochs"] == 200  # what passing it gives


def test_module6_main_and_ensemble(project, monkeypatch):
    monkeypatch.chdir(project)
    monkeypatch.setattr(compat, "window_mapping", {f"window-{DAYS}": {"name": f"{DAYS}day", "seq_length": DAYS}})
    monkeypatch.setattr(compat, "training_config", {
        **compat.SPEC_TRAINING_CONFIG, "epochs": 2, "num_folds": 2, "batch_size": 8, "steps_per_day": SPD,
        "hidden_sizes": [8, 4]})
    X, y = window_arrays(project)
    device, gpu_ids = compat.setup_device()
    ns = spec_namespace(device=device, gpu_ids=gpu_ids, test_data=torch.from_numpy(X[:10]).reshape(10, DAYS, SPD))
    printed = run(33, ns)
    assert "GRU" not in printed or "gru" in printed
    summary = json.loads((project / "results/gru_models/GRUModel_7day_summary.json").read_text())
    assert summary["num_folds"] == 2 and summary["protocol"]["seed"] == 42
    run_config = json.loads((project / "results/run_config.json").read_text())
    assert run_config["epochs"] == 2 and run_config["model_overrides"] == {"gru": {"hidden_sizes": [8, 4]}}
    classifications = ns["classifications"]
    assert classifications.shape == (10, 2)
    # Sequence-shaped and flat raw windows score the same.
    flat = ns["ensemble"](torch.from_numpy(X[:10]))
    assert torch.equal(classifications, flat)
    # The config file is cross-checked against the .pth.
    config_path = project / "results/gru_models/GRUModel_7day_ensemble_config.json"
    config = json.loads(config_path.read_text())
    config["ensemble_weights"] = config["ensemble_weights"][::-1] if config["ensemble_weights"][0] != \
        config["ensemble_weights"][-1] else [1.0, 0.0]
    bad = project / "bad_config.json"
    bad.write_text(json.dumps(config))
    with pytest.raises(compat.CheckpointError, match="ensemble_weights"):
        compat.load_ensemble_model(project / "results/gru_models/GRUModel_7day_ensemble.pth", bad)
    with pytest.raises(ConfigError, match="gru"):
        compat.load_ensemble_model(project / "results/gru_models/GRUModel_7day_ensemble.pth",
                                   model_class=compat.LSTMClassifier)


def test_module6_class_weight_formula():
    counts = np.array([1661.0, 999.0])
    ns = spec_namespace(sqrt=np.sqrt, n_samples=counts.sum(), n_classes=2, class_counts=counts)
    with pytest.raises(TypeError):
        run(37, ns)  # nn.CrossEntropyLoss needs a tensor; the formula line itself ran
    assert ns["class_weights"] == pytest.approx(np.sqrt(2660 / (2 * counts)))
    labels = np.array([0] * 1661 + [1] * 999)
    assert compat.calculate_class_weights(labels, method="sqrt", normalize=False).tolist() == pytest.approx(
        ns["class_weights"].tolist())
    ns["sqrt"] = torch.sqrt
    ns["class_counts"] = torch.tensor(counts)
    run(37, ns)
    assert ns["weighted_loss"].weight.tolist() == pytest.approx(np.sqrt(2660 / (2 * counts)).tolist())


def test_figure_colors():
    ns = {}
    exec(block(44), ns)
    from seismag.plots import COLORS

    assert COLORS == ns["COLORS"]
