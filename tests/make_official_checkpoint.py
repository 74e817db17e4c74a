#!/usr/bin/python3
"""Writes checkpoints in the official release formats, with seeded weights, for the tests.

The names and shapes come from scripts/convert_official_weights.py's official layouts; the
values from tests/seeded_weights.py, keyed by the name each tensor has inside the official file.
--golden FIXTURE.json first checks those layouts against the names and shapes the official code
produced when the golden fixture was recorded (tests/data/golden/), and fails naming every
difference: the fixture then pins the converter's tables to the official models.

Usage:
  make_official_checkpoint.py --model scalenet --format release OUT.pth   (+ OUT.pth.vgg16.pth)
  make_official_checkpoint.py --model scalenet --format training [--data_parallel] OUT.pth
  make_official_checkpoint.py --model s2dnet OUT.pth [--hypercolumn_layers a b c]
  make_official_checkpoint.py --model scfeat OUT_FOLDER
  make_official_checkpoint.py --model dualrc [--data_parallel] [--backbone NAME] OUT.pth.tar
"""
import argparse
import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "scripts"))
import convert_official_weights as cw  # noqa: E402
from seeded_weights import seeded_state_dict  # noqa: E402


def strip(table, prefix):
    return {k[len(prefix):]: v for k, v in table.items() if k.startswith(prefix)}


def layouts(model):
    """The official files' {name: shape}, per file, from the converter's tables."""
    if model == "scalenet":
        return {"to_scale": cw.scalenet_to_scale_shapes(), "vgg16": cw.vgg16_feature_shapes(28)}
    if model == "s2dnet":
        return {"s2dnet": cw.s2dnet_shapes()}
    if model == "dualrc":
        return {"dualrc": cw.dualrc_shapes()}
    table = cw.scfeat_shapes()
    return {"backbone": strip(table, "backbone."), "localheader": strip(table, "localheader.")}


def check_golden(model, path):
    with open(path) as f:
        golden = json.load(f)
    recorded = {"scalenet": {"to_scale": "to_scale_shapes", "vgg16": "vgg16_shapes"},
                "s2dnet": {"s2dnet": "shapes"},
                "dualrc": {"dualrc": "shapes"},
                "scfeat": {"backbone": "backbone_shapes",
                           "localheader": "localheader_shapes"}}[model]
    problems = []
    for part, table in layouts(model).items():
        official = {k: tuple(v) for k, v in golden[recorded[part]].items()}
        ours = {k: tuple(v) for k, v in table.items()}
        for name in sorted(set(official) | set(ours)):
            if name not in ours:
                problems.append("%s: %s %s is in the official model, not in the converter's "
                                "table" % (part, name, list(official[name])))
            elif name not in official:
                problems.append("%s: %s is in the converter's table, not in the official model"
                                % (part, name))
            elif official[name] != ours[name]:
                problems.append("%s: %s is %s officially, %s in the converter's table"
                                % (part, name, list(official[name]), list(ours[name])))
    if problems:
        sys.exit("error: the converter's layout differs from the official model's:\n  " +
                 "\n  ".join(problems))
    return golden["seed"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True,
                        choices=["scalenet", "s2dnet", "scfeat", "dualrc"])
    parser.add_argument("--format", default="release", choices=["release", "training"])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data_parallel", action="store_true",
                        help="scalenet training format and dualrc: keys with DataParallel's "
                        "module. prefix")
    parser.add_argument("--golden", default="", help="fixture JSON: check layouts, use its seed")
    parser.add_argument("--hypercolumn_layers", nargs=3,
                        default=["conv1_2", "conv3_3", "conv5_3"])
    parser.add_argument("--backbone", default=cw.DUALRC_BACKBONE,
                        help="dualrc: the args.backbone to record")
    parser.add_argument("output")
    args = parser.parse_args()
    seed = check_golden(args.model, args.golden) if args.golden else args.seed
    parts = {name: seeded_state_dict(table, seed) for name, table in layouts(args.model).items()}
    if args.model == "scalenet" and args.format == "release":
        torch.save({"state_dict": parts["to_scale"], "epoch": 40}, args.output)
        torch.save(parts["vgg16"], args.output + ".vgg16.pth")
    elif args.model == "scalenet":
        # train_ScaleNet.py saves {"state_dict": model.state_dict(), "optimizer": ...}:
        # extractor.level_k.* and to_scale.*; --data_parallel adds DataParallel's module. prefix.
        prefix = "module." if args.data_parallel else ""
        state = {prefix + "to_scale." + k: v for k, v in parts["to_scale"].items()}
        for level, index in cw.SCALENET_VGG_LEVELS:
            for leaf in ("weight", "bias"):
                state[prefix + "extractor.%s.%s" % (level, leaf)] = \
                    parts["vgg16"]["features.%d.%s" % (index, leaf)]
        torch.save({"state_dict": state, "optimizer": {}}, args.output)
    elif args.model == "s2dnet":
        torch.save({"hypercolumn_layers": list(args.hypercolumn_layers),
                    "state_dict": parts["s2dnet"]}, args.output)
    elif args.model == "dualrc":
        # train.py saves {"epoch", "state_dict": model.state_dict(), "args": its argparse
        # Namespace, "optimizer", ...}; with multi_gpu (its default) the model is DataParallel's
        # and every name has the module. prefix.
        prefix = "module." if args.data_parallel else ""
        official_args = argparse.Namespace(
            backbone=args.backbone, ncons_kernel_sizes=list(cw.DUALRC_NC_KERNEL_SIZES),
            ncons_channels=list(cw.DUALRC_NC_CHANNELS), multi_gpu=args.data_parallel)
        torch.save({"epoch": 5, "args": official_args, "optimizer": {},
                    "state_dict": {prefix + k: v for k, v in parts["dualrc"].items()}},
                   args.output)
    else:
        os.makedirs(args.output, exist_ok=True)
        for part in ("backbone", "localheader"):
            torch.save(parts[part], os.path.join(args.output, part + ".pth"))


if __name__ == "__main__":
    main()
