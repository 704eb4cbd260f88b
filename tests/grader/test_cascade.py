"""A failure that follows from an earlier part says so (issue 13: cascades and hints that point
elsewhere): the message of a later test whose function calls a failed earlier function names that
function and its failed test. Read from the student's code in the grader's process."""
from __future__ import annotations

import pytest

from course_grader.grading import cascade
from course_grader.grading.merge import build_graded_notebook
from course_grader.grading.results import TestResult
from tests.helpers import fill_solutions, release_nb, source_nb
from tests.variants.conv_from_scratch import VARIANTS

A = "conv_from_scratch"
VARIANTS_BY_NAME = {v.name: v for v in VARIANTS}


def _explained(settings, variant_name: str) -> dict:
    """{failed test: message} after ``cascade.explain``, for the tests the variant loses (each
    with the message "wrong")."""
    variant = next(v for v in VARIANTS if v.name == variant_name)
    source = source_nb(settings, A)
    nb, _ = build_graded_notebook(source, fill_solutions(release_nb(settings, A), source,
                                                         replace=variant.replace))
    tests = [TestResult(gid, 0.0, 1.0, False, "wrong") for gid in sorted(variant.lost)]
    cascade.explain(tests, source, nb)
    return {t.name: t.message for t in tests}


def test_a_wrong_im2col_is_named_in_every_test_it_fails_after_its_own(settings):
    fix = "calls your im2col, which failed test_im2col: fix im2col first"
    assert _explained(settings, "im2col_kernel_major_rows") == {
        "test_im2col": "wrong",
        "test_conv2d_im2col": f"wrong (conv2d_im2col {fix})",
        # the first cause only: conv2d_im2col failed too, because of im2col
        "test_conv2d_scratch_forward": f"wrong (Conv2dScratch {fix})",
        "test_conv2d_weight_grad_basic": f"wrong (conv2d_weight_grad {fix})",
        "test_conv2d_weight_grad_stride_padding": f"wrong (conv2d_weight_grad {fix})"}


def test_a_gate_is_explained_by_a_gate_only(settings):
    assert _explained(settings, "im2col_F_unfold") == {
        "test_im2col_no_builtin": "wrong",
        "test_conv2d_scratch_no_builtin": "wrong (Conv2dScratch calls your conv2d_im2col, which failed "
                                          "test_im2col_no_builtin: fix conv2d_im2col first)",
        "test_conv2d_weight_grad_no_builtin": "wrong"}
    # a loop in im2col costs the gates; no value test is blamed on it
    assert _explained(settings, "im2col_loop_over_windows") == {
        "test_im2col_vectorised": "wrong", "test_conv2d_weight_grad_vectorised": "wrong"}


@pytest.mark.parametrize("variant_name", ["conv2d_im2col_no_permute"])
def test_a_function_that_does_not_call_the_failed_one_gets_no_note(settings, variant_name):
    """Conv2dScratch calls conv2d_im2col (failed); nothing blames im2col, which passed."""
    assert _explained(settings, variant_name) == {
        "test_conv2d_im2col": "wrong",
        "test_conv2d_scratch_forward": "wrong (Conv2dScratch calls your conv2d_im2col, which failed "
                                       "test_conv2d_im2col: fix conv2d_im2col first)"}


def test_code_that_does_not_parse_adds_nothing(settings):
    source = source_nb(settings, A)
    nb = fill_solutions(release_nb(settings, A), source, replace={"im2col": "def im2col(:\n"})
    nb, _ = build_graded_notebook(source, nb)
    tests = [TestResult("test_im2col", 0.0, 2.0, False, ""), TestResult("test_conv2d_im2col", 0.0, 2.0, False, "x")]
    cascade.explain(tests, source, nb)
    assert [t.message for t in tests] == ["", "x"]


def test_a_test_that_raised_is_explained_by_any_failed_callee(settings):
    """pad2d slices out[p:-p] (empty for p = 0) and raises in every part that pads by 0: the
    gates that crash name it too, though its own failed test checks values."""
    source = source_nb(settings, A)
    nb, _ = build_graded_notebook(source, fill_solutions(release_nb(settings, A), source,
                                                         replace=VARIANTS_BY_NAME["pad2d_minus_zero_slice"].replace))
    tests = [TestResult("test_pad2d", 0.0, 2.0, False, "AssertionError", status="error"),
             TestResult("test_conv2d_scratch_no_builtin", 0.0, 1.0, False, "RuntimeError", status="error"),
             TestResult("test_conv2d_weight_grad_vectorised", 0.0, 1.0, False, "values", status="ok")]
    cascade.explain(tests, source, nb)
    assert [t.message for t in tests] == [
        "AssertionError",
        "RuntimeError (Conv2dScratch calls your pad2d, which failed test_pad2d: fix pad2d first)",
        "values"]                                  # a gate that ran: not explained by a value test


def test_a_failed_test_of_several_functions_names_none_of_them(settings):
    """test_float32_outputs checks pad2d, conv2d_naive, im2col, ...: when it fails, nothing says
    which of them failed, so a conv2d_naive that fails with it is not blamed on its (correct) pad2d."""
    assert cascade.targets(source_nb(settings, A))["test_float32_outputs"] == sorted(
        ["pad2d", "conv2d_naive", "im2col", "conv2d_im2col", "Conv2dScratch", "conv2d_weight_grad"])
    source = source_nb(settings, A)
    nb, _ = build_graded_notebook(source, fill_solutions(release_nb(settings, A), source,
                                                         replace=VARIANTS_BY_NAME["naive_bias_unshaped"].replace))
    tests = [TestResult("test_float32_outputs", 0.0, 1.0, False, "dtype", status="ok"),
             TestResult("test_conv2d_naive_basic", 0.0, 2.0, False, "RuntimeError", status="error")]
    cascade.explain(tests, source, nb)
    assert [t.message for t in tests] == ["dtype", "RuntimeError"]


def test_a_test_that_stands_in_for_an_earlier_function_is_not_explained_by_it(settings):
    """cpu_vs_gpu's Part 2 tests time the steps with a stand-in for time_it (stand_in_time_it,
    with_reference_time_it): a failed step test is the step's own mistake, even when time_it failed
    too; a test that calls time_it itself would still be explained by it."""
    from tests.variants.cpu_vs_gpu import VARIANTS as CVG

    a = "cpu_vs_gpu"
    source = source_nb(settings, a)
    assert cascade.stood_in(source)["test_time_training_step"] == {"time_it"}
    replace = dict(next(v for v in CVG if v.name == "time_it_left_a_stub").replace)
    replace.update(next(v for v in CVG if v.name == "step_no_zero_grad").replace)
    nb, _ = build_graded_notebook(source, fill_solutions(release_nb(settings, a), source, replace=replace))
    tests = [TestResult("test_time_it", 0.0, 1.0, False, "NotImplementedError", status="error"),
             TestResult("test_time_training_step", 0.0, 1.0, False, "stale gradients", status="ok")]
    cascade.explain(tests, source, nb)
    assert [t.message for t in tests] == ["NotImplementedError", "stale gradients"]
    without = source_nb(settings, a)        # the same cell without its stand-ins: explained by time_it
    for cell in without.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "test_time_training_step":
            cell.source = "time_training_step(None, 1, 'cpu')\n"
    tests[1].message = "stale gradients"
    cascade.explain(tests, without, nb)
    assert tests[1].message == ("stale gradients (time_training_step calls your time_it, which failed "
                                "test_time_it: fix time_it first)")
