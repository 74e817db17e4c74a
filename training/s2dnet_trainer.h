// `scalesfm train_s2dnet`: S2DNet's supervised classification training (§3.3): the
// cross-entropy of the softmaxed full-resolution correspondence map (eq. 1) at the GT pixel, for
// at most 128 correspondences per pair (§4.1). We have no MegaDepth, so pairs are synthetic
// views of planes textured with ../shared/data/train images (training/scfeat_pairs.h) with
// dense GT by their homography: perspective, scale changes up to 4x (|log2 zoom| <= 2),
// distractor backgrounds and photometric jitter; the first half of the iterations limits the
// zoom to 2x (a curriculum). Adam at 1e-3 with the paper's decay of e^-0.1
// per "epoch" (iterations / 30), a fixed seed, progress lines, validation on held-out images,
// checkpoints that resume.
#pragma once

#include <string>

#include "training/training.h"

namespace scalesfm {

struct S2DNetTrainOptions : TrainingRunOptions {
  int iterations = 3000;
  int image_size = 128;  // random crops of this size (the paper: 512)
  int correspondences_per_pair = 128;
  double max_log2_zoom = 2.0;
  // The first fraction of the iterations draws zooms up to 2x only (a curriculum).
  double curriculum_fraction = 0.5;
  double learning_rate = 1e-3;

  void Check() const;
};

// Validation with the inference search (coarse-to-fine, no confidence threshold): fractions of
// held-out GT correspondences found within 1, 2 and 4 pixels, and the mean loss.
struct S2DNetValidation {
  double accuracy_1px = 0, accuracy_2px = 0, accuracy_4px = 0;
  double loss = 0;
};

void TrainS2DNet(const S2DNetTrainOptions& options);

}  // namespace scalesfm
