#!/usr/bin/python3
"""Convert official PyTorch checkpoints into scalesfm weights (Debian's python3-torch).

The official models' parameter names are mapped onto our LibTorch modules' names; shapes are
checked against the tables below. The output is a torch.save()d dict {our_name: tensor} that
scalesfm's weight loader reads, plus the JSON sidecar every scalesfm weights file has.

Usage:
  /usr/bin/python3 scripts/convert_official_weights.py --model scalenet \
      --input ScaleNet_official.pth --output models/scalenet_paper.pt
  /usr/bin/python3 scripts/convert_official_weights.py --model scfeat \
      --input ckpts/keypoint-1k/000 --output models/scfeat_paper.pt
  /usr/bin/python3 scripts/convert_official_weights.py --model s2dnet \
      --input s2dnet_weights.pth --output models/s2dnet_paper.pt

Supported: scalenet (the `paper` config of scale/scalenet.h), scfeat (the `paper` config of
feature/scfeat_model.h; --input is the official checkpoint folder holding backbone.pth and
localheader.pth) and s2dnet (the `paper` config of matching/s2dnet_model.h; --input is the
official .pth with "state_dict" and "hypercolumn_layers"). DualRC-Net gets its table when its
module lands.
"""
import os
import argparse
import datetime
import hashlib
import json
import sys

import torch


def scalenet_name_map():
    """Official ScaleNet (VGG) parameter prefixes -> scalesfm ScaleNet (paper config) prefixes."""
    mapping = {}
    # VGG-16 to pool4: the official extractor groups layers into level_0..level_4; our backbone
    # is one Sequential (conv, relu, ..., maxpool) without batch norm.
    vgg = [("level_0.0", 0), ("level_1.0", 2), ("level_2.0", 5), ("level_2.2", 7),
           ("level_3.0", 10), ("level_3.2", 12), ("level_3.4", 14),
           ("level_4.0", 17), ("level_4.2", 19), ("level_4.4", 21)]
    for official, ours in vgg:
        mapping["extractor." + official] = "backbone.%d" % ours
    for k in range(4):
        for i in (0, 1):
            mapping["to_scale.ms_extractor.ms_%d.%d" % (k, i)] = "aspp.ms_%d.%d" % (k, i)
    for i in (0, 1, 3):
        mapping["to_scale.ms_extractor.mix_comb.%d" % i] = "aspp.mix_comb.%d" % i
    for official, ours in (("reduce_vol_dim", "reduce_ab"), ("reduce_vol_a_dim", "reduce_a"),
                           ("reduce_vol_b_dim", "reduce_b")):
        for i in (0, 1, 3, 4, 6, 7, 9, 10):
            mapping["to_scale.%s.%d" % (official, i)] = "%s.%d" % (ours, i)
    for i in (0, 1, 3, 4, 6, 7, 10, 11, 14, 15, 18):
        mapping["to_scale.to_distr.%d" % i] = "head.%d" % i
    return mapping


def scfeat_name_map():
    """Official SCFeat (backbone.pth = ResUNet_F2R, localheader.pth = DetNet, loaded here with
    the prefixes backbone. and localheader.) -> scalesfm Scfeat (paper config)."""
    mapping = {"backbone.firstconv": "firstconv", "backbone.firstbn": "firstbn"}
    # torchvision ResNet-50 layer1..layer3: the same block names on both sides.
    for layer, blocks in ((1, 3), (2, 4), (3, 6)):
        for b in range(blocks):
            for part in ("conv1", "bn1", "conv2", "bn2", "conv3", "bn3"):
                name = "layer%d.%d.%s" % (layer, b, part)
                mapping["backbone." + name] = name
        for i in (0, 1):
            name = "layer%d.0.downsample.%d" % (layer, i)
            mapping["backbone." + name] = name
    for up in ("upconv3", "upconv2", "side3", "side2"):  # UP-CONV: interpolate + CONV
        for part in ("conv", "gn"):
            mapping["backbone.%s.conv.%s" % (up, part)] = "%s.conv.%s" % (up, part)
    for conv in ("iconv3", "iconv2", "side1"):  # CONV
        for part in ("conv", "gn"):
            mapping["backbone.%s.%s" % (conv, part)] = "%s.%s" % (conv, part)
    mapping["backbone.fusion_conv"] = "fusion_conv"
    mapping["backbone.fusion_pn.conv1"] = "cross_norm.conv1"
    mapping["backbone.fusion_pn.conv2"] = "cross_norm.conv2"
    for name in ("conv1", "conv2", "conv3", "convimg", "relu"):
        mapping["localheader." + name] = "detector." + name
    return mapping


def s2dnet_name_map():
    """Official S2DNet (torchvision VGG-16 `features` as `encoder`, AdapLayers as
    `adaptation_layers`) -> scalesfm S2DNet (paper config): the same names, by construction."""
    mapping = {}
    for index in (0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28):  # the 13 VGG-16 convs
        mapping["encoder.%d" % index] = "encoder.%d" % index
    for level in range(3):
        for index in (0, 2, 3):  # 1x1 conv, 5x5 conv, BatchNorm
            name = "adaptation_layers.adap_layer_%d.%d" % (level, index)
            mapping[name] = name
    return mapping


# Whole-name entries for parameters that sit directly on a module (no prefix to map).
SCFEAT_PARAMETERS = {"backbone.fuse_weight_fusion_1": "cross_norm.fuse_weight_1",
                     "backbone.fuse_weight_fusion_2": "cross_norm.fuse_weight_2"}

MODELS = {
    "scalenet": {"map": scalenet_name_map, "architecture": "scalenet", "config": "paper",
                 "parameters": {}},
    "scfeat": {"map": scfeat_name_map, "architecture": "scfeat", "config": "paper",
               "parameters": SCFEAT_PARAMETERS},
    "s2dnet": {"map": s2dnet_name_map, "architecture": "s2dnet", "config": "paper",
               "parameters": {}},
}

# The extraction points our paper config taps; a checkpoint trained with others does not fit.
S2DNET_HYPERCOLUMN_LAYERS = ["conv1_2", "conv3_3", "conv5_3"]


def check_s2dnet_layers(path):
    checkpoint = torch.load(path, map_location="cpu")
    layers = checkpoint.get("hypercolumn_layers") if isinstance(checkpoint, dict) else None
    if layers is not None and list(layers) != S2DNET_HYPERCOLUMN_LAYERS:
        sys.exit("error: %s was trained with hypercolumn layers %s; scalesfm's S2DNet taps %s"
                 % (path, list(layers), S2DNET_HYPERCOLUMN_LAYERS))


def load_state_dict(path):
    try:
        checkpoint = torch.load(path, map_location="cpu")
    except Exception as e:  # noqa: BLE001 - any unpickling failure is a bad input file
        sys.exit("error: %s is not a readable PyTorch checkpoint (%s)" % (path, e))
    if isinstance(checkpoint, dict):
        for key in ("state_dict", "model_state_dict", "model"):
            if key in checkpoint and isinstance(checkpoint[key], dict):
                checkpoint = checkpoint[key]
                break
    if not isinstance(checkpoint, dict):
        sys.exit("error: %s does not hold a state dict" % path)
    return {k[len("module."):] if k.startswith("module.") else k: v
            for k, v in checkpoint.items() if torch.is_tensor(v)}


def load_scfeat_folder(path):
    """The official SCFeat checkpoint folder: backbone.pth and localheader.pth."""
    if not os.path.isdir(path):
        sys.exit("error: %s is not a folder with backbone.pth and localheader.pth" % path)
    state = {}
    for part in ("backbone", "localheader"):
        file = os.path.join(path, part + ".pth")
        if not os.path.isfile(file):
            sys.exit("error: %s lacks %s.pth" % (path, part))
        state.update({part + "." + k: v for k, v in load_state_dict(file).items()})
    return state


def convert(state, prefix_map, parameters=None):
    parameters = parameters or {}
    out, unmapped = {}, []
    for name, tensor in state.items():
        prefix, _, leaf = name.rpartition(".")
        if name in parameters:
            out[parameters[name]] = tensor.detach().clone()
        elif prefix in prefix_map:
            out[prefix_map[prefix] + "." + leaf] = tensor.detach().clone()
        else:
            unmapped.append(name)
    missing = sorted((set(prefix_map) - {n.rpartition(".")[0] for n in state}) |
                     (set(parameters) - set(state)))
    return out, unmapped, missing


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, choices=sorted(MODELS))
    parser.add_argument("--input", required=True,
                        help="official checkpoint (.pth; for scfeat the checkpoint folder)")
    parser.add_argument("--output", required=True, help="scalesfm weights file to write")
    args = parser.parse_args(argv)

    spec = MODELS[args.model]
    state = load_scfeat_folder(args.input) if args.model == "scfeat" else load_state_dict(args.input)
    if args.model == "s2dnet":
        check_s2dnet_layers(args.input)
    converted, unmapped, missing = convert(state, spec["map"](), spec["parameters"])
    if missing:
        sys.exit("error: %s lacks official tensors for: %s" % (args.input, ", ".join(missing)))
    torch.save(converted, args.output)
    sidecar = {
        "architecture": spec["architecture"],
        "config": spec["config"],
        "source": args.input,
        "command": " ".join(["scripts/convert_official_weights.py"] + (argv or sys.argv[1:])),
        "date": datetime.date.today().isoformat(),
        "converted_tensors": len(converted),
        "ignored_official_tensors": unmapped,
        # Checked by every load: a changed or damaged file is an error, not wrong outputs.
        "sha256": hashlib.sha256(open(args.output, "rb").read()).hexdigest(),
    }
    with open(args.output + ".json", "w") as f:
        json.dump(sidecar, f, indent=2)
    print("wrote %s (%d tensors) and its .json sidecar; %d official tensors ignored"
          % (args.output, len(converted), len(unmapped)))


if __name__ == "__main__":
    main()
