"""Wrong (and differently-written right) solutions of the mlp_vs_cnn assignment."""
from tests.variants import Variant

# ------------------------------------------------------------------ Part 1: build_mlp

MLP_NO_ACTIVATION = '''
def build_mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.Linear(128, 10))
'''

MLP_SOFTMAX_OUTPUT = '''
def build_mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10),
                         nn.Softmax(dim=1))
'''

# Ends with a sigmoid: every output in (0, 1), never negative, so not the raw scores the text asks
# for, although CrossEntropyLoss still trains it (audit mvc_mlp_sigmoid_end had full marks).
MLP_SIGMOID_OUTPUT = '''
def build_mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10), nn.Sigmoid())
'''

# Ends with a ReLU after the last Linear: the scores are clamped at 0, never negative.
MLP_RELU_OUTPUT = '''
def build_mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10), nn.ReLU())
'''

# Ends with a LogSoftmax: the logits shifted by a constant per row (log_softmax is idempotent, so
# CrossEntropyLoss gives the same loss, and the argmax is the same). The text accepts it.
MLP_LOGSOFTMAX_OUTPUT = '''
def build_mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10), nn.LogSoftmax(dim=1))
'''

MLP_TWO_HIDDEN_LAYERS = '''
def build_mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(),
                         nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))
'''

MLP_NO_FLATTEN = '''
def build_mlp():
    return nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
'''

MLP_TOO_WIDE = '''
def build_mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 2048), nn.ReLU(), nn.Linear(2048, 10))
'''

MLP_CLASS_TANH_DROPOUT = '''
class MLP(nn.Module):
    """784 -> 256 -> 10 with tanh and dropout."""

    def __init__(self, hidden=256):
        super().__init__()
        self.hidden = nn.Linear(28 * 28, hidden)
        self.drop = nn.Dropout(0.2)
        self.out = nn.Linear(hidden, 10)

    def forward(self, x):
        x = x.view(x.shape[0], -1)
        return self.out(self.drop(torch.tanh(self.hidden(x))))


def build_mlp():
    return MLP()
'''

# ------------------------------------------------------------------ Part 2: build_cnn

CNN_THREE_CONV = '''
def build_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(),
        nn.Flatten(), nn.Linear(16 * 7 * 7, 32), nn.ReLU(), nn.Linear(32, 10))
'''

CNN_ONE_LINEAR = '''
def build_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 7 * 7, 10))
'''

# Defines two convolutions but forgets to call the second one in forward.
CNN_SECOND_CONV_UNUSED = '''
class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.fc1 = nn.Linear(8 * 7 * 7, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 4)       # (N, 8, 7, 7)
        return self.fc2(F.relu(self.fc1(x.flatten(1))))


def build_cnn():
    return CNN()
'''

CNN_SOFTMAX_OUTPUT = '''
def build_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 7 * 7, 32), nn.ReLU(), nn.Linear(32, 10),
        nn.Softmax(dim=1))
'''

CNN_SIGMOID_OUTPUT = '''
def build_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 7 * 7, 32), nn.ReLU(), nn.Linear(32, 10),
        nn.Sigmoid())
'''

# No pooling after the second convolution: the first Linear layer gets 32 * 14 * 14 inputs.
CNN_TOO_BIG = '''
def build_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(),
        nn.Flatten(), nn.Linear(32 * 14 * 14, 256), nn.ReLU(), nn.Linear(256, 10))
'''

CNN_CLASS_LENET = '''
class LeNetish(nn.Module):
    """LeNet-like: 5x5 convolutions, max pooling in forward."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, kernel_size=5, padding=2)   # 28x28 -> 28x28
        self.conv2 = nn.Conv2d(6, 16, kernel_size=5)             # 14x14 -> 10x10
        self.fc1 = nn.Linear(16 * 5 * 5, 84)
        self.fc2 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc2(F.relu(self.fc1(torch.flatten(x, 1))))


def build_cnn():
    return LeNetish()
'''

CNN_STRIDED_BATCHNORM = '''
def build_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
        nn.Conv2d(16, 32, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU(),
        nn.Flatten(), nn.Dropout(0.1), nn.Linear(32 * 7 * 7, 64), nn.ReLU(), nn.Linear(64, 10))
'''

# ------------------------------------------------------------------ Part 3: count_parameters

COUNT_INCLUDES_FROZEN = '''
def count_parameters(model):
    return sum(p.numel() for p in model.parameters())
'''

COUNT_STATE_DICT = '''
def count_parameters(model):
    return sum(t.numel() for t in model.state_dict().values())
'''

COUNT_EVERY_MODULE = '''
def count_parameters(model):
    total = 0
    for module in model.modules():
        for p in module.parameters():
            if p.requires_grad:
                total += p.numel()
    return total
'''

COUNT_TENSORS_NOT_NUMBERS = '''
def count_parameters(model):
    return len([p for p in model.parameters() if p.requires_grad])
'''

COUNT_RETURNS_TENSOR = '''
def count_parameters(model):
    return torch.stack([torch.tensor(p.numel()) for p in model.parameters() if p.requires_grad]).sum()
'''

COUNT_NAMED_PROD = '''
import math


def count_parameters(model):
    total = 0
    for name, p in model.named_parameters():
        if p.requires_grad:
            total += math.prod(p.shape)
    return int(total)
'''

# ------------------------------------------------------------------ Part 4: evaluate

EVAL_BATCH_MEAN = '''
def evaluate(model, loader):
    device = next(model.parameters()).device
    model.eval()
    accuracies = []
    with torch.no_grad():
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            accuracies.append((model(x).argmax(1) == y).float().mean().item())
    return sum(accuracies) / len(accuracies)
'''

EVAL_LEN_DATASET = '''
def evaluate(model, loader):
    device = next(model.parameters()).device
    model.eval()
    correct = 0
    with torch.no_grad():
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            correct += (model(x).argmax(1) == y).sum().item()
    return correct / len(loader.dataset)
'''

EVAL_PERCENT = '''
def evaluate(model, loader):
    device = next(model.parameters()).device
    model.eval()
    correct, total = 0, 0
    with torch.no_grad():
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            correct += (model(x).argmax(1) == y).sum().item()
            total += len(y)
    return 100.0 * correct / total
'''

EVAL_RETURNS_TENSOR = '''
def evaluate(model, loader):
    device = next(model.parameters()).device
    model.eval()
    correct, total = torch.zeros(()), 0
    with torch.no_grad():
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            correct += (model(x).argmax(1) == y).sum().cpu()
            total += len(y)
    return correct / total
'''

EVAL_NO_EVAL_MODE = '''
def evaluate(model, loader):
    device = next(model.parameters()).device
    correct, total = 0, 0
    with torch.no_grad():
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            correct += (model(x).argmax(1) == y).sum().item()
            total += len(y)
    return correct / total
'''

EVAL_NO_NO_GRAD = '''
def evaluate(model, loader):
    device = next(model.parameters()).device
    model.eval()
    correct, total = 0, 0
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        correct += (model(x).argmax(1) == y).sum().item()
        total += len(y)
    return correct / total
'''

EVAL_GRAD_OFF_FOR_GOOD = '''
def evaluate(model, loader):
    device = next(model.parameters()).device
    model.eval()
    torch.set_grad_enabled(False)
    correct, total = 0, 0
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        correct += (model(x).argmax(1) == y).sum().item()
        total += len(y)
    return correct / total
'''

EVAL_INFERENCE_MODE_CAT = '''
@torch.inference_mode()
def evaluate(model, loader):
    was_training = model.training
    model.eval()
    device = next(iter(model.parameters())).device
    predictions, targets = [], []
    for inputs, labels in loader:
        predictions.append(model(inputs.to(device)).argmax(dim=-1).cpu())
        targets.append(labels)
    model.train(was_training)
    predictions, targets = torch.cat(predictions), torch.cat(targets)
    return float((predictions == targets).double().mean())
'''

# issue 11's category: moves the batches to the notebook's global `device`, not the model's.
# On a CPU-only grader both are the CPU; the hidden test points `device` elsewhere.
EVAL_GLOBAL_DEVICE = '''
def evaluate(model, loader):
    model.eval()
    correct, total = 0, 0
    with torch.no_grad():
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            correct += (model(x).argmax(1) == y).sum().item()
            total += len(y)
    return correct / total
'''


# issue 11's category: two nn.Conv2d and two nn.Linear as asked, plus a large convolution run with
# F.conv2d on a Parameter of its own, which counting nn.Conv2d/nn.Linear layers does not see:
# about 10 million multiply-adds per image, over the limit.
CNN_FUNCTIONAL_CONV = '''
class FunctionalConvCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1)
        self.extra = nn.Parameter(torch.randn(256, 8, 5, 5) * 0.01)
        self.fc1 = nn.Linear(256, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.relu(self.conv2(x))
        x = F.relu(F.conv2d(x, self.extra, padding=2))
        return self.fc2(F.relu(self.fc1(x.mean(dim=(2, 3)))))


def build_cnn():
    return FunctionalConvCNN()
'''


# issue 11's category: the right count as a numpy integer.
COUNT_NUMPY_INT = '''
import numpy as np

def count_parameters(model):
    return np.sum([p.numel() for p in model.parameters() if p.requires_grad], dtype=np.int64)
'''

# ------------------------------------------------------------------ audit 2026-12-05

EVAL_DIVIDES_BY_BATCHES_TIMES_SIZE = '''
def evaluate(model, loader):
    device = next(model.parameters()).device
    model.eval()
    correct = 0
    with torch.no_grad():
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            correct += (model(x).argmax(1) == y).sum().item()
    return correct / (len(loader) * loader.batch_size)
'''

EVAL_FLOAT32_DIVISION = '''
def evaluate(model, loader):
    device = next(model.parameters()).device
    model.eval()
    correct = torch.tensor(0)
    total = 0
    with torch.no_grad():
        for images, labels in loader:
            images, labels = images.to(device), labels.to(device)
            preds = model(images).argmax(dim=1)
            correct += (preds == labels).sum().cpu()
            total += labels.size(0)
    return (correct / total).item()
'''


VARIANTS = [
    Variant("mlp_no_activation", {"build_mlp": MLP_NO_ACTIVATION}, frozenset({"test_build_mlp"}),
            "two Linear layers with nothing in between: a linear model"),
    Variant("mlp_softmax_output", {"build_mlp": MLP_SOFTMAX_OUTPUT}, frozenset({"test_build_mlp"}),
            "ends with a softmax, so the outputs are probabilities, not logits"),
    Variant("mlp_sigmoid_output", {"build_mlp": MLP_SIGMOID_OUTPUT}, frozenset({"test_build_mlp"}),
            "ends with a sigmoid: outputs in (0, 1), never negative, not logits (it still trains)"),
    Variant("mlp_relu_output", {"build_mlp": MLP_RELU_OUTPUT}, frozenset({"test_build_mlp", "test_mlp_trained"}),
            "ends with a ReLU after the last Linear: scores clamped at 0, not logits, and dead classes train badly"),
    Variant("mlp_logsoftmax_output", {"build_mlp": MLP_LOGSOFTMAX_OUTPUT}, frozenset(),
            "correct (the text says so): a final LogSoftmax shifts the logits by a constant per row, "
            "with the same cross-entropy loss"),
    Variant("mlp_two_hidden_layers", {"build_mlp": MLP_TWO_HIDDEN_LAYERS}, frozenset({"test_build_mlp"}),
            "three Linear layers instead of two"),
    Variant("mlp_no_flatten", {"build_mlp": MLP_NO_FLATTEN},
            frozenset({"test_build_mlp", "test_mlp_trained"}),
            "forgets to flatten (N, 1, 28, 28) before Linear(784, ...)"),
    Variant("mlp_too_wide", {"build_mlp": MLP_TOO_WIDE}, frozenset({"test_mlp_trained"}),
            "1.6 million parameters: over the limit the grader trains"),
    Variant("mlp_class_tanh_dropout", {"build_mlp": MLP_CLASS_TANH_DROPOUT}, frozenset(),
            "correct: an nn.Module class with tanh and dropout"),
    Variant("cnn_three_conv", {"build_cnn": CNN_THREE_CONV}, frozenset({"test_build_cnn"}),
            "three convolutions instead of two"),
    Variant("cnn_one_linear", {"build_cnn": CNN_ONE_LINEAR}, frozenset({"test_build_cnn"}),
            "one Linear layer instead of two"),
    Variant("cnn_second_conv_unused", {"build_cnn": CNN_SECOND_CONV_UNUSED}, frozenset({"test_build_cnn"}),
            "defines two convolutions but forward runs only one"),
    Variant("cnn_softmax_output", {"build_cnn": CNN_SOFTMAX_OUTPUT},
            frozenset({"test_build_cnn", "test_cnn_trained"}),
            "ends with a softmax: probabilities instead of logits, and it trains badly"),
    Variant("cnn_sigmoid_output", {"build_cnn": CNN_SIGMOID_OUTPUT}, frozenset({"test_build_cnn"}),
            "ends with a sigmoid: outputs in (0, 1), never negative, not logits"),
    Variant("cnn_too_big", {"build_cnn": CNN_TOO_BIG}, frozenset({"test_cnn_trained"}),
            "no second pooling: 1.6 million parameters, over the limits the grader trains"),
    Variant("cnn_functional_conv_over_limit", {"build_cnn": CNN_FUNCTIONAL_CONV}, frozenset({"test_cnn_trained"}),
            "a third convolution through F.conv2d on its own Parameter: 10 M multiply-adds, over the limit"),
    Variant("cnn_class_lenet", {"build_cnn": CNN_CLASS_LENET}, frozenset(),
            "correct: a LeNet-like nn.Module class with pooling in forward"),
    Variant("cnn_strided_batchnorm", {"build_cnn": CNN_STRIDED_BATCHNORM}, frozenset(),
            "correct: strided convolutions with batch norm and dropout, no pooling"),
    Variant("count_includes_frozen", {"count_parameters": COUNT_INCLUDES_FROZEN},
            frozenset({"test_count_parameters_frozen"}),
            "counts frozen parameters too"),
    Variant("count_state_dict", {"count_parameters": COUNT_STATE_DICT},
            frozenset({"test_count_parameters", "test_count_parameters_frozen"}),
            "counts the state dict: buffers (batch norm statistics) and frozen parameters"),
    Variant("count_every_module", {"count_parameters": COUNT_EVERY_MODULE},
            frozenset({"test_count_parameters", "test_count_parameters_frozen"}),
            "sums parameters() of every module, so nested modules are counted several times"),
    Variant("count_tensors_not_numbers", {"count_parameters": COUNT_TENSORS_NOT_NUMBERS},
            frozenset({"test_count_parameters", "test_count_parameters_frozen"}),
            "counts parameter tensors instead of their entries"),
    Variant("count_returns_tensor", {"count_parameters": COUNT_RETURNS_TENSOR},
            frozenset({"test_count_parameters", "test_count_parameters_frozen", "test_result_types"}),
            "returns a 0-d tensor instead of an int (and torch.stack fails for a model without parameters)"),
    Variant("count_numpy_int", {"count_parameters": COUNT_NUMPY_INT}, frozenset({"test_result_types"}),
            "issue 11: the right counts as numpy int64: only the types test is lost"),
    Variant("count_named_prod", {"count_parameters": COUNT_NAMED_PROD}, frozenset(),
            "correct: named_parameters and math.prod"),
    Variant("eval_batch_mean", {"evaluate": EVAL_BATCH_MEAN}, frozenset({"test_evaluate"}),
            "averages per-batch accuracies, wrong when batch sizes differ"),
    Variant("eval_len_dataset", {"evaluate": EVAL_LEN_DATASET}, frozenset({"test_evaluate"}),
            "divides by len(loader.dataset), wrong when the loader yields part of it"),
    Variant("eval_percent", {"evaluate": EVAL_PERCENT}, frozenset({"test_evaluate"}),
            "returns a percentage: the accuracy test (the modes test compares with its own results)"),
    Variant("eval_returns_tensor", {"evaluate": EVAL_RETURNS_TENSOR}, frozenset({"test_result_types"}),
            "returns a float32 0-d tensor: the type is wrong (its value is right to 1e-6)"),
    Variant("eval_no_eval_mode", {"evaluate": EVAL_NO_EVAL_MODE}, frozenset({"test_evaluate_modes"}),
            "forgets model.eval()"),
    Variant("eval_no_no_grad", {"evaluate": EVAL_NO_NO_GRAD}, frozenset({"test_evaluate_modes"}),
            "runs the forward passes with gradients"),
    Variant("eval_grad_off_for_good", {"evaluate": EVAL_GRAD_OFF_FOR_GOOD},
            frozenset({"test_evaluate_modes"}),
            "torch.set_grad_enabled(False) and never switches gradients back on"),
    Variant("eval_global_device", {"evaluate": EVAL_GLOBAL_DEVICE}, frozenset({"test_evaluate_modes"}),
            "moves the batches to the notebook's global device instead of the model's"),
    Variant("eval_inference_mode_cat", {"evaluate": EVAL_INFERENCE_MODE_CAT}, frozenset(),
            "correct: inference_mode, concatenated predictions, restores the mode"),
    Variant('eval_divides_by_batches_times_size', {'evaluate': EVAL_DIVIDES_BY_BATCHES_TIMES_SIZE}, frozenset({'test_evaluate'}),
            'divides by len(loader) * batch_size: wrong for an uneven last batch; the modes test compares with its own counting and stays'),
    Variant('eval_float32_division', {'evaluate': EVAL_FLOAT32_DIVISION}, frozenset(),
            'correct: counts in a tensor and divides in float32 (exact to 1e-7)'),
]

#: A wrong variant that passes every visible test and loses exactly one hidden test
#: (tests/end_to_end/test_colab.py teaches with it; docs/authoring.md).
SUBTLE_VARIANT = "eval_len_dataset"

# ------------------------------------------------------------------ audit 2026-12-05 (second grader)

# One model made when the cell runs, returned by every call: not "a new network at every call".
MLP_SHARED_INSTANCE = '''
_mlp = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))


def build_mlp():
    return _mlp
'''

# Built on the first call and cached: every later call returns the same model.
CNN_BUILT_ONCE = '''
_cnn = None


def build_cnn():
    global _cnn
    if _cnn is None:
        _cnn = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(16 * 7 * 7, 32), nn.ReLU(), nn.Linear(32, 10))
    return _cnn
'''

# The text accepts a final log-softmax; here as F.log_softmax at the end of forward.
CNN_FORWARD_LOG_SOFTMAX = '''
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 10, 3, padding=1)
        self.conv2 = nn.Conv2d(10, 16, 3, padding=1)
        self.fc1 = nn.Linear(16 * 7 * 7, 48)
        self.fc2 = nn.Linear(48, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = x.view(x.size(0), -1)
        x = self.fc2(F.relu(self.fc1(x)))
        return F.log_softmax(x, dim=1)


def build_cnn():
    return Net()
'''

# Flattens with reshape(features, -1).t(): the shape is (N, 784), but each row mixes the
# features of all the images of the batch.
CNN_FLATTEN_MIXES_BATCH = '''
class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.fc1 = nn.Linear(16 * 7 * 7, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = x.reshape(16 * 7 * 7, -1).t()          # (N, 784), but not image by image
        return self.fc2(F.relu(self.fc1(x)))


def build_cnn():
    return CNN()
'''

EVAL_LAST_BATCH_ONLY = '''
def evaluate(model, loader):
    device = next(model.parameters()).device
    model.eval()
    with torch.no_grad():
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            accuracy = (model(x).argmax(1) == y).float().mean().item()
    return accuracy
'''

EVAL_ROUNDED = '''
def evaluate(model, loader):
    device = next(model.parameters()).device
    model.eval()
    correct, total = 0, 0
    with torch.no_grad():
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            correct += (model(x).argmax(1) == y).sum().item()
            total += y.numel()
    return round(correct / total, 4)
'''

# Moves the model (and the batches) to the notebook's `device` instead of using the model's own.
EVAL_MOVES_MODEL_TO_GLOBAL_DEVICE = '''
def evaluate(model, loader):
    model.to(device)
    model.eval()
    correct, total = 0, 0
    with torch.no_grad():
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            correct += (model(x).argmax(1) == y).sum().item()
            total += len(y)
    return correct / total
'''

# The PyTorch tutorial's loop: torch.max(outputs.data, 1), labels.size(0), a grad-mode context.
EVAL_TUTORIAL_SET_GRAD_ENABLED = '''
def evaluate(model, loader):
    model.train(False)
    dev = next(model.parameters()).device
    correct = 0
    total = 0
    with torch.set_grad_enabled(False):
        for data in loader:
            images, labels = data
            images, labels = images.to(dev), labels.to(dev)
            outputs = model(images)
            _, predicted = torch.max(outputs.data, 1)
            total += labels.size(0)
            correct += (predicted == labels).sum().item()
    return correct / total
'''

VARIANTS += [
    Variant("mlp_shared_instance", {"build_mlp": MLP_SHARED_INSTANCE}, frozenset({"test_build_mlp"}),
            "returns one module-level model at every call instead of a new one"),
    Variant("cnn_built_once", {"build_cnn": CNN_BUILT_ONCE}, frozenset({"test_build_cnn"}),
            "builds the CNN on the first call and returns that same model on every later call"),
    Variant("cnn_forward_log_softmax", {"build_cnn": CNN_FORWARD_LOG_SOFTMAX}, frozenset(),
            "correct (the text accepts a log-softmax): F.log_softmax at the end of forward, x.view flatten"),
    Variant("cnn_flatten_mixes_batch", {"build_cnn": CNN_FLATTEN_MIXES_BATCH}, frozenset({"test_cnn_trained"}),
            "flattens with reshape(784, -1).t(): right shape, but each row mixes the images of the batch"),
    Variant("eval_last_batch_only", {"evaluate": EVAL_LAST_BATCH_ONLY}, frozenset({"test_evaluate"}),
            "returns the accuracy of the last batch only (overwritten in the loop)"),
    Variant("eval_rounded", {"evaluate": EVAL_ROUNDED}, frozenset({"test_evaluate"}),
            "rounds the accuracy to 4 decimals: off by more than 1e-6"),
    Variant("eval_moves_model_to_global_device", {"evaluate": EVAL_MOVES_MODEL_TO_GLOBAL_DEVICE},
            frozenset({"test_evaluate_modes"}),
            "moves the model to the notebook's global `device` instead of following the model's"),
    Variant("eval_tutorial_set_grad_enabled", {"evaluate": EVAL_TUTORIAL_SET_GRAD_ENABLED}, frozenset(),
            "correct: the tutorial's torch.max(outputs.data, 1), model.train(False), set_grad_enabled(False) block"),
]


# A deepcopy of one module-level model: a new model at every call, but the same initial weights.
MLP_DEEPCOPY_TEMPLATE = '''
import copy

_template = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))


def build_mlp():
    return copy.deepcopy(_template)
'''

# Correct: builds a new network (new weights), and returns a deepcopy of it.
CNN_DEEPCOPY_OF_NEW = '''
import copy


def build_cnn():
    fresh = nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 7 * 7, 32), nn.ReLU(), nn.Linear(32, 10))
    return copy.deepcopy(fresh)
'''

VARIANTS += [
    Variant("mlp_deepcopy_template", {"build_mlp": MLP_DEEPCOPY_TEMPLATE}, frozenset({"test_build_mlp"}),
            "copy.deepcopy of a module-level model: new parameters, the same initial weights at every call"),
    Variant("cnn_deepcopy_of_new", {"build_cnn": CNN_DEEPCOPY_OF_NEW}, frozenset(),
            "correct: builds a new network at every call and returns a deepcopy of it"),
]


# ------------------------------------------------------------------ a squashing function after the last layer

# Ends with a tanh: some outputs are negative, but squashed into (-1, 1): not the raw scores.
MLP_TANH_OUTPUT = '''
def build_mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10), nn.Tanh())
'''

# A class whose forward ends in torch.tanh of the last layer's scores.
CNN_CLASS_TANH_OUTPUT = '''
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.fc1 = nn.Linear(16 * 7 * 7, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = F.relu(self.fc1(x.flatten(1)))
        return torch.tanh(self.fc2(x))                # "scores between -1 and 1"


def build_cnn():
    return Net()
'''

# Correct: a final nn.Identity after the last Linear (a placeholder head).
MLP_IDENTITY_HEAD = '''
def build_mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.Tanh(), nn.Linear(128, 10), nn.Identity())
'''

VARIANTS += [
    Variant("mlp_tanh_output", {"build_mlp": MLP_TANH_OUTPUT}, frozenset({"test_build_mlp"}),
            "ends with nn.Tanh(): outputs squashed into (-1, 1), not the raw scores (full marks before: some "
            "outputs are negative)"),
    Variant("cnn_class_tanh_output", {"build_cnn": CNN_CLASS_TANH_OUTPUT}, frozenset({"test_build_cnn"}),
            "forward returns torch.tanh(self.fc2(x)): squashed scores, not logits (full marks before)"),
    Variant("mlp_identity_head", {"build_mlp": MLP_IDENTITY_HEAD}, frozenset(),
            "correct: tanh between the layers, a final nn.Identity after the last Linear"),
]


# ------------------------------------------------------------------ audit H2: lazy layers, other ways of writing a CNN, the caller's gradient mode

CNN_ALL_LAZY = '''
def build_cnn():
    return nn.Sequential(
        nn.LazyConv2d(8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.LazyConv2d(16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.LazyLinear(32), nn.ReLU(), nn.LazyLinear(10))
'''

MLP_LAZY = '''
def build_mlp():
    return nn.Sequential(nn.Flatten(), nn.LazyLinear(128), nn.ReLU(), nn.Linear(128, 10))
'''

CNN_LAZY_LINEAR = '''
def build_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.LazyLinear(32), nn.ReLU(), nn.Linear(32, 10))
'''

CNN_VIEW_FIXED = '''
class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.pool = nn.MaxPool2d(2, 2)
        self.fc1 = nn.Linear(16 * 7 * 7, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = x.view(-1, 16 * 7 * 7)
        x = F.relu(self.fc1(x))
        return self.fc2(x)


def build_cnn():
    return CNN()
'''

CNN_MODULELIST = '''
class CNN(nn.Module):
    def __init__(self, channels=(8, 16), hidden=32, num_classes=10):
        super().__init__()
        self.convs = nn.ModuleList()
        c_in = 1
        for c in channels:
            self.convs.append(nn.Conv2d(c_in, c, 3, padding="same"))
            c_in = c
        self.head = nn.ModuleDict({"fc": nn.Linear(c_in * 7 * 7, hidden), "out": nn.Linear(hidden, num_classes)})
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                nn.init.zeros_(m.bias)

    def forward(self, x):
        for conv in self.convs:
            x = F.max_pool2d(F.leaky_relu(conv(x), 0.01), 2)
        x = torch.flatten(x, 1)
        return self.head["out"](F.gelu(self.head["fc"](x)))


def build_cnn():
    return CNN()
'''

CNN_ORDEREDDICT = '''
from collections import OrderedDict


def build_cnn():
    return nn.Sequential(OrderedDict([
        ("conv1", nn.Conv2d(1, 16, 3, padding="same")), ("bn1", nn.BatchNorm2d(16)), ("act1", nn.LeakyReLU()),
        ("pool1", nn.MaxPool2d(2)),
        ("conv2", nn.Conv2d(16, 32, 3, padding="same")), ("bn2", nn.BatchNorm2d(32)), ("act2", nn.GELU()),
        ("pool2", nn.MaxPool2d(2)), ("flat", nn.Flatten()),
        ("drop", nn.Dropout(0.2)), ("fc1", nn.Linear(32 * 7 * 7, 64)), ("act3", nn.ReLU()), ("fc2", nn.Linear(64, 10)),
    ]))
'''

CNN_FEATURES_CLASSIFIER = '''
class CNN(nn.Module):
    def __init__(self, c1: int = 8, c2: int = 16, hidden: int = 64, p_drop: float = 0.25):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, c1, kernel_size=3, padding=1), nn.BatchNorm2d(c1), nn.ReLU(inplace=True), nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, kernel_size=3, padding=1), nn.BatchNorm2d(c2), nn.ReLU(inplace=True), nn.MaxPool2d(2),
            nn.AdaptiveAvgPool2d((7, 7)))
        self.classifier = nn.Sequential(nn.Dropout(p_drop), nn.Linear(c2 * 7 * 7, hidden), nn.ReLU(inplace=True),
                                        nn.Dropout(p_drop), nn.Linear(hidden, 10))

    def forward(self, x):
        x = self.features(x)
        x = x.view(x.size(0), -1)
        return self.classifier(x)


def build_cnn():
    return CNN()
'''

CNN_NO_ACT_BETWEEN_LINEAR = '''
class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.fc1 = nn.Linear(16 * 7 * 7, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc2(self.fc1(torch.flatten(x, 1)))


def build_cnn():
    return CNN()
'''

CNN_WRONG_FLATTEN_SIZE = '''
def build_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 14 * 14, 32), nn.ReLU(), nn.Linear(32, 10))
'''

COUNT_BUFFERS_TOO = '''
def count_parameters(model):
    n = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return n + sum(b.numel() for b in model.buffers())
'''

COUNT_PER_MODULE_NO_RECURSE = '''
def count_parameters(model):
    total = 0
    for module in model.modules():
        for p in module.parameters(recurse=False):
            if p.requires_grad:
                total += p.numel()
    return total
'''

EVAL_PREDS_TO_CPU = '''
def evaluate(model, loader):
    device = next(model.parameters()).device
    model.eval()
    correct, total = 0, 0
    with torch.no_grad():
        for x, y in loader:
            preds = model(x.to(device)).argmax(1)
            correct += (preds.cpu() == y).sum().item()
            total += len(y)
    return correct / total
'''

EVAL_GRAD_ON_AT_END = '''
def evaluate(model, loader):
    device = next(model.parameters()).device
    model.eval()
    torch.set_grad_enabled(False)
    correct, total = 0, 0
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        correct += (model(x).argmax(1) == y).sum().item()
        total += len(y)
    torch.set_grad_enabled(True)          # gradients back on for the caller
    return correct / total
'''

VARIANTS += [
    Variant('cnn_all_lazy', {'build_cnn': CNN_ALL_LAZY}, frozenset(),
            "correct: nn.LazyConv2d and nn.LazyLinear throughout (lost test_build_cnn before: the structure probe read the shapes of a second, never-run model's uninitialised parameters)"),
    Variant('mlp_lazy_linear', {'build_mlp': MLP_LAZY}, frozenset(),
            'correct: nn.LazyLinear(128) as the first layer (lost test_build_mlp and test_mlp_trained before: the structure probe and the visible size check read uninitialised parameters)'),
    Variant('cnn_lazy_linear', {'build_cnn': CNN_LAZY_LINEAR}, frozenset(),
            'correct: nn.LazyLinear(32) after the flatten (no 16 * 7 * 7 computed by hand)'),
    Variant('cnn_view_fixed', {'build_cnn': CNN_VIEW_FIXED}, frozenset(),
            'correct: x.view(-1, 16 * 7 * 7) in forward (fails on channels-last tensors: the grader trains its default-layout copy)'),
    Variant('cnn_modulelist', {'build_cnn': CNN_MODULELIST}, frozenset(),
            "correct: ModuleList of convolutions, ModuleDict head, padding='same', leaky ReLU, GELU, kaiming init in __init__ with default arguments"),
    Variant('cnn_ordereddict', {'build_cnn': CNN_ORDEREDDICT}, frozenset(),
            'correct: nn.Sequential of an OrderedDict with batch norm, LeakyReLU, GELU and dropout'),
    Variant('cnn_features_classifier', {'build_cnn': CNN_FEATURES_CLASSIFIER}, frozenset(),
            'correct: features/classifier Sequentials, AdaptiveAvgPool2d((7, 7)), inplace ReLUs, x.view(x.size(0), -1)'),
    Variant('cnn_no_act_between_linear', {'build_cnn': CNN_NO_ACT_BETWEEN_LINEAR}, frozenset(),
            "accepted by the text (activations between the layers are up to the student): no ReLU between the two Linear layers; the convolutions' ReLUs keep it nonlinear and it reaches the floor"),
    Variant('cnn_wrong_flatten_size', {'build_cnn': CNN_WRONG_FLATTEN_SIZE}, frozenset({"test_build_cnn", "test_cnn_trained"}),
            'Linear(16 * 14 * 14, 32) after two poolings: builds, but its forward raises'),
    Variant('count_buffers_too', {'count_parameters': COUNT_BUFFERS_TOO}, frozenset({"test_count_parameters", "test_count_parameters_frozen"}),
            "adds model.buffers() (batch norm's running statistics) to the count"),
    Variant('count_per_module_no_recurse', {'count_parameters': COUNT_PER_MODULE_NO_RECURSE}, frozenset({"test_count_parameters"}),
            "each module's own parameters (recurse=False): a weight shared by two layers is counted twice (full marks before: no hidden model shared a weight)"),
    Variant('eval_preds_to_cpu', {'evaluate': EVAL_PREDS_TO_CPU}, frozenset(),
            "correct: the predictions brought to the CPU to meet the labels, instead of the labels moved to the model's device"),
    Variant('eval_grad_on_at_end', {'evaluate': EVAL_GRAD_ON_AT_END}, frozenset({"test_evaluate_modes"}),
            'set_grad_enabled(False), then set_grad_enabled(True) at the end: switches gradients on for a caller inside torch.no_grad() (full marks before)'),
]
