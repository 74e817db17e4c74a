// `scalesfm train_scalenet`: self-supervised ScaleNet training on synthetic pairs (scale_pairs.h)
// with the KL loss of eq. 1, Adam, a fixed seed, progress lines, resumable checkpoints and a
// validation error E = mean |log2 s - log2 s_hat| (eq. 3 estimate).
#pragma once

#include <string>

#include "training/scale_pairs.h"
#include "training/training.h"

namespace scalesfm {

struct ScaleNetTrainOptions : TrainingRunOptions {
  ScaleNetTrainOptions() {
    batch_size = 16;
    validation_pairs = 256;
  }
  int iterations = 6000;
  double learning_rate = 1e-3;  // decayed x0.1 at 70% and 90% of the iterations
  double max_zoom_magnification = ScalePairOptions().max_zoom_magnification;
  double max_corner_jitter = ScalePairOptions().max_corner_jitter;  // perspective strength
  double max_rotation_deg = ScalePairOptions().max_rotation_deg;

  void Check() const;
};

void TrainScaleNet(const ScaleNetTrainOptions& options);

}  // namespace scalesfm
