// The evaluators' methods as tables of named presets, in the manner of hloc's `confs`: a method
// name maps to a function that sets the few pipeline options that make the method, on top of
// the evaluation's own settings (feature counts, threads, paths). Adding a method is one entry
// in one table of method_presets.cc; the known-method lists and errors come from the tables.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "feature/extractor.h"
#include "matching/matching_options.h"
#include "pipeline/mapper_restarts.h"

namespace scalesfm {

// One named method of a table.
template <typename Config>
struct Preset {
  Preset(std::string name, std::string description, std::function<void(Config*)> apply,
         std::string listed_as = "")
      : name(std::move(name)),
        description(std::move(description)),
        apply(std::move(apply)),
        listed_as(std::move(listed_as)) {}

  std::string name;         // what --methods takes
  std::string description;  // what the method is, for readers of the table
  std::function<void(Config*)> apply;
  // Presets generated for every member of a family (one per scale estimator) are listed once,
  // under this name ("scalesfm-<estimator>"); empty: listed as `name`.
  std::string listed_as;
};

// The preset called `name`, or nullptr.
template <typename Config>
const Preset<Config>* FindPreset(const std::vector<Preset<Config>>& presets,
                                 const std::string& name) {
  for (const Preset<Config>& p : presets) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

// "a, b, c": the presets in table order, each family once.
template <typename Config>
std::string PresetNames(const std::vector<Preset<Config>>& presets) {
  std::vector<std::string> listed;
  for (const Preset<Config>& p : presets) {
    const std::string& label = p.listed_as.empty() ? p.name : p.listed_as;
    if (listed.empty() || listed.back() != label) listed.push_back(label);
  }
  std::string out;
  for (const std::string& label : listed) out += (out.empty() ? "" : ", ") + label;
  return out;
}

// What a scalesfm method of eval_eth (and eval_imc) sets. Presets set only extraction.{type,
// levels, sift_normalization}, matching.{type, nn.max_ratio, nn.max_distance},
// scale.{estimator.estimator, reextract, keep_native}, verification.guided_matching and
// mapper_restarts; the evaluation sets the rest.
struct MethodConfig {
  ExtractionOptions extraction;
  MatchingOptions matching;  // type "nn" (descriptors, scale-aware) or "s2dnet"
  ScaleMatchingOptions scale;
  VerificationOptions verification;
  bool mapper_restarts = MapperOptions().max_init_pairs > 0;
};
using MethodPreset = Preset<MethodConfig>;

// scalesfm, scalesfm-plain, scalesfm-<estimator> (every ScaleEstimator::Names() and none),
// scalesfm-reextract, scalesfm-levels-only, scalesfm-scfeat, scalesfm-scfeat-sdaim,
// scalesfm-s2dnet, scalesfm-s2dnet-scale, scalesfm-dualrc, scalesfm-dualrc-scale.
const std::vector<MethodPreset>& ScalesfmMethodPresets();

// The suffixes any scalesfm method takes, in any order, for the help text.
extern const char kScalesfmSuffixHelp[];

// Sets `config` for `name`: a preset name followed by any of the suffixes "-noguided" (no
// guided matching after verification), "-guided" (guided matching: the default) and
// "-norestart" (one mapper run, without restarts from other initial pairs). Returns false,
// leaving `config` as it was, for other names.
bool ConfigureScalesfmMethod(const std::string& name, MethodConfig* config);

// A stock-COLMAP method of eval_eth: the flags it adds to `colmap feature_extractor` and to
// `colmap exhaustive_matcher` / `matches_importer`, on top of the evaluation's own (GPU off,
// threads, feature count).
struct StockColmapConfig {
  std::vector<std::string> extraction_args;
  std::vector<std::string> matching_args;
  std::vector<std::string> mapper_args;
};
using StockColmapPreset = Preset<StockColmapConfig>;

// colmap-default, colmap-best, colmap-small-models.
const std::vector<StockColmapPreset>& StockColmapPresets();

// What an eval_sdaim method sets on the SIFT pipeline of one homography pair.
struct SdaimMethodConfig {
  ExtractionOptions extraction;  // levels
  ScaleMatchingOptions scale;    // estimator, reextract
  bool gt_scale = false;         // the pair's GT scale is cached as the estimate before matching
};
using SdaimMethodPreset = Preset<SdaimMethodConfig>;

// native, sdaim, sdaim-gt, sdaim-reextract.
const std::vector<SdaimMethodPreset>& SdaimMethodPresets();

// What an eval_features method sets (extraction.{type, levels, sift_normalization} and
// matching.{type, nn.max_ratio, nn.max_distance}).
struct FeatureMethodConfig {
  ExtractionOptions extraction;  // keypoints (and descriptors) of A and B
  // SCFeat options whose descriptors, sampled at `extraction`'s keypoints, replace its own.
  std::optional<ExtractionOptions> describer;
  // type "nn": nearest neighbours of A's and B's descriptors (mutual, no ratio or distance
  // test: the paper's protocol); "s2dnet": A's keypoints found sparse-to-dense in B, which is
  // not extracted; "dualrc": dense matches of both images (neither is extracted).
  MatchingOptions matching;
  // dualrc: both images at their SDAIM levels for the pair's GT scale (else at max size).
  bool sdaim_gt_scale = false;
};
using FeatureMethodPreset = Preset<FeatureMethodConfig>;

// scfeat, sift, rootsift, s2dnet, dualrc, dualrc-gt-scale, scfeat-at-sift.
const std::vector<FeatureMethodPreset>& FeatureMethodPresets();

// The eval_features method `name` on top of `base` (the command line's extraction options);
// throws Error naming the known methods for other names.
FeatureMethodConfig ConfigureFeatureMethod(const std::string& name, const ExtractionOptions& base);

}  // namespace scalesfm
