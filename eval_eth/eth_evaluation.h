// The ETH local-feature evaluation (Schonberger et al., CVPR 2017): each method runs end to end
// on a dataset folder (images/, optional gt/ and match-list.txt) in its own workspace; we report
// reconstruction statistics, per-stage wall time and, with gt/, pose accuracy.
#pragma once

#include <string>
#include <vector>

#include "eval_eth/eth_results.h"
#include "pipeline/reconstruction_pipeline.h"

namespace scalesfm {

// Every eval_eth method name, for --methods' help and the unknown-method error.
extern const char kEthMethodNames[];

// scalesfm method names: "scalesfm" (the defaults: levels auto, sift_vote), "scalesfm-plain"
// (single level, no scale estimation), "scalesfm-<estimator>", "scalesfm-reextract",
// "scalesfm-levels-only" (rescaled pairs without their native matches), "scalesfm-scfeat"
// (SCFeat, single level, no scale estimate), "scalesfm-scfeat-sdaim" (SCFeat with SDAIM
// re-extraction at sift_vote's scale), "scalesfm-s2dnet" (single-level RootSIFT keypoints,
// S2DNet sparse-to-dense matching, no scale estimate) and "scalesfm-s2dnet-scale" (the same with
// sift_vote and SDAIM levels). Suffixes, in any order, set `suffixes`: guided matching after
// verification is on as by default; "-noguided" turns it off, "-guided" states the default.
// Mapper restarts (mapper_restarts.h) are on as by default; "-norestart" turns them off.
// Returns false for other names.
struct MethodSuffixes {
  bool guided_matching = VerificationOptions().guided_matching;
  bool mapper_restarts = MapperRestartOptions().max_init_pairs > 0;
};
bool ConfigureScalesfmMethod(const std::string& method, ExtractionOptions* extraction,
                             ScaleMatchingOptions* scale, MethodSuffixes* suffixes = nullptr);

// The matcher a scalesfm method uses: "s2dnet" for scalesfm-s2dnet*, else "nn".
std::string ScalesfmMatcherType(const std::string& method);

// One method's database for one dataset folder (images/, optional gt/ and match-list.txt).
struct MethodDatabase {
  std::string database_path, image_path, gt_path, log_path;
  bool has_gt = false;
  std::vector<std::string> mapper_args;  // threads, and fixed intrinsics with gt/
  MapperRestartOptions restarts;         // none for colmap-* and "-norestart" methods
  double extraction_seconds = 0, matching_seconds = 0;
};

// Runs extraction and matching of `method` (scalesfm* or colmap-default/colmap-best) into
// `workspace`/database.db, created afresh; GT intrinsics are imported first when gt/ exists.
MethodDatabase PrepareMethodDatabase(const std::string& dataset, const std::string& method,
                                     int max_num_features, int num_threads,
                                     const std::string& workspace, const ColmapRunner& colmap);

struct EthEvaluationOptions {
  std::vector<std::string> dataset_paths;
  std::string output_path;
  // scalesfm (our SIFT pipeline), colmap-default, colmap-best (DESIGN.md baselines).
  std::vector<std::string> methods = {"scalesfm", "colmap-default"};
  int max_num_features = 8192;
  int num_threads = -1;
  int repetitions = 1;

  void Check() const;
};

// Runs every method on every dataset; writes results.json, results.csv and results.md to
// output_path and returns the rows.
std::vector<EthResult> RunEthEvaluation(const EthEvaluationOptions& options,
                                        const ColmapRunner& colmap);

std::string FormatMarkdownTable(const std::vector<EthResult>& results);

// Run-to-run agreement of one (dataset, method) over its repetitions (issue 3: registration
// counts equal and mAA@10 within kRepeatabilityTolerance).
constexpr double kRepeatabilityTolerance = 0.02;
struct RepeatabilityRow {
  std::string dataset, method;
  int runs = 0;
  size_t num_images = 0, min_registered = 0, max_registered = 0;
  bool has_gt = false;
  double min_maa10 = 0, max_maa10 = 0, mean_maa10 = 0;
};
std::vector<RepeatabilityRow> SummarizeRepetitions(const std::vector<EthResult>& results);
std::string FormatRepeatabilityTable(const std::vector<RepeatabilityRow>& rows);
// The per-run table, followed by the repeatability table when any method ran more than once.
std::string FormatResultsMarkdown(const std::vector<EthResult>& results);

}  // namespace scalesfm
