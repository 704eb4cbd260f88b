"""Wrong (and differently-written right) solutions of the small_cnn assignment."""
from tests.variants import Variant

# ------------------------------------------------------------------ Part 1: augment, preprocess

AUG_GLOBAL_RNG = '''
def augment(images, generator, max_shift=2):
    shifts = torch.randint(-max_shift, max_shift + 1, (len(images), 2))
    out = torch.empty_like(images)
    for i, (dx, dy) in enumerate(shifts.tolist()):
        out[i] = data.shift_images(images[i], dx, dy)
    return out
'''

AUG_ONE_SHIFT_PER_BATCH = '''
def augment(images, generator, max_shift=2):
    dx, dy = torch.randint(-max_shift, max_shift + 1, (2,), generator=generator).tolist()
    return data.shift_images(images, dx, dy)
'''

AUG_RANGE_OFF_BY_ONE = '''
def augment(images, generator, max_shift=2):
    shifts = torch.randint(-max_shift, max_shift, (len(images), 2), generator=generator)
    out = torch.empty_like(images)
    for i, (dx, dy) in enumerate(shifts.tolist()):
        out[i] = data.shift_images(images[i], dx, dy)
    return out
'''

AUG_ROLL = '''
def augment(images, generator, max_shift=2):
    shifts = torch.randint(-max_shift, max_shift + 1, (len(images), 2), generator=generator)
    out = torch.empty_like(images)
    for i, (dx, dy) in enumerate(shifts.tolist()):
        out[i] = torch.roll(images[i], shifts=(dy, dx), dims=(-2, -1))
    return out
'''

AUG_IN_PLACE = '''
def augment(images, generator, max_shift=2):
    shifts = torch.randint(-max_shift, max_shift + 1, (len(images), 2), generator=generator)
    for i, (dx, dy) in enumerate(shifts.tolist()):
        images[i] = data.shift_images(images[i], dx, dy)
    return images
'''

AUG_PAD_CROP = '''
def augment(images, generator, max_shift=2):
    """Pad with zeros, then cut each image's window at its own offset."""
    n, c, h, w = images.shape
    m = max_shift
    dx = torch.randint(-m, m + 1, (n,), generator=generator)
    dy = torch.randint(-m, m + 1, (n,), generator=generator)
    padded = F.pad(images, (m, m, m, m))
    return torch.stack([padded[i, :, m - int(dy[i]):m - int(dy[i]) + h, m - int(dx[i]):m - int(dx[i]) + w]
                        for i in range(n)])
'''

PRE_AUGMENTS_TEST = '''
def preprocess(images, train, generator=None):
    images = augment(images, generator if generator is not None else torch.Generator())
    return (images - data.MNIST_MEAN) / data.MNIST_STD
'''

PRE_HALF_CONSTANTS = '''
def preprocess(images, train, generator=None):
    if train:
        images = augment(images, generator)
    return (images - 0.5) / 0.5
'''

PRE_IMAGENET_CONSTANTS = '''
def preprocess(images, train, generator=None):
    if train:
        images = augment(images, generator)
    return (images - 0.485) / 0.229
'''

PRE_BATCH_STATISTICS = '''
def preprocess(images, train, generator=None):
    if train:
        images = augment(images, generator)
    return (images - images.mean()) / images.std()
'''

PRE_NORMALIZE_THEN_AUGMENT = '''
def preprocess(images, train, generator=None):
    images = (images - data.MNIST_MEAN) / data.MNIST_STD
    if train:
        images = augment(images, generator)
    return images
'''

PRE_IN_PLACE = '''
def preprocess(images, train, generator=None):
    if train:
        images = augment(images, generator)
    return images.sub_(data.MNIST_MEAN).div_(data.MNIST_STD)
'''

PRE_TORCHVISION_NORMALIZE = '''
from torchvision import transforms

_normalize = transforms.Normalize((data.MNIST_MEAN,), (data.MNIST_STD,))


def preprocess(images, train, generator=None):
    if train:
        images = augment(images, generator=generator)
    return _normalize(images)
'''

# ------------------------------------------------------------------ Part 2: build_small_cnn

CNN_F_DROPOUT_ALWAYS_ON = '''
class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(16)
        self.conv3 = nn.Conv2d(16, 32, 3, bias=False)
        self.bn3 = nn.BatchNorm2d(32)
        self.fc = nn.Linear(128, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)
        x = F.max_pool2d(F.relu(self.bn3(self.conv3(x))), 2)
        return self.fc(F.dropout(x.flatten(1), 0.1))        # dropout on in eval mode too


def build_small_cnn():
    return SmallCNN()
'''

CNN_NO_DROPOUT = '''
def build_small_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, bias=False), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(128, 10))
'''

CNN_TOO_MANY_PARAMETERS = '''
def build_small_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.1), nn.Linear(16 * 7 * 7, 10))
'''

CNN_TOO_MANY_MULTIPLY_ADDS = '''
def build_small_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
        nn.Conv2d(16, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
        nn.MaxPool2d(4),
        nn.Flatten(), nn.Dropout(0.1), nn.Linear(16 * 3 * 3, 10))
'''

CNN_SOFTMAX_OUTPUT = '''
def build_small_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, bias=False), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.1), nn.Linear(128, 10), nn.Softmax(dim=1))
'''

CNN_SIGMOID_OUTPUT = '''
def build_small_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, bias=False), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.1), nn.Linear(128, 10), nn.Sigmoid())
'''

# A final LogSoftmax: the logits shifted by a constant per row, the same cross-entropy loss. The
# text accepts it.
CNN_LOGSOFTMAX_OUTPUT = '''
def build_small_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, bias=False), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.1), nn.Linear(128, 10), nn.LogSoftmax(dim=1))
'''

CNN_CLASS_FUNCTIONAL_DROPOUT = '''
class TinyNet(nn.Module):
    """4,258 parameters: three convolutions with batch norm, F.dropout that follows the mode."""

    def __init__(self):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(1, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8)
        self.conv2, self.bn2 = nn.Conv2d(8, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16)
        self.conv3, self.bn3 = nn.Conv2d(16, 16, 3, bias=False), nn.BatchNorm2d(16)
        self.fc = nn.Linear(16 * 2 * 2, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)      # (N, 8, 14, 14)
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)      # (N, 16, 7, 7)
        x = F.max_pool2d(F.relu(self.bn3(self.conv3(x))), 2)      # (N, 16, 2, 2)
        return self.fc(F.dropout(x.flatten(1), 0.1, training=self.training))


def build_small_cnn():
    return TinyNet()
'''

# Allowed by every rule, but with global average pooling the grader's 3 epochs reach only about 92%.
CNN_GLOBAL_AVERAGE_POOLING = '''
def build_small_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.1), nn.Linear(32, 10))
'''

# ------------------------------------------------------------------ Part 3: the training loop

OPT_SGD = '''
def make_optimizer(model, lr=0.01, gamma=0.5):
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    return optimizer, torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=gamma)
'''

OPT_GAMMA_IGNORED = '''
def make_optimizer(model, lr=0.01, gamma=0.5):
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    return optimizer, torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.5)
'''

OPT_STEP_SIZE_TWO = '''
def make_optimizer(model, lr=0.01, gamma=0.5):
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    return optimizer, torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=gamma)
'''

OPT_STEP_LR = '''
def make_optimizer(model, lr=0.01, gamma=0.5):
    optimizer = torch.optim.Adam(params=list(model.parameters()), lr=lr)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=gamma)
    return optimizer, scheduler
'''

_LOOP = '''
def train_one_epoch(model, loader, optimizer, scheduler=None, transform=None):
    device = next(model.parameters()).device
    {train}
    losses = []
    for images, labels in loader:
        images, labels = images.to(device), labels.to(device)
        if transform is not None:
            images = transform(images)
        loss = F.cross_entropy(model(images), labels)
        {zero_grad}
        loss.backward()
        optimizer.step()
        {batch_step}
        losses.append({item})
    {epoch_step}
    return losses
'''


def _loop(train="model.train()", zero_grad="optimizer.zero_grad()", batch_step="",
          item="loss.item()", epoch_step="if scheduler is not None:\n        scheduler.step()"):
    return _LOOP.format(train=train, zero_grad=zero_grad, batch_step=batch_step, item=item,
                        epoch_step=epoch_step)


LOOP_NO_TRAIN_MODE = _loop(train="pass")
LOOP_NO_ZERO_GRAD = _loop(zero_grad="pass")
LOOP_SCHEDULER_PER_BATCH = _loop(batch_step="if scheduler is not None:\n            scheduler.step()",
                                 epoch_step="pass")
LOOP_NO_SCHEDULER_STEP = _loop(epoch_step="pass")
LOOP_LOSS_TENSORS = _loop(item="loss")

LOOP_IGNORES_TRANSFORM = '''
def train_one_epoch(model, loader, optimizer, scheduler=None, transform=None):
    model.train()
    losses = []
    for images, labels in loader:
        loss = F.cross_entropy(model(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    if scheduler is not None:
        scheduler.step()
    return losses
'''

LOOP_ZERO_GRAD_BEFORE_STEP = '''
def train_one_epoch(model, loader, optimizer, scheduler=None, transform=None):
    model.train()
    losses = []
    for images, labels in loader:
        if transform is not None:
            images = transform(images)
        loss = F.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.zero_grad()
        optimizer.step()
        losses.append(loss.item())
    if scheduler is not None:
        scheduler.step()
    return losses
'''

LOOP_ZERO_GRAD_AT_END_CRITERION = '''
def train_one_epoch(model, loader, optimizer, scheduler=None, transform=None):
    criterion = nn.CrossEntropyLoss()
    model.train()
    device = next(iter(model.parameters())).device
    losses = []
    for step, (images, labels) in enumerate(loader):
        images = images.to(device)
        images = images if transform is None else transform(images)
        loss = criterion(model(images), labels.to(device))
        loss.backward()
        optimizer.step()
        model.zero_grad(set_to_none=True)
        losses.append(float(loss))
    if scheduler:
        scheduler.step()
    return losses
'''

EVAL_NO_EVAL_MODE = '''
def evaluate(model, loader, transform=None):
    correct, total = 0, 0
    with torch.no_grad():
        for images, labels in loader:
            if transform is not None:
                images = transform(images)
            correct += (model(images).argmax(1) == labels).sum().item()
            total += len(labels)
    return correct / total
'''

EVAL_NO_NO_GRAD = '''
def evaluate(model, loader, transform=None):
    model.eval()
    correct, total = 0, 0
    for images, labels in loader:
        if transform is not None:
            images = transform(images)
        correct += (model(images).argmax(1) == labels).sum().item()
        total += len(labels)
    return correct / total
'''

EVAL_IGNORES_TRANSFORM = '''
def evaluate(model, loader, transform=None):
    model.eval()
    correct, total = 0, 0
    with torch.no_grad():
        for images, labels in loader:
            correct += (model(images).argmax(1) == labels).sum().item()
            total += len(labels)
    return correct / total
'''

EVAL_BATCH_MEAN = '''
def evaluate(model, loader, transform=None):
    model.eval()
    accuracies = []
    with torch.no_grad():
        for images, labels in loader:
            if transform is not None:
                images = transform(images)
            accuracies.append((model(images).argmax(1) == labels).float().mean().item())
    return sum(accuracies) / len(accuracies)
'''

EVAL_RETURNS_TENSOR = '''
def evaluate(model, loader, transform=None):
    model.eval()
    correct, total = torch.zeros(()), 0
    with torch.no_grad():
        for images, labels in loader:
            if transform is not None:
                images = transform(images)
            correct += (model(images).argmax(1) == labels).sum()
            total += len(labels)
    return correct / total
'''

EVAL_INFERENCE_MODE_RESTORES = '''
@torch.inference_mode()
def evaluate(model, loader, transform=None):
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    hits = n = 0
    for images, labels in loader:
        images = images.to(device)
        logits = model(transform(images) if transform else images)
        hits += int((logits.argmax(-1).cpu() == labels).sum())
        n += labels.numel()
    model.train(was_training)
    return hits / n
'''

# ------------------------------------------------------------------ Part 4: save_model, load_model

_LOAD = '''

def load_model(path):
    model = build_small_cnn()
    model.load_state_dict(torch.load(path, weights_only=True))
    model.eval()
    return model
'''

SAVE_WHOLE_MODEL = '''
def save_model(model, path):
    torch.save(model, path)
''' + _LOAD

SAVE_AND_LOAD_WHOLE_MODEL = '''
def save_model(model, path):
    torch.save(model, path)


def load_model(path):
    model = torch.load(path, weights_only=False)
    model.eval()
    return model
'''

SAVE_PARAMETERS_ONLY = '''
def save_model(model, path):
    torch.save({name: p.detach() for name, p in model.named_parameters()}, path)
''' + _LOAD

_SAVE = '''
def save_model(model, path):
    torch.save(model.state_dict(), path)

'''

LOAD_NO_EVAL = _SAVE + '''
def load_model(path):
    model = build_small_cnn()
    model.load_state_dict(torch.load(path, weights_only=True))
    return model
'''

LOAD_FRESH_MODEL_ONLY = _SAVE + '''
def load_model(path):
    model = build_small_cnn()
    model.eval()
    return model
'''

SAVE_LOAD_MAP_LOCATION = '''
def save_model(model, path):
    torch.save({k: v.detach().cpu().clone() for k, v in model.state_dict().items()}, str(path))


def load_model(path):
    state = torch.load(path, map_location="cpu", weights_only=True)
    model = build_small_cnn()
    missing, unexpected = model.load_state_dict(state, strict=True)
    return model.eval()
'''

# ------------------------------------------------------------------ audit 2026-12-05

EVAL_FLOAT32_DIVISION = '''
def evaluate(model, loader, transform=None):
    device = next(model.parameters()).device
    model.eval()
    correct = torch.zeros((), dtype=torch.long)
    total = 0
    with torch.no_grad():
        for images, labels in loader:
            images, labels = images.to(device), labels.to(device)
            if transform is not None:
                images = transform(images)
            correct += (model(images).argmax(1) == labels).sum().cpu()
            total += len(labels)
    return (correct / total).item()
'''

EVAL_GLOBAL_DEVICE = '''
def evaluate(model, loader, transform=None):
    model.eval()
    correct, total = 0, 0
    with torch.no_grad():
        for images, labels in loader:
            images, labels = images.to(device), labels.to(device)
            if transform is not None:
                images = transform(images)
            correct += (model(images).argmax(dim=1) == labels).sum().item()
            total += labels.shape[0]
    return correct / total
'''

TRAIN_LOOP_GLOBAL_DEVICE = '''
def train_one_epoch(model, loader, optimizer, scheduler=None, transform=None):
    model.train()
    losses = []
    for images, labels in loader:
        images, labels = images.to(device), labels.to(device)
        if transform is not None:
            images = transform(images)
        loss = F.cross_entropy(model(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    if scheduler is not None:
        scheduler.step()
    return losses
'''


# ------------------------------------------------------------------ audit 2026-12-05 (2)

AUG_ROUNDED_UNIFORM = '''
def augment(images, generator, max_shift=2):
    # a continuous shift in [-max_shift, max_shift], rounded: the two ends come up half as often
    shifts = ((torch.rand(len(images), 2, generator=generator) * 2 - 1) * max_shift).round().long()
    out = torch.empty_like(images)
    for i, (dx, dy) in enumerate(shifts.tolist()):
        out[i] = data.shift_images(images[i], dx, dy)
    return out
'''

AUG_OFFSET_RANDINT = '''
def augment(images, generator, max_shift=2):
    out = images.clone()
    for i in range(images.shape[0]):
        dx = int(torch.randint(0, 2 * max_shift + 1, (), generator=generator)) - max_shift
        dy = int(torch.randint(0, 2 * max_shift + 1, (), generator=generator)) - max_shift
        out[i] = data.shift_images(images[i:i + 1], dx, dy)[0]
    return out
'''

AUG_GROUPS_BY_SHIFT = '''
def augment(images, generator, max_shift=2):
    """One shift_images call per distinct shift, over all images that drew it."""
    k = 2 * max_shift + 1
    codes = torch.randint(0, k * k, (images.shape[0],), generator=generator)
    out = torch.empty_like(images)
    for code in codes.unique().tolist():
        idx = (codes == code).nonzero().flatten()
        out[idx] = data.shift_images(images[idx], code // k - max_shift, code % k - max_shift)
    return out
'''

PRE_SUB_DIV_NEW = '''
def preprocess(images, train, generator=None):
    x = augment(images, generator) if train else images
    return x.sub(data.MNIST_MEAN).div(data.MNIST_STD)
'''

PRE_NUMPY_CONSTANTS = '''
def preprocess(images, train, generator=None):
    mean, std = 0.1307, 0.3081
    if train:
        images = augment(images, generator=generator, max_shift=2)
    return (images - mean) / std
'''

PRE_TRAIN_NO_AUGMENT = '''
def preprocess(images, train, generator=None):
    return (images - data.MNIST_MEAN) / data.MNIST_STD     # never augments
'''

CNN_BN_AFTER_RELU_CLASS = '''
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.BatchNorm2d(8), nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.BatchNorm2d(16), nn.MaxPool2d(2),
            nn.Dropout2d(0.05),
            nn.Conv2d(16, 24, 3), nn.ReLU(), nn.BatchNorm2d(24), nn.MaxPool2d(2))
        self.head = nn.Linear(24 * 2 * 2, 10)

    def forward(self, x):
        return self.head(torch.flatten(self.features(x), 1))

def build_small_cnn():
    return Net()
'''

CNN_DROPOUT_ZERO = '''
def build_small_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, bias=False), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.0), nn.Linear(128, 10))          # dropout that drops nothing
'''

CNN_BN_NO_RUNNING_STATS = '''
def build_small_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8, track_running_stats=False), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16, track_running_stats=False), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, bias=False), nn.BatchNorm2d(32, track_running_stats=False), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.1), nn.Linear(128, 10))
'''

CNN_DEEPCOPY_TEMPLATE = '''
import copy

_template = nn.Sequential(
    nn.Conv2d(1, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(8, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(16, 32, 3, bias=False), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Dropout(0.1), nn.Linear(128, 10))

def build_small_cnn():
    return copy.deepcopy(_template)          # new objects, but the same initial weights every call
'''

OPT_ADAMW = '''
def make_optimizer(model, lr=0.01, gamma=0.5):
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    return optimizer, torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma)
'''

OPT_LAMBDA_LR = '''
def make_optimizer(model, lr=0.01, gamma=0.5):
    optimizer = torch.optim.Adam(model.parameters(), lr)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda epoch: gamma ** epoch)
    return optimizer, scheduler
'''

OPT_WEIGHT_DECAY = '''
def make_optimizer(model, lr=0.01, gamma=0.5):
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=1e-4)
    return optimizer, torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=gamma)
'''

LOOP_SECOND_FORWARD = '''
def train_one_epoch(model, loader, optimizer, scheduler=None, transform=None):
    device = next(model.parameters()).device
    model.train()
    losses, correct = [], 0
    for images, labels in loader:
        images, labels = images.to(device), labels.to(device)
        if transform is not None:
            images = transform(images)
        loss = F.cross_entropy(model(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        with torch.no_grad():
            correct += (model(images).argmax(1) == labels).sum().item()   # training accuracy: a second pass
    if scheduler is not None:
        scheduler.step()
    return losses
'''

LOOP_TRAIN_MODE_AT_END = '''
def train_one_epoch(model, loader, optimizer, scheduler=None, transform=None):
    device = next(model.parameters()).device
    losses = []
    for images, labels in loader:
        images, labels = images.to(device), labels.to(device)
        if transform is not None:
            images = transform(images)
        loss = F.cross_entropy(model(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    if scheduler is not None:
        scheduler.step()
    model.train()                     # too late: this epoch ran in whatever mode the model was in
    return losses
'''

LOOP_LOG_SOFTMAX_NLL = '''
def train_one_epoch(model, loader, optimizer, scheduler=None, transform=None):
    model.train()
    device = next(model.parameters()).device
    losses = []
    for images, labels in loader:
        optimizer.zero_grad()
        images = images.to(device)
        if transform:
            images = transform(images)
        loss = F.nll_loss(F.log_softmax(model(images), dim=1), labels.to(device))
        loss.backward()
        optimizer.step()
        losses.append(loss.detach().cpu().item())
    if scheduler is not None:
        scheduler.step()
    return losses
'''

LOOP_MEAN_LOSS = '''
def train_one_epoch(model, loader, optimizer, scheduler=None, transform=None):
    device = next(model.parameters()).device
    model.train()
    total, batches = 0.0, 0
    for images, labels in loader:
        images, labels = images.to(device), labels.to(device)
        if transform is not None:
            images = transform(images)
        loss = F.cross_entropy(model(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item()
        batches += 1
    if scheduler is not None:
        scheduler.step()
    return total / batches                        # the epoch's mean loss, not one per batch
'''

EVAL_DATASET_LENGTH = '''
def evaluate(model, loader, transform=None):
    device = next(model.parameters()).device
    model.eval()
    correct = 0
    with torch.no_grad():
        for images, labels in loader:
            images, labels = images.to(device), labels.to(device)
            if transform is not None:
                images = transform(images)
            correct += (model(images).argmax(dim=1) == labels).sum().item()
    return correct / len(loader.dataset)
'''

EVAL_TRAIN_MODE_AFTER = '''
def evaluate(model, loader, transform=None):
    device = next(model.parameters()).device
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for images, labels in loader:
            images, labels = images.to(device), labels.to(device)
            logits = model(transform(images) if transform is not None else images)
            correct += int((logits.softmax(1).argmax(1) == labels).sum())
            total += labels.numel()
    model.train()                             # back to training
    return correct / total
'''

EVAL_PERCENT = '''
def evaluate(model, loader, transform=None):
    device = next(model.parameters()).device
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for images, labels in loader:
            images, labels = images.to(device), labels.to(device)
            if transform is not None:
                images = transform(images)
            correct += (model(images).argmax(1) == labels).sum().item()
            total += len(labels)
    return 100.0 * correct / total
'''

SAVE_CHECKPOINT_DICT = '''
def save_model(model, path):
    torch.save({"state_dict": model.state_dict()}, path)

def load_model(path):
    model = build_small_cnn()
    model.load_state_dict(torch.load(path, weights_only=True)["state_dict"])
    return model.eval()
'''

LOAD_STRICT_FALSE = '''
def save_model(model, path):
    torch.save(model.state_dict(), path)

def load_model(path):
    model = build_small_cnn()
    model.load_state_dict(torch.load(path, weights_only=True), strict=False)
    model.train(False)
    return model
'''


# ------------------------------------------------------------------ new weights at every call; one return value


# Correct: a deepcopy of a template, then every layer's reset_parameters(): new initial weights.
CNN_DEEPCOPY_RESET = '''
import copy

_template = nn.Sequential(
    nn.Conv2d(1, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(8, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(16, 32, 3, bias=False), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Dropout(0.1), nn.Linear(128, 10))

def build_small_cnn():
    model = copy.deepcopy(_template)
    for layer in model.modules():
        if hasattr(layer, "reset_parameters"):
            layer.reset_parameters()            # new random weights at every call
    return model
'''

# Forgets to return the losses: the loop trains right, train_one_epoch returns None.
LOOP_NO_RETURN = _loop().replace("    return losses\n", "")

# Correct: float(loss) instead of loss.item().
LOOP_FLOAT_OF_LOSS = _loop(item="float(loss)")


# ------------------------------------------------------------------ a squashing function after the last layer

# Ends with a tanh: some outputs are negative, but squashed into (-1, 1): not the raw scores.
CNN_TANH_OUTPUT = '''
def build_small_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, bias=False), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.1), nn.Linear(128, 10), nn.Tanh())
'''

# A class whose forward ends in 2 * sigmoid - 1 of the last layer's scores: negative outputs, squashed.
CNN_CLASS_CENTRED_SIGMOID = '''
class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, bias=False), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2))
        self.drop = nn.Dropout(0.1)
        self.head = nn.Linear(128, 10)

    def forward(self, x):
        return 2 * torch.sigmoid(self.head(self.drop(self.features(x).flatten(1)))) - 1


def build_small_cnn():
    return SmallCNN()
'''

# Correct: a class whose forward returns the last Linear's output through an nn.Identity.
CNN_CLASS_IDENTITY_HEAD = '''
class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, bias=False), nn.BatchNorm2d(32), nn.Tanh(), nn.MaxPool2d(2))
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(0.1), nn.Linear(128, 10), nn.Identity())

    def forward(self, x):
        return self.head(self.features(x))


def build_small_cnn():
    return SmallCNN()
'''


VARIANTS = [
    Variant("aug_global_rng", {"augment": AUG_GLOBAL_RNG}, frozenset({"test_augment"}),
            "draws the shifts from the global generator, not the one passed in"),
    Variant("aug_one_shift_per_batch", {"augment": AUG_ONE_SHIFT_PER_BATCH}, frozenset({"test_augment"}),
            "one shift for the whole batch instead of one per image"),
    Variant("aug_range_off_by_one", {"augment": AUG_RANGE_OFF_BY_ONE}, frozenset({"test_augment"}),
            "torch.randint's upper bound is exclusive: shifts of -2..1, never +2"),
    Variant("aug_roll", {"augment": AUG_ROLL}, frozenset({"test_augment"}),
            "torch.roll wraps the digit around the border instead of filling zeros"),
    Variant("aug_in_place", {"augment": AUG_IN_PLACE}, frozenset({"test_augment"}),
            "shifts the caller's images in place"),
    Variant("aug_pad_crop", {"augment": AUG_PAD_CROP}, frozenset(),
            "correct: pad and crop, dx and dy drawn separately"),
    Variant("pre_augments_test_data", {"preprocess": PRE_AUGMENTS_TEST}, frozenset({"test_preprocess"}),
            "augments test batches too"),
    Variant("pre_half_constants", {"preprocess": PRE_HALF_CONSTANTS}, frozenset({"test_preprocess"}),
            "normalises with 0.5 and 0.5 instead of MNIST's mean and std"),
    Variant("pre_imagenet_constants", {"preprocess": PRE_IMAGENET_CONSTANTS}, frozenset({"test_preprocess"}),
            "normalises with ImageNet's red-channel constants"),
    Variant("pre_batch_statistics", {"preprocess": PRE_BATCH_STATISTICS}, frozenset({"test_preprocess"}),
            "normalises each batch with its own mean and std"),
    Variant("pre_normalize_then_augment", {"preprocess": PRE_NORMALIZE_THEN_AUGMENT}, frozenset({"test_preprocess"}),
            "normalises first, so the shifted border is 0 instead of the normalised black"),
    Variant("pre_in_place", {"preprocess": PRE_IN_PLACE}, frozenset({"test_preprocess"}),
            "normalises the caller's test images in place"),
    Variant("pre_torchvision_normalize", {"preprocess": PRE_TORCHVISION_NORMALIZE}, frozenset(),
            "correct: torchvision's Normalize with MNIST's constants"),
    Variant("cnn_f_dropout_always_on", {"build_small_cnn": CNN_F_DROPOUT_ALWAYS_ON},
            frozenset({"test_small_cnn_modes"}),
            "F.dropout(x, 0.1) in forward: dropout stays on in eval mode"),
    Variant("cnn_no_dropout", {"build_small_cnn": CNN_NO_DROPOUT}, frozenset({"test_small_cnn_modes"}),
            "no dropout: train-mode passes are all alike"),
    Variant("cnn_too_many_parameters", {"build_small_cnn": CNN_TOO_MANY_PARAMETERS},
            frozenset({"test_small_cnn_size", "test_small_cnn_trained"}),
            "Linear(784, 10) on the flattened 16x7x7 map: 9,122 parameters, over 8,000"),
    Variant("cnn_too_many_multiply_adds", {"build_small_cnn": CNN_TOO_MANY_MULTIPLY_ADDS},
            frozenset({"test_small_cnn_size", "test_small_cnn_trained"}),
            "two 16-channel convolutions at 28x28 before pooling: 2.2 million multiply-adds"),
    Variant("cnn_softmax_output", {"build_small_cnn": CNN_SOFTMAX_OUTPUT},
            frozenset({"test_small_cnn"}),
            "ends with a softmax: probabilities instead of logits"),
    Variant("cnn_sigmoid_output", {"build_small_cnn": CNN_SIGMOID_OUTPUT},
            frozenset({"test_small_cnn"}),
            "ends with a sigmoid: outputs in (0, 1), never negative, not logits"),
    Variant("cnn_logsoftmax_output", {"build_small_cnn": CNN_LOGSOFTMAX_OUTPUT}, frozenset(),
            "correct (the text says so): a final LogSoftmax, logits shifted by a constant per row"),
    Variant("cnn_global_average_pooling", {"build_small_cnn": CNN_GLOBAL_AVERAGE_POOLING},
            frozenset({"test_small_cnn_trained"}),
            "within every rule, but global average pooling learns too slowly for the grader's 3 epochs"),
    Variant("cnn_class_functional_dropout", {"build_small_cnn": CNN_CLASS_FUNCTIONAL_DROPOUT}, frozenset(),
            "correct: an nn.Module class, F.dropout with training=self.training, 4,258 parameters"),
    Variant("opt_sgd", {"make_optimizer": OPT_SGD}, frozenset({"test_make_optimizer"}),
            "SGD instead of Adam"),
    Variant("opt_gamma_ignored", {"make_optimizer": OPT_GAMMA_IGNORED}, frozenset({"test_make_optimizer"}),
            "gamma fixed at 0.5 whatever is passed"),
    Variant("opt_step_size_two", {"make_optimizer": OPT_STEP_SIZE_TWO}, frozenset({"test_make_optimizer"}),
            "StepLR(step_size=2): the learning rate falls every second epoch"),
    Variant("opt_step_lr", {"make_optimizer": OPT_STEP_LR}, frozenset(),
            "correct: StepLR with step_size=1"),
    Variant("loop_no_train_mode", {"train_one_epoch": LOOP_NO_TRAIN_MODE}, frozenset({"test_train_one_epoch"}),
            "forgets model.train(): after evaluate it trains in eval mode"),
    Variant("loop_no_zero_grad", {"train_one_epoch": LOOP_NO_ZERO_GRAD}, frozenset({"test_train_one_epoch"}),
            "never clears the gradients: they add up over the batches"),
    Variant("loop_zero_grad_before_step", {"train_one_epoch": LOOP_ZERO_GRAD_BEFORE_STEP},
            frozenset({"test_train_one_epoch"}),
            "clears the gradients between backward and step: nothing is learned"),
    Variant("loop_scheduler_per_batch", {"train_one_epoch": LOOP_SCHEDULER_PER_BATCH},
            frozenset({"test_train_scheduler"}),
            "steps the scheduler after every batch instead of once per epoch"),
    Variant("loop_no_scheduler_step", {"train_one_epoch": LOOP_NO_SCHEDULER_STEP},
            frozenset({"test_train_scheduler"}),
            "never steps the scheduler"),
    Variant("loop_ignores_transform", {"train_one_epoch": LOOP_IGNORES_TRANSFORM},
            frozenset({"test_train_one_epoch"}),
            "never applies the transform (no augmentation, no normalisation in training)"),
    Variant("loop_loss_tensors", {"train_one_epoch": LOOP_LOSS_TENSORS}, frozenset({"test_result_types"}),
            "returns the loss tensors (each with its graph) instead of Python floats"),
    Variant("loop_zero_grad_at_end_criterion", {"train_one_epoch": LOOP_ZERO_GRAD_AT_END_CRITERION}, frozenset(),
            "correct: nn.CrossEntropyLoss, model.zero_grad after the step, float(loss)"),
    Variant("eval_no_eval_mode", {"evaluate": EVAL_NO_EVAL_MODE}, frozenset({"test_evaluate"}),
            "forgets model.eval(): dropout on, batch norm updates its statistics on test data"),
    Variant("eval_no_no_grad", {"evaluate": EVAL_NO_NO_GRAD}, frozenset({"test_evaluate"}),
            "runs the forward passes with gradients"),
    Variant("eval_ignores_transform", {"evaluate": EVAL_IGNORES_TRANSFORM}, frozenset({"test_evaluate"}),
            "never applies the transform (test images not normalised)"),
    Variant("eval_batch_mean", {"evaluate": EVAL_BATCH_MEAN}, frozenset({"test_evaluate"}),
            "averages per-batch accuracies, wrong when the last batch is smaller"),
    Variant("eval_returns_tensor", {"evaluate": EVAL_RETURNS_TENSOR},
            frozenset({"test_result_types"}),
            "returns a 0-d tensor instead of a float: the type test only (its value is right to 1e-6)"),
    Variant("eval_inference_mode_restores", {"evaluate": EVAL_INFERENCE_MODE_RESTORES}, frozenset(),
            "correct: inference_mode, restores the model's mode afterwards"),
    Variant("save_whole_model", {"save_load": SAVE_WHOLE_MODEL}, frozenset({"test_save_model"}),
            "torch.save(model): pickles the object, which weights_only=True refuses"),
    Variant("save_and_load_whole_model", {"save_load": SAVE_AND_LOAD_WHOLE_MODEL},
            frozenset({"test_save_model", "test_load_model"}),
            "saves and loads the pickled model object instead of a state_dict"),
    Variant("save_parameters_only", {"save_load": SAVE_PARAMETERS_ONLY}, frozenset({"test_save_model"}),
            "saves named_parameters(): batch norm's running statistics are lost"),
    Variant("load_no_eval", {"save_load": LOAD_NO_EVAL}, frozenset({"test_load_model"}),
            "returns the loaded model in train mode"),
    Variant("load_fresh_model_only", {"save_load": LOAD_FRESH_MODEL_ONLY}, frozenset({"test_load_model"}),
            "builds a fresh model and never loads the file"),
    Variant("save_load_map_location", {"save_load": SAVE_LOAD_MAP_LOCATION}, frozenset(),
            "correct: CPU copies of the state_dict, map_location, strict loading"),
    Variant('eval_float32_division', {'evaluate': EVAL_FLOAT32_DIVISION}, frozenset(),
            'correct: counts in a tensor and divides in float32 (exact to 1e-7)'),
    Variant('eval_global_device', {'evaluate': EVAL_GLOBAL_DEVICE}, frozenset({'test_evaluate'}),
            "moves the batches to the notebook's global device, not the model's"),
    Variant('train_loop_global_device', {'train_one_epoch': TRAIN_LOOP_GLOBAL_DEVICE}, frozenset({'test_train_one_epoch'}),
            "moves the batches to the notebook's global device, not the model's"),
    Variant("aug_rounded_uniform", {"augment": AUG_ROUNDED_UNIFORM}, frozenset({"test_augment"}),
            'a rounded continuous shift: the ends come half as often (full marks before: nothing checked "equally likely")'),
    Variant("aug_offset_randint", {"augment": AUG_OFFSET_RANDINT}, frozenset(),
            'correct: randint(0, 2m + 1) - m, drawn per image, dx then dy'),
    Variant("aug_groups_by_shift", {"augment": AUG_GROUPS_BY_SHIFT}, frozenset(),
            'correct: one code per image, one shift_images call per distinct shift'),
    Variant("pre_sub_div", {"preprocess": PRE_SUB_DIV_NEW}, frozenset(),
            'correct: .sub().div() (not in place) on the augmented or the original images'),
    Variant("pre_literal_constants", {"preprocess": PRE_NUMPY_CONSTANTS}, frozenset(),
            'correct: the constants 0.1307 and 0.3081 written out, max_shift=2 passed'),
    Variant("pre_train_no_augment", {"preprocess": PRE_TRAIN_NO_AUGMENT}, frozenset({"test_preprocess"}),
            'never augments, not even training batches'),
    Variant("cnn_dropout_zero", {"build_small_cnn": CNN_DROPOUT_ZERO}, frozenset({"test_small_cnn_modes"}),
            'nn.Dropout(0.0): a dropout layer that drops nothing'),
    Variant("cnn_bn_no_running_stats", {"build_small_cnn": CNN_BN_NO_RUNNING_STATS}, frozenset({"test_small_cnn_modes"}),
            'BatchNorm2d(track_running_stats=False): batch statistics in eval mode too'),
    Variant("cnn_deepcopy_template", {"build_small_cnn": CNN_DEEPCOPY_TEMPLATE}, frozenset({"test_small_cnn"}),
            'deepcopy of a module-level template: new parameters, but the same initial values at every call (the '
            'text asks for new weights at every call; full marks before)'),
    Variant("cnn_deepcopy_reset", {"build_small_cnn": CNN_DEEPCOPY_RESET}, frozenset(),
            'correct: deepcopy of a template, then reset_parameters() on every layer (new weights at every call)'),
    Variant("cnn_tanh_output", {"build_small_cnn": CNN_TANH_OUTPUT}, frozenset({"test_small_cnn"}),
            "ends with nn.Tanh(): outputs squashed into (-1, 1), not logits (full marks before: some outputs are negative)"),
    Variant("cnn_class_centred_sigmoid", {"build_small_cnn": CNN_CLASS_CENTRED_SIGMOID}, frozenset({"test_small_cnn"}),
            "forward returns 2 * sigmoid(scores) - 1: negative outputs, but squashed, not logits (full marks before)"),
    Variant("cnn_class_identity_head", {"build_small_cnn": CNN_CLASS_IDENTITY_HEAD}, frozenset(),
            "correct: a class, tanh inside the features, the last Linear followed by nn.Identity"),
    Variant("cnn_bn_after_relu_class", {"build_small_cnn": CNN_BN_AFTER_RELU_CLASS}, frozenset(),
            'correct: an nn.Module class, batch norm after the ReLU, Dropout2d between the blocks'),
    Variant("opt_adamw", {"make_optimizer": OPT_ADAMW}, frozenset({"test_make_optimizer"}),
            'AdamW (decoupled weight decay 0.01) instead of Adam'),
    Variant("opt_lambda_lr", {"make_optimizer": OPT_LAMBDA_LR}, frozenset(),
            'correct: LambdaLR(gamma ** epoch)'),
    Variant("opt_weight_decay", {"make_optimizer": OPT_WEIGHT_DECAY}, frozenset({"test_make_optimizer"}),
            'Adam with weight_decay=1e-4 (full marks before: too small to show in three steps on random gradients)'),
    Variant("loop_second_forward_for_accuracy", {"train_one_epoch": LOOP_SECOND_FORWARD}, frozenset({"test_train_one_epoch"}),
            'a second forward pass per batch for the training accuracy: other dropout masks, batch norm updated twice'),
    Variant("loop_train_mode_at_end", {"train_one_epoch": LOOP_TRAIN_MODE_AT_END}, frozenset({"test_train_one_epoch"}),
            'model.train() after the loop: the epoch runs in eval mode after evaluate'),
    Variant("loop_log_softmax_nll", {"train_one_epoch": LOOP_LOG_SOFTMAX_NLL}, frozenset(),
            'correct: log_softmax + nll_loss, zero_grad first, transform after the move'),
    Variant("loop_mean_loss", {"train_one_epoch": LOOP_MEAN_LOSS}, frozenset({"test_result_types"}),
            "returns the epoch's mean loss, one float, instead of the list of batch losses (lost "
            "test_train_one_epoch too before: its visible list assert and its losses record)"),
    Variant("loop_no_return", {"train_one_epoch": LOOP_NO_RETURN}, frozenset({"test_result_types"}),
            "trains right but forgets `return losses`: returns None (lost test_train_one_epoch too before)"),
    Variant("loop_float_of_loss", {"train_one_epoch": LOOP_FLOAT_OF_LOSS}, frozenset(),
            "correct: float(loss) instead of loss.item()"),
    Variant("eval_dataset_length", {"evaluate": EVAL_DATASET_LENGTH}, frozenset({"test_evaluate"}),
            'divides by len(loader.dataset): not the examples the loader yields (lost only the types test before, whose loader was a list)'),
    Variant("eval_train_mode_after", {"evaluate": EVAL_TRAIN_MODE_AFTER}, frozenset(),
            'correct: argmax of the softmax, model.train() afterwards (no rule on the mode after)'),
    Variant("eval_percent", {"evaluate": EVAL_PERCENT}, frozenset({"test_evaluate"}),
            'returns a percentage, not a fraction in [0, 1]'),
    Variant("save_checkpoint_dict", {"save_load": SAVE_CHECKPOINT_DICT}, frozenset({"test_load_model", "test_save_model"}),
            "saves {'state_dict': ...} and loads ['state_dict']: neither is the state_dict file asked for"),
    Variant("load_strict_false", {"save_load": LOAD_STRICT_FALSE}, frozenset(),
            'correct: load_state_dict(strict=False), model.train(False)'),
]

#: A wrong variant that passes every visible test and loses exactly one hidden test
#: (tests/end_to_end/test_colab.py teaches with it; docs/authoring.md).
SUBTLE_VARIANT = "opt_gamma_ignored"


# ------------------------------------------------------------------ audit H2: lazy layers and other ways of writing the network

H2_CNN_LAZY_HEAD = '''
def build_small_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, bias=False), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.1), nn.LazyLinear(10))
'''

H2_CNN_ALL_LAZY = '''
def build_small_cnn():
    return nn.Sequential(
        nn.LazyConv2d(8, 3, padding=1, bias=False), nn.LazyBatchNorm2d(), nn.ReLU(), nn.MaxPool2d(2),
        nn.LazyConv2d(16, 3, padding=1, bias=False), nn.LazyBatchNorm2d(), nn.ReLU(), nn.MaxPool2d(2),
        nn.LazyConv2d(32, 3, bias=False), nn.LazyBatchNorm2d(), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.1), nn.LazyLinear(10))
'''

H2_CNN_CLASS_MODULELIST_INIT = '''
class SmallNet(nn.Module):
    def __init__(self, widths=(8, 16, 32), p_drop=0.1, num_classes=10):
        super().__init__()
        self.blocks = nn.ModuleList()
        c_in = 1
        for i, c in enumerate(widths):
            self.blocks.append(nn.ModuleDict({
                "conv": nn.Conv2d(c_in, c, 3, padding="same" if i < 2 else 0, bias=False),
                "bn": nn.BatchNorm2d(c)}))
            c_in = c
        self.drop = nn.Dropout(p_drop)
        self.fc = nn.Linear(c_in * 2 * 2, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        for block in self.blocks:
            x = F.max_pool2d(F.relu(block["bn"](block["conv"](x))), 2)
        x = x.view(x.size(0), -1)
        return self.fc(self.drop(x))


def build_small_cnn():
    return SmallNet()
'''

H2_CNN_ORDEREDDICT_GELU = '''
from collections import OrderedDict


def build_small_cnn():
    return nn.Sequential(OrderedDict([
        ("conv1", nn.Conv2d(1, 8, 3, padding=1, bias=False)), ("bn1", nn.BatchNorm2d(8)), ("act1", nn.LeakyReLU(0.1)),
        ("pool1", nn.MaxPool2d(2)),
        ("conv2", nn.Conv2d(8, 16, 3, padding=1, bias=False)), ("bn2", nn.BatchNorm2d(16)), ("act2", nn.GELU()),
        ("pool2", nn.MaxPool2d(2)),
        ("conv3", nn.Conv2d(16, 32, 3, bias=False)), ("bn3", nn.BatchNorm2d(32)), ("act3", nn.ReLU()),
        ("pool3", nn.AdaptiveMaxPool2d(2)),
        ("flat", nn.Flatten()), ("drop", nn.Dropout(0.1)), ("fc", nn.Linear(128, 10)),
    ]))
'''

H2_CNN_VIEW_FIXED_SIZE = '''
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(16)
        self.conv3 = nn.Conv2d(16, 32, 3, bias=False)
        self.bn3 = nn.BatchNorm2d(32)
        self.dropout = nn.Dropout2d(0.1)
        self.fc = nn.Linear(32 * 2 * 2, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)
        x = F.max_pool2d(F.relu(self.bn3(self.conv3(x))), 2)
        x = self.dropout(x)
        x = x.view(-1, 32 * 2 * 2)
        return self.fc(x)


def build_small_cnn():
    return Net()
'''

VARIANTS += [
    Variant('cnn_lazy_head', {'build_small_cnn': H2_CNN_LAZY_HEAD}, frozenset(),
            'correct: nn.LazyLinear(10) as the head (lost test_small_cnn_size, test_small_cnn_trained and test_load_model before: their visible tests read or saved parameters no forward pass had filled)'),
    Variant('cnn_all_lazy', {'build_small_cnn': H2_CNN_ALL_LAZY}, frozenset(),
            "correct: nn.LazyConv2d, nn.LazyBatchNorm2d and nn.LazyLinear (lost test_small_cnn too before: the structure probe read a never-run model's parameters, and a LazyBatchNorm2d is an nn.BatchNorm2d only after a forward pass)"),
    Variant('cnn_class_modulelist_init', {'build_small_cnn': H2_CNN_CLASS_MODULELIST_INIT}, frozenset(),
            "correct: a class with default arguments, ModuleList of ModuleDicts, padding='same', kaiming init in __init__, x.view(x.size(0), -1)"),
    Variant('cnn_ordereddict_gelu', {'build_small_cnn': H2_CNN_ORDEREDDICT_GELU}, frozenset(),
            'correct: nn.Sequential of an OrderedDict, LeakyReLU and GELU, AdaptiveMaxPool2d(2)'),
    Variant('cnn_view_fixed_size', {'build_small_cnn': H2_CNN_VIEW_FIXED_SIZE}, frozenset(),
            'correct: F.relu/F.max_pool2d in forward, Dropout2d, x.view(-1, 32 * 2 * 2) (the grader trains its default-layout copy)'),
]
