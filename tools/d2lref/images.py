"""The book's image pipeline of chapters 13.1-13.2 without torchvision (which cannot be
imported beside this torch): ImageFolder, RandomResizedCrop (torchvision's get_params),
RandomHorizontalFlip, ToTensor and Normalize with ImageNet's statistics, on PIL's code
paths as torchvision runs them; and seeded synthetic JPEG folders to feed them.

    make_image_folder(root, count, size=224, ...)  root/<class>/NNNN.jpg, written once
    ImageFolder(root, transform)                   (tensor, class index) per file
    train_augs(size=224)                           RandomResizedCrop + flip + ToTensor + Normalize
PyTorch is imported only by the dataset and the transforms.
"""
import json
import math
import os

import numpy as np
from PIL import Image, ImageDraw

MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
EXTENSIONS = (".jpg", ".jpeg", ".png")


def synthetic_image(rng, size):
    """A size x size RGB picture: a two-colour gradient in a random direction, a few
    filled shapes, and smoothed noise, so that JPEG files are of a photo's size."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    angle = rng.uniform(0, 2 * math.pi)
    t = (np.cos(angle) * xx + np.sin(angle) * yy)
    t = (t - t.min()) / max(float(t.max() - t.min()), 1e-6)
    a, b = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
    pixels = a[None, None, :] * (1 - t[..., None]) + b[None, None, :] * t[..., None]
    image = Image.fromarray(pixels.astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(int(rng.integers(3, 9))):
        x0, y0 = rng.uniform(-0.2, 1.0, 2) * size
        w, h = rng.uniform(0.1, 0.6, 2) * size
        fill = tuple(int(v) for v in rng.integers(0, 256, 3))
        box = [x0, y0, x0 + w, y0 + h]
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)(box, fill=fill)
    pixels = np.asarray(image, np.float32)
    coarse = rng.normal(0, 1, (size // 4, size // 4, 3)).astype(np.float32)
    coarse = np.repeat(np.repeat(coarse, 4, axis=0), 4, axis=1)[:size, :size]
    fine = rng.normal(0, 1, (size, size, 3)).astype(np.float32)
    grain = rng.uniform(0.4, 1.6)
    pixels += grain * (14 * coarse + 5 * fine)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")


def make_image_folder(root, count, size=224, classes=("cat", "dog"), quality=90, seed=0):
    """Writes `count` JPEGs in all, spread over `classes`, as root/<class>/NNNN.jpg; kept
    when root/manifest.json records the same parameters. Returns the files' total bytes."""
    params = {"count": count, "size": size, "classes": list(classes), "quality": quality, "seed": seed}
    manifest = os.path.join(root, "manifest.json")
    if os.path.isfile(manifest):
        with open(manifest) as f:
            old = json.load(f)
        if old.get("params") == params:
            return old["bytes"]
    rng = np.random.default_rng(seed)
    total = 0
    for c in classes:
        folder = os.path.join(root, c)
        os.makedirs(folder, exist_ok=True)
        for name in os.listdir(folder):
            os.remove(os.path.join(folder, name))
    for i in range(count):
        path = os.path.join(root, classes[i % len(classes)], f"{i:05d}.jpg")
        synthetic_image(rng, size).save(path, quality=quality)
        total += os.path.getsize(path)
    with open(manifest, "w") as f:
        json.dump({"params": params, "bytes": total}, f)
    return total


def random_resized_crop_params(width, height, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3)):
    """torchvision's RandomResizedCrop.get_params: (top, left, h, w), torch's RNG."""
    import torch
    area = height * width
    log_ratio = torch.log(torch.tensor(ratio))
    for _ in range(10):
        target_area = area * torch.empty(1).uniform_(scale[0], scale[1]).item()
        aspect_ratio = torch.exp(torch.empty(1).uniform_(log_ratio[0], log_ratio[1])).item()
        w = int(round(math.sqrt(target_area * aspect_ratio)))
        h = int(round(math.sqrt(target_area / aspect_ratio)))
        if 0 < w <= width and 0 < h <= height:
            i = torch.randint(0, height - h + 1, size=(1,)).item()
            j = torch.randint(0, width - w + 1, size=(1,)).item()
            return i, j, h, w
    in_ratio = float(width) / float(height)  # the central fallback
    if in_ratio < min(ratio):
        w, h = width, int(round(width / min(ratio)))
    elif in_ratio > max(ratio):
        w, h = int(round(height * max(ratio))), height
    else:
        w, h = width, height
    return (height - h) // 2, (width - w) // 2, h, w


class TrainAugs:
    """The book's train_augs of 13.2: RandomResizedCrop(size), RandomHorizontalFlip(),
    ToTensor(), Normalize(ImageNet mean, std); a PIL image in, a float [3, size, size] out."""

    def __init__(self, size=224):
        import torch
        self.size = size
        self.mean = torch.tensor(MEAN).view(3, 1, 1)
        self.std = torch.tensor(STD).view(3, 1, 1)

    def __call__(self, img):
        import torch
        top, left, h, w = random_resized_crop_params(*img.size)
        img = img.resize((self.size, self.size), Image.BILINEAR, box=(left, top, left + w, top + h))
        if torch.rand(1) < 0.5:
            img = img.transpose(Image.FLIP_LEFT_RIGHT)
        x = torch.from_numpy(np.array(img, np.uint8, copy=True)).permute(2, 0, 1).contiguous()
        return x.float().div(255).sub_(self.mean).div_(self.std)


def train_augs(size=224):
    return TrainAugs(size)


class ImageFolder:
    """torchvision's ImageFolder: classes are root's sorted subfolders, samples the image
    files under each in sorted(os.walk) order; item i is (transform(PIL RGB image), class)."""

    def __init__(self, root, transform=None):
        self.classes = sorted(e.name for e in os.scandir(root) if e.is_dir())
        if not self.classes:
            raise SystemExit(f"ImageFolder: no class folders in {root}")
        self.samples = [(os.path.join(folder, name), k) for k, c in enumerate(self.classes)
                        for folder, _, names in sorted(os.walk(os.path.join(root, c), followlinks=True))
                        for name in sorted(names) if name.lower().endswith(EXTENSIONS)]
        self.transform = transform

    def __len__(self):
        return len(self.samples)

    def __getitem__(self, i):
        path, label = self.samples[i]
        with open(path, "rb") as f:
            img = Image.open(f).convert("RGB")
        return (self.transform(img) if self.transform else img), label
