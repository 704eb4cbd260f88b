"""Tests for course_utils.data, on the real MNIST files (the data root of tests/conftest.py)."""

import struct
import time
import urllib.error

import numpy as np
import pytest
import torch
import torchvision

from tests.conftest import require_mnist
from course_utils.data import (
    FASHION_CLASSES,
    MNIST_MEAN,
    MNIST_STD,
    DataUnavailableError,
    data_root,
    fashion_mnist,
    fashion_mnist_tensors,
    mnist,
    mnist_loaders,
    mnist_tensors,
    shift_images,
    tensor_loader,
)

MNIST_TRAIN_SIZES = (10_000, 60_000)  # a 10,000-image subset on CI, the full set elsewhere


@pytest.fixture
def shared_data(monkeypatch):
    """Point COURSE_DATA_DIR at the folder holding real MNIST (conftest's data-root rule; skipped,
    or failed under COURSE_REQUIRE_DATA=1, when there is none)."""
    root = require_mnist()
    monkeypatch.setenv("COURSE_DATA_DIR", str(root))
    return root


@pytest.fixture
def empty_data_dir(monkeypatch, tmp_path):
    """Point COURSE_DATA_DIR at an empty folder."""
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    return tmp_path


@pytest.fixture
def offline(monkeypatch):
    """Make every torchvision MNIST/FashionMNIST download fail at once, as on a machine offline."""
    calls = []

    def fail_to_download(url, *args, **kwargs):
        calls.append(url)
        raise urllib.error.URLError("simulated: no network")

    monkeypatch.setattr(
        torchvision.datasets.mnist, "download_and_extract_archive", fail_to_download
    )
    return calls


# --- data_root ---------------------------------------------------------------------------------


def test_data_root_argument_wins(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "from_env"))
    assert data_root(tmp_path / "from_arg") == tmp_path / "from_arg"
    assert data_root(str(tmp_path / "from_arg")) == tmp_path / "from_arg"


def test_data_root_env_var_before_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "from_env"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert data_root() == tmp_path / "from_env"


def test_data_root_cache_honours_xdg_cache_home(monkeypatch, tmp_path):
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert data_root() == tmp_path / "cache" / "course_utils" / "data"


def test_data_root_default_cache_in_home(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_DATA_DIR", "")  # empty counts as unset
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert data_root() == tmp_path / ".cache" / "course_utils" / "data"


def test_data_root_expands_user(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert data_root("~/mnist") == tmp_path / "mnist"


# --- missing data ------------------------------------------------------------------------------


@pytest.mark.parametrize("loader", [mnist, fashion_mnist])
def test_missing_files_without_download_raise_a_helpful_error(empty_data_dir, loader):
    with pytest.raises(DataUnavailableError) as info:
        loader(download=False)
    message = str(info.value)
    folder = "FashionMNIST" if loader is fashion_mnist else "MNIST"
    assert str(empty_data_dir / folder / "raw") in message
    assert "COURSE_DATA_DIR" in message
    assert f"<root>/{folder}/raw/" in message
    assert "train-images-idx3-ubyte" in message
    assert isinstance(info.value, RuntimeError)


@pytest.mark.parametrize("loader", [mnist, fashion_mnist, mnist_tensors, fashion_mnist_tensors])
def test_failed_download_raises_data_unavailable_error(empty_data_dir, offline, loader):
    start = time.perf_counter()
    with pytest.raises(DataUnavailableError) as info:
        loader(train=True)
    assert offline, "a download should have been attempted"
    assert time.perf_counter() - start < 5
    assert str(empty_data_dir) in str(info.value)
    assert "COURSE_DATA_DIR" in str(info.value)
    assert "download failed" in str(info.value)
    assert info.value.__cause__ is not None  # the original error stays visible


def test_download_error_other_than_network_is_wrapped(monkeypatch, empty_data_dir):
    def read_only_folder(url, *args, **kwargs):
        raise PermissionError(13, "Permission denied", url)

    monkeypatch.setattr(
        torchvision.datasets.mnist, "download_and_extract_archive", read_only_folder
    )
    with pytest.raises(DataUnavailableError):
        mnist(download=True)


def test_files_on_disk_are_used_without_downloading(shared_data, offline):
    dataset = mnist(train=False)
    assert offline == []
    assert len(dataset) == 10_000


# --- real MNIST ----------------------------------------------------------------------------------


def test_mnist_dataset_default_transform_is_to_tensor(shared_data):
    dataset = mnist(train=False, download=False)
    assert isinstance(dataset, torchvision.datasets.MNIST)
    image, label = dataset[0]
    assert image.shape == (1, 28, 28) and image.dtype == torch.float32
    assert 0.0 <= image.min() and image.max() <= 1.0
    assert label == 7  # the first test digit of MNIST


def test_mnist_root_argument_overrides_env(monkeypatch, tmp_path):
    root = require_mnist()
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    assert len(mnist(train=False, root=root, download=False)) == 10_000


def test_mnist_tensors_train(shared_data):
    images, labels = mnist_tensors(train=True)
    assert images.shape[0] in MNIST_TRAIN_SIZES
    assert images.shape[1:] == (1, 28, 28)
    assert images.dtype == torch.float32 and labels.dtype == torch.int64
    assert labels.shape == (images.shape[0],)
    assert images.min() == 0.0 and images.max() == 1.0
    assert set(labels.unique().tolist()) == set(range(10))
    assert labels[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]  # the official first labels


def test_mnist_tensors_match_the_dataset(shared_data):
    images, labels = mnist_tensors(train=False, limit=5)
    dataset = mnist(train=False)
    for index in range(5):
        image, label = dataset[index]
        assert torch.equal(images[index], image)
        assert labels[index].item() == label



@pytest.mark.parametrize("train", [True, False])
def test_mnist_tensors_read_the_raw_files_as_torchvision_does(shared_data, train):
    # mnist_tensors reads the idx files itself (no torchvision import): every image and label
    # equals what torchvision's MNIST reads from the same files
    images, labels = mnist_tensors(train=train)
    dataset = mnist(train=train, download=False)
    assert torch.equal(images, dataset.data.unsqueeze(1).float() / 255)
    assert torch.equal(labels, dataset.targets) and labels.dtype == torch.int64


def test_malformed_raw_files_go_through_torchvision(monkeypatch, tmp_path, offline):
    # a truncated images file: the raw route declines, torchvision's route says what is wrong
    raw = _write_tiny_fashion_mnist(tmp_path)
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    data = (raw / "train-images-idx3-ubyte").read_bytes()
    (raw / "train-images-idx3-ubyte").write_bytes(data[:-1])
    from course_utils import data as data_module
    assert data_module._raw_split("FashionMNIST", True, None) is None
    assert data_module._raw_split("FashionMNIST", False, None) is not None
    (raw / "train-images-idx3-ubyte").write_bytes(b"\x00\x00\x08\x01" + data[4:])   # wrong ndim
    assert data_module._raw_split("FashionMNIST", True, None) is None
    with pytest.raises(Exception):
        fashion_mnist_tensors(train=True, download=False)


def test_mnist_tensors_do_not_import_torchvision(shared_data):
    import subprocess
    import sys
    code = ("import sys; from course_utils.data import mnist_tensors; mnist_tensors(train=False, limit=3); "
            "print('torchvision' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "False", result.stderr


def test_mnist_tensors_limit_and_test_split(shared_data):
    images, labels = mnist_tensors(train=False, limit=100)
    assert images.shape == (100, 1, 28, 28) and labels.shape == (100,)
    all_images, _ = mnist_tensors(train=False)
    assert all_images.shape == (10_000, 1, 28, 28)
    assert torch.equal(images, all_images[:100])


def test_mnist_tensors_normalize(shared_data):
    raw, _ = mnist_tensors(train=False, limit=50)
    normalized, _ = mnist_tensors(train=False, limit=50, normalize=True)
    assert torch.allclose(normalized, (raw - MNIST_MEAN) / MNIST_STD)
    assert normalized.min() < 0


def test_mnist_loaders(shared_data):
    train_loader, test_loader = mnist_loaders(batch_size=64, limit_train=200)
    assert len(train_loader.dataset) == 200
    assert len(test_loader.dataset) == 10_000
    images, labels = next(iter(train_loader))
    assert images.shape == (64, 1, 28, 28) and labels.shape == (64,)
    first_test_labels = next(iter(test_loader))[1]
    assert first_test_labels[:3].tolist() == [7, 2, 1]  # the test loader keeps the file order


# --- Fashion-MNIST, from a tiny folder written here in the idx format -----------------------------


def _write_idx(path, array, magic):
    """Write a uint8 array in the idx format (big-endian header) that MNIST files use."""
    header = struct.pack(">I", magic) + b"".join(struct.pack(">I", size) for size in array.shape)
    path.write_bytes(header + array.numpy().tobytes())


def _write_tiny_fashion_mnist(root, train_size=6, test_size=4):
    raw = root / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    generator = torch.Generator().manual_seed(0)
    for prefix, size in (("train", train_size), ("t10k", test_size)):
        images = torch.randint(0, 256, (size, 28, 28), dtype=torch.uint8, generator=generator)
        labels = torch.arange(size, dtype=torch.uint8) % 10
        _write_idx(raw / f"{prefix}-images-idx3-ubyte", images, 0x00000803)
        _write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels, 0x00000801)
    return raw


def test_fashion_mnist_reads_files_in_torchvision_layout(monkeypatch, tmp_path, offline):
    raw = _write_tiny_fashion_mnist(tmp_path)
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    images, labels = fashion_mnist_tensors(train=True)
    assert offline == []
    assert images.shape == (6, 1, 28, 28) and images.dtype == torch.float32
    assert labels.tolist() == [0, 1, 2, 3, 4, 5] and labels.dtype == torch.int64
    assert 0.0 <= images.min() and images.max() <= 1.0
    first_image_bytes = (raw / "train-images-idx3-ubyte").read_bytes()[16 : 16 + 28 * 28]
    expected = torch.tensor(list(first_image_bytes), dtype=torch.float32).view(1, 28, 28) / 255
    assert torch.equal(images[0], expected)
    test_images, _ = fashion_mnist_tensors(train=False, limit=3, normalize=True)
    assert test_images.shape == (3, 1, 28, 28)
    dataset = fashion_mnist(train=False, download=False)
    assert isinstance(dataset, torchvision.datasets.FashionMNIST) and len(dataset) == 4


def test_fashion_classes():
    assert len(FASHION_CLASSES) == 10
    assert FASHION_CLASSES == torchvision.datasets.FashionMNIST.classes


# --- tensor_loader -------------------------------------------------------------------------------


def test_tensor_loader_batches_in_order():
    images = torch.arange(10, dtype=torch.float32).view(10, 1, 1, 1)
    labels = torch.arange(10)
    loader = tensor_loader(images, labels, batch_size=4)
    batches = list(loader)
    assert [len(batch_labels) for _, batch_labels in batches] == [4, 4, 2]
    assert torch.cat([batch_labels for _, batch_labels in batches]).tolist() == list(range(10))
    assert loader.num_workers == 0


def test_tensor_loader_shuffle_is_seeded():
    labels = torch.arange(100)
    images = torch.zeros(100, 1, 2, 2)

    def epoch_order(loader):
        return torch.cat([batch_labels for _, batch_labels in loader]).tolist()

    first = tensor_loader(images, labels, batch_size=16, shuffle=True, seed=3)
    second = tensor_loader(images, labels, batch_size=16, shuffle=True, seed=3)
    other_seed = tensor_loader(images, labels, batch_size=16, shuffle=True, seed=4)
    first_epoch = epoch_order(first)
    assert sorted(first_epoch) == list(range(100))
    assert first_epoch != list(range(100))
    assert first_epoch == epoch_order(second)
    assert first_epoch != epoch_order(other_seed)
    assert epoch_order(first) != first_epoch  # a new order every epoch


def test_tensor_loader_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="same length"):
        tensor_loader(torch.zeros(3, 1, 2, 2), torch.zeros(4, dtype=torch.int64))


# --- shift_images --------------------------------------------------------------------------------


def _example_image():
    # One 1-channel 3x4 image:
    # 1  2  3  4
    # 5  6  7  8
    # 9 10 11 12
    return torch.arange(1, 13, dtype=torch.float32).view(1, 1, 3, 4)


def test_shift_right_and_down():
    shifted = shift_images(_example_image(), dx=1, dy=1)
    expected = torch.tensor([[0, 0, 0, 0], [0, 1, 2, 3], [0, 5, 6, 7]], dtype=torch.float32)
    assert torch.equal(shifted[0, 0], expected)


def test_shift_left_and_up():
    shifted = shift_images(_example_image(), dx=-2, dy=-1)
    expected = torch.tensor([[7, 8, 0, 0], [11, 12, 0, 0], [0, 0, 0, 0]], dtype=torch.float32)
    assert torch.equal(shifted[0, 0], expected)


def test_shift_zero_is_a_copy():
    image = _example_image()
    shifted = shift_images(image, 0, 0)
    assert torch.equal(shifted, image)
    shifted[0, 0, 0, 0] = 100.0
    assert image[0, 0, 0, 0] == 1.0  # the input is never modified


def test_shift_past_the_border_gives_zeros():
    assert torch.equal(shift_images(_example_image(), dx=4, dy=0), torch.zeros(1, 1, 3, 4))
    assert torch.equal(shift_images(_example_image(), dx=0, dy=-3), torch.zeros(1, 1, 3, 4))


def test_shift_keeps_shape_dtype_and_works_per_channel():
    images = torch.rand(5, 3, 8, 8, dtype=torch.float64)
    shifted = shift_images(images, dx=2, dy=-1)
    assert shifted.shape == images.shape and shifted.dtype == images.dtype
    assert torch.equal(shifted[:, :, 0:7, 2:8], images[:, :, 1:8, 0:6])
    assert (shifted[:, :, :, :2] == 0).all() and (shifted[:, :, 7, :] == 0).all()


def test_shift_does_not_wrap_around():
    shifted = shift_images(_example_image(), dx=1, dy=0)
    assert not torch.equal(shifted, torch.roll(_example_image(), shifts=1, dims=-1))


def test_shift_accepts_numpy_and_torch_integers():
    expected = shift_images(_example_image(), dx=1, dy=-1)
    assert torch.equal(shift_images(_example_image(), np.int64(1), np.int64(-1)), expected)
    assert torch.equal(shift_images(_example_image(), torch.tensor(1), torch.tensor(-1)), expected)


def test_shift_rejects_non_integer_offsets():
    with pytest.raises(TypeError):
        shift_images(_example_image(), dx=0.5, dy=0)

