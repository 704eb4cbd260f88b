"""Wrong and differently-written right answers to small_cnn (written by `course new`): each wrong
variant must lose exactly the tests in its set, each correct alternative none (empty set). See
tests/variants/__init__.py and docs/authoring.md ("Variants"). Replace these with the mistakes
students really make in your assignment."""
from tests.variants import Variant

SCALE_ADDS = '''def scale(x, factor):
    return x + factor
'''

SCALE_FLOAT32 = '''def scale(x, factor):
    return (x * factor).float()
'''

SCALE_TRUNCATES_FACTOR = '''def scale(x, factor):
    return x * int(factor)
'''

SCALE_TORCH_MUL = '''def scale(x, factor):
    return torch.mul(x, factor)
'''

VARIANTS = [
    Variant("scale_adds", {"scale": SCALE_ADDS}, frozenset({"test_scale"}),
            "adds the factor instead of multiplying"),
    Variant("scale_float32", {"scale": SCALE_FLOAT32}, frozenset({"test_scale", "test_scale_dtype"}),
            "returns float32 whatever the input's dtype"),
    Variant("scale_truncates_factor", {"scale": SCALE_TRUNCATES_FACTOR}, frozenset({"test_scale"}),
            "int(factor): right for the whole factors of the visible test only"),
    Variant("scale_torch_mul", {"scale": SCALE_TORCH_MUL}, frozenset(), "torch.mul: the same, written otherwise"),
]

#: a wrong answer that passes every visible test and loses exactly one hidden test: the slow Colab
#: test runs it as a student would and checks the feedback (docs/authoring.md)
SUBTLE_VARIANT = "scale_truncates_factor"
