#include "feature/extractor.h"

#include <map>
#include <set>
#include <thread>

#include "colmap_ext/database.h"
#include "feature/keypoint_merge.h"
#include "feature/scale_levels.h"
#include "feature/scfeat_extractor.h"
#include "feature/sift_extractor.h"
#include "util/device.h"
#include "util/logging.h"
#include "util/registry.h"

namespace scalesfm {
namespace {

using Factory = std::function<std::unique_ptr<FeatureExtractor>(const ExtractionOptions&)>;

struct Entry {
  ExtractorTraits traits;
  Factory create;
};

// The one table of extractors. Adding a method adds one entry here.
const std::map<std::string, Entry>& Registry() {
  static const std::map<std::string, Entry> registry = {
      {"sift",
       {ExtractorTraits{/*keypoints_carry_scale=*/true, /*float_descriptors=*/false, {}},
        [](const ExtractionOptions& o) { return std::make_unique<SiftExtractor>(o); }}},
      // SCFeat's keypoints come from one resolution and carry no scale, and its descriptors are
      // matched by plain mutual nearest neighbours (no ratio test, no distance bound), as the
      // paper and eval_eth's SCFeat methods do (docs/DESIGN_NOTES.md, "SCFeat").
      {"scfeat",
       {ExtractorTraits{/*keypoints_carry_scale=*/false,
                        /*float_descriptors=*/true,
                        {{"Matching.max_ratio", "1"},
                         {"Matching.max_distance", "3.15"},
                         {"ScaleMatching.estimator", "none"}}},
        [](const ExtractionOptions& o) { return std::make_unique<ScfeatExtractor>(o); }}},
  };
  return registry;
}

const Entry& Find(const std::string& type) {
  return FindRegistered(Registry(), type, "Extraction.type");
}

}  // namespace

void ExtractionOptions::Check() const {
  Find(type);  // throws for an unknown type, listing the known ones
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
  ParseDevice(device);  // one rule for every stage: cuda without a GPU is an error
}

bool ExtractionOptions::IsLearned() const {
  return FeatureExtractor::Traits(type).float_descriptors;
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
  return Find(options.type).create(options);
}

const ExtractorTraits& FeatureExtractor::Traits(const std::string& type) {
  return Find(type).traits;
}

std::string ReadFeatureType(const Database& db) {
  const std::map<image_t, std::string> recorded = db.ReadFeatureTypes();
  std::set<std::string> types;
  for (const Image& image : db.ReadAllImages()) {
    if (!db.ExistsKeypoints(image.image_id)) continue;
    auto it = recorded.find(image.image_id);
    if (it != recorded.end()) {
      types.insert(it->second);
      continue;
    }
    // Written before scalesfm_feature_types: the descriptors tell.
    const bool float_descriptors = db.ExistsFloatDescriptors(image.image_id);
    std::string inferred;
    for (const auto& [name, entry] : Registry()) {
      if (entry.traits.float_descriptors == float_descriptors) {
        inferred = name;  // one type of each kind is registered today
        break;
      }
    }
    types.insert(inferred);
  }
  if (types.size() > 1) {
    std::string list;
    for (const std::string& t : types) list += (list.empty() ? "" : ", ") + t;
    throw Error("the database holds features of several types (" + list +
                "); match each type in its own database");
  }
  return types.empty() ? "sift" : *types.begin();
}

std::vector<std::string> FeatureExtractor::Names() { return RegisteredNames(Registry()); }

}  // namespace scalesfm
