# A new assignment, written by `course new __NAME__`: one part with a stub, a visible test and
# hidden tests, a figure and a reflection, in the shape every notebook of the course has. Cells
# are separated by "# %%" lines: "# %% [markdown]", "# %% solution <grade_id>", "# %% test
# <grade_id> <points>", or "# %%" for an ordinary cell. Replace the example with your own.
# %% [markdown]
# # __TITLE__
#
# One paragraph on what this assignment is about and why it matters. (This is the scaffold that
# `course new` writes; docs/authoring.md says what every part of it is for.)
#
# **Learning goals**
# - scale a tensor by a number, keeping its shape and dtype;
# - read a test's message and fix what it names.
#
# **Grading** (4 points: 3 autograded, 1 for the reflection, graded by hand): hidden tests call
# your function on inputs you have not seen; the visible tests below show the common mistakes.
# %%
import torch
import matplotlib.pyplot as plt

from course_utils import plots, seed

seed.seed_everything(0)
# %% [markdown]
# ## Part 1: scaling a tensor (3 points)
#
# Write `scale(x, factor)`: every entry of `x` multiplied by `factor`, with the shape and dtype of
# `x`.
#
# - `test_scale` (2 points): the values, on tensors of other shapes and factors.
# - `test_scale_dtype` (1 point): a float64 input gives a float64 output.
# %% solution scale
def scale(x, factor):
    """Multiply a tensor by a number.

    Inputs:
    - x: a tensor of any shape.
    - factor: a Python number.

    Returns:
    - a tensor of the shape and dtype of x, every entry multiplied by factor.
    """
    ### BEGIN SOLUTION
    return x * factor
    ### END SOLUTION
# %% test test_scale 2
# Visible test: a small example.
out = scale(torch.tensor([1.0, -2.0, 0.5]), 4)
assert isinstance(out, torch.Tensor), f"scale: expected a tensor, got {type(out).__name__}"
assert out.tolist() == [4.0, -8.0, 2.0], f"scale([1, -2, 0.5], 4): expected [4, -8, 2], got {out.tolist()}"
print("scale: visible test passed")
### BEGIN HIDDEN TESTS
from course_grader.kernel import record

g = torch.Generator().manual_seed(1)
x = torch.randn(3, 4, generator=g, dtype=torch.float64)
record("scale: a 3x4 tensor times -2.5", scale(x, -2.5), rtol=1e-12, atol=0)
record("scale: a 2x1x5 tensor times 0", scale(torch.randn(2, 1, 5, generator=g), 0), rtol=0, atol=0)
### END HIDDEN TESTS
# %% test test_scale_dtype 1
# Visible test: a float64 input gives a float64 output.
out = scale(torch.ones(2, dtype=torch.float64), 3)
assert out.dtype == torch.float64, f"scale: a float64 input should give a float64 output, got {out.dtype}"
print("scale: visible dtype test passed")
### BEGIN HIDDEN TESTS
from course_grader.kernel import record
from course_grader.probes import outcome

record("scale: float64 input gives a float64 output", outcome(lambda: scale(torch.zeros(3, 2, dtype=torch.float64), 7)))
record("scale: float32 input gives a float32 output", outcome(lambda: scale(torch.zeros(4), 0.5)))
### END HIDDEN TESTS
# %% [markdown]
# A figure: what `scale` does to a line of numbers.
# %%
xs = torch.linspace(-1, 1, 21)
fig = plots.plot_lines(xs, {f"factor {f}": scale(xs, f) for f in (0.5, 1, 2)}, "x", "scale(x, factor)",
                       "Scaling a tensor")
plt.show()
# %% [markdown]
# ## Reflection (1 point)
#
# Graded by hand by your instructor: answer in a few sentences in the cell below (a cell left as
# it is gets 0).
#
# 1. What would change if `scale` had to keep integer tensors integer for any factor?
# %% [markdown] answer reflection 1
# ### BEGIN SOLUTION
# **What a full answer says** (for the grader; students see "YOUR ANSWER HERE"): a factor such as
# 0.5 makes fractions, so the result must be rounded (say how) or the dtype must change; the
# function would have to choose one and document it. *No point:* "nothing changes".
# ### END SOLUTION
