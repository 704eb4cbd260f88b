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
]

#: A wrong variant that passes every visible test and loses exactly one hidden test
#: (tests/end_to_end/test_colab.py teaches with it; docs/authoring.md).
SUBTLE_VARIANT = "opt_gamma_ignored"
