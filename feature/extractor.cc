#include "feature/extractor.h"

#include <map>
#include <thread>

#include "feature/keypoint_merge.h"
#include "feature/scale_levels.h"
#include "feature/scfeat_extractor.h"
#include "feature/sift_extractor.h"
#include "util/logging.h"

namespace scalesfm {
namespace {

using Factory = std::function<std::unique_ptr<FeatureExtractor>(const ExtractionOptions&)>;

// The one table of extractors. Adding a method adds one entry here.
const std::map<std::string, Factory>& Registry() {
  static const std::map<std::string, Factory> registry = {
      {"sift", [](const ExtractionOptions& o) { return std::make_unique<SiftExtractor>(o); }},
      {"scfeat", [](const ExtractionOptions& o) { return std::make_unique<ScfeatExtractor>(o); }},
  };
  return registry;
}

}  // namespace

void ExtractionOptions::Check() const {
  if (!Registry().count(type)) {
    std::string names;
    for (const auto& n : FeatureExtractor::Names()) names += (names.empty() ? "" : ", ") + n;
    throw Error("unknown --Extraction.type '" + type + "' (known: " + names + ")");
  }
  if (max_num_features <= 0) throw Error("--Extraction.max_num_features must be positive");
  if (max_image_size < 16) throw Error("--Extraction.max_image_size must be at least 16");
  if (sift_contrast_threshold <= 0) throw Error("--Extraction.sift_contrast_threshold must be > 0");
  if (sift_edge_threshold <= 0) throw Error("--Extraction.sift_edge_threshold must be > 0");
  if (sift_normalization != "l1_root" && sift_normalization != "l2") {
    throw Error("--Extraction.sift_normalization must be l1_root or l2");
  }
  if (scfeat_nms_size < 1 || scfeat_nms_size % 2 == 0) {
    throw Error("--Extraction.scfeat_nms_size must be odd and >= 1");
  }
  ParseLevelSpec(levels);
  if (IsLearned() && LevelFactors().size() > 1) {
    throw Error("--Extraction.levels with several levels is not supported for --Extraction.type " +
                type + " yet; use 1 (auto means 1 for learned features)");
  }
  MergeOptions().Check();
}

std::vector<double> ExtractionOptions::LevelFactors() const {
  if (IsLearned() && levels == "auto") return {1.0};
  return ParseLevelSpec(levels);
}

KeypointMergeOptions ExtractionOptions::MergeOptions() const {
  KeypointMergeOptions o;
  o.radius = merge_radius;
  o.max_log2_scale_diff = merge_max_log2_scale;
  return o;
}

int ExtractionOptions::EffectiveNumThreads() const {
  if (num_threads > 0) return num_threads;
  return std::max(1u, std::thread::hardware_concurrency());
}

std::unique_ptr<FeatureExtractor> FeatureExtractor::Create(const ExtractionOptions& options) {
  options.Check();
  return Registry().at(options.type)(options);
}

std::vector<std::string> FeatureExtractor::Names() {
  std::vector<std::string> names;
  for (const auto& [name, factory] : Registry()) names.push_back(name);
  return names;
}

}  // namespace scalesfm
