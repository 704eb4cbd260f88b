"""A plain training loop for classifiers: one epoch, evaluation, and several epochs with history.

Every function takes the model and the loader it works on; nothing is read from globals.
The model is a classifier: it maps a batch of inputs (N, ...) to scores of shape (N, K), and the
loader yields ``(inputs, labels)`` with labels of shape (N,) holding class indices in 0..K-1.
"""

import torch
from torch import nn
from tqdm.auto import tqdm, trange


def _model_device(model: nn.Module) -> torch.device:
    """The device of the model's first parameter (cpu for a model without parameters)."""
    first_parameter = next(model.parameters(), None)
    return torch.device("cpu") if first_parameter is None else first_parameter.device


def _resolve_device(model: nn.Module, device) -> torch.device:
    """``device`` as a torch.device, or the model's device when ``device`` is None."""
    model_device = _model_device(model)
    if device is None:
        return model_device
    device = torch.device(device)
    if device.type != model_device.type:
        raise ValueError(
            f"the model is on {model_device} but device={device}: "
            f"move the model first with model.to(device)"
        )
    return device


def _count_correct(scores: torch.Tensor, labels: torch.Tensor) -> int:
    """Number of rows of scores (N, K) whose largest entry is at the index in labels (N,)."""
    return (scores.argmax(dim=1) == labels).sum().item()


def train_epoch(
    model: nn.Module,
    loader,
    optimizer: torch.optim.Optimizer,
    loss_fn=None,
    device=None,
    scheduler=None,
    progress: bool = True,
    desc: str = "train",
) -> dict:
    """Train ``model`` for one pass over ``loader``.

    Inputs:
    - model: classifier mapping inputs (N, ...) to scores (N, K); put in train mode here.
    - loader: yields (inputs, labels), labels of shape (N,) with class indices.
    - optimizer: updates the model's parameters after every batch.
    - loss_fn: loss(scores, labels) averaged over the batch; default nn.CrossEntropyLoss().
    - device: where batches are moved; default the device of the model's first parameter (the
      model itself must already be there).
    - scheduler: when given, ``scheduler.step()`` runs after every batch (e.g. OneCycleLR).
    - progress: show a tqdm progress bar with the running loss.
    - desc: label of the progress bar.

    Returns a dict with
    - "loss": the training loss averaged over all samples of the epoch,
    - "accuracy": the fraction of samples in [0, 1] classified correctly (with the weights as they
      were when each batch was seen).
    """
    loss_fn = nn.CrossEntropyLoss() if loss_fn is None else loss_fn
    device = _resolve_device(model, device)
    model.train()

    total_loss, total_correct, total_samples = 0.0, 0, 0
    batches = tqdm(loader, desc=desc, disable=not progress, leave=False)
    for inputs, labels in batches:
        inputs, labels = inputs.to(device), labels.to(device)
        scores = model(inputs)
        loss = loss_fn(scores, labels)

        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()

        batch_size = labels.shape[0]
        total_loss += loss.item() * batch_size
        total_correct += _count_correct(scores.detach(), labels)
        total_samples += batch_size
        batches.set_postfix(loss=f"{total_loss / total_samples:.4f}", refresh=False)

    if total_samples == 0:
        raise ValueError("train_epoch: the loader yielded no batches")
    return {"loss": total_loss / total_samples, "accuracy": total_correct / total_samples}


def evaluate(model: nn.Module, loader, loss_fn=None, device=None) -> dict:
    """Compute the loss and accuracy of ``model`` on ``loader`` without changing the model.

    Runs in eval mode (dropout off, batch norm uses its running statistics) under torch.no_grad(),
    then puts the model back in the mode (train or eval) it was in before.

    Inputs: as for ``train_epoch``.

    Returns a dict with "loss" (averaged over all samples) and "accuracy" (fraction in [0, 1]).
    """
    loss_fn = nn.CrossEntropyLoss() if loss_fn is None else loss_fn
    device = _resolve_device(model, device)
    was_training = model.training
    model.eval()

    total_loss, total_correct, total_samples = 0.0, 0, 0
    try:
        with torch.no_grad():
            for inputs, labels in loader:
                inputs, labels = inputs.to(device), labels.to(device)
                scores = model(inputs)
                batch_size = labels.shape[0]
                total_loss += loss_fn(scores, labels).item() * batch_size
                total_correct += _count_correct(scores, labels)
                total_samples += batch_size
    finally:
        model.train(was_training)

    if total_samples == 0:
        raise ValueError("evaluate: the loader yielded no batches")
    return {"loss": total_loss / total_samples, "accuracy": total_correct / total_samples}


def fit(
    model: nn.Module,
    train_loader,
    val_loader=None,
    epochs: int = 1,
    optimizer: torch.optim.Optimizer | None = None,
    lr: float = 1e-3,
    scheduler=None,
    one_cycle: bool = False,
    loss_fn=None,
    device=None,
    progress: bool = True,
) -> dict:
    """Train ``model`` for ``epochs`` epochs, evaluating on ``val_loader`` after each one.

    Inputs:
    - model, train_loader, loss_fn: as for ``train_epoch``.
    - val_loader: evaluated after every epoch when given.
    - epochs: number of passes over train_loader.
    - optimizer: default torch.optim.Adam(model.parameters(), lr=lr).
    - lr: learning rate of the default optimizer, and the peak rate when one_cycle=True.
    - scheduler: stepped after every batch (not every epoch) when given.
    - one_cycle: build OneCycleLR(optimizer, max_lr=lr, total_steps=epochs * len(train_loader))
      as the scheduler. Cannot be combined with ``scheduler``.
    - device: when given, the model is moved there first; default: where the model already is.
    - progress: show progress bars (one for the epochs, one for the batches of each epoch).

    Returns the history, a dict of lists with one entry per epoch:
    "train_loss", "train_accuracy", "val_loss", "val_accuracy" (the val lists stay empty when
    there is no val_loader).
    """
    if one_cycle and scheduler is not None:
        raise ValueError("fit: pass either scheduler=... or one_cycle=True, not both")
    if device is not None:
        model.to(device)
    if optimizer is None:
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    if one_cycle:
        scheduler = torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=lr, total_steps=epochs * len(train_loader)
        )

    history = {"train_loss": [], "train_accuracy": [], "val_loss": [], "val_accuracy": []}
    epoch_bar = trange(epochs, desc="epochs", disable=not progress)
    for epoch in epoch_bar:
        train_metrics = train_epoch(
            model,
            train_loader,
            optimizer,
            loss_fn=loss_fn,
            device=device,
            scheduler=scheduler,
            progress=progress,
            desc=f"epoch {epoch + 1}/{epochs}",
        )
        history["train_loss"].append(train_metrics["loss"])
        history["train_accuracy"].append(train_metrics["accuracy"])
        summary = {
            "loss": f"{train_metrics['loss']:.4f}",
            "acc": f"{train_metrics['accuracy']:.3f}",
        }

        if val_loader is not None:
            val_metrics = evaluate(model, val_loader, loss_fn=loss_fn, device=device)
            history["val_loss"].append(val_metrics["loss"])
            history["val_accuracy"].append(val_metrics["accuracy"])
            summary["val_acc"] = f"{val_metrics['accuracy']:.3f}"
        epoch_bar.set_postfix(summary)
    return history
