"""The book's banana-detection reader (13.6 "The Object Detection Dataset"):
`read_data_bananas`, `BananasDataset` and `load_data_bananas`, as d2l's PyTorch library
has them, except that

- the folder is an argument (`data_dir`, the book: `d2l.download_extract('banana-detection')`),
  so tools/make-bananas' stand-in or the unzipped real set can be read;
- `pd.read_csv(...).set_index('img_name')` and `torchvision.io.read_image` are replaced by the
  `csv` module and PIL (neither pandas nor torchvision is installed beside this torch); the
  image is the same `uint8` tensor `[3, H, W]`, the targets the same rows in file order.

    read_data_bananas(data_dir, is_train)   images (list of [3, H, W] uint8), targets [N, 1, 5] / 256
    BananasDataset(data_dir, is_train)      prints "read N training examples" (or validation)
    load_data_bananas(data_dir, batch_size) train_iter (shuffled), val_iter
"""
import csv
import os

import numpy as np
import torch
from PIL import Image


def read_image(path):
    """torchvision.io.read_image for an RGB PNG or JPEG: uint8 `[3, H, W]`."""
    return torch.from_numpy(np.asarray(Image.open(path).convert("RGB")).copy()).permute(2, 0, 1)


def read_data_bananas(data_dir, is_train=True):
    """Read the banana detection dataset images and labels.

    Defined in :numref:`sec_object-detection-dataset`"""
    csv_fname = os.path.join(data_dir, 'bananas_train' if is_train
                             else 'bananas_val', 'label.csv')
    with open(csv_fname, newline='') as f:
        rows = list(csv.DictReader(f))
    images, targets = [], []
    for row in rows:
        img_name = row['img_name']
        target = [int(row[c]) for c in ('label', 'xmin', 'ymin', 'xmax', 'ymax')]
        images.append(read_image(
            os.path.join(data_dir, 'bananas_train' if is_train else
                         'bananas_val', 'images', f'{img_name}')))
        # Here `target` contains (class, upper-left x, upper-left y,
        # lower-right x, lower-right y), where all the images have the same
        # banana class (index 0)
        targets.append(list(target))
    return images, torch.tensor(targets).unsqueeze(1) / 256


class BananasDataset(torch.utils.data.Dataset):
    """A customized dataset to load the banana detection dataset.

    Defined in :numref:`sec_object-detection-dataset`"""
    def __init__(self, data_dir, is_train):
        self.features, self.labels = read_data_bananas(data_dir, is_train)
        print('read ' + str(len(self.features)) + (f' training examples' if
              is_train else f' validation examples'))

    def __getitem__(self, idx):
        return (self.features[idx].float(), self.labels[idx])

    def __len__(self):
        return len(self.features)


def load_data_bananas(data_dir, batch_size):
    """Load the banana detection dataset.

    Defined in :numref:`sec_object-detection-dataset`"""
    train_iter = torch.utils.data.DataLoader(BananasDataset(data_dir, is_train=True),
                                             batch_size, shuffle=True)
    val_iter = torch.utils.data.DataLoader(BananasDataset(data_dir, is_train=False),
                                           batch_size)
    return train_iter, val_iter
