// `scalesfm train_scfeat`: SCFeat's two training stages (Fig. 6a/b) on synthetic posed plane
// pairs (scfeat_pairs.h):
//   1. description network + cross-normalisation bridge, epipolar line-to-window loss (eq. 14);
//   2. the detector alone, bridge and description network frozen, by policy gradient with the
//      epipolar match matrix and the fundamental-matrix-error reward (eqs. 16-21).
// Adam, a fixed seed, progress lines with the losses, validation on held-out images, and
// checkpoints that resume (the batch of an iteration depends on seed and iteration only).
#pragma once

#include <string>

#include "training/training.h"

namespace scalesfm {

struct ScfeatTrainOptions : TrainingRunOptions {
  int description_iterations = 6000;
  int detection_iterations = 600;
  int image_size = 256;
  int queries_per_pair = 256;
  double description_learning_rate = 1e-3;  // decayed x0.1 at 80% of stage 1
  double detection_learning_rate = 1e-3;

  void Check() const;
};

// Validation on held-out plane pairs, with the GT homography.
struct ScfeatValidation {
  // Stage 1: a query's best match over all of B's D_desc positions lands within 8 px of H x.
  double nn_accuracy_8px = 0;
  double mean_epipolar_distance = 0;  // eq. 15 on the validation queries, pixels
  // Stage 2: extracted keypoints (top 512) matched by MNN; fraction within 3 px under H.
  double keypoint_mma_3px = 0;
};

void TrainScfeat(const ScfeatTrainOptions& options);

}  // namespace scalesfm
