// images -> features -> matches -> COLMAP verification -> COLMAP mapper, stage by stage.
#pragma once

#include <string>
#include <vector>

#include "colmap_ext/colmap_runner.h"
#include "colmap_ext/reconstruction.h"
#include "feature/extraction_pipeline.h"
#include "matching/matching_controller.h"
#include "pipeline/mapper_restarts.h"

namespace scalesfm {

// Writes cameras and image rows for every image of `model_path` (a COLMAP model, e.g. GT) that
// exists below `image_path`, so extraction uses these intrinsics. Images already in the
// database are left alone. Returns the number of images imported.
size_t ImportIntrinsicsFromModel(const std::string& database_path, const std::string& model_path,
                                 const std::string& image_path);

// Writes, for each of `image_names` below `image_path` not yet in the database, an image row and
// a camera of `camera_model` with COLMAP's default initialisation and no focal prior: focal
// default_focal_length_factor * max(width, height), principal point at the centre, whatever
// EXIF the file has. (What `colmap feature_extractor` gives a photo without EXIF, applied to
// photos with it: IMC 2020's multiview setting.) Returns the number of images imported.
size_t ImportPriorlessCameras(const std::string& database_path, const std::string& image_path,
                              const std::vector<std::string>& image_names,
                              const std::string& camera_model, double default_focal_length_factor);

// COLMAP mapper options that keep intrinsics fixed (when they come from a known model).
std::vector<std::string> FixedIntrinsicsMapperArgs();

struct MapperResult {
  std::string model_path;  // largest model, empty if none
  size_t num_models = 0;
  ReconstructionStats stats;
  double seconds = 0;
};

// Throws Error for invalid options, or for --Mapper.type global with a colmap binary that has
// no global_mapper (COLMAP 3.8): called before any work.
void CheckMapperSupported(const MapperOptions& options, const ColmapRunner& colmap);

// Incremental (options.type): runs `colmap mapper` into `output_path` (created) with extra
// `--Mapper.*` arguments, restarts it from other initial pairs while its largest model leaves
// registrable images out (up to `options.max_init_pairs` runs, keeping the best model;
// mapper_restarts.h). Global: one `colmap global_mapper` run, with the arguments it shares
// (GlobalMapperArgs; the others are named in a warning). Reads back the largest model. No
// model is a result with zeros, not an error.
MapperResult RunMapper(const std::string& database_path, const std::string& image_path,
                       const std::string& output_path, const std::vector<std::string>& mapper_args,
                       const MapperOptions& options, const ColmapRunner& colmap,
                       const std::string& log_path);

struct AutomaticReconstructionOptions {
  std::string image_path;
  std::string workspace_path;
  // Optional COLMAP model whose intrinsics are imported and held fixed.
  std::string fixed_intrinsics_path;
  ImageReaderOptions reader;
  ExtractionOptions extraction;
  // Every matching section; its image_path and extraction are taken from the fields above.
  MatchingConfig matching;
  std::vector<std::string> mapper_args;
  MapperOptions mapper;
};

struct AutomaticReconstructionResult {
  ExtractionSummary extraction;
  MatchingSummary matching;
  MapperResult mapper;
};

// database.db and sparse/ under the workspace; resumable stage by stage.
AutomaticReconstructionResult RunAutomaticReconstruction(
    const AutomaticReconstructionOptions& options, const ColmapRunner& colmap);

void PrintReconstructionStats(const ReconstructionStats& stats);

}  // namespace scalesfm
