"""Wrong (and differently-written right) solutions of the conv_from_scratch assignment."""
from tests.variants import Variant

# ------------------------------------------------------------------ Part 1: output size

OUTPUT_SIZE_CEIL = '''
import math

def conv_output_size(n, k, padding=0, stride=1):
    return math.ceil((n + 2 * padding - k) / stride) + 1      # rounds up: counts a window that sticks out
'''

OUTPUT_SIZE_ONE_SIDED_PADDING = '''
def conv_output_size(n, k, padding=0, stride=1):
    return (n + padding - k) // stride + 1                    # padding counted on one side only
'''

# ------------------------------------------------------------------ Part 2: padding

PAD2D_PAIR_SWAPPED = '''
def pad2d(x, padding):
    pw, ph = pair(padding)                                    # reads the pair as (columns, rows)
    N, C, H, W = x.shape
    out = x.new_zeros(N, C, H + 2 * ph, W + 2 * pw)
    out[:, :, ph:ph + H, pw:pw + W] = x
    return out
'''

# out[p:-p] is empty when p is 0 (-0 is 0): every call with a zero padding fails
PAD2D_MINUS_ZERO = '''
def pad2d(x, padding):
    ph, pw = pair(padding)
    N, C, H, W = x.shape
    out = x.new_zeros(N, C, H + 2 * ph, W + 2 * pw)
    out[:, :, ph:-ph, pw:-pw] = x
    return out
'''

PAD2D_F_PAD = '''
def pad2d(x, padding):
    ph, pw = pair(padding)
    return F.pad(x, (pw, pw, ph, ph))                         # the built-in the part asks to avoid
'''

# torch.cat of zero blocks, a different correct route.
PAD2D_CAT = '''
def pad2d(x, padding):
    ph, pw = pair(padding)
    N, C, H, W = x.shape
    rows = x.new_zeros(N, C, ph, W)
    x = torch.cat([rows, x, rows], dim=2)
    cols = x.new_zeros(N, C, H + 2 * ph, pw)
    return torch.cat([cols, x, cols], dim=3)
'''

# ------------------------------------------------------------------ Part 3: loops

NAIVE_FLIPPED_KERNEL = '''
def conv2d_naive(x, weight, bias=None, stride=1, padding=0):
    N, C, H, W = x.shape
    n_filters, _, KH, KW = weight.shape
    sh, sw = pair(stride)
    ph, pw = pair(padding)
    H_out = conv_output_size(H, KH, ph, sh)
    W_out = conv_output_size(W, KW, pw, sw)
    x_pad = pad2d(x, (ph, pw))
    flipped = weight.flip(2, 3)                               # a true convolution, not PyTorch's
    out = x.new_zeros(N, n_filters, H_out, W_out)
    for i in range(H_out):
        for j in range(W_out):
            window = x_pad[:, :, i * sh:i * sh + KH, j * sw:j * sw + KW]
            out[:, :, i, j] = (window[:, None] * flipped[None]).sum(dim=(2, 3, 4))
    if bias is not None:
        out = out + bias.view(1, n_filters, 1, 1)
    return out
'''

NAIVE_STRIDE_FIRST_ONLY = '''
def conv2d_naive(x, weight, bias=None, stride=1, padding=0):
    N, C, H, W = x.shape
    n_filters, _, KH, KW = weight.shape
    sh = sw = stride if isinstance(stride, int) else stride[0]    # a pair's second entry ignored
    ph, pw = pair(padding)
    H_out = conv_output_size(H, KH, ph, sh)
    W_out = conv_output_size(W, KW, pw, sw)
    x_pad = pad2d(x, (ph, pw))
    out = x.new_zeros(N, n_filters, H_out, W_out)
    for i in range(H_out):
        for j in range(W_out):
            window = x_pad[:, :, i * sh:i * sh + KH, j * sw:j * sw + KW]
            out[:, :, i, j] = (window[:, None] * weight[None]).sum(dim=(2, 3, 4))
    if bias is not None:
        out = out + bias.view(1, n_filters, 1, 1)
    return out
'''

NAIVE_FLOAT32_OUTPUT = '''
def conv2d_naive(x, weight, bias=None, stride=1, padding=0):
    N, C, H, W = x.shape
    n_filters, _, KH, KW = weight.shape
    sh, sw = pair(stride)
    ph, pw = pair(padding)
    H_out = conv_output_size(H, KH, ph, sh)
    W_out = conv_output_size(W, KW, pw, sw)
    x_pad = pad2d(x, (ph, pw))
    out = torch.zeros(N, n_filters, H_out, W_out)             # float32 whatever x is
    for i in range(H_out):
        for j in range(W_out):
            window = x_pad[:, :, i * sh:i * sh + KH, j * sw:j * sw + KW]
            out[:, :, i, j] = (window[:, None] * weight[None]).sum(dim=(2, 3, 4))
    if bias is not None:
        out = out + bias.view(1, n_filters, 1, 1)
    return out
'''

# Bound at import time: an alias still reaches aten.convolution.
NAIVE_ALIAS_OF_F_CONV2D = '''
_correlate = F.conv2d

def conv2d_naive(x, weight, bias=None, stride=1, padding=0):
    return _correlate(x, weight, bias, stride=pair(stride), padding=pair(padding))
'''

# Only "large" inputs take the shortcut: the visible test and the plain cases do not see it.
NAIVE_BUILTIN_FOR_BIG_BATCHES = '''
def conv2d_naive(x, weight, bias=None, stride=1, padding=0):
    if x.shape[0] >= 8:
        return torch.ops.aten.convolution(x, weight, bias, list(pair(stride)), list(pair(padding)),
                                          [1, 1], False, [0, 0], 1)
    N, C, H, W = x.shape
    n_filters, _, KH, KW = weight.shape
    sh, sw = pair(stride)
    ph, pw = pair(padding)
    H_out = conv_output_size(H, KH, ph, sh)
    W_out = conv_output_size(W, KW, pw, sw)
    x_pad = pad2d(x, (ph, pw))
    out = x.new_zeros(N, n_filters, H_out, W_out)
    for i in range(H_out):
        for j in range(W_out):
            window = x_pad[:, :, i * sh:i * sh + KH, j * sw:j * sw + KW]
            out[:, :, i, j] = (window[:, None] * weight[None]).sum(dim=(2, 3, 4))
    if bias is not None:
        out = out + bias.view(1, n_filters, 1, 1)
    return out
'''

# CS231n style: four nested loops and scalar-by-window products.
NAIVE_FOUR_LOOPS = '''
def conv2d_naive(x, weight, bias=None, stride=1, padding=0):
    N, C, H, W = x.shape
    n_filters, _, KH, KW = weight.shape
    sh, sw = pair(stride)
    ph, pw = pair(padding)
    x_pad = pad2d(x, padding)
    H_out = (H + 2 * ph - KH) // sh + 1
    W_out = (W + 2 * pw - KW) // sw + 1
    out = torch.empty(N, n_filters, H_out, W_out, dtype=x.dtype, device=x.device)
    for n in range(N):
        for f in range(n_filters):
            for i in range(H_out):
                for j in range(W_out):
                    window = x_pad[n, :, i * sh:i * sh + KH, j * sw:j * sw + KW]
                    out[n, f, i, j] = (window * weight[f]).sum() + (0 if bias is None else bias[f])
    return out
'''

# ------------------------------------------------------------------ Part 4: im2col

IM2COL_KERNEL_MAJOR = '''
def im2col(x, kernel_size, stride=1, padding=0):
    KH, KW = pair(kernel_size)
    sh, sw = pair(stride)
    ph, pw = pair(padding)
    N, C, H, W = x.shape
    H_out = conv_output_size(H, KH, ph, sh)
    W_out = conv_output_size(W, KW, pw, sw)
    x_pad = pad2d(x, (ph, pw))
    cols = x.new_empty(N, KH, KW, C, H_out, W_out)            # rows ordered (p, q, c), not (c, p, q)
    for p in range(KH):
        for q in range(KW):
            cols[:, p, q] = x_pad[:, :, p:p + sh * H_out:sh, q:q + sw * W_out:sw]
    return cols.reshape(N, C * KH * KW, H_out * W_out)
'''

IM2COL_F_UNFOLD = '''
def im2col(x, kernel_size, stride=1, padding=0):
    return F.unfold(x, kernel_size, stride=stride, padding=padding)
'''

# Loops over the windows, one slice per output position: right values, not vectorised.
IM2COL_LOOP_OVER_WINDOWS = '''
def im2col(x, kernel_size, stride=1, padding=0):
    KH, KW = pair(kernel_size)
    sh, sw = pair(stride)
    ph, pw = pair(padding)
    N, C, H, W = x.shape
    H_out = conv_output_size(H, KH, ph, sh)
    W_out = conv_output_size(W, KW, pw, sw)
    x_pad = pad2d(x, (ph, pw))
    columns = []
    for i in range(H_out):
        for j in range(W_out):
            columns.append(x_pad[:, :, i * sh:i * sh + KH, j * sw:j * sw + KW].reshape(N, -1))
    return torch.stack(columns, dim=2)
'''

# Tensor.unfold (a strided view, not F.unfold) and a permute: a different correct route.
IM2COL_TENSOR_UNFOLD = '''
def im2col(x, kernel_size, stride=1, padding=0):
    KH, KW = pair(kernel_size)
    sh, sw = pair(stride)
    x_pad = pad2d(x, padding)
    N, C = x.shape[:2]
    windows = x_pad.unfold(2, KH, sh).unfold(3, KW, sw)         # (N, C, H_out, W_out, KH, KW)
    H_out, W_out = windows.shape[2], windows.shape[3]
    return windows.permute(0, 1, 4, 5, 2, 3).reshape(N, C * KH * KW, H_out * W_out)
'''

CONV_IM2COL_NO_PERMUTE = '''
def conv2d_im2col(x, weight, bias=None, stride=1, padding=0):
    N, C, H, W = x.shape
    n_filters, _, KH, KW = weight.shape
    sh, sw = pair(stride)
    ph, pw = pair(padding)
    H_out = conv_output_size(H, KH, ph, sh)
    W_out = conv_output_size(W, KW, pw, sw)
    cols = im2col(x, (KH, KW), stride, padding)
    out = cols.transpose(1, 2) @ weight.reshape(n_filters, -1).T    # (N, L, F)
    if bias is not None:
        out = out + bias
    return out.reshape(N, n_filters, H_out, W_out)            # (N, L, F) read as (N, F, L)
'''

CONV_IM2COL_ATEN = '''
def conv2d_im2col(x, weight, bias=None, stride=1, padding=0):
    return torch.ops.aten.convolution(x, weight, bias, list(pair(stride)), list(pair(padding)),
                                      [1, 1], False, [0, 0], 1)
'''

CONV_IM2COL_LOOP_OVER_IMAGES = '''
def conv2d_im2col(x, weight, bias=None, stride=1, padding=0):
    N, C, H, W = x.shape
    n_filters, _, KH, KW = weight.shape
    sh, sw = pair(stride)
    ph, pw = pair(padding)
    H_out = conv_output_size(H, KH, ph, sh)
    W_out = conv_output_size(W, KW, pw, sw)
    w = weight.reshape(n_filters, -1)
    outs = []
    for n in range(N):                                        # one matrix multiply per image
        out = w @ im2col(x[n:n + 1], (KH, KW), stride, padding)[0]
        if bias is not None:
            out = out + bias[:, None]
        outs.append(out.reshape(n_filters, H_out, W_out))
    return torch.stack(outs)
'''

# einsum instead of @, a different correct route.
CONV_IM2COL_EINSUM = '''
def conv2d_im2col(x, weight, bias=None, stride=1, padding=0):
    N = x.shape[0]
    n_filters, C, KH, KW = weight.shape
    ph, pw = pair(padding)
    sh, sw = pair(stride)
    H_out = (x.shape[2] + 2 * ph - KH) // sh + 1
    W_out = (x.shape[3] + 2 * pw - KW) // sw + 1
    out = torch.einsum("fk,nkl->nfl", weight.reshape(n_filters, -1), im2col(x, (KH, KW), stride, padding))
    out = out.reshape(N, n_filters, H_out, W_out)
    return out if bias is None else out + bias[None, :, None, None]
'''

# ------------------------------------------------------------------ Part 5: nn.Module

def _scratch(init: str, forward: str = "return conv2d_im2col(x, self.weight, self.bias, self.stride, self.padding)",
             params: str | None = None) -> str:
    params = params or '''\
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels, KH, KW))
        if bias:
            self.bias = nn.Parameter(torch.empty(out_channels))
        else:
            self.register_parameter("bias", None)'''
    return f'''
class Conv2dScratch(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True):
        super().__init__()
        KH, KW = pair(kernel_size)
        self.stride = pair(stride)
        self.padding = pair(padding)
{params}
{init}

    def forward(self, x):
        {forward}
'''


SCRATCH_KAIMING_DEFAULT_A = _scratch('''\
        nn.init.kaiming_uniform_(self.weight)                 # a=0: bound sqrt(6 / fan_in), too wide
        if self.bias is not None:
            bound = 1 / math.sqrt(in_channels * KH * KW)
            nn.init.uniform_(self.bias, -bound, bound)''')

SCRATCH_ZERO_BIAS = _scratch('''\
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            nn.init.zeros_(self.bias)                          # nn.Conv2d's bias is not zero''')

SCRATCH_FAN_IN_CHANNELS_ONLY = _scratch('''\
        bound = 1 / math.sqrt(in_channels)                     # forgets KH * KW in fan_in
        nn.init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            nn.init.uniform_(self.bias, -bound, bound)''')

SCRATCH_PLAIN_TENSORS = _scratch('''\
        bound = 1 / math.sqrt(in_channels * KH * KW)''', params='''\
        bound = 1 / math.sqrt(in_channels * KH * KW)
        # plain tensors: not registered, invisible to .parameters(), .double() and optimisers
        self.weight = ((torch.rand(out_channels, in_channels, KH, KW) * 2 - 1) * bound).requires_grad_()
        self.bias = ((torch.rand(out_channels) * 2 - 1) * bound).requires_grad_() if bias else None''')

SCRATCH_FORWARD_F_CONV2D = _scratch('''\
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(in_channels * KH * KW)
            nn.init.uniform_(self.bias, -bound, bound)''',
                                    forward="return F.conv2d(x, self.weight, self.bias, self.stride, self.padding)")

SCRATCH_FORWARD_DATA = _scratch('''\
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(in_channels * KH * KW)
            nn.init.uniform_(self.bias, -bound, bound)''',
                                forward="return conv2d_im2col(x, self.weight.data, None if self.bias is None else self.bias.data, "
                                        "self.stride, self.padding)  # .data: cut off from autograd")

# nn.Conv2d's own recipe (kaiming_uniform_ with a=sqrt(5)), bias drawn first: other values, same law.
SCRATCH_BIAS_FIRST_KAIMING = _scratch('''\
        fan_in = in_channels * KH * KW
        if self.bias is not None:
            nn.init.uniform_(self.bias, -1 / math.sqrt(fan_in), 1 / math.sqrt(fan_in))
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))''')

# ------------------------------------------------------------------ Part 6: weight gradient

WGRAD_STRIDE_IGNORED = '''
def conv2d_weight_grad(x, grad_out, kernel_size, stride=1, padding=0):
    KH, KW = pair(kernel_size)
    N, C, H, W = x.shape
    n_filters = grad_out.shape[1]
    cols = im2col(x, (KH, KW), padding=padding)               # stride forgotten
    g = grad_out.reshape(N, n_filters, -1)
    return (g @ cols.transpose(1, 2)).sum(dim=0).reshape(n_filters, C, KH, KW)
'''

WGRAD_LAST_IMAGE_ONLY = '''
def conv2d_weight_grad(x, grad_out, kernel_size, stride=1, padding=0):
    KH, KW = pair(kernel_size)
    N, C, H, W = x.shape
    n_filters = grad_out.shape[1]
    cols = im2col(x, (KH, KW), stride, padding)
    g = grad_out.reshape(N, n_filters, -1)
    return (g[-1] @ cols[-1].T).reshape(n_filters, C, KH, KW)   # forgets to sum over the batch
'''

WGRAD_AUTOGRAD = '''
def conv2d_weight_grad(x, grad_out, kernel_size, stride=1, padding=0):
    KH, KW = pair(kernel_size)
    w = torch.zeros(grad_out.shape[1], x.shape[1], KH, KW, dtype=x.dtype, requires_grad=True)
    out = conv2d_im2col(x, w, None, stride, padding)
    (grad,) = torch.autograd.grad(out, w, grad_out)            # autograd, not im2col by hand
    return grad
'''

# Autograd again, with gradients switched back on inside (the tests call it under no_grad):
# right values through the student's own conv2d_im2col, but the part asks for the gradient by hand.
WGRAD_ENABLE_GRAD = '''
def conv2d_weight_grad(x, grad_out, kernel_size, stride=1, padding=0):
    KH, KW = pair(kernel_size)
    with torch.enable_grad():
        w = torch.zeros(grad_out.shape[1], x.shape[1], KH, KW, dtype=x.dtype, requires_grad=True)
        out = conv2d_im2col(x, w, None, stride, padding)
        (grad,) = torch.autograd.grad(out, w, grad_out)
    return grad
'''

IGRAD_ENABLE_GRAD = '''
def conv2d_input_grad(grad_out, weight, x_shape, stride=1, padding=0):
    with torch.enable_grad():
        x = torch.zeros(x_shape, dtype=weight.dtype, requires_grad=True)
        out = conv2d_im2col(x, weight, None, stride, padding)
        (grad,) = torch.autograd.grad(out, x, grad_out)
    return grad
'''

WGRAD_NN_GRAD = '''
def conv2d_weight_grad(x, grad_out, kernel_size, stride=1, padding=0):
    KH, KW = pair(kernel_size)
    w_shape = (grad_out.shape[1], x.shape[1], KH, KW)
    return torch.nn.grad.conv2d_weight(x, w_shape, grad_out, stride=pair(stride), padding=pair(padding))
'''

# einsum over (n, l), a different correct route.
WGRAD_EINSUM = '''
def conv2d_weight_grad(x, grad_out, kernel_size, stride=1, padding=0):
    KH, KW = pair(kernel_size)
    N, C = x.shape[:2]
    n_filters = grad_out.shape[1]
    cols = im2col(x, kernel_size, stride, padding)
    grad = torch.einsum("nfl,nkl->fk", grad_out.reshape(N, n_filters, -1), cols)
    return grad.reshape(n_filters, C, KH, KW)
'''


# ------------------------------------------------------------------ issue 11's categories

# A numpy port (CS231n style) that keeps the input's dtype: right, full marks. The "no built-in"
# check calls it on plain tensors, so `x.numpy()` does not crash it.
NAIVE_NUMPY = '''
import numpy as np

def conv2d_naive(x, weight, bias=None, stride=1, padding=0):
    sh, sw = pair(stride)
    ph, pw = pair(padding)
    xp = np.pad(x.numpy(), ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    w = weight.numpy()
    N, C, H, W = xp.shape
    n_filters, _, KH, KW = w.shape
    H_out, W_out = (H - KH) // sh + 1, (W - KW) // sw + 1
    out = np.zeros((N, n_filters, H_out, W_out), dtype=xp.dtype)
    for i in range(H_out):
        for j in range(W_out):
            window = xp[:, None, :, i * sh:i * sh + KH, j * sw:j * sw + KW]
            out[:, :, i, j] = (window * w[None]).sum(axis=(2, 3, 4))
    if bias is not None:
        out += bias.numpy()[None, :, None, None]
    return torch.from_numpy(out)
'''

# Another library's convolution: scipy.signal.correlate over each image and filter, strided
# afterwards. Right values, but not from scratch: the "no built-in" check sees the scipy call.
NAIVE_SCIPY_CORRELATE = '''
import numpy as np
from scipy.signal import correlate

def conv2d_naive(x, weight, bias=None, stride=1, padding=0):
    sh, sw = pair(stride)
    xp = pad2d(x, padding).numpy()
    w = weight.numpy()
    out = np.stack([np.stack([correlate(xp[n], w[f], mode="valid")[0, ::sh, ::sw]
                              for f in range(w.shape[0])]) for n in range(xp.shape[0])])
    out = torch.from_numpy(out).to(x.dtype)
    return out if bias is None else out + bias[None, :, None, None]
'''

# numpy's own padding: right values, but the part asks for zeros and a slice assignment
PAD2D_NP_PAD = '''
import numpy as np

def pad2d(x, padding):
    ph, pw = pair(padding)
    return torch.from_numpy(np.pad(x.detach().cpu().numpy(), ((0, 0), (0, 0), (ph, ph), (pw, pw))))
'''

# im2col written with numpy and a loop over the output positions: right values, but a loop
# that torch's operation count does not see; the count of Python lines run does.
IM2COL_NUMPY_LOOP = '''
import numpy as np

def im2col(x, kernel_size, stride=1, padding=0):
    KH, KW = pair(kernel_size)
    sh, sw = pair(stride)
    ph, pw = pair(padding)
    xp = np.pad(x.numpy(), ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    N, C, H, W = xp.shape
    H_out, W_out = (H - KH) // sh + 1, (W - KW) // sw + 1
    cols = np.empty((N, C * KH * KW, H_out * W_out), dtype=xp.dtype)
    for i in range(H_out):
        for j in range(W_out):
            cols[:, :, i * W_out + j] = xp[:, :, i * sh:i * sh + KH, j * sw:j * sw + KW].reshape(N, -1)
    return torch.from_numpy(cols)
'''

# The filter gradient as a loop over the images, one small product each: right values, not
# "im2col and one matrix multiply".
WGRAD_LOOP_OVER_IMAGES = '''
def conv2d_weight_grad(x, grad_out, kernel_size, stride=1, padding=0):
    KH, KW = pair(kernel_size)
    N, C = x.shape[:2]
    n_filters = grad_out.shape[1]
    grad = x.new_zeros(n_filters, C * KH * KW)
    for n in range(N):
        cols = im2col(x[n:n + 1], (KH, KW), stride, padding)[0]          # (C*KH*KW, L)
        grad += grad_out[n].reshape(n_filters, -1) @ cols.T
    return grad.reshape(n_filters, C, KH, KW)
'''


# The numpy port computing in float64 whatever the input: right values, float64 for float32
# input. Only the dtype test is lost (the value tests run in float64).
NAIVE_NUMPY_FLOAT64 = NAIVE_NUMPY.replace("return torch.from_numpy(out)", "return torch.from_numpy(out.astype(np.float64))")


# Part 7: the gradient of the input and of the bias
IGRAD_REFERENCE_BODY = """    N, C, H, W = x_shape
    KH, KW = weight.shape[2], weight.shape[3]
    SH, SW = pair(stride)
    PH, PW = pair(padding)
    H_out, W_out = grad_out.shape[2], grad_out.shape[3]
    grad_padded = grad_out.new_zeros(N, C, H + 2 * PH, W + 2 * PW)
    for i in range(H_out):
        for j in range(W_out):
            share = torch.einsum("nf,fckl->nckl", grad_out[:, :, i, j], weight)
            grad_padded[:, :, i * SH:i * SH + KH, j * SW:j * SW + KW] += share
    return grad_padded[:, :, PH:PH + H, PW:PW + W]
"""
IGRAD_HEAD = "def conv2d_input_grad(grad_out, weight, x_shape, stride=1, padding=0):\n"

# keeps the padding: the padded input's shape comes back
IGRAD_NO_CROP = IGRAD_HEAD + IGRAD_REFERENCE_BODY.replace(
    "return grad_padded[:, :, PH:PH + H, PW:PW + W]", "return grad_padded")

# window (i, j) taken to start at (i, j) whatever the stride
IGRAD_STRIDE_IGNORED = IGRAD_HEAD + IGRAD_REFERENCE_BODY.replace(
    "grad_padded[:, :, i * SH:i * SH + KH, j * SW:j * SW + KW] += share",
    "grad_padded[:, :, i:i + KH, j:j + KW] += share")

# torch's own convolution backward: right values, but the part forbids it
IGRAD_NN_GRAD = IGRAD_HEAD + """    return torch.nn.grad.conv2d_input(tuple(x_shape), weight, grad_out, stride=stride, padding=padding)
"""

# the textbook route: spread grad_out by the stride, pad it by K - 1, and correlate with the
# flipped filters, channels swapped (a "full" convolution), then cut the padding
IGRAD_FULL_CONVOLUTION = IGRAD_HEAD + """    N, C, H, W = x_shape
    n_filters, _, KH, KW = weight.shape
    SH, SW = pair(stride)
    PH, PW = pair(padding)
    H_out, W_out = grad_out.shape[2], grad_out.shape[3]
    HP, WP = H + 2 * PH, W + 2 * PW
    spread = grad_out.new_zeros(N, n_filters, HP - KH + 1, WP - KW + 1)
    spread[:, :, 0:H_out * SH:SH, 0:W_out * SW:SW] = grad_out
    full = grad_out.new_zeros(N, n_filters, spread.shape[2] + 2 * (KH - 1), spread.shape[3] + 2 * (KW - 1))
    full[:, :, KH - 1:KH - 1 + spread.shape[2], KW - 1:KW - 1 + spread.shape[3]] = spread
    flipped = weight.flip(2, 3)
    grad_padded = grad_out.new_zeros(N, C, HP, WP)
    for p in range(HP):
        for q in range(WP):
            grad_padded[:, :, p, q] = torch.einsum("nfkl,fckl->nc", full[:, :, p:p + KH, q:q + KW], flipped)
    return grad_padded[:, :, PH:PH + H, PW:PW + W]
"""

# the same full convolution, but without the flip
IGRAD_FULL_CONVOLUTION_NO_FLIP = IGRAD_FULL_CONVOLUTION.replace("weight.flip(2, 3)", "weight")

BGRAD_MEAN = """def conv2d_bias_grad(grad_out):
    return grad_out.mean(dim=(0, 2, 3))
"""

BGRAD_BATCH_ONLY = """def conv2d_bias_grad(grad_out):
    return grad_out.sum(dim=0)
"""

BGRAD_EINSUM = """def conv2d_bias_grad(grad_out):
    return torch.einsum("nfij->f", grad_out)
"""

# the bias's gradient by autograd: a bias added to a stand-in output, then backward (the text
# says "not with autograd"; 2026-12-05, the second audit)
BGRAD_AUTOGRAD = """def conv2d_bias_grad(grad_out):
    bias = torch.zeros(grad_out.shape[1], dtype=grad_out.dtype, requires_grad=True)
    with torch.enable_grad():
        out = grad_out.detach() * 0 + bias.view(1, -1, 1, 1)
        (grad_bias,) = torch.autograd.grad(out, bias, grad_out)
    return grad_bias
"""

# the same through F.conv2d with a bias and .backward()
BGRAD_CONV_BACKWARD = """def conv2d_bias_grad(grad_out):
    n, f, h, w = grad_out.shape
    x = torch.zeros(n, 1, h, w, dtype=grad_out.dtype)
    bias = torch.zeros(f, dtype=grad_out.dtype, requires_grad=True)
    with torch.enable_grad():
        F.conv2d(x, torch.zeros(f, 1, 1, 1, dtype=grad_out.dtype), bias).backward(grad_out)
    return bias.grad
"""

BGRAD_FLATTEN = """def conv2d_bias_grad(grad_out):
    return grad_out.transpose(0, 1).reshape(grad_out.shape[1], -1).sum(dim=1)
"""

# ------------------------------------------------------------------ audit 2026-12-05 (a mistake elsewhere is not this gate's)

IM2COL_UNDER_NO_GRAD = '''
@torch.no_grad()
def conv2d_im2col(x, weight, bias=None, stride=1, padding=0):
    N, C, H, W = x.shape
    n_filters, _, KH, KW = weight.shape
    sh, sw = pair(stride)
    ph, pw = pair(padding)
    H_out = conv_output_size(H, KH, ph, sh)
    W_out = conv_output_size(W, KW, pw, sw)
    cols = im2col(x, (KH, KW), stride, padding)        # (N, K, L), K = C*KH*KW, L = H_out*W_out
    K, L = cols.shape[1], cols.shape[2]
    # one matrix multiply for all images: (F, K) @ (K, N*L) -> (F, N*L)
    out = weight.reshape(n_filters, K) @ cols.transpose(0, 1).reshape(K, N * L)
    if bias is not None:
        out = out + bias.view(n_filters, 1)
    return out.reshape(n_filters, N, H_out, W_out).transpose(0, 1).contiguous()  # (N, F, H_out, W_out)
'''

NAIVE_BIAS_UNSHAPED = '''
def conv2d_naive(x, weight, bias=None, stride=1, padding=0):
    N, C, H, W = x.shape
    n_filters, _, KH, KW = weight.shape
    sh, sw = pair(stride)
    ph, pw = pair(padding)
    H_out = conv_output_size(H, KH, ph, sh)
    W_out = conv_output_size(W, KW, pw, sw)
    x_pad = pad2d(x, (ph, pw))
    out = x.new_zeros(N, n_filters, H_out, W_out)
    for i in range(H_out):
        for j in range(W_out):
            window = x_pad[:, :, i * sh:i * sh + KH, j * sw:j * sw + KW]  # (N, C, KH, KW)
            # (N, 1, C, KH, KW) * (1, F, C, KH, KW), summed over C, KH, KW: (N, F)
            out[:, :, i, j] = (window[:, None] * weight[None]).sum(dim=(2, 3, 4))
    if bias is not None:
        out = out + bias
    return out
'''

NAIVE_FORGETS_PADDING = '''
def conv2d_naive(x, weight, bias=None, stride=1, padding=0):
    N, C, H, W = x.shape
    n_filters, _, KH, KW = weight.shape
    sh, sw = pair(stride)
    ph, pw = pair(padding)
    H_out = conv_output_size(H, KH, ph, sh)
    W_out = conv_output_size(W, KW, pw, sw)
    x_pad = x  # TODO pad
    out = x.new_zeros(N, n_filters, H_out, W_out)
    for i in range(H_out):
        for j in range(W_out):
            window = x_pad[:, :, i * sh:i * sh + KH, j * sw:j * sw + KW]  # (N, C, KH, KW)
            # (N, 1, C, KH, KW) * (1, F, C, KH, KW), summed over C, KH, KW: (N, F)
            out[:, :, i, j] = (window[:, None] * weight[None]).sum(dim=(2, 3, 4))
    if bias is not None:
        out = out + bias.view(1, n_filters, 1, 1)
    return out
'''

IM2COL_CONV_BIAS_AFTER_RESHAPE = '''
def conv2d_im2col(x, weight, bias=None, stride=1, padding=0):
    N, C, H, W = x.shape
    Fn, _, KH, KW = weight.shape
    sh, sw = pair(stride)
    ph, pw = pair(padding)
    H_out, W_out = conv_output_size(H, KH, ph, sh), conv_output_size(W, KW, pw, sw)
    cols = im2col(x, (KH, KW), stride, padding)
    out = (weight.reshape(Fn, -1) @ cols).reshape(N, Fn, H_out, W_out)
    if bias is not None:
        out = out + bias
    return out
'''

SCRATCH_SQUARE_KERNEL_ONLY = '''
class Conv2dScratch(nn.Module):

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True):
        super().__init__()
        KH = KW = kernel_size
        self.stride = pair(stride)
        self.padding = pair(padding)
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels, KH, KW))
        if bias:
            self.bias = nn.Parameter(torch.empty(out_channels))
        else:
            self.register_parameter("bias", None)
        bound = 1 / math.sqrt(in_channels * KH * KW)
        nn.init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        return conv2d_im2col(x, self.weight, self.bias, self.stride, self.padding)
'''

SCRATCH_INITS_MISSING_BIAS = '''
class Conv2dScratch(nn.Module):

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True):
        super().__init__()
        KH, KW = pair(kernel_size)
        self.stride = pair(stride)
        self.padding = pair(padding)
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels, KH, KW))
        if bias:
            self.bias = nn.Parameter(torch.empty(out_channels))
        else:
            self.register_parameter("bias", None)
        bound = 1 / math.sqrt(in_channels * KH * KW)
        nn.init.uniform_(self.weight, -bound, bound)
        nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        return conv2d_im2col(x, self.weight, self.bias, self.stride, self.padding)
'''


VARIANTS = [
    # Part 1
    Variant("conv_output_size_ceil", {"conv_output_size": OUTPUT_SIZE_CEIL},
            frozenset({"test_conv_output_size", "test_conv2d_naive_stride_padding", "test_im2col",
                       "test_conv2d_im2col", "test_conv2d_scratch_forward",
                       "test_conv2d_weight_grad_stride_padding"}),
            "rounds the number of windows up, so a window that sticks out counts"),
    Variant("conv_output_size_one_sided_padding", {"conv_output_size": OUTPUT_SIZE_ONE_SIDED_PADDING},
            frozenset({"test_conv_output_size", "test_conv2d_naive_stride_padding", "test_im2col", "test_conv2d_im2col", "test_conv2d_scratch_forward",
                       "test_conv2d_weight_grad_stride_padding"}),
            "adds the padding once instead of on both sides"),
    # Part 2
    Variant("pad2d_pair_swapped", {"pad2d": PAD2D_PAIR_SWAPPED},
            frozenset({"test_pad2d", "test_conv2d_naive_stride_padding", "test_im2col", "test_conv2d_im2col",
                       "test_conv2d_scratch_forward", "test_conv2d_weight_grad_stride_padding"}),
            "reads padding=(ph, pw) as (columns, rows)"),
    Variant("pad2d_minus_zero_slice", {"pad2d": PAD2D_MINUS_ZERO},
            frozenset({"test_pad2d", "test_conv2d_naive_basic", "test_conv2d_naive_stride_padding",
                       "test_im2col", "test_conv2d_im2col",
                       "test_im2col_vectorised", "test_conv2d_scratch_forward",
                       "test_conv2d_weight_grad_basic", "test_conv2d_weight_grad_stride_padding",
                       "test_conv2d_weight_grad_vectorised",
                       "test_float32_outputs"}),
            "slices out[p:-p], empty when the padding is 0: every later part pads by 0 somewhere "
            "(each of their messages says to fix pad2d first); the four \"no built-in\" gates judge "
            "the operators reached, also by the calls that raise, and stay"),
    Variant("pad2d_uses_F_pad", {"pad2d": PAD2D_F_PAD}, frozenset({"test_pad2d_no_builtin"}),
            "calls F.pad, which the part forbids"),
    Variant("pad2d_cat_correct", {"pad2d": PAD2D_CAT}, frozenset(),
            "correct: concatenates blocks of zeros"),
    # Part 3
    Variant("naive_flipped_kernel", {"conv2d_naive": NAIVE_FLIPPED_KERNEL},
            frozenset({"test_conv2d_naive_basic", "test_conv2d_naive_stride_padding"}),
            "flips the kernel: a true convolution instead of PyTorch's cross-correlation"),
    Variant("naive_stride_pair_first_only", {"conv2d_naive": NAIVE_STRIDE_FIRST_ONLY},
            frozenset({"test_conv2d_naive_stride_padding"}),
            "uses the first entry of a stride pair for both directions"),
    Variant("naive_float32_output", {"conv2d_naive": NAIVE_FLOAT32_OUTPUT},
            frozenset({"test_conv2d_naive_basic", "test_conv2d_naive_stride_padding"}),
            "allocates the output with torch.zeros, float32 whatever the input dtype"),
    Variant("naive_alias_of_F_conv2d", {"conv2d_naive": NAIVE_ALIAS_OF_F_CONV2D},
            frozenset({"test_conv2d_naive_no_builtin"}),
            "calls F.conv2d through an alias bound at import time"),
    Variant("naive_builtin_for_big_batches", {"conv2d_naive": NAIVE_BUILTIN_FOR_BIG_BATCHES},
            frozenset({"test_conv2d_naive_no_builtin"}),
            "loops on small inputs but calls torch.ops.aten.convolution on batches of 8 or more"),
    Variant("naive_four_loops_correct", {"conv2d_naive": NAIVE_FOUR_LOOPS}, frozenset(),
            "correct: CS231n's four nested loops"),
    # Part 4
    Variant("im2col_kernel_major_rows", {"im2col": IM2COL_KERNEL_MAJOR},
            frozenset({"test_im2col", "test_conv2d_im2col", "test_conv2d_scratch_forward",
                       "test_conv2d_weight_grad_basic", "test_conv2d_weight_grad_stride_padding"}),
            "orders the rows (p, q, c) instead of F.unfold's (c, p, q)"),
    Variant("im2col_F_unfold", {"im2col": IM2COL_F_UNFOLD},
            frozenset({"test_im2col_no_builtin", "test_conv2d_scratch_no_builtin",
                       "test_conv2d_weight_grad_no_builtin"}),
            "calls F.unfold, torch's own im2col"),
    Variant("im2col_loop_over_windows", {"im2col": IM2COL_LOOP_OVER_WINDOWS},
            frozenset({"test_im2col_vectorised", "test_conv2d_weight_grad_vectorised"}),
            "right values, but one slice per output position: not vectorised"),
    Variant("im2col_tensor_unfold_correct", {"im2col": IM2COL_TENSOR_UNFOLD}, frozenset(),
            "correct: Tensor.unfold (a strided view) and a permute"),
    Variant("conv2d_im2col_no_permute", {"conv2d_im2col": CONV_IM2COL_NO_PERMUTE},
            frozenset({"test_conv2d_im2col", "test_conv2d_scratch_forward"}),
            "computes (N, L, F) and reshapes it to (N, F, H_out, W_out) without a permute"),
    Variant("conv2d_im2col_aten_convolution", {"conv2d_im2col": CONV_IM2COL_ATEN},
            frozenset({"test_im2col_no_builtin", "test_conv2d_scratch_no_builtin"}),
            "calls torch.ops.aten.convolution"),
    Variant("conv2d_im2col_loop_over_images", {"conv2d_im2col": CONV_IM2COL_LOOP_OVER_IMAGES},
            frozenset({"test_im2col_vectorised"}),
            "right values, but one matrix multiply per image: not vectorised"),
    Variant("conv2d_im2col_einsum_correct", {"conv2d_im2col": CONV_IM2COL_EINSUM}, frozenset(),
            "correct: einsum instead of @"),
    # Part 5
    Variant("scratch_kaiming_default_a", {"conv2d_scratch": SCRATCH_KAIMING_DEFAULT_A},
            frozenset({"test_conv2d_scratch_init"}),
            "kaiming_uniform_ with its default a=0: weights up to sqrt(6/fan_in), not nn.Conv2d's"),
    Variant("scratch_zero_bias", {"conv2d_scratch": SCRATCH_ZERO_BIAS},
            frozenset({"test_conv2d_scratch_init"}),
            "initialises the bias to zero, unlike nn.Conv2d"),
    Variant("scratch_fan_in_channels_only", {"conv2d_scratch": SCRATCH_FAN_IN_CHANNELS_ONLY},
            frozenset({"test_conv2d_scratch_init"}),
            "fan_in = in_channels, forgetting the kernel area"),
    Variant("scratch_plain_tensors", {"conv2d_scratch": SCRATCH_PLAIN_TENSORS},
            frozenset({"test_conv2d_scratch_init", "test_conv2d_scratch_forward"}),
            "stores weight and bias as plain tensors, not registered nn.Parameters"),
    Variant("scratch_forward_F_conv2d", {"conv2d_scratch": SCRATCH_FORWARD_F_CONV2D},
            frozenset({"test_conv2d_scratch_no_builtin"}),
            "forward calls F.conv2d instead of conv2d_im2col"),
    Variant("scratch_forward_uses_data", {"conv2d_scratch": SCRATCH_FORWARD_DATA},
            frozenset({"test_conv2d_scratch_forward"}),
            "forward uses .data, so no gradient reaches weight and bias"),
    Variant("scratch_bias_first_kaiming_correct", {"conv2d_scratch": SCRATCH_BIAS_FIRST_KAIMING}, frozenset(),
            "correct: nn.Conv2d's kaiming_uniform_(a=sqrt(5)), initialised in another order"),
    # Part 6
    Variant("weight_grad_stride_ignored", {"conv2d_weight_grad": WGRAD_STRIDE_IGNORED},
            frozenset({"test_conv2d_weight_grad_stride_padding"}),
            "builds the columns with stride 1 whatever the stride"),
    Variant("weight_grad_no_batch_sum", {"conv2d_weight_grad": WGRAD_LAST_IMAGE_ONLY},
            frozenset({"test_conv2d_weight_grad_basic", "test_conv2d_weight_grad_stride_padding"}),
            "uses only the last image instead of summing over the batch"),
    Variant("weight_grad_autograd", {"conv2d_weight_grad": WGRAD_AUTOGRAD},
            frozenset({"test_conv2d_weight_grad_basic", "test_conv2d_weight_grad_stride_padding",
                       "test_conv2d_weight_grad_no_builtin", "test_conv2d_weight_grad_vectorised"}),
            "asks autograd instead of using im2col (fails under torch.no_grad)"),
    Variant("weight_grad_enable_grad", {"conv2d_weight_grad": WGRAD_ENABLE_GRAD},
            frozenset({"test_conv2d_weight_grad_no_builtin"}),
            "autograd through the student's own conv2d_im2col, with gradients switched back on "
            "inside: right values, only the \"no built-in\" point (no autograd) is lost"),
    Variant("input_grad_enable_grad", {"conv2d_input_grad": IGRAD_ENABLE_GRAD},
            frozenset({"test_conv2d_input_grad_no_builtin"}),
            "autograd through the student's own conv2d_im2col for the input: only the \"no "
            "built-in\" point is lost"),
    Variant("weight_grad_nn_grad", {"conv2d_weight_grad": WGRAD_NN_GRAD},
            frozenset({"test_conv2d_weight_grad_no_builtin"}),
            "calls torch.nn.grad.conv2d_weight, torch's convolution backward"),
    Variant("weight_grad_einsum_correct", {"conv2d_weight_grad": WGRAD_EINSUM}, frozenset(),
            "correct: one einsum over images and windows"),
    # issue 11's categories
    Variant("naive_numpy_correct", {"conv2d_naive": NAIVE_NUMPY}, frozenset(),
            "correct: a numpy port (x.numpy()) that keeps the dtype; gates call it on plain tensors"),
    Variant("naive_numpy_float64_output", {"conv2d_naive": NAIVE_NUMPY_FLOAT64}, frozenset({"test_float32_outputs"}),
            "a numpy port that returns float64 for float32 input: only the dtype test is lost"),
    Variant("naive_scipy_correlate", {"conv2d_naive": NAIVE_SCIPY_CORRELATE},
            frozenset({"test_conv2d_naive_no_builtin"}),
            "right values from scipy.signal.correlate: another library's convolution, only the "
            "\"no built-in\" point is lost"),
    Variant("pad2d_np_pad", {"pad2d": PAD2D_NP_PAD},
            frozenset({"test_pad2d_no_builtin", "test_conv2d_scratch_forward"}),
            "numpy's np.pad: right values, but a built-in padding (its point), and the round trip "
            "through numpy cuts autograd, so no gradient reaches Conv2dScratch's input"),
    Variant("im2col_numpy_loop", {"im2col": IM2COL_NUMPY_LOOP},
            frozenset({"test_im2col_vectorised", "test_conv2d_weight_grad_vectorised",
                       "test_conv2d_scratch_forward"}),
            "right values from a numpy loop over output positions: not vectorised (Python lines "
            "grow), and no gradient reaches the input of Conv2dScratch"),
    Variant("weight_grad_loop_over_images", {"conv2d_weight_grad": WGRAD_LOOP_OVER_IMAGES},
            frozenset({"test_conv2d_weight_grad_vectorised"}),
            "right values from a loop over images: not im2col and one matrix multiply"),
    # Part 7
    Variant("input_grad_keeps_padding", {"conv2d_input_grad": IGRAD_NO_CROP},
            frozenset({"test_conv2d_input_grad_stride_padding"}),
            "returns the gradient of the padded input (forgets to cut the padding off)"),
    Variant("input_grad_stride_ignored", {"conv2d_input_grad": IGRAD_STRIDE_IGNORED},
            frozenset({"test_conv2d_input_grad_stride_padding"}),
            "sends window (i, j) back to (i, j) instead of (i * stride, j * stride)"),
    Variant("input_grad_nn_grad", {"conv2d_input_grad": IGRAD_NN_GRAD},
            frozenset({"test_conv2d_input_grad_no_builtin"}), "calls torch.nn.grad.conv2d_input"),
    Variant("input_grad_full_convolution_no_flip", {"conv2d_input_grad": IGRAD_FULL_CONVOLUTION_NO_FLIP},
            frozenset({"test_conv2d_input_grad_basic", "test_conv2d_input_grad_stride_padding"}),
            "the full convolution without flipping the filters"),
    Variant("input_grad_full_convolution", {"conv2d_input_grad": IGRAD_FULL_CONVOLUTION}, frozenset(),
            "correct: spread by the stride, pad by K - 1, correlate with the flipped filters"),
    Variant("bias_grad_mean", {"conv2d_bias_grad": BGRAD_MEAN}, frozenset({"test_conv2d_bias_grad"}),
            "averages instead of summing"),
    Variant("bias_grad_batch_only", {"conv2d_bias_grad": BGRAD_BATCH_ONLY}, frozenset({"test_conv2d_bias_grad"}),
            "sums over the batch only: shape (F, H_out, W_out)"),
    Variant("bias_grad_einsum", {"conv2d_bias_grad": BGRAD_EINSUM}, frozenset(), "correct: einsum"),
    Variant("bias_grad_autograd", {"conv2d_bias_grad": BGRAD_AUTOGRAD}, frozenset({"test_conv2d_bias_grad"}),
            "right values by torch.autograd.grad of a bias added to a stand-in output: the text says not with autograd"),
    Variant("bias_grad_conv_backward", {"conv2d_bias_grad": BGRAD_CONV_BACKWARD}, frozenset({"test_conv2d_bias_grad"}),
            "right values from F.conv2d(..., bias).backward(grad_out): a built-in convolution and autograd"),
    Variant("bias_grad_flatten_sum", {"conv2d_bias_grad": BGRAD_FLATTEN}, frozenset(),
            "correct: channels first, flattened, summed"),
    Variant('im2col_under_no_grad', {'conv2d_im2col': IM2COL_UNDER_NO_GRAD}, frozenset({'test_conv2d_scratch_forward'}),
            'conv2d_im2col decorated with torch.no_grad(): values right, no gradients reach the layer; its gate still sees no built-in'),
    Variant('naive_bias_unshaped', {'conv2d_naive': NAIVE_BIAS_UNSHAPED}, frozenset({'test_conv2d_naive_basic'}),
            'adds bias (F,) without reshaping it: broadcasts along W_out (or raises); one bias mistake, charged '
            'once by test_conv2d_naive_basic, which owns the bias; the stride and padding test, called without '
            'a bias, keeps its points (it lost them too before); the gate and the dtype test stay'),
    Variant('naive_forgets_padding', {'conv2d_naive': NAIVE_FORGETS_PADDING}, frozenset({'test_conv2d_naive_stride_padding'}),
            'never pads the input: only the padded cases fail; the gate stays'),
    Variant('im2col_conv_bias_after_reshape', {'conv2d_im2col': IM2COL_CONV_BIAS_AFTER_RESHAPE}, frozenset({'test_conv2d_im2col', 'test_conv2d_scratch_forward'}),
            'adds the bias after reshaping to (N, F, H_out, W_out) without a view: the vectorised and dtype tests stay'),
    Variant('scratch_square_kernel_only', {'conv2d_scratch': SCRATCH_SQUARE_KERNEL_ONLY}, frozenset({'test_conv2d_scratch_forward', 'test_conv2d_scratch_init'}),
            'KH = KW = kernel_size: a pair fails to build; the gate stays'),
    Variant('scratch_inits_missing_bias', {'conv2d_scratch': SCRATCH_INITS_MISSING_BIAS}, frozenset({'test_conv2d_scratch_forward', 'test_conv2d_scratch_init'}),
            'initialises self.bias even when bias=False (None): that layer cannot be built; the gate stays'),
]

# ---------------------------------------------------------------------------------------------
# A grader's audit, as students write them: wrong details that cost their own tests (and the
# tests of the functions that call them), and other correct routes. naive_weight_read_channels_first
# raises whenever C != F: before the gates' visible parts let a raising call through to the
# hidden check of the operators reached, it also lost test_conv2d_naive_no_builtin.
OUTPUT_SIZE_MATH_FLOOR = '''
import math

def conv_output_size(n, k, padding=0, stride=1):
    # how many strides fit after the first window, plus that first window
    return math.floor((n + 2 * padding - k) / stride) + 1
'''

OUTPUT_SIZE_NUMPY_INT = '''
import numpy as np

def conv_output_size(n, k, padding=0, stride=1):
    return np.floor_divide(n + 2 * padding - k, stride) + 1     # a numpy int64, not a Python int
'''

PAD2D_ALL_AFTER = '''
def pad2d(x, padding):
    ph, pw = pair(padding)
    N, C, H, W = x.shape
    out = x.new_zeros(N, C, H + 2 * ph, W + 2 * pw)
    out[:, :, :H, :W] = x                                       # x in the top-left corner
    return out
'''

PAD2D_NARROW_COPY = '''
def pad2d(x, padding):
    ph, pw = pair(padding)
    N, C, H, W = x.shape
    out = torch.zeros((N, C, H + 2 * ph, W + 2 * pw), dtype=x.dtype, device=x.device)
    out.narrow(2, ph, H).narrow(3, pw, W).copy_(x)
    return out
'''

NAIVE_WINDOW_NOT_STRIDED = '''
def conv2d_naive(x, weight, bias=None, stride=1, padding=0):
    N, C, H, W = x.shape
    n_filters, _, KH, KW = weight.shape
    sh, sw = pair(stride)
    ph, pw = pair(padding)
    H_out = conv_output_size(H, KH, ph, sh)
    W_out = conv_output_size(W, KW, pw, sw)
    x_pad = pad2d(x, (ph, pw))
    out = x.new_zeros(N, n_filters, H_out, W_out)
    for i in range(H_out):
        for j in range(W_out):
            window = x_pad[:, :, i:i + KH, j:j + KW]             # window i starts at row i, not i * sh
            out[:, :, i, j] = (window[:, None] * weight[None]).sum(dim=(2, 3, 4))
    if bias is not None:
        out = out + bias.view(1, n_filters, 1, 1)
    return out
'''

NAIVE_BIAS_EVERY_POSITION = '''
def conv2d_naive(x, weight, bias=None, stride=1, padding=0):
    N, C, H, W = x.shape
    n_filters, _, KH, KW = weight.shape
    sh, sw = pair(stride)
    ph, pw = pair(padding)
    H_out = conv_output_size(H, KH, ph, sh)
    W_out = conv_output_size(W, KW, pw, sw)
    x_pad = pad2d(x, (ph, pw))
    out = x.new_zeros(N, n_filters, H_out, W_out)
    for i in range(H_out):
        for j in range(W_out):
            window = x_pad[:, :, i * sh:i * sh + KH, j * sw:j * sw + KW]
            out[:, :, i, j] = (window[:, None] * weight[None]).sum(dim=(2, 3, 4))
            if bias is not None:
                out += bias.view(1, n_filters, 1, 1)             # inside the loop: added H_out * W_out times
    return out
'''

NAIVE_WEIGHT_CHANNELS_FIRST = '''
def conv2d_naive(x, weight, bias=None, stride=1, padding=0):
    N, C, H, W = x.shape
    n_filters, _, KH, KW = weight.shape
    sh, sw = pair(stride)
    ph, pw = pair(padding)
    H_out = conv_output_size(H, KH, ph, sh)
    W_out = conv_output_size(W, KW, pw, sw)
    x_pad = pad2d(x, (ph, pw))
    out = x.new_zeros(N, n_filters, H_out, W_out)
    for i in range(H_out):
        for j in range(W_out):
            window = x_pad[:, :, i * sh:i * sh + KH, j * sw:j * sw + KW]
            out[:, :, i, j] = torch.einsum("nckl,cfkl->nf", window, weight)   # reads weight as (C, F, KH, KW)
    if bias is not None:
        out = out + bias.view(1, n_filters, 1, 1)
    return out
'''

NAIVE_WINDOW_CHANNELS_LAST = '''
def conv2d_naive(x, weight, bias=None, stride=1, padding=0):
    N, C, H, W = x.shape
    n_filters, _, KH, KW = weight.shape
    sh, sw = pair(stride)
    ph, pw = pair(padding)
    H_out = conv_output_size(H, KH, ph, sh)
    W_out = conv_output_size(W, KW, pw, sw)
    x_pad = pad2d(x, (ph, pw))
    w_flat = weight.reshape(n_filters, -1)                              # (F, C*KH*KW), channel-major
    out = x.new_zeros(N, n_filters, H_out, W_out)
    for i in range(H_out):
        for j in range(W_out):
            window = x_pad[:, :, i * sh:i * sh + KH, j * sw:j * sw + KW]
            out[:, :, i, j] = window.permute(0, 2, 3, 1).reshape(N, -1) @ w_flat.T   # window flattened (KH, KW, C)
    if bias is not None:
        out = out + bias.view(1, n_filters, 1, 1)
    return out
'''

NAIVE_TENSORDOT_STACK = '''
def conv2d_naive(x, weight, bias=None, stride=1, padding=0):
    """Builds the output row by row with torch.stack, one tensordot per position."""
    sh, sw = pair(stride)
    ph, pw = pair(padding)
    KH, KW = weight.shape[-2:]
    xp = pad2d(x, (ph, pw))
    H_out = (xp.shape[2] - KH) // sh + 1
    W_out = (xp.shape[3] - KW) // sw + 1
    rows = []
    for i in range(H_out):
        row = []
        for j in range(W_out):
            patch = xp[:, :, i * sh:i * sh + KH, j * sw:j * sw + KW]
            row.append(torch.tensordot(patch, weight, dims=([1, 2, 3], [1, 2, 3])))   # (N, F)
        rows.append(torch.stack(row, dim=-1))          # (N, F, W_out)
    out = torch.stack(rows, dim=-2)                    # (N, F, H_out, W_out)
    if bias is not None:
        out = out + bias[None, :, None, None]
    return out
'''

IM2COL_AS_STRIDED = '''
def im2col(x, kernel_size, stride=1, padding=0):
    KH, KW = pair(kernel_size)
    sh, sw = pair(stride)
    ph, pw = pair(padding)
    N, C, H, W = x.shape
    H_out = conv_output_size(H, KH, ph, sh)
    W_out = conv_output_size(W, KW, pw, sw)
    xp = pad2d(x, (ph, pw)).contiguous()
    sN, sC, sH, sW = xp.stride()
    windows = xp.as_strided((N, C, KH, KW, H_out, W_out), (sN, sC, sH, sW, sH * sh, sW * sw))
    return windows.reshape(N, C * KH * KW, H_out * W_out)
'''

IM2COL_GATHER_INDEX = '''
def im2col(x, kernel_size, stride=1, padding=0):
    """Index arithmetic: row and column of every (kernel offset, window) pair, one gather."""
    KH, KW = pair(kernel_size)
    sh, sw = pair(stride)
    ph, pw = pair(padding)
    N, C, H, W = x.shape
    H_out = conv_output_size(H, KH, ph, sh)
    W_out = conv_output_size(W, KW, pw, sw)
    xp = pad2d(x, (ph, pw))
    rows = (torch.arange(KH)[:, None] + sh * torch.arange(H_out)[None, :])     # (KH, H_out)
    cols = (torch.arange(KW)[:, None] + sw * torch.arange(W_out)[None, :])     # (KW, W_out)
    r = rows[:, None, :, None].expand(KH, KW, H_out, W_out)
    c = cols[None, :, None, :].expand(KH, KW, H_out, W_out)
    patches = xp[:, :, r, c]                                                  # (N, C, KH, KW, H_out, W_out)
    return patches.reshape(N, C * KH * KW, H_out * W_out)
'''

IM2COL_WINDOWS_COLUMN_MAJOR = '''
def im2col(x, kernel_size, stride=1, padding=0):
    KH, KW = pair(kernel_size)
    sh, sw = pair(stride)
    ph, pw = pair(padding)
    N, C, H, W = x.shape
    H_out = conv_output_size(H, KH, ph, sh)
    W_out = conv_output_size(W, KW, pw, sw)
    x_pad = pad2d(x, (ph, pw))
    offsets = [x_pad[:, :, p:p + sh * H_out:sh, q:q + sw * W_out:sw]
               for p in range(KH) for q in range(KW)]
    cols = torch.stack(offsets, dim=2)                  # (N, C, KH*KW, H_out, W_out)
    # windows numbered down the columns first: L index = j * H_out + i
    return cols.transpose(3, 4).reshape(N, C * KH * KW, H_out * W_out)
'''

IM2COL_FORGETS_PADDING = '''
def im2col(x, kernel_size, stride=1, padding=0):
    KH, KW = pair(kernel_size)
    sh, sw = pair(stride)
    ph, pw = pair(padding)
    N, C, H, W = x.shape
    H_out = conv_output_size(H, KH, 0, sh)              # padding read, but never applied
    W_out = conv_output_size(W, KW, 0, sw)
    offsets = [x[:, :, p:p + sh * H_out:sh, q:q + sw * W_out:sw]
               for p in range(KH) for q in range(KW)]
    cols = torch.stack(offsets, dim=2)                  # (N, C, KH*KW, H_out, W_out)
    return cols.reshape(N, C * KH * KW, H_out * W_out)
'''

CONV_IM2COL_WEIGHT_CHANNELS_LAST = '''
def conv2d_im2col(x, weight, bias=None, stride=1, padding=0):
    N, C, H, W = x.shape
    n_filters, _, KH, KW = weight.shape
    sh, sw = pair(stride)
    ph, pw = pair(padding)
    H_out = conv_output_size(H, KH, ph, sh)
    W_out = conv_output_size(W, KW, pw, sw)
    cols = im2col(x, (KH, KW), stride, padding)                    # (N, C*KH*KW, L)
    w_rows = weight.permute(0, 2, 3, 1).reshape(n_filters, -1)      # flattened as (KH, KW, C): not cols' order
    out = w_rows @ cols                                            # (N, F, L)
    if bias is not None:
        out = out + bias.view(1, n_filters, 1)
    return out.reshape(N, n_filters, H_out, W_out)
'''

CONV_IM2COL_BMM = '''
def conv2d_im2col(x, weight, bias=None, stride=1, padding=0):
    N, C, H, W = x.shape
    n_filters, _, KH, KW = weight.shape
    sh, sw = pair(stride)
    ph, pw = pair(padding)
    H_out = conv_output_size(H, KH, ph, sh)
    W_out = conv_output_size(W, KW, pw, sw)
    cols = im2col(x, (KH, KW), (sh, sw), (ph, pw))                  # (N, K, L)
    w = weight.reshape(1, n_filters, -1).expand(N, -1, -1)           # (N, F, K), no copy
    out = torch.bmm(w, cols)                                         # (N, F, L)
    if bias is not None:
        out = out + bias[None, :, None]
    return out.view(N, n_filters, H_out, W_out)
'''

SCRATCH_FORWARD_DROPS_STRIDE = '''
class Conv2dScratch(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True):
        super().__init__()
        KH, KW = pair(kernel_size)
        self.stride = pair(stride)
        self.padding = pair(padding)
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels, KH, KW))
        if bias:
            self.bias = nn.Parameter(torch.empty(out_channels))
        else:
            self.register_parameter("bias", None)
        bound = 1 / math.sqrt(in_channels * KH * KW)
        nn.init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        return conv2d_im2col(x, self.weight, self.bias)          # stride and padding stored, never passed
'''

SCRATCH_RAND_NOT_CENTRED = '''
class Conv2dScratch(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True):
        super().__init__()
        KH, KW = pair(kernel_size)
        self.stride, self.padding = pair(stride), pair(padding)
        bound = 1 / math.sqrt(in_channels * KH * KW)
        self.weight = nn.Parameter(torch.rand(out_channels, in_channels, KH, KW) * bound)   # [0, bound)
        self.bias = nn.Parameter(torch.rand(out_channels) * bound) if bias else None

    def forward(self, x):
        return conv2d_im2col(x, self.weight, self.bias, self.stride, self.padding)
'''

SCRATCH_RAND_AFFINE = '''
class Conv2dScratch(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True):
        super().__init__()
        KH, KW = pair(kernel_size)
        self.stride, self.padding = pair(stride), pair(padding)
        bound = 1 / math.sqrt(in_channels * KH * KW)
        self.weight = nn.Parameter((2 * torch.rand(out_channels, in_channels, KH, KW) - 1) * bound)
        self.bias = nn.Parameter((2 * torch.rand(out_channels) - 1) * bound) if bias else None

    def forward(self, x):
        return conv2d_im2col(x, self.weight, self.bias, self.stride, self.padding)
'''

SCRATCH_BORROWS_NN_CONV2D = '''
class Conv2dScratch(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True):
        super().__init__()
        # nn.Conv2d only for its initial values; the computation is conv2d_im2col's
        init = nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride, padding=padding, bias=bias)
        self.weight = nn.Parameter(init.weight.detach().clone())
        self.bias = nn.Parameter(init.bias.detach().clone()) if bias else None
        self.stride, self.padding = pair(stride), pair(padding)

    def forward(self, x):
        return conv2d_im2col(x, self.weight, self.bias, self.stride, self.padding)
'''

WGRAD_FILTERS_CHANNELS_SWAPPED = '''
def conv2d_weight_grad(x, grad_out, kernel_size, stride=1, padding=0):
    KH, KW = pair(kernel_size)
    N, C, H, W = x.shape
    n_filters = grad_out.shape[1]
    cols = im2col(x, (KH, KW), stride, padding)               # (N, K, L)
    g = grad_out.reshape(N, n_filters, -1)                    # (N, F, L)
    grad = (cols @ g.transpose(1, 2)).sum(dim=0)              # (K, F)
    return grad.reshape(n_filters, C, KH, KW)                 # reshaped without a transpose
'''

WGRAD_TENSORDOT = '''
def conv2d_weight_grad(x, grad_out, kernel_size, stride=1, padding=0):
    KH, KW = pair(kernel_size)
    C = x.shape[1]
    n_filters = grad_out.shape[1]
    cols = im2col(x, (KH, KW), stride, padding)                                  # (N, K, L)
    g = grad_out.flatten(2)                                                      # (N, F, L)
    return torch.tensordot(g, cols, dims=([0, 2], [0, 2])).view(n_filters, C, KH, KW)
'''

WGRAD_UPCASTS_FLOAT64 = '''
def conv2d_weight_grad(x, grad_out, kernel_size, stride=1, padding=0):
    KH, KW = pair(kernel_size)
    x, grad_out = x.double(), grad_out.double()                 # "for precision": float32 in gives float64 out
    N, C, H, W = x.shape
    n_filters = grad_out.shape[1]
    cols = im2col(x, (KH, KW), stride, padding)
    g = grad_out.reshape(N, n_filters, -1)
    return (g @ cols.transpose(1, 2)).sum(dim=0).reshape(n_filters, C, KH, KW)
'''

IGRAD_ASSIGN = '''
def conv2d_input_grad(grad_out, weight, x_shape, stride=1, padding=0):
    N, C, H, W = x_shape
    KH, KW = weight.shape[2], weight.shape[3]
    SH, SW = pair(stride)
    PH, PW = pair(padding)
    H_out, W_out = grad_out.shape[2], grad_out.shape[3]
    grad_padded = grad_out.new_zeros(N, C, H + 2 * PH, W + 2 * PW)
    for i in range(H_out):
        for j in range(W_out):
            share = torch.einsum("nf,fckl->nckl", grad_out[:, :, i, j], weight)
            grad_padded[:, :, i * SH:i * SH + KH, j * SW:j * SW + KW] = share   # overlapping windows overwrite
    return grad_padded[:, :, PH:PH + H, PW:PW + W]
'''

IGRAD_MINUS_ZERO_CROP = '''
def conv2d_input_grad(grad_out, weight, x_shape, stride=1, padding=0):
    N, C, H, W = x_shape
    KH, KW = weight.shape[2], weight.shape[3]
    SH, SW = pair(stride)
    PH, PW = pair(padding)
    H_out, W_out = grad_out.shape[2], grad_out.shape[3]
    grad_padded = grad_out.new_zeros(N, C, H + 2 * PH, W + 2 * PW)
    for i in range(H_out):
        for j in range(W_out):
            share = torch.einsum("nf,fckl->nckl", grad_out[:, :, i, j], weight)
            grad_padded[:, :, i * SH:i * SH + KH, j * SW:j * SW + KW] += share
    return grad_padded[:, :, PH:-PH, PW:-PW]                   # empty when a padding is 0
'''

IGRAD_F_FOLD = '''
def conv2d_input_grad(grad_out, weight, x_shape, stride=1, padding=0):
    N, C, H, W = x_shape
    n_filters, _, KH, KW = weight.shape
    cols = weight.reshape(n_filters, -1).t() @ grad_out.flatten(2)     # (N, C*KH*KW, L)
    return F.fold(cols, (H, W), (KH, KW), padding=padding, stride=stride)   # torch's col2im
'''

IGRAD_COL2IM_BY_OFFSETS = '''
def conv2d_input_grad(grad_out, weight, x_shape, stride=1, padding=0):
    """Columns of the gradient, then col2im by hand: one strided slice-add per kernel offset."""
    N, C, H, W = x_shape
    n_filters, _, KH, KW = weight.shape
    sh, sw = pair(stride)
    ph, pw = pair(padding)
    H_out, W_out = grad_out.shape[-2:]
    cols = torch.einsum("fckl,nfij->nckl ij".replace(" ", ""), weight, grad_out)   # (N, C, KH, KW, H_out, W_out)
    dx = grad_out.new_zeros(N, C, H + 2 * ph, W + 2 * pw)
    for p in range(KH):
        for q in range(KW):
            dx[:, :, p:p + sh * (H_out - 1) + 1:sh, q:q + sw * (W_out - 1) + 1:sw] += cols[:, :, p, q]
    return dx[:, :, ph:ph + H, pw:pw + W]
'''

BGRAD_KEEPDIM = '''
def conv2d_bias_grad(grad_out):
    return grad_out.sum(dim=(0, 2, 3), keepdim=True)          # shape (1, F, 1, 1), not (F,)
'''

VARIANTS += [
    Variant("conv_output_size_math_floor_correct", {"conv_output_size": OUTPUT_SIZE_MATH_FLOOR}, frozenset(),
            "correct: math.floor of the true division (an int)"),
    Variant("conv_output_size_numpy_int", {"conv_output_size": OUTPUT_SIZE_NUMPY_INT},
            frozenset({"test_conv_output_size"}),
            "np.floor_divide: right numbers but numpy int64s, not Python ints; later parts still work"),
    Variant("pad2d_all_padding_after", {"pad2d": PAD2D_ALL_AFTER},
            frozenset({"test_pad2d", "test_conv2d_naive_stride_padding", "test_im2col", "test_conv2d_im2col",
                       "test_conv2d_scratch_forward", "test_conv2d_weight_grad_stride_padding"}),
            "right shape, but x copied into the top-left corner: all the zeros below and to the right"),
    Variant("pad2d_narrow_copy_correct", {"pad2d": PAD2D_NARROW_COPY}, frozenset(),
            "correct: torch.zeros with x's dtype and device, then narrow().copy_()"),
    Variant("naive_window_not_strided", {"conv2d_naive": NAIVE_WINDOW_NOT_STRIDED},
            frozenset({"test_conv2d_naive_stride_padding"}),
            "computes the strided output size but starts window i at row i, not i * stride"),
    Variant("naive_bias_added_every_position", {"conv2d_naive": NAIVE_BIAS_EVERY_POSITION},
            frozenset({"test_conv2d_naive_basic"}),
            "adds the bias inside the position loop: H_out * W_out times. One bias mistake, charged once by "
            "the test that owns the bias (test_conv2d_naive_basic); the stride and padding test, called "
            "without a bias, keeps its points (it lost them too before: all its hidden cases had a bias)"),
    Variant("naive_weight_read_channels_first", {"conv2d_naive": NAIVE_WEIGHT_CHANNELS_FIRST},
            frozenset({"test_conv2d_naive_basic", "test_conv2d_naive_stride_padding", "test_float32_outputs"}),
            "einsum 'nckl,cfkl->nf' reads the weight as (C, F, KH, KW): raises whenever C != F, so "
            "the dtype test's plain call has no output either; the gate judges the operators it reached"),
    Variant("naive_window_flattened_channels_last", {"conv2d_naive": NAIVE_WINDOW_CHANNELS_LAST},
            frozenset({"test_conv2d_naive_basic", "test_conv2d_naive_stride_padding"}),
            "flattens the window as (KH, KW, C) but the filters as (C, KH, KW): right only for C = 1"),
    Variant("naive_tensordot_stack_correct", {"conv2d_naive": NAIVE_TENSORDOT_STACK}, frozenset(),
            "correct: one tensordot per position, rows built with torch.stack (no preallocation)"),
    Variant("im2col_as_strided_correct", {"im2col": IM2COL_AS_STRIDED}, frozenset(),
            "correct: one as_strided view of the padded input, then a reshape"),
    Variant("im2col_gather_index_correct", {"im2col": IM2COL_GATHER_INDEX}, frozenset(),
            "correct: row and column index grids from arange, one advanced-indexing gather"),
    Variant("im2col_windows_column_major", {"im2col": IM2COL_WINDOWS_COLUMN_MAJOR},
            frozenset({"test_im2col", "test_conv2d_im2col", "test_conv2d_scratch_forward",
                       "test_conv2d_weight_grad_basic", "test_conv2d_weight_grad_stride_padding"}),
            "numbers the windows down the columns first (L = j * H_out + i): the columns no longer pair "
            "with grad_out's row-major windows either"),
    Variant("im2col_forgets_padding", {"im2col": IM2COL_FORGETS_PADDING},
            frozenset({"test_im2col", "test_conv2d_im2col", "test_conv2d_scratch_forward",
                       "test_conv2d_weight_grad_stride_padding"}),
            "reads the padding argument but never pads"),
    Variant("conv2d_im2col_weight_channels_last", {"conv2d_im2col": CONV_IM2COL_WEIGHT_CHANNELS_LAST},
            frozenset({"test_conv2d_im2col", "test_conv2d_scratch_forward"}),
            "flattens the filters as (KH, KW, C), not in im2col's (C, KH, KW) row order"),
    Variant("conv2d_im2col_bmm_correct", {"conv2d_im2col": CONV_IM2COL_BMM}, frozenset(),
            "correct: torch.bmm with the filters expanded over the batch"),
    Variant("scratch_forward_drops_stride_padding", {"conv2d_scratch": SCRATCH_FORWARD_DROPS_STRIDE},
            frozenset({"test_conv2d_scratch_forward"}),
            "stores stride and padding in __init__ but forward never passes them on"),
    Variant("scratch_rand_not_centred", {"conv2d_scratch": SCRATCH_RAND_NOT_CENTRED},
            frozenset({"test_conv2d_scratch_init"}),
            "torch.rand * bound: uniform on [0, bound), not [-bound, bound]"),
    Variant("scratch_rand_affine_correct", {"conv2d_scratch": SCRATCH_RAND_AFFINE}, frozenset(),
            "correct: (2 * torch.rand - 1) * bound, bias=None set directly"),
    Variant("scratch_borrows_nn_conv2d_init_correct", {"conv2d_scratch": SCRATCH_BORROWS_NN_CONV2D}, frozenset(),
            "correct: copies a throwaway nn.Conv2d's initial parameters; computes with conv2d_im2col"),
    Variant("weight_grad_filters_channels_swapped", {"conv2d_weight_grad": WGRAD_FILTERS_CHANNELS_SWAPPED},
            frozenset({"test_conv2d_weight_grad_basic", "test_conv2d_weight_grad_stride_padding"}),
            "computes the (K, F) product and reshapes it to (F, C, KH, KW) without a transpose"),
    Variant("weight_grad_tensordot_correct", {"conv2d_weight_grad": WGRAD_TENSORDOT}, frozenset(),
            "correct: one tensordot over images and windows"),
    Variant("weight_grad_upcasts_to_float64", {"conv2d_weight_grad": WGRAD_UPCASTS_FLOAT64},
            frozenset({"test_float32_outputs"}),
            "converts to float64 \"for precision\": right values, float64 out for float32 in"),
    Variant("input_grad_assigns_instead_of_adding", {"conv2d_input_grad": IGRAD_ASSIGN},
            frozenset({"test_conv2d_input_grad_basic", "test_conv2d_input_grad_stride_padding"}),
            "= instead of +=: overlapping windows overwrite each other's share"),
    Variant("input_grad_minus_zero_crop", {"conv2d_input_grad": IGRAD_MINUS_ZERO_CROP},
            frozenset({"test_conv2d_input_grad_basic", "test_conv2d_input_grad_stride_padding"}),
            "crops with [p:-p], empty when a padding is 0"),
    Variant("input_grad_F_fold", {"conv2d_input_grad": IGRAD_F_FOLD},
            frozenset({"test_conv2d_input_grad_no_builtin"}),
            "right values from F.fold, torch's col2im: only the \"no built-in\" point is lost"),
    Variant("input_grad_col2im_by_offsets_correct", {"conv2d_input_grad": IGRAD_COL2IM_BY_OFFSETS}, frozenset(),
            "correct: einsum to gradient columns, then col2im by hand, one strided slice-add per kernel offset"),
    Variant("bias_grad_keepdim", {"conv2d_bias_grad": BGRAD_KEEPDIM}, frozenset({"test_conv2d_bias_grad"}),
            "sum(keepdim=True): shape (1, F, 1, 1) instead of (F,)"),
]

# ------------------------------------------------------------------ audit as students write it (H1)

# Correct: a loop over output rows only; Tensor.unfold (a strided view, allowed) gives the row's
# windows, one einsum per row.
NAIVE_ROW_UNFOLD = '''
def conv2d_naive(x, weight, bias=None, stride=1, padding=0):
    N, C, H, W = x.shape
    F_, _, KH, KW = weight.shape
    sh, sw = pair(stride)
    ph, pw = pair(padding)
    H_out, W_out = conv_output_size(H, KH, ph, sh), conv_output_size(W, KW, pw, sw)
    xp = pad2d(x, (ph, pw))
    out = x.new_zeros(N, F_, H_out, W_out)
    for i in range(H_out):
        rows = xp[:, :, i * sh:i * sh + KH, :].unfold(3, KW, sw)[:, :, :, :W_out]   # (N, C, KH, W_out, KW)
        out[:, :, i, :] = torch.einsum("nchwk,fchk->nfw", rows, weight)
    if bias is not None:
        out += bias[None, :, None, None]
    return out
'''

# Correct: accumulates in float64 "for accuracy", then converts back to x's dtype.
NAIVE_FLOAT64_CAST_BACK = '''
def conv2d_naive(x, weight, bias=None, stride=1, padding=0):
    N, C, H, W = x.shape
    F_, _, KH, KW = weight.shape
    sh, sw = pair(stride)
    ph, pw = pair(padding)
    H_out, W_out = conv_output_size(H, KH, ph, sh), conv_output_size(W, KW, pw, sw)
    xp = pad2d(x, (ph, pw)).double()
    w = weight.double()
    out = torch.zeros(N, F_, H_out, W_out, dtype=torch.float64)
    for n in range(N):
        for f in range(F_):
            for i in range(H_out):
                for j in range(W_out):
                    out[n, f, i, j] = (xp[n, :, i * sh:i * sh + KH, j * sw:j * sw + KW] * w[f]).sum()
            if bias is not None:
                out[n, f] += float(bias[f])
    return out.to(x.dtype)
'''

# Never adds the bias.
NAIVE_FORGETS_BIAS = '''
def conv2d_naive(x, weight, bias=None, stride=1, padding=0):
    N, C, H, W = x.shape
    F_, _, KH, KW = weight.shape
    sh, sw = pair(stride)
    ph, pw = pair(padding)
    H_out, W_out = conv_output_size(H, KH, ph, sh), conv_output_size(W, KW, pw, sw)
    xp = pad2d(x, (ph, pw))
    out = x.new_zeros(N, F_, H_out, W_out)
    for i in range(H_out):
        for j in range(W_out):
            window = xp[:, :, i * sh:i * sh + KH, j * sw:j * sw + KW]
            out[:, :, i, j] = torch.einsum("nckl,fckl->nf", window, weight)
    return out                                             # bias never added
'''

# Its own size formula, without the + 1: one output row and column short.
NAIVE_SIZE_OFF_BY_ONE = '''
def conv2d_naive(x, weight, bias=None, stride=1, padding=0):
    N, C, H, W = x.shape
    F_, _, KH, KW = weight.shape
    sh, sw = pair(stride)
    ph, pw = pair(padding)
    H_out = (H + 2 * ph - KH) // sh                       # + 1 forgotten
    W_out = (W + 2 * pw - KW) // sw
    xp = pad2d(x, (ph, pw))
    out = x.new_zeros(N, F_, H_out, W_out)
    for i in range(H_out):
        for j in range(W_out):
            window = xp[:, :, i * sh:i * sh + KH, j * sw:j * sw + KW]
            out[:, :, i, j] = torch.einsum("nckl,fckl->nf", window, weight)
    if bias is not None:
        out = out + bias.view(1, -1, 1, 1)
    return out
'''

# Right values from numpy's sliding_window_view (a view of the windows, like Tensor.unfold): but
# the columns leave autograd, so Conv2dScratch passes no gradient back to its input.
IM2COL_NUMPY_SLIDING_WINDOW = '''
import numpy as np

def im2col(x, kernel_size, stride=1, padding=0):
    KH, KW = pair(kernel_size)
    sh, sw = pair(stride)
    N, C = x.shape[:2]
    xp = pad2d(x, padding).detach().numpy()
    win = np.lib.stride_tricks.sliding_window_view(xp, (KH, KW), axis=(2, 3))[:, :, ::sh, ::sw]
    H_out, W_out = win.shape[2], win.shape[3]                        # (N, C, H_out, W_out, KH, KW)
    cols = win.transpose(0, 1, 4, 5, 2, 3).reshape(N, C * KH * KW, H_out * W_out)
    return torch.from_numpy(np.ascontiguousarray(cols))
'''

# Correct: (F, K) @ (N, K, L) broadcasts over the batch.
CONV2D_IM2COL_BROADCAST_MATMUL = '''
def conv2d_im2col(x, weight, bias=None, stride=1, padding=0):
    N, C, H, W = x.shape
    F_, _, KH, KW = weight.shape
    sh, sw = pair(stride)
    ph, pw = pair(padding)
    H_out, W_out = conv_output_size(H, KH, ph, sh), conv_output_size(W, KW, pw, sw)
    out = weight.reshape(F_, -1) @ im2col(x, (KH, KW), stride, padding)    # (N, F, L)
    if bias is not None:
        out = out + bias.reshape(1, F_, 1)
    return out.reshape(N, F_, H_out, W_out)
'''

# Averages the per-image gradients instead of summing them.
WEIGHT_GRAD_MEAN_OVER_BATCH = '''
def conv2d_weight_grad(x, grad_out, kernel_size, stride=1, padding=0):
    KH, KW = pair(kernel_size)
    N, C = x.shape[:2]
    F_ = grad_out.shape[1]
    cols = im2col(x, (KH, KW), stride, padding)
    return (grad_out.reshape(N, F_, -1) @ cols.transpose(1, 2)).mean(dim=0).reshape(F_, C, KH, KW)
'''

# Correct: CS231n's four loops over images, filters and output positions.
INPUT_GRAD_FOUR_LOOPS = '''
def conv2d_input_grad(grad_out, weight, x_shape, stride=1, padding=0):
    N, C, H, W = x_shape
    F_, _, KH, KW = weight.shape
    sh, sw = pair(stride)
    ph, pw = pair(padding)
    dxp = torch.zeros(N, C, H + 2 * ph, W + 2 * pw, dtype=grad_out.dtype)
    for n in range(N):
        for f in range(F_):
            for i in range(grad_out.shape[2]):
                for j in range(grad_out.shape[3]):
                    dxp[n, :, i * sh:i * sh + KH, j * sw:j * sw + KW] += grad_out[n, f, i, j] * weight[f]
    return dxp[:, :, ph:ph + H, pw:pw + W]
'''

# Sums over the filters instead of over the images: one number per image.
BIAS_GRAD_WRONG_AXES = '''
def conv2d_bias_grad(grad_out):
    return grad_out.sum(dim=(1, 2, 3))
'''

# Allocates with torch.zeros: float32 whatever x is.
PAD2D_FLOAT32 = '''
def pad2d(x, padding):
    ph, pw = pair(padding)
    N, C, H, W = x.shape
    out = torch.zeros(N, C, H + 2 * ph, W + 2 * pw)
    out[:, :, ph:ph + H, pw:pw + W] = x
    return out
'''

# Parameters made in float64 "for precision": the layer cannot take float32 input.
SCRATCH_FLOAT64_PARAMETERS = '''
class Conv2dScratch(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True):
        super().__init__()
        KH, KW = pair(kernel_size)
        self.stride, self.padding = pair(stride), pair(padding)
        bound = 1 / math.sqrt(in_channels * KH * KW)
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels, KH, KW, dtype=torch.float64).uniform_(-bound, bound))
        if bias:
            self.bias = nn.Parameter(torch.empty(out_channels, dtype=torch.float64).uniform_(-bound, bound))
        else:
            self.register_parameter("bias", None)

    def forward(self, x):
        return conv2d_im2col(x, self.weight, self.bias, self.stride, self.padding)
'''

# Correct: F.pad (forbidden only inside pad2d) pads conv2d_naive's input; one tensordot per position.
NAIVE_F_PAD = '''
def conv2d_naive(x, weight, bias=None, stride=1, padding=0):
    N, C, H, W = x.shape
    F_, _, KH, KW = weight.shape
    sh, sw = pair(stride)
    ph, pw = pair(padding)
    xp = F.pad(x, (pw, pw, ph, ph))
    H_out, W_out = (H + 2 * ph - KH) // sh + 1, (W + 2 * pw - KW) // sw + 1
    out = x.new_zeros(N, F_, H_out, W_out)
    for i in range(H_out):
        for j in range(W_out):
            out[:, :, i, j] = torch.tensordot(xp[:, :, i * sh:i * sh + KH, j * sw:j * sw + KW], weight,
                                              dims=([1, 2, 3], [1, 2, 3]))
    return out if bias is None else out + bias.view(1, F_, 1, 1)
'''

# Correct: with no padding at all, x itself (nothing to copy).
PAD2D_RETURNS_X_WITHOUT_PADDING = '''
def pad2d(x, padding):
    ph, pw = pair(padding)
    if ph == 0 and pw == 0:
        return x
    N, C, H, W = x.shape
    out = x.new_zeros(N, C, H + 2 * ph, W + 2 * pw)
    out[:, :, ph:ph + H, pw:pw + W] = x
    return out
'''

# Correct in values and gradients: forward on conv2d_naive (autograd differentiates the loops)
# instead of conv2d_im2col.
SCRATCH_FORWARD_NAIVE = '''
class Conv2dScratch(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True):
        super().__init__()
        KH, KW = pair(kernel_size)
        self.stride, self.padding = stride, padding
        bound = 1 / math.sqrt(in_channels * KH * KW)
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels, KH, KW).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(out_channels).uniform_(-bound, bound)) if bias else None

    def forward(self, x):
        return conv2d_naive(x, self.weight, self.bias, self.stride, self.padding)
'''

VARIANTS += [
    Variant("naive_row_unfold_correct", {"conv2d_naive": NAIVE_ROW_UNFOLD}, frozenset(),
            "correct: a loop over output rows, Tensor.unfold for the row's windows, one einsum per row"),
    Variant("naive_float64_cast_back_correct", {"conv2d_naive": NAIVE_FLOAT64_CAST_BACK}, frozenset(),
            "correct: four loops in float64, converted back with .to(x.dtype)"),
    Variant("naive_forgets_bias", {"conv2d_naive": NAIVE_FORGETS_BIAS},
            frozenset({"test_conv2d_naive_basic"}),
            "never adds the bias: a forgotten bias is charged once, by test_conv2d_naive_basic, which owns "
            "the bias (the hand-worked bias 10, the bias cases, the bias with stride and padding); the "
            "stride and padding test, called without a bias, keeps its 3 points (it lost them too before)"),
    Variant("naive_size_off_by_one", {"conv2d_naive": NAIVE_SIZE_OFF_BY_ONE},
            frozenset({"test_conv2d_naive_basic", "test_conv2d_naive_stride_padding"}),
            "its own output size without the + 1: one row and column short everywhere"),
    Variant("im2col_numpy_sliding_window", {"im2col": IM2COL_NUMPY_SLIDING_WINDOW},
            frozenset({"test_conv2d_scratch_forward"}),
            "numpy's sliding_window_view: right columns, vectorised, but the round trip through numpy "
            "leaves autograd, so Conv2dScratch passes no gradient back to its input"),
    Variant("conv2d_im2col_broadcast_matmul_correct", {"conv2d_im2col": CONV2D_IM2COL_BROADCAST_MATMUL}, frozenset(),
            "correct: (F, K) @ (N, K, L) broadcast over the batch, then a reshape"),
    Variant("weight_grad_mean_over_batch", {"conv2d_weight_grad": WEIGHT_GRAD_MEAN_OVER_BATCH},
            frozenset({"test_conv2d_weight_grad_basic", "test_conv2d_weight_grad_stride_padding"}),
            "averages the per-image gradients instead of summing them"),
    Variant("input_grad_four_loops_correct", {"conv2d_input_grad": INPUT_GRAD_FOUR_LOOPS}, frozenset(),
            "correct: CS231n's four loops over images, filters and output positions"),
    Variant("bias_grad_wrong_axes", {"conv2d_bias_grad": BIAS_GRAD_WRONG_AXES},
            frozenset({"test_conv2d_bias_grad"}), "sums over filters and positions: shape (N,) instead of (F,)"),
    Variant("pad2d_float32", {"pad2d": PAD2D_FLOAT32},
            frozenset({"test_pad2d", "test_conv2d_naive_basic", "test_conv2d_naive_stride_padding", "test_im2col",
                       "test_conv2d_im2col", "test_im2col_vectorised", "test_conv2d_scratch_forward",
                       "test_conv2d_weight_grad_basic", "test_conv2d_weight_grad_stride_padding",
                       "test_conv2d_weight_grad_vectorised"}),
            "torch.zeros without x's dtype: float32 whatever x is; every later part pads float64 input to "
            "float32 (values off at rtol 1e-7, or a float32/float64 matrix product that raises: the cascade "
            "notes say to fix pad2d first). The no-built-in gates keep their points (they lost them before: "
            "every float64 call raised, now one float32 call returns); the vectorised gates, whose visible "
            "parts measure float64 calls that raise, do not"),
    Variant("naive_F_pad_correct", {"conv2d_naive": NAIVE_F_PAD}, frozenset(),
            "correct: F.pad (forbidden only in pad2d) and one tensordot per position"),
    Variant("pad2d_returns_x_without_padding_correct", {"pad2d": PAD2D_RETURNS_X_WITHOUT_PADDING}, frozenset(),
            "correct: returns x itself when both paddings are 0"),
    Variant("scratch_forward_naive_loops_correct", {"conv2d_scratch": SCRATCH_FORWARD_NAIVE}, frozenset(),
            "correct: forward on conv2d_naive (same values; autograd differentiates the loops), bias=None set directly"),
    Variant("scratch_float64_parameters", {"conv2d_scratch": SCRATCH_FLOAT64_PARAMETERS},
            frozenset({"test_conv2d_scratch_forward", "test_float32_outputs"}),
            "float64 parameters (\"for precision\"): the layer raises on float32 input (lost the no-built-in "
            "gate too before: every call of the gate was float32; it now also calls the layer in float64)"),
]


#: A wrong variant that passes every visible test and loses exactly one hidden test
#: (tests/end_to_end/test_colab.py teaches with it; docs/authoring.md).
SUBTLE_VARIANT = "naive_builtin_for_big_batches"

# ------------------------------------------------------------------ the bias charged once (H4)

# The bias as a map of the plain output's size (H - KH + 1, W - KW + 1), right for stride 1 without
# padding only: with a stride or a padding the addition raises.
NAIVE_BIAS_MAP_UNSTRIDED = '''
def conv2d_naive(x, weight, bias=None, stride=1, padding=0):
    N, C, H, W = x.shape
    F_, _, KH, KW = weight.shape
    sh, sw = pair(stride)
    ph, pw = pair(padding)
    H_out, W_out = conv_output_size(H, KH, ph, sh), conv_output_size(W, KW, pw, sw)
    xp = pad2d(x, (ph, pw))
    out = x.new_zeros(N, F_, H_out, W_out)
    for i in range(H_out):
        for j in range(W_out):
            window = xp[:, :, i * sh:i * sh + KH, j * sw:j * sw + KW]
            out[:, :, i, j] = torch.einsum("nckl,fckl->nf", window, weight)
    if bias is not None:
        out = out + bias.view(1, F_, 1, 1).repeat(1, 1, H - KH + 1, W - KW + 1)
    return out
'''

VARIANTS += [
    Variant("naive_bias_map_unstrided", {"conv2d_naive": NAIVE_BIAS_MAP_UNSTRIDED},
            frozenset({"test_conv2d_naive_basic"}),
            "repeats the bias to the plain output's size (H - KH + 1, W - KW + 1): raises with a bias and a "
            "stride or padding. A bias mistake: test_conv2d_naive_basic's check of the bias with stride "
            "and padding (against the same call without a bias) catches it; before, only the stride and "
            "padding test did (its cases carried a bias), and the basic test, with stride 1 only, passed"),
]
