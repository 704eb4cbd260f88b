"""Tests for course_utils.train, on a tiny model and the first 512 real MNIST training images."""


import pytest
import torch
from torch import nn

from course_utils.data import mnist_tensors, tensor_loader
from course_utils.seed import seed_everything
from course_utils.train import evaluate, fit, train_epoch
from tests.conftest import require_mnist

HISTORY_KEYS = {"train_loss", "train_accuracy", "val_loss", "val_accuracy"}


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def small_mnist():
    """The first 512 training images (train) and the first 256 test images (val) of MNIST."""
    root = require_mnist()
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("COURSE_DATA_DIR", str(root))
        train = mnist_tensors(train=True, limit=512, normalize=True, download=False)
        val = mnist_tensors(train=False, limit=256, normalize=True, download=False)
    return train, val


@pytest.fixture
def loaders(small_mnist):
    (train_images, train_labels), (val_images, val_labels) = small_mnist
    train_loader = tensor_loader(train_images, train_labels, batch_size=64, shuffle=True, seed=0)
    val_loader = tensor_loader(val_images, val_labels, batch_size=128)
    return train_loader, val_loader


def tiny_cnn():
    seed_everything(0)
    return nn.Sequential(
        nn.Conv2d(1, 4, kernel_size=5, stride=2),  # (N, 4, 12, 12)
        nn.ReLU(),
        nn.Dropout(0.1),
        nn.Flatten(),
        nn.Linear(4 * 12 * 12, 10),
    )


def test_train_epoch_returns_loss_and_accuracy(loaders):
    train_loader, _ = loaders
    model = tiny_cnn()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    metrics = train_epoch(model, train_loader, optimizer, progress=False)
    assert set(metrics) == {"loss", "accuracy"}
    assert isinstance(metrics["loss"], float) and metrics["loss"] > 0
    assert 0.0 <= metrics["accuracy"] <= 1.0
    assert model.training


def test_train_epoch_lowers_the_loss(loaders):
    train_loader, _ = loaders
    model = tiny_cnn()
    before = evaluate(model, train_loader)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(2):
        train_epoch(model, train_loader, optimizer, progress=False)
    after = evaluate(model, train_loader)
    assert after["loss"] < 0.7 * before["loss"]
    assert after["accuracy"] > before["accuracy"] + 0.3


def test_train_epoch_loss_is_a_mean_over_samples():
    # Two batches of sizes 3 and 1 with a frozen model (lr=0): the mean over 4 samples, not over
    # the 2 batch means.
    model = nn.Linear(2, 2, bias=False)
    with torch.no_grad():
        model.weight.copy_(torch.eye(2))
    inputs = torch.tensor([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0], [0.0, 5.0]])
    labels = torch.tensor([0, 0, 0, 0])
    loader = tensor_loader(inputs, labels, batch_size=3)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)
    metrics = train_epoch(model, loader, optimizer, progress=False)
    per_sample = nn.functional.cross_entropy(inputs, labels, reduction="none")
    assert metrics["loss"] == pytest.approx(per_sample.mean().item())
    assert metrics["accuracy"] == pytest.approx(3 / 4)


def test_train_epoch_steps_the_scheduler_every_batch(loaders):
    train_loader, _ = loaders
    model = tiny_cnn()
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    train_epoch(model, train_loader, optimizer, scheduler=scheduler, progress=False)
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.5 ** len(train_loader))


def test_train_epoch_rejects_a_device_the_model_is_not_on(loaders):
    train_loader, _ = loaders
    model = tiny_cnn()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="model.to"):
        train_epoch(model, train_loader, optimizer, device="meta", progress=False)


def test_evaluate_restores_train_mode_and_leaves_weights(loaders):
    _, val_loader = loaders
    model = tiny_cnn()
    weights_before = [parameter.detach().clone() for parameter in model.parameters()]
    model.train()
    first = evaluate(model, val_loader)
    assert model.training, "evaluate must put the model back in train mode"
    model.eval()
    second = evaluate(model, val_loader)
    assert not model.training, "evaluate must leave an eval-mode model in eval mode"
    assert set(first) == {"loss", "accuracy"}
    assert first == second  # dropout is off during evaluation: same numbers in both modes
    for before, after in zip(weights_before, model.parameters()):
        assert torch.equal(before, after)
        assert after.grad is None


def test_evaluate_counts_correct_predictions():
    model = nn.Identity()
    scores = torch.tensor([[2.0, 1.0], [0.0, 3.0], [5.0, 1.0], [1.0, 0.0]])
    labels = torch.tensor([0, 1, 1, 1])
    metrics = evaluate(model, tensor_loader(scores, labels, batch_size=3))
    assert metrics["accuracy"] == pytest.approx(0.5)
    assert metrics["loss"] == pytest.approx(nn.functional.cross_entropy(scores, labels).item())


def test_fit_history_and_learning(loaders):
    train_loader, val_loader = loaders
    model = tiny_cnn()
    history = fit(model, train_loader, val_loader, epochs=3, lr=3e-3, progress=False)
    assert set(history) == HISTORY_KEYS
    assert all(len(values) == 3 for values in history.values())
    assert history["train_loss"][-1] < history["train_loss"][0]
    assert history["val_loss"][-1] < history["val_loss"][0]
    assert history["val_accuracy"][-1] > 0.7
    assert all(0.0 <= value <= 1.0 for value in history["train_accuracy"] + history["val_accuracy"])


def test_fit_without_val_loader_and_with_progress_bars(loaders, capsys):
    train_loader, _ = loaders
    history = fit(tiny_cnn(), train_loader, epochs=2, progress=True)
    assert len(history["train_loss"]) == 2 and len(history["train_accuracy"]) == 2
    assert history["val_loss"] == [] and history["val_accuracy"] == []
    assert "epochs" in capsys.readouterr().err  # tqdm writes its bars to stderr


def test_fit_one_cycle_runs_the_whole_schedule(loaders):
    train_loader, _ = loaders
    model = tiny_cnn()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    history = fit(
        model, train_loader, epochs=2, optimizer=optimizer, lr=0.05, one_cycle=True, progress=False
    )
    # OneCycleLR starts at max_lr / 25, peaks at max_lr and ends far below the start; it raises
    # if stepped more than total_steps = epochs * len(train_loader) times.
    assert optimizer.param_groups[0]["lr"] < 0.05 / 25 / 2
    assert history["train_loss"][-1] < history["train_loss"][0]


def test_fit_rejects_scheduler_and_one_cycle_together(loaders):
    train_loader, _ = loaders
    model = tiny_cnn()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1)
    with pytest.raises(ValueError):
        fit(
            model, train_loader, optimizer=optimizer, scheduler=scheduler, one_cycle=True,
            progress=False,
        )


def test_fit_moves_the_model_to_the_given_device(loaders):
    train_loader, _ = loaders
    model = tiny_cnn()
    history = fit(model, train_loader, epochs=1, device="cpu", progress=False)
    assert next(model.parameters()).device == torch.device("cpu")
    assert len(history["train_loss"]) == 1
