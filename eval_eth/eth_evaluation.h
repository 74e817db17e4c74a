// The ETH local-feature evaluation (Schonberger et al., CVPR 2017): each method runs end to end
// on a dataset folder (images/, optional gt/ and match-list.txt) in its own workspace; we report
// reconstruction statistics, per-stage wall time and, with gt/, pose accuracy.
#pragma once

#include <string>
#include <vector>

#include "eval_eth/eth_results.h"
#include "pipeline/reconstruction_pipeline.h"

namespace scalesfm {

// Every eval_eth method name, for --methods' help and the unknown-method error: the scalesfm
// presets (eval_common/method_presets.h), colmap-default, colmap-best and the suffixes.
extern const std::string kEthMethodNames;

// Where the evaluated cameras' intrinsics come from (--intrinsics), the same for every method:
//  - gt: the dataset's gt/ cameras, held fixed by bundle adjustment (matching quality alone;
//    without gt/ the images' EXIF or COLMAP's default, as in exif/free);
//  - exif: each image's EXIF focal length (scalesfm's image reader, colmap's own for stock
//    methods: the same prior, tests/image_reader_test.cc), SIMPLE_RADIAL with the principal
//    point at the centre, refined as COLMAP does by default (focal length and distortion);
//    every image must have EXIF focal information;
//  - free: no prior, COLMAP's 1.2 * max(w, h) and centred principal point, refined: IMC 2020's
//    multiview setting.
extern const char kIntrinsicsModes[];  // "gt, exif, free"
void CheckIntrinsicsMode(const std::string& mode);

// One method's database for one dataset folder (images/, optional gt/ and match-list.txt).
struct MethodDatabase {
  std::string database_path, image_path, gt_path, log_path;
  bool has_gt = false;
  std::vector<std::string> mapper_args;  // threads, and fixed intrinsics in gt mode with gt/
  MapperOptions mapper;                  // no restarts for colmap-* and "-norestart" methods
  double extraction_seconds = 0, matching_seconds = 0;
};

// Runs extraction and matching of `method` (scalesfm* or colmap-default/colmap-best) into
// `workspace`/database.db, created afresh, with the cameras of `intrinsics` (see above).
// `device` (--device) runs scalesfm's extraction, matching and scale estimation; stock COLMAP
// always extracts and matches on the CPU (Debian's colmap has no CUDA).
MethodDatabase PrepareMethodDatabase(const std::string& dataset, const std::string& method,
                                     int max_num_features, int num_threads,
                                     const std::string& workspace, const ColmapRunner& colmap,
                                     const std::string& device = "auto",
                                     const std::string& intrinsics = "gt");

struct EthEvaluationOptions {
  std::vector<std::string> dataset_paths;
  std::string output_path;
  // scalesfm (our SIFT pipeline), colmap-default, colmap-best (DESIGN.md baselines).
  std::vector<std::string> methods = {"scalesfm", "colmap-default"};
  int max_num_features = 8192;
  int num_threads = -1;
  int repetitions = 1;
  std::string device = "auto";  // --device: scalesfm's stages (auto | cpu | cuda)
  // --intrinsics: gt by default, so pose accuracy and registration measure the matches alone
  // (as every earlier table); exif and free are what users and IMC 2020 have.
  std::string intrinsics = "gt";
  // --Mapper.type: incremental (colmap mapper) or global (COLMAP 4's global_mapper), for every
  // method.
  std::string mapper_type = "incremental";

  void Check() const;
};

// Runs every method on every dataset; writes results.json, results.csv and results.md to
// output_path and returns the rows.
std::vector<EthResult> RunEthEvaluation(const EthEvaluationOptions& options,
                                        const ColmapRunner& colmap);

std::string FormatMarkdownTable(const std::vector<EthResult>& results);
// Registered / images per view type (wide, zoom2, ...) per run, and summed per method. "" when
// no dataset names its views so.
std::string FormatViewTable(const std::vector<EthResult>& results);
// Per method and view type: unregistered images by where they were lost. "" when none was.
std::string FormatLostTable(const std::vector<EthResult>& results);

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
