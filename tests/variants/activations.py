"""Wrong and differently-written right solutions of the `activations` assignment."""
from tests.variants import Variant

VALUES = "test_capture_values"
HOOKS = "test_capture_hooks"
UNKNOWN = "test_capture_unknown"
MAPS = "test_plot_feature_maps"
FILTERS = "test_plot_filters"
MAPS_TITLES = "test_plot_feature_maps_titles"
MAPS_GRAD = "test_plot_feature_maps_grad"
FILTERS_TITLES = "test_plot_filters_titles"
FILTERS_GRAD = "test_plot_filters_grad"
RF_BASIC = "test_receptive_field_basic"
RF_STRIDED = "test_receptive_field_strided"


def _capture(hook_body="activations[name] = output.detach().clone()", check=None, run=None):
    """The reference capture_activations with one piece swapped."""
    check = check or (
        "    modules = dict(model.named_modules())\n"
        "    for name in layer_names:\n"
        "        if name not in modules:\n"
        "            raise KeyError(f\"no layer named {name!r}\")\n"
        "    activations = {}\n"
        "\n"
        "    def make_hook(name):\n"
        "        def hook(module, inputs, output):\n"
        f"            {hook_body}\n"
        "        return hook\n"
    )
    run = run or (
        "    handles = []\n"
        "    try:\n"
        "        for name in layer_names:\n"
        "            handles.append(modules[name].register_forward_hook(make_hook(name)))\n"
        "        model(x)\n"
        "    finally:\n"
        "        for handle in handles:\n"
        "            handle.remove()\n"
        "    return {name: activations[name] for name in layer_names}\n"
    )
    return "def capture_activations(model, x, layer_names):\n" + check + "\n" + run


_MAKE_HOOK = (
    "    activations = {}\n"
    "\n"
    "    def make_hook(name):\n"
    "        def hook(module, inputs, output):\n"
    "            activations[name] = output.detach().clone()\n"
    "        return hook\n"
)

CAPTURE_NO_CLONE = _capture(hook_body="activations[name] = output.detach()")
CAPTURE_NO_DETACH = _capture(hook_body="activations[name] = output.clone()")
CAPTURE_INPUT = _capture(hook_body="activations[name] = inputs[0].detach().clone()")
CAPTURE_HOOKS_KEPT = _capture(run=(
    "    for name in layer_names:\n"
    "        modules[name].register_forward_hook(make_hook(name))\n"
    "    model(x)\n"
    "    return {name: activations[name] for name in layer_names}\n"
))
CAPTURE_NO_FINALLY = _capture(run=(
    "    handles = [modules[name].register_forward_hook(make_hook(name)) for name in layer_names]\n"
    "    model(x)\n"
    "    for handle in handles:\n"
    "        handle.remove()\n"
    "    return {name: activations[name] for name in layer_names}\n"
))
CAPTURE_CLEARS_ALL = _capture(run=(
    "    try:\n"
    "        for name in layer_names:\n"
    "            modules[name].register_forward_hook(make_hook(name))\n"
    "        model(x)\n"
    "    finally:\n"
    "        for module in model.modules():\n"
    "            module._forward_hooks.clear()\n"
    "    return {name: activations[name] for name in layer_names}\n"
))
CAPTURE_SKIPS_UNKNOWN = _capture(
    check="    modules = dict(model.named_modules())\n"
          "    layer_names = [name for name in layer_names if name in modules]\n" + _MAKE_HOOK)
CAPTURE_GET_SUBMODULE = _capture(
    check="    modules = {name: model.get_submodule(name) for name in layer_names}\n" + _MAKE_HOOK)
CAPTURE_REGISTERS_WHILE_CHECKING = _capture(
    check="    modules = dict(model.named_modules())\n" + _MAKE_HOOK,
    run=(
        "    handles = []\n"
        "    for name in layer_names:\n"
        "        if name not in modules:\n"
        "            raise KeyError(f\"no layer named {name!r}\")\n"
        "        handles.append(modules[name].register_forward_hook(make_hook(name)))\n"
        "    try:\n"
        "        model(x)\n"
        "    finally:\n"
        "        for handle in handles:\n"
        "            handle.remove()\n"
        "    return {name: activations[name] for name in layer_names}\n"
    ))

# The hook is a lambda that reads `name` when it runs, after the loop: every hook stores under the
# last name, and the return raises KeyError for the others. The hooks were removed in `finally`.
CAPTURE_LAMBDA_LATE_BINDING = _capture(run=(
    "    handles = []\n"
    "    try:\n"
    "        for name in layer_names:\n"
    "            handles.append(modules[name].register_forward_hook(\n"
    "                lambda module, inputs, output: activations.__setitem__(name, output.detach().clone())))\n"
    "        model(x)\n"
    "    finally:\n"
    "        for handle in handles:\n"
    "            handle.remove()\n"
    "    return {name: activations[name] for name in layer_names}\n"
))
# The same late-binding lambda, but the result is built before the hooks are removed (only a
# failed forward pass removes them): the KeyError leaves every hook behind.
CAPTURE_RAISES_BEFORE_REMOVING = _capture(run=(
    "    handles = []\n"
    "    try:\n"
    "        for name in layer_names:\n"
    "            handles.append(modules[name].register_forward_hook(\n"
    "                lambda module, inputs, output: activations.__setitem__(name, output.detach().clone())))\n"
    "        model(x)\n"
    "    except Exception:\n"
    "        for handle in handles:\n"
    "            handle.remove()\n"
    "        raise\n"
    "    result = {name: activations[name] for name in layer_names}\n"
    "    for handle in handles:\n"
    "        handle.remove()\n"
    "    return result\n"
))
# Half done: the names are checked and the model runs, but no hook is ever registered, so the
# return raises KeyError. Leaving no hook behind is not worth the hooks test's points.
CAPTURE_NO_HOOKS = _capture(run=(
    "    model(x)\n"
    "    return {name: activations[name] for name in layer_names}\n"
))

CAPTURE_GET_SUBMODULE_NO_GRAD = '''
def capture_activations(model, x, layer_names):
    """Outputs of the named layers, via get_submodule, under no_grad."""
    modules = []
    for name in layer_names:
        try:
            modules.append(model.get_submodule(name))
        except AttributeError:
            raise KeyError(f"unknown layer {name}") from None
    out = {}
    handles = []
    try:
        for name, module in zip(layer_names, modules):
            handles.append(module.register_forward_hook(
                lambda m, i, o, name=name: out.__setitem__(name, o.detach().clone())))
        with torch.no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
    return out
'''.lstrip()

CAPTURE_EXIT_STACK = '''
import contextlib


def capture_activations(model, x, layer_names):
    """Outputs of the named layers; an ExitStack removes the hooks."""
    named = dict(model.named_modules())
    missing = [n for n in layer_names if n not in named]
    if missing:
        raise KeyError(f"no such layer(s): {missing}")
    captured = {}
    with contextlib.ExitStack() as stack:
        for name in layer_names:
            def hook(module, inputs, output, name=name):
                captured[name] = output.clone().detach()
            stack.callback(named[name].register_forward_hook(hook).remove)
        model(x)
    return captured
'''.lstrip()

# ------------------------------------------------------------------------------ feature maps


def _maps(select="activation.detach().cpu()[:max_maps]", image="maps[c]"):
    return (
        "def plot_feature_maps(activation, max_maps=16):\n"
        f"    maps = {select}\n"
        "    n = len(maps)\n"
        "    ncols = min(n, 8)\n"
        "    nrows = math.ceil(n / ncols)\n"
        "    fig, axes = plt.subplots(nrows, ncols, squeeze=False, figsize=(1.5 * ncols, 1.6 * nrows))\n"
        "    for c, ax in enumerate(axes.flat):\n"
        "        if c < n:\n"
        f"            ax.imshow({image}.numpy())\n"
        "            ax.set_title(f\"ch {c}\")\n"
        "        ax.axis(\"off\")\n"
        "    fig.suptitle(\"Feature maps\")\n"
        "    return fig\n"
    )


MAPS_ALL_CHANNELS = _maps(select="activation.detach().cpu()")
MAPS_TRANSPOSED = _maps(image="maps[c].T")
MAPS_LAST_CHANNELS = _maps(select="activation.detach().cpu()[-max_maps:]")
MAPS_ONE_ROW_CRASH = '''
def plot_feature_maps(activation, max_maps=16):
    maps = activation.detach().cpu()[:max_maps]
    fig, axes = plt.subplots(1, len(maps), figsize=(1.5 * len(maps), 2))
    for c in range(len(maps)):
        axes[c].imshow(maps[c].numpy())
        axes[c].set_title(f"ch {c}")
        axes[c].axis("off")
    fig.suptitle("Feature maps")
    return fig
'''.lstrip()

MAPS_GRID_WITH_EMPTY_AXES = '''
def plot_feature_maps(activation, max_maps=16):
    """A 4-column grid; the unused axes of the last row stay, turned off, with no image."""
    maps = activation.detach().to("cpu", torch.float64).numpy()
    n = min(maps.shape[0], max_maps)
    rows = (n + 3) // 4
    fig, axes = plt.subplots(rows, 4, figsize=(8, 2 * rows), squeeze=False)
    for ax in axes.ravel():
        ax.set_axis_off()
    for c in range(n):
        ax = axes[c // 4, c % 4]
        ax.imshow(maps[c], cmap="magma")
        ax.set_title(f"channel {c} of {maps.shape[0]}")
    fig.suptitle(f"{n} feature maps")
    return fig
'''.lstrip()

# ------------------------------------------------------------------------------ filters


def _filters(kernels="conv_weight.detach().cpu().mean(dim=1)"):
    return (
        "def plot_filters(conv_weight):\n"
        f"    kernels = {kernels}\n"
        "    titles = [f\"filter {f}\" for f in range(len(kernels))]\n"
        "    return plots.show_images(kernels, titles=titles, title=\"Filters\")\n"
    )


FILTERS_FIRST_CHANNEL = _filters("conv_weight.detach().cpu()[:, 0]")
FILTERS_SUM = _filters("conv_weight.detach().cpu().sum(dim=1)")
FILTERS_MEAN_OVER_FILTERS = _filters("conv_weight.detach().cpu().mean(dim=0)")
FILTERS_EVERY_CHANNEL = _filters("conv_weight.detach().cpu().flatten(0, 1)")
FILTERS_NO_DETACH = '''
def plot_filters(conv_weight):
    F_ = conv_weight.shape[0]
    fig, axes = plt.subplots(1, F_, squeeze=False, figsize=(1.5 * F_, 2))
    for f in range(F_):
        axes[0, f].imshow(conv_weight[f].mean(dim=0), cmap="gray")
        axes[0, f].set_title(f"filter {f}")
    fig.suptitle("Filters")
    return fig
'''.lstrip()

FILTERS_PLAIN_MATPLOTLIB = '''
def plot_filters(conv_weight):
    """Plain matplotlib: mean over input channels as sum / C, 6 columns."""
    w = conv_weight.detach().cpu()
    kernels = w.sum(dim=1) / w.shape[1]
    n = kernels.shape[0]
    cols = min(n, 6)
    rows = -(-n // cols)
    fig = plt.figure(figsize=(2 * cols, 2 * rows))
    for f in range(n):
        ax = fig.add_subplot(rows, cols, f + 1)
        ax.imshow(kernels[f].numpy(), cmap="bwr")
        ax.set_title(f"#{f}")
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("conv filters (mean over input channels)")
    return fig
'''.lstrip()

# ------------------------------------------------------------------------------ receptive field

RF_JUMP_INCLUDES_OWN_STRIDE = '''
def receptive_field(layers):
    r, jump = 1, 1
    for kernel_size, stride in layers:
        jump *= stride
        r += (kernel_size - 1) * jump
    return r
'''.lstrip()

RF_IGNORES_STRIDE = '''
def receptive_field(layers):
    return 1 + sum(kernel_size - 1 for kernel_size, stride in layers)
'''.lstrip()

RF_NO_PLUS_ONE = '''
def receptive_field(layers):
    r, jump = 0, 1
    for kernel_size, stride in layers:
        r += (kernel_size - 1) * jump
        jump *= stride
    return r
'''.lstrip()

RF_CRASHES_ON_EMPTY = '''
def receptive_field(layers):
    r, jump = layers[0]
    for kernel_size, stride in layers[1:]:
        r += (kernel_size - 1) * jump
        jump *= stride
    return r
'''.lstrip()

RF_TORCH_TENSOR = '''
def receptive_field(layers):
    strides = [s for _, s in layers]
    return 1 + sum((k - 1) * torch.tensor(strides[:i]).prod() for i, (k, _) in enumerate(layers))
'''.lstrip()

RF_BACKWARD = '''
def receptive_field(layers):
    """Backwards from one output unit: r <- s * r + (k - s)."""
    r = 1
    for kernel_size, stride in reversed(layers):
        r = stride * r + (kernel_size - stride)
    return r
'''.lstrip()

RF_MATH_PROD = '''
def receptive_field(layers):
    return 1 + sum((k - 1) * math.prod(s for _, s in layers[:i]) for i, (k, _) in enumerate(layers))
'''.lstrip()


CAPTURE_GLOBAL_MODULE_HOOK = '''
def capture_activations(model, x, layer_names):
    """One global forward hook (torch.nn.modules.module.register_module_forward_hook) that keeps the
    outputs of the named modules."""
    modules = dict(model.named_modules())
    missing = [n for n in layer_names if n not in modules]
    if missing:
        raise KeyError(f"unknown layer(s): {', '.join(missing)}")
    wanted = {id(modules[n]): n for n in layer_names}
    captured = {}

    def hook(module, inputs, output):
        name = wanted.get(id(module))
        if name is not None:
            captured[name] = output.detach().clone()

    handle = torch.nn.modules.module.register_module_forward_hook(hook)
    try:
        model(x)
    finally:
        handle.remove()
    return {n: captured[n] for n in layer_names}
'''.lstrip()


VARIANTS = [
    # capture_activations: wrong
    Variant("capture_detach_without_clone", {"capture_activations": CAPTURE_NO_CLONE},
            frozenset({VALUES}), "keeps output.detach(): the in-place ReLU overwrites the capture"),
    Variant("capture_clone_without_detach", {"capture_activations": CAPTURE_NO_DETACH},
            frozenset({VALUES}), "keeps output.clone(): the capture still requires grad"),
    Variant("capture_layer_input", {"capture_activations": CAPTURE_INPUT},
            frozenset({VALUES}), "stores the layer's input instead of its output"),
    Variant("capture_hooks_never_removed", {"capture_activations": CAPTURE_HOOKS_KEPT},
            frozenset({HOOKS}), "never removes its hooks"),
    Variant("capture_remove_without_finally", {"capture_activations": CAPTURE_NO_FINALLY},
            frozenset({HOOKS}), "removes the hooks only when the forward pass succeeds"),
    Variant("capture_clears_every_hook", {"capture_activations": CAPTURE_CLEARS_ALL},
            frozenset({HOOKS}), "clears _forward_hooks of every module, the user's hooks too"),
    Variant("capture_skips_unknown_names", {"capture_activations": CAPTURE_SKIPS_UNKNOWN},
            frozenset({UNKNOWN}), "silently ignores layer names it cannot find"),
    Variant("capture_get_submodule_attribute_error", {"capture_activations": CAPTURE_GET_SUBMODULE},
            frozenset({UNKNOWN}), "model.get_submodule raises AttributeError, not KeyError"),
    Variant("capture_registers_while_checking",
            {"capture_activations": CAPTURE_REGISTERS_WHILE_CHECKING},
            frozenset({UNKNOWN}), "raises KeyError after hooking the earlier names, leaving hooks"),
    Variant("capture_lambda_late_binding", {"capture_activations": CAPTURE_LAMBDA_LATE_BINDING},
            frozenset({VALUES}), "a late-binding lambda hook: KeyError at the return, hooks removed "
            "in finally (the hooks test catches the error and judges the hooks only)"),
    Variant("capture_raises_before_removing", {"capture_activations": CAPTURE_RAISES_BEFORE_REMOVING},
            frozenset({VALUES, HOOKS}), "a late-binding lambda hook, and the KeyError of the result "
            "comes before the hooks are removed: they stay"),
    Variant("capture_no_hooks", {"capture_activations": CAPTURE_NO_HOOKS},
            frozenset({VALUES, HOOKS}), "half done: runs the model without registering any hook "
            "(none left behind, but none on while the model runs)"),
    # capture_activations: right
    Variant("capture_get_submodule_no_grad", {"capture_activations": CAPTURE_GET_SUBMODULE_NO_GRAD}),
    Variant("capture_exit_stack", {"capture_activations": CAPTURE_EXIT_STACK}),
    Variant("capture_global_module_hook", {"capture_activations": CAPTURE_GLOBAL_MODULE_HOOK}),
    # plot_feature_maps
    Variant("maps_ignores_max_maps", {"plot_feature_maps": MAPS_ALL_CHANNELS},
            frozenset({MAPS}), "draws every channel, ignoring max_maps"),
    Variant("maps_transposed", {"plot_feature_maps": MAPS_TRANSPOSED},
            frozenset({MAPS}), "draws each map transposed, (W, H)"),
    Variant("maps_last_channels", {"plot_feature_maps": MAPS_LAST_CHANNELS},
            frozenset({MAPS}), "draws the last max_maps channels instead of the first"),
    Variant("maps_one_row_crashes_for_one_map", {"plot_feature_maps": MAPS_ONE_ROW_CRASH},
            frozenset({MAPS}), "plt.subplots(1, n) without squeeze=False fails for n = 1"),
    Variant("maps_grid_with_empty_axes", {"plot_feature_maps": MAPS_GRID_WITH_EMPTY_AXES}),
    # plot_filters
    Variant("filters_first_channel", {"plot_filters": FILTERS_FIRST_CHANNEL},
            frozenset({FILTERS}), "shows input channel 0 instead of the mean"),
    Variant("filters_sum_over_channels", {"plot_filters": FILTERS_SUM},
            frozenset({FILTERS}), "sums the input channels instead of averaging them"),
    Variant("filters_mean_over_filters", {"plot_filters": FILTERS_MEAN_OVER_FILTERS},
            frozenset({FILTERS}), "averages over dim 0 (the filters) instead of dim 1"),
    Variant("filters_every_channel", {"plot_filters": FILTERS_EVERY_CHANNEL},
            frozenset({FILTERS}), "draws F * C kernels, one per (filter, input channel)"),
    Variant("filters_imshow_parameter", {"plot_filters": FILTERS_NO_DETACH},
            frozenset({FILTERS_GRAD}), "imshow of a tensor that requires grad (no detach)"),
    Variant("filters_plain_matplotlib", {"plot_filters": FILTERS_PLAIN_MATPLOTLIB}),
    # receptive_field
    Variant("rf_jump_includes_own_stride", {"receptive_field": RF_JUMP_INCLUDES_OWN_STRIDE},
            frozenset({RF_STRIDED}), "multiplies in a layer's own stride before adding its kernel"),
    Variant("rf_ignores_stride", {"receptive_field": RF_IGNORES_STRIDE},
            frozenset({RF_STRIDED}), "adds k - 1 per layer, ignoring the strides"),
    Variant("rf_no_plus_one", {"receptive_field": RF_NO_PLUS_ONE},
            frozenset({RF_BASIC, RF_STRIDED}), "forgets the 1 of the starting pixel"),
    Variant("rf_crashes_on_empty", {"receptive_field": RF_CRASHES_ON_EMPTY},
            frozenset({RF_BASIC}), "starts from layers[0], so an empty stack raises IndexError"),
    Variant("rf_returns_tensor", {"receptive_field": RF_TORCH_TENSOR},
            frozenset({RF_BASIC}), "torch.tensor(...).prod() makes the result a tensor, not an int"),
    Variant("rf_backward_recurrence", {"receptive_field": RF_BACKWARD}),
    Variant("rf_math_prod", {"receptive_field": RF_MATH_PROD}),
]

# ---------------------------------------------------------------------------------------------
# Issue 11's categories, written fresh: titles judged by meaning (right, full marks), and one
# wrong detail costing that detail's cell only.
MAPS_SYNONYM_TITLES = '''
def plot_feature_maps(activation, max_maps=16):
    """A shared symmetric scale by hand; titles in other words than the notebook's example."""
    maps = activation.detach().cpu().numpy()[:max_maps]
    n = len(maps)
    cols = min(n, 6)
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, squeeze=False, figsize=(2 * cols, 2 * rows))
    limit = float(np.abs(maps).max()) or 1.0
    for ax in axes.flat[n:]:
        fig.delaxes(ax)
    for c in range(n):
        im = axes.flat[c].imshow(maps[c], cmap="RdBu_r", vmin=-limit, vmax=limit)
        axes.flat[c].set_title(f"feature map #{c} (max {maps[c].max():.2f})", fontsize=7)
        axes.flat[c].axis("off")
    fig.colorbar(im, ax=list(axes.flat[:n]))
    fig.suptitle("Activations of one sample")
    return fig
'''.lstrip()

MAPS_ONE_BASED_TITLES = _maps().replace('ax.set_title(f"ch {c}")', 'ax.set_title(f"ch {c + 1}")')
MAPS_NO_SUPTITLE = _maps().replace('    fig.suptitle("Feature maps")\n', "")
MAPS_NO_DETACH = _maps(select="activation.cpu()[:max_maps]")
FILTERS_NO_TITLES = (
    "def plot_filters(conv_weight):\n"
    "    kernels = conv_weight.detach().cpu().mean(dim=1)\n"
    "    return plots.show_signed_images(kernels, title=\"Filters\")\n"
)
FILTERS_KERNEL_TITLES = (
    "def plot_filters(conv_weight):\n"
    "    kernels = conv_weight.detach().cpu().mean(dim=1)\n"
    "    titles = [f\"kernel {f + 1}/{len(kernels)}\" for f in range(len(kernels))]\n"
    "    return plots.show_signed_images(kernels, titles=titles, title=\"Filters\")\n"
)

VARIANTS += [
    Variant("maps_synonym_titles_shared_scale", {"plot_feature_maps": MAPS_SYNONYM_TITLES}),
    Variant("maps_one_based_titles", {"plot_feature_maps": MAPS_ONE_BASED_TITLES},
            frozenset({MAPS_TITLES}), "titles count channels from 1: axes i is titled i + 1"),
    Variant("maps_no_suptitle", {"plot_feature_maps": MAPS_NO_SUPTITLE},
            frozenset({MAPS_TITLES}), "draws the right maps but gives the figure no title"),
    Variant("maps_without_detach", {"plot_feature_maps": MAPS_NO_DETACH},
            frozenset({MAPS_GRAD}), "no detach(): .numpy() fails on a layer's output that requires grad"),
    Variant("filters_without_titles", {"plot_filters": FILTERS_NO_TITLES},
            frozenset({FILTERS_TITLES}), "right filters, but no axes is titled with its index"),
    Variant("filters_one_based_titles", {"plot_filters": FILTERS_KERNEL_TITLES},
            frozenset({FILTERS_TITLES}), "titles 'kernel f+1/F': axes f is not titled with f"),
]

# ---------------------------------------------------------------------------------------------
# A grader's audit, as students write them: wrong details that cost their own test only, and
# other correct routes (capture_getattr_lookup and filters_one_row_crashes_for_one_filter lost
# test_capture_hooks / test_capture_unknown and test_plot_filters_titles before those tests
# judged only their own detail).
CAPTURE_DETACH_CPU = _capture(hook_body="activations[name] = output.detach().cpu()   # .cpu() of a CPU tensor is the same tensor")

CAPTURE_GETATTR_LOOKUP = '''
def capture_activations(model, x, layer_names):
    for name in layer_names:
        if not hasattr(model, name):                     # attributes: only direct children, not "features.0"
            raise KeyError(f"no layer named {name!r}")
    activations = {}

    def make_hook(name):
        def hook(module, inputs, output):
            activations[name] = output.detach().clone()
        return hook

    handles = []
    try:
        for name in layer_names:
            handles.append(getattr(model, name).register_forward_hook(make_hook(name)))
        model(x)
    finally:
        for handle in handles:
            handle.remove()
    return {name: activations[name] for name in layer_names}
'''

CAPTURE_KEYERROR_WITHOUT_NAME = _capture(check=(
    "    modules = dict(model.named_modules())\n"
    "    if any(name not in modules for name in layer_names):\n"
    "        raise KeyError(\"unknown layer name\")\n" + _MAKE_HOOK))

CAPTURE_WALKS_NAMED_MODULES = '''
def capture_activations(model, x, layer_names):
    """Walks named_modules once, hooking the wanted ones (in the model's order)."""
    wanted = set(layer_names)
    known = {name for name, _ in model.named_modules()}
    for name in layer_names:
        if name not in known:
            raise KeyError(name)
    saved, handles = {}, []

    def hook_for(name):
        return lambda module, inputs, output: saved.update({name: output.detach().clone()})

    try:
        for name, module in model.named_modules():
            if name in wanted:
                handles.append(module.register_forward_hook(hook_for(name)))
        model(x)
    finally:
        while handles:
            handles.pop().remove()
    return saved
'''

CAPTURE_PARTIAL_DEEPCOPY = '''
import copy
import functools


def capture_activations(model, x, layer_names):
    modules = dict(model.named_modules())
    unknown = [n for n in layer_names if n not in modules]
    if unknown:
        raise KeyError(f"unknown layers: {', '.join(unknown)}")
    store = {}

    def save(name, module, inputs, output):
        store[name] = copy.deepcopy(output.detach())

    handles = [modules[n].register_forward_hook(functools.partial(save, n)) for n in layer_names]
    try:
        model(x)
    finally:
        for h in handles:
            h.remove()
    return store
'''

MAPS_MINMAX_NORMALISED = '''
def plot_feature_maps(activation, max_maps=16):
    maps = activation.detach().cpu()[:max_maps]
    n = len(maps)
    ncols = min(n, 8)
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, squeeze=False, figsize=(1.5 * ncols, 1.6 * nrows))
    for c, ax in enumerate(axes.flat):
        if c < n:
            m = maps[c]
            ax.imshow(((m - m.min()) / (m.max() - m.min() + 1e-8)).numpy(), cmap="gray")   # rescaled to [0, 1]
            ax.set_title(f"ch {c}")
        ax.axis("off")
    fig.suptitle("Feature maps")
    return fig
'''

MAPS_PYPLOT_STATE_MACHINE = '''
def plot_feature_maps(activation, max_maps=16):
    """pyplot's state machine: plt.subplot / plt.imshow / plt.title, a colorbar on every map."""
    maps = activation.detach().cpu().numpy()
    n = min(max_maps, maps.shape[0])
    cols = 4
    rows = (n - 1) // cols + 1
    fig = plt.figure(figsize=(3 * cols, 2.5 * rows))
    for i in range(n):
        plt.subplot(rows, cols, i + 1)
        plt.imshow(maps[i], cmap="viridis")
        plt.colorbar()
        plt.title("ch %d" % i)
        plt.axis("off")
    plt.suptitle("First %d feature maps" % n)
    return fig
'''

MAPS_MATSHOW = '''
def plot_feature_maps(activation, max_maps=16):
    maps = activation.detach().cpu()[:max_maps]
    fig, axes = plt.subplots(1, len(maps), squeeze=False, figsize=(2 * len(maps), 2))
    for c, ax in enumerate(axes[0]):
        ax.matshow(maps[c].numpy(), cmap="coolwarm")
        ax.set_title(f"channel {c}")
    fig.suptitle("feature maps")
    return fig
'''

MAPS_CHANNEL_AS_XLABEL = '''
def plot_feature_maps(activation, max_maps=16):
    maps = activation.detach().cpu()[:max_maps]
    n = len(maps)
    ncols = min(n, 8)
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, squeeze=False, figsize=(1.5 * ncols, 1.6 * nrows))
    for c, ax in enumerate(axes.flat):
        if c < n:
            ax.imshow(maps[c].numpy())
            ax.set_xlabel(f"ch {c}")                             # a label under the map, not its title
            ax.set_xticks([]); ax.set_yticks([])
        else:
            ax.axis("off")
    fig.suptitle("Feature maps")
    return fig
'''

FILTERS_MEAN_LAST_DIM = '''
def plot_filters(conv_weight):
    kernels = conv_weight.detach().cpu().mean(dim=-1)           # averages over KW, not over the channels
    titles = [f"filter {f}" for f in range(len(kernels))]
    return plots.show_images(kernels, titles=titles, title="Filters")
'''

FILTERS_NO_GRAD_CONTEXT = '''
def plot_filters(conv_weight):
    with torch.no_grad():
        kernels = conv_weight.mean(dim=1).cpu().numpy()       # no graph under no_grad, so .numpy() works
    n = kernels.shape[0]
    cols = min(n, 8)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(1.8 * cols, 2 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for f in range(n):
        ax = axes.flat[f]
        ax.imshow(kernels[f], cmap="gray")
        ax.set_title(f"filter {f}")
    fig.suptitle(f"{n} conv filters, averaged over input channels")
    return fig
'''

FILTERS_ONE_ROW_CRASH = '''
def plot_filters(conv_weight):
    kernels = conv_weight.detach().cpu().mean(dim=1)
    fig, axes = plt.subplots(1, len(kernels), figsize=(1.5 * len(kernels), 2))
    for f, ax in enumerate(axes):                               # one filter: axes is a single Axes, not a list
        ax.imshow(kernels[f].numpy(), cmap="gray")
        ax.set_title(f"filter {f}")
        ax.axis("off")
    fig.suptitle("Filters")
    return fig
'''

RF_PRODUCT_OF_ALL_STRIDES = '''
def receptive_field(layers):
    total_stride = 1
    for _, stride in layers:
        total_stride *= stride
    return 1 + sum((kernel_size - 1) * total_stride for kernel_size, _ in layers)   # every layer gets the final jump
'''

RF_RECURSIVE = '''
def receptive_field(layers):
    """Recursive: the first layer's kernel, then the rest seen through its stride."""
    if not layers:
        return 1
    (k, s), rest = layers[0], layers[1:]
    return k + s * (receptive_field(rest) - 1)
'''

RF_FLOAT_NUMPY = '''
def receptive_field(layers):
    jumps = np.cumprod([1] + [s for _, s in layers[:-1]])
    return 1 + float(np.sum([(k - 1) * j for (k, _), j in zip(layers, jumps)]))   # a float
'''

VARIANTS += [
    Variant("capture_detach_cpu_no_copy", {"capture_activations": CAPTURE_DETACH_CPU}, frozenset({VALUES}),
            "output.detach().cpu() instead of a clone: on a CPU model .cpu() is no copy, the in-place ReLU overwrites it"),
    Variant("capture_getattr_lookup", {"capture_activations": CAPTURE_GETATTR_LOOKUP}, frozenset({VALUES}),
            "looks layers up with hasattr/getattr: nested names raise KeyError (values); its hooks and its "
            "unknown-name errors are right"),
    Variant("capture_keyerror_without_name", {"capture_activations": CAPTURE_KEYERROR_WITHOUT_NAME},
            frozenset({UNKNOWN}), "raises KeyError for an unknown name, but the message does not name it"),
    Variant("capture_walks_named_modules_correct", {"capture_activations": CAPTURE_WALKS_NAMED_MODULES}, frozenset(),
            "correct: hooks while walking named_modules (model order), removed with pop() in finally"),
    Variant("capture_partial_deepcopy_correct", {"capture_activations": CAPTURE_PARTIAL_DEEPCOPY}, frozenset(),
            "correct: functools.partial hooks, copy.deepcopy of the detached output"),
    Variant("maps_minmax_normalised", {"plot_feature_maps": MAPS_MINMAX_NORMALISED}, frozenset({MAPS}),
            "rescales every map to [0, 1] before imshow instead of showing the raw values"),
    Variant("maps_pyplot_state_machine_correct", {"plot_feature_maps": MAPS_PYPLOT_STATE_MACHINE}, frozenset(),
            "correct: plt.subplot/imshow/title/suptitle, with a colorbar (an extra axes) per map"),
    Variant("maps_matshow_correct", {"plot_feature_maps": MAPS_MATSHOW}, frozenset(),
            "correct: ax.matshow in one row, titled 'channel c'"),
    Variant("maps_channel_as_xlabel", {"plot_feature_maps": MAPS_CHANNEL_AS_XLABEL}, frozenset({MAPS_TITLES}),
            "names each map with set_xlabel: right maps, but no axes has a title"),
    Variant("filters_mean_over_kernel_width", {"plot_filters": FILTERS_MEAN_LAST_DIM}, frozenset({FILTERS}),
            "mean(dim=-1): averages over the kernel's width, images (C, KH) instead of (KH, KW)"),
    Variant("filters_no_grad_context_correct", {"plot_filters": FILTERS_NO_GRAD_CONTEXT}, frozenset(),
            "correct: the mean under torch.no_grad() instead of detach(), then .numpy()"),
    Variant("filters_one_row_crashes_for_one_filter", {"plot_filters": FILTERS_ONE_ROW_CRASH}, frozenset({FILTERS}),
            "plt.subplots(1, F) without squeeze=False: iterating the axes fails for a single filter "
            "(the drawing test; its titles are right)"),
    Variant("rf_every_layer_gets_total_stride", {"receptive_field": RF_PRODUCT_OF_ALL_STRIDES}, frozenset({RF_STRIDED}),
            "multiplies every (k - 1) by the product of all strides, not of the earlier ones"),
    Variant("rf_recursive_correct", {"receptive_field": RF_RECURSIVE}, frozenset(),
            "correct: recursive, k_1 + s_1 * (r(rest) - 1)"),
    Variant("rf_numpy_float", {"receptive_field": RF_FLOAT_NUMPY}, frozenset({RF_BASIC}),
            "np.cumprod and float(): right numbers, but a float, not an int"),
]

# Lost test_plot_feature_maps_titles too before the titles test judged only the figures drawn.
MAPS_LOOPS_OVER_EVERY_CHANNEL = '''
def plot_feature_maps(activation, max_maps=16):
    maps = activation.detach().cpu()
    n = min(maps.shape[0], max_maps)
    ncols = min(n, 8)
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, squeeze=False, figsize=(1.5 * ncols, 1.6 * nrows))
    for c in range(maps.shape[0]):                 # every channel, but only n axes: IndexError when C > max_maps
        ax = axes.flat[c]
        ax.imshow(maps[c].numpy())
        ax.set_title(f"ch {c}")
        ax.axis("off")
    fig.suptitle("Feature maps")
    return fig
'''
VARIANTS += [Variant("maps_loops_over_every_channel", {"plot_feature_maps": MAPS_LOOPS_OVER_EVERY_CHANNEL},
                    frozenset({MAPS}), "makes min(C, max_maps) axes but loops over all C channels: IndexError when "
                    "C > max_maps (the drawing test; its titles are right)")]


# ---------------------------------------------------------------------------------------------
# Real-student audit (helper H3): hooks, plots and receptive fields as students write them.
# maps_detach_numpy_without_cpu and filters_asarray_without_cpu kept full marks before it (the
# grader has no GPU, where .numpy() / np.asarray / imshow of a tensor without .cpu() fail): the grad
# tests now also draw a stand-in for a GPU tensor (course_grader.doubles.on_gpu), as the text says.

CAPTURE_DICT_COMPREHENSION = '''
def capture_activations(model, x, layer_names):
    modules = dict(model.named_modules())
    for name in layer_names:
        if name not in modules:
            raise KeyError(f"unknown layer {name}")
    acts = {}

    def save(name):
        return lambda module, inputs, output: acts.update({name: output.detach().clone()})

    handles = {}
    try:
        handles = {name: modules[name].register_forward_hook(save(name)) for name in layer_names}
        model(x)
    finally:
        for h in handles.values():
            h.remove()
    return {name: acts[name] for name in layer_names}
'''.lstrip()

CAPTURE_NO_GRAD_CLONE_ONLY = '''
def capture_activations(model, x, layer_names):
    modules = dict(model.named_modules())
    for name in layer_names:
        if name not in modules:
            raise KeyError(f"no layer named {name!r}")
    activations = {}

    def make_hook(name):
        def hook(module, inputs, output):
            activations[name] = output.clone()
        return hook

    handles = []
    try:
        for name in layer_names:
            handles.append(modules[name].register_forward_hook(make_hook(name)))
        with torch.no_grad():
            model(x)
    finally:
        for handle in handles:
            handle.remove()
    return {name: activations[name] for name in layer_names}
'''.lstrip()

CAPTURE_CLONES_AFTER_FORWARD = '''
def capture_activations(model, x, layer_names):
    modules = dict(model.named_modules())
    for name in layer_names:
        if name not in modules:
            raise KeyError(f"no layer named {name!r}")
    activations = {}

    def make_hook(name):
        def hook(module, inputs, output):
            activations[name] = output
        return hook

    handles = []
    try:
        for name in layer_names:
            handles.append(modules[name].register_forward_hook(make_hook(name)))
        model(x)
    finally:
        for handle in handles:
            handle.remove()
    return {name: activations[name].detach().clone() for name in layer_names}
'''.lstrip()

CAPTURE_SETDEFAULT = '''
def capture_activations(model, x, layer_names):
    modules = dict(model.named_modules())
    for name in layer_names:
        if name not in modules:
            raise KeyError(name)
    acts = {}
    handles = []
    try:
        for name in layer_names:
            handles.append(modules[name].register_forward_hook(
                lambda m, i, o, name=name: acts.setdefault(name, o.detach().clone())))
        model(x)
    finally:
        for h in handles:
            h.remove()
    return acts
'''.lstrip()

CAPTURE_SEQUENTIAL_CHILDREN = '''
def capture_activations(model, x, layer_names):
    """No hooks: run the children one after the other and keep the named outputs."""
    modules = dict(model.named_modules())
    for name in layer_names:
        if name not in modules:
            raise KeyError(name)
    out = {}

    def run(module, prefix, h):
        children = list(module.named_children())
        if not children:
            return module(h)
        for child_name, child in children:
            full = f"{prefix}.{child_name}" if prefix else child_name
            h = run(child, full, h)
            if full in layer_names:
                out[full] = h.detach().clone()
        return h

    with torch.no_grad():
        run(model, "", x)
    return {name: out[name] for name in layer_names}
'''.lstrip()

CAPTURE_DETACH_TO_CPU_COPY = '''
def capture_activations(model, x, layer_names):
    modules = dict(model.named_modules())
    for name in layer_names:
        if name not in modules:
            raise KeyError(f"no layer named {name!r}")
    activations = {}

    def make_hook(name):
        def hook(module, inputs, output):
            activations[name] = output.detach().to('cpu', copy=True)
        return hook

    handles = []
    try:
        for name in layer_names:
            handles.append(modules[name].register_forward_hook(make_hook(name)))
        model(x)
    finally:
        for handle in handles:
            handle.remove()
    return {name: activations[name] for name in layer_names}
'''.lstrip()

CAPTURE_NUMPY = '''
def capture_activations(model, x, layer_names):
    modules = dict(model.named_modules())
    for name in layer_names:
        if name not in modules:
            raise KeyError(f"no layer named {name!r}")
    activations = {}

    def make_hook(name):
        def hook(module, inputs, output):
            activations[name] = output.detach().cpu().numpy().copy()
        return hook

    handles = []
    try:
        for name in layer_names:
            handles.append(modules[name].register_forward_hook(make_hook(name)))
        model(x)
    finally:
        for handle in handles:
            handle.remove()
    return {name: activations[name] for name in layer_names}
'''.lstrip()

MAPS_ATLEAST_1D = '''
def plot_feature_maps(activation, max_maps=16):
    maps = activation.detach().cpu().numpy()
    n = min(len(maps), max_maps)
    cols = 4 if n >= 4 else n
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(2.5 * cols, 2.5 * rows))
    axes = np.atleast_1d(axes).ravel()
    for i in range(n):
        axes[i].imshow(maps[i], cmap="viridis")
        axes[i].title.set_text(f"Channel {i}")
        axes[i].axis("off")
    for ax in axes[n:]:
        ax.remove()
    fig.suptitle(f"First {n} feature maps")
    fig.tight_layout()
    return fig
'''.lstrip()

MAPS_NP_ASARRAY_TENSOR_VMAX = '''
def plot_feature_maps(activation, max_maps=16):
    act = activation.detach().cpu()[:max_maps]
    vmax = act.abs().max()
    n = act.shape[0]
    fig = plt.figure(figsize=(2 * min(n, 8), 2 * math.ceil(n / 8)))
    for i in range(n):
        ax = fig.add_subplot(math.ceil(n / 8), min(n, 8), i + 1)
        ax.imshow(np.asarray(act[i]), cmap="RdBu_r", vmin=-vmax, vmax=vmax)
        ax.set(title=f"ch {i}", xticks=[], yticks=[])
    fig.suptitle("feature maps")
    return fig
'''.lstrip()

MAPS_NO_RETURN = '''
def plot_feature_maps(activation, max_maps=16):
    maps = activation.detach().cpu()[:max_maps]
    n = len(maps)
    fig, axes = plt.subplots(1, n, squeeze=False, figsize=(2 * n, 2))
    for c in range(n):
        axes[0, c].imshow(maps[c].numpy(), cmap="gray")
        axes[0, c].set_title(f"ch {c}")
        axes[0, c].axis("off")
    fig.suptitle("Feature maps")
    plt.show()
'''.lstrip()

MAPS_SQUEEZE_CHANNEL_ONE_EXTRA_AXIS = '''
def plot_feature_maps(activation, max_maps=16):
    maps = activation.detach().cpu()[:max_maps]
    n = len(maps)
    fig, axes = plt.subplots(1, n, squeeze=False, figsize=(2 * n, 2))
    for c in range(n):
        axes[0, c].imshow(maps[c:c + 1].permute(1, 2, 0).numpy(), cmap="gray")   # (H, W, 1)
        axes[0, c].set_title(f"ch {c}")
    fig.suptitle("Feature maps")
    return fig
'''.lstrip()

FILTERS_FLOOR_ROWS = '''
def plot_filters(conv_weight):
    w = conv_weight.detach().cpu().mean(dim=1)
    n = w.shape[0]
    cols = min(n, 8)
    rows = max(1, n // cols)          # floor: 12 filters in 8 columns get one row
    fig, axes = plt.subplots(rows, cols, squeeze=False, figsize=(2 * cols, 2 * rows))
    for f in range(n):
        ax = axes.flat[f]
        ax.imshow(w[f].numpy(), cmap="RdBu_r")
        ax.set_title(f"filter {f}")
        ax.axis("off")
    fig.suptitle("Filters")
    return fig
'''.lstrip()

FILTERS_PER_FILTER_SCALE = '''
def plot_filters(conv_weight):
    w = conv_weight.detach().cpu()
    n = w.shape[0]
    fig, axes = plt.subplots(2, math.ceil(n / 2), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for f in range(n):
        k = w[f].mean(0)
        axes.flat[f].imshow(k, cmap="gray", vmin=float(k.min()), vmax=float(k.max()))
        axes.flat[f].set_title(f"filter {f}")
    fig.suptitle("Filters")
    return fig
'''.lstrip()

RF_ACCUMULATE = '''
import itertools
import operator


def receptive_field(layers):
    strides = [s for _, s in layers]
    jumps = [1] + list(itertools.accumulate(strides, operator.mul))[:-1] if layers else []
    return 1 + sum((k - 1) * j for (k, _), j in zip(layers, jumps))
'''.lstrip()

RF_JUMP_PREVIOUS_ONLY = '''
def receptive_field(layers):
    r, prev_stride = 1, 1
    for k, s in layers:
        r += (k - 1) * prev_stride       # only the previous layer's stride, not the product
        prev_stride = s
    return r
'''.lstrip()

RF_FORWARD_WRONG_RECURRENCE = '''
def receptive_field(layers):
    r = 1
    for k, s in layers:
        r = r * s + (k - s)              # the backward recurrence run forwards
    return r
'''.lstrip()

RF_REDUCE = '''
from functools import reduce


def receptive_field(layers):
    def grow(acc, layer):
        r, jump = acc
        k, s = layer
        return r + (k - 1) * jump, jump * s
    return reduce(grow, layers, (1, 1))[0]
'''.lstrip()

MAPS_DETACH_NUMPY = '''
def plot_feature_maps(activation, max_maps=16):
    maps = activation.detach().numpy()[:max_maps]        # no .cpu(): fails for a GPU tensor
    n = len(maps)
    cols = min(n, 4)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, squeeze=False, figsize=(2.5 * cols, 2.5 * rows))
    for i, ax in enumerate(axes.flat):
        if i < n:
            ax.imshow(maps[i], cmap="gray")
            ax.set_title(f"ch {i}")
        ax.axis("off")
    fig.suptitle("feature maps")
    return fig
'''.lstrip()

FILTERS_DETACH_ASARRAY = '''
def plot_filters(conv_weight):
    kernels = np.asarray(conv_weight.detach().mean(dim=1))   # no .cpu()
    n = kernels.shape[0]
    fig = plt.figure(figsize=(2 * n, 2))
    for f in range(n):
        ax = fig.add_subplot(1, n, f + 1)
        ax.imshow(kernels[f], cmap="viridis")
        ax.set_title(f"filter {f}")
        ax.axis("off")
    fig.suptitle("Filters")
    return fig
'''.lstrip()

MAPS_NUMPY_FORCE = MAPS_DETACH_NUMPY.replace("activation.detach().numpy()[:max_maps]        # no .cpu(): fails for a GPU tensor",
                                             "activation.numpy(force=True)[:max_maps]   # force: copied to the CPU, detached")

MAPS_IS_CUDA = '''
def plot_feature_maps(activation, max_maps=16):
    act = activation.detach()
    if act.is_cuda:
        act = act.cpu()
    maps = act[:max_maps].numpy()
    n = len(maps)
    fig, axes = plt.subplots(1, n, squeeze=False, figsize=(2 * n, 2))
    for i in range(n):
        axes[0, i].imshow(maps[i])
        axes[0, i].set_title(f"ch {i}")
    fig.suptitle("feature maps")
    return fig
'''.lstrip()

CAPTURE_NATURAL_KEYERROR = '''
def capture_activations(model, x, layer_names):
    modules = dict(model.named_modules())
    acts = {}
    handles = []
    try:
        for name in layer_names:
            module = modules[name]            # KeyError('name') for an unknown name, before the model runs
            handles.append(module.register_forward_hook(
                lambda m, i, o, name=name: acts.__setitem__(name, o.detach().clone())))
        model(x)
    finally:
        for h in handles:
            h.remove()
    return {name: acts[name] for name in layer_names}
'''.lstrip()

VARIANTS += [
    Variant("capture_dict_comprehension_handles", {"capture_activations": CAPTURE_DICT_COMPREHENSION}, frozenset(),
            "correct: handles kept in a dict made by a comprehension inside try, removed in finally"),
    Variant("capture_no_grad_clone_only", {"capture_activations": CAPTURE_NO_GRAD_CLONE_ONLY}, frozenset(),
            "correct: the model runs under torch.no_grad(), so output.clone() alone is a detached copy"),
    Variant("capture_to_cpu_copy", {"capture_activations": CAPTURE_DETACH_TO_CPU_COPY}, frozenset(),
            "correct: output.detach().to('cpu', copy=True), a copy also on the CPU"),
    Variant("capture_natural_keyerror_in_try", {"capture_activations": CAPTURE_NATURAL_KEYERROR}, frozenset(),
            "correct: modules[name] raises the KeyError (it names the layer) while registering, inside try: "
            "the hooks registered so far are removed in finally, and the model never runs"),
    Variant("capture_clones_after_forward", {"capture_activations": CAPTURE_CLONES_AFTER_FORWARD},
            frozenset({VALUES}), "keeps a reference in the hook and clones after model(x): the in-place "
            "ReLU has already overwritten it"),
    Variant("capture_setdefault_returns_value", {"capture_activations": CAPTURE_SETDEFAULT}, frozenset({VALUES}),
            "a lambda hook with dict.setdefault returns the stored copy, which replaces the layer's output: "
            "the in-place ReLU then overwrites the copy"),
    Variant("capture_runs_children_without_hooks", {"capture_activations": CAPTURE_SEQUENTIAL_CHILDREN},
            frozenset({VALUES, HOOKS}), "no hooks: runs the leaf modules one after the other instead of "
            "model(x), wrong for a forward with functional ops or residuals, and no hook is on while the model runs"),
    Variant("capture_returns_numpy", {"capture_activations": CAPTURE_NUMPY}, frozenset({VALUES}),
            "stores output.detach().cpu().numpy().copy(): NumPy arrays, not tensors"),
    Variant("maps_atleast_1d_title_set_text", {"plot_feature_maps": MAPS_ATLEAST_1D}, frozenset(),
            "correct: plt.subplots without squeeze=False, np.atleast_1d(axes).ravel(), ax.title.set_text, "
            "spare axes removed, viridis"),
    Variant("maps_add_subplot_asarray_tensor_vmax", {"plot_feature_maps": MAPS_NP_ASARRAY_TENSOR_VMAX}, frozenset(),
            "correct: fig.add_subplot, np.asarray of CPU tensors, a shared symmetric scale given as 0-d tensors, "
            "ax.set(title=...)"),
    Variant("maps_channel_axis_kept", {"plot_feature_maps": MAPS_SQUEEZE_CHANNEL_ONE_EXTRA_AXIS}, frozenset(),
            "correct: one axis too many, imshow of (H, W, 1) arrays, which matplotlib draws as the (H, W) map"),
    Variant("maps_cpu_only_if_cuda", {"plot_feature_maps": MAPS_IS_CUDA}, frozenset(),
            "correct: .cpu() only when activation.is_cuda, then .numpy()"),
    Variant("maps_no_return", {"plot_feature_maps": MAPS_NO_RETURN},
            frozenset({MAPS, MAPS_TITLES, MAPS_GRAD}), "draws the right grid but calls plt.show() and returns "
            "None: nothing any test of the function can read (its visible tests all say so)"),
    Variant("maps_detach_numpy_without_cpu", {"plot_feature_maps": MAPS_DETACH_NUMPY}, frozenset({MAPS_GRAD}),
            "activation.detach().numpy() without .cpu(): fails for a layer's output on a GPU (full marks "
            "before this audit)"),
    Variant("maps_numpy_force", {"plot_feature_maps": MAPS_NUMPY_FORCE}, frozenset(),
            "correct: activation.numpy(force=True), which detaches and copies a GPU tensor to the CPU itself "
            "(the GPU stand-in refused it at first)"),
    Variant("filters_floor_rows", {"plot_filters": FILTERS_FLOOR_ROWS}, frozenset({FILTERS}),
            "rows = n // cols: 12 filters in 8 columns get one row, IndexError for filter 8"),
    Variant("filters_per_filter_scale", {"plot_filters": FILTERS_PER_FILTER_SCALE}, frozenset(),
            "correct: a 2-row grid, grey scale with vmin/vmax per filter (colours are not graded)"),
    Variant("filters_asarray_without_cpu", {"plot_filters": FILTERS_DETACH_ASARRAY}, frozenset({FILTERS_GRAD}),
            "np.asarray(conv_weight.detach().mean(dim=1)) without .cpu(): fails for a weight on a GPU "
            "(full marks before this audit)"),
    Variant("rf_accumulate", {"receptive_field": RF_ACCUMULATE}, frozenset(),
            "correct: the jumps by itertools.accumulate(strides, operator.mul)"),
    Variant("rf_reduce", {"receptive_field": RF_REDUCE}, frozenset(),
            "correct: functools.reduce over (r, jump)"),
    Variant("rf_jump_previous_stride_only", {"receptive_field": RF_JUMP_PREVIOUS_ONLY}, frozenset({RF_STRIDED}),
            "multiplies (k - 1) by the previous layer's stride only, not by the product of all earlier strides"),
    Variant("rf_backward_recurrence_run_forwards", {"receptive_field": RF_FORWARD_WRONG_RECURRENCE},
            frozenset({RF_STRIDED}), "r <- s * r + (k - s), the output-to-input recurrence, run from the first layer"),
]

#: A wrong variant that passes every visible test and loses exactly one hidden test
#: (tests/end_to_end/test_colab.py teaches with it; docs/authoring.md).
SUBTLE_VARIANT = "capture_remove_without_finally"
