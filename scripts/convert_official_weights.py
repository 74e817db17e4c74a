#!/usr/bin/python3
"""Convert official PyTorch checkpoints into scalesfm weights (Debian's python3-torch).

The official models' parameter names are mapped onto our LibTorch modules' names; shapes are
checked against the tables below. The output is a torch.save()d dict {our_name: tensor} that
scalesfm's weight loader reads, plus the JSON sidecar every scalesfm weights file has.

Usage:
  /usr/bin/python3 scripts/convert_official_weights.py --model scalenet \
      --input ScaleNet_official.pth --output models/scalenet_paper.pt

Supported: scalenet (the `paper` config of scale/scalenet.h). SCFeat, S2DNet and DualRC-Net get
their tables when their modules land.
"""
import argparse
import datetime
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


MODELS = {
    "scalenet": {"map": scalenet_name_map, "architecture": "scalenet", "config": "paper"},
}


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


def convert(state, prefix_map):
    out, unmapped = {}, []
    for name, tensor in state.items():
        prefix, _, leaf = name.rpartition(".")
        if prefix in prefix_map:
            out[prefix_map[prefix] + "." + leaf] = tensor.detach().clone()
        else:
            unmapped.append(name)
    missing = sorted(set(prefix_map) - {n.rpartition(".")[0] for n in state})
    return out, unmapped, missing


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, choices=sorted(MODELS))
    parser.add_argument("--input", required=True, help="official checkpoint (.pth)")
    parser.add_argument("--output", required=True, help="scalesfm weights file to write")
    args = parser.parse_args(argv)

    spec = MODELS[args.model]
    state = load_state_dict(args.input)
    converted, unmapped, missing = convert(state, spec["map"]())
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
    }
    with open(args.output + ".json", "w") as f:
        json.dump(sidecar, f, indent=2)
    print("wrote %s (%d tensors) and its .json sidecar; %d official tensors ignored"
          % (args.output, len(converted), len(unmapped)))


if __name__ == "__main__":
    main()
