"""Fashion-MNIST's IDX files (the book's load_data_fashion_mnist reads the same data
through torchvision; here straight from Debian's dataset-fashion-mnist)."""
import gzip
import os

import numpy as np

#: Where `apt-get install dataset-fashion-mnist` puts the files.
FASHION_MNIST = "/usr/share/datasets/fashion-mnist"


def read_idx_images(path):
    """uint8 images [N, 1, 28, 28] from an idx3-ubyte.gz file."""
    with gzip.open(path) as f:
        return np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)


def read_idx_labels(path):
    """int64 labels [N] from an idx1-ubyte.gz file."""
    with gzip.open(path) as f:
        return np.frombuffer(f.read(), np.uint8, offset=8).astype(np.int64)


def fashion_mnist(split="train", folder=FASHION_MNIST):
    """(images uint8 [N, 1, 28, 28], labels int64 [N]) of the `train` or `t10k` split."""
    prefix = "train" if split == "train" else "t10k"
    return (read_idx_images(os.path.join(folder, f"{prefix}-images-idx3-ubyte.gz")),
            read_idx_labels(os.path.join(folder, f"{prefix}-labels-idx1-ubyte.gz")))
