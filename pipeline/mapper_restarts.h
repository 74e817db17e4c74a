// Restarts of `colmap mapper` from other initial pairs when its model leaves images out.
//
// COLMAP starts from a pair in the best-connected part of the view graph and grows the model
// from there. When a weakly connected part of the scene also has false pairs to a look-alike
// part (castle-P19-zoom's twin facades), the weak part is attached through the false pairs
// before its own true pairs can be used: its images end up misplaced or unregistered. Starting
// from the two strongest partners of an image that was left out builds that part first, and
// the well-connected rest then joins it through many true correspondences. DESIGN_NOTES,
// "Mapper restarts".
#pragma once

#include <cstddef>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "colmap_ext/reconstruction.h"
#include "colmap_ext/types.h"
#include "pipeline/mapper_options.h"

namespace scalesfm {

struct InitPair {
  image_t image_id1 = 0;
  image_t image_id2 = 0;
  size_t num_inliers = 0;
};

// Images with at least one pair of `min_num_matches` or more verified inliers: the images the
// mapper can use at all (COLMAP's --Mapper.min_num_matches).
std::set<image_t> RegistrableImages(const std::unordered_map<image_pair_t, size_t>& num_inliers,
                                    size_t min_num_matches);

// Initial pairs to restart from, best first, at most `max_pairs`. For each registrable image
// outside `registered` (the image with the most verified inliers first), its partners are
// ranked by inliers with it; pairs of partners (a, b) follow by the sum of their two ranks, and
// one is a candidate when a and b share at least `init_min_num_inliers` verified inliers
// (COLMAP's --Mapper.init_min_num_inliers) and it is not in `tried`. Left-out images take turns,
// so each one's best candidate comes before any image's second.
std::vector<InitPair> RestartInitPairs(const std::unordered_map<image_pair_t, size_t>& num_inliers,
                                       const std::set<image_t>& registered,
                                       const std::set<image_pair_t>& tried, size_t min_num_matches,
                                       size_t init_min_num_inliers, size_t max_pairs);

// The initial pairs a colmap mapper log names ("Initializing with image pair #a and #b").
std::set<image_pair_t> TriedInitPairs(const std::string& mapper_log);

// The value given to `--Mapper.<name>` in `args` ("--Mapper.x v" or "--Mapper.x=v"), if any.
std::optional<std::string> FindMapperArg(const std::vector<std::string>& args,
                                         const std::string& name);

// The smallest model a small-model run keeps (COLMAP's own floor for a model is 2 images).
constexpr size_t kSmallModelSize = 3;

// COLMAP 3.8 keeps a model only if it registers at least min(--Mapper.min_model_size (10),
// images with a verified pair) images, so one image that has pairs but does not register makes
// it drop every model of a small scene (DESIGN_NOTES, "A COLMAP 3.8 mapper rule"). When the first
// run kept no model although its log shows that it initialised one (`mapper_log` names an
// initial pair), these are `args` plus --Mapper.min_model_size kSmallModelSize for a second run.
// None when the user chose --Mapper.min_model_size, when COLMAP found no initial pair, or when
// fewer than kSmallModelSize images are registrable.
std::optional<std::vector<std::string>> SmallModelMapperArgs(const std::vector<std::string>& args,
                                                             const std::string& mapper_log,
                                                             size_t num_registrable);

// COLMAP 3.8's default --Mapper.min_model_size.
constexpr size_t kColmapMinModelSize = 10;

// The first run's arguments. On a scene of at most kColmapMinModelSize registrable images,
// COLMAP's floor min(min_model_size, images) asks a model to hold every registrable image, so one
// image that does not register makes it build and drop a model from each of its initial pairs
// (up to 200) before a small-model run maps again. There the first run gets --Mapper.min_model_size
// kSmallModelSize instead: the small-model run's arguments, one run sooner. Otherwise, and when
// the user chose --Mapper.min_model_size, `args` unchanged.
std::vector<std::string> FirstMapperArgs(const std::vector<std::string>& args,
                                         size_t num_registrable);

// scalesfm's cap on the iterations of COLMAP's local bundle adjustment (COLMAP 3.8: 25). Its
// models carry 3-4x stock's points (the extra levels and the guided pass), local BA ran into
// the cap on most registrations, and it cost most of the mapping time; the global BA (COLMAP's
// 50 iterations) still refines every model, the final one included. Measured in BENCHMARKS,
// "Issue 24 (continued, 2026-12-07)".
constexpr int kLocalBundleMaxIterations = 10;

// `args` plus --Mapper.ba_local_max_num_iterations kLocalBundleMaxIterations, unless the user
// set that option.
std::vector<std::string> WithLocalBundleCap(std::vector<std::string> args);

// More registered images, then more observations.
bool IsBetterModel(const ReconstructionStats& a, const ReconstructionStats& b);

}  // namespace scalesfm
