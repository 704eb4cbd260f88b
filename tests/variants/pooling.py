"""Wrong (and differently-written right) solutions of the pooling assignment."""
from tests.variants import Variant

# ------------------------------------------------------------------ Part 1: loops

MAXPOOL_NAIVE_ZERO_PADDING = '''
def maxpool2d_naive(x, kernel_size, stride=None, padding=0):
    kh, kw = pair(kernel_size)
    sh, sw = pair(kernel_size if stride is None else stride)
    x = F.pad(x, (padding, padding, padding, padding))          # zeros: can win the maximum
    N, C, H, W = x.shape
    out = x.new_empty((N, C, (H - kh) // sh + 1, (W - kw) // sw + 1))
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            out[:, :, i, j] = x[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw].amax(dim=(2, 3))
    return out
'''

MAXPOOL_NAIVE_FLOAT32 = '''
def maxpool2d_naive(x, kernel_size, stride=None, padding=0):
    kh, kw = pair(kernel_size)
    sh, sw = pair(kernel_size if stride is None else stride)
    x = F.pad(x, (padding, padding, padding, padding), value=float("-inf"))
    N, C, H, W = x.shape
    out = torch.zeros(N, C, (H - kh) // sh + 1, (W - kw) // sw + 1)   # float32, whatever x is
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            out[:, :, i, j] = x[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw].amax(dim=(2, 3))
    return out
'''

MAXPOOL_NAIVE_STRIDE_NONE_IS_ONE = '''
def maxpool2d_naive(x, kernel_size, stride=None, padding=0):
    kh, kw = pair(kernel_size)
    sh, sw = pair(1 if stride is None else stride)
    x = F.pad(x, (padding, padding, padding, padding), value=float("-inf"))
    N, C, H, W = x.shape
    out = x.new_empty((N, C, (H - kh) // sh + 1, (W - kw) // sw + 1))
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            out[:, :, i, j] = x[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw].amax(dim=(2, 3))
    return out
'''

# CS231n style: four nested loops, scalar by scalar, padding by hand.
MAXPOOL_NAIVE_FOUR_LOOPS = '''
def maxpool2d_naive(x, kernel_size, stride=None, padding=0):
    kh, kw = pair(kernel_size)
    sh, sw = pair(kernel_size if stride is None else stride)
    N, C, H, W = x.shape
    p = padding
    padded = torch.full((N, C, H + 2 * p, W + 2 * p), float("-inf"), dtype=x.dtype, device=x.device)
    padded[:, :, p:p + H, p:p + W] = x
    H_out = (H + 2 * p - kh) // sh + 1
    W_out = (W + 2 * p - kw) // sw + 1
    out = torch.empty((N, C, H_out, W_out), dtype=x.dtype, device=x.device)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    out[n, c, i, j] = torch.max(padded[n, c, i * sh:i * sh + kh, j * sw:j * sw + kw])
    return out
'''

AVGPOOL_NAIVE_EXCLUDE_PAD = '''
def avgpool2d_naive(x, kernel_size, stride=None, padding=0):
    kh, kw = pair(kernel_size)
    sh, sw = pair(kernel_size if stride is None else stride)
    p = padding
    N, C, H, W = x.shape
    H_out, W_out = (H + 2 * p - kh) // sh + 1, (W + 2 * p - kw) // sw + 1
    out = x.new_empty((N, C, H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            top, left = max(i * sh - p, 0), max(j * sw - p, 0)
            bottom, right = min(i * sh - p + kh, H), min(j * sw - p + kw, W)
            out[:, :, i, j] = x[:, :, top:bottom, left:right].mean(dim=(2, 3))  # padding not counted
    return out
'''

AVGPOOL_NAIVE_BUILTIN = '''
def avgpool2d_naive(x, kernel_size, stride=None, padding=0):
    return torch.nn.AvgPool2d(kernel_size, stride, padding)(x)
'''

# ------------------------------------------------------------------ Part 2: vectorised

MAXPOOL_STRIDE_IGNORED = '''
def maxpool2d(x, kernel_size, stride=None):
    kh, kw = pair(kernel_size)
    return x.unfold(2, kh, kh).unfold(3, kw, kw).amax(dim=(-2, -1))
'''

MAXPOOL_BUILTIN = '''
def maxpool2d(x, kernel_size, stride=None):
    return F.max_pool2d(x, kernel_size, stride)
'''

MAXPOOL_ALIAS_BUILTIN = '''
from torch.nn.functional import max_pool2d as _fast_pool

def maxpool2d(x, kernel_size, stride=None):
    return _fast_pool(x, kernel_size, stride)
'''

MAXPOOL_LOOPS = '''
def maxpool2d(x, kernel_size, stride=None):
    return maxpool2d_naive(x, kernel_size, stride)
'''

# Correct: loop over the kh * kw offsets inside the window.
MAXPOOL_OFFSETS = '''
def maxpool2d(x, kernel_size, stride=None):
    kh, kw = pair(kernel_size)
    sh, sw = pair(kernel_size if stride is None else stride)
    H, W = x.shape[2:]
    H_out, W_out = (H - kh) // sh + 1, (W - kw) // sw + 1
    out = None
    for di in range(kh):
        for dj in range(kw):
            part = x[:, :, di:di + sh * (H_out - 1) + 1:sh, dj:dj + sw * (W_out - 1) + 1:sw]
            out = part if out is None else torch.maximum(out, part)
    return out.clone()
'''

AVGPOOL_SQUARE_DIVISOR = '''
def avgpool2d(x, kernel_size, stride=None):
    kh, kw = pair(kernel_size)
    sh, sw = pair(kernel_size if stride is None else stride)
    windows = x.unfold(2, kh, sh).unfold(3, kw, sw)
    return windows.sum(dim=(-2, -1)) / (kh * kh)          # wrong for non-square windows
'''

AVGPOOL_F_UNFOLD = '''
def avgpool2d(x, kernel_size, stride=None):
    kh, kw = pair(kernel_size)
    sh, sw = pair(kernel_size if stride is None else stride)
    N, C, H, W = x.shape
    cols = F.unfold(x.reshape(N * C, 1, H, W), (kh, kw), stride=(sh, sw))   # im2col
    H_out, W_out = (H - kh) // sh + 1, (W - kw) // sw + 1
    return cols.mean(dim=1).reshape(N, C, H_out, W_out)
'''

# Correct: as_strided view of all windows.
AVGPOOL_AS_STRIDED = '''
def avgpool2d(x, kernel_size, stride=None):
    kh, kw = pair(kernel_size)
    sh, sw = pair(kernel_size if stride is None else stride)
    x = x.contiguous()
    N, C, H, W = x.shape
    H_out, W_out = (H - kh) // sh + 1, (W - kw) // sw + 1
    sN, sC, sH, sW = x.stride()
    windows = x.as_strided((N, C, H_out, W_out, kh, kw), (sN, sC, sH * sh, sW * sw, sH, sW))
    return windows.sum(dim=(-2, -1)) / (kh * kw)
'''

# ------------------------------------------------------------------ Part 3: backward

MAXPOOL_BACKWARD_OVERWRITES = '''
def maxpool2d_backward(grad_out, x, kernel_size, stride=None):
    kh, kw = pair(kernel_size)
    sh, sw = pair(kernel_size if stride is None else stride)
    N, C, H_out, W_out = grad_out.shape
    dx = torch.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    window = x[n, c, i * sh:i * sh + kh, j * sw:j * sw + kw]
                    k = int(window.argmax())
                    dx[n, c, i * sh + k // kw, j * sw + k % kw] = grad_out[n, c, i, j]   # = instead of +=
    return dx
'''

MAXPOOL_BACKWARD_EVEN_SPREAD = '''
def maxpool2d_backward(grad_out, x, kernel_size, stride=None):
    kh, kw = pair(kernel_size)
    sh, sw = pair(kernel_size if stride is None else stride)
    H_out, W_out = grad_out.shape[2:]
    dx = torch.zeros_like(x)
    for di in range(kh):
        for dj in range(kw):
            dx[:, :, di:di + sh * (H_out - 1) + 1:sh, dj:dj + sw * (W_out - 1) + 1:sw] += grad_out / (kh * kw)
    return dx
'''

MAXPOOL_BACKWARD_UNRAVEL_BY_KH = '''
def maxpool2d_backward(grad_out, x, kernel_size, stride=None):
    kh, kw = pair(kernel_size)
    sh, sw = pair(kernel_size if stride is None else stride)
    N, C, H_out, W_out = grad_out.shape
    dx = torch.zeros_like(x)
    for i in range(H_out):
        for j in range(W_out):
            window = x[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw].reshape(N, C, -1)
            k = window.argmax(dim=-1)
            rows, cols = i * sh + k // kh, j * sw + k % kh     # should be // kw and % kw
            for n in range(N):
                for c in range(C):
                    dx[n, c, rows[n, c], cols[n, c]] += grad_out[n, c, i, j]
    return dx
'''

MAXPOOL_BACKWARD_BUILTIN = '''
def maxpool2d_backward(grad_out, x, kernel_size, stride=None):
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        out = F.max_pool2d(x, kernel_size, stride)
    return torch.autograd.grad(out, x, grad_out)[0]
'''

# Correct: argmax of each window, then one scatter_add_ into the flattened image.
MAXPOOL_BACKWARD_SCATTER = '''
def maxpool2d_backward(grad_out, x, kernel_size, stride=None):
    kh, kw = pair(kernel_size)
    sh, sw = pair(kernel_size if stride is None else stride)
    N, C, H, W = x.shape
    windows = x.unfold(2, kh, sh).unfold(3, kw, sw)
    H_out, W_out = windows.shape[2:4]
    k = windows.reshape(N, C, H_out, W_out, kh * kw).argmax(dim=-1)
    rows = torch.arange(H_out, device=x.device).view(-1, 1) * sh + k // kw
    cols = torch.arange(W_out, device=x.device).view(1, -1) * sw + k % kw
    dx = torch.zeros(N, C, H * W, dtype=x.dtype, device=x.device)
    dx.scatter_add_(2, (rows * W + cols).reshape(N, C, -1), grad_out.reshape(N, C, -1))
    return dx.reshape(N, C, H, W)
'''

# Autograd through the student's own (correct, unfold-based) forward passes, with gradients
# switched on inside: right values, no built-in pooling, but not the gradient by hand.
MAXPOOL_BACKWARD_OWN_AUTOGRAD = '''
def maxpool2d_backward(grad_out, x, kernel_size, stride=None):
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        out = maxpool2d(x, kernel_size, stride)
    return torch.autograd.grad(out, x, grad_out)[0]
'''

AVGPOOL_BACKWARD_OWN_BACKWARD = '''
def avgpool2d_backward(grad_out, x, kernel_size, stride=None):
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        avgpool2d(x, kernel_size, stride).backward(grad_out)
    return x.grad
'''

AVGPOOL_BACKWARD_NO_DIVIDE = '''
def avgpool2d_backward(grad_out, x, kernel_size, stride=None):
    kh, kw = pair(kernel_size)
    sh, sw = pair(kernel_size if stride is None else stride)
    H_out, W_out = grad_out.shape[2:]
    dx = torch.zeros_like(x)
    for di in range(kh):
        for dj in range(kw):
            dx[:, :, di:di + sh * (H_out - 1) + 1:sh, dj:dj + sw * (W_out - 1) + 1:sw] += grad_out
    return dx
'''

AVGPOOL_BACKWARD_BUILTIN = '''
def avgpool2d_backward(grad_out, x, kernel_size, stride=None):
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        out = F.avg_pool2d(x, kernel_size, stride)
    return torch.autograd.grad(out, x, grad_out)[0]
'''

# Correct: CS231n style loops.
AVGPOOL_BACKWARD_LOOPS = '''
def avgpool2d_backward(grad_out, x, kernel_size, stride=None):
    kh, kw = pair(kernel_size)
    sh, sw = pair(kernel_size if stride is None else stride)
    N, C, H_out, W_out = grad_out.shape
    dx = torch.zeros_like(x)
    for i in range(H_out):
        for j in range(W_out):
            g = grad_out[:, :, i, j] / (kh * kw)
            dx[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw] += g[:, :, None, None]
    return dx
'''

# ------------------------------------------------------------------ Part 4: global pool, module

_MODULE = '''

class MaxPool2dScratch(nn.Module):
    def __init__(self, kernel_size, stride=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride

    def forward(self, x):
        return maxpool2d(x, self.kernel_size, self.stride)
'''

GLOBAL_AVGPOOL_DIVIDES_BY_H = '''
def global_avgpool(x):
    return x.sum(dim=(2, 3)) / x.shape[2]
''' + _MODULE

MODULE_WRAPS_NN_MAXPOOL = '''
def global_avgpool(x):
    return x.mean(dim=(2, 3))


class MaxPool2dScratch(nn.Module):
    def __init__(self, kernel_size, stride=None):
        super().__init__()
        self.pool = nn.MaxPool2d(kernel_size, stride)

    def forward(self, x):
        return self.pool(x)
'''

MODULE_IGNORES_STRIDE = '''
def global_avgpool(x):
    return x.mean(dim=(2, 3))


class MaxPool2dScratch(nn.Module):
    def __init__(self, kernel_size, stride=None):
        super().__init__()
        self.kernel_size = kernel_size

    def forward(self, x):
        return maxpool2d(x, self.kernel_size)
'''

# Correct: flatten the positions, and a module that stores pairs.
GLOBAL_FLATTEN_MODULE_PAIRS = '''
def global_avgpool(x):
    N, C = x.shape[:2]
    return x.reshape(N, C, -1).sum(dim=-1) / (x.shape[2] * x.shape[3])


class MaxPool2dScratch(nn.Module):
    def __init__(self, kernel_size, stride=None):
        super().__init__()
        self.kernel_size = pair(kernel_size)
        self.stride = self.kernel_size if stride is None else pair(stride)

    def forward(self, x):
        return maxpool2d(x, self.kernel_size, self.stride)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}"
'''

# ------------------------------------------------------------------ Part 5: experiment

SHIFT_DOWN = '''
def shift_sensitivity(images, feature_fn, shifts):
    with torch.no_grad():
        base = feature_fn(images)
        return [((feature_fn(data.shift_images(images, 0, s)) - base).norm() / base.norm()).item()
                for s in shifts]
'''

SHIFT_ABSOLUTE = '''
def shift_sensitivity(images, feature_fn, shifts):
    with torch.no_grad():
        base = feature_fn(images)
        return [(feature_fn(data.shift_images(images, s, 0)) - base).norm().item() for s in shifts]
'''

SHIFT_LINALG = '''
def shift_sensitivity(images, feature_fn, shifts):
    base = feature_fn(images).detach().flatten()
    changes = []
    for s in shifts:
        moved = feature_fn(data.shift_images(images, s, 0)).detach().flatten()
        changes.append(float(torch.linalg.vector_norm(moved - base) / torch.linalg.vector_norm(base)))
    return changes
'''

# issue 11's category: a numpy loop over output positions. torch sees two operations whatever
# the size; the number of Python lines run grows. No autograd either, so the module cannot train.
MAXPOOL_NUMPY_LOOP = '''
import numpy as np

def maxpool2d(x, kernel_size, stride=None):
    kh, kw = pair(kernel_size)
    sh, sw = pair(stride) if stride is not None else (kh, kw)
    a = x.detach().numpy()
    N, C, H, W = a.shape
    H_out, W_out = (H - kh) // sh + 1, (W - kw) // sw + 1
    out = np.empty((N, C, H_out, W_out), dtype=a.dtype)
    for i in range(H_out):
        for j in range(W_out):
            out[:, :, i, j] = a[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw].max(axis=(2, 3))
    return torch.from_numpy(out)
'''


# issue 11's category: loops that are right but ignore `padding`: only the padding test is lost.
AVGPOOL_NAIVE_NO_PADDING = '''
def avgpool2d_naive(x, kernel_size, stride=None, padding=0):
    kh, kw = pair(kernel_size)
    sh, sw = pair(kernel_size if stride is None else stride)
    N, C, H, W = x.shape
    out = x.new_empty((N, C, (H - kh) // sh + 1, (W - kw) // sw + 1))
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            out[:, :, i, j] = x[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw].mean(dim=(2, 3))
    return out
'''


# Another library's pooling: scipy.ndimage.maximum_filter over the padded input, its window
# moved to start at each position, then every stride-th value. Right values, not from scratch.
MAXPOOL_NAIVE_SCIPY_FILTER = '''
import numpy as np
from scipy import ndimage

def maxpool2d_naive(x, kernel_size, stride=None, padding=0):
    kh, kw = pair(kernel_size)
    sh, sw = pair(kernel_size if stride is None else stride)
    ph, pw = pair(padding)
    xp = np.pad(x.detach().numpy(), ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=-np.inf)
    H_out, W_out = (xp.shape[2] - kh) // sh + 1, (xp.shape[3] - kw) // sw + 1
    m = ndimage.maximum_filter(xp, size=(1, 1, kh, kw), origin=(0, 0, -(kh // 2), -(kw // 2)),
                               mode="constant", cval=-np.inf)
    return torch.from_numpy(np.ascontiguousarray(m[:, :, :(H_out - 1) * sh + 1:sh, :(W_out - 1) * sw + 1:sw]))
'''

# ------------------------------------------------------------------ audit 2026-12-05 (a mistake elsewhere is not this gate's)

GLOBAL_AVGPOOL_ADAPTIVE_1X1 = '''
def global_avgpool(x):
    return F.adaptive_avg_pool2d(x, 1).flatten(1)


class MaxPool2dScratch(nn.Module):

    def __init__(self, kernel_size, stride=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride

    def forward(self, x):
        return maxpool2d(x, self.kernel_size, self.stride)
'''

GLOBAL_AVGPOOL_ADAPTIVE_MODULE = '''
def global_avgpool(x):
    return nn.AdaptiveAvgPool2d((1, 1))(x)[:, :, 0, 0]


class MaxPool2dScratch(nn.Module):

    def __init__(self, kernel_size, stride=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride

    def forward(self, x):
        return maxpool2d(x, self.kernel_size, self.stride)
'''

MAXPOOL_STRIDE_NONE_IS_ONE = '''
def maxpool2d(x, kernel_size, stride=None):
    kh, kw = pair(kernel_size)
    sh, sw = pair(1 if stride is None else stride)
    windows = x.unfold(2, kh, sh).unfold(3, kw, sw)  # (N, C, H_out, W_out, kh, kw)
    return windows.amax(dim=(-2, -1))
'''


# ------------------------------------------------------------------ audit 2026-12-05 (2): shift_sensitivity's type

SHIFT_TENSORS = '''
def shift_sensitivity(images, feature_fn, shifts):
    with torch.no_grad():
        base = feature_fn(images)
        return [(feature_fn(data.shift_images(images, s, 0)) - base).norm() / base.norm() for s in shifts]
'''


# A loop over images and channels, each channel pooled with unfold: the number of lines run does
# not grow with H and W (what the text asks); the hidden test used to compare a 1-image, 1-channel
# input with a (2, 4)-channel one and took it for a loop over output positions.
MAXPOOL_LOOP_OVER_CHANNELS = '''
def maxpool2d(x, kernel_size, stride=None):
    kh, kw = pair(kernel_size)
    sh, sw = pair(kernel_size if stride is None else stride)
    N, C = x.shape[:2]
    per_channel = [x[n, c].unfold(0, kh, sh).unfold(1, kw, sw).amax(dim=(-2, -1))
                   for n in range(N) for c in range(C)]
    return torch.stack(per_channel).reshape(N, C, *per_channel[0].shape)
'''

# A loop over output rows (unfold along the width only): lines grow with H, not vectorised.
MAXPOOL_LOOP_OVER_ROWS = '''
def maxpool2d(x, kernel_size, stride=None):
    kh, kw = pair(kernel_size)
    sh, sw = pair(kernel_size if stride is None else stride)
    H_out = (x.shape[2] - kh) // sh + 1
    rows = [x[:, :, i * sh:i * sh + kh].unfold(3, kw, sw).amax(dim=(2, 4)) for i in range(H_out)]
    return torch.stack(rows, dim=2)
'''


# ------------------------------------------------------------------ audit 2026-12-05 (2)


MAXPOOL_NAIVE_CEIL_MODE = '''
import math

def maxpool2d_naive(x, kernel_size, stride=None, padding=0):
    kh, kw = pair(kernel_size)
    sh, sw = pair(kernel_size if stride is None else stride)
    x = F.pad(x, (padding, padding, padding, padding), value=float("-inf"))
    N, C, H, W = x.shape
    H_out, W_out = math.ceil((H - kh) / sh) + 1, math.ceil((W - kw) / sw) + 1   # keeps partial windows
    out = x.new_empty((N, C, H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            out[:, :, i, j] = x[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw].amax(dim=(2, 3))
    return out
'''

MAXPOOL_NAIVE_NUMPY = '''
import numpy as np

def maxpool2d_naive(x, kernel_size, stride=None, padding=0):
    kh, kw = pair(kernel_size)
    sh, sw = pair(kernel_size if stride is None else stride)
    a = np.pad(x.cpu().numpy(), ((0, 0), (0, 0), (padding, padding), (padding, padding)), constant_values=-np.inf)
    N, C, H, W = a.shape
    out = np.empty((N, C, (H - kh) // sh + 1, (W - kw) // sw + 1), dtype=a.dtype)
    for j in range(out.shape[3]):                 # columns first
        for i in range(out.shape[2]):
            out[:, :, i, j] = a[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw].max(axis=(2, 3))
    return torch.from_numpy(out).to(x.device)
'''

MAXPOOL_NAIVE_PAD_MIN_MINUS_ONE = '''
def maxpool2d_naive(x, kernel_size, stride=None, padding=0):
    kh, kw = pair(kernel_size)
    sh, sw = pair(kernel_size if stride is None else stride)
    x = F.pad(x, (padding,) * 4, value=x.min().item() - 1.0)   # below every value: never wins
    N, C, H, W = x.shape
    out = x.new_zeros((N, C, (H - kh) // sh + 1, (W - kw) // sw + 1))
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            out[:, :, i, j] = torch.max(x[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw].flatten(2), dim=2).values
    return out
'''

MAXPOOL_NAIVE_HOUT_UNPADDED = '''
def maxpool2d_naive(x, kernel_size, stride=None, padding=0):
    kh, kw = pair(kernel_size)
    sh, sw = pair(kernel_size if stride is None else stride)
    N, C, H, W = x.shape
    H_out, W_out = (H - kh) // sh + 1, (W - kw) // sw + 1      # forgets the 2p
    x = F.pad(x, (padding,) * 4, value=float("-inf"))
    out = x.new_empty((N, C, H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            out[:, :, i, j] = x[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw].amax(dim=(2, 3))
    return out
'''

AVGPOOL_NAIVE_PAD_ONE_SIDE = '''
def avgpool2d_naive(x, kernel_size, stride=None, padding=0):
    kh, kw = pair(kernel_size)
    sh, sw = pair(kernel_size if stride is None else stride)
    x = F.pad(x, (0, 2 * padding, 0, 2 * padding))             # all the padding right and below
    N, C, H, W = x.shape
    out = x.new_empty((N, C, (H - kh) // sh + 1, (W - kw) // sw + 1))
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            out[:, :, i, j] = x[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw].mean(dim=(2, 3))
    return out
'''

AVGPOOL_NAIVE_MEAN_OVER_BATCH = '''
def avgpool2d_naive(x, kernel_size, stride=None, padding=0):
    kh, kw = pair(kernel_size)
    sh, sw = pair(kernel_size if stride is None else stride)
    x = F.pad(x, (padding,) * 4)
    N, C, H, W = x.shape
    out = x.new_empty((N, C, (H - kh) // sh + 1, (W - kw) // sw + 1))
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            out[:, :, i, j] = torch.mean(x[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw])   # all images and channels
    return out
'''

MAXPOOL_RESHAPE_NO_CROP = '''
def maxpool2d(x, kernel_size, stride=None):
    kh, kw = pair(kernel_size)
    sh, sw = pair(kernel_size if stride is None else stride)
    N, C, H, W = x.shape
    if (sh, sw) == (kh, kw):                        # non-overlapping: a reshape is enough
        return x.reshape(N, C, H // kh, kh, W // kw, kw).amax(dim=(3, 5))
    return x.unfold(2, kh, sh).unfold(3, kw, sw).amax(dim=(-2, -1))
'''

MAXPOOL_RESHAPE_CROP = '''
def maxpool2d(x, kernel_size, stride=None):
    kh, kw = pair(kernel_size)
    sh, sw = pair(kernel_size if stride is None else stride)
    N, C, H, W = x.shape
    H_out, W_out = (H - kh) // sh + 1, (W - kw) // sw + 1
    if (sh, sw) == (kh, kw):
        x = x[:, :, :H_out * kh, :W_out * kw]
        return x.reshape(N, C, H_out, kh, W_out, kw).amax(dim=(3, 5))
    return x.unfold(2, kh, sh).unfold(3, kw, sw).amax(dim=(-2, -1))
'''

AVGPOOL_DEPTHWISE_CONV = '''
def avgpool2d(x, kernel_size, stride=None):
    kh, kw = pair(kernel_size)
    sh, sw = pair(kernel_size if stride is None else stride)
    N, C, H, W = x.shape
    box = x.new_full((1, 1, kh, kw), 1.0 / (kh * kw))
    out = F.conv2d(x.reshape(N * C, 1, H, W), box, stride=(sh, sw))
    return out.reshape(N, C, out.shape[2], out.shape[3])
'''

AVGPOOL_CUMSUM = '''
def avgpool2d(x, kernel_size, stride=None):
    kh, kw = pair(kernel_size)
    sh, sw = pair(kernel_size if stride is None else stride)
    s = F.pad(x.cumsum(2).cumsum(3), (1, 0, 1, 0))      # integral image, a zero row and column first
    H, W = x.shape[2:]
    H_out, W_out = (H - kh) // sh + 1, (W - kw) // sw + 1
    r = torch.arange(H_out, device=x.device) * sh
    c = torch.arange(W_out, device=x.device) * sw
    total = (s[:, :, r + kh][:, :, :, c + kw] - s[:, :, r][:, :, :, c + kw]
             - s[:, :, r + kh][:, :, :, c] + s[:, :, r][:, :, :, c])
    return total / (kh * kw)
'''

AVGPOOL_DOUBLE_PRECISION = '''
def avgpool2d(x, kernel_size, stride=None):
    kh, kw = pair(kernel_size)
    sh, sw = pair(kernel_size if stride is None else stride)
    return x.double().unfold(2, kh, sh).unfold(3, kw, sw).mean(dim=(-2, -1))   # float64 "for accuracy"
'''

MAXPOOL_BACKWARD_EQUALITY_MASK = '''
def maxpool2d_backward(grad_out, x, kernel_size, stride=None):
    kh, kw = pair(kernel_size)
    sh, sw = pair(kernel_size if stride is None else stride)
    H_out, W_out = grad_out.shape[2:]
    dx = torch.zeros_like(x)
    for i in range(H_out):
        for j in range(W_out):
            window = x[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw]
            mask = window == window.amax(dim=(2, 3), keepdim=True)     # ties would all get it
            dx[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw] += mask * grad_out[:, :, i:i + 1, j:j + 1]
    return dx
'''

MAXPOOL_BACKWARD_REPEAT_INTERLEAVE = '''
def maxpool2d_backward(grad_out, x, kernel_size, stride=None):
    kh, kw = pair(kernel_size)
    sh, sw = pair(kernel_size if stride is None else stride)
    H_out, W_out = grad_out.shape[2:]
    out = x.unfold(2, kh, sh).unfold(3, kw, sw).amax(dim=(-2, -1))
    # CS231n's "reshape" trick: blow the outputs up to the input's size (only right for stride == kernel)
    big_out = out.repeat_interleave(kh, 2).repeat_interleave(kw, 3)
    big_grad = grad_out.repeat_interleave(kh, 2).repeat_interleave(kw, 3)
    dx = torch.zeros_like(x)
    h, w = big_out.shape[2:]
    dx[:, :, :h, :w] = (x[:, :, :h, :w] == big_out) * big_grad
    return dx
'''

AVGPOOL_BACKWARD_FLOAT32 = '''
def avgpool2d_backward(grad_out, x, kernel_size, stride=None):
    kh, kw = pair(kernel_size)
    sh, sw = pair(kernel_size if stride is None else stride)
    H_out, W_out = grad_out.shape[2:]
    dx = torch.zeros(x.shape)                                  # float32 whatever x is
    for i in range(H_out):
        for j in range(W_out):
            dx[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw] += (grad_out[:, :, i, j] / (kh * kw))[:, :, None, None]
    return dx
'''

AVGPOOL_BACKWARD_GRAD_OUT_IN_PLACE = '''
def avgpool2d_backward(grad_out, x, kernel_size, stride=None):
    kh, kw = pair(kernel_size)
    sh, sw = pair(kernel_size if stride is None else stride)
    H_out, W_out = grad_out.shape[2:]
    grad_out /= kh * kw                                        # divides the caller's tensor in place
    dx = torch.zeros_like(x)
    for di in range(kh):
        for dj in range(kw):
            dx[:, :, di:di + sh * (H_out - 1) + 1:sh, dj:dj + sw * (W_out - 1) + 1:sw] += grad_out
    return dx
'''

GLOBAL_KEEPDIM = '''
def global_avgpool(x):
    return x.mean(dim=(2, 3), keepdim=True)                    # (N, C, 1, 1), not (N, C)
''' + _MODULE

MODULE_NAIVE_FLATTEN = '''
def global_avgpool(x):
    return x.flatten(2).mean(-1)

class MaxPool2dScratch(nn.Module):
    def __init__(self, kernel_size, stride=None):
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride

    def forward(self, x):
        return maxpool2d_naive(x, self.kernel_size, self.stride)   # the loops: same values, autograd works
'''

MODULE_DETACHES = '''
def global_avgpool(x):
    return x.mean(dim=(2, 3))

class MaxPool2dScratch(nn.Module):
    def __init__(self, kernel_size, stride=None):
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride

    def forward(self, x):
        with torch.no_grad():                                  # "pooling has no weights"
            return maxpool2d(x, self.kernel_size, self.stride)
'''

MODULE_DUMMY_PARAMETER = '''
def global_avgpool(x):
    return x.mean(dim=(2, 3))

class MaxPool2dScratch(nn.Module):
    def __init__(self, kernel_size, stride=None):
        super().__init__()
        self.kernel_size = nn.Parameter(torch.tensor(pair(kernel_size)), requires_grad=False)
        self.stride = stride

    def forward(self, x):
        k = tuple(int(v) for v in self.kernel_size)
        return maxpool2d(x, k, self.stride)
'''

SHIFT_ROLL = '''
def shift_sensitivity(images, feature_fn, shifts):
    with torch.no_grad():
        base = feature_fn(images)
        return [((feature_fn(torch.roll(images, s, dims=3)) - base).norm() / base.norm()).item() for s in shifts]
'''

SHIFT_PER_IMAGE_MEAN = '''
def shift_sensitivity(images, feature_fn, shifts):
    with torch.no_grad():
        base = feature_fn(images).flatten(1)
        out = []
        for s in shifts:
            moved = feature_fn(data.shift_images(images, s, 0)).flatten(1)
            out.append(((moved - base).norm(dim=1) / base.norm(dim=1)).mean().item())   # per image, averaged
        return out
'''

SHIFT_DIVIDES_BY_SHIFTED = '''
def shift_sensitivity(images, feature_fn, shifts):
    with torch.no_grad():
        base = feature_fn(images)
        out = []
        for s in shifts:
            moved = feature_fn(data.shift_images(images, s, 0))
            out.append(((moved - base).norm() / moved.norm()).item())      # the shifted features' norm
        return out
'''


# ------------------------------------------------------------------ the input: any layout, left unchanged


# Reads the storage with the strides of a contiguous tensor: right on x.clone() of a contiguous
# input, wrong windows on a transposed or channels-last one.
AVGPOOL_AS_STRIDED_CONTIGUOUS_STRIDES = '''
def avgpool2d(x, kernel_size, stride=None):
    kh, kw = pair(kernel_size)
    sh, sw = pair(kernel_size if stride is None else stride)
    N, C, H, W = x.shape
    H_out, W_out = (H - kh) // sh + 1, (W - kw) // sw + 1
    windows = x.as_strided((N, C, H_out, W_out, kh, kw), (C * H * W, H * W, W * sh, sw, W, 1))
    return windows.sum(dim=(-2, -1)) / (kh * kw)
'''

# .view where .reshape is needed: merging N and C fails on a channels-last input.
AVGPOOL_DEPTHWISE_CONV_VIEW = '''
def avgpool2d(x, kernel_size, stride=None):
    kh, kw = pair(kernel_size)
    sh, sw = pair(kernel_size if stride is None else stride)
    N, C, H, W = x.shape
    box = x.new_full((1, 1, kh, kw), 1.0 / (kh * kw))
    out = F.conv2d(x.view(N * C, 1, H, W), box, stride=(sh, sw))
    return out.view(N, C, out.shape[2], out.shape[3])
'''

# Correct: .contiguous() first, then .view.
AVGPOOL_DEPTHWISE_CONV_CONTIGUOUS_VIEW = '''
def avgpool2d(x, kernel_size, stride=None):
    kh, kw = pair(kernel_size)
    sh, sw = pair(kernel_size if stride is None else stride)
    N, C, H, W = x.shape
    box = x.new_full((1, 1, kh, kw), 1.0 / (kh * kw))
    out = F.conv2d(x.contiguous().view(N * C, 1, H, W), box, stride=(sh, sw))
    return out.view(N, C, out.shape[2], out.shape[3])
'''

# Divides the caller's x in place, then sums the windows: right values, x changed.
AVGPOOL_DIVIDES_INPUT_IN_PLACE = '''
def avgpool2d(x, kernel_size, stride=None):
    kh, kw = pair(kernel_size)
    sh, sw = pair(kernel_size if stride is None else stride)
    x /= kh * kw
    return x.unfold(2, kh, sh).unfold(3, kw, sw).sum(dim=(-2, -1))
'''

# Correct: the same, out of place.
AVGPOOL_DIVIDES_FIRST = '''
def avgpool2d(x, kernel_size, stride=None):
    kh, kw = pair(kernel_size)
    sh, sw = pair(kernel_size if stride is None else stride)
    x = x / (kh * kw)
    return x.unfold(2, kh, sh).unfold(3, kw, sw).sum(dim=(-2, -1))
'''

# Divides the caller's x in place, then sums the windows of the padded x: right values, x changed.
AVGPOOL_NAIVE_DIVIDES_INPUT_IN_PLACE = '''
def avgpool2d_naive(x, kernel_size, stride=None, padding=0):
    kh, kw = pair(kernel_size)
    sh, sw = pair(kernel_size if stride is None else stride)
    x /= kh * kw                                   # the caller's tensor, divided in place
    x = F.pad(x, (padding,) * 4)
    N, C, H, W = x.shape
    out = x.new_empty((N, C, (H - kh) // sh + 1, (W - kw) // sw + 1))
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            out[:, :, i, j] = x[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw].sum(dim=(2, 3))
    return out
'''

# Correct: pads a copy with -inf in place (x.clone() first).
MAXPOOL_NAIVE_CLONE_THEN_IN_PLACE = '''
def maxpool2d_naive(x, kernel_size, stride=None, padding=0):
    kh, kw = pair(kernel_size)
    sh, sw = pair(kernel_size if stride is None else stride)
    N, C, H, W = x.shape
    padded = x.new_full((N, C, H + 2 * padding, W + 2 * padding), float("-inf"))
    padded[:, :, padding:padding + H, padding:padding + W] = x
    padded.clamp_(min=float("-inf"))               # in place, on the copy only
    out = x.new_empty((N, C, (H + 2 * padding - kh) // sh + 1, (W + 2 * padding - kw) // sw + 1))
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            out[:, :, i, j] = padded[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw].amax(dim=(2, 3))
    return out
'''


# ------------------------------------------------------------------ Parts 3 and 4: any layout, inputs left unchanged

# Divides the caller's grad_out in place with div_: right values, grad_out changed.
AVGPOOL_BACKWARD_GRAD_DIV_ = '''
def avgpool2d_backward(grad_out, x, kernel_size, stride=None):
    kh, kw = pair(kernel_size)
    sh, sw = pair(kernel_size if stride is None else stride)
    N, C, H_out, W_out = grad_out.shape
    share = grad_out.div_(kh * kw)                            # div_ returns grad_out itself, divided
    dx = torch.zeros_like(x)
    for i in range(H_out):
        for j in range(W_out):
            dx[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw] += share[:, :, i, j, None, None]
    return dx
'''

# Correct: the same loops, the in-place division on a copy.
AVGPOOL_BACKWARD_CLONE_THEN_DIV_ = '''
def avgpool2d_backward(grad_out, x, kernel_size, stride=None):
    kh, kw = pair(kernel_size)
    sh, sw = pair(kernel_size if stride is None else stride)
    N, C, H_out, W_out = grad_out.shape
    share = grad_out.clone().div_(kh * kw)                    # in place, on a copy only
    dx = torch.zeros_like(x)
    for i in range(H_out):
        for j in range(W_out):
            dx[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw] += share[:, :, i, j, None, None]
    return dx
'''

# "routed = grad_out" is no copy: the mask of the first offset zeroes the caller's grad_out for
# every later offset. Wrong values, and grad_out changed.
MAXPOOL_BACKWARD_MASKS_GRAD_OUT_IN_PLACE = '''
def maxpool2d_backward(grad_out, x, kernel_size, stride=None):
    kh, kw = pair(kernel_size)
    sh, sw = pair(kernel_size if stride is None else stride)
    windows = x.unfold(2, kh, sh).unfold(3, kw, sw)
    N, C, H_out, W_out = windows.shape[:4]
    winner = windows.reshape(N, C, H_out, W_out, kh * kw).argmax(dim=-1)
    dx = torch.zeros_like(x)
    for di in range(kh):
        for dj in range(kw):
            routed = grad_out
            routed *= (winner == di * kw + dj)
            dx[:, :, di:di + sh * (H_out - 1) + 1:sh, dj:dj + sw * (W_out - 1) + 1:sw] += routed
    return dx
'''

# scatter_add_ with grad_out.view(N, C, -1): raises on a transposed or channels-last grad_out.
MAXPOOL_BACKWARD_SCATTER_VIEW = '''
def maxpool2d_backward(grad_out, x, kernel_size, stride=None):
    kh, kw = pair(kernel_size)
    sh, sw = pair(kernel_size if stride is None else stride)
    N, C, H, W = x.shape
    windows = x.unfold(2, kh, sh).unfold(3, kw, sw)
    H_out, W_out = windows.shape[2:4]
    k = windows.reshape(N, C, H_out, W_out, kh * kw).argmax(dim=-1)
    rows = torch.arange(H_out).view(-1, 1) * sh + k // kw
    cols = torch.arange(W_out).view(1, -1) * sw + k % kw
    dx = torch.zeros(N, C, H * W, dtype=x.dtype)
    dx.scatter_add_(2, (rows * W + cols).view(N, C, -1), grad_out.view(N, C, -1))
    return dx.view(N, C, H, W)
'''

# Correct: the same, grad_out made contiguous before the view.
MAXPOOL_BACKWARD_SCATTER_CONTIGUOUS_VIEW = '''
def maxpool2d_backward(grad_out, x, kernel_size, stride=None):
    kh, kw = pair(kernel_size)
    sh, sw = pair(kernel_size if stride is None else stride)
    N, C, H, W = x.shape
    windows = x.unfold(2, kh, sh).unfold(3, kw, sw)
    H_out, W_out = windows.shape[2:4]
    k = windows.reshape(N, C, H_out, W_out, kh * kw).argmax(dim=-1)
    rows = torch.arange(H_out).view(-1, 1) * sh + k // kw
    cols = torch.arange(W_out).view(1, -1) * sw + k % kw
    dx = torch.zeros(N, C, H * W, dtype=x.dtype)
    dx.scatter_add_(2, (rows * W + cols).view(N, C, -1), grad_out.contiguous().view(N, C, -1))
    return dx.view(N, C, H, W)
'''

# The windows read with a contiguous tensor's strides: the wrong winners on a transposed or
# channels-last x, silently.
MAXPOOL_BACKWARD_AS_STRIDED_CONTIGUOUS_STRIDES = '''
def maxpool2d_backward(grad_out, x, kernel_size, stride=None):
    kh, kw = pair(kernel_size)
    sh, sw = pair(kernel_size if stride is None else stride)
    N, C, H, W = x.shape
    H_out, W_out = grad_out.shape[2:]
    windows = x.as_strided((N, C, H_out, W_out, kh, kw), (C * H * W, H * W, W * sh, sw, W, 1))
    winner = windows.reshape(N, C, H_out, W_out, kh * kw).argmax(dim=-1)
    dx = torch.zeros_like(x)
    for di in range(kh):
        for dj in range(kw):
            dx[:, :, di:di + sh * (H_out - 1) + 1:sh, dj:dj + sw * (W_out - 1) + 1:sw] += grad_out * (winner == di * kw + dj)
    return dx
'''

# Divides the caller's x in place, then sums: right values, x changed.
GLOBAL_AVGPOOL_DIVIDES_INPUT_IN_PLACE = '''
def global_avgpool(x):
    x /= x.shape[2] * x.shape[3]                               # the caller's tensor
    return x.sum(dim=(2, 3))
''' + _MODULE

# .view where .reshape is needed: raises on a transposed or channels-last x.
GLOBAL_AVGPOOL_VIEW = '''
def global_avgpool(x):
    N, C, H, W = x.shape
    return x.view(N, C, H * W).mean(dim=2)
''' + _MODULE

# Correct: .contiguous() before the view.
GLOBAL_AVGPOOL_CONTIGUOUS_VIEW = '''
def global_avgpool(x):
    N, C, H, W = x.shape
    return x.contiguous().view(N, C, H * W).mean(dim=2)
''' + _MODULE


# ------------------------------------------------------------------ audit as students write it (H1)

# Loops over images, channels and positions, sums with .item() into a Python list, then
# torch.tensor(list): float32 (torch's default dtype) whatever x is.
AVGPOOL_NAIVE_PYTHON_LIST = '''
def avgpool2d_naive(x, kernel_size, stride=None, padding=0):
    kh, kw = pair(kernel_size)
    sh, sw = pair(kernel_size if stride is None else stride)
    xp = F.pad(x, (padding, padding, padding, padding))
    N, C, H, W = xp.shape
    out = []
    for n in range(N):
        channels = []
        for c in range(C):
            rows = []
            for i in range((H - kh) // sh + 1):
                rows.append([xp[n, c, i * sh:i * sh + kh, j * sw:j * sw + kw].sum().item() / (kh * kw)
                             for j in range((W - kw) // sw + 1)])
            channels.append(rows)
        out.append(channels)
    return torch.tensor(out)
'''

# The loop over channels mixed up: each window's maximum is taken over all channels of the image.
MAXPOOL_NAIVE_MAX_OVER_CHANNELS = '''
def maxpool2d_naive(x, kernel_size, stride=None, padding=0):
    kh, kw = pair(kernel_size)
    sh, sw = pair(kernel_size if stride is None else stride)
    xp = F.pad(x, (padding, padding, padding, padding), value=float("-inf"))
    N, C, H, W = xp.shape
    out = x.new_empty((N, C, (H - kh) // sh + 1, (W - kw) // sw + 1))
    for n in range(N):
        for c in range(C):
            for i in range(out.shape[2]):
                for j in range(out.shape[3]):
                    out[n, c, i, j] = xp[n, :, i * sh:i * sh + kh, j * sw:j * sw + kw].max()   # all channels
    return out
'''

# Its own size formula without the + 1: one output row and column short.
MAXPOOL_NAIVE_SIZE_OFF_BY_ONE = '''
def maxpool2d_naive(x, kernel_size, stride=None, padding=0):
    kh, kw = pair(kernel_size)
    sh, sw = pair(kernel_size if stride is None else stride)
    xp = F.pad(x, (padding, padding, padding, padding), value=float("-inf"))
    N, C, H, W = xp.shape
    H_out, W_out = (H - kh) // sh, (W - kw) // sw            # + 1 forgotten
    out = x.new_empty((N, C, H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            out[:, :, i, j] = xp[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw].amax(dim=(2, 3))
    return out
'''

# Correct: the kh * kw offsets of every window as strided slices, stacked, one amax.
MAXPOOL_STACK_OFFSETS = '''
def maxpool2d(x, kernel_size, stride=None):
    kh, kw = pair(kernel_size)
    sh, sw = pair(kernel_size if stride is None else stride)
    H_out, W_out = (x.shape[2] - kh) // sh + 1, (x.shape[3] - kw) // sw + 1
    parts = [x[:, :, di:di + sh * (H_out - 1) + 1:sh, dj:dj + sw * (W_out - 1) + 1:sw]
             for di in range(kh) for dj in range(kw)]
    return torch.stack(parts).amax(dim=0)
'''

# Correct: the mean in float64, converted back to x's dtype.
AVGPOOL_FLOAT64_CAST_BACK = '''
def avgpool2d(x, kernel_size, stride=None):
    kh, kw = pair(kernel_size)
    sh, sw = pair(kernel_size if stride is None else stride)
    windows = x.double().unfold(2, kh, sh).unfold(3, kw, sw)
    return windows.mean(dim=(-2, -1)).to(x.dtype)
'''

# Correct: einsum sums each window.
AVGPOOL_EINSUM = '''
def avgpool2d(x, kernel_size, stride=None):
    kh, kw = pair(kernel_size)
    sh, sw = pair(kernel_size if stride is None else stride)
    return torch.einsum("nchwij->nchw", x.unfold(2, kh, sh).unfold(3, kw, sw)) / (kh * kw)
'''

# Correct: explicit loops over images and channels, argmax of each window, += at its position.
MAXPOOL_BACKWARD_FOUR_LOOPS = '''
def maxpool2d_backward(grad_out, x, kernel_size, stride=None):
    kh, kw = pair(kernel_size)
    sh, sw = pair(kernel_size if stride is None else stride)
    N, C, H_out, W_out = grad_out.shape
    dx = torch.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    k = int(x[n, c, i * sh:i * sh + kh, j * sw:j * sw + kw].argmax())
                    dx[n, c, i * sh + k // kw, j * sw + k % kw] += grad_out[n, c, i, j]
    return dx
'''

# CS231n's upsampling trick for average pooling: right only when stride == kernel size.
AVGPOOL_BACKWARD_REPEAT_INTERLEAVE = '''
def avgpool2d_backward(grad_out, x, kernel_size, stride=None):
    kh, kw = pair(kernel_size)
    big = grad_out.repeat_interleave(kh, dim=2).repeat_interleave(kw, dim=3) / (kh * kw)
    dx = torch.zeros_like(x)
    dx[:, :, :big.shape[2], :big.shape[3]] = big
    return dx
'''

# Correct: einsum over the positions, divided by H * W.
GLOBAL_AVGPOOL_EINSUM = '''
def global_avgpool(x):
    return torch.einsum("nchw->nc", x) / (x.shape[2] * x.shape[3])
''' + _MODULE

# Correct: a Python loop over the shifts, torch.linalg.norm of the flattened features, floats from float().
SHIFT_LINALG_FLOAT = '''
def shift_sensitivity(images, feature_fn, shifts):
    base = feature_fn(images).detach()
    changes = []
    for s in shifts:
        moved = feature_fn(data.shift_images(images, s, 0)).detach()
        changes.append(float(torch.linalg.norm((moved - base).flatten()) / torch.linalg.norm(base.flatten())))
    return changes
'''

# ------------------------------------------------------------------ dtype charged once (H4)

# The unfolded windows' maxima, with a reflexive .float() "to be safe": float32 whatever x is (the
# maxima themselves are exact; autograd still reaches x through the conversion).
MAXPOOL_FLOAT_CALL = '''
def maxpool2d(x, kernel_size, stride=None):
    kh, kw = pair(kernel_size)
    sh, sw = pair(kernel_size if stride is None else stride)
    windows = x.unfold(2, kh, sh).unfold(3, kw, sw)           # (N, C, H_out, W_out, kh, kw)
    return windows.amax(dim=(-2, -1)).float()
'''

# The mean of the unfolded windows written into an output allocated with torch.empty: float32
# whatever x is (one rounding of the float64 mean).
AVGPOOL_EMPTY_FLOAT32 = '''
def avgpool2d(x, kernel_size, stride=None):
    kh, kw = pair(kernel_size)
    sh, sw = pair(kernel_size if stride is None else stride)
    windows = x.unfold(2, kh, sh).unfold(3, kw, sw)          # (N, C, H_out, W_out, kh, kw)
    out = torch.empty(windows.shape[:4])                      # float32 whatever x is
    out[...] = windows.mean(dim=(-2, -1))
    return out
'''


VARIANTS = [
    # Part 1
    Variant("maxpool_naive_scipy_filter", {"maxpool2d_naive": MAXPOOL_NAIVE_SCIPY_FILTER},
            frozenset({"test_pool_naive_no_builtin"}),
            "right values from scipy.ndimage.maximum_filter: another library's pooling, only the "
            "\"no built-in\" point is lost"),
    Variant("maxpool_naive_zero_padding", {"maxpool2d_naive": MAXPOOL_NAIVE_ZERO_PADDING},
            frozenset({"test_pool_naive_padding"}), "pads max pooling with zeros instead of -inf"),
    Variant("maxpool_naive_float32_output", {"maxpool2d_naive": MAXPOOL_NAIVE_FLOAT32},
            frozenset({"test_pool_dtype"}),
            "allocates the output with torch.zeros, losing float64: the maxima are exact, so only the dtype "
            "test is lost (test_maxpool2d_naive too before: its check raised 'Float did not match Double')"),
    Variant("maxpool_naive_stride_none_is_one", {"maxpool2d_naive": MAXPOOL_NAIVE_STRIDE_NONE_IS_ONE},
            frozenset({"test_maxpool2d_naive"}), "stride=None taken as stride 1, not the kernel size"),
    Variant("avgpool_naive_excludes_padding", {"avgpool2d_naive": AVGPOOL_NAIVE_EXCLUDE_PAD},
            frozenset({"test_pool_naive_padding"}), "divides border windows by the real elements only (count_include_pad=False)"),
    Variant("avgpool_naive_no_padding", {"avgpool2d_naive": AVGPOOL_NAIVE_NO_PADDING},
            frozenset({"test_pool_naive_padding"}), "issue 11: right loops that ignore padding"),
    Variant("avgpool_naive_nn_avgpool", {"avgpool2d_naive": AVGPOOL_NAIVE_BUILTIN},
            frozenset({"test_pool_naive_no_builtin"}), "calls nn.AvgPool2d"),
    # Part 2
    Variant("maxpool_stride_ignored", {"maxpool2d": MAXPOOL_STRIDE_IGNORED},
            frozenset({"test_maxpool2d", "test_pool_vectorised", "test_global_avgpool_module"}),
            "always steps by the kernel size (the vectorised check and the module use maxpool2d)"),
    Variant("maxpool_F_max_pool2d", {"maxpool2d": MAXPOOL_BUILTIN},
            frozenset({"test_pool_module_no_builtin", "test_pool_no_builtin"}), "calls F.max_pool2d"),
    Variant("maxpool_import_alias", {"maxpool2d": MAXPOOL_ALIAS_BUILTIN},
            frozenset({"test_pool_module_no_builtin", "test_pool_no_builtin"}), "F.max_pool2d under an alias bound at import"),
    Variant("maxpool_loops", {"maxpool2d": MAXPOOL_LOOPS},
            frozenset({"test_pool_vectorised"}), "right values but a Python loop over output positions"),
    Variant("avgpool_square_divisor", {"avgpool2d": AVGPOOL_SQUARE_DIVISOR},
            frozenset({"test_avgpool2d"}), "divides by kh * kh, wrong for rectangular windows"),
    Variant("avgpool_F_unfold", {"avgpool2d": AVGPOOL_F_UNFOLD},
            frozenset({"test_pool_no_builtin"}), "uses F.unfold (im2col)"),
    # Part 3
    Variant("maxpool_backward_overwrites", {"maxpool2d_backward": MAXPOOL_BACKWARD_OVERWRITES},
            frozenset({"test_maxpool2d_backward"}), "dx[...] = g instead of +=: overlapping windows do not add up"),
    Variant("maxpool_backward_spreads_evenly", {"maxpool2d_backward": MAXPOOL_BACKWARD_EVEN_SPREAD},
            frozenset({"test_maxpool2d_backward"}), "treats max pooling like average pooling"),
    Variant("maxpool_backward_unravel_by_kh", {"maxpool2d_backward": MAXPOOL_BACKWARD_UNRAVEL_BY_KH},
            frozenset({"test_maxpool2d_backward"}), "unravels the window's argmax with kh instead of kw (rectangular windows)"),
    Variant("maxpool_backward_autograd_builtin", {"maxpool2d_backward": MAXPOOL_BACKWARD_BUILTIN},
            frozenset({"test_pool_backward_no_builtin"}), "autograd through F.max_pool2d"),
    Variant("maxpool_backward_own_autograd", {"maxpool2d_backward": MAXPOOL_BACKWARD_OWN_AUTOGRAD},
            frozenset({"test_pool_backward_no_builtin"}),
            "torch.autograd.grad through the student's own maxpool2d: right values, but autograd "
            "instead of the gradient by hand, only the \"no built-in\" point is lost"),
    Variant("avgpool_backward_own_backward", {"avgpool2d_backward": AVGPOOL_BACKWARD_OWN_BACKWARD},
            frozenset({"test_pool_backward_no_builtin"}),
            ".backward() through the student's own avgpool2d: right values, only the \"no built-in\" "
            "point is lost"),
    Variant("avgpool_backward_no_divide", {"avgpool2d_backward": AVGPOOL_BACKWARD_NO_DIVIDE},
            frozenset({"test_avgpool2d_backward"}), "forgets to divide by kh * kw"),
    Variant("avgpool_backward_autograd_builtin", {"avgpool2d_backward": AVGPOOL_BACKWARD_BUILTIN},
            frozenset({"test_pool_backward_no_builtin"}), "autograd through F.avg_pool2d"),
    # Part 4
    Variant("global_avgpool_divides_by_h", {"global_avgpool_module": GLOBAL_AVGPOOL_DIVIDES_BY_H},
            frozenset({"test_global_avgpool"}), "divides the channel sum by H instead of H * W"),
    Variant("module_wraps_nn_maxpool", {"global_avgpool_module": MODULE_WRAPS_NN_MAXPOOL},
            frozenset({"test_pool_module_no_builtin"}), "MaxPool2dScratch wraps nn.MaxPool2d"),
    Variant("module_ignores_stride", {"global_avgpool_module": MODULE_IGNORES_STRIDE},
            frozenset({"test_global_avgpool_module"}), "MaxPool2dScratch drops its stride argument"),
    # Part 5
    Variant("shift_sensitivity_shifts_down", {"shift_sensitivity": SHIFT_DOWN},
            frozenset({"test_shift_sensitivity"}), "shifts down (dy) instead of right (dx)"),
    Variant("shift_sensitivity_absolute", {"shift_sensitivity": SHIFT_ABSOLUTE},
            frozenset({"test_shift_sensitivity"}), "returns the absolute change, not relative to the features' norm"),
    # Correct, differently written
    Variant("maxpool_naive_four_loops", {"maxpool2d_naive": MAXPOOL_NAIVE_FOUR_LOOPS},
            why="correct: CS231n-style four nested loops, padding by hand"),
    Variant("maxpool_window_offsets", {"maxpool2d": MAXPOOL_OFFSETS},
            why="correct: torch.maximum over the kh * kw window offsets"),
    Variant("avgpool_as_strided", {"avgpool2d": AVGPOOL_AS_STRIDED},
            why="correct: an as_strided view of the windows"),
    Variant("maxpool_backward_scatter_add", {"maxpool2d_backward": MAXPOOL_BACKWARD_SCATTER},
            why="correct: argmax per window and one scatter_add_"),
    Variant("avgpool_backward_loops", {"avgpool2d_backward": AVGPOOL_BACKWARD_LOOPS},
            why="correct: loops over output positions"),
    Variant("global_flatten_module_pairs", {"global_avgpool_module": GLOBAL_FLATTEN_MODULE_PAIRS},
            why="correct: flattened sum / (H * W), module storing pairs"),
    Variant("shift_sensitivity_linalg", {"shift_sensitivity": SHIFT_LINALG},
            why="correct: torch.linalg.vector_norm without no_grad"),
    # issue 11's category
    Variant("maxpool_numpy_loop", {"maxpool2d": MAXPOOL_NUMPY_LOOP},
            frozenset({"test_pool_vectorised", "test_global_avgpool_module"}),
            "right values from a numpy loop over output positions: not vectorised (Python lines grow), "
            "and MaxPool2dScratch built on it carries no gradient"),
    Variant('global_avgpool_adaptive_1x1', {'global_avgpool_module': GLOBAL_AVGPOOL_ADAPTIVE_1X1}, frozenset({'test_pool_module_no_builtin'}),
            "F.adaptive_avg_pool2d(x, 1): aten runs it as a mean, torch.nn.functional's name shows it"),
    Variant('global_avgpool_adaptive_module', {'global_avgpool_module': GLOBAL_AVGPOOL_ADAPTIVE_MODULE}, frozenset({'test_pool_module_no_builtin'}),
            "nn.AdaptiveAvgPool2d((1, 1)) inside global_avgpool: the module's forward calls the built-in"),
    Variant('maxpool_stride_none_is_one', {'maxpool2d': MAXPOOL_STRIDE_NONE_IS_ONE}, frozenset({'test_global_avgpool_module', 'test_maxpool2d'}),
            'vectorised maxpool2d reads stride=None as 1: its values and the module fail, the vectorised test stays'),

    Variant("shift_sensitivity_tensors", {"shift_sensitivity": SHIFT_TENSORS}, frozenset({"test_shift_sensitivity"}),
            "returns 0-d tensors, not the Python floats the docstring asks for (full marks before: "
            "nothing checked the type)"),
    Variant("maxpool_loop_over_channels", {"maxpool2d": MAXPOOL_LOOP_OVER_CHANNELS}, frozenset(),
            "correct: a Python loop over images and channels, unfold per channel (lost the vectorised "
            "point before: the hidden test grew N and C along with H and W)"),
    Variant("maxpool_loop_over_rows", {"maxpool2d": MAXPOOL_LOOP_OVER_ROWS}, frozenset({"test_pool_vectorised"}),
            "a Python loop over the output rows: the lines run grow with H"),
    Variant("maxpool_naive_ceil_mode", {"maxpool2d_naive": MAXPOOL_NAIVE_CEIL_MODE}, frozenset({"test_maxpool2d_naive"}),
            "ceil_mode: keeps the windows that run past the border (lost the padding test too before: the "
            "padding test now checks padding against the function itself)"),
    Variant("maxpool_naive_hout_unpadded", {"maxpool2d_naive": MAXPOOL_NAIVE_HOUT_UNPADDED}, frozenset({"test_pool_naive_padding"}),
            "computes H_out from the unpadded size (forgets the 2p), then pads"),
    Variant("avgpool_naive_pad_one_side", {"avgpool2d_naive": AVGPOOL_NAIVE_PAD_ONE_SIDE}, frozenset({"test_pool_naive_padding"}),
            "puts all 2p of padding right and below: the right shape, shifted windows"),
    Variant("avgpool_naive_mean_over_batch", {"avgpool2d_naive": AVGPOOL_NAIVE_MEAN_OVER_BATCH}, frozenset({"test_avgpool2d_naive"}),
            "torch.mean over the whole window slice mixes images and channels (lost the padding test too "
            "before, whose padding it handles right)"),
    Variant("maxpool_reshape_no_crop", {"maxpool2d": MAXPOOL_RESHAPE_NO_CROP}, frozenset({"test_maxpool2d"}),
            "reshape trick when stride == kernel, without cutting the rows and columns no window covers"),
    Variant("avgpool_double_precision", {"avgpool2d": AVGPOOL_DOUBLE_PRECISION}, frozenset({"test_pool_dtype"}),
            "x.double() \"for accuracy\": float32 input gives float64 output"),
    Variant("maxpool_backward_repeat_interleave", {"maxpool2d_backward": MAXPOOL_BACKWARD_REPEAT_INTERLEAVE},
            frozenset({"test_maxpool2d_backward"}),
            "CS231n's repeat_interleave trick, right only for stride == kernel: overlapping windows break it"),
    Variant("avgpool_backward_float32", {"avgpool2d_backward": AVGPOOL_BACKWARD_FLOAT32}, frozenset({"test_avgpool2d_backward"}),
            "dx = torch.zeros(x.shape): float32 whatever x is"),
    Variant("global_avgpool_keepdim", {"global_avgpool_module": GLOBAL_KEEPDIM}, frozenset({"test_global_avgpool"}),
            "keepdim=True: (N, C, 1, 1) instead of (N, C)"),
    Variant("module_no_grad", {"global_avgpool_module": MODULE_DETACHES}, frozenset({"test_global_avgpool_module"}),
            "MaxPool2dScratch runs under torch.no_grad() (\"pooling has no weights\"): nothing flows back"),
    Variant("module_kernel_as_parameter", {"global_avgpool_module": MODULE_DUMMY_PARAMETER},
            frozenset({"test_global_avgpool_module"}), "stores the kernel size as an nn.Parameter: the module has a parameter"),
    Variant("shift_sensitivity_roll", {"shift_sensitivity": SHIFT_ROLL}, frozenset({"test_shift_sensitivity"}),
            "torch.roll wraps the right edge around instead of data.shift_images' zeros"),
    Variant("shift_sensitivity_per_image_mean", {"shift_sensitivity": SHIFT_PER_IMAGE_MEAN}, frozenset({"test_shift_sensitivity"}),
            "the mean of per-image relative changes, not the change of the whole batch's norm"),
    Variant("shift_sensitivity_divides_by_shifted", {"shift_sensitivity": SHIFT_DIVIDES_BY_SHIFTED},
            frozenset({"test_shift_sensitivity"}), "divides by the shifted features' norm instead of the original's"),
    Variant("maxpool_naive_numpy_columns_first", {"maxpool2d_naive": MAXPOOL_NAIVE_NUMPY}, frozenset(),
            "correct: a numpy round trip, np.pad with -inf, loops over columns first"),
    Variant("maxpool_naive_pad_below_min", {"maxpool2d_naive": MAXPOOL_NAIVE_PAD_MIN_MINUS_ONE}, frozenset(),
            "correct: pads with x.min() - 1 (never wins a window, p <= k // 2), torch.max(...).values"),
    Variant("maxpool_reshape_crop", {"maxpool2d": MAXPOOL_RESHAPE_CROP}, frozenset(),
            "correct: reshape trick (cropped) when stride == kernel, unfold otherwise"),
    Variant("avgpool_depthwise_conv", {"avgpool2d": AVGPOOL_DEPTHWISE_CONV}, frozenset(),
            "correct: a convolution with a 1/(kh*kw) box filter per channel (not a pooling op)"),
    Variant("avgpool_cumsum", {"avgpool2d": AVGPOOL_CUMSUM}, frozenset(),
            "correct: an integral image (cumsum) and four gathers"),
    Variant("maxpool_backward_equality_mask", {"maxpool2d_backward": MAXPOOL_BACKWARD_EQUALITY_MASK}, frozenset(),
            "correct on inputs without ties (the text's tests): a window == max mask"),
    Variant("avgpool_backward_grad_out_in_place", {"avgpool2d_backward": AVGPOOL_BACKWARD_GRAD_OUT_IN_PLACE},
            frozenset({"test_pool_backward_inputs"}),
            "grad_out /= kh * kw: right values, the caller's grad_out divided in place (full marks before, "
            "when the text stated no rule about grad_out)"),
    Variant("module_uses_naive_loops", {"global_avgpool_module": MODULE_NAIVE_FLATTEN}, frozenset(),
            "correct: MaxPool2dScratch on maxpool2d_naive (same values, autograd through the loops)"),
    Variant("avgpool_as_strided_contiguous_strides", {"avgpool2d": AVGPOOL_AS_STRIDED_CONTIGUOUS_STRIDES},
            frozenset({"test_pool_dtype"}),
            "as_strided with the strides of a contiguous tensor: wrong windows on a transposed or "
            "channels-last input (full marks before: every test passed contiguous tensors)"),
    Variant("avgpool_depthwise_conv_view", {"avgpool2d": AVGPOOL_DEPTHWISE_CONV_VIEW}, frozenset({"test_pool_dtype"}),
            "x.view(N * C, 1, H, W) where .reshape is needed: raises on a channels-last input "
            "(full marks before)"),
    Variant("avgpool_divides_input_in_place", {"avgpool2d": AVGPOOL_DIVIDES_INPUT_IN_PLACE},
            frozenset({"test_pool_dtype"}),
            "x /= kh * kw: right values, the caller's x divided in place"),
    Variant("avgpool_naive_divides_input_in_place", {"avgpool2d_naive": AVGPOOL_NAIVE_DIVIDES_INPUT_IN_PLACE},
            frozenset({"test_pool_dtype"}),
            "x /= kh * kw, then window sums: right values, the caller's x divided in place"),
    Variant("avgpool_depthwise_conv_contiguous_view", {"avgpool2d": AVGPOOL_DEPTHWISE_CONV_CONTIGUOUS_VIEW},
            frozenset(), "correct: x.contiguous().view(...) before the box convolution"),
    Variant("avgpool_divides_first", {"avgpool2d": AVGPOOL_DIVIDES_FIRST}, frozenset(),
            "correct: x = x / (kh * kw) (a new tensor), then the window sums"),
    Variant("maxpool_naive_clone_then_in_place", {"maxpool2d_naive": MAXPOOL_NAIVE_CLONE_THEN_IN_PLACE}, frozenset(),
            "correct: copies x into a -inf canvas, in-place work on the copy only"),
    # Parts 3 and 4: any layout of x and grad_out, both left unchanged (test_pool_backward_inputs)
    Variant("avgpool_backward_grad_div_", {"avgpool2d_backward": AVGPOOL_BACKWARD_GRAD_DIV_},
            frozenset({"test_pool_backward_inputs"}),
            "share = grad_out.div_(kh * kw): right values, the caller's grad_out divided in place (full marks before)"),
    Variant("maxpool_backward_masks_grad_out_in_place", {"maxpool2d_backward": MAXPOOL_BACKWARD_MASKS_GRAD_OUT_IN_PLACE},
            frozenset({"test_maxpool2d_backward", "test_pool_backward_inputs"}),
            "routed = grad_out; routed *= mask: no copy, so the first offset's mask zeroes grad_out for the "
            "others (wrong values) and the caller's grad_out is changed"),
    Variant("maxpool_backward_scatter_view", {"maxpool2d_backward": MAXPOOL_BACKWARD_SCATTER_VIEW},
            frozenset({"test_pool_backward_inputs"}),
            "grad_out.view(N, C, -1) where .reshape is needed: raises on a transposed or channels-last "
            "grad_out (full marks before: every test passed contiguous tensors)"),
    Variant("maxpool_backward_as_strided_contiguous_strides",
            {"maxpool2d_backward": MAXPOOL_BACKWARD_AS_STRIDED_CONTIGUOUS_STRIDES},
            frozenset({"test_pool_backward_inputs"}),
            "as_strided windows with a contiguous tensor's strides: the wrong winners on a transposed or "
            "channels-last x, silently (full marks before)"),
    Variant("global_avgpool_divides_input_in_place", {"global_avgpool_module": GLOBAL_AVGPOOL_DIVIDES_INPUT_IN_PLACE},
            frozenset({"test_pool_backward_inputs"}),
            "x /= H * W, then the sum: right values, the caller's x divided in place (full marks before)"),
    Variant("global_avgpool_view", {"global_avgpool_module": GLOBAL_AVGPOOL_VIEW},
            frozenset({"test_pool_backward_inputs"}),
            "x.view(N, C, H * W) where .reshape is needed: raises on a transposed or channels-last x "
            "(full marks before)"),
    Variant("avgpool_backward_clone_then_div_", {"avgpool2d_backward": AVGPOOL_BACKWARD_CLONE_THEN_DIV_}, frozenset(),
            "correct: grad_out.clone().div_(kh * kw), in place on the copy only"),
    Variant("maxpool_backward_scatter_contiguous_view", {"maxpool2d_backward": MAXPOOL_BACKWARD_SCATTER_CONTIGUOUS_VIEW},
            frozenset(), "correct: grad_out.contiguous().view(...) before scatter_add_"),
    Variant("global_avgpool_contiguous_view", {"global_avgpool_module": GLOBAL_AVGPOOL_CONTIGUOUS_VIEW}, frozenset(),
            "correct: x.contiguous().view(N, C, H * W).mean(dim=2)"),
    # audit as students write it (H1)
    Variant("avgpool_naive_python_list", {"avgpool2d_naive": AVGPOOL_NAIVE_PYTHON_LIST},
            frozenset({"test_pool_dtype"}),
            "sums with .item() into a Python list, then torch.tensor(list): float32 whatever x is (as "
            "maxpool_naive_float32_output); each mean rounded once, within rtol 1e-7: only the dtype test "
            "is lost (test_avgpool2d_naive too before: its check raised 'Float did not match Double')"),
    Variant("maxpool_naive_max_over_channels", {"maxpool2d_naive": MAXPOOL_NAIVE_MAX_OVER_CHANNELS},
            frozenset({"test_maxpool2d_naive"}),
            "loops over n and c but takes each window's maximum over all channels of the image"),
    Variant("maxpool_naive_size_off_by_one", {"maxpool2d_naive": MAXPOOL_NAIVE_SIZE_OFF_BY_ONE},
            frozenset({"test_maxpool2d_naive", "test_pool_naive_padding"}),
            "its own output size without the + 1: a row and a column short, with and without padding "
            "(the padding test's visible example checks the padded shape)"),
    Variant("maxpool_stack_offsets", {"maxpool2d": MAXPOOL_STACK_OFFSETS}, frozenset(),
            "correct: torch.stack of the kh * kw strided offset slices, one amax"),
    Variant("avgpool_float64_cast_back", {"avgpool2d": AVGPOOL_FLOAT64_CAST_BACK}, frozenset(),
            "correct: the mean in float64, converted back with .to(x.dtype)"),
    Variant("avgpool_einsum", {"avgpool2d": AVGPOOL_EINSUM}, frozenset(),
            "correct: einsum over the unfolded windows, divided by kh * kw"),
    Variant("maxpool_backward_four_loops", {"maxpool2d_backward": MAXPOOL_BACKWARD_FOUR_LOOPS}, frozenset(),
            "correct: loops over images, channels and windows, argmax and += at the winner"),
    Variant("avgpool_backward_repeat_interleave", {"avgpool2d_backward": AVGPOOL_BACKWARD_REPEAT_INTERLEAVE},
            frozenset({"test_avgpool2d_backward"}),
            "CS231n's repeat_interleave upsampling: right only for stride == kernel size (ignores the stride)"),
    Variant("global_avgpool_einsum", {"global_avgpool_module": GLOBAL_AVGPOOL_EINSUM}, frozenset(),
            "correct: einsum over the positions, divided by H * W"),
    Variant("shift_sensitivity_linalg_float", {"shift_sensitivity": SHIFT_LINALG_FLOAT}, frozenset(),
            "correct: detach() instead of no_grad, torch.linalg.norm of the flattened features, float()"),
    Variant("maxpool_float_call", {"maxpool2d": MAXPOOL_FLOAT_CALL},
            frozenset({"test_pool_dtype", "test_global_avgpool_module"}),
            "returns .float(): float32 for float64 input. The maxima are exact, so test_maxpool2d keeps its "
            "points (it lost them before: its check raised 'Float did not match Double'); the module's "
            "gradient, rounded to float32 and summed over overlapping windows, is off by 1.8e-7 (rtol 1e-7), "
            "a real loss of precision that the module test charges"),
    Variant("avgpool_empty_float32", {"avgpool2d": AVGPOOL_EMPTY_FLOAT32},
            frozenset({"test_pool_dtype"}),
            "writes the window means into torch.empty(...): float32 for float64 input, each mean rounded once, "
            "within rtol 1e-7: only the dtype test is lost (test_avgpool2d too before: its check raised "
            "'Float did not match Double')"),
]

#: A wrong variant that passes every visible test and loses exactly one hidden test
#: (tests/end_to_end/test_colab.py teaches with it; docs/authoring.md).
SUBTLE_VARIANT = "maxpool_backward_unravel_by_kh"
