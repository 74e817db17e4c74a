#!/usr/bin/python3
"""Writes a synthetic checkpoint folder shaped like the official SCFeat release (backbone.pth =
ResUNet_F2R with a ResNet-50 encoder and fusion_out_ch 128, localheader.pth = DetNet with
in_channels 192), with random values, for tests of scripts/convert_official_weights.py.
The names and shapes are written out here from the official model's definition."""
import os
import sys

import torch


def conv(state, name, cin, cout, k, bias=True):
    state[name + ".weight"] = torch.randn(cout, cin, k, k) * 0.01
    if bias:
        state[name + ".bias"] = torch.randn(cout) * 0.01


def bn(state, name, c):
    state[name + ".weight"] = torch.rand(c) + 0.5
    state[name + ".bias"] = torch.randn(c) * 0.01
    state[name + ".running_mean"] = torch.randn(c) * 0.01
    state[name + ".running_var"] = torch.rand(c) + 0.5
    state[name + ".num_batches_tracked"] = torch.tensor(3)


def gn(state, name, c):
    state[name + ".weight"] = torch.rand(c) + 0.5
    state[name + ".bias"] = torch.randn(c) * 0.01


def main(folder):
    os.makedirs(folder, exist_ok=True)
    b = {}
    conv(b, "firstconv", 3, 64, 7, bias=False)
    bn(b, "firstbn", 64)
    cin = 64
    for layer, (blocks, width) in enumerate(((3, 64), (4, 128), (6, 256)), start=1):
        cout = 4 * width
        for i in range(blocks):
            p = "layer%d.%d" % (layer, i)
            conv(b, p + ".conv1", cin if i == 0 else cout, width, 1, bias=False)
            bn(b, p + ".bn1", width)
            conv(b, p + ".conv2", width, width, 3, bias=False)
            bn(b, p + ".bn2", width)
            conv(b, p + ".conv3", width, cout, 1, bias=False)
            bn(b, p + ".bn3", cout)
            if i == 0:
                conv(b, p + ".downsample.0", cin, cout, 1, bias=False)
                bn(b, p + ".downsample.1", cout)
        cin = cout
    conv(b, "upconv3.conv.conv", 1024, 512, 3)
    gn(b, "upconv3.conv.gn", 512)
    conv(b, "iconv3.conv", 512 + 512, 512, 3)
    gn(b, "iconv3.gn", 512)
    conv(b, "upconv2.conv.conv", 512, 256, 3)
    gn(b, "upconv2.conv.gn", 256)
    conv(b, "iconv2.conv", 256 + 256, 256, 3)
    gn(b, "iconv2.gn", 256)
    conv(b, "side3.conv.conv", 1024, 128, 3)
    gn(b, "side3.conv.gn", 128)
    conv(b, "side2.conv.conv", 512, 128, 3)
    gn(b, "side2.conv.gn", 128)
    conv(b, "side1.conv", 256, 128, 1)
    gn(b, "side1.gn", 128)
    conv(b, "fusion_conv", 384, 128, 1)
    conv(b, "fusion_pn.conv1", 1, 1, 7)
    conv(b, "fusion_pn.conv2", 1, 1, 7)
    b["fuse_weight_fusion_1"] = torch.tensor([0.7])
    b["fuse_weight_fusion_2"] = torch.tensor([0.25])
    h = {}
    conv(h, "conv1", 192, 192, 3)
    conv(h, "conv2", 192 + 64, 128, 3)
    conv(h, "conv3", 128, 1, 1)
    conv(h, "convimg", 3, 64, 3)
    h["relu.weight"] = torch.tensor([0.2])
    torch.save(b, os.path.join(folder, "backbone.pth"))
    torch.save(h, os.path.join(folder, "localheader.pth"))


if __name__ == "__main__":
    main(sys.argv[1])
