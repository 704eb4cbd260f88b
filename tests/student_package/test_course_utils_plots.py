"""Tests for course_utils.plots (Agg backend: no window opens)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from course_utils.plots import (  # noqa: E402
    plot_history, plot_lines, show_images, show_signed_images, signed_limit)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.mark.parametrize(
    "images",
    [
        torch.rand(5, 1, 28, 28),
        torch.rand(5, 28, 28),
        torch.rand(5, 3, 16, 16),
        np.random.rand(5, 1, 28, 28),
        torch.rand(5, 1, 28, 28, requires_grad=True),
    ],
    ids=["N1HW", "NHW", "N3HW", "numpy", "requires_grad"],
)
def test_show_images_one_axes_per_image(images):
    fig = show_images(images, ncols=2, title="Some digits")
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 5
    assert fig._suptitle.get_text() == "Some digits"
    assert all(not ax.axison for ax in fig.axes)
    assert all(len(ax.images) == 1 for ax in fig.axes)
    if images.shape[1] == 3:
        assert fig.axes[0].images[0].get_array().shape == (16, 16, 3)
    else:
        assert fig.axes[0].images[0].get_array().shape == (28, 28)


def test_show_images_labels_and_titles():
    images = torch.rand(3, 1, 8, 8)
    fig = show_images(images, labels=torch.tensor([7, 2, 1]))
    assert [ax.get_title() for ax in fig.axes] == ["7", "2", "1"]
    fig = show_images(images, labels=[7, 2, 1], titles=["a", "b", "c"])
    assert [ax.get_title() for ax in fig.axes] == ["a", "b", "c"]


def test_show_images_grid_layout():
    fig = show_images(torch.rand(10, 1, 8, 8), ncols=4)
    assert len(fig.axes) == 10
    rows = {ax.get_subplotspec().rowspan.start for ax in fig.axes}
    assert rows == {0, 1, 2}
    fig = show_images(torch.rand(3, 8, 8))  # fewer images than ncols: one row of 3
    assert len(fig.axes) == 3


@pytest.mark.parametrize(
    "images, kwargs",
    [
        (torch.rand(0, 1, 8, 8), {}),
        (torch.rand(8, 8), {}),
        (torch.rand(2, 2, 8, 8), {}),
        (torch.rand(2, 1, 8, 8), {"labels": [1, 2, 3]}),
    ],
)
def test_show_images_rejects_bad_input(images, kwargs):
    with pytest.raises(ValueError):
        show_images(images, **kwargs)


def _history(epochs, with_val=True):
    return {
        "train_loss": [1.0 / (e + 1) for e in range(epochs)],
        "train_accuracy": [0.5 + 0.1 * e for e in range(epochs)],
        "val_loss": [1.2 / (e + 1) for e in range(epochs)] if with_val else [],
        "val_accuracy": [0.4 + 0.1 * e for e in range(epochs)] if with_val else [],
    }


def test_plot_history():
    fig = plot_history(_history(4))
    assert isinstance(fig, Figure)
    assert fig._suptitle.get_text() == "Learning curves"
    loss_ax, accuracy_ax = fig.axes
    assert loss_ax.get_xlabel() == "epoch" and loss_ax.get_ylabel() == "loss"
    assert accuracy_ax.get_xlabel() == "epoch" and accuracy_ax.get_ylabel() == "accuracy"
    assert [line.get_label() for line in loss_ax.lines] == ["train", "val"]
    assert list(loss_ax.lines[0].get_xdata()) == [1, 2, 3, 4]
    assert list(accuracy_ax.lines[1].get_ydata()) == pytest.approx([0.4, 0.5, 0.6, 0.7])


def test_plot_history_without_validation():
    fig = plot_history(_history(3, with_val=False), title="No validation")
    assert fig._suptitle.get_text() == "No validation"
    assert len(fig.axes) == 2
    assert [line.get_label() for line in fig.axes[0].lines] == ["train"]


def test_plot_lines():
    shifts = [-2, -1, 0, 1, 2]
    series = {"MLP": [0.3, 0.6, 0.98, 0.6, 0.3], "CNN": torch.tensor([0.8, 0.9, 0.99, 0.9, 0.8])}
    fig = plot_lines(shifts, series, "shift (pixels)", "accuracy", "Accuracy vs. shift")
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 1
    ax = fig.axes[0]
    assert fig._suptitle.get_text() == "Accuracy vs. shift"
    assert ax.get_xlabel() == "shift (pixels)" and ax.get_ylabel() == "accuracy"
    assert [line.get_label() for line in ax.lines] == ["MLP", "CNN"]
    assert [text.get_text() for text in ax.get_legend().get_texts()] == ["MLP", "CNN"]
    assert list(ax.lines[1].get_ydata()) == pytest.approx([0.8, 0.9, 0.99, 0.9, 0.8])


def test_plot_lines_log_axes():
    series = {"cpu": [10, 19, 35, 60]}
    fig = plot_lines([1, 2, 4, 8], series, "batch size", "images / s", "Throughput", logx=True)
    assert fig.axes[0].get_xscale() == "log" and fig.axes[0].get_yscale() == "linear"


def test_plot_lines_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="MLP"):
        plot_lines([0, 1, 2], {"MLP": [0.1, 0.2]}, "x", "y", "t")
    assert plt.get_fignums() == []  # no half-drawn figure left open


def test_signed_limit_is_the_largest_magnitude():
    assert signed_limit(torch.tensor([[0.5, -2.0], [1.0, 0.0]])) == 2.0
    assert signed_limit(np.zeros((2, 3, 3))) == 1.0  # all zeros: a usable scale


@pytest.mark.parametrize("images", [torch.randn(5, 4, 6, requires_grad=True), np.random.randn(5, 4, 6)],
                         ids=["requires_grad", "numpy"])
def test_show_signed_images_one_symmetric_scale_and_one_colorbar(images):
    fig = show_signed_images(images, titles=[f"ch {i}" for i in range(5)], ncols=3, title="maps")
    image_axes = [ax for ax in fig.axes if ax.images]
    assert len(image_axes) == 5 and len(fig.axes) == 6  # five panels and the colorbar
    vmax = float(np.abs(np.asarray(images.detach() if hasattr(images, "detach") else images)).max())
    for ax, expected in zip(image_axes, images):
        im = ax.images[0]
        assert im.get_clim() == pytest.approx((-vmax, vmax))  # the same limits on every panel
        assert im.get_cmap().name == "RdBu_r"
        expected = expected.detach().numpy() if hasattr(expected, "detach") else expected
        np.testing.assert_allclose(np.asarray(im.get_array()), expected)  # raw values, not rescaled
    assert [ax.get_title() for ax in image_axes] == [f"ch {i}" for i in range(5)]
    assert fig._suptitle.get_text() == "maps"
    colorbars = [ax for ax in fig.axes if not ax.images]
    assert len(colorbars) == 1 and colorbars[0].get_ylim() == pytest.approx((-vmax, vmax))


def test_show_signed_images_rejects_bad_input():
    with pytest.raises(ValueError, match="N, H, W"):
        show_signed_images(torch.rand(2, 1, 4, 4))
    with pytest.raises(ValueError, match="titles"):
        show_signed_images(torch.rand(2, 4, 4), titles=["a"])


def test_plot_confusion_errors_shows_row_shares_without_the_diagonal():
    from course_utils.plots import plot_confusion_errors

    cm = torch.tensor([[90, 10, 0], [5, 45, 0], [0, 0, 0]])      # class 2 never occurs
    fig = plot_confusion_errors(cm)
    [ax] = [a for a in fig.axes if a.images]
    shown = ax.images[0].get_array()
    assert np.ma.is_masked(shown) and list(np.ma.getmaskarray(shown).diagonal()) == [True, True, True]
    assert shown[0, 1] == pytest.approx(10.0) and shown[1, 0] == pytest.approx(100 * 5 / 50)
    assert shown[2, 0] == 0                                       # an empty row: no division by zero
    assert ax.get_xlabel() == "predicted" and ax.get_ylabel() == "true"
    assert sorted(t.get_text() for t in ax.texts) == ["10", "10"]   # the two mistakes, in percent
    assert len(fig.axes) == 2                                     # and a colorbar
    with pytest.raises(ValueError, match="square"):
        plot_confusion_errors(torch.zeros(2, 3))


def test_plot_lines_puts_whole_numbers_on_an_axis_of_whole_numbers():
    fig = plot_lines(range(5), {"a": [1, 2, 3, 4, 5]}, "shift (pixels)", "y", "t")
    fig.canvas.draw()
    ticks = [t for t in fig.axes[0].get_xticks() if 0 <= t <= 4]
    assert ticks and all(float(t).is_integer() for t in ticks)
    fig = plot_lines([0.0, 0.25, 0.5], {"a": [1, 2, 3]}, "x", "y", "t")
    fig.canvas.draw()
    assert any(not float(t).is_integer() for t in fig.axes[0].get_xticks())


def _assert_apart_and_inside(fig):
    """No two of the figure's image panels, their titles, the colorbar (if any) and the figure's
    title overlap (by more than half a pixel), and all of them lie inside the figure."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    panels = [ax for ax in fig.axes if ax.images]
    boxes = [ax.get_window_extent(renderer) for ax in panels]
    boxes += [ax.title.get_window_extent(renderer) for ax in panels if ax.get_title()]
    boxes += [ax.get_tightbbox(renderer) for ax in fig.axes if not ax.images]
    boxes.append(fig._suptitle.get_window_extent(renderer))
    whole = fig.bbox
    for i, box in enumerate(boxes):
        assert whole.x0 <= box.x0 and box.x1 <= whole.x1 and whole.y0 <= box.y0 and box.y1 <= whole.y1, i
        for j, other in enumerate(boxes[:i]):
            overlap_w = min(box.x1, other.x1) - max(box.x0, other.x0)
            overlap_h = min(box.y1, other.y1) - max(box.y0, other.y0)
            assert overlap_w <= 0.5 or overlap_h <= 0.5, (i, j)
    return panels


@pytest.mark.parametrize("count, ncols, title", [(1, 8, None), (3, 8, None), (5, 3, None), (16, 8, None), (18, 8, None),
                                                 (1, 8, "Feature maps: 1 of 64 channels, first conv layer")])
def test_show_signed_images_places_panels_titles_and_colorbar_apart(count, ncols, title):
    """Placed at fixed sizes (no layout engine measuring every title at each draw): no two panels,
    titles, the colorbar or the figure's title overlap, and all of them lie inside the figure,
    also for a title set afterwards with fig.suptitle (as the activations notebook does)."""
    fig = show_signed_images(torch.randn(count, 5, 7), titles=[f"ch {i}" for i in range(count)],
                             ncols=ncols, colorbar_label="activation", title=title)
    if title is None:
        fig.suptitle("Feature maps: digit 7")
    assert fig.get_layout_engine() is None
    panels = _assert_apart_and_inside(fig)
    (colorbar,) = [ax for ax in fig.axes if not ax.images]
    renderer = fig.canvas.get_renderer()
    assert colorbar.get_window_extent(renderer).x0 > max(ax.get_window_extent(renderer).x1 for ax in panels)


@pytest.mark.parametrize("count, ncols, titles", [
    (16, 8, None),                                                            # labels 0..15
    (15, 5, [f"true {i % 10}, pred {(3 * i) % 10} ({90 + i % 10}%)" for i in range(15)]),
    (5, 5, ["digit (label 7)", "Sobel x", "Sobel y", "box blur", "edge magnitude"]),
    (4, 2, ["two\nlines", "a", "b", "a much longer title than the panel is wide"]),
    (1, 8, ["one"]),
])
def test_show_images_places_panels_and_titles_apart(count, ncols, titles):
    """Placed at fixed sizes, the cells as wide and the title rows as high as the titles need
    (the misclassifications notebook's "true 3, pred 5 (97%)"), and the figure as wide as its
    title needs, nothing overlaps."""
    fig = show_images(torch.rand(count, 1, 28, 28), labels=list(range(count)), titles=titles, ncols=ncols,
                      title="The most confident mistakes")
    assert fig.get_layout_engine() is None
    assert len(_assert_apart_and_inside(fig)) == count
