"""Loading MNIST and Fashion-MNIST as torchvision datasets, as tensors, and as DataLoaders.

Where the data lives (see ``data_root``): the ``root`` argument, else the environment variable
``COURSE_DATA_DIR``, else ``~/.cache/course_utils/data``. Inside it the files follow torchvision's
layout::

    <root>/MNIST/raw/train-images-idx3-ubyte         <root>/FashionMNIST/raw/...
    <root>/MNIST/raw/train-labels-idx1-ubyte         (same four file names)
    <root>/MNIST/raw/t10k-images-idx3-ubyte
    <root>/MNIST/raw/t10k-labels-idx1-ubyte

When the files are missing and cannot be downloaded, the loaders raise ``DataUnavailableError``;
they never fall back to random or fake data.
"""

from __future__ import annotations

import operator
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from torch.utils.data import DataLoader, TensorDataset

from .datafiles import DATA_DIR_ENV_VAR, data_root, read_idx  # noqa: F401 (part of this module's API)

if TYPE_CHECKING:
    import torchvision

MNIST_MEAN = 0.1307
MNIST_STD = 0.3081

FASHION_MNIST_MEAN = 0.2860
FASHION_MNIST_STD = 0.3530

FASHION_CLASSES = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]

RAW_FILE_NAMES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


class DataUnavailableError(RuntimeError):
    """The data set is not on disk and could not be downloaded."""


def _unavailable_message(dataset_class, root: Path, reason: str) -> str:
    name = dataset_class.__name__
    raw_folder = root / name / "raw"
    file_list = "\n".join(f"    {raw_folder / file_name}" for file_name in RAW_FILE_NAMES)
    return (
        f"{name} is not available: {reason}\n"
        f"Looked in: {raw_folder}\n"
        f"Expected these four files (torchvision's layout, <root>/{name}/raw/...):\n"
        f"{file_list}\n"
        f"Put the files there, or set the environment variable {DATA_DIR_ENV_VAR} to a folder "
        f"<root> that holds {name}/raw/ (or pass root=...)."
    )


def _load_torchvision_dataset(dataset_class, train, root, transform, download):
    """Open ``dataset_class`` (MNIST or FashionMNIST) from disk, downloading it when allowed."""
    from torchvision import transforms  # imported here: only the loaders need torchvision

    root = data_root(root)
    if transform is None:
        transform = transforms.ToTensor()
    try:
        return dataset_class(str(root), train=train, transform=transform, download=False)
    except RuntimeError:
        pass  # the files are not there (torchvision: "Dataset not found")

    if not download:
        reason = "the files are missing and download=False."
        raise DataUnavailableError(_unavailable_message(dataset_class, root, reason))
    try:
        return dataset_class(str(root), train=train, transform=transform, download=True)
    except (RuntimeError, OSError) as err:  # offline (URLError), read-only folder, ...
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else ""
        reason = (
            f"the files are missing and the download failed "
            f"({type(err).__name__}: {first_line} ...; the full error is shown above)."
        )
        raise DataUnavailableError(_unavailable_message(dataset_class, root, reason)) from err


def mnist(train=True, root=None, transform=None, download=True) -> torchvision.datasets.MNIST:
    """Return the MNIST training (``train=True``) or test split as a torchvision dataset.

    Each item is ``(image, label)``: with the default transform (``ToTensor()``) image is a float32
    tensor of shape (1, 28, 28) in [0, 1] and label an int in 0..9.

    The files are read from ``data_root(root)`` when they are there; otherwise they are downloaded
    when ``download`` is True. Raises DataUnavailableError when that is not possible.
    """
    from torchvision import datasets

    return _load_torchvision_dataset(datasets.MNIST, train, root, transform, download)


def fashion_mnist(train=True, root=None, transform=None, download=True) -> torchvision.datasets.FashionMNIST:
    """Return the Fashion-MNIST training or test split as a torchvision dataset.

    Like ``mnist``; labels index ``FASHION_CLASSES``. Files: ``<root>/FashionMNIST/raw/...``.
    """
    from torchvision import datasets

    return _load_torchvision_dataset(datasets.FashionMNIST, train, root, transform, download)


_SPLIT_FILES = {True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
                False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}


def _raw_split(dataset_class_name: str, train: bool, root) -> tuple | None:
    """``(pixels uint8 (N, 28, 28), labels int64 (N,))`` read straight from the split's two raw
    files in torchvision's layout, without torchvision (which takes about a second to import);
    None when they are not both there and well formed (the torchvision route then reads or
    downloads them, and says what is missing)."""
    folder = data_root(root) / dataset_class_name / "raw"
    images_file, labels_file = (folder / name for name in _SPLIT_FILES[bool(train)])
    if not (images_file.is_file() and labels_file.is_file()):
        return None
    pixels, labels = read_idx(images_file, 3), read_idx(labels_file, 1)
    if pixels is None or labels is None or len(pixels) != len(labels):
        return None
    return torch.from_numpy(pixels.copy()), torch.from_numpy(labels.astype("int64"))


def _split_tensors(dataset_class_name: str, opener, train, root, download) -> tuple:
    """The uint8 pixels and int64 labels of a split: from the raw files when they are there,
    else through the torchvision dataset ``opener`` (``mnist`` or ``fashion_mnist``)."""
    split = _raw_split(dataset_class_name, train, root)
    if split is not None:
        return split
    dataset = opener(train=train, root=root, download=download)
    return dataset.data, dataset.targets


def _dataset_to_tensors(split, limit, normalize, mean, std):
    """Turn the uint8 pixels and labels of an MNIST-style split into model-ready tensors."""
    pixels, labels = split  # uint8 (N, 28, 28), int64 (N,)
    if limit is not None:
        if limit < 0:
            raise ValueError(f"limit must be None or >= 0, got {limit}")
        pixels = pixels[:limit]
        labels = labels[:limit]
    images = pixels.unsqueeze(1).to(torch.float32).div_(255.0)  # (N, 1, 28, 28) in [0, 1]
    if normalize:
        images = images.sub_(mean).div_(std)
    return images, labels.to(torch.int64)


def mnist_tensors(
    train=True, root=None, normalize=False, limit=None, download=True
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return MNIST as two tensors, without a per-image transform (fast).

    Inputs:
    - train: the training split (True) or the test split (False).
    - root: data folder, see ``data_root``.
    - normalize: when True, images are ``(x - MNIST_MEAN) / MNIST_STD`` instead of x in [0, 1].
    - limit: keep only the first ``limit`` images (None: all of them).
    - download: download the files when they are missing.

    Returns a tuple of:
    - images: float32 tensor of shape (N, 1, 28, 28).
    - labels: int64 tensor of shape (N,), values 0..9.
    """
    split = _split_tensors("MNIST", mnist, train, root, download)
    return _dataset_to_tensors(split, limit, normalize, MNIST_MEAN, MNIST_STD)


def fashion_mnist_tensors(
    train=True, root=None, normalize=False, limit=None, download=True
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return Fashion-MNIST as two tensors; like ``mnist_tensors``.

    With ``normalize=True`` images are ``(x - FASHION_MNIST_MEAN) / FASHION_MNIST_STD``.

    Returns a tuple of:
    - images: float32 tensor of shape (N, 1, 28, 28).
    - labels: int64 tensor of shape (N,), values 0..9 indexing ``FASHION_CLASSES``.
    """
    split = _split_tensors("FashionMNIST", fashion_mnist, train, root, download)
    return _dataset_to_tensors(split, limit, normalize, FASHION_MNIST_MEAN, FASHION_MNIST_STD)


def tensor_loader(images, labels, batch_size=128, shuffle=False, seed=0) -> DataLoader:
    """Wrap two tensors in a DataLoader that yields ``(images_batch, labels_batch)``.

    Inputs:
    - images: tensor of shape (N, ...), e.g. (N, 1, 28, 28).
    - labels: tensor of shape (N,).
    - batch_size: images per batch (the last batch may be smaller).
    - shuffle: reshuffle every epoch, with a generator seeded by ``seed`` so that the order of
      batches is the same every time the notebook runs.

    Loads in the main process (num_workers=0): the data are already in memory.
    """
    if len(images) != len(labels):
        raise ValueError(
            f"tensor_loader: images and labels must have the same length, "
            f"got {len(images)} images and {len(labels)} labels"
        )
    generator = torch.Generator().manual_seed(seed) if shuffle else None
    return DataLoader(
        TensorDataset(images, labels),
        batch_size=batch_size,
        shuffle=shuffle,
        generator=generator,
        num_workers=0,
    )


def mnist_loaders(
    batch_size=128, root=None, normalize=False, limit_train=None, seed=0
) -> tuple[DataLoader, DataLoader]:
    """Return ``(train_loader, test_loader)`` for MNIST, built from ``mnist_tensors``.

    The training loader shuffles (seeded with ``seed``); the test loader keeps the file order.
    ``limit_train`` keeps only the first ``limit_train`` training images; the test split is whole.
    Batches are (images of shape (B, 1, 28, 28) float32, labels of shape (B,) int64).
    """
    train_images, train_labels = mnist_tensors(
        train=True, root=root, normalize=normalize, limit=limit_train
    )
    test_images, test_labels = mnist_tensors(train=False, root=root, normalize=normalize)
    train_loader = tensor_loader(
        train_images, train_labels, batch_size=batch_size, shuffle=True, seed=seed
    )
    test_loader = tensor_loader(test_images, test_labels, batch_size=batch_size, shuffle=False)
    return train_loader, test_loader


def shift_images(images: torch.Tensor, dx: int, dy: int) -> torch.Tensor:
    """Translate images by whole pixels, filling the uncovered border with zeros (no wrap-around).

    Inputs:
    - images: tensor of shape (N, C, H, W) (any shape whose last two dimensions are H, W works).
    - dx: pixels to move right (negative: left).
    - dy: pixels to move down (negative: up).

    Returns a new tensor ``out`` of the same shape, dtype and device, with
    ``out[..., y + dy, x + dx] = images[..., y, x]`` where both positions lie inside the image and
    0 elsewhere. Content shifted past the border is lost.
    """
    try:
        dx, dy = operator.index(dx), operator.index(dy)  # accepts int, numpy and torch integers
    except TypeError:
        message = f"shift_images: dx and dy must be integers, got dx={dx!r}, dy={dy!r}"
        raise TypeError(message) from None
    height, width = images.shape[-2], images.shape[-1]
    shifted = torch.zeros_like(images)
    if abs(dx) >= width or abs(dy) >= height:
        return shifted
    # Rows [src_top, src_top + kept_rows) move to [dst_top, dst_top + kept_rows); columns alike.
    kept_rows, kept_cols = height - abs(dy), width - abs(dx)
    src_top, dst_top = max(-dy, 0), max(dy, 0)
    src_left, dst_left = max(-dx, 0), max(dx, 0)
    shifted[..., dst_top : dst_top + kept_rows, dst_left : dst_left + kept_cols] = images[
        ..., src_top : src_top + kept_rows, src_left : src_left + kept_cols
    ]
    return shifted
