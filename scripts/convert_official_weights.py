#!/usr/bin/python3
"""Convert official PyTorch checkpoints into scalesfm weights (Debian's python3-torch).

Every official tensor is checked by name and shape against the official model's layout (the
tables below, written from the official model definitions and checked against them by the golden
fixtures in tests/data/golden/); a missing or mis-shaped tensor is an error that names it. The
official names are then mapped onto our LibTorch modules' names. The output is a torch.save()d
dict {our_name: tensor} that scalesfm's weight loader reads, plus the JSON sidecar every
scalesfm weights file has.

Usage:
  # ScaleNet as released: run_scalenet.py's checkpoint (its "state_dict" is model.to_scale's)
  # plus torchvision's ImageNet VGG-16, from which the official model takes its backbone.
  /usr/bin/python3 scripts/convert_official_weights.py --model scalenet \\
      --input ScaleNet/weights/vgg_scalenet_weights.pth --vgg16 vgg16-397923af.pth \\
      --output models/scalenet_paper.pt
  # ScaleNet as train_ScaleNet.py saves it (model.state_dict(): extractor.*, to_scale.*; also
  # with DataParallel's module. prefix): no --vgg16.
  /usr/bin/python3 scripts/convert_official_weights.py --model scalenet \\
      --input checkpoint.pth --output models/scalenet_paper.pt
  /usr/bin/python3 scripts/convert_official_weights.py --model scfeat \\
      --input ckpts/keypoint-1k/001 --output models/scfeat_paper.pt
  /usr/bin/python3 scripts/convert_official_weights.py --model s2dnet \\
      --input s2dnet_weights.pth --output models/s2dnet_paper.pt
  # DualRC-Net as train.py saves it (the released dualrc-net.pth.tar): {"state_dict": ...,
  # "args": argparse.Namespace}; keys with DataParallel's module. prefix are accepted too.
  /usr/bin/python3 scripts/convert_official_weights.py --model dualrc \\
      --input dualrc-net.pth.tar --output models/dualrc_paper.pt

Supported: scalenet (the `paper` config of scale/scalenet.h), scfeat (the `paper` config of
feature/scfeat_model.h; --input is the official checkpoint folder holding backbone.pth and
localheader.pth) and s2dnet (the `paper` config of matching/s2dnet_model.h; --input is the
official .pth with "state_dict" and "hypercolumn_layers") and dualrc (the `paper` config of
matching/dualrc_model.h; --input is train.py's checkpoint, whose "args" must name the backbone
resnet101fpn_3_1024_4 and the NC kernel sizes [3, 3] and channels [16, 1]).
"""
import argparse
import datetime
import hashlib
import json
import os
import sys

import torch

# torchvision VGG-16 `features`: (index, out, in) of the 13 convs.
VGG16_CONVS = [(0, 64, 3), (2, 64, 64), (5, 128, 64), (7, 128, 128), (10, 256, 128),
               (12, 256, 256), (14, 256, 256), (17, 512, 256), (19, 512, 512), (21, 512, 512),
               (24, 512, 512), (26, 512, 512), (28, 512, 512)]


# DualRC-Net's `paper` config: train.py's defaults (the released model's args).
DUALRC_BACKBONE = "resnet101fpn_3_1024_4"
DUALRC_NC_KERNEL_SIZES = [3, 3]
DUALRC_NC_CHANNELS = [16, 1]


def conv(table, name, cout, cin, k, bias=True):
    table[name + ".weight"] = (cout, cin, k, k)
    if bias:
        table[name + ".bias"] = (cout,)


def batch_norm(table, name, c):
    for leaf in ("weight", "bias", "running_mean", "running_var"):
        table[name + "." + leaf] = (c,)
    table[name + ".num_batches_tracked"] = ()


def group_norm(table, name, c):
    table[name + ".weight"] = (c,)
    table[name + ".bias"] = (c,)


def resnet_layer(table, prefix, blocks, cin, width):
    """torchvision's ResNet Bottleneck layer (`prefix`.0 .. `prefix`.blocks-1, a downsample in
    the first block); returns its output channels."""
    cout = 4 * width
    for i in range(blocks):
        p = "%s.%d" % (prefix, i)
        conv(table, p + ".conv1", width, cin if i == 0 else cout, 1, bias=False)
        batch_norm(table, p + ".bn1", width)
        conv(table, p + ".conv2", width, width, 3, bias=False)
        batch_norm(table, p + ".bn2", width)
        conv(table, p + ".conv3", cout, width, 1, bias=False)
        batch_norm(table, p + ".bn3", cout)
        if i == 0:
            conv(table, p + ".downsample.0", cout, cin, 1, bias=False)
            batch_norm(table, p + ".downsample.1", cout)
    return cout


# ---------------------------------------------------------------------------------------------
# Official layouts: {official name: shape}.

def scalenet_to_scale_shapes():
    """ScaleNet/modules.py features_to_distribution (VGG, 13 levels, corr a and b, ASPP 4)."""
    t = {}
    for k in range(4):  # ASPP_module: ms_0 1x1, ms_k 3x3 dilated k; each conv, BN, LeakyReLU
        conv(t, "ms_extractor.ms_%d.0" % k, 512, 512, 1 if k == 0 else 3)
        batch_norm(t, "ms_extractor.ms_%d.1" % k, 512)
    conv(t, "ms_extractor.mix_comb.0", 1024, 2048, 1)
    batch_norm(t, "ms_extractor.mix_comb.1", 1024)
    conv(t, "ms_extractor.mix_comb.3", 512, 1024, 1)
    for block in ("reduce_vol_dim", "reduce_vol_a_dim", "reduce_vol_b_dim"):
        cin = 15 * 15
        for i, cout in zip((0, 3, 6, 9), (256, 128, 64, 32)):
            conv(t, "%s.%d" % (block, i), cout, cin, 3)
            batch_norm(t, "%s.%d" % (block, i + 1), cout)
            cin = cout
    cin = 1568 * 3
    for i, cout in zip((0, 3, 6, 10, 14), (2056, 1024, 512, 256, 128)):
        conv(t, "to_distr.%d" % i, cout, cin, 1)
        batch_norm(t, "to_distr.%d" % (i + 1), cout)
        cin = cout
    conv(t, "to_distr.18", 13, 128, 1)
    return t


# VGGPyramid groups torchvision's features into level_0..level_4 (to pool4):
# (level name, torchvision index).
SCALENET_VGG_LEVELS = [("level_0.0", 0), ("level_1.0", 2), ("level_2.0", 5), ("level_2.2", 7),
                       ("level_3.0", 10), ("level_3.2", 12), ("level_3.4", 14),
                       ("level_4.0", 17), ("level_4.2", 19), ("level_4.4", 21)]


def vgg16_feature_shapes(last_index):
    t = {}
    for index, cout, cin in VGG16_CONVS:
        if index <= last_index:
            conv(t, "features.%d" % index, cout, cin, 3)
    return t


def scalenet_shapes():
    """The whole official model as train_ScaleNet.py saves it: extractor.* and to_scale.*."""
    t = {}
    vgg = vgg16_feature_shapes(21)
    for level, index in SCALENET_VGG_LEVELS:
        for leaf in ("weight", "bias"):
            t["extractor.%s.%s" % (level, leaf)] = vgg["features.%d.%s" % (index, leaf)]
    t.update({"to_scale." + k: v for k, v in scalenet_to_scale_shapes().items()})
    return t


def s2dnet_shapes():
    """S2DNet-Minimal: VGG-16 features[:-2] as `encoder`, AdapLayers for conv1_2/3_3/5_3."""
    t = {}
    for index, cout, cin in VGG16_CONVS:
        conv(t, "encoder.%d" % index, cout, cin, 3)
    for level, tapped in enumerate((64, 256, 512)):
        p = "adaptation_layers.adap_layer_%d" % level
        conv(t, p + ".0", 64, tapped, 1)
        conv(t, p + ".2", 128, 64, 5)
        batch_norm(t, p + ".3", 128)
    return t


def scfeat_shapes():
    """backbone.pth = ResUNet_F2R (ResNet-50, fusion_out_ch 128), localheader.pth = DetNet
    (in_channels 192), with the prefixes backbone. and localheader."""
    t = {}
    b = {}
    conv(b, "firstconv", 64, 3, 7, bias=False)
    batch_norm(b, "firstbn", 64)
    cin = 64
    for layer, (blocks, width) in enumerate(((3, 64), (4, 128), (6, 256)), start=1):
        cin = resnet_layer(b, "layer%d" % layer, blocks, cin, width)
    for name, cout, cin_, k in (("upconv3.conv", 512, 1024, 3), ("iconv3", 512, 1024, 3),
                                ("upconv2.conv", 256, 512, 3), ("iconv2", 256, 512, 3),
                                ("side3.conv", 128, 1024, 3), ("side2.conv", 128, 512, 3),
                                ("side1", 128, 256, 1)):
        conv(b, name + ".conv", cout, cin_, k)
        group_norm(b, name + ".gn", cout)
    conv(b, "fusion_conv", 128, 384, 1)
    conv(b, "fusion_pn.conv1", 1, 1, 7)
    conv(b, "fusion_pn.conv2", 1, 1, 7)
    b["fuse_weight_fusion_1"] = (1,)
    b["fuse_weight_fusion_2"] = (1,)
    h = {}
    conv(h, "conv1", 192, 192, 3)
    conv(h, "conv2", 128, 192 + 64, 3)
    conv(h, "conv3", 1, 128, 1)
    conv(h, "convimg", 64, 3, 3)
    h["relu.weight"] = (1,)
    t.update({"backbone." + k: v for k, v in b.items()})
    t.update({"localheader." + k: v for k, v in h.items()})
    return t


def dualrc_shapes():
    """DualRC-Net lib/model_v2.py ImMatchNet (backbone resnet101fpn_3_1024_4, NC kernel sizes
    [3, 3], channels [16, 1]). FeatureExtraction.extractor_list holds torchvision's ResNet-101 in
    three Sequentials: [conv1, bn1, relu, maxpool, layer1], [layer2], [layer3];
    inner_block_list.0 projects layer2 and .1 layer1 to 1024 channels; last_layer_block is the
    fine map's 3x3 conv. The Conv4d weights are stored pre-permuted: [k, out, in, k, k, k]."""
    t = {}
    fe = "FeatureExtraction."
    conv(t, fe + "extractor_list.0.0", 64, 3, 7, bias=False)
    batch_norm(t, fe + "extractor_list.0.1", 64)
    cin = 64
    for prefix, blocks, width in (("extractor_list.0.4", 3, 64), ("extractor_list.1.0", 4, 128),
                                  ("extractor_list.2.0", 23, 256)):
        cin = resnet_layer(t, fe + prefix, blocks, cin, width)
    conv(t, fe + "inner_block_list.0", 1024, 512, 1)
    conv(t, fe + "inner_block_list.1", 1024, 256, 1)
    conv(t, fe + "last_layer_block", 1024, 1024, 3)
    cin = 1
    for i, (k, cout) in enumerate(zip(DUALRC_NC_KERNEL_SIZES, DUALRC_NC_CHANNELS)):
        t["NeighConsensus.conv.%d.weight" % (2 * i)] = (k, cout, cin, k, k, k)
        t["NeighConsensus.conv.%d.bias" % (2 * i)] = (cout,)
        cin = cout
    return t


# ---------------------------------------------------------------------------------------------
# Official prefix -> our prefix (the leaf, weight/bias/running_*, is kept).

def scalenet_name_map():
    """Official ScaleNet (VGG) parameter prefixes -> scalesfm ScaleNet (paper config) prefixes."""
    mapping = {}
    # Our backbone is one Sequential (conv, relu, ..., maxpool) without batch norm, numbered as
    # torchvision's VGG-16 features.
    for official, ours in SCALENET_VGG_LEVELS:
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
    """Official SCFeat (backbone. / localheader.) -> scalesfm Scfeat (paper config)."""
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
    for c in ("iconv3", "iconv2", "side1"):  # CONV
        for part in ("conv", "gn"):
            mapping["backbone.%s.%s" % (c, part)] = "%s.%s" % (c, part)
    mapping["backbone.fusion_conv"] = "fusion_conv"
    mapping["backbone.fusion_pn.conv1"] = "cross_norm.conv1"
    mapping["backbone.fusion_pn.conv2"] = "cross_norm.conv2"
    for name in ("conv1", "conv2", "conv3", "convimg", "relu"):
        mapping["localheader." + name] = "detector." + name
    return mapping


def s2dnet_name_map():
    """Official S2DNet -> scalesfm S2DNet (paper config): the same names, by construction."""
    return {name.rpartition(".")[0]: name.rpartition(".")[0] for name in s2dnet_shapes()}


def dualrc_name_map():
    """Official DualRC-Net (without DataParallel's module.) -> scalesfm DualRcNet (paper
    config): the same names, by construction (matching/dualrc_model.h)."""
    return {name.rpartition(".")[0]: name.rpartition(".")[0] for name in dualrc_shapes()}


# Whole-name entries for parameters that sit directly on a module (no prefix to map).
SCFEAT_PARAMETERS = {"backbone.fuse_weight_fusion_1": "cross_norm.fuse_weight_1",
                     "backbone.fuse_weight_fusion_2": "cross_norm.fuse_weight_2"}

MODELS = {
    "scalenet": {"shapes": scalenet_shapes, "map": scalenet_name_map, "parameters": {}},
    "scfeat": {"shapes": scfeat_shapes, "map": scfeat_name_map, "parameters": SCFEAT_PARAMETERS},
    "s2dnet": {"shapes": s2dnet_shapes, "map": s2dnet_name_map, "parameters": {}},
    "dualrc": {"shapes": dualrc_shapes, "map": dualrc_name_map, "parameters": {}},
}

# The extraction points our paper config taps; a checkpoint trained with others does not fit.
S2DNET_HYPERCOLUMN_LAYERS = ["conv1_2", "conv3_3", "conv5_3"]


# ---------------------------------------------------------------------------------------------
# Reading the official files.

def read_checkpoint(path):
    if not os.path.isfile(path):
        sys.exit("error: %s does not exist" % path)
    try:
        return torch.load(path, map_location="cpu")
    except Exception as e:  # noqa: BLE001 - any unpickling failure is a bad input file
        sys.exit("error: %s is not a readable PyTorch checkpoint (%s)" % (path, e))


def state_dict_of(checkpoint, path):
    if isinstance(checkpoint, dict):
        for key in ("state_dict", "model_state_dict", "model"):
            if key in checkpoint and isinstance(checkpoint[key], dict):
                checkpoint = checkpoint[key]
                break
    if not isinstance(checkpoint, dict):
        sys.exit("error: %s does not hold a state dict" % path)
    return {k[len("module."):] if k.startswith("module.") else k: v
            for k, v in checkpoint.items() if torch.is_tensor(v)}


def load_scalenet(path, vgg16_path):
    """train_ScaleNet.py's whole model (model.state_dict(): extractor.* + to_scale.*), or the
    released
    run_scalenet.py checkpoint (to_scale's keys without a prefix) plus torchvision's VGG-16."""
    state = state_dict_of(read_checkpoint(path), path)
    if any(k.startswith("extractor.") or k.startswith("to_scale.") for k in state):
        if vgg16_path:
            sys.exit("error: %s holds the whole model (extractor included); --vgg16 is for the "
                     "released checkpoint, which holds model.to_scale only" % path)
        return state
    if not vgg16_path:
        sys.exit("error: %s holds model.to_scale only (the released run_scalenet.py format); "
                 "pass torchvision's ImageNet VGG-16 state dict with --vgg16 (the official model "
                 "takes its backbone from there)" % path)
    out = {"to_scale." + k: v for k, v in state.items()}
    vgg = state_dict_of(read_checkpoint(vgg16_path), vgg16_path)
    for level, index in SCALENET_VGG_LEVELS:
        for leaf in ("weight", "bias"):
            name = "features.%d.%s" % (index, leaf)
            if name in vgg:
                out["extractor.%s.%s" % (level, leaf)] = vgg[name]
    return out


def load_scfeat_folder(path):
    """The official SCFeat checkpoint folder: backbone.pth and localheader.pth."""
    if not os.path.isdir(path):
        sys.exit("error: %s is not a folder with backbone.pth and localheader.pth" % path)
    state = {}
    for part in ("backbone", "localheader"):
        file = os.path.join(path, part + ".pth")
        if not os.path.isfile(file):
            sys.exit("error: %s lacks %s.pth" % (path, part))
        state.update({part + "." + k: v
                      for k, v in state_dict_of(read_checkpoint(file), file).items()})
    return state


def load_s2dnet(path):
    checkpoint = read_checkpoint(path)
    layers = checkpoint.get("hypercolumn_layers") if isinstance(checkpoint, dict) else None
    if layers is not None and list(layers) != S2DNET_HYPERCOLUMN_LAYERS:
        sys.exit("error: %s was trained with hypercolumn layers %s; scalesfm's S2DNet taps %s"
                 % (path, list(layers), S2DNET_HYPERCOLUMN_LAYERS))
    return state_dict_of(checkpoint, path)


def load_dualrc(path):
    """train.py's checkpoint: {"state_dict": model.state_dict() (module.-prefixed when trained
    with DataParallel, train.py's default), "args": argparse.Namespace, ...}. The official
    ImMatchNet builds its backbone and NC layers from args; any other than the paper config's is
    refused, naming the value. Without args the tensors alone decide (their shapes pin both)."""
    checkpoint = read_checkpoint(path)
    args = checkpoint.get("args") if isinstance(checkpoint, dict) else None
    if args is not None:
        def arg(name):
            return args.get(name) if isinstance(args, dict) else getattr(args, name, None)
        problems = []
        backbone = arg("backbone")
        if backbone is not None and backbone != DUALRC_BACKBONE:
            problems.append("backbone '%s' (the paper config's is '%s')"
                            % (backbone, DUALRC_BACKBONE))
        for name, expected in (("ncons_kernel_sizes", DUALRC_NC_KERNEL_SIZES),
                               ("ncons_channels", DUALRC_NC_CHANNELS)):
            value = arg(name)
            if value is not None and [int(v) for v in value] != expected:
                problems.append("%s %s (the paper config's are %s)"
                                % (name, list(value), expected))
        if problems:
            sys.exit("error: %s was trained with %s; scalesfm's DualRC-Net paper config cannot "
                     "hold it" % (path, "; ".join(problems)))
    return state_dict_of(checkpoint, path)


# ---------------------------------------------------------------------------------------------

def check_shapes(state, shapes, source):
    """Every official tensor present with its official shape, and no tensor outside the layout
    (a checkpoint of another variant of the model)."""
    problems = ["%s %s is not in the official layout" % (name, list(state[name].shape))
                for name in sorted(set(state) - set(shapes))]
    for name, shape in shapes.items():
        if name not in state:
            problems.append("%s is missing (expected shape %s)" % (name, list(shape)))
        elif tuple(state[name].shape) != tuple(shape):
            problems.append("%s has shape %s, expected %s"
                            % (name, list(state[name].shape), list(shape)))
    if problems:
        sys.exit("error: %s does not fit the official layout:\n  %s"
                 % (source, "\n  ".join(problems)))


def convert(state, prefix_map, parameters):
    out = {}
    for name, tensor in state.items():
        prefix, _, leaf = name.rpartition(".")
        if name in parameters:
            out[parameters[name]] = tensor.detach().clone()
        elif prefix in prefix_map:
            out[prefix_map[prefix] + "." + leaf] = tensor.detach().clone()
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, choices=sorted(MODELS))
    parser.add_argument("--input", required=True,
                        help="official checkpoint (.pth; for scfeat the checkpoint folder)")
    parser.add_argument("--vgg16", default="",
                        help="scalenet, released format: torchvision's VGG-16 state dict")
    parser.add_argument("--output", required=True, help="scalesfm weights file to write")
    args = parser.parse_args(argv)
    if args.vgg16 and args.model != "scalenet":
        sys.exit("error: --vgg16 is for --model scalenet")

    spec = MODELS[args.model]
    if args.model == "scalenet":
        state = load_scalenet(args.input, args.vgg16)
    elif args.model == "scfeat":
        state = load_scfeat_folder(args.input)
    elif args.model == "dualrc":
        state = load_dualrc(args.input)
    else:
        state = load_s2dnet(args.input)
    source = args.input + (" + " + args.vgg16 if args.vgg16 else "")
    check_shapes(state, spec["shapes"](), source)
    converted = convert(state, spec["map"](), spec["parameters"])
    if len(converted) != len(state):
        sys.exit("error: the name table maps %d of %d official tensors" % (len(converted),
                                                                          len(state)))
    tmp = args.output + ".tmp"
    try:
        torch.save(converted, tmp)
        with open(tmp, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
    except OSError as e:
        if os.path.exists(tmp):
            os.remove(tmp)
        sys.exit("error: cannot write %s (%s)" % (args.output, e))
    sidecar = {
        "architecture": args.model,
        "config": "paper",
        "source": source,
        "command": " ".join(["scripts/convert_official_weights.py"] + (argv or sys.argv[1:])),
        "date": datetime.date.today().isoformat(),
        "converted_tensors": len(converted),
        # Checked by every load: a changed or damaged file is an error, not wrong outputs.
        "sha256": digest,
    }
    with open(args.output + ".json.tmp", "w") as f:
        json.dump(sidecar, f, indent=2)
    os.replace(tmp, args.output)
    os.replace(args.output + ".json.tmp", args.output + ".json")
    print("wrote %s (%d tensors) and its .json sidecar" % (args.output, len(converted)))


if __name__ == "__main__":
    main()
