// SCFeat keypoint selection (Sec. III-E) and descriptor sampling (eqs. 22-23): non-maximum
// suppression of size N on the score map S^ (eq. 13), the score threshold epsilon_s, the top-K,
// a sub-pixel offset from a quadratic fit of the 3x3 scores, and L2-normalised descriptors
// bilinearly sampled from D_desc.
#pragma once

#include <torch/torch.h>

namespace scalesfm {

struct ScfeatKeypointOptions {
  int nms_size = 3;              // N (odd; 1 disables suppression)
  double score_threshold = 0.0;  // epsilon_s
  int max_keypoints = 8192;      // K
  bool subpixel = true;
};

struct ScfeatKeypoints {
  torch::Tensor points;  // [K, 2] float, OpenCV convention (pixel centre at integer), CPU
  torch::Tensor scores;  // [K], descending
};

// `score` [H, W] (or [1, 1, H, W]); only the top-left width x height region is considered (the
// rest is padding).
ScfeatKeypoints SelectKeypoints(const torch::Tensor& score, int width, int height,
                                const ScfeatKeypointOptions& options);

// Bilinear samples of map [1, C, h, w] covering a width x height image at pixel positions
// [..., 2] (OpenCV convention): [..., C]. The training losses (training/scfeat_losses.h) sample
// their maps the same way. official_grid: the official sample_feat_by_coord's mapping
// (ScfeatConfig::official_sampling_grid) instead of pixel centres.
torch::Tensor SampleMap(const torch::Tensor& map, const torch::Tensor& points, int width,
                        int height, bool official_grid = false);

// Eq. 23: L2-normalised bilinear samples of D_desc [1, C, h, w] (covering a width x height
// image, padding included) at `points` [K, 2]: [K, C] on the CPU.
torch::Tensor SampleDescriptors(const torch::Tensor& desc, const torch::Tensor& points, int width,
                                int height, bool official_grid = false);

}  // namespace scalesfm
