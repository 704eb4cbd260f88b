"""The judge: how a submission's records are compared with the reference's.

Records go the way they go in grading: ``course_grader.kernel.record`` builds the display output
(here captured instead of displayed), ``protocol.take_records`` reads it back from the cell, and
``judge.compare`` (one record) or ``grade._judge`` (the test cells of a run) decides.
"""
from __future__ import annotations

import os

import base64
import io
import math
import re

import nbformat
import numpy as np
import pytest
import torch

from course_grader import kernel, protocol
from course_grader.grading import judge, verdicts
from course_grader.execution import session as runner

# ---------------------------------------------------------------------------- helpers




def outputs_of(*calls) -> list:
    """The display outputs that the ``(name, value, kwargs)`` calls of ``kernel.record`` make."""
    import IPython.display

    shown = []
    original = IPython.display.display
    IPython.display.display = lambda obj, raw=False: shown.append(obj)
    grading = os.environ.get("COURSE_GRADING")
    os.environ["COURSE_GRADING"] = "1"        # as in a grading kernel (record() raises elsewhere)
    try:
        for name, value, kwargs in calls:
            kernel.record(name, value, **kwargs)
    finally:
        IPython.display.display = original
        if grading is None:
            os.environ.pop("COURSE_GRADING", None)
        else:
            os.environ["COURSE_GRADING"] = grading
    return [nbformat.v4.new_output("display_data", data=data) for data in shown]


def take(outputs) -> list:
    cell = nbformat.v4.new_code_cell("")
    cell.outputs = list(outputs)
    return protocol.take_records(cell)


def rec(value, name="check", **kwargs) -> dict:
    """The payload the grader reads back from ``record(name, value, **kwargs)``."""
    [(got_name, payload)] = take(outputs_of((name, value, kwargs)))
    assert got_name == name
    return payload


def check(expected, actual, **kwargs):
    """judge.compare of ``actual`` against a reference that recorded ``expected`` with ``kwargs``."""
    return judge.compare(rec(expected, **kwargs), rec(actual))


# ---------------------------------------------------------------------------- tensors: tolerance


def test_equal_and_close_tensors_pass():
    x = torch.linspace(-1, 1, 7, dtype=torch.float64)
    assert check(x, x.clone()) is None
    assert check(x, x * (1 + 1e-7), rtol=1e-5, atol=1e-8) is None


def test_tolerance_is_the_references_never_the_submissions():
    x = torch.ones(3, dtype=torch.float64)
    loose = rec(x + 0.5, rtol=10.0, atol=10.0)          # the student asks for a huge tolerance
    problem = judge.compare(rec(x, rtol=1e-5, atol=1e-8), loose)
    assert problem and "values differ" in problem and "rtol=1e-05" in problem


def test_rtol_and_atol_bound_the_difference():
    x = torch.tensor([100.0, 0.0], dtype=torch.float64)
    assert check(x, x + torch.tensor([0.9, 0.0], dtype=torch.float64), rtol=1e-2, atol=0) is None
    problem = check(x, x + torch.tensor([1.1, 0.0], dtype=torch.float64), rtol=1e-2, atol=0)
    assert "1 of 2 entries outside the tolerance" in problem
    assert check(x, x + torch.tensor([0.0, 1e-3], dtype=torch.float64), rtol=0, atol=2e-3) is None
    assert "1 of 2 entries" in check(x, x + torch.tensor([0.0, 3e-3], dtype=torch.float64), rtol=0, atol=2e-3)


def test_a_difference_is_described_without_the_expected_values():
    expected = torch.tensor([0.123456, 0.654321], dtype=torch.float64)
    problem = check(expected, torch.tensor([0.5, 0.654321], dtype=torch.float64))
    assert problem == "values differ: 1 of 2 entries outside the tolerance (rtol=1e-05, atol=1e-08)"
    assert "0.1234" not in problem and "0.6543" not in problem and "0.37" not in problem


def test_shape_mismatch_shows_the_submitted_shape_only():
    # the expected shape follows from the hidden input's: not shown (issue 17)
    assert check(torch.zeros(2, 3), torch.zeros(3, 2)) == "wrong shape: got (3, 2)"
    assert check(torch.zeros(6), torch.zeros(1, 6)) == "wrong shape: got (1, 6)"


def test_dtype_mismatch_between_kinds_fails_with_both_dtypes():
    assert check(torch.arange(3), torch.arange(3.0)) == \
        "wrong dtype: expected integers (torch.int64), got torch.float32"
    assert check(torch.arange(3.0), torch.arange(3)) == \
        "wrong dtype: expected floating-point values (torch.float32), got torch.int64"
    assert check(torch.tensor([True, False]), torch.tensor([1, 0], dtype=torch.uint8)) == \
        "wrong dtype: expected torch.bool, got torch.uint8"
    assert check(torch.tensor([1.0, 0.0]), torch.tensor([True, False])) == \
        "wrong dtype: expected torch.float32, got torch.bool"


def test_floating_point_precisions_are_compared_by_value():
    # float32 and float64 are both floating point: the tolerance decides (a test that cares about
    # the dtype records it, e.g. record("...: dtype", str(out.dtype)))
    x = torch.tensor([1.0, 2.5], dtype=torch.float64)
    assert check(x, x.float()) is None
    third = torch.tensor([1 / 3], dtype=torch.float64)
    assert "values differ" in check(third, third.float(), rtol=1e-12, atol=0)


def test_integer_and_bool_tensors_are_compared_exactly():
    assert check(torch.tensor([1, 2, 3]), torch.tensor([1, 2, 3], dtype=torch.int32)) is None
    assert check(torch.tensor([1, 2, 3]), torch.tensor([1, 2, 4])) == "1 of 3 entries differ"
    assert check(torch.tensor([True, False]), torch.tensor([True, True])) == "1 of 2 entries differ"


def test_empty_and_complex_tensors():
    assert check(torch.zeros(0, 3), torch.zeros(0, 3)) is None
    z = torch.tensor([1 + 2j, -1j], dtype=torch.complex128)
    assert check(z, z.clone()) is None
    assert "values differ" in check(z, z + 0.1)


def test_a_tensor_is_expected_where_the_reference_has_one():
    assert check(torch.zeros(2), [0.0, 0.0]) == "expected a tensor, got a value of type list"
    assert check(torch.zeros(2), None) == "expected a tensor, got a value of type NoneType"


# ---------------------------------------------------------------------------- NaN and infinities


def test_nan_where_the_reference_has_nan_matches():
    x = torch.tensor([1.0, math.nan, math.inf, -math.inf], dtype=torch.float64)
    assert check(x, x.clone()) is None


def test_nan_or_inf_where_the_reference_is_finite_fails():
    x = torch.tensor([1.0, 2.0], dtype=torch.float64)
    assert check(x, torch.tensor([1.0, math.nan], dtype=torch.float64)) == "the result holds NaN or infinite values"
    assert check(x, torch.tensor([math.inf, 2.0], dtype=torch.float64)) == "the result holds NaN or infinite values"


def test_finite_where_the_reference_has_nan_fails():
    x = torch.tensor([1.0, math.nan], dtype=torch.float64)
    assert check(x, torch.tensor([1.0, 0.0], dtype=torch.float64)) == \
        "the result holds finite values where NaN or infinite values were expected"


def test_the_wrong_kind_of_non_finite_value_fails():
    x = torch.tensor([1.0, math.inf], dtype=torch.float64)
    assert check(x, torch.tensor([1.0, -math.inf], dtype=torch.float64)) == "NaN or infinite values differ"
    assert check(x, torch.tensor([1.0, math.nan], dtype=torch.float64)) == "NaN or infinite values differ"
    # a finite difference next to matching NaNs is a difference of values
    y = torch.tensor([1.0, math.nan], dtype=torch.float64)
    assert "values differ" in check(y, torch.tensor([2.0, math.nan], dtype=torch.float64))


def test_numbers_nan_and_inf():
    assert check(1.0, math.nan) == "got NaN"
    assert check(math.nan, math.nan) is None
    assert check(math.inf, math.inf) is None
    assert check(math.inf, -math.inf) == "wrong number: got -inf"
    assert check(math.nan, 1.0) == "wrong number: got 1.0"


# ---------------------------------------------------------------------------- numbers


def test_numbers_use_the_references_tolerance():
    assert check(1.0, 1.0 + 1e-9) is None
    assert check(1.0, 1.01) == "wrong number: got 1.01"
    assert check(1.0, 1.01, rtol=0.1) is None
    assert check(0.0, 0.5, rtol=0, atol=1.0) is None


def test_whole_numbers():
    assert check(3, 3) is None
    assert check(3, 3.0) is None                      # an integral float is the same number
    assert check(3, 3.5) == "expected a whole number, got 3.5"
    assert check(3, 4) == "wrong number: got 4"
    assert check(3, torch.tensor(3)) is None          # a one-element tensor counts as its number
    assert check(3, True) == "expected a number, got a value of type bool"
    assert check(3, "3") == "expected a number, got a value of type str"


# ---------------------------------------------------------------------------- classifier accuracy


def _accuracy_check(preds, targets, floor, student_targets=None, student_floor=None):
    expected = rec(targets, targets=targets, min_accuracy=floor)
    actual = rec(preds, targets=student_targets, min_accuracy=student_floor)
    return judge.compare(expected, actual)


def test_accuracy_at_or_above_the_floor_passes():
    targets = torch.arange(10) % 3
    assert _accuracy_check(targets.clone(), targets, 0.9) is None
    preds = targets.clone()
    preds[0] = (preds[0] + 1) % 3                     # 90% right
    assert _accuracy_check(preds, targets, 0.9) is None


def test_accuracy_below_the_floor_fails():
    targets = torch.zeros(10, dtype=torch.long)
    preds = targets.clone()
    preds[:2] = 1                                     # 80% right
    assert _accuracy_check(preds, targets, 0.9) == "test accuracy 80.00% is below the required 90.00%"


def test_accuracy_is_computed_against_the_references_targets_and_floor():
    targets = torch.zeros(10, dtype=torch.long)
    preds = torch.ones(10, dtype=torch.long)
    # the student's own targets and floor are ignored
    assert _accuracy_check(preds, targets, 0.9, student_targets=preds, student_floor=0.0) == \
        "test accuracy 0.00% is below the required 90.00%"


def test_accuracy_needs_integer_labels_of_the_right_shape():
    targets = torch.zeros(10, dtype=torch.long)
    assert _accuracy_check(targets.float(), targets, 0.5) == "expected integer class labels, got floating-point values"
    assert _accuracy_check(targets[:5], targets, 0.5) == "expected predictions of shape (10,), got (5,)"
    assert _accuracy_check([0] * 10, targets, 0.5) == "expected a tensor of predicted labels, got a value of type list"


def test_accuracy_with_a_broken_reference_says_so():
    expected = rec(torch.zeros(3, dtype=torch.long), min_accuracy=0.5)     # no targets recorded
    assert "reference" in judge.compare(expected, rec(torch.zeros(3, dtype=torch.long)))


# ---------------------------------------------------------------------------- bounds


def test_at_least_and_at_most():
    bounds = rec(0.5, at_least=0.2, at_most=0.8)
    assert judge.compare(bounds, rec(0.2)) is None                     # bounds are inclusive
    assert judge.compare(bounds, rec(0.8)) is None
    assert judge.compare(bounds, rec(torch.tensor([0.6]))) is None     # a one-element tensor
    assert judge.compare(bounds, rec(0.1)) == "got 0.1, below the required minimum 0.2"
    assert judge.compare(bounds, rec(0.9)) == "got 0.9, above the allowed maximum 0.8"
    assert judge.compare(rec(1.0, at_least=0.5), rec(1e9)) is None     # one-sided
    assert judge.compare(rec(1.0, at_most=2.0), rec(-1e9)) is None


def test_bounds_need_a_number():
    bounds = rec(0.5, at_least=0.2, at_most=0.8)
    assert judge.compare(bounds, rec(True)) == "expected a number, got a value of type bool"
    assert judge.compare(bounds, rec(math.nan)) == "expected a number, got NaN"
    assert judge.compare(bounds, rec("0.5")) == "expected a number, got a value of type str"
    assert "tensor of shape (2,)" in judge.compare(bounds, rec(torch.tensor([0.5, 0.5])))


def test_bounds_are_the_references():
    assert judge.compare(rec(0.5, at_least=0.4), rec(0.1, at_least=0.0)) == \
        "got 0.1, below the required minimum 0.4"


# ---------------------------------------------------------------------------- other types


def test_lists_and_tuples_item_by_item():
    assert check([1, 2.0, "a"], [1, 2.0 + 1e-9, "a"]) is None
    assert check((1, 2), [1, 2]) is None                   # a tuple and a list hold the same items
    assert check([1, 2, 3], [1, 2]) == "wrong number of items: got 2"
    assert check([1, [2, 3]], [1, [2, 4]]) == "wrong number at [1][1]: got 4"
    assert check([1, 2], torch.tensor([1, 2])) == "expected a list, got a torch.int64 tensor of shape (2,)"


def test_dicts_by_key():
    assert check({"a": 1, "b": [torch.ones(2)]}, {"b": [torch.ones(2)], "a": 1}) is None
    # keys are counted, never shown: the submission's could carry a hidden test's source, the
    # reference's a hidden input
    assert check({"a": 1, "b": 2}, {"a": 1, "c": 2}) == "1 missing key; 1 unexpected key"
    assert check({"a": 1}, {"a": 1, "c": 2, "d": 3}) == "2 unexpected keys"
    assert check({"a": {"x": 1.0}}, {"a": {"x": 2.0}}) == "wrong number at ['a']['x']: got 2.0"
    assert check({"a": 1}, [("a", 1)]) == "expected a dict, got a value of type list"


def test_strings_bools_and_none():
    assert check("relu", "relu") is None
    # neither text is shown: the submission's (code a hidden test runs could fill it with the
    # test's source) nor the reference's (the expected value)
    assert check("relu", "tanh") == "got a different text"
    long_text = "x" * 60
    assert check(long_text, long_text + "y") == "got a different text"      # never shown
    assert check(long_text, "relu") == "got a different text"
    assert check(True, True) is None
    assert check(True, 1) == "expected True, got a value of type int"
    assert check(False, None) == "expected False, got None"
    assert check(None, None) is None
    assert check(None, 0) == "expected None, got a value of type int"


def test_numpy_values_are_read_as_plain_values():
    assert check(torch.tensor([1.5, 2.5], dtype=torch.float64), np.array([1.5, 2.5])) is None
    assert check(torch.tensor([1, 2]), np.array([1, 2], dtype=np.int64)) is None
    assert check(2.5, np.float32(2.5)) is None
    assert check(7, np.int64(7)) is None
    assert check(True, np.bool_(True)) is None
    assert check(np.array([[1.0, 2.0]]), torch.tensor([[1.0, 2.0]], dtype=torch.float64)) is None
    assert check(np.float64(0.5), 0.5) is None


def test_sizes_dtypes_sets_and_unsupported_values():
    assert check((2, 3), torch.Size([2, 3])) is None
    assert check(str(torch.float64), torch.float64) is None
    assert check({3, 1, 2}, {2, 3, 1}) is None
    assert check([1, 2], {1, 2}) is None                    # a set is recorded as its sorted items

    class Thing:
        pass

    assert rec(Thing())["value"] == "<unsupported value of type Thing>"
    assert check("<unsupported value of type Thing>", Thing()) is None


# ---------------------------------------------------------------------------- records of a test cell


def _run(records_by_cell: dict, statuses: dict | None = None, fatal: str = ""):
    """A RunResult of test cells ``t0``, ``t1``, ... (2 points each) holding the given records."""
    nb = nbformat.v4.new_notebook()
    cells = {}
    for index, (gid, records) in enumerate(records_by_cell.items()):
        cell = nbformat.v4.new_code_cell("pass")
        cell.metadata["nbgrader"] = {"grade": True, "solution": False, "locked": True, "points": 2,
                                     "grade_id": gid, "schema_version": 3, "task": False}
        nb.cells.append(cell)
        status, ename, evalue = (statuses or {}).get(gid, ("ok", "", ""))
        cells[index] = runner.CellResult(index=index, status=status, ename=ename, evalue=evalue,
                                         records=list(records))
    return runner.RunResult(notebook=nb, cells=cells, fatal=fatal)


def _records(*calls) -> list:
    return take(outputs_of(*[(name, value, {}) for name, value in calls]))


REFERENCE = {"t0": _records(("a", 1), ("b", [1, 2])), "t1": _records(("c", torch.ones(2)))}


def _judged(records_by_cell, **kwargs) -> dict:
    tests, _ = verdicts._judge(_run(records_by_cell, **kwargs), REFERENCE, kwargs.get("fatal", ""))
    return {t.name: (t.passed, t.points, t.message) for t in tests}


def test_matching_records_earn_the_points():
    judged = _judged({"t0": _records(("a", 1), ("b", [1, 2])), "t1": _records(("c", torch.ones(2)))})
    assert judged == {"t0": (True, 2, ""), "t1": (True, 2, "")}


def test_a_missing_record_fails_its_test_only():
    judged = _judged({"t0": _records(("a", 1)), "t1": _records(("c", torch.ones(2)))})
    assert judged["t0"] == (False, 0, "b: no result was recorded (the check did not run to this point)")
    assert judged["t1"] == (True, 2, "")


def test_extra_records_are_ignored():
    judged = _judged({"t0": _records(("debug", 5), ("a", 1), ("b", [1, 2])),
                      "t1": _records(("c", torch.ones(2)), ("a", 99))})
    assert judged == {"t0": (True, 2, ""), "t1": (True, 2, "")}


def test_a_name_recorded_twice_fails():
    # the notebook's own code records the check's name first with a value of its choosing
    judged = _judged({"t0": _records(("a", 1), ("a", 1), ("b", [1, 2])),
                      "t1": _records(("c", torch.ones(2)), ("c", torch.zeros(2)))})
    assert judged["t0"] == (False, 0, f"a: {judge.REPEATED}")
    assert judged["t1"] == (False, 0, f"c: {judge.REPEATED}")


def test_several_problems_are_listed():
    judged = _judged({"t0": _records(("a", 2), ("b", [1])), "t1": []})
    assert judged["t0"] == (False, 0, "a: wrong number: got 2; b: wrong number of items: got 1")


def test_a_cell_that_failed_or_did_not_run():
    judged = _judged({"t0": [], "t1": []},
                     statuses={"t0": ("error", "AssertionError", "pad2d: expected shape (1, 2)"),
                               "t1": ("not_run", "", "")},
                     fatal="the kernel died while running cell 0")
    assert judged["t0"] == (False, 0, "AssertionError: pad2d: expected shape (1, 2)")
    assert judged["t1"] == (False, 0, "not run: the kernel died while running cell 0")


def test_a_test_without_hidden_records_passes_when_its_cell_ran():
    tests, _ = verdicts._judge(_run({"t9": []}), {}, "")
    assert [(t.name, t.passed, t.points) for t in tests] == [("t9", True, 2)]


# ---------------------------------------------------------------------------- unreadable records


def _raw_output(data) -> nbformat.NotebookNode:
    return nbformat.v4.new_output("display_data", data={kernel.RECORD_MIME: data, "text/plain": "x"})


def _encoded(obj) -> str:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


class _Evil:
    def __reduce__(self):
        return (print, ("unpickled code ran",))


@pytest.mark.parametrize("data, why", [
    ({"name": "a", "data": "not base64 !!!"}, "Error"),
    ({"name": "a", "data": base64.b64encode(b"not a torch file").decode()}, "record not in torch's zip format"),
    ({"name": "a", "data": _encoded([1, 2, 3])}, "ValueError"),            # not a dict with a value
    ({"name": "a", "data": _encoded({"name": "a", "value": _Evil()})}, "record with a value of another type"),
    ({"name": "a"}, "KeyError"),
    ("just a string", "TypeError"),
])
def test_an_unreadable_record_matches_nothing(data, why, capsys):
    [(name, payload)] = take([_raw_output(data)])
    assert name == ("a" if isinstance(data, dict) else "?")
    assert set(payload) == {"error"} and payload["error"].startswith("unreadable record (")
    assert why in payload["error"]
    assert "unpickled code ran" not in capsys.readouterr().out
    assert judge.compare(rec(1), payload) == payload["error"]
    judged = _judged({"t0": [(name, payload), ("b", rec([1, 2]))], "t1": _records(("c", torch.ones(2)))})
    if name == "a":
        assert judged["t0"] == (False, 0, f"a: {payload['error']}")
    else:
        assert judged["t0"] == (False, 0, "a: no result was recorded (the check did not run to this point)")
    assert judged["t1"] == (True, 2, "")


def test_record_outputs_are_removed_from_the_cell_and_others_kept():
    cell = nbformat.v4.new_code_cell("")
    printed = nbformat.v4.new_output("stream", name="stdout", text="hello\n")
    cell.outputs = [printed] + outputs_of(("a", 1, {}), ("b", 2, {}))
    records = protocol.take_records(cell)
    assert [name for name, _ in records] == ["a", "b"]
    assert cell.outputs == [printed]


# ---------------------------------------------------------------------------- hostile values: the judge never raises


def test_huge_integers():
    assert check(3, 10**400) == "wrong number: got an integer of about 401 digits"
    assert check(3.0, -10**400) == "wrong number: got an integer of about 401 digits"
    assert check(10**400, 10**400) is None
    assert check(3, 2**70) == "wrong number: got an integer of about 22 digits"
    assert check(3, 2**60) == f"wrong number: got {2**60}"
    bounds = rec(0.5, at_least=0.2, at_most=0.8)
    assert judge.compare(bounds, {"value": 10**400}) == "got inf, above the allowed maximum 0.8"
    assert judge.compare(bounds, {"value": -10**400}) == "got -inf, below the required minimum 0.2"
    assert judge.compare(rec(1.0, at_least=0.5), {"value": 10**5000}) is None


def test_nan_and_infinities_in_every_kind_of_check():
    assert check(1, math.nan) == "expected a whole number, got nan"
    assert check(1.0, math.inf) == "wrong number: got inf"
    assert judge.compare(rec(0.5, at_most=0.8), rec(math.inf)) == "got inf, above the allowed maximum 0.8"
    assert judge.compare(rec(0.5, at_least=0.2), rec(-math.inf)) == "got -inf, below the required minimum 0.2"
    assert check([1.0], [math.nan]) == "got NaN at [0]"
    assert check(torch.ones(2), torch.tensor([math.inf, math.nan])) == "the result holds NaN or infinite values"


def _nested(depth: int, leaf):
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


def test_deeply_nested_values():
    deep = _nested(100_000, 1)
    assert judge.compare(rec([1]), {"value": deep}) == "expected a number at [0], got a value of type list"
    assert judge.compare(rec(1), {"value": deep}) == "expected a number, got a value of type list"
    assert judge.compare(rec("relu"), {"value": deep}) == "expected a text, got a value of type list"
    deep_dict = {}
    d = deep_dict
    for _ in range(100_000):
        d["a"] = {}
        d = d["a"]
    assert judge.compare(rec({"a": 1}), {"value": deep_dict}) == \
        "expected a number at ['a'], got a value of type dict"
    assert judge.compare(rec(_nested(3, 1.0)), {"value": _nested(3, 1.0)}) is None


def test_unexpected_types_and_mismatched_kinds():
    class Odd:
        def __eq__(self, other):
            raise RuntimeError("boom")

        def __float__(self):
            raise RuntimeError("boom")

    for expected in (1, 1.5, "relu", True, None, [1], {"a": 1}, torch.ones(2)):
        for value in (Odd(), b"bytes", 1 + 2j, {1, 2}, object(), torch.ones(2, dtype=torch.complex64),
                      torch.empty(0), [Odd()], {"a": Odd()}):
            problem = judge.compare(rec(expected), {"value": value})
            assert problem is None or (isinstance(problem, str) and len(problem) <= judge.MAX_MESSAGE)
    assert check(torch.ones(2), torch.ones(2, dtype=torch.complex64)) == \
        "wrong dtype: expected real values (torch.float32), got torch.complex64"
    accuracy = rec(torch.zeros(3, dtype=torch.long), targets=torch.zeros(3, dtype=torch.long), min_accuracy=0.5)
    assert judge.compare(accuracy, {"value": Odd()}) == "expected a tensor of predicted labels, got a value of type Odd"
    odd_tensor = protocol.Tensor(np.array([Odd(), Odd(), Odd()], dtype=object), "torch.int64")
    assert judge.compare(accuracy, {"value": odd_tensor}).startswith("the recorded value could not be compared (")
    # a torch tensor never arrives (records are decoded without torch): it is just another type
    assert judge.compare(accuracy, {"value": torch.zeros(3, dtype=torch.long)}) == \
        "expected a tensor of predicted labels, got a value of type Tensor"
    assert judge.compare(rec(1), "not a record") == "unreadable record (not a record)"


def test_shapes_with_many_dimensions_are_not_spelled_out():
    # an empty tensor's shape could otherwise carry any numbers (text) into the message
    many = torch.empty((0,) + (104, 105, 100, 100, 101, 110, 32, 116, 101, 115, 116)[:6] + (1,) * 5)
    assert check(torch.zeros(2), many) == "wrong shape: got a shape of 12 dimensions"


def test_an_error_key_in_a_submitted_record_never_reaches_a_message():
    hidden = "assert pad2d(x, 1).shape == (1, 1, 4, 4)  # hidden test source"
    assert judge.compare(rec(1), {"error": hidden}) == "unreadable record"
    assert judge.compare(rec(1), {"error": hidden, "value": 1}) is None       # the key is dropped
    assert judge.compare(rec(1), {"error": hidden, "value": 2}) == "wrong number: got 2"
    assert judge.compare(rec(1), {"error": "unreadable record (ValueError)"}) == "unreadable record (ValueError)"
    assert judge.compare(rec(1), {"error": "unreadable record (" + hidden + ")"}) == "unreadable record"
    assert judge.compare(rec(1), {"error": ["unreadable record (ValueError)"]}) == "unreadable record"


def test_unexpected_keys_of_a_submitted_record_are_dropped():
    assert judge.compare(rec(1), {"value": 1, "message": "x" * 1000, "min_accuracy": 0.0}) is None
    assert judge.compare(rec({"a": 1}), {"value": {"a": 1}, "extra": 1}) is None


def test_messages_are_capped():
    long_name = "k" * 400
    problem = judge.compare(rec({long_name: 1}), {"value": {long_name: 2}})
    assert len(problem) == judge.MAX_MESSAGE and problem.endswith("\u2026")


def test_submitted_texts_and_keys_never_reach_a_message():
    secret = "SECRET hidden test source"
    for expected, value in [("relu", secret), ("x" * 60, secret[:20]), ({"a": 1}, {secret: 1}),
                            ([1], [secret]), (1, secret), (torch.ones(1), secret), (None, secret),
                            ({"a": "b"}, {"a": secret})]:
        problem = judge.compare(rec(expected), rec(value))
        assert problem and "SECRET" not in problem


# ------------------------------------------------------------- nothing lets the expected value out

LEAK_CASES = [   # (expected, submitted): one of each kind a record can hold, a wrong answer each
    (torch.tensor([1.6667], dtype=torch.float64), torch.tensor([1.0], dtype=torch.float64)),
    (torch.tensor([[0.25, 1.6667]]), torch.tensor([[0.25, 1.0]])),
    (torch.tensor([31, 77]), torch.tensor([31, 55])),
    (torch.zeros(5, 7), torch.zeros(7, 5)),
    (torch.tensor([True, False]), torch.tensor([True, True])),
    (1.6667, 1.0), (37, 36), (41, 12.5),
    ("kernel_size=5", "kernel_size=3"), ("relu", 3),
    ([5, 9, 13], [5, 9]), ((2.5, 4.75), (2.5, 4.0)),
    ({"conv9": 11, "fc7": 23}, {"conv9": 11}), ({"w": torch.tensor([4.25])}, {"w": torch.tensor([4.0])}),
]


def _leaks(expected, submitted) -> list:
    """Renderings of the expected value, and of its difference from the submitted one, that a
    message must not contain."""
    if isinstance(expected, torch.Tensor):
        items = [str(tuple(expected.shape))] + [f"{v:g}" for v in expected.flatten().tolist()
                                                if v not in (0, 1) and not isinstance(v, bool)]
        if isinstance(submitted, torch.Tensor) and submitted.shape == expected.shape \
                and expected.dtype != torch.bool:
            items += [f"{abs(d):.3g}" for d in (expected.double() - submitted.double()).flatten().tolist() if d]
        return items
    if isinstance(expected, str):
        return [expected]
    if isinstance(expected, (int, float)):
        return [f"{expected:g}", repr(expected)] + (
            [f"{abs(expected - submitted):.3g}"] if isinstance(submitted, (int, float)) else [])
    if isinstance(expected, (list, tuple)):
        return [f"{len(expected)} items"] + [x for e in expected for x in _leaks(e, None)]
    if isinstance(expected, dict):
        return [repr(k) for k in expected if k not in (submitted or {})] + \
               [x for k, e in expected.items() for x in _leaks(e, (submitted or {}).get(k))]
    return []


@pytest.mark.parametrize("expected, submitted", LEAK_CASES, ids=lambda v: type(v).__name__)
def test_no_message_lets_the_expected_value_be_reconstructed(expected, submitted):
    """Feedback on a hidden test names the property that failed, never the expected value, a
    difference from which it follows, or a hidden input such as a shape (issue 17)."""
    problem = check(expected, submitted)
    assert problem, "a wrong answer must fail"
    shown = [leak for leak in _leaks(expected, submitted)
             if re.search(rf"(?<![\w.]){re.escape(leak)}(?![\w])", problem)]
    assert shown == [], f"{problem!r} shows {shown}"
