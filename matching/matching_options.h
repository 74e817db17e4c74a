// The options of every matcher command, one struct per --Section, each field one flag
// (cli/options.cc binds them). The per-method sub-structs of the Matching section follow COLMAP's
// layout (SiftMatchingOptions inside the matching options).
#pragma once

#include <set>
#include <string>
#include <vector>

#include "feature/descriptor_matching.h"
#include "feature/extractor.h"
#include "matching/s2d_correspondence.h"
#include "matching/sequential_pairs.h"
#include "retrieval/image_retrieval.h"
#include "scale/scale_estimator.h"

namespace scalesfm {

// Which pairs a matcher command matches: --Matching.pair_list, --Matching.shard and
// --Matching.block_size (COLMAP keeps these in its ExhaustiveMatching section; scalesfm keeps the
// --Matching. names its users already have), and the pair source's own section. Independent of
// the matcher.
struct PairingOptions {
  // Set by the command, not a flag: "exhaustive" (exhaustive_matcher), "vocab_tree"
  // (vocab_tree_matcher: --VocabTreeMatching.*) or "sequential" (sequential_matcher:
  // --SequentialMatching.*). A pair list replaces the source's pairs.
  std::string source = "exhaustive";
  VocabTreeMatchingOptions vocab_tree;
  SequentialMatchingOptions sequential;
  // Optional "name1 name2" list instead of all pairs.
  std::string pair_list;
  // "i/n" (1 <= i <= n): match only the i-th of n contiguous slices of the pairs, so a large
  // collection can be matched by n processes; merge the databases with `scalesfm
  // database_merger`. Empty: all pairs.
  std::string shard;
  // Images per block of the exhaustive order; 2 * block_size descriptor sets are in memory.
  int block_size = 50;

  void Check() const;
};

// --Matching.s2dnet_*: the sparse-to-dense S2DNet matcher (matching/s2dnet_matcher.h).
struct S2DNetMatchOptions {
  std::string weights;  // empty: DefaultWeights("s2dnet_compact.pt")
  // search.confidence_threshold < 0 (the default): tau from the weights' sidecar
  // ("confidence_threshold", calibrated for that model), else the paper's 0.2.
  SparseToDenseOptions search = [] {
    SparseToDenseOptions o;
    o.confidence_threshold = -1;
    return o;
  }();
  double cyclic_radius = 4.0;  // pixels at the matching resolution; <= 0 turns the check off
  double snap_radius = 2.0;    // pixels in the original image
  int max_image_size = 1024;   // dense maps are computed at most at this size
  int cache_images = 6;        // dense maps held at once (per image and level)

  void Check() const;
};

// --Matching.dualrc_*: DualRC-Net dense matching (matching/dualrc_matcher.h).
struct DualRcMatchOptions {
  std::string weights;       // empty: DefaultWeights("dualrc_compact.pt")
  int max_image_size = 512;  // both images at most this size (the 4D volume is at 1/16 of it)
  // Fraction of A's coarse cells queried (by their best C_bar score; the official 0.5).
  double query_fraction = 0.5;
  int chunk_size = 1024;     // fine-map queries scored at once (bounds memory)
  bool subpixel = true;      // parabola-refined target cell; 0: the official integer cell
  double snap_radius = 2.0;  // pixels in the original image
  int cache_images = 6;      // feature maps (per image and level) held at once

  void Check() const;
};

// --Matching.*: the matcher (registered by name, matching/pair_matcher.cc) and its settings.
struct MatchingOptions {
  std::string type = "nn";
  NnMatchOptions nn;          // --Matching.{max_ratio,max_distance,cross_check,block_rows}
  S2DNetMatchOptions s2dnet;  // --Matching.s2dnet_*
  DualRcMatchOptions dualrc;  // --Matching.dualrc_*
  // Raw matches a dense matcher (dualrc) keeps per pair, best scores first.
  int max_num_matches = 4096;
  // Pairs written per database transaction (and per progress line).
  int pairs_per_commit = 32;
  int num_threads = -1;  // LibTorch intra-op threads; -1: all cores
  std::string device = "auto";
  // Write the raw matches and stop: no verification and no guided pass. slurm_matching's tasks
  // run so; the merged database is then verified once, as a single run would be.
  bool raw_matches_only = false;

  void Check() const;
  void ApplyThreads() const;  // sets LibTorch's intra-op threads from num_threads
};

// --ScaleMatching.*: the per-pair scale estimate and how SDAIM uses it.
struct ScaleMatchingOptions {
  // estimator.estimator: a name of ScaleEstimator::Names() ("none": plain matching).
  ScaleEstimatorOptions estimator;
  // Pairs with |log2 s| below this match their native levels, as stock matching would.
  double min_log2_scale = 0.5;
  // Rescaled pairs also keep the native-level matches (union; a keypoint keeps its first match),
  // so a wrong scale estimate cannot lose matches that native matching finds.
  bool keep_native = true;
  // Resize both images by exactly s^0.5 / s^-0.5 and extract again (ScaleNet's way) instead of
  // picking precomputed levels (D-ScaleNet's way). New keypoints join the image's keypoint list.
  bool reextract = false;
  // An oracle for evaluation (matching/covisible_region.h): each pair's descriptor matching sees
  // only the keypoints inside the pair's covisible region by the GT model at estimator.gt_path.
  bool gt_region = false;

  bool Enabled() const { return !ScaleEstimator::Traits(estimator.estimator).trivial; }
  void Check() const;
};

// --SiftMatching.* flags forwarded to `colmap matches_importer`, which verifies our raw matches,
// plus scalesfm's guided pass and process count.
struct VerificationOptions {
  // 8 px, not COLMAP's 4, and a 5 px guided band: the best-measured pair on the Strecha scenes
  // (docs/DESIGN_NOTES.md, "Verification and guided error bounds").
  double max_error = 8.0;
  double confidence = 0.999;
  int max_num_trials = 10000;
  double min_inlier_ratio = 0.25;
  int min_num_inliers = 15;
  bool multiple_models = false;
  // Done by scalesfm after COLMAP's verification (matching/guided_matching.h), not by COLMAP.
  // On by default, unlike COLMAP: it is the best-measured configuration (docs/DESIGN_NOTES.md).
  bool guided_matching = true;
  // scalesfm's: the Sampson/transfer band (pixels) of guided matching. <= 0: max_error.
  double guided_max_error = 5.0;
  // scalesfm's: the guided pass extends only verified pairs with at most this many inliers; <= 0:
  // every verified pair. Strong pairs register without it, and on them it added 1-2 matches per
  // verified one: points the mapper pays for (docs/DESIGN_NOTES.md, "Guided matching").
  int guided_max_num_inliers = 0;
  bool planar_scene = false;
  // One thread by default, unlike COLMAP (-1): COLMAP seeds each worker thread's RANSAC
  // generator with the same seed and hands out pairs in a run-dependent order, so multi-threaded
  // verification gives a different database on every run (docs/DESIGN_NOTES.md).
  int num_threads = 1;
  // scalesfm's, not COLMAP's: the pairs are split into this many contiguous slices, each verified
  // by its own `colmap matches_importer` (with num_threads threads) on a copy of the database,
  // in parallel; the geometries are then copied back, one transaction per slice. With one thread
  // per process, a run is reproducible for a given number of processes. -1: one per CPU core.
  int num_processes = -1;

  void Check() const;
  double GuidedMaxError() const { return guided_max_error > 0 ? guided_max_error : max_error; }
  // Number of processes for `num_pairs` pairs (at least 1, at most one per pair).
  int ResolvedNumProcesses(size_t num_pairs) const;
  std::vector<std::string> ToColmapArgs() const;
};

// Everything a matcher command takes: each section's flags and the image folder. Every command
// that matches (exhaustive_matcher, automatic_reconstructor, eval_eth, eval_imc, the benchmarks)
// fills one of these and calls RunMatching (matching/matching_controller.h).
struct MatchingConfig {
  // --image_path: for matchers and estimators that read the images, and for re-extraction.
  std::string image_path;
  PairingOptions pairing;
  MatchingOptions matching;
  ScaleMatchingOptions scale;
  VerificationOptions verification;
  // --Extraction.*: the extraction settings --ScaleMatching.reextract uses.
  ExtractionOptions extraction;

  // Every section's checks, and those that span sections (a reextracting or image-reading
  // configuration needs an image folder). Throws Error naming the flag.
  void Check() const;

  // Sets the matcher flags that suit features of `feature_type` (its
  // ExtractorTraits::matching_defaults), except those named in `keep` ("Section.option": set by
  // the user or by an evaluation preset). Returns "--flag value" for each flag it set, for the log.
  std::vector<std::string> ApplyFeatureTypeDefaults(const std::string& feature_type,
                                                    const std::set<std::string>& keep);
};

}  // namespace scalesfm
