"""Wrong (and differently-written right) solutions of the misclassifications assignment."""
import torch

from tests.variants import Variant

# The notebook's `device` is cuda on a GPU machine: there a predict that moves batches to the
# global `device` also fails the visible test of test_predict (its toy model lives on the CPU).
_GLOBAL_DEVICE_LOST = {"test_predict_modes"} | ({"test_predict"} if torch.cuda.is_available() else set())

# ------------------------------------------------------------------ Part 1: predict

PREDICT_NO_EVAL = '''
def predict(model, loader):
    model_device = next(model.parameters()).device
    all_preds, all_targets, all_probs = [], [], []
    with torch.no_grad():
        for images, labels in loader:
            probs = F.softmax(model(images.to(model_device)), dim=1)
            top_probs, top_classes = probs.max(dim=1)
            all_preds.append(top_classes.cpu())
            all_targets.append(labels.cpu())
            all_probs.append(top_probs.cpu())
    return torch.cat(all_preds).long(), torch.cat(all_targets).long(), torch.cat(all_probs)
'''

PREDICT_GLOBAL_DEVICE = '''
def predict(model, loader):
    model.eval()
    all_preds, all_targets, all_probs = [], [], []
    with torch.no_grad():
        for images, labels in loader:
            probs = F.softmax(model(images.to(device)), dim=1)      # the notebook's device
            top_probs, top_classes = probs.max(dim=1)
            all_preds.append(top_classes.cpu())
            all_targets.append(labels.cpu())
            all_probs.append(top_probs.cpu())
    return torch.cat(all_preds).long(), torch.cat(all_targets).long(), torch.cat(all_probs)
'''

PREDICT_SOFTMAX_DIM0 = '''
def predict(model, loader):
    model_device = next(model.parameters()).device
    model.eval()
    all_preds, all_targets, all_probs = [], [], []
    with torch.no_grad():
        for images, labels in loader:
            probs = F.softmax(model(images.to(model_device)), dim=0)   # over the batch
            top_probs, top_classes = probs.max(dim=1)
            all_preds.append(top_classes.cpu())
            all_targets.append(labels.cpu())
            all_probs.append(top_probs.cpu())
    return torch.cat(all_preds).long(), torch.cat(all_targets).long(), torch.cat(all_probs)
'''

PREDICT_NO_NO_GRAD = '''
def predict(model, loader):
    model_device = next(model.parameters()).device
    model.eval()
    all_preds, all_targets, all_probs = [], [], []
    for images, labels in loader:
        probs = F.softmax(model(images.to(model_device)), dim=1)
        top_probs, top_classes = probs.max(dim=1)
        all_preds.append(top_classes.cpu())
        all_targets.append(labels.cpu())
        all_probs.append(top_probs.cpu())
    return torch.cat(all_preds).long(), torch.cat(all_targets).long(), torch.cat(all_probs)
'''

PREDICT_MAX_LOGIT = '''
def predict(model, loader):
    model_device = next(model.parameters()).device
    model.eval()
    all_preds, all_targets, all_probs = [], [], []
    with torch.no_grad():
        for images, labels in loader:
            top_logits, top_classes = model(images.to(model_device)).max(dim=1)
            all_preds.append(top_classes.cpu())
            all_targets.append(labels.cpu())
            all_probs.append(top_logits.cpu())
    return torch.cat(all_preds).long(), torch.cat(all_targets).long(), torch.cat(all_probs)
'''

PREDICT_STACK = '''
def predict(model, loader):
    model_device = next(model.parameters()).device
    model.eval()
    all_preds, all_targets, all_probs = [], [], []
    with torch.no_grad():
        for images, labels in loader:
            probs = F.softmax(model(images.to(model_device)), dim=1)
            top_probs, top_classes = probs.max(dim=1)
            all_preds.append(top_classes.cpu())
            all_targets.append(labels.cpu())
            all_probs.append(top_probs.cpu())
    # stack: fails as soon as the last batch is smaller
    return (torch.stack(all_preds).flatten().long(), torch.stack(all_targets).flatten().long(),
            torch.stack(all_probs).flatten())
'''

# Right: argmax of the logits, log_softmax().exp(), inference_mode, training mode restored.
PREDICT_INFERENCE_MODE = '''
def predict(model, loader):
    parameter = next(model.parameters())
    was_training = model.training
    model.eval()
    batches = []
    try:
        with torch.inference_mode():
            for x, y in loader:
                logits = model(x.to(parameter.device))
                confidence = logits.log_softmax(dim=1).exp().amax(dim=1)
                batches.append((logits.argmax(dim=1).cpu(), y.cpu(), confidence.cpu()))
    finally:
        model.train(was_training)
    preds, targets, probs = (torch.cat(parts) for parts in zip(*batches))
    return preds.long(), targets.long(), probs
'''

# ------------------------------------------------------------------ Part 2: find_misclassified

FIND_POSITIONS_NOT_INDICES = '''
def find_misclassified(preds, targets, probs, k):
    wrong = torch.nonzero(preds != targets).flatten()
    order = torch.sort(probs[wrong], descending=True, stable=True).indices
    return order[:k].long()                  # positions among the mistakes, not indices
'''

FIND_ASCENDING = '''
def find_misclassified(preds, targets, probs, k):
    wrong = torch.nonzero(preds != targets).flatten()
    order = torch.sort(probs[wrong], stable=True).indices      # least confident first
    return wrong[order[:k]].long()
'''

FIND_EMPTY_FLOAT = '''
def find_misclassified(preds, targets, probs, k):
    wrong = torch.nonzero(preds != targets).flatten()
    if len(wrong) == 0:
        return torch.tensor([])                                  # float32
    order = probs[wrong].argsort(descending=True)
    return wrong[order[:k]]
'''

FIND_TOPK = '''
def find_misclassified(preds, targets, probs, k):
    wrong = torch.nonzero(preds != targets).flatten()
    return wrong[probs[wrong].topk(k).indices]                    # k > number of mistakes: error
'''

FIND_TOP_K_THEN_FILTER = '''
def find_misclassified(preds, targets, probs, k):
    top = probs.argsort(descending=True)[:k]                      # the k most confident overall
    return top[preds[top] != targets[top]]
'''

# Right: a Python list sorted by confidence (sorted() is stable).
FIND_PYTHON_SORT = '''
def find_misclassified(preds, targets, probs, k):
    mistakes = [i for i in range(len(preds)) if preds[i] != targets[i]]
    mistakes.sort(key=lambda i: -float(probs[i]))
    return torch.tensor(mistakes[:k], dtype=torch.long)
'''

# ------------------------------------------------------------------ Part 3: plot_misclassified

PLOT_TITLE_SWAPPED = '''
def plot_misclassified(images, preds, targets, probs, indices):
    indices = torch.as_tensor(indices, dtype=torch.long)
    titles = [f"true {int(preds[i])}, pred {int(targets[i])} ({100 * float(probs[i]):.0f}%)"
              for i in indices.tolist()]
    if len(titles) == 0:
        fig = plt.figure()
        fig.suptitle("No mistakes")
        return fig
    return plots.show_images(images[indices], titles=titles, ncols=5, title="Mistakes")
'''

PLOT_NO_EMPTY_CASE = '''
def plot_misclassified(images, preds, targets, probs, indices):
    n = len(indices)
    fig, axes = plt.subplots(1, n, figsize=(2 * n, 2.5), squeeze=False)   # n = 0: error
    for ax, i in zip(axes.flat, indices.tolist()):
        ax.imshow(images[i, 0], cmap="gray")
        ax.set_title(f"true {int(targets[i])}, pred {int(preds[i])} ({100 * float(probs[i]):.0f}%)")
        ax.axis("off")
    fig.suptitle("Most confident mistakes")
    return fig
'''

PLOT_SQUEEZED_AXES = '''
def plot_misclassified(images, preds, targets, probs, indices):
    n = len(indices)
    fig, axes = plt.subplots(1, max(n, 1), figsize=(2 * max(n, 1), 2.5))
    for ax, i in zip(axes, indices.tolist()):                   # one axes: not iterable
        ax.imshow(images[i, 0], cmap="gray")
        ax.set_title(f"true {int(targets[i])}, pred {int(preds[i])} ({100 * float(probs[i]):.0f}%)")
    fig.suptitle("Most confident mistakes")
    return fig
'''

PLOT_CHANNEL_NOT_DROPPED = '''
def plot_misclassified(images, preds, targets, probs, indices):
    n = len(indices)
    fig, axes = plt.subplots(1, max(n, 1), figsize=(2 * max(n, 1), 2.5), squeeze=False)
    for ax, i in zip(axes.flat, indices.tolist()):
        ax.imshow(images[i], cmap="gray")                        # (1, H, W): invalid shape
        ax.set_title(f"true {int(targets[i])}, pred {int(preds[i])} ({100 * float(probs[i]):.0f}%)")
    fig.suptitle("Most confident mistakes")
    return fig
'''

PLOT_NO_SUPTITLE = '''
def plot_misclassified(images, preds, targets, probs, indices):
    n = len(indices)
    fig, axes = plt.subplots(1, max(n, 1), figsize=(2 * max(n, 1), 2.5), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, i in zip(axes.flat, indices.tolist()):
        ax.imshow(images[i, 0], cmap="gray")
        ax.set_title(f"true {int(targets[i])}, pred {int(preds[i])} ({100 * float(probs[i]):.0f}%)")
    return fig
'''

PLOT_HARDCODED_28 = '''
def plot_misclassified(images, preds, targets, probs, indices):
    n = len(indices)
    fig, axes = plt.subplots(1, max(n, 1), figsize=(2 * max(n, 1), 2.5), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, i in zip(axes.flat, indices.tolist()):
        ax.imshow(images[i].reshape(28, 28), cmap="gray")          # MNIST only
        ax.set_title(f"true {int(targets[i])}, pred {int(preds[i])} ({100 * float(probs[i]):.0f}%)")
    fig.suptitle("Most confident mistakes")
    return fig
'''

PLOT_FIRST_K_IMAGES = '''
def plot_misclassified(images, preds, targets, probs, indices):
    n = len(indices)
    fig, axes = plt.subplots(1, max(n, 1), figsize=(2 * max(n, 1), 2.5), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for j, i in enumerate(indices.tolist()):
        axes.flat[j].imshow(images[j, 0], cmap="gray")              # image j, not image i
        axes.flat[j].set_title(f"true {int(targets[i])}, pred {int(preds[i])} ({100 * float(probs[i]):.0f}%)")
    fig.suptitle("Most confident mistakes")
    return fig
'''

# Right: own grid of 4 columns, hidden spare axes, the percentage truncated rather than rounded
# (the tests use confidences whose percentages round down).
PLOT_OWN_GRID_TRUNCATED = '''
def plot_misclassified(images, preds, targets, probs, indices):
    import math
    n = len(indices)
    ncols = min(4, max(n, 1))
    nrows = max(1, math.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(2.2 * ncols, 2.4 * nrows), squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    for ax, i in zip(axes.flat, list(indices)):
        i = int(i)
        ax.imshow(images[i, 0].cpu().numpy(), cmap="gray_r")
        ax.set_title(f"true {int(targets[i])}, pred {int(preds[i])} ({int(100 * float(probs[i]))}%)")
    fig.suptitle(f"{n} confident mistakes" if n else "No mistakes")
    return fig
'''

# ------------------------------------------------------------------ Part 4a: confusion_matrix

CM_TRANSPOSED = '''
def confusion_matrix(preds, targets, num_classes=10):
    cm = torch.zeros(num_classes, num_classes, dtype=torch.int64)
    for t, p in zip(targets.tolist(), preds.tolist()):
        cm[p, t] += 1                                             # rows = predicted
    return cm
'''

CM_NO_ACCUMULATE = '''
def confusion_matrix(preds, targets, num_classes=10):
    cm = torch.zeros(num_classes, num_classes, dtype=torch.int64)
    cm[targets, preds] += 1                                       # repeated pairs count once
    return cm
'''

CM_SIZE_FROM_DATA = '''
def confusion_matrix(preds, targets, num_classes=10):
    size = int(max(preds.max(), targets.max())) + 1               # classes seen in the data only
    cm = torch.zeros(size, size, dtype=torch.int64)
    for t, p in zip(targets.tolist(), preds.tolist()):
        cm[t, p] += 1
    return cm
'''

CM_FLOAT = '''
def confusion_matrix(preds, targets, num_classes=10):
    cm = torch.zeros(num_classes, num_classes)                     # float32 counts
    for t, p in zip(targets.tolist(), preds.tolist()):
        cm[t, p] += 1
    return cm
'''

CM_BINCOUNT_NO_MINLENGTH = '''
def confusion_matrix(preds, targets, num_classes=10):
    counts = torch.bincount(targets.long() * num_classes + preds.long())   # too short if the
    return counts.reshape(num_classes, num_classes)                         # last pairs are absent
'''

# Right: bincount of t * C + p with minlength.
CM_BINCOUNT = '''
def confusion_matrix(preds, targets, num_classes=10):
    flat = targets.long().cpu() * num_classes + preds.long().cpu()
    return torch.bincount(flat, minlength=num_classes * num_classes).reshape(num_classes, num_classes)
'''

# Right: index_put_ with accumulate=True.
CM_INDEX_PUT = '''
def confusion_matrix(preds, targets, num_classes=10):
    cm = torch.zeros(num_classes, num_classes, dtype=torch.long)
    ones = torch.ones(len(preds), dtype=torch.long)
    cm.index_put_((targets.long().cpu(), preds.long().cpu()), ones, accumulate=True)
    return cm
'''

# ------------------------------------------------------------------ Part 4b: plot_confusion_matrix

_PCM_HEAD = '''
def plot_confusion_matrix(cm):
    cm = torch.as_tensor(cm).cpu()
    C = cm.shape[0]
    fig, ax = plt.subplots(figsize=(6, 5))
'''

PCM_TRANSPOSED = _PCM_HEAD + '''
    ax.imshow(cm.T.numpy(), cmap="Blues")                          # predicted on the rows
    ax.set_xticks(range(C))
    ax.set_yticks(range(C))
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title("Confusion matrix")
    for t in range(C):
        for p in range(C):
            ax.text(t, p, str(int(cm[t, p])), ha="center", va="center")
    return fig
'''

PCM_DEFAULT_TICKS = _PCM_HEAD + '''
    ax.imshow(cm.numpy(), cmap="Blues")                            # matplotlib's ticks: 0, 2, 4, ...
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title("Confusion matrix")
    for t in range(C):
        for p in range(C):
            ax.text(p, t, str(int(cm[t, p])), ha="center", va="center")
    return fig
'''

PCM_LABELS_SWAPPED = _PCM_HEAD + '''
    ax.imshow(cm.numpy(), cmap="Blues")
    ax.set_xticks(range(C))
    ax.set_yticks(range(C))
    ax.set_xlabel("true")
    ax.set_ylabel("predicted")
    ax.set_title("Confusion matrix")
    for t in range(C):
        for p in range(C):
            ax.text(p, t, str(int(cm[t, p])), ha="center", va="center")
    return fig
'''

PCM_SKIPS_ZEROS = _PCM_HEAD + '''
    ax.imshow(cm.numpy(), cmap="Blues")
    ax.set_xticks(range(C))
    ax.set_yticks(range(C))
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title("Confusion matrix")
    for t in range(C):
        for p in range(C):
            if cm[t, p] > 0:
                ax.text(p, t, str(int(cm[t, p])), ha="center", va="center")
    return fig
'''

PCM_TENSOR_TEXT = _PCM_HEAD + '''
    ax.imshow(cm.numpy(), cmap="Blues")
    ax.set_xticks(range(C))
    ax.set_yticks(range(C))
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title("Confusion matrix")
    for t in range(C):
        for p in range(C):
            ax.text(p, t, str(cm[t, p]), ha="center", va="center")   # "tensor(5)"
    return fig
'''

PCM_ROW_NORMALISED = _PCM_HEAD + '''
    ax.imshow((cm / cm.sum(dim=1, keepdim=True).clamp(min=1)).numpy(), cmap="Blues")
    ax.set_xticks(range(C))
    ax.set_yticks(range(C))
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title("Confusion matrix (row-normalised)")
    for t in range(C):
        for p in range(C):
            ax.text(p, t, str(int(cm[t, p])), ha="center", va="center")
    return fig
'''

# Right: Figure API, annotate, tick labels passed to set_xticks, no colorbar, a suptitle.
PCM_ANNOTATE = '''
def plot_confusion_matrix(cm):
    import numpy as np
    counts = cm.detach().cpu().numpy()
    C = counts.shape[0]
    fig = plt.figure(figsize=(5, 5))
    ax = fig.add_subplot()
    ax.imshow(counts, cmap="viridis")
    ax.set_xticks(range(C), labels=[str(c) for c in range(C)])
    ax.set_yticks(range(C), labels=[str(c) for c in range(C)])
    ax.set_xlabel("Predicted")
    ax.set_ylabel("True")
    fig.suptitle("How often class t (row) was predicted as class p (column)")
    for (t, p), count in np.ndenumerate(counts):
        ax.annotate(f"{count:d}", (p, t), ha="center", va="center", color="w")
    return fig
'''

# ------------------------------------------------------------------ Part 4c: most_confused_pairs

MCP_INCLUDES_DIAGONAL = '''
def most_confused_pairs(cm, k):
    C = cm.shape[0]
    pairs = [(t, p, int(cm[t, p])) for t in range(C) for p in range(C) if cm[t, p] > 0]
    pairs.sort(key=lambda pair: (-pair[2], pair[0], pair[1]))
    return pairs[:k]
'''

MCP_KEEPS_ZEROS = '''
def most_confused_pairs(cm, k):
    C = cm.shape[0]
    pairs = [(t, p, int(cm[t, p])) for t in range(C) for p in range(C) if t != p]
    pairs.sort(key=lambda pair: (-pair[2], pair[0], pair[1]))
    return pairs[:k]
'''

MCP_TENSOR_ENTRIES = '''
def most_confused_pairs(cm, k):
    C = cm.shape[0]
    pairs = [(t, p, cm[t, p]) for t in range(C) for p in range(C) if t != p and cm[t, p] > 0]
    pairs.sort(key=lambda pair: (-int(pair[2]), pair[0], pair[1]))
    return pairs[:k]                                               # counts stay 0-d tensors
'''

MCP_TIES_DESCENDING = '''
def most_confused_pairs(cm, k):
    C = cm.shape[0]
    pairs = [(int(cm[t, p]), t, p) for t in range(C) for p in range(C) if t != p and cm[t, p] > 0]
    pairs.sort(reverse=True)                                       # ties: (true, pred) descending
    return [(t, p, count) for count, t, p in pairs[:k]]
'''

MCP_PRED_FIRST = '''
def most_confused_pairs(cm, k):
    C = cm.shape[0]
    pairs = [(p, t, int(cm[t, p])) for t in range(C) for p in range(C) if t != p and cm[t, p] > 0]
    pairs.sort(key=lambda pair: (-pair[2], pair[1], pair[0]))
    return pairs[:k]                                               # (pred, true, count)
'''

# Right: zero the diagonal, stable descending sort of the flattened matrix (row-major order
# = (true, pred) ascending among equal counts).
MCP_TORCH_SORT = '''
def most_confused_pairs(cm, k):
    off = cm.detach().cpu().long().clone()
    off.fill_diagonal_(0)
    flat = off.flatten()
    order = torch.sort(flat, descending=True, stable=True).indices
    C = off.shape[1]
    result = []
    for i in order.tolist()[:k]:
        if flat[i] == 0:
            break
        result.append((i // C, i % C, int(flat[i])))
    return result
'''


# issue 11's categories, written fresh.
# A square grid of int(sqrt(K))**2 axes: right for K = 0, 1, 4, 9, ...; drops images otherwise.
PLOT_SQUARE_GRID = '''
import math

def plot_misclassified(images, preds, targets, probs, indices):
    indices = torch.as_tensor(indices, dtype=torch.long).cpu().tolist()
    fig = plt.figure(figsize=(6, 6))
    fig.suptitle(f"{len(indices)} most confident mistakes")
    side = int(math.sqrt(len(indices)))
    for slot, i in enumerate(indices[:side * side]):
        ax = fig.add_subplot(side, side, slot + 1)
        ax.imshow(images[i, 0].detach().cpu(), cmap="gray")
        ax.set_title(f"true {int(targets[i])}, pred {int(preds[i])} ({100 * float(probs[i]):.0f}%)")
        ax.axis("off")
    return fig
'''

# most_confused_pairs with numpy int64 entries (np.argsort and np.unravel_index): right values.
MCP_NUMPY_INTS = '''
import numpy as np

def most_confused_pairs(cm, k):
    off = cm.detach().cpu().numpy().copy()
    np.fill_diagonal(off, 0)
    order = np.argsort(-off.ravel(), kind="stable")
    result = []
    for flat in order[:k]:
        t, p = np.unravel_index(flat, off.shape)
        if off[t, p] == 0:
            break
        result.append((t, p, off[t, p]))
    return result
'''


# ------------------------------------------------------------------ audit (careful grader)
# A float-dtype predict (torch.Tensor of Python lists, audit m02): test_predict owns the dtypes
# (its visible assert and its dtype record); test_predict_modes compares the labels by value.
PREDICT_FLOAT_LABELS = '''
def predict(model, loader):
    dev = next(model.parameters()).device
    model.eval()
    preds, targets, probs = [], [], []
    with torch.no_grad():
        for images, labels in loader:
            p = F.softmax(model(images.to(dev)), dim=1).cpu()
            conf, cls = p.max(dim=1)
            preds.extend(cls.tolist())
            targets.extend(labels.tolist())
            probs.extend(conf.tolist())
    return torch.Tensor(preds), torch.Tensor(targets), torch.Tensor(probs)   # float32 labels
'''
# Not a variant: a predict that leaves its results on the model's device (no .cpu(), audit m23)
# is indistinguishable from a right one while the model is on the CPU, and every model the tests
# pass is (the hidden records must not depend on the grading machine having a GPU). On a
# CPU-only grader it earns full marks; catching it needs a test that moves a model to a GPU,
# which only a GPU machine could run. Not faked with a stand-in device.

# Right indices as floats (torch.Tensor of a list, audit m04): only the types test is lost.
FIND_FLOAT_INDICES = '''
def find_misclassified(preds, targets, probs, k):
    mistakes = [i for i in range(len(preds)) if preds[i] != targets[i]]
    mistakes = sorted(mistakes, key=lambda i: float(probs[i]), reverse=True)
    return torch.Tensor(mistakes[:k])                              # float32 indices
'''

# Equal probabilities, larger index first (stable ascending sort, flipped; audit m03).
FIND_TIES_REVERSED = '''
def find_misclassified(preds, targets, probs, k):
    wrong = (preds != targets).nonzero(as_tuple=True)[0]
    order = probs[wrong].argsort(stable=True).flip(0)              # ties: larger index first
    return wrong[order][:k]
'''

# Right: a stable sort of the negated probabilities (audit m05): ties keep the smaller index first.
FIND_NEG_STABLE = '''
def find_misclassified(preds, targets, probs, k):
    mask = preds != targets
    idx = torch.arange(len(preds))[mask]
    _, order = torch.sort(-probs[mask], stable=True)
    return idx[order[:k]]
'''

# Right: Python's sort with an explicit tie key (-probability, index).
FIND_TIE_KEY = '''
def find_misclassified(preds, targets, probs, k):
    mistakes = [i for i in range(len(preds)) if preds[i] != targets[i]]
    mistakes.sort(key=lambda i: (-float(probs[i]), i))
    return torch.tensor(mistakes[:k], dtype=torch.int64)
'''

# num_classes ignored (audit m13): right for 10 classes; another num_classes is
# test_confusion_matrix_edges' point only (its visible test and two hidden records).
CM_HARDCODED_10 = '''
def confusion_matrix(preds, targets, num_classes=10):
    cm = torch.zeros(10, 10, dtype=torch.int64)                   # num_classes ignored
    for t, p in zip(targets.tolist(), preds.tolist()):
        cm[t, p] += 1
    return cm
'''

_PCM_BODY = '''
    for t in range(C):
        for p in range(C):
            ax.text(p, t, str(int(cm[t, p])), ha="center", va="center")
    return fig
'''

# Right: the title on the left (audit m14).
PCM_TITLE_LEFT = _PCM_HEAD + '''
    im = ax.imshow(cm.numpy(), cmap="Blues")
    fig.colorbar(im, ax=ax)
    ax.set_xticks(range(C))
    ax.set_yticks(range(C))
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title("Confusion matrix", loc="left")
''' + _PCM_BODY

# Wrong: no title at all (the other direction of PCM_TITLE_LEFT).
PCM_NO_TITLE = _PCM_HEAD + '''
    ax.imshow(cm.numpy(), cmap="Blues")
    ax.set_xticks(range(C))
    ax.set_yticks(range(C))
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
''' + _PCM_BODY

# Right: class numbers above the matrix as well as below, and right of it as well as left (audit m18).
PCM_LABELS_BOTH_SIDES = _PCM_HEAD + '''
    ax.imshow(cm.numpy(), cmap="Blues")
    ax.set_xticks(range(C))
    ax.set_yticks(range(C))
    ax.tick_params(top=True, labeltop=True, right=True, labelright=True)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title("Confusion matrix", pad=20)
''' + _PCM_BODY

# Wrong: labels on both sides, but matplotlib's default ticks (0, 2, 4, ...), not one per class.
PCM_BOTH_SIDES_DEFAULT_TICKS = _PCM_HEAD + '''
    ax.imshow(cm.numpy(), cmap="Blues")
    ax.tick_params(top=True, labeltop=True)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title("Confusion matrix", pad=20)
''' + _PCM_BODY

# Right values as lists [t, p, count] of Python ints instead of tuples (audit m22), and from
# Tensor.tolist() (audit m19): only the types test is lost.
MCP_LIST_OF_LISTS = '''
def most_confused_pairs(cm, k):
    C = cm.shape[0]
    pairs = []
    for t in range(C):
        for p in range(C):
            if t != p and cm[t, p] > 0:
                pairs.append([t, p, int(cm[t, p])])
    pairs.sort(key=lambda x: (-x[2], x[0], x[1]))
    return pairs[:k]
'''

MCP_TUPLE_OF_TUPLES = '''
def most_confused_pairs(cm, k):
    C = cm.shape[0]
    pairs = sorted(((t, p, int(cm[t, p])) for t in range(C) for p in range(C) if t != p and cm[t, p] > 0),
                   key=lambda x: (-x[2], x[0], x[1]))
    return tuple(pairs[:k])
'''

MCP_NONZERO_TOLIST = '''
def most_confused_pairs(cm, k):
    off = cm.clone()
    off.fill_diagonal_(0)
    pos = off.nonzero()                                   # (M, 2) rows (true, pred), row-major order
    counts = off[pos[:, 0], pos[:, 1]]
    order = torch.sort(counts, descending=True, stable=True).indices[:k]
    return torch.cat([pos[order], counts[order, None]], dim=1).tolist()
'''

# Equal counts ordered by (predicted, true) instead of (true, predicted) (audit m20).
MCP_TIES_BY_PRED = '''
def most_confused_pairs(cm, k):
    C = cm.shape[0]
    pairs = [(t, p, int(cm[t, p])) for t in range(C) for p in range(C) if t != p and cm[t, p] > 0]
    pairs.sort(key=lambda x: (-x[2], x[1], x[0]))        # ties by predicted class first
    return pairs[:k]
'''

# Right: heapq.nsmallest with the tie key (audit m21).
MCP_HEAPQ = '''
import heapq

def most_confused_pairs(cm, k):
    rows = cm.tolist()
    cand = [(t, p, c) for t, row in enumerate(rows) for p, c in enumerate(row) if t != p and c > 0]
    return heapq.nsmallest(k, cand, key=lambda x: (-x[2], x[0], x[1]))
'''



def _v(name, cell, source, lost, why):
    return Variant(name, {cell: source}, frozenset(lost), why)


VARIANTS = [
    # Part 1
    _v("predict_no_eval", "predict", PREDICT_NO_EVAL, {"test_predict_modes"},
       "never calls model.eval(): dropout stays on"),
    _v("predict_global_device", "predict", PREDICT_GLOBAL_DEVICE, _GLOBAL_DEVICE_LOST,
       "moves batches to the notebook's global `device` instead of the model's"),
    _v("predict_softmax_dim0", "predict", PREDICT_SOFTMAX_DIM0, {"test_predict"},
       "softmax over the batch dimension: test_predict only (before the 2026-12-05 audit it cost test_predict_modes too)"),
    _v("predict_without_no_grad", "predict", PREDICT_NO_NO_GRAD, {"test_predict"},
       "no torch.no_grad(): probs carry a graph (requires_grad True)"),
    _v("predict_max_logit", "predict", PREDICT_MAX_LOGIT, {"test_predict"},
       "returns the largest logit instead of its softmax probability: test_predict only (before the "
       "2026-12-05 audit it cost test_predict_modes too)"),
    _v("predict_stack", "predict", PREDICT_STACK, {"test_predict", "test_predict_modes"},
       "torch.stack of the batches: fails when the last batch is smaller"),
    _v("predict_inference_mode", "predict", PREDICT_INFERENCE_MODE, set(),
       "right: argmax of logits, log_softmax().exp(), inference_mode, mode restored"),
    # Part 2
    _v("find_positions_not_indices", "find_misclassified", FIND_POSITIONS_NOT_INDICES,
       {"test_find_misclassified", "test_find_misclassified_edges"},
       "returns positions in the list of mistakes, not indices into preds"),
    _v("find_ascending", "find_misclassified", FIND_ASCENDING,
       {"test_find_misclassified", "test_find_misclassified_edges"},
       "least confident mistakes first"),
    _v("find_empty_float", "find_misclassified", FIND_EMPTY_FLOAT, {"test_result_types"},
       "no mistakes: returns torch.tensor([]), a float32 tensor"),
    _v("find_topk", "find_misclassified", FIND_TOPK, {"test_find_misclassified_edges"},
       "topk(k) fails when there are fewer than k mistakes"),
    _v("find_top_k_then_filter", "find_misclassified", FIND_TOP_K_THEN_FILTER,
       {"test_find_misclassified", "test_find_misclassified_edges"},
       "takes the k most confident predictions, then keeps the mistakes among them"),
    _v("find_python_sort", "find_misclassified", FIND_PYTHON_SORT, set(),
       "right: a Python list sorted by confidence"),
    # Part 3
    _v("plot_title_swapped", "plot_misclassified", PLOT_TITLE_SWAPPED,
       {"test_plot_misclassified", "test_plot_misclassified_edges"},
       "title says true <pred>, pred <true>"),
    _v("plot_no_empty_case", "plot_misclassified", PLOT_NO_EMPTY_CASE, {"test_plot_misclassified_edges"},
       "plt.subplots(1, 0) raises when there is no mistake"),
    _v("plot_squeezed_axes", "plot_misclassified", PLOT_SQUEEZED_AXES,
       {"test_plot_misclassified", "test_plot_misclassified_edges"},
       "iterates over plt.subplots(1, n)'s axes, a single Axes when n = 1"),
    _v("plot_channel_not_dropped", "plot_misclassified", PLOT_CHANNEL_NOT_DROPPED,
       {"test_plot_misclassified", "test_plot_misclassified_edges"},
       "imshow of images[i], shape (1, H, W)"),
    _v("plot_no_suptitle", "plot_misclassified", PLOT_NO_SUPTITLE,
       {"test_plot_misclassified", "test_plot_misclassified_edges"},
       "no figure title"),
    _v("plot_hardcoded_28", "plot_misclassified", PLOT_HARDCODED_28,
       {"test_plot_misclassified", "test_plot_misclassified_edges"},
       "reshapes every image to 28x28"),
    _v("plot_first_k_images", "plot_misclassified", PLOT_FIRST_K_IMAGES,
       {"test_plot_misclassified", "test_plot_misclassified_edges"},
       "shows images 0..K-1 instead of the images at indices"),
    _v("plot_square_grid", "plot_misclassified", PLOT_SQUARE_GRID, {"test_plot_misclassified_edges"},
       "issue 11: an int(sqrt(K)) x int(sqrt(K)) grid, which drops images unless K is a square"),
    _v("plot_own_grid_truncated", "plot_misclassified", PLOT_OWN_GRID_TRUNCATED, {"test_plot_misclassified"},
       "own 4-column grid (right), but int(100 * p) truncates the percentage the text asks to round "
       "(0.7785 gives 77%, not 78%); full marks before the 2026-12-05 audit"),
    # Part 4a
    _v("cm_transposed", "confusion_matrix", CM_TRANSPOSED,
       {"test_confusion_matrix", "test_confusion_matrix_edges"}, "rows are predicted classes"),
    _v("cm_no_accumulate", "confusion_matrix", CM_NO_ACCUMULATE,
       {"test_confusion_matrix", "test_confusion_matrix_edges"},
       "cm[targets, preds] += 1 counts a repeated pair once"),
    _v("cm_size_from_data", "confusion_matrix", CM_SIZE_FROM_DATA, {"test_confusion_matrix_edges"},
       "size from the largest label seen, ignoring num_classes"),
    _v("cm_float", "confusion_matrix", CM_FLOAT, {"test_result_types"},
       "float32 counts, right values: only the types test is lost"),
    _v("cm_bincount_no_minlength", "confusion_matrix", CM_BINCOUNT_NO_MINLENGTH,
       {"test_confusion_matrix", "test_confusion_matrix_edges"},
       "bincount without minlength: too short when the last pairs never occur"),
    _v("cm_bincount", "confusion_matrix", CM_BINCOUNT, set(), "right: bincount of t * C + p"),
    _v("cm_index_put", "confusion_matrix", CM_INDEX_PUT, set(), "right: index_put_(accumulate=True)"),
    # Part 4b
    _v("pcm_transposed", "plot_confusion_matrix", PCM_TRANSPOSED, {"test_plot_confusion_matrix"},
       "shows cm.T: predicted classes on the rows"),
    _v("pcm_default_ticks", "plot_confusion_matrix", PCM_DEFAULT_TICKS, {"test_plot_confusion_matrix"},
       "keeps matplotlib's default ticks instead of one per class"),
    _v("pcm_labels_swapped", "plot_confusion_matrix", PCM_LABELS_SWAPPED, {"test_plot_confusion_matrix"},
       "x label 'true', y label 'predicted'"),
    _v("pcm_skips_zeros", "plot_confusion_matrix", PCM_SKIPS_ZEROS, {"test_plot_confusion_matrix"},
       "annotates only the non-zero cells"),
    _v("pcm_tensor_text", "plot_confusion_matrix", PCM_TENSOR_TEXT, {"test_plot_confusion_matrix"},
       "annotations read 'tensor(5)'"),
    _v("pcm_row_normalised", "plot_confusion_matrix", PCM_ROW_NORMALISED, {"test_plot_confusion_matrix"},
       "shows row-normalised rates instead of the counts"),
    _v("pcm_annotate", "plot_confusion_matrix", PCM_ANNOTATE, set(),
       "right: Figure API, annotate, capitalised labels, suptitle, no colorbar"),
    # Part 4c
    _v("mcp_includes_diagonal", "most_confused_pairs", MCP_INCLUDES_DIAGONAL, {"test_most_confused_pairs"},
       "counts the correct predictions as confusions"),
    _v("mcp_keeps_zeros", "most_confused_pairs", MCP_KEEPS_ZEROS, {"test_most_confused_pairs"},
       "pads the list with zero counts"),
    _v("mcp_tensor_entries", "most_confused_pairs", MCP_TENSOR_ENTRIES, {"test_result_types"},
       "counts stay 0-d tensors instead of Python ints: only the types test is lost"),
    _v("mcp_numpy_ints", "most_confused_pairs", MCP_NUMPY_INTS, {"test_result_types"},
       "issue 11: numpy int64 entries, right values: only the types test is lost"),
    _v("mcp_ties_descending", "most_confused_pairs", MCP_TIES_DESCENDING, {"test_most_confused_pairs"},
       "sorts (count, true, pred) in reverse: ties by (true, pred) descending"),
    _v("mcp_pred_first", "most_confused_pairs", MCP_PRED_FIRST, {"test_most_confused_pairs"},
       "tuples (pred, true, count)"),
    _v("mcp_torch_sort", "most_confused_pairs", MCP_TORCH_SORT, set(),
       "right: diagonal zeroed, stable descending sort of the flattened matrix"),
    # audit as a careful grader: one wrong detail costs its own test
    _v("predict_float_labels", "predict", PREDICT_FLOAT_LABELS, {"test_predict"},
       "audit m02: float32 preds and targets (torch.Tensor of lists), right values: only "
       "test_predict, which owns predict's dtypes, is lost (test_predict_modes compares by value)"),
    _v("find_float_indices", "find_misclassified", FIND_FLOAT_INDICES, {"test_result_types"},
       "audit m04: right indices as float32: only the types test is lost"),
    _v("find_ties_reversed", "find_misclassified", FIND_TIES_REVERSED, {"test_find_misclassified_edges"},
       "audit m03: equal probabilities give the larger index first (the text: smaller first)"),
    _v("find_neg_stable", "find_misclassified", FIND_NEG_STABLE, set(),
       "right (audit m05): stable sort of -probs, ties keep the smaller index first"),
    _v("find_tie_key", "find_misclassified", FIND_TIE_KEY, set(),
       "right: sorted by (-probability, index)"),
    _v("cm_hardcoded_10", "confusion_matrix", CM_HARDCODED_10, {"test_confusion_matrix_edges"},
       "audit m13: num_classes ignored (always 10x10): only the test of another num_classes is lost"),
    _v("pcm_title_left", "plot_confusion_matrix", PCM_TITLE_LEFT, set(),
       "right (audit m14): ax.set_title(..., loc='left')"),
    _v("pcm_no_title", "plot_confusion_matrix", PCM_NO_TITLE, {"test_plot_confusion_matrix"},
       "no title anywhere"),
    _v("pcm_labels_both_sides", "plot_confusion_matrix", PCM_LABELS_BOTH_SIDES, set(),
       "right (audit m18): tick labels top and bottom, left and right, read once"),
    _v("pcm_both_sides_default_ticks", "plot_confusion_matrix", PCM_BOTH_SIDES_DEFAULT_TICKS,
       {"test_plot_confusion_matrix"},
       "tick labels top and bottom, but matplotlib's default ticks, not one per class"),
    _v("mcp_list_of_lists", "most_confused_pairs", MCP_LIST_OF_LISTS, {"test_result_types"},
       "audit m22: lists [t, p, count] instead of tuples, right values: only the types test is lost"),
    _v("mcp_tuple_of_tuples", "most_confused_pairs", MCP_TUPLE_OF_TUPLES, {"test_result_types"},
       "a tuple of tuples instead of a list, right values: only the types test is lost"),
    _v("mcp_nonzero_tolist", "most_confused_pairs", MCP_NONZERO_TOLIST, {"test_result_types"},
       "audit m19: Tensor.tolist() rows, lists instead of tuples, right values: only the types test is lost"),
    _v("mcp_ties_by_pred", "most_confused_pairs", MCP_TIES_BY_PRED, {"test_most_confused_pairs"},
       "audit m20: equal counts by (predicted, true) instead of (true, predicted)"),
    _v("mcp_heapq", "most_confused_pairs", MCP_HEAPQ, set(),
       "right (audit m21): heapq.nsmallest with the key (-count, true, pred)"),
]

#: A wrong variant that passes every visible test and loses exactly one hidden test
#: (tests/end_to_end/test_colab.py teaches with it; docs/authoring.md).
SUBTLE_VARIANT = "mcp_keeps_zeros"

# ------------------------------------------------------------------ audit 2026-12-05, second grader

# The softmax probability of the TRUE class instead of the predicted one.
PREDICT_PROB_OF_TRUE_CLASS = '''
def predict(model, loader):
    dev = next(model.parameters()).device
    model.eval()
    preds, targets, probs = [], [], []
    with torch.no_grad():
        for x, y in loader:
            p = F.softmax(model(x.to(dev)), dim=1).cpu()
            preds.append(p.argmax(dim=1))
            targets.append(y.cpu())
            probs.append(p[torch.arange(len(y)), y.cpu()])
    return torch.cat(preds), torch.cat(targets).long(), torch.cat(probs)
'''

# Python lists of numbers, gather for the confidence.
PREDICT_GATHER_LISTS = '''
def predict(model, loader):
    model.eval()
    where = next(model.parameters()).device
    preds, targets, probs = [], [], []
    with torch.no_grad():
        for images, labels in loader:
            p = torch.softmax(model(images.to(where)), dim=-1)
            top = p.argmax(dim=-1, keepdim=True)
            preds += top.squeeze(1).tolist()
            targets += labels.tolist()
            probs += p.gather(1, top).squeeze(1).tolist()
    return (torch.tensor(preds, dtype=torch.int64), torch.tensor(targets, dtype=torch.int64),
            torch.tensor(probs))
'''

# Right predictions' probabilities set to -1, then the k largest: right predictions fill the list
# when there are fewer than k mistakes.
FIND_MASKED_ARGSORT = '''
def find_misclassified(preds, targets, probs, k):
    scores = probs.clone()
    scores[preds == targets] = -1.0
    return torch.argsort(scores, descending=True, stable=True)[:k]
'''

# The same mask with -inf, trimmed to the number of mistakes.
FIND_MASKED_INF_TRIMMED = '''
def find_misclassified(preds, targets, probs, k):
    wrong = preds != targets
    scores = torch.where(wrong, probs.double(), torch.tensor(float("-inf"), dtype=torch.float64))
    order = torch.argsort(scores, descending=True, stable=True)
    return order[:min(k, int(wrong.sum()))]
'''

# The existing own-grid variant, rounding the percentage with round() as the text asks.
PLOT_OWN_GRID_ROUNDED = PLOT_OWN_GRID_TRUNCATED.replace("int(100 * float(probs[i]))", "round(100 * float(probs[i]))")

CM_SKLEARN = '''
from sklearn.metrics import confusion_matrix as sk_confusion_matrix


def confusion_matrix(preds, targets, num_classes=10):
    cm = sk_confusion_matrix(targets.numpy(), preds.numpy(), labels=list(range(num_classes)))
    return torch.from_numpy(cm).long()
'''

CM_SKLEARN_NO_LABELS = '''
from sklearn.metrics import confusion_matrix as sk_confusion_matrix


def confusion_matrix(preds, targets, num_classes=10):
    return torch.from_numpy(sk_confusion_matrix(targets.numpy(), preds.numpy())).long()
'''

PCM_MATSHOW = '''
def plot_confusion_matrix(cm):
    n = len(cm)
    fig, ax = plt.subplots()
    ax.matshow(cm, cmap="Oranges")
    ax.set_xticks(list(range(n)))
    ax.set_yticks(list(range(n)))
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title("confusion matrix", pad=20)
    for t in range(n):
        for p in range(n):
            ax.text(p, t, f"{int(cm[t][p])}", ha="center", va="center")
    return fig
'''

# Python's sort is stable also with reverse=True: equal counts keep their (true, pred) order.
MCP_SORTED_REVERSE_STABLE = '''
def most_confused_pairs(cm, k):
    pairs = []
    for t in range(cm.shape[0]):
        for p in range(cm.shape[1]):
            if t != p and cm[t, p].item() > 0:
                pairs.append((t, p, cm[t, p].item()))
    return sorted(pairs, key=lambda pair: pair[2], reverse=True)[:k]
'''

# The largest off-diagonal entry, k times; argmax returns the first of equal maxima (row-major).
MCP_REPEATED_ARGMAX = '''
def most_confused_pairs(cm, k):
    off = cm.clone().long()
    off.fill_diagonal_(0)
    n = off.shape[1]
    result = []
    for _ in range(k):
        flat = int(off.argmax())
        t, p = divmod(flat, n)
        if off[t, p] <= 0:
            break
        result.append((t, p, int(off[t, p])))
        off[t, p] = 0
    return result
'''

VARIANTS += [
    _v("predict_prob_of_true_class", "predict", PREDICT_PROB_OF_TRUE_CLASS, {"test_predict"},
       "probs is the softmax probability of the true class, not of the predicted one: test_predict only"),
    _v("predict_gather_lists", "predict", PREDICT_GATHER_LISTS, set(),
       "right: Python lists of labels and confidences, softmax gathered at the argmax"),
    _v("find_masked_argsort", "find_misclassified", FIND_MASKED_ARGSORT, {"test_find_misclassified_edges"},
       "masks right predictions with -1 and takes the top k: right predictions fill in when there are fewer mistakes"),
    _v("find_masked_inf_trimmed", "find_misclassified", FIND_MASKED_INF_TRIMMED, set(),
       "right: right predictions masked with -inf, stable descending argsort, trimmed to the number of mistakes"),
    _v("plot_own_grid_rounded", "plot_misclassified", PLOT_OWN_GRID_ROUNDED, set(),
       "right: own 4-column grid, spare axes hidden, reversed colormap, percentage with round()"),
    _v("cm_sklearn", "confusion_matrix", CM_SKLEARN, set(),
       "right: sklearn.metrics.confusion_matrix(y_true, y_pred, labels=range(C)) as an int64 tensor"),
    _v("cm_sklearn_no_labels", "confusion_matrix", CM_SKLEARN_NO_LABELS, {"test_confusion_matrix_edges"},
       "sklearn without labels=: the matrix covers only the classes present in the data"),
    _v("pcm_matshow", "plot_confusion_matrix", PCM_MATSHOW, set(),
       "right: matshow (tick labels on top), title padded, counts from cm[t][p]"),
    _v("mcp_sorted_reverse_stable", "most_confused_pairs", MCP_SORTED_REVERSE_STABLE, set(),
       "right: sorted by count with reverse=True, which keeps the (true, pred) order of equal counts"),
    _v("mcp_repeated_argmax", "most_confused_pairs", MCP_REPEATED_ARGMAX, set(),
       "right: the off-diagonal argmax k times (the first of equal maxima in row-major order)"),
]

# ------------------------------------------------------------------ side effects on the caller's state
# predict must leave gradients switched on as it found them (test_predict_modes, 1 point), and
# most_confused_pairs must leave the matrix passed in unchanged (test_most_confused_pairs_input,
# 1 point); neither is a mistake in the values the other tests compare.

# torch.set_grad_enabled(False) as a statement, never switched back: the caller's later training
# runs without gradients.
PREDICT_GRAD_OFF_FOR_GOOD = '''
def predict(model, loader):
    model_device = next(model.parameters()).device
    model.eval()
    torch.set_grad_enabled(False)
    all_preds, all_targets, all_probs = [], [], []
    for images, labels in loader:
        probs = F.softmax(model(images.to(model_device)), dim=1)
        top_probs, top_classes = probs.max(dim=1)
        all_preds.append(top_classes.cpu())
        all_targets.append(labels.cpu())
        all_probs.append(top_probs.cpu())
    return torch.cat(all_preds).long(), torch.cat(all_targets).long(), torch.cat(all_probs)
'''

# Right: @torch.no_grad() as a decorator (the mode is put back when the function returns).
PREDICT_NO_GRAD_DECORATOR = '''
@torch.no_grad()
def predict(model, loader):
    model.eval()
    dev = next(model.parameters()).device
    out = [[], [], []]
    for x, y in loader:
        conf, cls = F.softmax(model(x.to(dev)), dim=1).max(dim=1)
        for part, values in zip(out, (cls, y, conf)):
            part.append(values.cpu())
    preds, targets, probs = (torch.cat(part) for part in out)
    return preds.long(), targets.long(), probs
'''

# Right: set_grad_enabled(False) as a statement, the caller's mode put back in a finally block.
PREDICT_RESTORES_GRAD_MODE = '''
def predict(model, loader):
    model_device = next(model.parameters()).device
    model.eval()
    was_enabled = torch.is_grad_enabled()
    torch.set_grad_enabled(False)
    try:
        all_preds, all_targets, all_probs = [], [], []
        for images, labels in loader:
            probs = F.softmax(model(images.to(model_device)), dim=1)
            top_probs, top_classes = probs.max(dim=1)
            all_preds.append(top_classes.cpu())
            all_targets.append(labels.cpu())
            all_probs.append(top_probs.cpu())
    finally:
        torch.set_grad_enabled(was_enabled)
    return torch.cat(all_preds).long(), torch.cat(all_targets).long(), torch.cat(all_probs)
'''

# The diagonal zeroed in the caller's matrix (fill_diagonal_ works in place).
MCP_ZEROES_DIAGONAL_IN_PLACE = '''
def most_confused_pairs(cm, k):
    cm.fill_diagonal_(0)
    C = cm.shape[0]
    pairs = [(t, p, int(cm[t, p])) for t in range(C) for p in range(C) if cm[t, p] > 0]
    pairs.sort(key=lambda pair: (-pair[2], pair[0], pair[1]))
    return pairs[:k]
'''

# .long() of an int64 tensor is the tensor itself, not a copy: the caller's diagonal is zeroed.
MCP_LONG_IS_NOT_A_COPY = '''
def most_confused_pairs(cm, k):
    off = cm.long()
    off.fill_diagonal_(0)
    flat = off.flatten()
    order = torch.sort(flat, descending=True, stable=True).indices
    C = off.shape[1]
    return [(i // C, i % C, int(flat[i])) for i in order.tolist()[:k] if flat[i] > 0]
'''

# numpy's view shares the tensor's memory: np.fill_diagonal on it zeroes the caller's diagonal.
MCP_NUMPY_VIEW = '''
import numpy as np

def most_confused_pairs(cm, k):
    counts = cm.numpy()
    np.fill_diagonal(counts, 0)
    pairs = [(int(t), int(p), int(counts[t, p])) for t, p in zip(*np.nonzero(counts))]
    pairs.sort(key=lambda pair: (-pair[2], pair[0], pair[1]))
    return pairs[:k]
'''

# Right: the diagonal zeroed in a copy (.clone()).
MCP_CLONE_FILL_DIAGONAL = '''
def most_confused_pairs(cm, k):
    off = cm.clone()
    off.fill_diagonal_(0)
    C = off.shape[0]
    pairs = [(t, p, int(off[t, p])) for t in range(C) for p in range(C) if off[t, p] > 0]
    pairs.sort(key=lambda pair: (-pair[2], pair[0], pair[1]))
    return pairs[:k]
'''

# Right: the diagonal masked out arithmetically (a new tensor), then nonzero().
MCP_MASKED_PRODUCT = '''
def most_confused_pairs(cm, k):
    off = cm * (1 - torch.eye(cm.shape[0], dtype=cm.dtype))
    pairs = [(t, p, int(off[t, p])) for t, p in off.nonzero().tolist()]
    return sorted(pairs, key=lambda pair: (-pair[2], pair[0], pair[1]))[:k]
'''

VARIANTS += [
    _v("predict_grad_off_for_good", "predict", PREDICT_GRAD_OFF_FOR_GOOD, {"test_predict_modes"},
       "torch.set_grad_enabled(False) and never switches gradients back on: the values are right"),
    _v("predict_no_grad_decorator", "predict", PREDICT_NO_GRAD_DECORATOR, set(),
       "right: @torch.no_grad() on the function, which puts the gradient mode back when it returns"),
    _v("predict_restores_grad_mode", "predict", PREDICT_RESTORES_GRAD_MODE, set(),
       "right: torch.set_grad_enabled(False), the caller's mode put back in a finally block"),
    _v("mcp_zeroes_diagonal_in_place", "most_confused_pairs", MCP_ZEROES_DIAGONAL_IN_PLACE,
       {"test_most_confused_pairs_input"},
       "zeroes the diagonal of the caller's matrix (fill_diagonal_ in place): the pairs are right"),
    _v("mcp_long_is_not_a_copy", "most_confused_pairs", MCP_LONG_IS_NOT_A_COPY,
       {"test_most_confused_pairs_input"},
       "cm.long() taken for a copy (it is cm itself for int64): the caller's diagonal is zeroed"),
    _v("mcp_numpy_view", "most_confused_pairs", MCP_NUMPY_VIEW, {"test_most_confused_pairs_input"},
       "np.fill_diagonal on cm.numpy(), a view of the caller's matrix: its diagonal is zeroed"),
    _v("mcp_clone_fill_diagonal", "most_confused_pairs", MCP_CLONE_FILL_DIAGONAL, set(),
       "right: the diagonal zeroed in cm.clone()"),
    _v("mcp_masked_product", "most_confused_pairs", MCP_MASKED_PRODUCT, set(),
       "right: cm * (1 - eye), a new tensor, then nonzero()"),
]


# ------------------------------------------------------------------ audit H2: predict restores the caller's gradient mode exactly

PREDICT_GRAD_ON_AT_END = '''
def predict(model, loader):
    model_device = next(model.parameters()).device
    model.eval()
    torch.set_grad_enabled(False)
    try:
        all_preds, all_targets, all_probs = [], [], []
        for images, labels in loader:
            probs = F.softmax(model(images.to(model_device)), dim=1)
            top_probs, top_classes = probs.max(dim=1)
            all_preds.append(top_classes.cpu())
            all_targets.append(labels.cpu())
            all_probs.append(top_probs.cpu())
    finally:
        torch.set_grad_enabled(True)      # gradients back on for the caller
    return torch.cat(all_preds).long(), torch.cat(all_targets).long(), torch.cat(all_probs)
'''

PREDICT_INFERENCE_LEFT_ON = '''
_inference = torch.inference_mode()


def predict(model, loader):
    model_device = next(model.parameters()).device
    model.eval()
    _inference.__enter__()
    all_preds, all_targets, all_probs = [], [], []
    for images, labels in loader:
        probs = F.softmax(model(images.to(model_device)), dim=1)
        top_probs, top_classes = probs.max(dim=1)
        all_preds.append(top_classes.cpu())
        all_targets.append(labels.cpu())
        all_probs.append(top_probs.cpu())
    torch.set_grad_enabled(True)          # gradients back on for the caller
    return torch.cat(all_preds).long(), torch.cat(all_targets).long(), torch.cat(all_probs)
'''

PREDICT_INFERENCE_DECORATOR = '''
@torch.inference_mode()
def predict(model, loader):
    model_device = next(model.parameters()).device
    model.eval()
    all_preds, all_targets, all_probs = [], [], []
    for images, labels in loader:
        probs = F.softmax(model(images.to(model_device)), dim=1)
        top_probs, top_classes = probs.max(dim=1)
        all_preds.append(top_classes.cpu())
        all_targets.append(labels.cpu())
        all_probs.append(top_probs.cpu())
    return torch.cat(all_preds).long(), torch.cat(all_targets).long(), torch.cat(all_probs).clone()
'''

PREDICT_SET_GRAD_ENABLED_BLOCK = '''
def predict(model, loader):
    model_device = next(model.parameters()).device
    model.eval()
    with torch.set_grad_enabled(False):
        all_preds, all_targets, all_probs = [], [], []
        for images, labels in loader:
            probs = F.softmax(model(images.to(model_device)), dim=1)
            top_probs, top_classes = probs.max(dim=1)
            all_preds.append(top_classes.cpu())
            all_targets.append(labels.cpu())
            all_probs.append(top_probs.cpu())
    return torch.cat(all_preds).long(), torch.cat(all_targets).long(), torch.cat(all_probs)
'''

PREDICT_RESTORES_NO_FINALLY = '''
def predict(model, loader):
    model_device = next(model.parameters()).device
    model.eval()
    previous = torch.is_grad_enabled()
    torch.set_grad_enabled(False)
    all_preds, all_targets, all_probs = [], [], []
    for images, labels in loader:
        probs = F.softmax(model(images.to(model_device)), dim=1)
        top_probs, top_classes = probs.max(dim=1)
        all_preds.append(top_classes.cpu())
        all_targets.append(labels.cpu())
        all_probs.append(top_probs.cpu())
    torch.set_grad_enabled(previous)
    return torch.cat(all_preds).long(), torch.cat(all_targets).long(), torch.cat(all_probs)
'''

VARIANTS += [
    _v('predict_grad_on_at_end', "predict", PREDICT_GRAD_ON_AT_END, {"test_predict_modes"},
       'set_grad_enabled(False), then set_grad_enabled(True) in a finally block: switches gradients on for a caller inside torch.no_grad() (full marks before)'),
    _v('predict_inference_left_on', "predict", PREDICT_INFERENCE_LEFT_ON, {"test_predict", "test_predict_modes"},
       'enters a module-level torch.inference_mode() and never exits it, then set_grad_enabled(True): inference mode left on (lost only test_predict before, where its own second call fails on a model built while the mode was left on)'),
    _v('predict_inference_decorator', "predict", PREDICT_INFERENCE_DECORATOR, set(),
       'right: @torch.inference_mode() on the function (the mode is put back when it returns)'),
    _v('predict_set_grad_enabled_block', "predict", PREDICT_SET_GRAD_ENABLED_BLOCK, set(),
       'right: with torch.set_grad_enabled(False): as a block'),
    _v('predict_restores_no_finally', "predict", PREDICT_RESTORES_NO_FINALLY, set(),
       "right: the caller's mode saved with is_grad_enabled() and put back before returning (no finally)"),
]
