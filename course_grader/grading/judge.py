"""Compare a submission's records with the reference solution's, in the grader's own process.

Only the reference record decides how values are compared (tolerances, accuracy floors), so
nothing the student's code sets can loosen a check. Messages describe the difference, never the
expected value or the hidden test's code.

The submission's record comes from code the student controls, so the judge trusts nothing in it:
it never raises, whatever the value (huge integers, NaN, nesting, unexpected types), and its
messages are built from the reference's names and from sizes, counts and numbers of bounded
length, never from the submission's texts or keys (which code run by a hidden test could fill
with that test's source). Keys other than those ``kernel.record`` writes are dropped; an
``"error"`` key is only believed in the grader's own "unreadable record (...)" form. Each message
is at most :data:`MAX_MESSAGE` characters.
"""
from __future__ import annotations

import math
import re

import numpy as np

from . import labels
from ..protocol import Tensor


#: Why a check fails when its record name was recorded more than once in the test cell.
REPEATED = "recorded more than once (the test records it once: the notebook's code recorded it too)"
#: The longest message one comparison returns (characters).
MAX_MESSAGE = 300
#: The keys of a record that ``kernel.record`` writes; anything else in a submission's record is dropped.
RECORD_KEYS = frozenset({"name", "value", "rtol", "atol", "targets", "min_accuracy", "at_least", "at_most"})
#: The grader's own error for a record it could not decode (``runner._take_records``).
_GRADER_ERROR = re.compile(r"unreadable record \((?:[A-Za-z_][\w.]{0,60}|record [\w ,.']{1,120})\)")
#: Tensors with more dimensions than this are described by their number of dimensions only.
_MAX_SHOWN_DIMS = 8


def compare(expected: dict, actual: dict | None) -> str | None:
    """None when ``actual`` matches the reference record ``expected``, else why not (at most
    MAX_MESSAGE characters). Never raises on anything in ``actual``."""
    try:
        problem = _compare(expected, actual)
    except Exception as e:      # RecursionError, OverflowError, errors of numpy on odd tensors
        problem = f"the recorded value could not be compared ({type(e).__name__})"
    if problem is not None and len(problem) > MAX_MESSAGE:
        problem = problem[:MAX_MESSAGE - 1] + "\u2026"
    return problem


def _compare(expected: dict, actual) -> str | None:
    if actual is None:
        return "no result was recorded (the check did not run to this point)"
    if not isinstance(actual, dict):
        return "unreadable record (not a record)"
    if "error" in actual:
        error = actual["error"]
        if set(actual) == {"error"}:       # the grader's own mark for an undecodable record
            return error if isinstance(error, str) and _GRADER_ERROR.fullmatch(error) else "unreadable record"
    actual = {k: v for k, v in actual.items() if k in RECORD_KEYS}
    if expected.get("min_accuracy") is not None:
        return _accuracy(expected, actual)
    if expected.get("at_least") is not None or expected.get("at_most") is not None:
        return _bounds(expected, actual)
    return _same(expected["value"], actual.get("value"), expected["rtol"], expected["atol"], "")


def _accuracy(expected: dict, actual: dict) -> str | None:
    targets, preds = expected.get("targets"), actual.get("value")
    if isinstance(targets, str):       # a label set the grader loads itself (labels.py)
        try:
            targets = labels.named(targets)
        except labels.LabelSetError as error:
            return f"the course's check is broken: {error}"
    if not isinstance(targets, Tensor):
        return "the reference recorded no tensor of targets: the course's check is broken"
    if not isinstance(preds, Tensor):
        return f"expected a tensor of predicted labels, got {_kind(preds)}"
    if preds.shape != targets.shape:
        return f"expected predictions of shape {tuple(targets.shape)}, got {_shape(preds)}"
    if preds.is_floating_point() or preds.is_complex():
        return "expected integer class labels, got floating-point values"
    accuracy = float(np.mean(_long(preds) == _long(targets))) if preds.numel() else math.nan
    floor = expected["min_accuracy"]
    if accuracy < floor:
        return f"test accuracy {accuracy:.2%} is below the required {floor:.2%}"
    return None


def _bounds(expected: dict, actual: dict) -> str | None:
    value = actual.get("value")
    if isinstance(value, Tensor) and value.numel() == 1:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"expected a number, got {_kind(value)}"
    value = _as_float(value)
    if math.isnan(value):
        return "expected a number, got NaN"
    low, high = expected.get("at_least"), expected.get("at_most")
    if low is not None and value < low:
        return f"got {value:.4g}, below the required minimum {low:.4g}"
    if high is not None and value > high:
        return f"got {value:.4g}, above the allowed maximum {high:.4g}"
    return None


def _as_float(value) -> float:
    """A number as a float; integers too large for one become an infinity of their sign."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def _number(value) -> str:
    """A submitted number, in a bounded number of characters."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        return f"an integer of about {int(value.bit_length() * math.log10(2)) + 1} digits"
    return repr(value) if isinstance(value, (int, float)) else "a number"


def _long(value: Tensor):
    """A tensor's values as int64 (torch's ``.long()``)."""
    return value.values.astype(np.int64)


def _shape(value: Tensor) -> str:
    if value.dim() > _MAX_SHOWN_DIMS:
        return f"a shape of {value.dim()} dimensions"
    return str(tuple(value.shape))


def _kind(value) -> str:
    if isinstance(value, Tensor):
        return f"a {value.dtype} tensor of shape {_shape(value)}"
    return f"a value of type {type(value).__name__[:40]}"


def _same(exp, act, rtol: float, atol: float, where: str) -> str | None:
    at = f" at {where}" if where else ""
    if isinstance(exp, Tensor):
        if not isinstance(act, Tensor):
            return f"expected a tensor{at}, got {_kind(act)}"
        if tuple(act.shape) != tuple(exp.shape):
            return f"wrong shape{at}: got {_shape(act)}"
        if act.is_complex() and not exp.is_complex():
            return f"wrong dtype{at}: expected real values ({exp.dtype}), got {act.dtype}"
        if exp.dtype == "torch.bool" or act.dtype == "torch.bool":
            if exp.dtype != act.dtype:
                return f"wrong dtype{at}: expected {exp.dtype}, got {act.dtype}"
            wrong = int(np.count_nonzero(exp.values != act.values))
            return f"{wrong} of {exp.numel()} entries differ{at}" if wrong else None
        if not (exp.is_floating_point() or exp.is_complex()):
            if act.is_floating_point() or act.is_complex():
                return f"wrong dtype{at}: expected integers ({exp.dtype}), got {act.dtype}"
            wrong = int(np.count_nonzero(_long(exp) != _long(act)))
            return f"{wrong} of {exp.numel()} entries differ{at}" if wrong else None
        if not (act.is_floating_point() or act.is_complex()):
            return f"wrong dtype{at}: expected floating-point values ({exp.dtype}), got {act.dtype}"
        if exp.numel() == 0:
            return None
        wide = np.complex128 if exp.is_complex() else np.float64
        e, a = exp.values.astype(wide), act.values.astype(wide)
        if not np.array_equal(np.isfinite(a), np.isfinite(e)):
            if not np.isfinite(a).all():
                return f"the result holds NaN or infinite values{at}"
            return f"the result holds finite values where NaN or infinite values were expected{at}"
        close = _isclose(a, e, rtol, atol)
        if close.all():
            return None
        infinite = np.isinf(e)
        if not np.array_equal(np.isnan(a), np.isnan(e)) or not np.array_equal(a[infinite], e[infinite]):
            return f"NaN or infinite values differ{at}"
        bad = int(np.count_nonzero(~close))
        return (f"values differ{at}: {bad} of {e.size} entries outside the tolerance "
                f"(rtol={rtol:g}, atol={atol:g})")
    if isinstance(exp, bool) or exp is None or isinstance(exp, str):
        if type(act) is not type(exp) or act != exp:
            if isinstance(exp, str) and isinstance(act, str):     # the expected text is not shown
                return f"got a different text{at}"
            return f"expected {_describe(exp)}{at}, got {_describe_submitted(act)}"
        return None
    if isinstance(exp, (int, float)):
        if isinstance(act, Tensor) and act.numel() == 1:
            act = act.item()
        if isinstance(act, bool) or not isinstance(act, (int, float)):
            return f"expected a number{at}, got {_kind(act)}"
        if isinstance(exp, int) and not isinstance(act, int) and not float(act).is_integer():
            return f"expected a whole number{at}, got {_number(act)}"
        if isinstance(exp, int) and isinstance(act, int) and exp == act:
            return None
        e, a = _as_float(exp), _as_float(act)
        if math.isnan(e) or math.isinf(e):     # a NaN or an infinity is expected: only it matches
            return None if (math.isnan(e) and math.isnan(a)) or a == e else f"wrong number{at}: got {_number(act)}"
        if math.isnan(a):
            return f"got NaN{at}"
        if abs(a - e) <= atol + rtol * abs(e):
            return None
        return f"wrong number{at}: got {_number(act)}"
    if isinstance(exp, (list, tuple)):
        if not isinstance(act, (list, tuple)):
            return f"expected a {type(exp).__name__}{at}, got {_kind(act)}"
        if len(act) != len(exp):
            return f"wrong number of items{at}: got {len(act)}"
        for i, (e, a) in enumerate(zip(exp, act)):
            problem = _same(e, a, rtol, atol, f"{where}[{i}]")
            if problem:
                return problem
        return None
    if isinstance(exp, dict):
        if not isinstance(act, dict):
            return f"expected a dict{at}, got {_kind(act)}"
        if set(act) != set(exp):     # the reference's keys are named, the submission's counted
            missing, extra = len(set(exp) - set(act)), len(set(act) - set(exp))
            parts = ([f"{missing} missing key{'s' if missing > 1 else ''}"] if missing else []) + (
                [f"{extra} unexpected key{'s' if extra > 1 else ''}"] if extra else [])
            return f"{'; '.join(parts)}{at}"
        for key in exp:
            problem = _same(exp[key], act[key], rtol, atol, f"{where}[{key!r}]")
            if problem:
                return problem
        return None
    return f"cannot compare values of type {type(exp).__name__}"


def _isclose(a, e, rtol: float, atol: float):
    """torch.isclose(a, e, rtol, atol, equal_nan=True) for float64 or complex128 arrays:
    |a - e| <= atol + rtol * |e| where both are finite, equal infinities, NaN with NaN."""
    with np.errstate(all="ignore"):
        close = np.abs(a - e) <= atol + rtol * np.abs(e)
    finite = np.isfinite(a) & np.isfinite(e)
    return np.where(finite, close, (a == e) | (np.isnan(a) & np.isnan(e)))


def _describe_submitted(value) -> str:
    """A submitted value, without its text: only None and bools are shown as they are."""
    if isinstance(value, str):
        return "a different text"
    if isinstance(value, (bool, type(None))):
        return repr(value)
    return _kind(value)


def _describe(value) -> str:
    """An expected value, as far as it may be shown: True/False/None (the property checked) and
    the kind of anything else, never a text, a number or a shape."""
    if isinstance(value, str):
        return "a text"
    if isinstance(value, (bool, type(None))):
        return repr(value)
    return _kind(value)
