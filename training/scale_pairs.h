// Self-supervised training pairs for scale estimation, generated on the fly from generic images
// (the Scale-COCO recipe of the Scale-Net paper, with ScaleNet's log-uniform scales): a wide
// view and a zoomed view of the same image with log-uniform zoom in [1/8, 8], random crops,
// small perspective warps and rotations, photometric jitter, and partial overlap with a
// distractor image filling whatever falls outside the source.
#pragma once

#include <torch/torch.h>

#include <array>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <random>
#include <string>
#include <vector>

#include "feature/image_io.h"  // ListTrainingImages

namespace scalesfm {

struct ScalePairOptions {
  int canvas_size = 128;
  double max_log2_scale = 3.0;      // |log2 s| <= 3, i.e. s in [1/8, 8]
  double max_corner_jitter = 0.05;  // perspective: corner offsets, fraction of the canvas
  double max_rotation_deg = 10.0;
  double letterbox_probability = 0.5;  // mimic inference on non-square images
  // Largest magnification (canvas pixels per source pixel) of the zoomed view. A real zoom is as
  // sharp as a wide shot; an upsampled crop is not, and a network trained on upsampled crops
  // learns "blurry means zoomed in", which real pairs never show. Large zooms therefore draw
  // their source among images big enough (see DESIGN_NOTES). 0: no limit.
  double max_zoom_magnification = 1.6;
};

struct ScalePair {
  cv::Mat a, b;      // CV_32F, canvas_size^2, normalised (zero mean-ish, padding 0)
  double scale = 1;  // s(A->B): geometric mean of sqrt|det J| of A -> B over A's visible pixels
  double nominal_scale = 1;  // the drawn zoom, A -> B (equals `scale` without perspective jitter)
  double zoom_magnification = 1;  // canvas pixels per source pixel of the zoomed view
};

class ScalePairGenerator {
 public:
  // Loads every image (grey, float) up front; unreadable files are skipped with a warning.
  ScalePairGenerator(const std::vector<std::string>& image_paths, const ScalePairOptions& options);

  ScalePair Sample(std::mt19937* rng) const;
  size_t num_images() const { return images_.size(); }

 private:
  ScalePairOptions options_;
  std::vector<cv::Mat> images_;
  size_t largest_ = 0;  // the image with the longest short side
};

// A batch of pairs as the scale networks take them: a, b [N, 1, S, S] and log s(A->B) [N].
struct ScalePairBatch {
  torch::Tensor a, b, log_scale;
};
ScalePairBatch ToScalePairBatch(const std::vector<ScalePair>& pairs);
ScalePairBatch MakeScalePairBatch(const ScalePairGenerator& generator, int n, std::mt19937* rng);
// The fixed validation set of a scale trainer: `num_pairs` pairs in batches of `batch_size`,
// drawn with a seed derived from `seed`.
std::vector<ScalePairBatch> MakeScaleValidationBatches(const ScalePairGenerator& generator,
                                                       int num_pairs, int batch_size,
                                                       unsigned seed);

// What train_scalenet and train_cvarm report at each validation.
struct ScaleValidation {
  double mean_log2_error = 0;      // E over all validation pairs
  double mean_log2_error_ge1 = 0;  // E over pairs with |log2 s| >= 1
  double bin_within_one_bin = 0;   // fraction whose estimated bin is within 1 of the GT bin
  // Per octave of |log2 s| ([0,1), [1,2), [2,3]): E, and the mean signed error of the magnitude,
  // |log2 s_est| - |log2 s| (negative: zooms are underestimated, estimates shrink towards 1).
  std::array<double, 3> error_by_octave{};
  std::array<double, 3> magnitude_bias_by_octave{};
};
// From per-pair log2 estimates, GT log2 scales and estimated bins (0..12).
ScaleValidation SummariseScaleValidation(const std::vector<double>& est_log2,
                                         const std::vector<double>& gt_log2,
                                         const std::vector<int>& est_bins);
// A validation as both trainers' sidecars record it ("final_metrics"); `bin_key` names the bin
// rate (train_scalenet: "argmax_within_one_bin", D-ScaleNet's argmax; train_cvarm:
// "bin_within_one_bin", the estimate's bin).
nlohmann::json ScaleValidationJson(const ScaleValidation& v, const std::string& bin_key);
// Logs a validation as both trainers print it.
void LogScaleValidation(int iteration, const ScaleValidation& v);

}  // namespace scalesfm
