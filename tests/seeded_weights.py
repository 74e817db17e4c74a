"""Seeded, order-independent weights for official-format checkpoints (Debian's python3-torch).

Every tensor's values depend only on its name, its shape and the seed, so a checkpoint written
from our converter's name and shape tables (tests/make_official_checkpoint.py) and one written
from the official model's own state_dict (outside the repository, when the golden fixtures in
tests/data/golden/ were recorded) hold the same numbers exactly when, and only when, the names
and shapes agree. Convolution weights are He-scaled so that activations keep their magnitude
through deep networks; normalisation layers get positive scales and variances. Biases and running means are small, so
that the outputs depend on the input more than on constant offsets.
"""
import math
import zlib

import torch


def seeded_tensor(name, shape, seed):
    shape = tuple(int(s) for s in shape)
    leaf = name.rpartition(".")[2]
    if leaf == "num_batches_tracked":
        return torch.tensor(7, dtype=torch.long)
    g = torch.Generator().manual_seed((zlib.crc32(name.encode()) ^ int(seed)) & 0x7FFFFFFF)
    if leaf == "running_var":
        return torch.rand(shape, generator=g) * 0.5 + 0.75
    if leaf == "running_mean":
        return torch.randn(shape, generator=g) * 0.01
    if leaf == "bias":
        return torch.randn(shape, generator=g) * 0.01
    if len(shape) <= 1:  # BatchNorm/GroupNorm scales, PReLU slopes, SCFeat's fuse weights
        return torch.rand(shape, generator=g) * 0.5 + 0.75
    fan_in = 1
    for s in shape[1:]:
        fan_in *= s
    return torch.randn(shape, generator=g) * math.sqrt(2.0 / fan_in)


def seeded_state_dict(shapes, seed):
    """{name: shape} -> {name: tensor}, in the given order."""
    return {name: seeded_tensor(name, shape, seed) for name, shape in shapes.items()}
