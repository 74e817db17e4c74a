// COLMAP's basic types and conventions, restated for a binary-only COLMAP.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <utility>
#include <vector>

namespace scalesfm {

using image_t = uint32_t;
using camera_t = uint32_t;
using point2D_t = uint32_t;
using image_pair_t = uint64_t;

constexpr image_t kInvalidImageId = 0xFFFFFFFFu;
// COLMAP 3.8: pair_id = kMaxNumImages * min(id1, id2) + max(id1, id2).
constexpr uint64_t kMaxNumImages = 2147483647ull;

inline image_pair_t ImagePairToPairId(image_t id1, image_t id2) {
  if (id1 > id2) std::swap(id1, id2);
  return kMaxNumImages * id1 + id2;
}

inline std::pair<image_t, image_t> PairIdToImagePair(image_pair_t pair_id) {
  const image_t id2 = static_cast<image_t>(pair_id % kMaxNumImages);
  const image_t id1 = static_cast<image_t>((pair_id - id2) / kMaxNumImages);
  return {id1, id2};
}

// COLMAP stores keypoints as (x, y, a11, a12, a21, a22): position in COLMAP's pixel convention
// (top-left image corner at (0,0)) and the affine shape. A similarity keypoint with scale s and
// orientation o has a11 = s cos o, a12 = -s sin o, a21 = s sin o, a22 = s cos o.
struct Keypoint {
  float x = 0, y = 0;
  float a11 = 1, a12 = 0, a21 = 0, a22 = 1;

  static Keypoint FromScaleOrientation(float x, float y, float scale, float orientation);
  float ComputeScale() const;
  float ComputeOrientation() const;
};

using Keypoints = std::vector<Keypoint>;
// Row-major, one descriptor per row.
using DescriptorsU8 = Eigen::Matrix<uint8_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
// Learned float descriptors (unit rows), kept in scalesfm_float_descriptors.
using DescriptorsF32 = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

struct Match {
  point2D_t idx1 = 0;
  point2D_t idx2 = 0;
};
using Matches = std::vector<Match>;

// Pixel conventions. COLMAP puts the centre of the first pixel at (0.5, 0.5); OpenCV and
// LibTorch put it at (0, 0). Convert exactly once, at the boundary with those libraries.
inline float OpenCvToColmap(float v) { return v + 0.5f; }
inline float ColmapToOpenCv(float v) { return v - 0.5f; }

}  // namespace scalesfm
