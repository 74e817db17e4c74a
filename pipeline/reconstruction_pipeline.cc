#include "pipeline/reconstruction_pipeline.h"

#include <filesystem>
#include <set>

#include "colmap_ext/database.h"
#include "util/logging.h"
#include "util/progress.h"

namespace scalesfm {
namespace fs = std::filesystem;

size_t ImportIntrinsicsFromModel(const std::string& database_path, const std::string& model_path,
                                 const std::string& image_path) {
  const Reconstruction model = Reconstruction::Read(model_path);
  Database db(database_path);
  Database::Transaction transaction(&db);
  // Into an empty database the model's own camera and image ids are kept, so the model and the
  // database agree (as `colmap point_triangulator` requires).
  const bool keep_ids = db.NumImages() == 0 && db.ReadAllCameras().empty();
  size_t imported = 0;
  std::set<camera_t> written_cameras;
  for (const auto& [id, image] : model.images) {
    if (db.ReadImageWithName(image.name)) continue;
    if (!fs::exists(fs::path(image_path) / image.name)) {
      throw Error("model " + model_path + " names image " + image.name + ", which is not in " +
                  image_path);
    }
    Camera camera = model.cameras.at(image.camera_id);
    camera.has_prior_focal_length = true;
    Image db_image;
    db_image.name = image.name;
    db_image.image_id = image.image_id;
    // With kept ids, images that share a GT camera share its database row.
    const bool camera_written = keep_ids && written_cameras.count(camera.camera_id) > 0;
    db_image.camera_id = camera_written ? camera.camera_id : db.WriteCamera(camera, keep_ids);
    written_cameras.insert(db_image.camera_id);
    db.WriteImage(db_image, keep_ids);
    ++imported;
  }
  transaction.Commit();
  return imported;
}

std::vector<std::string> FixedIntrinsicsMapperArgs() {
  return {"--Mapper.ba_refine_focal_length", "0", "--Mapper.ba_refine_principal_point", "0",
          "--Mapper.ba_refine_extra_params", "0"};
}

MapperResult RunMapper(const std::string& database_path, const std::string& image_path,
                       const std::string& output_path, const std::vector<std::string>& mapper_args,
                       const ColmapRunner& colmap, const std::string& log_path) {
  PrintHeading1("Incremental mapping (colmap mapper)");
  Timer timer;
  fs::create_directories(output_path);
  std::vector<std::string> args = {"--database_path", database_path,   "--image_path",
                                   image_path,        "--output_path", output_path};
  args.insert(args.end(), mapper_args.begin(), mapper_args.end());
  // COLMAP 3.8 exits with 1 ("failed to create sparse model") when no initial pair is found.
  // That is a result (nothing registered), not an error; other failures still throw.
  const ColmapRunResult run = colmap.Run("mapper", args, log_path, /*throw_on_failure=*/false);
  if (run.exit_code != 0 && run.log.find("failed to create sparse model") == std::string::npos) {
    ThrowColmapFailure("mapper", run);
  }
  MapperResult result;
  result.seconds = timer.ElapsedSeconds();
  const std::vector<std::string> models = ListModels(output_path);
  result.num_models = models.size();
  if (!models.empty()) {
    result.model_path = models.front();
    result.stats = Reconstruction::Read(result.model_path).ComputeStats();
  } else {
    LogWarning("colmap mapper produced no model (too few registrable images)");
  }
  PrintReconstructionStats(result.stats);
  PrintElapsedTime(result.seconds);
  return result;
}

void PrintReconstructionStats(const ReconstructionStats& s) {
  LogInfo(StringPrintf("Registered images: %zu", s.num_images));
  LogInfo(StringPrintf("Points:            %zu", s.num_points));
  LogInfo(StringPrintf("Observations:      %zu", s.num_observations));
  LogInfo(StringPrintf("Mean track length: %.4f", s.mean_track_length));
  LogInfo(StringPrintf("Mean reprojection error: %.4f px", s.mean_reprojection_error));
}

AutomaticReconstructionResult RunAutomaticReconstruction(
    const AutomaticReconstructionOptions& options, const ColmapRunner& colmap) {
  colmap.ResolveBinary();
  fs::create_directories(options.workspace_path);
  const std::string database_path = (fs::path(options.workspace_path) / "database.db").string();
  const std::string log_path = (fs::path(options.workspace_path) / "scalesfm_colmap.log").string();
  std::vector<std::string> mapper_args = options.mapper_args;
  if (!options.fixed_intrinsics_path.empty()) {
    const size_t n =
        ImportIntrinsicsFromModel(database_path, options.fixed_intrinsics_path, options.image_path);
    LogInfo(StringPrintf("Imported fixed intrinsics of %zu images from %s", n,
                         options.fixed_intrinsics_path.c_str()));
    const auto fixed = FixedIntrinsicsMapperArgs();
    mapper_args.insert(mapper_args.end(), fixed.begin(), fixed.end());
  }
  AutomaticReconstructionResult result;
  result.extraction =
      RunFeatureExtraction(database_path, options.image_path, options.reader, options.extraction);
  ScaleMatchingOptions scale = options.scale;
  scale.image_path = options.image_path;
  scale.extraction = options.extraction;
  result.matching =
      RunScaleAwareMatching(database_path, options.matching, scale, options.verification, colmap);
  const std::string sparse = (fs::path(options.workspace_path) / "sparse").string();
  fs::remove_all(sparse);  // the mapper is not incremental across runs; start it afresh
  result.mapper =
      RunMapper(database_path, options.image_path, sparse, mapper_args, colmap, log_path);
  return result;
}

}  // namespace scalesfm
