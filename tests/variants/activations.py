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

#: A wrong variant that passes every visible test and loses exactly one hidden test
#: (tests/end_to_end/test_colab.py teaches with it; docs/authoring.md).
SUBTLE_VARIANT = "capture_remove_without_finally"
