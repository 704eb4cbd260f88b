"""The kernel-side code that renders the figures a notebook left open for the instructor's
figures page (``course_grader/inside/figures.py``): each figure drawn once where drawing twice
changes nothing, with the same PNG."""
from __future__ import annotations

import io

import matplotlib
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from course_grader.inside.figures import _course_without_placeholder_layout  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _figure(layout=None, tight=False):
    fig, axes = plt.subplots(1, 2, figsize=(6, 3), layout=layout)
    for i, ax in enumerate(axes):
        ax.plot([0, 1, 2], [i, 2 * i, 1])
        ax.set_title(f"panel {i}")
        ax.set_xlabel("epoch")
    if tight:
        fig.tight_layout()
    return fig


def _png_and_draws(fig):
    calls = []
    draw = fig.draw
    fig.draw = lambda renderer: (calls.append(1), draw(renderer))[1]
    try:
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=60)
    finally:
        del fig.draw
    return buffer.getvalue(), len(calls)


def test_a_figure_after_tight_layout_is_drawn_once_with_the_same_png():
    fig = _figure(tight=True)
    before, draws_before = _png_and_draws(fig)
    _course_without_placeholder_layout(fig)
    after, draws_after = _png_and_draws(fig)
    assert (draws_before, draws_after) == (2, 1)
    assert after == before


@pytest.mark.parametrize("layout", ["constrained", "tight"])
def test_a_layout_engine_that_lays_out_is_kept(layout):
    fig = _figure(layout=layout)
    engine = fig.get_layout_engine()
    _course_without_placeholder_layout(fig)
    assert fig.get_layout_engine() is engine


def test_a_placeholder_is_kept_where_the_rc_settings_would_put_an_engine_back(monkeypatch):
    fig = _figure(tight=True)
    engine = fig.get_layout_engine()
    monkeypatch.setitem(matplotlib.rcParams, "figure.autolayout", True)
    _course_without_placeholder_layout(fig)
    assert fig.get_layout_engine() is engine
