#include "pipeline/reconstruction_pipeline.h"

#include <algorithm>
#include <filesystem>
#include <optional>
#include <set>
#include <unordered_map>

#include "colmap_ext/camera.h"
#include "colmap_ext/database.h"
#include "feature/image_io.h"
#include "pipeline/mapper_restarts.h"
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

size_t ImportPriorlessCameras(const std::string& database_path, const std::string& image_path,
                              const std::vector<std::string>& image_names,
                              const std::string& camera_model, double default_focal_length_factor) {
  Database db(database_path);
  Database::Transaction transaction(&db);
  size_t imported = 0;
  for (const std::string& name : image_names) {
    if (db.ReadImageWithName(name)) continue;
    const cv::Mat image = ReadImageOrThrow((fs::path(image_path) / name).string(), 1);
    const Camera camera =
        MakeDefaultCamera(camera_model, image.cols, image.rows,
                          default_focal_length_factor * std::max(image.cols, image.rows), false);
    Image db_image;
    db_image.name = name;
    db_image.camera_id = db.WriteCamera(camera, false);
    db.WriteImage(db_image, false);
    ++imported;
  }
  transaction.Commit();
  return imported;
}

std::vector<std::string> FixedIntrinsicsMapperArgs() {
  return {"--Mapper.ba_refine_focal_length", "0", "--Mapper.ba_refine_principal_point", "0",
          "--Mapper.ba_refine_extra_params", "0"};
}

namespace {

// One `colmap mapper` (or `command`) run into `output_path` (created). COLMAP exits with 1 when
// no initial pair is found (MapperLogSaysNoModel): that is a result (nothing registered), not an
// error; other failures throw.
ColmapRunResult RunMapperOnce(const std::string& database_path, const std::string& image_path,
                              const std::string& output_path,
                              const std::vector<std::string>& mapper_args,
                              const ColmapRunner& colmap, const std::string& log_path,
                              const std::string& command = "mapper") {
  fs::create_directories(output_path);
  std::vector<std::string> args = {"--database_path", database_path,   "--image_path",
                                   image_path,        "--output_path", output_path};
  args.insert(args.end(), mapper_args.begin(), mapper_args.end());
  const ColmapRunResult run = colmap.Run(command, args, log_path, /*throw_on_failure=*/false);
  if (run.exit_code != 0 && !MapperLogSaysNoModel(run.log)) {
    ThrowColmapFailure(command, run);
  }
  return run;
}

// The largest model under `output_path`, or an empty one.
Reconstruction LargestModel(const std::string& output_path) {
  const std::vector<std::string> models = ListModels(output_path);
  return models.empty() ? Reconstruction() : Reconstruction::Read(models.front());
}

// Replaces the numbered models under `output_path` by those under `from`, which is removed.
void ReplaceModels(const std::string& from, const std::string& output_path) {
  for (const std::string& model : ListModels(output_path)) fs::remove_all(model);
  for (const std::string& model : ListModels(from)) {
    fs::rename(model, fs::path(output_path) / fs::path(model).filename());
  }
  fs::remove_all(from);
}

size_t MapperArgOr(const std::vector<std::string>& args, const std::string& name, size_t fallback) {
  const std::optional<std::string> value = FindMapperArg(args, name);
  if (!value) return fallback;
  try {
    return static_cast<size_t>(std::max(0L, std::stol(*value)));
  } catch (const std::exception&) {
    throw Error("--Mapper." + name + " takes a number, got '" + *value + "'");
  }
}

// What scalesfm's mapping policy (the first run's floor, the small-model run, the restarts)
// reads of the database: every pair's verified inliers, and how many images can register.
struct MapperViewGraph {
  std::unordered_map<image_pair_t, size_t> num_inliers;
  size_t min_num_matches = 0;  // COLMAP's --Mapper.min_num_matches (3.8's default 15)
  size_t num_registrable = 0;
};

// The view graph when scalesfm's policy applies: restarts on, and no initial pair of the user's.
// Otherwise none, and the mapper runs once, as colmap.
std::optional<MapperViewGraph> ReadMapperViewGraph(const std::string& database_path,
                                                   const std::vector<std::string>& mapper_args,
                                                   const MapperOptions& restarts) {
  if (restarts.max_init_pairs == 0 || FindMapperArg(mapper_args, "init_image_id1") ||
      FindMapperArg(mapper_args, "init_image_id2")) {
    return std::nullopt;
  }
  MapperViewGraph graph;
  graph.min_num_matches = MapperArgOr(mapper_args, "min_num_matches", 15);
  graph.num_inliers = Database(database_path).ReadTwoViewGeometryNumInliers();
  graph.num_registrable = RegistrableImages(graph.num_inliers, graph.min_num_matches).size();
  return graph;
}

// Mapper runs from other initial pairs while the largest model leaves registrable images out;
// the best model (IsBetterModel) ends up under `output_path`.
void RestartMapper(const std::string& database_path, const std::string& image_path,
                   const std::string& output_path, const std::vector<std::string>& mapper_args,
                   const MapperOptions& restarts, const MapperViewGraph& graph,
                   const ColmapRunner& colmap, const std::string& log_path,
                   const std::string& first_log) {
  // COLMAP 3.8's default.
  const size_t init_min_num_inliers = MapperArgOr(mapper_args, "init_min_num_inliers", 100);
  const auto& num_inliers = graph.num_inliers;
  const size_t min_num_matches = graph.min_num_matches;
  const size_t num_registrable = graph.num_registrable;
  std::vector<std::string> args = mapper_args;
  std::string log = first_log;
  Reconstruction first = LargestModel(output_path);
  if (first.images.empty()) {
    const auto small = SmallModelMapperArgs(mapper_args, first_log, num_registrable);
    if (!small) return;  // no initial pair, or the user set min_model_size
    PrintHeading1("Mapper run keeping small models");
    LogInfo(StringPrintf(
        "COLMAP kept no model although %zu images have verified pairs (it drops models smaller "
        "than --Mapper.min_model_size when an image with pairs does not register); mapping "
        "again with --Mapper.min_model_size %zu",
        num_registrable, kSmallModelSize));
    args = *small;
    log = RunMapperOnce(database_path, image_path, output_path, args, colmap, log_path).log;
    first = LargestModel(output_path);
    LogInfo(StringPrintf("Small-model run: %zu images", first.images.size()));
    if (first.images.empty()) return;
  }
  ReconstructionStats best = first.ComputeStats();
  if (best.num_images >= num_registrable) return;
  std::set<image_t> registered;
  for (const auto& [id, image] : first.images) registered.insert(id);
  const std::vector<InitPair> pairs =
      RestartInitPairs(num_inliers, registered, TriedInitPairs(log), min_num_matches,
                       init_min_num_inliers, static_cast<size_t>(restarts.max_init_pairs));
  const std::string restart_path = output_path + ".restart";
  for (size_t k = 0; k < pairs.size() && best.num_images < num_registrable; ++k) {
    const InitPair& pair = pairs[k];
    PrintHeading1(StringPrintf("Mapper restart %zu/%zu", k + 1, pairs.size()));
    LogInfo(StringPrintf(
        "The model registers %zu of %zu registrable images; restarting from "
        "image pair #%u and #%u (%zu inliers)",
        best.num_images, num_registrable, pair.image_id1, pair.image_id2, pair.num_inliers));
    fs::remove_all(restart_path);
    std::vector<std::string> restart_args = args;
    // One trial: with a fixed initial pair, COLMAP 3.8 otherwise rebuilds the same model up to
    // init_num_trials (200) times when it falls short of min_model_size.
    restart_args.insert(
        restart_args.end(),
        {"--Mapper.init_image_id1", std::to_string(pair.image_id1), "--Mapper.init_image_id2",
         std::to_string(pair.image_id2), "--Mapper.init_num_trials", "1"});
    RunMapperOnce(database_path, image_path, restart_path, restart_args, colmap, log_path);
    const ReconstructionStats stats = LargestModel(restart_path).ComputeStats();
    const bool better = IsBetterModel(stats, best);
    LogInfo(StringPrintf("Restart: %zu images, %zu observations (before: %zu, %zu): %s",
                         stats.num_images, stats.num_observations, best.num_images,
                         best.num_observations, better ? "kept" : "dropped"));
    if (better) {
      ReplaceModels(restart_path, output_path);
      best = stats;
    }
    fs::remove_all(restart_path);
  }
}

// colmap mapper under scalesfm's policy when `graph` is set (the first run's floor and local
// bundle cap, then restarts), as colmap otherwise.
void RunIncrementalMapper(const std::string& database_path, const std::string& image_path,
                          const std::string& output_path,
                          const std::vector<std::string>& mapper_args,
                          const MapperOptions& restarts,
                          const std::optional<MapperViewGraph>& graph, const ColmapRunner& colmap,
                          const std::string& log_path) {
  // Under scalesfm's policy, a small scene maps with the small-model floor at once, and local
  // bundle adjustment stops sooner than COLMAP's.
  const std::vector<std::string> floor_args =
      graph ? FirstMapperArgs(mapper_args, graph->num_registrable) : mapper_args;
  if (graph && floor_args != mapper_args) {
    LogInfo(StringPrintf(
        "%zu registrable images: mapping with --Mapper.min_model_size %zu (COLMAP's floor "
        "would drop any model that leaves one of them out)",
        graph->num_registrable, kSmallModelSize));
  }
  const std::vector<std::string> args = graph ? WithLocalBundleCap(floor_args) : floor_args;
  if (args != floor_args) {
    LogInfo(
        StringPrintf("Local bundle adjustment: at most %d iterations "
                     "(--Mapper.ba_local_max_num_iterations; COLMAP's default is 25)",
                     kLocalBundleMaxIterations));
  }
  const ColmapRunResult first =
      RunMapperOnce(database_path, image_path, output_path, args, colmap, log_path);
  if (graph) {
    RestartMapper(database_path, image_path, output_path, args, restarts, *graph, colmap, log_path,
                  first.log);
  }
}

}  // namespace

void CheckMapperSupported(const MapperOptions& options, const ColmapRunner& colmap) {
  options.Check();
  if (options.IsGlobal() && !colmap.Dialect().HasCommand("global_mapper")) {
    throw Error("--Mapper.type global runs COLMAP 4's global_mapper, and " +
                colmap.ResolveBinary() + " is COLMAP " + colmap.Dialect().version().ToString() +
                ". Point $SCALESFM_COLMAP at a COLMAP 4 binary (README, \"COLMAP versions\"), or "
                "use --Mapper.type incremental.");
  }
}

MapperResult RunMapper(const std::string& database_path, const std::string& image_path,
                       const std::string& output_path, const std::vector<std::string>& mapper_args,
                       const MapperOptions& options, const ColmapRunner& colmap,
                       const std::string& log_path) {
  CheckMapperSupported(options, colmap);
  Timer timer;
  if (options.IsGlobal()) {
    PrintHeading1("Global mapping (colmap global_mapper)");
    std::vector<std::string> ignored;
    const std::vector<std::string> args = GlobalMapperArgs(mapper_args, &ignored);
    for (const std::string& flag : ignored) {
      LogWarning(flag +
                 " is an option of the incremental mapper only; the global mapper runs "
                 "without it");
    }
    RunMapperOnce(database_path, image_path, output_path, args, colmap, log_path, "global_mapper");
  } else {
    PrintHeading1("Incremental mapping (colmap mapper)");
    RunIncrementalMapper(database_path, image_path, output_path, mapper_args, options,
                         ReadMapperViewGraph(database_path, mapper_args, options), colmap,
                         log_path);
  }
  MapperResult result;
  result.seconds = timer.ElapsedSeconds();
  const std::vector<std::string> models = ListModels(output_path);
  result.num_models = models.size();
  if (!models.empty()) {
    result.model_path = models.front();
    result.stats = Reconstruction::Read(result.model_path).ComputeStats();
  } else {
    LogWarning("colmap " + std::string(options.IsGlobal() ? "global_mapper" : "mapper") +
               " produced no model (too few registrable images)");
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
  CheckMapperSupported(options.mapper, colmap);  // before any work
  // The matching sections take the image folder and extraction settings of the run.
  MatchingConfig matching = options.matching;
  matching.image_path = options.image_path;
  matching.extraction = options.extraction;
  options.extraction.Check();  // every option, before any work
  matching.Check();
  fs::create_directories(options.workspace_path);
  const std::string database_path = (fs::path(options.workspace_path) / "database.db").string();
  if (fs::exists(database_path)) colmap.CheckCanReadDatabase(database_path);  // a re-run
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
  result.matching = RunMatching(database_path, matching, colmap);
  const std::string sparse = (fs::path(options.workspace_path) / "sparse").string();
  fs::remove_all(sparse);  // the mapper is not incremental across runs; start it afresh
  result.mapper = RunMapper(database_path, options.image_path, sparse, mapper_args, options.mapper,
                            colmap, log_path);
  return result;
}

}  // namespace scalesfm
