"""Plausible wrong (and differently-written right) implementations, per assignment.

Each module ``tests/variants/<assignment>.py`` defines ``VARIANTS``, a list of ``Variant``. The
grading tests take the reference solution, replace the named solution cells with the variant's
code, grade it, and assert that exactly the tests in ``lost`` fail (an empty set for a correct
alternative).
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Variant:
    name: str                       # short id, e.g. "pad2d_pads_only_one_side"
    replace: dict                   # solution cell grade_id -> the student's whole new cell source
    lost: frozenset = field(default_factory=frozenset)  # test grade_ids that must fail, exactly
    why: str = ""                   # one line: the mistake this variant makes

    @property
    def correct(self) -> bool:
        return not self.lost
