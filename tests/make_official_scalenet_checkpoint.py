#!/usr/bin/python3
"""Writes a synthetic checkpoint with the official ScaleNet's parameter names and shapes
(VGG-16 to pool4, ASPP with 4 levels, three reduction blocks, the 1x1-conv head), random values,
for tests/convert_weights_test.cc. No official code or weights are involved."""
import sys

import torch


def conv(sd, name, cout, cin, k):
    sd[name + ".weight"] = torch.randn(cout, cin, k, k) * 0.01
    sd[name + ".bias"] = torch.randn(cout) * 0.01


def bn(sd, name, c):
    sd[name + ".weight"] = torch.rand(c) + 0.5
    sd[name + ".bias"] = torch.randn(c) * 0.01
    sd[name + ".running_mean"] = torch.randn(c) * 0.01
    sd[name + ".running_var"] = torch.rand(c) + 0.5
    sd[name + ".num_batches_tracked"] = torch.tensor(7)


def main(path):
    torch.manual_seed(0)
    sd = {}
    vgg = [("level_0.0", 64, 3), ("level_1.0", 64, 64), ("level_2.0", 128, 64),
           ("level_2.2", 128, 128), ("level_3.0", 256, 128), ("level_3.2", 256, 256),
           ("level_3.4", 256, 256), ("level_4.0", 512, 256), ("level_4.2", 512, 512),
           ("level_4.4", 512, 512)]
    for name, cout, cin in vgg:
        conv(sd, "module.extractor." + name, cout, cin, 3)
    p = "module.to_scale.ms_extractor."
    for k in range(4):
        conv(sd, p + "ms_%d.0" % k, 512, 512, 1 if k == 0 else 3)
        bn(sd, p + "ms_%d.1" % k, 512)
    conv(sd, p + "mix_comb.0", 1024, 2048, 1)
    bn(sd, p + "mix_comb.1", 1024)
    conv(sd, p + "mix_comb.3", 512, 1024, 1)
    for block in ("reduce_vol_dim", "reduce_vol_a_dim", "reduce_vol_b_dim"):
        cin = 225
        for i, cout in zip((0, 3, 6, 9), (256, 128, 64, 32)):
            conv(sd, "module.to_scale.%s.%d" % (block, i), cout, cin, 3)
            bn(sd, "module.to_scale.%s.%d" % (block, i + 1), cout)
            cin = cout
    cin = 1568 * 3
    for i, cout in zip((0, 3, 6, 10, 14), (2056, 1024, 512, 256, 128)):
        conv(sd, "module.to_scale.to_distr.%d" % i, cout, cin, 1)
        bn(sd, "module.to_scale.to_distr.%d" % (i + 1), cout)
        cin = cout
    conv(sd, "module.to_scale.to_distr.18", 13, 128, 1)
    torch.save({"state_dict": sd, "epoch": 40}, path)


if __name__ == "__main__":
    main(sys.argv[1])
