#include "scale/scale_estimator.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <map>

#include "scale/scalenet_estimator.h"
#include "scale/sift_vote.h"
#include "util/logging.h"

namespace scalesfm {
namespace {

using Factory = std::function<std::unique_ptr<ScaleEstimator>(const ScaleEstimatorOptions&)>;

// The one table of scale estimators. Adding a method adds one entry here.
const std::map<std::string, Factory>& Registry() {
  static const std::map<std::string, Factory> registry = {
      {"scalenet",
       [](const ScaleEstimatorOptions& o) {
         return std::make_unique<ScaleNetEstimator>(o, /*discrete=*/false);
       }},
      {"dscalenet",
       [](const ScaleEstimatorOptions& o) {
         return std::make_unique<ScaleNetEstimator>(o, /*discrete=*/true);
       }},
      {"sift_vote",
       [](const ScaleEstimatorOptions& o) { return std::make_unique<SiftVoteEstimator>(o); }},
      // The slot for Scale-Net (CVARM) of the SDAIM paper, sec. III-C; not built yet.
      {"cvarm",
       [](const ScaleEstimatorOptions&) -> std::unique_ptr<ScaleEstimator> {
         throw Error(
             "--ScaleMatching.estimator cvarm (Scale-Net with CVARM) is not implemented yet; "
             "use sift_vote, dscalenet or scalenet");
       }},
  };
  return registry;
}

}  // namespace

std::string DefaultScaleNetWeights() {
  const char* env = std::getenv("SCALESFM_MODELS");
  const std::string dir = env && *env ? env : SCALESFM_MODELS_DIR;
  return dir + "/scalenet_compact.pt";
}

double ScaleBinCenter(int bin) { return std::pow(std::sqrt(2.0), bin - kNumScaleBins / 2); }

int NearestScaleBin(double scale) {
  const int t = static_cast<int>(std::lround(2.0 * std::log2(std::max(scale, 1e-9))));
  return std::clamp(t, -kNumScaleBins / 2, kNumScaleBins / 2) + kNumScaleBins / 2;
}

std::unique_ptr<ScaleEstimator> ScaleEstimator::Create(const ScaleEstimatorOptions& options) {
  auto it = Registry().find(options.estimator);
  if (it == Registry().end()) {
    std::string names;
    for (const auto& n : Names()) names += (names.empty() ? "" : ", ") + n;
    throw Error("unknown --ScaleMatching.estimator '" + options.estimator + "' (known: " + names +
                ")");
  }
  return it->second(options);
}

std::vector<std::string> ScaleEstimator::Names() {
  std::vector<std::string> names;
  for (const auto& [name, factory] : Registry()) names.push_back(name);
  return names;
}

}  // namespace scalesfm
