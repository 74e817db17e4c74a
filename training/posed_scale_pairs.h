// Real training pairs with a GT scale, from posed scenes (the role of the Scale-Net paper's
// Scale-IMC-PT set): the pairs and their GT s(A->B) come from `eval_scale`'s gt_pairs.csv, whose
// scales follow the covisible-point recipe (eqs. 4-5 of ScaleNet) on the GT poses. The scales
// of real pairs are mostly within 2x, so, as the paper does, each drawn pair is enlarged to a
// log-uniform target scale by shrinking one image inside its canvas, pasted into a background
// (another image, or the letterbox grey that inference uses).
#pragma once

#include <opencv2/core.hpp>
#include <random>
#include <string>
#include <vector>

#include "training/scale_pairs.h"

namespace scalesfm {

struct PosedScalePairOptions {
  int canvas_size = 128;
  double max_log2_scale = 3.0;          // target |log2 s| <= 3, as the synthetic pairs
  double max_log2_shrink = 3.0;         // an image is shrunk by at most 2^3 inside its canvas
  double background_probability = 0.5;  // else the letterbox grey
};

struct PosedPairGt {
  std::string image1, image2;
  double scale = 1;  // s(image1 -> image2)
};

// The rows of eval_scale gt_pairs.csv files (dataset,image1,image2,gt_scale,support); a relative
// image path is taken relative to the working directory, as eval_scale wrote it. Throws Error
// naming the file for a missing file, a bad header or a bad row.
std::vector<PosedPairGt> ReadPosedPairs(const std::string& csv_path);

class PosedScalePairGenerator {
 public:
  // Loads every image of `pairs` once (grey, at most 4 canvas sizes on its longest side); throws
  // Error naming an image that cannot be read, or for an empty list.
  PosedScalePairGenerator(const std::vector<PosedPairGt>& pairs,
                          const PosedScalePairOptions& options);

  ScalePair Sample(std::mt19937* rng) const;
  size_t num_pairs() const { return pairs_.size(); }

 private:
  struct Image {
    cv::Mat pixels;        // CV_32F 0..255
    double original_side;  // longest side of the file, in pixels
  };
  struct Pair {
    size_t a, b;
    double scale;
  };
  PosedScalePairOptions options_;
  std::vector<Image> images_;
  std::vector<Pair> pairs_;

  // The image letterboxed into the canvas, shrunk by `shrink` (<= 1) and placed at a random
  // spot over a background. Returns 0..255 floats.
  cv::Mat Render(const Image& image, double shrink, std::mt19937* rng) const;
};

}  // namespace scalesfm
