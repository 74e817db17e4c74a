#!/usr/bin/python3
"""Writes a synthetic checkpoint shaped like the official S2DNet release ({"hypercolumn_layers":
[...], "state_dict": {...}} with torchvision's VGG-16 `features` up to conv5_3 as `encoder` and
three adaptation layers), with random values, for tests of scripts/convert_official_weights.py.
The names and shapes are written out here from the official model's definition."""
import sys

import torch


def main(path, layers=("conv1_2", "conv3_3", "conv5_3")):
    state = {}
    cin = 3
    index = 0
    for block, (convs, width) in enumerate(((2, 64), (2, 128), (3, 256), (3, 512), (3, 512))):
        for _ in range(convs):
            state["encoder.%d.weight" % index] = torch.randn(width, cin, 3, 3) * 0.01
            state["encoder.%d.bias" % index] = torch.randn(width) * 0.01
            cin = width
            index += 2  # conv, ReLU
        index += 1  # max-pool
    for level, tapped in enumerate((64, 256, 512)):
        p = "adaptation_layers.adap_layer_%d" % level
        state[p + ".0.weight"] = torch.randn(64, tapped, 1, 1) * 0.01
        state[p + ".0.bias"] = torch.randn(64) * 0.01
        state[p + ".2.weight"] = torch.randn(128, 64, 5, 5) * 0.01
        state[p + ".2.bias"] = torch.randn(128) * 0.01
        state[p + ".3.weight"] = torch.rand(128) + 0.5
        state[p + ".3.bias"] = torch.randn(128) * 0.01
        state[p + ".3.running_mean"] = torch.randn(128) * 0.01
        state[p + ".3.running_var"] = torch.rand(128) + 0.5
        state[p + ".3.num_batches_tracked"] = torch.tensor(7)
    torch.save({"hypercolumn_layers": list(layers), "state_dict": state}, path)


if __name__ == "__main__":
    main(sys.argv[1], tuple(sys.argv[2:]) or ("conv1_2", "conv3_3", "conv5_3"))
