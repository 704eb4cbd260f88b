"""Snapshots of a grading kernel's state, so that one kernel can grade many variants of a notebook.

The variant harness (``tests/variants/harness.py``) sends this file's source into the grading
kernel, where it becomes the module ``_course_variant_state`` (the course folder is not visible
inside the sandbox, so it imports only the standard library, torch, numpy and matplotlib).

``snapshot(key)``, taken just before a cell during the reference run, keeps: the user namespace
(which object each name is bound to), the random number generators, torch's global switches and
the open figures, and a fingerprint of everything reachable from the namespace that code can
change in place (tensors by version counter, modules' modes and hooks, generators, arrays, ...).

``restore(key)`` puts the bindings, generators, switches and figures back as they were, then
compares the fingerprint with the snapshot's: what still differs (a tensor changed in place, a
library function replaced, a figure closed) cannot be put back, and is returned, so the harness
starts a fresh kernel instead of grading in a state the real grader would never see.
"""
import hashlib
import random
import re
import sys
import types

_snapshots = {}
_IPYTHON_NAMES = re.compile(r"_+|_i+|_i?\d+|_[iod]h|In|Out|exit|quit|get_ipython|__\w+__")
#: Modules whose functions student code could replace (``torch.allclose = ...``).
_LIBRARIES = ("builtins", "random", "math", "torch", "torch.nn", "torch.nn.functional",
              "torch.nn.init", "torch.optim", "torch.utils.data", "torch.linalg", "numpy",
              "numpy.random", "matplotlib.pyplot")
# (not course_grader.kernel: the grader installs a fresh one before every test cell)
#: Builtins the kernel itself rebinds at every execution (stdin forwarding).
_KERNEL_BUILTINS = {"input", "raw_input", "getpass", "get_ipython"}
_MAX_DEPTH = 4
_MAX_ITEMS = 100
_MAX_NODES = 20000
_SCALARS = (type(None), bool, int, float, complex, str, bytes, range, type, types.ModuleType,
            types.FunctionType, types.BuiltinFunctionType, types.MethodType)


def _ns():
    from IPython import get_ipython

    return get_ipython().user_ns


def _user_names(ns):
    from IPython import get_ipython

    hidden = get_ipython().user_ns_hidden
    return sorted(n for n in ns if n not in hidden and not _IPYTHON_NAMES.fullmatch(n))


def _digest(data) -> str:
    return hashlib.sha1(data).hexdigest()[:16]


def _tensor_key(t):
    try:
        version = t._version
    except Exception:   # inference tensors have no version counter: compare small ones by value
        version = _digest(t.detach().cpu().contiguous().numpy().tobytes()) if t.numel() <= 1 << 20 else "?"
    try:
        pointer = t.data_ptr()
    except Exception:
        pointer = None
    grad = getattr(t, "grad", None) if t.is_leaf else None
    grad_key = None if grad is None else (grad._version, grad.data_ptr())
    return ("tensor", tuple(t.shape), str(t.dtype), str(t.device), t.requires_grad, version, pointer,
            grad_key)


def _module_libraries():
    names = list(_LIBRARIES) + sorted(n for n in sys.modules if n.startswith("course_utils"))
    return {n: sys.modules[n] for n in names if n in sys.modules}


def _library_ids():
    """{library: {public name: id}}, and the attributes of the classes code patches most."""
    ids = {}
    for name, module in _module_libraries().items():
        ids[name] = {k: id(v) for k, v in list(vars(module).items())
                     if not k.startswith("_") and not (name == "builtins" and k in _KERNEL_BUILTINS)}
    torch = sys.modules.get("torch")
    if torch is not None:
        for cls in (torch.Tensor, torch.nn.Module, torch.nn.Parameter, torch.optim.Optimizer):
            ids[cls.__qualname__] = {k: id(v) for k, v in list(vars(cls).items())}
    return ids


def _library_object(library, name):
    torch = sys.modules.get("torch")
    classes = {} if torch is None else {c.__qualname__: c for c in (
        torch.Tensor, torch.nn.Module, torch.nn.Parameter, torch.optim.Optimizer)}
    holder = classes.get(library) or sys.modules.get(library)
    return vars(holder).get(name) if holder is not None else None


def _wrapped_by_torch(library, name, old_id):
    """Whether ``library.name`` now wraps its old value with a wrapper of torch's own: importing
    torch._dynamo (which some torch functions do on first use) wraps ``torch.manual_seed``."""
    import os

    torch = sys.modules["torch"]
    value = _library_object(library, name)
    code = getattr(value, "__code__", None)
    if code is None or not code.co_filename.startswith(os.path.dirname(torch.__file__) + os.sep):
        return False
    for _ in range(5):
        value = getattr(value, "__wrapped__", None)
        if value is None:
            return False
        if id(value) == old_id:
            return True
    return False


def _torch_switches():
    import torch

    switches = {
        "grad": torch.is_grad_enabled(),
        "inference": torch.is_inference_mode_enabled(),
        "default_dtype": torch.get_default_dtype(),
        "threads": torch.get_num_threads(),
        "deterministic": torch.are_deterministic_algorithms_enabled(),
        "anomaly": torch.is_anomaly_enabled(),
        "matmul_precision": torch.get_float32_matmul_precision(),
    }
    if hasattr(torch, "get_default_device"):
        switches["default_device"] = str(torch.get_default_device())
    hooks = torch.nn.modules.module
    switches["global_module_hooks"] = tuple(
        len(getattr(hooks, n, ())) for n in ("_global_forward_hooks", "_global_forward_pre_hooks",
                                            "_global_backward_hooks", "_global_backward_pre_hooks"))
    return switches


def _set_torch_switches(switches):
    import torch

    torch.set_grad_enabled(switches["grad"])
    torch.set_default_dtype(switches["default_dtype"])
    torch.set_num_threads(switches["threads"])
    torch.use_deterministic_algorithms(switches["deterministic"])
    torch.set_anomaly_enabled(switches["anomaly"])
    torch.set_float32_matmul_precision(switches["matmul_precision"])
    if "default_device" in switches:
        torch.set_default_device(None if switches["default_device"] == "cpu" else switches["default_device"])


def _rng_state():
    import torch

    state = {"random": random.getstate(), "torch": torch.get_rng_state()}
    np = sys.modules.get("numpy")
    if np is not None:
        state["numpy"] = np.random.get_state()
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state):
    import torch

    random.setstate(state["random"])
    torch.set_rng_state(state["torch"])
    if "numpy" in state:
        sys.modules["numpy"].random.set_state(state["numpy"])
    if "cuda" in state:
        torch.cuda.set_rng_state_all(state["cuda"])


def _figures():
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is None:
        return (), None
    from matplotlib._pylab_helpers import Gcf

    active = Gcf.get_active()
    return tuple(pyplot.get_fignums()), (active.num if active is not None else None)


def _set_figures(figures):
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is None:
        return
    numbers, active = figures
    for number in pyplot.get_fignums():
        if number not in numbers:
            pyplot.close(number)
    if active is not None and active in pyplot.get_fignums():
        pyplot.figure(active)


def _fingerprint(ns):
    """{path: key} for the mutable state reachable from the user's names (bounded walk)."""
    import torch

    np = sys.modules.get("numpy")
    figure_cls = getattr(sys.modules.get("matplotlib.figure"), "Figure", None)
    out, seen, nodes = {}, set(), [0]

    def visit(path, value, depth):
        if isinstance(value, _SCALARS) or id(value) in seen or nodes[0] >= _MAX_NODES:
            return
        seen.add(id(value))
        nodes[0] += 1
        if isinstance(value, torch.Tensor):
            out[path] = _tensor_key(value)
            return
        if isinstance(value, torch.nn.Module):
            out[path] = ("module", tuple(
                (n, m.training, len(m._forward_hooks), len(m._forward_pre_hooks), len(m._backward_hooks),
                 len(getattr(m, "_backward_pre_hooks", ())), len(getattr(m, "_state_dict_hooks", ())))
                for n, m in value.named_modules()))
            for n, t in list(value.named_parameters()) + list(value.named_buffers()):
                visit(f"{path}.{n}", t, depth + 1)
            if depth < _MAX_DEPTH:
                for n, m in value.named_modules():
                    for k, v in sorted(vars(m).items()):
                        if not k.startswith("_"):
                            visit(f"{path}.{n}.{k}" if n else f"{path}.{k}", v, depth + 1)
            return
        if isinstance(value, torch.Generator):
            out[path] = ("generator", _digest(value.get_state().numpy().tobytes()))
            return
        if isinstance(value, torch.optim.Optimizer):
            out[path] = ("optimizer", repr([{k: v for k, v in g.items() if k != "params"}
                                            for g in value.param_groups]), len(value.state))
            for i, state in enumerate(list(value.state.values())[:_MAX_ITEMS]):
                visit(f"{path}.state[{i}]", state, depth + 1)
            return
        if np is not None and isinstance(value, np.ndarray):
            data = value if value.nbytes <= 1 << 22 else value.reshape(-1)[:: max(1, value.size // 100_000)]
            out[path] = ("ndarray", value.shape, str(value.dtype), _digest(np.ascontiguousarray(data).tobytes()))
            return
        if np is not None and isinstance(value, np.random.RandomState):
            out[path] = ("randomstate", _digest(repr(value.get_state()).encode()))
            return
        if np is not None and isinstance(value, np.random.Generator):
            out[path] = ("npgenerator", _digest(repr(value.bit_generator.state).encode()))
            return
        if isinstance(value, random.Random):
            out[path] = ("random", _digest(repr(value.getstate()).encode()))
            return
        if figure_cls is not None and isinstance(value, figure_cls):
            out[path] = ("figure", tuple(
                (len(ax.lines), len(ax.images), len(ax.patches), len(ax.texts), len(ax.collections),
                 ax.get_title()) for ax in value.axes))
            return
        if depth >= _MAX_DEPTH:
            return
        if isinstance(value, (list, tuple)):
            out[path] = (type(value).__name__, len(value))
            for i, item in enumerate(value[:_MAX_ITEMS]):
                visit(f"{path}[{i}]", item, depth + 1)
            return
        if isinstance(value, dict):
            keys = list(value)
            out[path] = ("dict", len(keys), _digest(repr(keys[:_MAX_ITEMS]).encode()))
            for k in keys[:_MAX_ITEMS]:
                visit(f"{path}[{k!r}]", value[k], depth + 1)
            return
        if isinstance(value, (set, frozenset)):
            out[path] = ("set", len(value), _digest(repr(sorted(map(repr, value))[:_MAX_ITEMS]).encode()))
            return
        try:
            attributes = vars(value)
        except TypeError:
            return
        out[path] = ("object", type(value).__qualname__, tuple(sorted(attributes)))
        for k in sorted(attributes):
            visit(f"{path}.{k}", attributes[k], depth + 1)

    for name in _user_names(ns):
        visit(name, ns[name], 0)
    return out


def _state():
    ns = _ns()
    return {"fingerprint": _fingerprint(ns), "libraries": _library_ids(),
            "switches": _torch_switches(), "figures": _figures()}


def _module_modes(ns):
    """[(module, training)] for the modules the user's names hold (directly or in containers)."""
    import torch

    modes, seen = [], set()

    def visit(value, depth):
        if id(value) in seen or depth > 2:
            return
        seen.add(id(value))
        if isinstance(value, torch.nn.Module):
            modes.extend((m, m.training) for m in value.modules())
        elif isinstance(value, (list, tuple)):
            for item in value[:_MAX_ITEMS]:
                visit(item, depth + 1)
        elif isinstance(value, dict):
            for item in list(value.values())[:_MAX_ITEMS]:
                visit(item, depth + 1)

    for name in _user_names(ns):
        visit(ns[name], 0)
    return modes


def snapshot(key):
    """Keep the kernel's state under ``key`` (taken just before the cell ``key`` runs)."""
    ns = _ns()
    _snapshots[key] = {"names": {n: ns[n] for n in _user_names(ns)}, "rng": _rng_state(),
                       "modes": _module_modes(ns), "state": _state()}


def has(key):
    return key in _snapshots


def restore(key):
    """Put the state kept under ``key`` back; return what could not be put back (empty: clean)."""
    kept = _snapshots[key]
    ns = _ns()
    names = kept["names"]
    for name in _user_names(ns):
        if name not in names:
            del ns[name]
    for name, value in names.items():
        if ns.get(name, _snapshots) is not value:
            ns[name] = value
    for module, training in kept["modes"]:
        module.training = training
    _set_torch_switches(kept["state"]["switches"])
    _set_figures(kept["state"]["figures"])
    _set_rng_state(kept["rng"])
    return _differences(kept["state"], _state())


def _differences(old, new):
    problems = []
    for path in sorted(set(old["fingerprint"]) | set(new["fingerprint"])):
        if old["fingerprint"].get(path) != new["fingerprint"].get(path):
            problems.append(f"{path} changed in place")
    for library, ids in old["libraries"].items():
        now = new["libraries"].get(library, {})
        changed = sorted(k for k, i in ids.items()
                         if now.get(k) != i and not _wrapped_by_torch(library, k, i))
        if changed:
            problems.append(f"{library}.{', '.join(changed[:5])} replaced")
    for switch, value in old["switches"].items():
        if new["switches"].get(switch) != value:
            problems.append(f"torch switch {switch} is {new['switches'].get(switch)!r}, was {value!r}")
    if old["figures"] != new["figures"]:
        problems.append(f"open figures {new['figures']}, were {old['figures']}")
    return problems


def drop(key):
    _snapshots.pop(key, None)

