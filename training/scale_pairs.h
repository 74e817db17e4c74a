// Self-supervised training pairs for scale estimation, generated on the fly from generic images
// (the Scale-COCO recipe of the Scale-Net paper, with ScaleNet's log-uniform scales): a wide
// view and a zoomed view of the same image with log-uniform zoom in [1/8, 8], random crops,
// small perspective warps and rotations, photometric jitter, and partial overlap with a
// distractor image filling whatever falls outside the source.
#pragma once

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

}  // namespace scalesfm
