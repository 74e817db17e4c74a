#!/usr/bin/env python3
"""Independent check of scalesfm's pose metric: IMC 2020's relative-pose error and mAA, written
from the formulas the IMC benchmark publishes (Jin et al., IJCV 2020; evaluate_R_t and
compute_qt_auc in github.com/ubc-vision/image-matching-benchmark), with numpy only and none of
scalesfm's code.

  rotation error    arccos(1 - 2 * max(eps, 1 - <q, q_gt>^2)), q the unit quaternions of the
                    relative rotations (= the angle of R_gt^T R)
  translation error arccos(sqrt(1 - max(eps, 1 - <t, t_gt>^2))), t and t_gt divided by
                    (norm + eps): the angle folded into [0, 90] deg; zero translation gives 90
  pair error        max of the two; an image missing from the estimate fails its pairs
  mAA@5, mAA@10     histogram of the errors (deg) over bins [0,1), ..., [8,9), [9,10],
                    cumulated, divided by the number of pairs, averaged over the first 5 / 10

Usage: check_imc_metrics.py GT_MODEL_DIR ESTIMATE_MODEL_DIR   (COLMAP text models)
Prints: pairs N  mAA@5 X  mAA@10 Y
"""
import os
import sys

import numpy as np

EPS = 1e-15


def read_images_txt(model_dir):
    """{image_id: (name, qvec (w, x, y, z), tvec)} of a COLMAP images.txt."""
    images = {}
    with open(os.path.join(model_dir, "images.txt")) as f:
        lines = [line.rstrip("\r\n") for line in f if not line.startswith("#")]
    # Two lines per image: the pose line, then the (possibly empty) 2D points line.
    for pose_line in lines[0::2]:
        fields = pose_line.split()
        if not fields:
            continue
        image_id = int(fields[0])
        q = np.array([float(v) for v in fields[1:5]])
        t = np.array([float(v) for v in fields[5:8]])
        name = " ".join(fields[9:])
        images[image_id] = (name, q / np.linalg.norm(q), t)
    return images


def quat_multiply(a, b):
    aw, ax, ay, az = a
    bw, bx, by, bz = b
    return np.array([
        aw * bw - ax * bx - ay * by - az * bz,
        aw * bx + ax * bw + ay * bz - az * by,
        aw * by - ax * bz + ay * bw + az * bx,
        aw * bz + ax * by - ay * bx + az * bw,
    ])


def quat_conjugate(q):
    return np.array([q[0], -q[1], -q[2], -q[3]])


def quat_to_matrix(q):
    w, x, y, z = q
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
        [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
        [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
    ])


def relative_pose(pose1, pose2):
    """x2 = R x1 + t for cameras x_k = R_k X + t_k: R = R2 R1^T (q2 q1^-1), t = t2 - R t1."""
    _, q1, t1 = pose1
    _, q2, t2 = pose2
    q = quat_multiply(q2, quat_conjugate(q1))
    return q, t2 - quat_to_matrix(q) @ t1


def pair_error_rad(q_gt, t_gt, q, t):
    loss_q = max(EPS, 1.0 - float(np.dot(q, q_gt)) ** 2)
    err_q = np.arccos(1.0 - 2.0 * loss_q)
    t = t / (np.linalg.norm(t) + EPS)
    t_gt = t_gt / (np.linalg.norm(t_gt) + EPS)
    loss_t = max(EPS, 1.0 - float(np.dot(t, t_gt)) ** 2)
    err_t = np.arccos(np.sqrt(1.0 - loss_t))
    return max(err_q, err_t)


def pair_errors_deg(gt, estimate):
    by_name = {name: (name, q, t) for name, q, t in estimate.values()}
    ordered = [gt[k] for k in sorted(gt)]
    errors = []
    for i in range(len(ordered)):
        for j in range(i + 1, len(ordered)):
            a, b = ordered[i], ordered[j]
            if a[0] not in by_name or b[0] not in by_name:
                errors.append(np.inf)
                continue
            q_gt, t_gt = relative_pose(a, b)
            q, t = relative_pose(by_name[a[0]], by_name[b[0]])
            errors.append(np.degrees(pair_error_rad(q_gt, t_gt, q, t)))
    return np.array(errors)


def mean_average_accuracy(errors_deg):
    """(mAA@5, mAA@10) from the histogram over bins 0, 1, ..., 10 deg (the last bin closed)."""
    if len(errors_deg) == 0:
        return 0.0, 0.0
    finite = np.where(np.isfinite(errors_deg), errors_deg, 1e6)
    counts, _ = np.histogram(finite, bins=np.arange(11))
    accuracy = np.cumsum(counts) / float(len(errors_deg))
    return float(np.mean(accuracy[:5])), float(np.mean(accuracy))


def main(argv):
    if len(argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    gt = read_images_txt(argv[1])
    estimate = read_images_txt(argv[2])
    errors = pair_errors_deg(gt, estimate)
    maa5, maa10 = mean_average_accuracy(errors)
    print("pairs %d  mAA@5 %.6f  mAA@10 %.6f" % (len(errors), maa5, maa10))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
