"""The book's text pipeline (chapter 8.2-8.3): The Time Machine, tokens, the vocabulary,
sequential minibatches. The partition itself needs no PyTorch (make-text-fixtures runs
without it); `seq_data_iter_sequential` returns tensors as the book's does."""
import collections
import os
import random
import re

#: The repository's copy of the book's text (public domain).
TIME_MACHINE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                            "data", "timemachine.txt")
#: SHA-1 of the file the book downloads (d2l.DATA_HUB["time_machine"]).
TIME_MACHINE_SHA1 = "090b5e7e70c295757f55df93cb0a180b9691891a"


def time_machine_path():
    """$D2L_DATA_DIR/timemachine.txt when it exists, else the repository's data/timemachine.txt."""
    folder = os.environ.get("D2L_DATA_DIR")
    if folder and os.path.isfile(os.path.join(folder, "timemachine.txt")):
        return os.path.join(folder, "timemachine.txt")
    return TIME_MACHINE


def read_time_machine(path=None):  # @save (the file given instead of downloaded)
    """Load the time machine dataset into a list of text lines."""
    with open(path or time_machine_path(), "r") as f:
        lines = f.readlines()
    return [re.sub("[^A-Za-z]+", " ", line).strip().lower() for line in lines]


def tokenize(lines, token="word"):  # @save
    """Split text lines into word or character tokens."""
    if token == "word":
        return [line.split() for line in lines]
    elif token == "char":
        return [list(line) for line in lines]
    else:
        raise ValueError("ERROR: unknown token type: " + token)


def count_corpus(tokens):  # @save
    """Count token frequencies."""
    # Here `tokens` is a 1D list or 2D list
    if len(tokens) == 0 or isinstance(tokens[0], list):
        # Flatten a list of token lists into a list of tokens
        tokens = [token for line in tokens for token in line]
    return collections.Counter(tokens)


class Vocab:  # @save
    """Vocabulary for text."""
    def __init__(self, tokens=None, min_freq=0, reserved_tokens=None):
        if tokens is None:
            tokens = []
        if reserved_tokens is None:
            reserved_tokens = []
        # Sort according to frequencies
        counter = count_corpus(tokens)
        self._token_freqs = sorted(counter.items(), key=lambda x: x[1], reverse=True)
        # The index for the unknown token is 0
        self.idx_to_token = ["<unk>"] + reserved_tokens
        self.token_to_idx = {token: idx for idx, token in enumerate(self.idx_to_token)}
        for token, freq in self._token_freqs:
            if freq < min_freq:
                break
            if token not in self.token_to_idx:
                self.idx_to_token.append(token)
                self.token_to_idx[token] = len(self.idx_to_token) - 1

    @classmethod
    def from_tokens(cls, idx_to_token):
        """A vocabulary with exactly these tokens in index order (index 0 is <unk>), as a
        model's d2l.vocab gives them. Not the book's; what predict_ch8 needs of one."""
        vocab = cls()
        vocab.idx_to_token = list(idx_to_token)
        vocab.token_to_idx = {t: i for i, t in enumerate(vocab.idx_to_token)}
        return vocab

    def __len__(self):
        return len(self.idx_to_token)

    def __getitem__(self, tokens):
        if not isinstance(tokens, (list, tuple)):
            return self.token_to_idx.get(tokens, self.unk)
        return [self.__getitem__(token) for token in tokens]

    def to_tokens(self, indices):
        if not isinstance(indices, (list, tuple)):
            return self.idx_to_token[indices]
        return [self.idx_to_token[index] for index in indices]

    @property
    def unk(self):  # Index for the unknown token
        return 0

    @property
    def token_freqs(self):
        return self._token_freqs


def load_corpus_time_machine(path=None, max_tokens=-1, token="char"):  # @save
    """Return token indices and the vocabulary of the time machine dataset."""
    lines = read_time_machine(path)
    tokens = tokenize(lines, token)
    vocab = Vocab(tokens)
    # Since each text line in the time machine dataset is not necessarily a
    # sentence or a paragraph, flatten all the text lines into a single list
    corpus = [vocab[token] for line in tokens for token in line]
    if max_tokens > 0:
        corpus = corpus[:max_tokens]
    return corpus, vocab


def seq_data_partition(corpus, batch_size, num_steps, offset):
    """The book's sequential partitioning as lists, from a given offset (the book draws
    it: random.randint(0, num_steps), num_steps included): (X, Y) pairs of batch_size rows
    of num_steps tokens, Y shifted by one."""
    num_tokens = ((len(corpus) - offset - 1) // batch_size) * batch_size
    xs = corpus[offset: offset + num_tokens]
    ys = corpus[offset + 1: offset + 1 + num_tokens]
    width = num_tokens // batch_size   # Xs.reshape(batch_size, -1)
    xs = [xs[r * width:(r + 1) * width] for r in range(batch_size)]
    ys = [ys[r * width:(r + 1) * width] for r in range(batch_size)]
    num_batches = width // num_steps
    for i in range(0, num_steps * num_batches, num_steps):
        yield [row[i: i + num_steps] for row in xs], [row[i: i + num_steps] for row in ys]


def seq_data_iter_sequential(corpus, batch_size, num_steps, offset=None, rng=random):  # @save
    """Generate a minibatch of subsequences using sequential partitioning (tensors).
    `offset` None draws it as the book does, rng.randint(0, num_steps), from `rng`
    (Python's global `random` by default)."""
    import torch
    if offset is None:
        # Start with a random offset to partition a sequence
        offset = rng.randint(0, num_steps)
    for X, Y in seq_data_partition(corpus, batch_size, num_steps, offset):
        yield torch.tensor(X), torch.tensor(Y)


class SeqDataLoader:  # @save
    """An iterator to load sequence data (sequential partitioning)."""
    def __init__(self, corpus, batch_size, num_steps):
        self.data_iter_fn = seq_data_iter_sequential
        self.corpus = corpus
        self.batch_size, self.num_steps = batch_size, num_steps

    def __iter__(self):
        return self.data_iter_fn(self.corpus, self.batch_size, self.num_steps)
