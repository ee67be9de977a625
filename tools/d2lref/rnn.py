"""The book's recurrent training and prediction (chapters 8.5-9): gradient clipping,
predict_ch8, train_epoch_ch8 and train_ch8 (printing instead of plotting). The model is
`fixture_models.RNNModel`, the book's `d2l.RNNModel`."""
import math
import time

import torch
from torch import nn

from .fixture_models import RNNModel  # noqa: F401  (the book's d2l.RNNModel, re-exported)


def grad_clipping(net, theta):  # @save
    """Clip the gradient. `net` is an nn.Module, the book's scratch model (`.params`), or
    a list of parameters."""
    if isinstance(net, nn.Module):
        params = [p for p in net.parameters() if p.requires_grad]
    elif hasattr(net, "params"):
        params = net.params
    else:
        params = list(net)
    norm = torch.sqrt(sum(torch.sum((p.grad ** 2)) for p in params))
    if norm > theta:
        for param in params:
            param.grad[:] *= theta / norm


def predict_ch8_ids(prefix, num_preds, net, vocab, device=None, pick=None):
    """predict_ch8's token ids: the prefix's, then `num_preds` picked ones. `pick(logits)`
    chooses a token from the last step's logits row (default: the book's argmax)."""
    state = net.begin_state(batch_size=1, device=device)
    outputs = [vocab[prefix[0]]]
    get_input = lambda: torch.tensor([outputs[-1]], device=device).reshape((1, 1))  # noqa: E731
    for y in prefix[1:]:  # Warm-up period
        _, state = net(get_input(), state)
        outputs.append(vocab[y])
    for _ in range(num_preds):  # Predict `num_preds` steps
        y, state = net(get_input(), state)
        outputs.append(int(y.argmax(dim=1).reshape(1)) if pick is None else pick(y[-1]))
    return outputs


def predict_ch8(prefix, num_preds, net, vocab, device=None):  # @save
    """Generate new characters following the `prefix`."""
    return "".join([vocab.idx_to_token[i] for i in predict_ch8_ids(prefix, num_preds, net, vocab, device)])


def train_epoch_ch8(net, train_iter, loss, updater, device, use_random_iter):  # @save
    """Train a net within one epoch (defined in Chapter 8)."""
    state = None
    total_loss, total_tokens = 0.0, 0  # d2l.Accumulator(2)
    for X, Y in train_iter:
        if state is None or use_random_iter:
            # Initialize `state` when either it is the first iteration or
            # using random sampling
            state = net.begin_state(batch_size=X.shape[0], device=device)
        else:
            if isinstance(net, nn.Module) and not isinstance(state, tuple):
                # `state` is a tensor for `nn.GRU`
                state.detach_()
            else:
                # `state` is a tuple of tensors for `nn.LSTM` and
                # for our custom scratch implementation
                for s in state:
                    s.detach_()
        y = Y.T.reshape(-1)
        X, y = X.to(device), y.to(device)
        y_hat, state = net(X, state)
        l = loss(y_hat, y.long()).mean()  # noqa: E741
        updater.zero_grad()
        l.backward()
        grad_clipping(net, 1)
        updater.step()
        total_loss += float(l.detach()) * y.numel()
        total_tokens += y.numel()
    return math.exp(total_loss / total_tokens)


def train_ch8(net, train_iter, vocab, lr, num_epochs, device, use_random_iter=False, print_every=100):  # @save
    """Train a model (defined in Chapter 8); prints every `print_every` epochs instead of
    plotting."""
    loss = nn.CrossEntropyLoss()
    updater = torch.optim.SGD(net.parameters(), lr)
    predict = lambda prefix: predict_ch8(prefix, 50, net, vocab, device)  # noqa: E731
    start = time.time()
    for epoch in range(num_epochs):
        ppl = train_epoch_ch8(net, train_iter, loss, updater, device, use_random_iter)
        if (epoch + 1) % print_every == 0:
            print(f"  epoch {epoch + 1:4d}  perplexity {ppl:.3f}  {time.time() - start:5.0f} s  "
                  f"{predict('time traveller')!r}", flush=True)
    print(f"  perplexity {ppl:.3f}, {time.time() - start:.0f} s")
    return ppl
