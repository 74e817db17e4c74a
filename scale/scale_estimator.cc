#include "scale/scale_estimator.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>

#include "feature/image_io.h"
#include "scale/cvarm_estimator.h"
#include "scale/scalenet_estimator.h"
#include "scale/sift_vote.h"
#include "util/device.h"
#include "util/logging.h"
#include "util/registry.h"

namespace scalesfm {
namespace {

using Factory = std::function<std::unique_ptr<ScaleEstimator>(const ScaleEstimatorOptions&)>;

struct Entry {
  ScaleEstimatorTraits traits;
  Factory create;
};

// "none": s = 1 for every pair (plain matching at the native levels, and eval_scale's trivial
// baseline).
class TrivialScaleEstimator : public ScaleEstimator {
 public:
  std::shared_ptr<const ImageCode> Encode(const cv::Mat&) override {
    return std::make_shared<ImageCode>();
  }
  ScaleEstimate Estimate(const ImageCode&, const ImageCode&) override {
    ScaleEstimate e;
    e.probs.assign(kNumScaleBins, 0.0);
    e.probs[e.bin] = 1.0;
    return e;
  }
};

// The one table of scale estimators. Adding a method adds one entry here.
const std::map<std::string, Entry>& Registry() {
  static const std::map<std::string, Entry> registry = {
      {"none",
       {{/*trivial=*/true, /*votes_on_keypoint_scales=*/false},
        [](const ScaleEstimatorOptions&) { return std::make_unique<TrivialScaleEstimator>(); }}},
      {"scalenet",
       {{},
        [](const ScaleEstimatorOptions& o) {
          return std::make_unique<ScaleNetEstimator>(o, /*discrete=*/false);
        }}},
      {"dscalenet",
       {{},
        [](const ScaleEstimatorOptions& o) {
          return std::make_unique<ScaleNetEstimator>(o, /*discrete=*/true);
        }}},
      {"sift_vote",
       {{/*trivial=*/false, /*votes_on_keypoint_scales=*/true},
        [](const ScaleEstimatorOptions& o) { return std::make_unique<SiftVoteEstimator>(o); }}},
      {"gt",
       {{/*trivial=*/false, /*votes_on_keypoint_scales=*/false, /*reads_gt_model=*/true},
        [](const ScaleEstimatorOptions&) -> std::unique_ptr<ScaleEstimator> {
          throw Error(
              "--ScaleMatching.estimator gt is an oracle for evaluation: it reads the scale of a "
              "pair from the GT model (--ScaleMatching.gt_path), not from two images");
        }}},
      // Scale-Net with CVARM of the SDAIM paper (sec. III-C).
      {"cvarm",
       {{}, [](const ScaleEstimatorOptions& o) { return std::make_unique<CvarmEstimator>(o); }}},
  };
  return registry;
}

const Entry& Find(const std::string& name) {
  return FindRegistered(Registry(), name, "ScaleMatching.estimator");
}

}  // namespace

double ScaleBinCenter(int bin) { return std::pow(std::sqrt(2.0), bin - kNumScaleBins / 2); }

int NearestScaleBin(double scale) {
  const int t = static_cast<int>(std::lround(2.0 * std::log2(std::max(scale, 1e-9))));
  return std::clamp(t, -kNumScaleBins / 2, kNumScaleBins / 2) + kNumScaleBins / 2;
}

std::unique_ptr<ScaleEstimator> ScaleEstimator::Create(const ScaleEstimatorOptions& options) {
  const Entry& entry = Find(options.estimator);
  ParseDevice(options.device);  // the same rule for estimators that run on the CPU anyway
  return entry.create(options);
}

const ScaleEstimatorTraits& ScaleEstimator::Traits(const std::string& name) {
  return Find(name).traits;
}

std::shared_ptr<const ImageCode> ScaleEstimator::EncodeFile(const std::string& path) {
  return Encode(ReadImageOrThrow(path, InputChannels()));
}

ScaleEstimate ScaleEstimator::EstimateImages(const cv::Mat& image1, const cv::Mat& image2) {
  return Estimate(*Encode(image1), *Encode(image2));
}

std::vector<std::string> ScaleEstimator::Names() { return RegisteredNames(Registry()); }

}  // namespace scalesfm
