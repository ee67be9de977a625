"""The book's model definitions, for tools/fixtures/make-fixtures and the other generators.

Dive into Deep Learning, second edition, PyTorch version (d2l-en / d2l 0.17), written
exactly as the book writes them, so the state-dict keys are the book's (`0.weight`,
`1.0.conv1.weight`, `rnn.weight_ih_l0`, `linear.bias`, ...). Each builder takes an
optional width divisor `div` (every channel count and hidden width divided by it) and an
input size, so tools/fixtures/make-fixtures can commit reduced-width variants with the same ops
and structure; `div=1` with the book's input size is the book's model. Where the book
hard-codes a flatten size (AlexNet 6400, VGG `out_channels * 7 * 7`), it is computed for
the input size instead (the same number at the book's size).

torchvision's resnet18 is defined here too (`import torchvision` fails beside the CPU
torch): same module names and state-dict keys as torchvision.models.resnet18.
"""
import torch
from torch import nn
from torch.nn import functional as F


def _flat_features(layers, in_channels, size):
    with torch.no_grad():
        return nn.Sequential(*layers)(torch.zeros(1, in_channels, size, size)).numel()


# ---------------------------------------------------------------- ch. 4.x softmax regression (concise)

def softmax_regression():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 10))


# ---------------------------------------------------------------- ch. 7.5 LeNet with batch norm (concise)

def mlp():
    """The book's MLP (chapter 4.3): 784 -> 256 -> ReLU -> 10."""
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))


def lenet():
    """The book's LeNet (chapter 6.6), sigmoid activations and average pooling."""
    return nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.Sigmoid(),
        nn.Linear(120, 84), nn.Sigmoid(),
        nn.Linear(84, 10))


def lenet_bn():
    return nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5), nn.BatchNorm2d(6), nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Conv2d(6, 16, kernel_size=5), nn.BatchNorm2d(16), nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2), nn.Flatten(),
        nn.Linear(256, 120), nn.BatchNorm1d(120), nn.Sigmoid(),
        nn.Linear(120, 84), nn.BatchNorm1d(84), nn.Sigmoid(),
        nn.Linear(84, 10))


# ---------------------------------------------------------------- ch. 7.1 AlexNet

def alexnet(div=1, size=224):
    c = lambda n: n // div  # noqa: E731
    features = [
        nn.Conv2d(1, c(96), kernel_size=11, stride=4, padding=1), nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(c(96), c(256), kernel_size=5, padding=2), nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(c(256), c(384), kernel_size=3, padding=1), nn.ReLU(),
        nn.Conv2d(c(384), c(384), kernel_size=3, padding=1), nn.ReLU(),
        nn.Conv2d(c(384), c(256), kernel_size=3, padding=1), nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Flatten()]
    flat = _flat_features(features, 1, size)  # 6400 at 224
    return nn.Sequential(
        *features,
        nn.Linear(flat, c(4096)), nn.ReLU(), nn.Dropout(p=0.5),
        nn.Linear(c(4096), c(4096)), nn.ReLU(), nn.Dropout(p=0.5),
        nn.Linear(c(4096), 10))


# ---------------------------------------------------------------- ch. 7.2 VGG

def vgg_block(num_convs, in_channels, out_channels):
    layers = []
    for _ in range(num_convs):
        layers.append(nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1))
        layers.append(nn.ReLU())
        in_channels = out_channels
    layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
    return nn.Sequential(*layers)


CONV_ARCH = ((1, 64), (1, 128), (2, 256), (2, 512), (2, 512))


def vgg(conv_arch, fc=4096, size=224):
    conv_blks = []
    in_channels = 1
    for (num_convs, out_channels) in conv_arch:
        conv_blks.append(vgg_block(num_convs, in_channels, out_channels))
        in_channels = out_channels
    spatial = size // 32  # 7 at 224: five 2x2 pools
    return nn.Sequential(
        *conv_blks, nn.Flatten(),
        nn.Linear(out_channels * spatial * spatial, fc), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(fc, fc), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(fc, 10))


def vgg11(ratio=4, fc=4096, size=224):
    """The book trains `small_conv_arch` (ratio 4, fc 4096, 224); make-fixtures shrinks more."""
    small_conv_arch = [(pair[0], pair[1] // ratio) for pair in CONV_ARCH]
    return vgg(small_conv_arch, fc=fc, size=size)


# ---------------------------------------------------------------- ch. 7.3 NiN

def nin_block(in_channels, out_channels, kernel_size, strides, padding):
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, strides, padding),
        nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, kernel_size=1), nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, kernel_size=1), nn.ReLU())


def nin(div=1):
    c = lambda n: n // div  # noqa: E731
    return nn.Sequential(
        nin_block(1, c(96), kernel_size=11, strides=4, padding=0),
        nn.MaxPool2d(3, stride=2),
        nin_block(c(96), c(256), kernel_size=5, strides=1, padding=2),
        nn.MaxPool2d(3, stride=2),
        nin_block(c(256), c(384), kernel_size=3, strides=1, padding=1),
        nn.MaxPool2d(3, stride=2),
        nn.Dropout(0.5),
        # There are 10 label classes
        nin_block(c(384), 10, kernel_size=3, strides=1, padding=1),
        nn.AdaptiveAvgPool2d((1, 1)),
        # Transform the four-dimensional output into two-dimensional output with a
        # shape of (batch size, 10)
        nn.Flatten())


# ---------------------------------------------------------------- ch. 7.4 GoogLeNet

class Inception(nn.Module):
    # `c1`--`c4` are the number of output channels for each path
    def __init__(self, in_channels, c1, c2, c3, c4, **kwargs):
        super(Inception, self).__init__(**kwargs)
        # Path 1 is a single 1 x 1 convolutional layer
        self.p1_1 = nn.Conv2d(in_channels, c1, kernel_size=1)
        # Path 2 is a 1 x 1 convolutional layer followed by a 3 x 3
        # convolutional layer
        self.p2_1 = nn.Conv2d(in_channels, c2[0], kernel_size=1)
        self.p2_2 = nn.Conv2d(c2[0], c2[1], kernel_size=3, padding=1)
        # Path 3 is a 1 x 1 convolutional layer followed by a 5 x 5
        # convolutional layer
        self.p3_1 = nn.Conv2d(in_channels, c3[0], kernel_size=1)
        self.p3_2 = nn.Conv2d(c3[0], c3[1], kernel_size=5, padding=2)
        # Path 4 is a 3 x 3 maximum pooling layer followed by a 1 x 1
        # convolutional layer
        self.p4_1 = nn.MaxPool2d(kernel_size=3, stride=1, padding=1)
        self.p4_2 = nn.Conv2d(in_channels, c4, kernel_size=1)

    def forward(self, x):
        p1 = F.relu(self.p1_1(x))
        p2 = F.relu(self.p2_2(F.relu(self.p2_1(x))))
        p3 = F.relu(self.p3_2(F.relu(self.p3_1(x))))
        p4 = F.relu(self.p4_2(self.p4_1(x)))
        # Concatenate the outputs on the channel dimension
        return torch.cat((p1, p2, p3, p4), dim=1)


def googlenet(div=1):
    c = lambda n: max(1, n // div)  # noqa: E731

    def inception(in_channels, c1, c2, c3, c4):
        blk = Inception(in_channels, c(c1), (c(c2[0]), c(c2[1])), (c(c3[0]), c(c3[1])), c(c4))
        return blk, c(c1) + c(c2[1]) + c(c3[1]) + c(c4)

    b1 = nn.Sequential(nn.Conv2d(1, c(64), kernel_size=7, stride=2, padding=3),
                       nn.ReLU(),
                       nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
    b2 = nn.Sequential(nn.Conv2d(c(64), c(64), kernel_size=1),
                       nn.ReLU(),
                       nn.Conv2d(c(64), c(192), kernel_size=3, padding=1),
                       nn.ReLU(),
                       nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
    # in-channel counts are the previous block's sums (256, 480, 512, ... at div 1)
    i3a, n = inception(c(192), 64, (96, 128), (16, 32), 32)
    i3b, n = inception(n, 128, (128, 192), (32, 96), 64)
    b3 = nn.Sequential(i3a, i3b, nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
    i4a, n = inception(n, 192, (96, 208), (16, 48), 64)
    i4b, n = inception(n, 160, (112, 224), (24, 64), 64)
    i4c, n = inception(n, 128, (128, 256), (24, 64), 64)
    i4d, n = inception(n, 112, (144, 288), (32, 64), 64)
    i4e, n = inception(n, 256, (160, 320), (32, 128), 128)
    b4 = nn.Sequential(i4a, i4b, i4c, i4d, i4e, nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
    i5a, n = inception(n, 256, (160, 320), (32, 128), 128)
    i5b, n = inception(n, 384, (192, 384), (48, 128), 128)
    b5 = nn.Sequential(i5a, i5b, nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten())
    return nn.Sequential(b1, b2, b3, b4, b5, nn.Linear(n, 10))  # 1024 at div 1


# ---------------------------------------------------------------- ch. 7.6 ResNet-18

class Residual(nn.Module):  # @save
    """The Residual block of ResNet."""
    def __init__(self, input_channels, num_channels, use_1x1conv=False, strides=1):
        super().__init__()
        self.conv1 = nn.Conv2d(input_channels, num_channels, kernel_size=3, padding=1,
                               stride=strides)
        self.conv2 = nn.Conv2d(num_channels, num_channels, kernel_size=3, padding=1)
        if use_1x1conv:
            self.conv3 = nn.Conv2d(input_channels, num_channels, kernel_size=1,
                                   stride=strides)
        else:
            self.conv3 = None
        self.bn1 = nn.BatchNorm2d(num_channels)
        self.bn2 = nn.BatchNorm2d(num_channels)

    def forward(self, X):
        Y = F.relu(self.bn1(self.conv1(X)))
        Y = self.bn2(self.conv2(Y))
        if self.conv3:
            X = self.conv3(X)
        Y += X
        return F.relu(Y)


def resnet_block(input_channels, num_channels, num_residuals, first_block=False):
    blk = []
    for i in range(num_residuals):
        if i == 0 and not first_block:
            blk.append(Residual(input_channels, num_channels, use_1x1conv=True, strides=2))
        else:
            blk.append(Residual(num_channels, num_channels))
    return blk


def resnet18(div=1):
    c = lambda n: n // div  # noqa: E731
    b1 = nn.Sequential(nn.Conv2d(1, c(64), kernel_size=7, stride=2, padding=3),
                       nn.BatchNorm2d(c(64)), nn.ReLU(),
                       nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
    b2 = nn.Sequential(*resnet_block(c(64), c(64), 2, first_block=True))
    b3 = nn.Sequential(*resnet_block(c(64), c(128), 2))
    b4 = nn.Sequential(*resnet_block(c(128), c(256), 2))
    b5 = nn.Sequential(*resnet_block(c(256), c(512), 2))
    return nn.Sequential(b1, b2, b3, b4, b5,
                         nn.AdaptiveAvgPool2d((1, 1)),
                         nn.Flatten(), nn.Linear(c(512), 10))


# ---------------------------------------------------------------- ch. 7.7 DenseNet

def conv_block(input_channels, num_channels):
    return nn.Sequential(
        nn.BatchNorm2d(input_channels), nn.ReLU(),
        nn.Conv2d(input_channels, num_channels, kernel_size=3, padding=1))


class DenseBlock(nn.Module):
    def __init__(self, num_convs, input_channels, num_channels):
        super(DenseBlock, self).__init__()
        layer = []
        for i in range(num_convs):
            layer.append(conv_block(num_channels * i + input_channels, num_channels))
        self.net = nn.Sequential(*layer)

    def forward(self, X):
        for blk in self.net:
            Y = blk(X)
            # Concatenate the input and output of each block on the channel
            # dimension
            X = torch.cat((X, Y), dim=1)
        return X


def transition_block(input_channels, num_channels):
    return nn.Sequential(
        nn.BatchNorm2d(input_channels), nn.ReLU(),
        nn.Conv2d(input_channels, num_channels, kernel_size=1),
        nn.AvgPool2d(kernel_size=2, stride=2))


def densenet(div=1):
    b1 = nn.Sequential(
        nn.Conv2d(1, 64 // div, kernel_size=7, stride=2, padding=3),
        nn.BatchNorm2d(64 // div), nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
    # `num_channels`: the current number of channels
    num_channels, growth_rate = 64 // div, 32 // div
    num_convs_in_dense_blocks = [4, 4, 4, 4]
    blks = []
    for i, num_convs in enumerate(num_convs_in_dense_blocks):
        blks.append(DenseBlock(num_convs, num_channels, growth_rate))
        # This is the number of output channels in the previous dense block
        num_channels += num_convs * growth_rate
        # A transition layer that halves the number of channels is added between
        # the dense blocks
        if i != len(num_convs_in_dense_blocks) - 1:
            blks.append(transition_block(num_channels, num_channels // 2))
            num_channels = num_channels // 2
    return nn.Sequential(
        b1, *blks,
        nn.BatchNorm2d(num_channels), nn.ReLU(),
        nn.AdaptiveAvgPool2d((1, 1)),
        nn.Flatten(),
        nn.Linear(num_channels, 10))


# ---------------------------------------------------------------- torchvision.models.resnet18

def _conv3x3(in_planes, out_planes, stride=1):
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=1, bias=False)


def _conv1x1(in_planes, out_planes, stride=1):
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = _conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = _conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x
        out = self.conv1(x)
        out = self.bn1(out)
        out = self.relu(out)
        out = self.conv2(out)
        out = self.bn2(out)
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        out = self.relu(out)
        return out


class TorchvisionResNet(nn.Module):
    """torchvision.models.ResNet with BasicBlock (resnet18: layers [2, 2, 2, 2])."""

    def __init__(self, layers=(2, 2, 2, 2), num_classes=1000, width=64):
        super().__init__()
        self.inplanes = width
        self.conv1 = nn.Conv2d(3, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(width, layers[0])
        self.layer2 = self._make_layer(width * 2, layers[1], stride=2)
        self.layer3 = self._make_layer(width * 4, layers[2], stride=2)
        self.layer4 = self._make_layer(width * 8, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(width * 8 * BasicBlock.expansion, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)

    def _make_layer(self, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes * BasicBlock.expansion:
            downsample = nn.Sequential(
                _conv1x1(self.inplanes, planes * BasicBlock.expansion, stride),
                nn.BatchNorm2d(planes * BasicBlock.expansion))
        layers = [BasicBlock(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * BasicBlock.expansion
        for _ in range(1, blocks):
            layers.append(BasicBlock(self.inplanes, planes))
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.conv1(x)
        x = self.bn1(x)
        x = self.relu(x)
        x = self.maxpool(x)
        x = self.layer1(x)
        x = self.layer2(x)
        x = self.layer3(x)
        x = self.layer4(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        x = self.fc(x)
        return x


def torchvision_resnet18(width=64, num_classes=1000):
    return TorchvisionResNet((2, 2, 2, 2), num_classes=num_classes, width=width)


# ---------------------------------------------------------------- ch. 8.6 RNNModel (concise RNNs)

class RNNModel(nn.Module):
    """The RNN model."""
    def __init__(self, rnn_layer, vocab_size, **kwargs):
        super(RNNModel, self).__init__(**kwargs)
        self.rnn = rnn_layer
        self.vocab_size = vocab_size
        self.num_hiddens = self.rnn.hidden_size
        # If the RNN is bidirectional (to be introduced later),
        # `num_directions` should be 2, else it should be 1.
        if not self.rnn.bidirectional:
            self.num_directions = 1
            self.linear = nn.Linear(self.num_hiddens, self.vocab_size)
        else:
            self.num_directions = 2
            self.linear = nn.Linear(self.num_hiddens * 2, self.vocab_size)

    def forward(self, inputs, state):
        X = F.one_hot(inputs.T.long(), self.vocab_size)
        X = X.to(torch.float32)
        Y, state = self.rnn(X, state)
        # The fully connected layer will first change the shape of `Y` to
        # (`num_steps` * `batch_size`, `num_hiddens`). Its output shape is
        # (`num_steps` * `batch_size`, `vocab_size`).
        output = self.linear(Y.reshape((-1, Y.shape[-1])))
        return output, state

    def begin_state(self, device=None, batch_size=1):
        if not isinstance(self.rnn, nn.LSTM):
            # `nn.GRU` takes a tensor as hidden state
            return torch.zeros((self.num_directions * self.rnn.num_layers,
                                batch_size, self.num_hiddens), device=device)
        else:
            # `nn.LSTM` takes a tuple of hidden states
            return (torch.zeros((self.num_directions * self.rnn.num_layers,
                                 batch_size, self.num_hiddens), device=device),
                    torch.zeros((self.num_directions * self.rnn.num_layers,
                                 batch_size, self.num_hiddens), device=device))


class RNNModelStep(RNNModel):
    """Export wrapper for nn.RNN / nn.GRU (docs/FORMAT.md's recurrent convention):
    (tokens, state) -> (logits, new state). Same parameters and keys as RNNModel."""

    def forward(self, tokens, state):
        output, state = RNNModel.forward(self, tokens, state)
        return output, state


class LSTMModelStep(RNNModel):
    """Export wrapper for nn.LSTM: (tokens, h, c) -> (logits, new h, new c)."""

    def forward(self, tokens, h, c):
        output, (h, c) = RNNModel.forward(self, tokens, (h, c))
        return output, h, c


def rnn_lm(kind, vocab_size=28, num_hiddens=32, num_layers=1, bidirectional=False):
    layer = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}[kind](
        vocab_size, num_hiddens, num_layers=num_layers, bidirectional=bidirectional)
    cls = LSTMModelStep if kind == "lstm" else RNNModelStep
    return cls(layer, vocab_size)
