#include "matching/matching_options.h"

#include <cmath>
#include <filesystem>
#include <functional>
#include <map>
#include <stdexcept>
#include <thread>

#include "matching/pair_matcher.h"
#include "matching/pairs.h"
#include "util/device.h"
#include "util/logging.h"

namespace scalesfm {

void PairingOptions::Check() const {
  if (block_size <= 0) throw Error("--Matching.block_size must be positive");
  if (!shard.empty()) ParseShard(shard);
  if (source == "vocab_tree") {
    vocab_tree.Check();
  } else if (source == "sequential") {
    sequential.Check();
    if (sequential.loop_detection) vocab_tree.Check();
  } else if (source != "exhaustive") {
    throw Error("unknown pair source '" + source + "'");
  }
}

void S2DNetMatchOptions::Check() const {
  if (!(search.confidence_threshold < 1)) {
    throw Error("--Matching.s2dnet_confidence must be < 1 (< 0: the weights' calibrated value)");
  }
  if (search.refine_radius < 1) throw Error("--Matching.s2dnet_refine_radius must be >= 1");
  if (search.chunk_size < 1) throw Error("--Matching.s2dnet_chunk_size must be >= 1");
  if (!(snap_radius > 0)) throw Error("--Matching.s2dnet_snap_radius must be > 0");
  if (max_image_size < 64) throw Error("--Matching.s2dnet_max_image_size must be >= 64");
  if (cache_images < 2) throw Error("--Matching.s2dnet_cache_images must be >= 2");
}

void DualRcMatchOptions::Check() const {
  if (max_image_size < 64) throw Error("--Matching.dualrc_max_image_size must be >= 64");
  if (!(query_fraction > 0 && query_fraction <= 1)) {
    throw Error("--Matching.dualrc_query_fraction must be in (0, 1]");
  }
  if (chunk_size < 1) throw Error("--Matching.dualrc_chunk_size must be >= 1");
  if (!(snap_radius > 0)) throw Error("--Matching.dualrc_snap_radius must be > 0");
  if (cache_images < 2) throw Error("--Matching.dualrc_cache_images must be >= 2");
}

void MatchingOptions::Check() const {
  FindPairMatcher(type);  // throws for an unknown --Matching.type, listing the known ones
  nn.Check();
  s2dnet.Check();
  dualrc.Check();
  if (max_num_matches < 1) throw Error("--Matching.max_num_matches must be >= 1");
  if (pairs_per_commit <= 0) throw Error("--Matching.pairs_per_commit must be positive");
  ParseDevice(device);
}

void MatchingOptions::ApplyThreads() const { SetLibTorchThreads(num_threads); }

void ScaleMatchingOptions::Check() const {
  // Throws for an unknown estimator.
  if (ScaleEstimator::Traits(estimator.estimator).reads_gt_model && estimator.gt_path.empty()) {
    throw Error("--ScaleMatching.estimator " + estimator.estimator +
                " needs --ScaleMatching.gt_path (a GT model with 3D points)");
  }
  if (gt_region && estimator.gt_path.empty()) {
    throw Error(
        "--ScaleMatching.gt_region needs --ScaleMatching.gt_path (a GT model with 3D points)");
  }
  if (!(min_log2_scale >= 0)) throw Error("--ScaleMatching.min_log2_scale must be >= 0");
  ParseDevice(estimator.device);
}

void VerificationOptions::Check() const {
  // Every value COLMAP 3.8 checks (SiftMatchingOptions::Check, RANSACOptions::Check) is checked
  // here, before any matching: colmap would only refuse it after the raw matches are written.
  if (!(max_error > 0) || !std::isfinite(max_error)) {
    throw Error(StringPrintf("--SiftMatching.max_error must be positive, got %g", max_error));
  }
  if (!(confidence > 0 && confidence <= 1)) {
    throw Error(StringPrintf("--SiftMatching.confidence must be in (0, 1], got %g", confidence));
  }
  if (max_num_trials <= 0) {
    throw Error(
        StringPrintf("--SiftMatching.max_num_trials must be positive, got %d", max_num_trials));
  }
  if (!(min_inlier_ratio >= 0 && min_inlier_ratio <= 1)) {
    throw Error(StringPrintf("--SiftMatching.min_inlier_ratio must be in [0, 1], got %g",
                             min_inlier_ratio));
  }
  if (min_num_inliers < 0) {
    throw Error(
        StringPrintf("--SiftMatching.min_num_inliers must be >= 0, got %d", min_num_inliers));
  }
  if (num_threads == 0 || num_threads < -1) {
    throw Error(StringPrintf("--SiftMatching.num_threads must be -1 or >= 1, got %d", num_threads));
  }
  if (std::isnan(guided_max_error) || std::isinf(guided_max_error)) {
    throw Error("--SiftMatching.guided_max_error must be a finite number of pixels");
  }
  if (guided_max_num_inliers < 0) {
    throw Error(StringPrintf(
        "--SiftMatching.guided_max_num_inliers must be >= 0 (0: every verified pair), got %d",
        guided_max_num_inliers));
  }
  if (num_processes == 0 || num_processes < -1) {
    throw Error(
        StringPrintf("--SiftMatching.num_processes must be -1 or >= 1, got %d", num_processes));
  }
}

int VerificationOptions::ResolvedNumProcesses(size_t num_pairs) const {
  const int wanted = num_processes > 0
                         ? num_processes
                         : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return static_cast<int>(std::max<size_t>(1, std::min<size_t>(wanted, num_pairs)));
}

std::vector<std::string> VerificationOptions::ToColmapArgs() const {
  // Guided matching is never COLMAP's: scalesfm runs it after verification (RunGuidedMatching).
  return {"--SiftMatching.use_gpu",          "0",
          "--SiftMatching.num_threads",      std::to_string(num_threads),
          "--SiftMatching.max_error",        std::to_string(max_error),
          "--SiftMatching.confidence",       std::to_string(confidence),
          "--SiftMatching.max_num_trials",   std::to_string(max_num_trials),
          "--SiftMatching.min_inlier_ratio", std::to_string(min_inlier_ratio),
          "--SiftMatching.min_num_inliers",  std::to_string(min_num_inliers),
          "--SiftMatching.multiple_models",  multiple_models ? "1" : "0",
          "--SiftMatching.guided_matching",  "0",
          "--SiftMatching.planar_scene",     planar_scene ? "1" : "0"};
}

void MatchingConfig::Check() const {
  pairing.Check();
  matching.Check();
  scale.Check();
  verification.Check();
  const MatcherTraits& traits = FindPairMatcher(matching.type).traits;
  std::string reader;  // the first option that reads the images
  if (traits.needs_images) {
    reader = "--Matching.type " + matching.type;
  } else if (scale.reextract) {
    reader = "--ScaleMatching.reextract 1";
  } else if (!scale.Enabled() ||
             ScaleEstimator::Traits(scale.estimator.estimator).votes_on_keypoint_scales) {
    // no images needed (sift_vote on learned features asks for them once it sees the database)
  } else {
    reader = "--ScaleMatching.estimator " + scale.estimator.estimator;
  }
  if (!reader.empty()) {
    if (image_path.empty()) throw Error(reader + " reads the images: pass --image_path");
    if (!std::filesystem::is_directory(image_path)) {
      throw Error("image path " + image_path + " is not a folder");
    }
  }
  if (!pairing.shard.empty() && !traits.shardable) {
    throw Error("--Matching.type " + matching.type +
                " appends keypoints while it matches, so shards cannot be merged; match without "
                "--Matching.shard");
  }
  if (scale.reextract) extraction.Check();
}

namespace {

// The flags a feature type's matching_defaults may name, and the field each sets.
using FlagSetter = std::function<void(MatchingConfig*, const std::string&)>;
const std::map<std::string, FlagSetter>& DefaultableFlags() {
  static const std::map<std::string, FlagSetter> flags = {
      {"Matching.max_ratio",
       [](MatchingConfig* c, const std::string& v) { c->matching.nn.max_ratio = std::stod(v); }},
      {"Matching.max_distance",
       [](MatchingConfig* c, const std::string& v) { c->matching.nn.max_distance = std::stod(v); }},
      {"Matching.cross_check",
       [](MatchingConfig* c, const std::string& v) { c->matching.nn.cross_check = std::stoi(v); }},
      {"ScaleMatching.estimator",
       [](MatchingConfig* c, const std::string& v) { c->scale.estimator.estimator = v; }},
  };
  return flags;
}

}  // namespace

std::vector<std::string> MatchingConfig::ApplyFeatureTypeDefaults(
    const std::string& feature_type, const std::set<std::string>& keep) {
  std::vector<std::string> applied;
  for (const auto& [flag, value] : FeatureExtractor::Traits(feature_type).matching_defaults) {
    auto it = DefaultableFlags().find(flag);
    if (it == DefaultableFlags().end()) {
      throw std::logic_error("feature type " + feature_type + " names a default for --" + flag +
                             ", which ApplyFeatureTypeDefaults cannot set");
    }
    if (keep.count(flag)) continue;
    it->second(this, value);
    applied.push_back("--" + flag + " " + value);
  }
  return applied;
}

}  // namespace scalesfm
