"""Figures the notebooks share: image grids, learning curves, and labeled line plots.

Every function returns the ``matplotlib.figure.Figure`` it drew and never calls ``plt.show()``.
In a notebook the figure is displayed at the end of the cell; assign the result
(``fig = show_images(...)``) or end the line with ``;`` so that it is not displayed twice.
Close figures you no longer need with ``plt.close(fig)``.
"""

import math

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator


def _to_numpy(values) -> np.ndarray:
    """A torch tensor (any device, with or without grad), list or array as a NumPy array."""
    if hasattr(values, "detach"):
        values = values.detach().cpu().numpy()
    return np.asarray(values)


def _image_for_imshow(image: np.ndarray) -> np.ndarray:
    """One image of shape (H, W), (1, H, W) or (3, H, W) as (H, W) or (H, W, 3) for imshow."""
    if image.ndim == 2:
        return image
    if image.ndim == 3 and image.shape[0] == 1:
        return image[0]
    if image.ndim == 3 and image.shape[0] == 3:
        return image.transpose(1, 2, 0)
    raise ValueError(
        f"show_images: each image must have shape (H, W), (1, H, W) or (3, H, W), "
        f"got {tuple(image.shape)}"
    )


def _label_text(label) -> str:
    return str(label.item() if hasattr(label, "item") else label)


def signed_limit(images) -> float:
    """The colour limit ``vmax`` that shows every value of ``images`` on one symmetric scale.

    Inputs:
    - images: tensor or array of any shape (e.g. (N, H, W) feature maps or filters).

    Returns max |value| over all entries as a float (1.0 when every value is 0), so that
    ``imshow(..., vmin=-vmax, vmax=vmax)`` maps 0 to the middle colour of a diverging colormap.
    """
    images = _to_numpy(images).astype(np.float64)
    vmax = float(np.abs(images).max()) if images.size else 0.0
    return vmax if vmax > 0 and np.isfinite(vmax) else 1.0


# Inches of the image grids (show_images, show_signed_images): a panel's cell, the gap between
# panels, a line of a panel's title (fontsize 9) and the rough width of one of its characters,
# the margins, the room for the figure's title, and the colorbar's column on the right.
_CELL_W, _CELL_H = 1.5, 1.3
_GAP_W, _TITLE_PAD, _TITLE_LINE, _TITLE_CHAR, _SUPTITLE_CHAR = 0.12, 0.13, 0.17, 0.08, 0.1
_MARGIN, _SUPTITLE_H, _COLORBAR_W = 0.1, 0.4, 1.2


def _image_grid(nrows: int, ncols: int, titles=None, colorbar: bool = False, suptitle=None):
    """A figure with an (nrows, ncols) grid of axes, placed at fixed sizes in inches rather than by
    a layout engine (which measures every tick and title at each draw: four times slower to draw a
    16-panel grid, in a notebook too), with room above each panel for its title (``titles``: the
    texts, for their lines and length), above the grid for a suptitle (set now or later; the
    figure is made wide enough for ``suptitle``, the grid centred), and, when ``colorbar``, a
    colorbar axes to the right.

    Returns (fig, axes of shape (nrows, ncols), the colorbar's axes or None).
    """
    lines = [line for title in (titles or []) for line in str(title).split("\n")]
    title_lines = max((str(t).count("\n") + 1 for t in titles or []), default=0)
    cell_w = max(_CELL_W, _TITLE_CHAR * max((len(line) for line in lines), default=0) + _GAP_W)
    title_h = _TITLE_PAD + _TITLE_LINE * title_lines if title_lines else _GAP_W
    right = _COLORBAR_W if colorbar else _MARGIN
    grid_w = cell_w * ncols - _GAP_W
    width = max(_MARGIN + grid_w + right, _SUPTITLE_CHAR * len(str(suptitle or "")) + 2 * _MARGIN)
    height = _MARGIN + (_CELL_H + title_h) * nrows + _SUPTITLE_H
    fig = plt.figure(figsize=(width, height))
    grid_left = _MARGIN + (width - (_MARGIN + grid_w + right)) / 2
    grid_right = grid_left + grid_w
    grid_bottom, grid_top = _MARGIN, height - _SUPTITLE_H - title_h
    panel_w = (grid_right - grid_left - (ncols - 1) * _GAP_W) / ncols
    panel_h = (grid_top - grid_bottom - (nrows - 1) * title_h) / nrows
    axes = fig.subplots(nrows, ncols, squeeze=False, gridspec_kw=dict(
        left=grid_left / width, right=grid_right / width,
        bottom=grid_bottom / height, top=grid_top / height,
        wspace=_GAP_W / panel_w, hspace=title_h / panel_h))
    colorbar_axes = None
    if colorbar:
        bar_h = 0.9 * (grid_top - grid_bottom)
        colorbar_axes = fig.add_axes([(grid_right + 0.2) / width,
                                      (grid_bottom + (grid_top - grid_bottom - bar_h) / 2) / height,
                                      0.12 / width, bar_h / height])
    return fig, axes, colorbar_axes


def show_signed_images(images, titles=None, ncols=8, cmap="RdBu_r", title=None,
                       colorbar_label="value") -> Figure:
    """Draw signed 2-D arrays (feature maps, filters) in a grid on ONE symmetric colour scale.

    Every panel uses the same limits, ``vmin = -vmax`` and ``vmax = max |value|`` over all the
    images (not per panel), so that equal colours mean equal values across panels and 0 is the
    middle colour (white in ``RdBu_r``: red positive, blue negative). One colorbar shows the scale.

    Inputs:
    - images: tensor or array of shape (N, H, W) (any device, with or without grad).
    - titles: optional N strings shown above the panels.
    - ncols: panels per row (at most N).
    - cmap: a diverging colormap name.
    - title: optional title of the whole figure (suptitle).
    - colorbar_label: the label of the colorbar.

    Returns the Figure: exactly N axes holding one image each (the raw values, shape (H, W)),
    plus the colorbar's axes (which holds no image).
    """
    images = _to_numpy(images)
    if images.ndim != 3 or len(images) == 0:
        raise ValueError(
            f"show_signed_images: images must have shape (N, H, W) with N >= 1, "
            f"got {tuple(images.shape)}"
        )
    count = len(images)
    if titles is not None and len(titles) != count:
        raise ValueError(f"show_signed_images: got {count} images but {len(titles)} titles")
    vmax = signed_limit(images)
    ncols = max(1, min(ncols, count))
    nrows = math.ceil(count / ncols)
    fig, axes, colorbar_axes = _image_grid(nrows, ncols, titles, colorbar=True, suptitle=title)
    shown = []
    for index, ax in enumerate(axes.flat):
        if index >= count:
            fig.delaxes(ax)  # leave no empty axes in the last row
            continue
        image = ax.imshow(images[index], cmap=cmap, vmin=-vmax, vmax=vmax)
        ax.set_xticks([])
        ax.set_yticks([])
        if titles is not None:
            ax.set_title(str(titles[index]), fontsize=9)
        shown.append(ax)
    fig.colorbar(image, cax=colorbar_axes, label=colorbar_label)
    if title is not None:
        fig.suptitle(title)
    return fig


def show_images(images, labels=None, titles=None, ncols=8, cmap="gray", title=None) -> Figure:
    """Draw images in a grid, one axes per image, axes lines and ticks off.

    Inputs:
    - images: tensor or array of shape (N, H, W), (N, 1, H, W) or (N, 3, H, W). Grayscale images
      are drawn with ``cmap``, each scaled to its own min..max; RGB images should lie in [0, 1].
    - labels: optional N labels (ints, strings, or a tensor of shape (N,)), shown above the images.
    - titles: optional N strings shown above the images instead of the labels.
    - ncols: images per row (at most N).
    - title: optional title of the whole figure (suptitle).

    Returns the Figure; ``fig.axes`` holds exactly N axes.
    """
    images = _to_numpy(images)
    if images.ndim not in (3, 4) or len(images) == 0:
        raise ValueError(
            f"show_images: images must have shape (N, H, W) or (N, C, H, W) with N >= 1, "
            f"got {tuple(images.shape)}"
        )
    count = len(images)
    for name, values in (("labels", labels), ("titles", titles)):
        if values is not None and len(values) != count:
            raise ValueError(f"show_images: got {count} images but {len(values)} {name}")

    ncols = max(1, min(ncols, count))
    nrows = math.ceil(count / ncols)
    if titles is not None:
        shown_titles = [str(t) for t in titles]
    elif labels is not None:
        shown_titles = [_label_text(label) for label in labels]
    else:
        shown_titles = None
    fig, axes, _ = _image_grid(nrows, ncols, shown_titles, suptitle=title)
    for index, ax in enumerate(axes.flat):
        if index >= count:
            fig.delaxes(ax)  # leave no empty axes in the last row
            continue
        ax.imshow(_image_for_imshow(images[index]), cmap=cmap)
        ax.axis("off")
        if shown_titles is not None:
            ax.set_title(shown_titles[index], fontsize=9)
    if title is not None:
        fig.suptitle(title)
    return fig


def plot_history(history: dict, title: str = "Learning curves") -> Figure:
    """Draw the loss and the accuracy per epoch from a ``fit()`` history.

    Inputs:
    - history: dict with lists "train_loss", "train_accuracy" and, optionally (may be empty),
      "val_loss", "val_accuracy", one entry per epoch.
    - title: title of the figure (suptitle).

    Returns the Figure with two axes: loss (left) and accuracy (right), x axis "epoch".
    """
    fig, (loss_ax, accuracy_ax) = plt.subplots(1, 2, figsize=(10, 4))
    panels = ((loss_ax, "loss", "Loss"), (accuracy_ax, "accuracy", "Accuracy"))
    for ax, metric, panel_title in panels:
        for split in ("train", "val"):
            values = history.get(f"{split}_{metric}", [])
            if len(values) > 0:
                epochs = range(1, len(values) + 1)
                ax.plot(epochs, values, marker="o", label=split)
        ax.set_title(panel_title)
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        if ax.lines:
            ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_lines(
    x, series: dict, xlabel: str, ylabel: str, title: str, logx: bool = False, logy: bool = False
) -> Figure:
    """Draw several labeled lines over the same x values, with a legend.

    Used for e.g. accuracy vs. shift in pixels, or throughput vs. batch size.

    Inputs:
    - x: sequence of M x values.
    - series: dict mapping a line's label to its M y values.
    - xlabel, ylabel: axis labels; title: title of the figure (suptitle).
    - logx, logy: use a logarithmic x / y axis (e.g. for batch sizes 1, 2, 4, ..., 1024).
      Whole-number x values on a linear axis get whole-number ticks only.

    Returns the Figure with one axes.
    """
    x = _to_numpy(x)
    fig, ax = plt.subplots(figsize=(6, 4))
    for label, values in series.items():
        values = _to_numpy(values)
        if len(values) != len(x):
            plt.close(fig)
            raise ValueError(
                f"plot_lines: series {label!r} has {len(values)} values but x has {len(x)}"
            )
        ax.plot(x, values, marker="o", label=str(label))
    if logx:
        ax.set_xscale("log")
    elif len(x) and np.all(np.equal(np.mod(x, 1), 0)):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))   # whole pixels, epochs: no 0.5 ticks
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    if series:
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_confusion_errors(cm, title: str = "Mistakes: share of each true class taken for another") -> Figure:
    """Draw only the mistakes of a confusion matrix, as shares of each true class.

    The diagonal (correct predictions) outweighs every mistake, so on a plain confusion matrix
    the cells that matter are near white. Here each row is divided by its class's count and the
    diagonal is left blank: cell (t, p) is the share of class t's examples predicted as p.

    Inputs:
    - cm: integer tensor or array of shape (C, C), rows = true class, columns = predicted class.
    - title: title of the axes.

    Returns the Figure with one axes (imshow of the shares, the diagonal masked, a colorbar in
    percent, ticks 0..C-1, each mistake's share written in percent where it is at least 0.5%).
    """
    counts = _to_numpy(cm).astype(float)
    if counts.ndim != 2 or counts.shape[0] != counts.shape[1]:
        raise ValueError(f"plot_confusion_errors: cm must be square (C, C), got shape {counts.shape}")
    num_classes = counts.shape[0]
    totals = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0) * 100
    masked = np.ma.masked_where(np.eye(num_classes, dtype=bool), shares)
    fig, ax = plt.subplots(figsize=(6, 5))
    cmap = plt.get_cmap("Reds").copy()
    cmap.set_bad("#dddddd")                      # the diagonal: not a mistake
    image = ax.imshow(masked, cmap=cmap, vmin=0, vmax=max(float(masked.max() or 0), 1e-9))
    fig.colorbar(image, ax=ax, label="% of the true class")
    ax.set_xticks(range(num_classes))
    ax.set_yticks(range(num_classes))
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    high = float(masked.max() or 0) / 2
    for t in range(num_classes):
        for p in range(num_classes):
            if t != p and shares[t, p] >= 0.5:
                ax.text(p, t, f"{shares[t, p]:.0f}" if shares[t, p] >= 10 else f"{shares[t, p]:.1f}",
                        ha="center", va="center", fontsize=7, color="white" if shares[t, p] > high else "black")
    fig.tight_layout()
    return fig
