#include "eval_common/method_presets.h"

#include <cmath>

#include "feature/scale_levels.h"
#include "scale/scale_estimator.h"
#include "util/logging.h"

namespace scalesfm {
namespace {

// Mutual nearest neighbours without ratio or distance test, as the learned-feature papers match.
void UseMutualNearestNeighbours(MatchingOptions* matching) {
  matching->nn.max_ratio = 1.0;
  matching->nn.max_distance = M_PI;
}

// The factors of --Extraction.levels auto that are at most `max_factor`, as a level list.
std::string AutoLevelsUpTo(double max_factor) {
  std::string spec;
  for (double f : ParseLevelSpec("auto")) {
    if (f > max_factor * (1 + 1e-9)) continue;
    spec += (spec.empty() ? "" : ",") + StringPrintf("%.17g", f);
  }
  return spec;
}

// One level of `type` features; `sift_normalization` is SIFT's descriptor normalisation.
void SingleLevel(const std::string& type, const std::string& sift_normalization,
                 ExtractionOptions* extraction) {
  extraction->type = type;
  extraction->levels = "1";
  extraction->sift_normalization = sift_normalization;
}

std::vector<MethodPreset> MakeScalesfmMethodPresets() {
  std::vector<MethodPreset> presets = {
      {"scalesfm", "the defaults: SIFT at levels auto, sift_vote scale estimates",
       [](MethodConfig*) {}},
      {"scalesfm-plain", "single level, no scale estimation",
       [](MethodConfig* c) {
         c->extraction.levels = "1";
         c->scale.estimator.estimator = "none";
       }},
  };
  // Every registered estimator, "none" included.
  for (const std::string& estimator : ScaleEstimator::Names()) {
    presets.push_back({"scalesfm-" + estimator, "the defaults with scale estimator " + estimator,
                       [estimator](MethodConfig* c) { c->scale.estimator.estimator = estimator; },
                       "scalesfm-<estimator>"});
  }
  const std::vector<MethodPreset> more = {
      {"scalesfm-reextract", "rescaled pairs extract again at exactly s^+-0.5 (ScaleNet's way)",
       [](MethodConfig* c) { c->scale.reextract = true; }},
      {"scalesfm-levels-only", "rescaled pairs drop their native matches",
       [](MethodConfig* c) { c->scale.keep_native = false; }},
      {"scalesfm-gt-region",
       "oracle: the GT scale of every pair (scalesfm-gt) and matching only inside its GT "
       "covisible region",
       [](MethodConfig* c) {
         c->scale.estimator.estimator = "gt";
         c->scale.gt_region = true;
       }},
      {"scalesfm-noup", "levels auto without the upsampled sqrt(2) level (1/8 ... 1)",
       [](MethodConfig* c) { c->extraction.levels = AutoLevelsUpTo(1.0); }},
      {"scalesfm-scfeat", "learned SCFeat features, single level, no scale estimate",
       [](MethodConfig* c) {
         c->extraction.type = "scfeat";
         c->extraction.levels = "1";
         c->scale.estimator.estimator = "none";
         UseMutualNearestNeighbours(&c->matching);
       }},
      {"scalesfm-scfeat-sdaim", "SCFeat with SDAIM re-extraction at sift_vote's scale",
       [](MethodConfig* c) {
         c->extraction.type = "scfeat";
         c->extraction.levels = "1";
         c->scale.estimator.estimator = "sift_vote";
         c->scale.reextract = true;
         UseMutualNearestNeighbours(&c->matching);
       }},
      // S2DNet's dense maps take the levels' place.
      {"scalesfm-s2dnet",
       "single-level RootSIFT keypoints, S2DNet sparse-to-dense matching, no scale estimate",
       [](MethodConfig* c) {
         c->extraction.levels = "1";
         c->scale.estimator.estimator = "none";
         c->matching.type = "s2dnet";
       }},
      {"scalesfm-s2dnet-scale", "scalesfm-s2dnet with sift_vote and SDAIM levels",
       [](MethodConfig* c) {
         c->extraction.levels = "1";
         c->matching.type = "s2dnet";
       }},
      // DualRC-Net matches dense cells; the SIFT keypoints are points to snap to.
      {"scalesfm-dualrc",
       "single-level RootSIFT keypoints, DualRC-Net dense matching, no scale estimate",
       [](MethodConfig* c) {
         c->extraction.levels = "1";
         c->scale.estimator.estimator = "none";
         c->matching.type = "dualrc";
       }},
      {"scalesfm-dualrc-scale", "scalesfm-dualrc with sift_vote and SDAIM levels",
       [](MethodConfig* c) {
         c->extraction.levels = "1";
         c->matching.type = "dualrc";
       }},
  };
  presets.insert(presets.end(), more.begin(), more.end());
  return presets;
}

std::vector<FeatureMethodPreset> MakeFeatureMethodPresets() {
  const auto rootsift = [](ExtractionOptions* e) { SingleLevel("sift", "l1_root", e); };
  return {
      {"scfeat", "learned SCFeat keypoints and descriptors",
       [](FeatureMethodConfig* c) { SingleLevel("scfeat", "l1_root", &c->extraction); }},
      {"sift", "OpenCV SIFT, L2-normalised descriptors",
       [](FeatureMethodConfig* c) { SingleLevel("sift", "l2", &c->extraction); }},
      {"rootsift", "RootSIFT, scalesfm's default SIFT",
       [rootsift](FeatureMethodConfig* c) { rootsift(&c->extraction); }},
      {"s2dnet", "RootSIFT keypoints in A found sparse-to-dense in B by S2DNet",
       [rootsift](FeatureMethodConfig* c) {
         rootsift(&c->extraction);
         c->matching.type = "s2dnet";
       }},
      {"dualrc", "DualRC-Net dense matches, both images at --Matching.dualrc_max_image_size",
       [rootsift](FeatureMethodConfig* c) {
         rootsift(&c->extraction);
         c->matching.type = "dualrc";
       }},
      {"dualrc-gt-scale",
       "DualRC-Net with both images at their SDAIM levels for the pair's GT scale",
       [rootsift](FeatureMethodConfig* c) {
         rootsift(&c->extraction);
         c->matching.type = "dualrc";
         c->sdaim_gt_scale = true;
       }},
      {"scfeat-at-sift", "SCFeat descriptors at RootSIFT keypoints (without SCFeat's detector)",
       [rootsift](FeatureMethodConfig* c) {
         c->describer = c->extraction;
         SingleLevel("scfeat", "l1_root", &*c->describer);
         rootsift(&c->extraction);
       }},
  };
}

}  // namespace

const std::vector<MethodPreset>& ScalesfmMethodPresets() {
  static const std::vector<MethodPreset> presets = MakeScalesfmMethodPresets();
  return presets;
}

const char kScalesfmSuffixHelp[] =
    "any scalesfm method + \"-norestart\" (one mapper run, without restarts from other initial "
    "pairs) and/or + \"-noguided\" (without guided matching, which is on by default) or + "
    "\"-guided\" (with it: the same as the default) and/or + \"-guidedmax<N>\" "
    "(--SiftMatching.guided_max_num_inliers N; 0: guided matching of every verified pair)";

bool ConfigureScalesfmMethod(const std::string& name, MethodConfig* config) {
  std::string method = name;
  const auto strip = [&](const std::string& suffix) {
    const bool has = method.size() > suffix.size() &&
                     method.compare(method.size() - suffix.size(), suffix.size(), suffix) == 0;
    if (has) method.resize(method.size() - suffix.size());
    return has;
  };
  std::optional<bool> guided, restarts;  // set by a suffix
  std::optional<int> guided_max_num_inliers;
  // "-guidedmax<N>": --SiftMatching.guided_max_num_inliers N.
  const auto strip_guided_max = [&]() {
    const std::string prefix = "-guidedmax";
    const size_t digits = method.find_last_not_of("0123456789") + 1;
    if (digits == method.size() || digits < prefix.size() ||
        method.compare(digits - prefix.size(), prefix.size(), prefix) != 0 ||
        method.size() - digits > 6) {
      return false;
    }
    guided_max_num_inliers = std::stoi(method.substr(digits));
    method.resize(digits - prefix.size());
    return true;
  };
  for (;;) {
    if (strip_guided_max()) {
      continue;
    } else if (strip("-noguided")) {
      guided = false;
    } else if (strip("-guided")) {
      guided = true;
    } else if (strip("-norestart")) {
      restarts = false;
    } else {
      break;
    }
  }
  const MethodPreset* preset = FindPreset(ScalesfmMethodPresets(), method);
  if (preset == nullptr) return false;
  preset->apply(config);
  if (guided) config->verification.guided_matching = *guided;
  if (restarts) config->mapper_restarts = *restarts;
  if (guided_max_num_inliers) {
    config->verification.guided_max_num_inliers = *guided_max_num_inliers;
  }
  return true;
}

const std::vector<StockColmapPreset>& StockColmapPresets() {
  static const std::vector<StockColmapPreset> presets = {
      {"colmap-default", "stock COLMAP with its defaults", [](StockColmapConfig*) {}},
      {"colmap-best", "stock COLMAP with DSP-SIFT, affine shapes and guided matching",
       [](StockColmapConfig* c) {
         c->extraction_args = {"--SiftExtraction.domain_size_pooling", "1",
                               "--SiftExtraction.estimate_affine_shape", "1"};
         c->matching_args = {"--SiftMatching.guided_matching", "1"};
       }},
      // COLMAP 3.8 drops every model under min(10, images with a verified pair) images, which
      // on a scene of 8-10 images often leaves stock with no model (DESIGN_NOTES, "A COLMAP 3.8
      // mapper rule"); scalesfm's mapper retries with 3. This is stock with that floor from the
      // start, so a comparison separates the matching from the rule.
      {"colmap-small-models", "stock COLMAP with --Mapper.min_model_size 3",
       [](StockColmapConfig* c) {
         c->mapper_args = {"--Mapper.min_model_size", "3"};
       }},
  };
  return presets;
}

const std::vector<SdaimMethodPreset>& SdaimMethodPresets() {
  static const std::vector<SdaimMethodPreset> presets = {
      {"native", "single level, no scale estimate",
       [](SdaimMethodConfig* c) {
         c->extraction.levels = "1";
         c->scale.estimator.estimator = "none";
       }},
      {"sdaim", "scale levels, SDAIM at sift_vote's estimate",
       [](SdaimMethodConfig* c) { c->extraction.levels = "auto"; }},
      {"sdaim-gt", "scale levels, SDAIM at the GT scale",
       [](SdaimMethodConfig* c) {
         c->extraction.levels = "auto";
         c->gt_scale = true;
       }},
      {"sdaim-reextract", "single level, both images resized by the estimate and extracted again",
       [](SdaimMethodConfig* c) {
         c->extraction.levels = "1";
         c->scale.reextract = true;
       }},
  };
  return presets;
}

const std::vector<FeatureMethodPreset>& FeatureMethodPresets() {
  static const std::vector<FeatureMethodPreset> presets = MakeFeatureMethodPresets();
  return presets;
}

FeatureMethodConfig ConfigureFeatureMethod(const std::string& name, const ExtractionOptions& base) {
  const FeatureMethodPreset* preset = FindPreset(FeatureMethodPresets(), name);
  if (preset == nullptr) {
    throw Error("unknown eval_features method '" + name +
                "' (known: " + PresetNames(FeatureMethodPresets()) + ")");
  }
  FeatureMethodConfig config;
  config.extraction = base;
  UseMutualNearestNeighbours(&config.matching);  // the protocol, for every method
  preset->apply(&config);
  return config;
}

}  // namespace scalesfm
