// The scale-estimator interface: s(A->B), how many times larger A's content appears in B.
// Estimators register by name in one table (scale_estimator.cc) and map 1:1 to
// --ScaleMatching.estimator. Every estimator has two stages: a per-image stage (Encode), whose
// code a caller computes once per image and reuses across all its pairs, and a per-pair stage
// (Estimate) on two codes, as COLMAP's matchers cache per-image work by image id.
#pragma once

#include <memory>
#include <opencv2/core.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace scalesfm {

// D-ScaleNet's discretisation: L = 13 bins s_t = sqrt(2)^t, t = -6..6.
constexpr int kNumScaleBins = 13;
double ScaleBinCenter(int bin);  // bin in [0, 12] -> sqrt(2)^(bin - 6)
int NearestScaleBin(double scale);

struct ScaleEstimate {
  double scale = 1.0;
  int bin = kNumScaleBins / 2;
  std::vector<double> probs;  // kNumScaleBins entries summing to 1
  size_t support = 0;         // evidence behind the estimate (e.g. votes)
};

// The --ScaleMatching.* flags of the estimator itself.
struct ScaleEstimatorOptions {
  std::string estimator = "sift_vote";
  // ScaleNet weights; empty: DefaultWeights("scalenet_compact.pt") ($SCALESFM_MODELS or models/).
  std::string weights;
  int max_num_features = 4096;
  int max_image_size = 1024;
  std::string device = "auto";
  // The `gt` oracle's GT model (a COLMAP model whose points3D have tracks).
  std::string gt_path;
};

// What an estimator needs, from its registry entry.
struct ScaleEstimatorTraits {
  // Its estimates are s = 1 by definition ("none"): nothing to compute, cache or read.
  bool trivial = false;
  // It votes with keypoint scales (sift_vote): on a database whose keypoints carry SIFT scales it
  // can use the database's keypoints and native-level matches instead of reading the images.
  bool votes_on_keypoint_scales = false;
  // An oracle ("gt"): the scale comes from the GT model at gt_path, not from the images.
  bool reads_gt_model = false;
};

// One image's per-image stage; each estimator derives its own.
struct ImageCode {
  virtual ~ImageCode() = default;
};

class ScaleEstimator {
 public:
  virtual ~ScaleEstimator() = default;
  // The image Encode takes: 1 = 8-bit grey, 3 = 8-bit RGB (feature/image_io.h ReadImage).
  virtual int InputChannels() const { return 1; }
  // Per-image stage on an 8-bit image with InputChannels() channels.
  virtual std::shared_ptr<const ImageCode> Encode(const cv::Mat& image) = 0;
  // Per-image stage on an image file (what pipelines call): reads it with InputChannels()
  // channels and encodes it; an estimator may keep the path instead of pixels it could need
  // again. Throws Error naming the file when it cannot be read.
  virtual std::shared_ptr<const ImageCode> EncodeFile(const std::string& path);
  // Per-pair stage: s(A->B) from A's and B's codes (both from this estimator's Encode).
  virtual ScaleEstimate Estimate(const ImageCode& a, const ImageCode& b) = 0;
  // Both stages for one pair of images.
  ScaleEstimate EstimateImages(const cv::Mat& image1, const cv::Mat& image2);

  // Creates the estimator named by options.estimator; throws Error listing the known names.
  static std::unique_ptr<ScaleEstimator> Create(const ScaleEstimatorOptions& options);
  static const ScaleEstimatorTraits& Traits(const std::string& name);  // throws for unknown names
  static std::vector<std::string> Names();  // every registered name, "none" included
};

// `code` as the code type of estimator E; throws when it comes from another estimator.
template <typename Code>
const Code& CodeAs(const ImageCode& code) {
  const Code* typed = dynamic_cast<const Code*>(&code);
  if (!typed) throw std::invalid_argument("scale estimator: an image code of another estimator");
  return *typed;
}

}  // namespace scalesfm
