// `scalesfm train_scalenet`: self-supervised ScaleNet training on synthetic pairs (scale_pairs.h)
// with the KL loss of eq. 1, Adam, a fixed seed, progress lines, resumable checkpoints and a
// validation error E = mean |log2 s - log2 s_hat| (eq. 3 estimate).
#pragma once

#include <array>
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

struct ScaleNetValidation {
  double mean_log2_error = 0;        // E over all validation pairs (soft + consistency)
  double mean_log2_error_ge1 = 0;    // E over pairs with |log2 s| >= 1
  double argmax_within_one_bin = 0;  // D-ScaleNet: fraction with |argmax bin - GT bin| <= 1
  // Per octave of |log2 s| ([0,1), [1,2), [2,3]): E, and the mean signed error of the magnitude,
  // |log2 s_est| - |log2 s| (negative: zooms are underestimated, estimates shrink towards 1).
  std::array<double, 3> error_by_octave{};
  std::array<double, 3> magnitude_bias_by_octave{};
};

void TrainScaleNet(const ScaleNetTrainOptions& options);

}  // namespace scalesfm
