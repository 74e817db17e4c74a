// scalesfm: COLMAP's subcommands and --Section.option flags, with scale-aware extensions.
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <sstream>

#include "cli/options.h"
#include "cluster/slurm_matching.h"
#include "colmap_ext/database.h"
#include "colmap_ext/database_check.h"
#include "colmap_ext/database_merge.h"
#include "eval_common/gt_triangulation.h"
#include "eval_common/method_presets.h"
#include "eval_eth/eth_evaluation.h"
#include "eval_homography/feature_matching_eval.h"
#include "eval_imc/imc_evaluation.h"
#include "eval_scale/scale_evaluation.h"
#include "eval_scale/sdaim_matching_eval.h"
#include "feature/extractor.h"
#include "feature/image_io.h"
#include "matching/matching_controller.h"
#include "pipeline/reconstruction_pipeline.h"
#include "retrieval/image_retrieval.h"
#include "synthetic/synthetic_scene.h"
#include "synthetic/zoom_scene.h"
#include "training/cvarm_trainer.h"
#include "training/dualrc_trainer.h"
#include "training/s2dnet_trainer.h"
#include "training/scalenet_trainer.h"
#include "training/scfeat_trainer.h"
#include "util/allocator_policy.h"
#include "util/logging.h"
#include "util/progress.h"
#include "util/thread_environment.h"

namespace scalesfm {
namespace {

namespace fs = std::filesystem;

void Require(const std::string& value, const std::string& flag) {
  if (value.empty()) throw Error("missing required option --" + flag);
}

std::vector<std::string> SplitCommas(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

int FeatureExtractor(int argc, char** argv) {
  std::string database_path, image_path;
  ImageReaderOptions reader;
  ExtractionOptions extraction;
  po::options_description desc("feature_extractor options");
  desc.add_options()("database_path", po::value(&database_path), "COLMAP database")(
      "image_path", po::value(&image_path), "image folder");
  AddImageReaderOptions(&desc, &reader);
  AddExtractionOptions(&desc, &extraction);
  AddDeviceOption(&desc);
  if (!ParseCommandLine(argc, argv,
                        "scalesfm feature_extractor --database_path DB --image_path DIR", desc)) {
    return 0;
  }
  Require(database_path, "database_path");
  Require(image_path, "image_path");
  const ExtractionSummary summary =
      RunFeatureExtraction(database_path, image_path, reader, extraction);
  return summary.num_extracted + summary.num_already_done > 0 ? 0 : 1;
}

// The matcher flags that suit the features being matched (ExtractorTraits::matching_defaults),
// unless the command line sets them; logged.
void ApplyFeatureTypeDefaults(const std::string& feature_type, int argc, char** argv,
                              MatchingConfig* config) {
  const std::vector<std::string> applied =
      config->ApplyFeatureTypeDefaults(feature_type, ExplicitFlags(argc, argv));
  std::string flags;
  for (const std::string& flag : applied) flags += " " + flag;
  if (!flags.empty()) LogInfo(feature_type + " features: matching with" + flags);
}

// exhaustive_matcher, vocab_tree_matcher and sequential_matcher: one command with the pair
// source's own section (PairingOptions::source).
int MatcherCommand(int argc, char** argv, const std::string& source) {
  const std::string command = source + "_matcher";
  std::string database_path;
  MatchingConfig config;
  config.pairing.source = source;
  po::options_description desc(command + " options");
  desc.add_options()("database_path", po::value(&database_path), "COLMAP database")(
      "image_path", po::value(&config.image_path),
      "image folder (for --Matching.type s2dnet, network scale estimators, sift_vote on "
      "learned features and --ScaleMatching.reextract)");
  if (source == "vocab_tree") AddVocabTreeMatchingOptions(&desc, &config.pairing.vocab_tree);
  if (source == "sequential") AddSequentialMatchingOptions(&desc, &config.pairing.sequential);
  AddMatchingConfigOptions(&desc, &config);
  AddDeviceOption(&desc);
  po::options_description reextract("--ScaleMatching.reextract extraction options");
  AddExtractionOptions(&reextract, &config.extraction);
  desc.add(reextract);
  if (!ParseCommandLine(argc, argv,
                        "scalesfm " + command + " --database_path DB [--image_path DIR]", desc)) {
    return 0;
  }
  Require(database_path, "database_path");
  if (!fs::exists(database_path)) throw Error("database " + database_path + " does not exist");
  ApplyFeatureTypeDefaults(ReadFeatureType(Database(database_path)), argc, argv, &config);
  RunMatching(database_path, config, ColmapRunner());
  return 0;
}

int ExhaustiveMatcher(int argc, char** argv) { return MatcherCommand(argc, argv, "exhaustive"); }
int VocabTreeMatcher(int argc, char** argv) { return MatcherCommand(argc, argv, "vocab_tree"); }
int SequentialMatcher(int argc, char** argv) { return MatcherCommand(argc, argv, "sequential"); }

int SlurmMatching(int argc, char** argv) {
  std::string database_path, matcher = "exhaustive_matcher";
  MatchingConfig config;
  SlurmMatchingOptions slurm;
  po::options_description desc("slurm_matching options");
  desc.add_options()("database_path", po::value(&database_path), "COLMAP database")(
      "num_shards", po::value(&slurm.num_shards), "Slurm array tasks, one shard of pairs each")(
      "matcher", po::value(&matcher)->default_value(matcher),
      "whose pairs: exhaustive_matcher | vocab_tree_matcher | sequential_matcher")(
      "sbatch_args", po::value(&slurm.sbatch_args)->default_value(slurm.sbatch_args),
      "extra sbatch arguments, e.g. \"--partition=cpu --time=02:00:00 --cpus-per-task=4\"")(
      "work_dir", po::value(&slurm.work_dir)->default_value(slurm.work_dir),
      "shard databases and logs, on a file system the nodes share (default: DB.slurm)")(
      "timeout", po::value(&slurm.timeout)->default_value(slurm.timeout),
      "cancel the job after this many seconds (0: no limit)")(
      "binary", po::value(&slurm.binary)->default_value(slurm.binary),
      "the scalesfm executable the tasks run (default: this one)")(
      "image_path", po::value(&config.image_path),
      "image folder (for matchers and estimators that read the images)");
  AddVocabTreeMatchingOptions(&desc, &config.pairing.vocab_tree);
  AddSequentialMatchingOptions(&desc, &config.pairing.sequential);
  AddMatchingConfigOptions(&desc, &config);
  AddDeviceOption(&desc);
  if (!ParseCommandLine(argc, argv,
                        "scalesfm slurm_matching --database_path DB --num_shards N "
                        "[--matcher exhaustive_matcher] [--sbatch_args \"...\"] [matcher flags]",
                        desc)) {
    return 0;
  }
  Require(database_path, "database_path");
  if (matcher != "exhaustive_matcher" && matcher != "vocab_tree_matcher" &&
      matcher != "sequential_matcher") {
    throw Error("--matcher must be exhaustive_matcher, vocab_tree_matcher or sequential_matcher");
  }
  config.pairing.source = matcher.substr(0, matcher.size() - std::string("_matcher").size());
  if (!fs::exists(database_path)) throw Error("database " + database_path + " does not exist");
  ApplyFeatureTypeDefaults(ReadFeatureType(Database(database_path)), argc, argv, &config);
  const std::vector<std::string> task_flags =
      TaskMatchingFlags(std::vector<std::string>(argv + 1, argv + argc));
  RunSlurmMatching(database_path, config, slurm, task_flags, ColmapRunner());
  return 0;
}

int VocabTreeBuilder(int argc, char** argv) {
  std::string database_path, vocab_tree_path;
  bool multi_level = true;
  VocabularyOptions options;
  po::options_description desc("vocab_tree_builder options");
  desc.add_options()("database_path", po::value(&database_path), "COLMAP database")(
      "vocab_tree_path", po::value(&vocab_tree_path), "output vocabulary file")(
      "multi_level", po::value(&multi_level)->default_value(multi_level),
      "sample the descriptors of every scale level");
  AddVocabularyOptions(&desc, "", &options);
  if (!ParseCommandLine(argc, argv,
                        "scalesfm vocab_tree_builder --database_path DB --vocab_tree_path FILE",
                        desc)) {
    return 0;
  }
  Require(database_path, "database_path");
  Require(vocab_tree_path, "vocab_tree_path");
  if (!fs::exists(database_path)) throw Error("database " + database_path + " does not exist");
  PrintHeading1("Building a visual vocabulary");
  Database db(database_path);
  BuildVocabulary(db, multi_level, options).Write(vocab_tree_path);
  LogInfo("Vocabulary written to " + vocab_tree_path);
  return 0;
}

int VocabTreeRetriever(int argc, char** argv) {
  std::string database_path, output_path;
  VocabTreeMatchingOptions options;
  po::options_description desc("vocab_tree_retriever options");
  desc.add_options()("database_path", po::value(&database_path), "COLMAP database")(
      "output_path", po::value(&output_path),
      "text file of 'query partner score' lines, best first per query");
  AddVocabTreeMatchingOptions(&desc, &options);
  if (!ParseCommandLine(argc, argv,
                        "scalesfm vocab_tree_retriever --database_path DB --output_path FILE",
                        desc)) {
    return 0;
  }
  Require(database_path, "database_path");
  Require(output_path, "output_path");
  if (!fs::exists(database_path)) throw Error("database " + database_path + " does not exist");
  options.Check();
  PrintHeading1("Image retrieval");
  Database db(database_path);
  const VisualVocabulary vocabulary = LoadOrBuildVocabulary(db, options);
  const std::vector<RetrievalResult> results = RetrieveImages(db, vocabulary, options);
  std::map<image_t, std::string> names;
  for (const Image& image : db.ReadAllImages()) names[image.image_id] = image.name;
  const std::string tmp = output_path + ".tmp";
  {
    std::ofstream out(tmp);
    out << "# QUERY PARTNER SCORE\n";
    for (const RetrievalResult& result : results) {
      for (const auto& [partner, score] : result.partners) {
        out << names[result.query] << " " << names[partner] << " " << score << "\n";
      }
    }
    out.flush();
    if (!out) throw Error("cannot write " + output_path);
  }
  fs::rename(tmp, output_path);
  LogInfo(StringPrintf("%zu queries written to %s", results.size(), output_path.c_str()));
  return 0;
}

int DatabaseMerger(int argc, char** argv) {
  std::string path1, path2, merged;
  po::options_description desc("database_merger options");
  desc.add_options()("database_path1", po::value(&path1), "first database")(
      "database_path2", po::value(&path2), "second database")(
      "merged_database_path", po::value(&merged), "output database (must not exist)");
  if (!ParseCommandLine(argc, argv,
                        "scalesfm database_merger --database_path1 DB1 --database_path2 DB2 "
                        "--merged_database_path DB",
                        desc)) {
    return 0;
  }
  Require(path1, "database_path1");
  Require(path2, "database_path2");
  Require(merged, "merged_database_path");
  MergeDatabases(path1, path2, merged, ColmapRunner());
  return 0;
}

int Mapper(int argc, char** argv) {
  std::string database_path, image_path, output_path;
  std::vector<std::string> forwarded;
  MapperOptions mapper;
  po::options_description desc(
      "mapper options (other --Mapper.* are passed to colmap mapper or, with --Mapper.type "
      "global, to colmap global_mapper as --GlobalMapper.*)");
  desc.add_options()("database_path", po::value(&database_path), "COLMAP database")(
      "image_path", po::value(&image_path), "image folder")("output_path", po::value(&output_path),
                                                            "output folder for sparse models");
  AddMapperOptions(&desc, &mapper);
  if (!ParseCommandLine(argc, argv,
                        "scalesfm mapper --database_path DB --image_path DIR "
                        "--output_path DIR [--Mapper.option value ...]",
                        desc, {"Mapper.", "GlobalMapper."}, &forwarded)) {
    return 0;
  }
  Require(database_path, "database_path");
  Require(image_path, "image_path");
  Require(output_path, "output_path");
  if (!fs::exists(database_path)) throw Error("database " + database_path + " does not exist");
  {
    Database db(database_path);
    CheckDatabaseConsistency(&db);  // colmap mapper would crash or misread a damaged database
  }
  const MapperResult result =
      RunMapper(database_path, image_path, output_path, forwarded, mapper, ColmapRunner(),
                (fs::path(output_path) / "scalesfm_colmap.log").string());
  return result.model_path.empty() ? 1 : 0;
}

int AutomaticReconstructor(int argc, char** argv) {
  AutomaticReconstructionOptions options;
  po::options_description desc("automatic_reconstructor options");
  desc.add_options()("image_path", po::value(&options.image_path), "image folder")(
      "workspace_path", po::value(&options.workspace_path), "output folder")(
      "ImageReader.fixed_intrinsics_path", po::value(&options.fixed_intrinsics_path),
      "COLMAP model (e.g. GT) whose intrinsics are imported and held fixed");
  AddImageReaderOptions(&desc, &options.reader);
  AddExtractionOptions(&desc, &options.extraction);
  AddMatchingConfigOptions(&desc, &options.matching);
  AddMapperOptions(&desc, &options.mapper);
  AddDeviceOption(&desc);
  if (!ParseCommandLine(argc, argv,
                        "scalesfm automatic_reconstructor --image_path DIR --workspace_path DIR",
                        desc, {"Mapper.", "GlobalMapper."}, &options.mapper_args)) {
    return 0;
  }
  Require(options.image_path, "image_path");
  Require(options.workspace_path, "workspace_path");
  ApplyFeatureTypeDefaults(options.extraction.type, argc, argv, &options.matching);
  const AutomaticReconstructionResult result = RunAutomaticReconstruction(options, ColmapRunner());
  PrintHeading1("Summary");
  PrintExtractionSummary(result.extraction);
  LogInfo(StringPrintf("Verified image pairs: %zu", result.matching.num_verified));
  if (result.mapper.model_path.empty()) {
    LogWarning("no model was reconstructed");
    return 1;
  }
  LogInfo("Model: " + result.mapper.model_path);
  PrintReconstructionStats(result.mapper.stats);
  return 0;
}

int MakeSyntheticScene(int argc, char** argv) {
  SyntheticSceneOptions o;
  std::string output_path;
  po::options_description desc("make_synthetic_scene options");
  desc.add_options()("output_path", po::value(&output_path), "folder for images/ and gt/")(
      "num_cameras", po::value(&o.num_cameras)->default_value(o.num_cameras), "")(
      "num_zoomed", po::value(&o.num_zoomed)->default_value(o.num_zoomed), "")(
      "zoom", po::value(&o.zoom)->default_value(o.zoom), "focal factor of zoomed cameras")(
      "zoom_model", po::value(&o.zoom_model)->default_value(o.zoom_model),
      "optical (zoomed cameras turn towards their target, centred principal point) | crop "
      "(they face as wide ones do, principal point off centre)")(
      "width", po::value(&o.width)->default_value(o.width), "")(
      "height", po::value(&o.height)->default_value(o.height), "")(
      "focal", po::value(&o.focal)->default_value(o.focal), "wide-camera focal (pixels)")(
      "supersampling", po::value(&o.supersampling)->default_value(o.supersampling), "")(
      "texture_octave_gain",
      po::value(&o.texture_octave_gain)->default_value(o.texture_octave_gain),
      "amplitude ratio of successive texture octaves")(
      "seed", po::value(&o.seed)->default_value(o.seed), "");
  if (!ParseCommandLine(argc, argv, "scalesfm make_synthetic_scene --output_path DIR", desc)) {
    return 0;
  }
  Require(output_path, "output_path");
  PrintHeading1("Rendering synthetic scene");
  const SyntheticScene scene = RenderSyntheticScene(o);
  WriteSyntheticScene(scene, output_path);
  LogInfo(StringPrintf("Wrote %zu images and GT cameras to %s", scene.cameras.size(),
                       output_path.c_str()));
  return 0;
}

int MakeZoomScene(int argc, char** argv) {
  ZoomSceneOptions o;
  std::string scene_path, output_path, triangulation_path, zooms = "2,4,8";
  po::options_description desc("make_zoom_scene options");
  desc.add_options()("scene_path", po::value(&scene_path),
                     "posed scene: images/ and gt/ (COLMAP model, PINHOLE or SIMPLE_PINHOLE)")(
      "output_path", po::value(&output_path), "folder for the zoom scene (images/, gt/)")(
      "seed", po::value(&o.seed)->default_value(o.seed), "picks where the zoomed views look")(
      "zooms", po::value(&zooms)->default_value(zooms),
      "magnifications relative to the wide shots, cycled over the zoomed views")(
      "wide_scale", po::value(&o.wide_scale)->default_value(o.wide_scale),
      "wide shot size / source image size")(
      "zoom_model", po::value(&o.zoom_model)->default_value(o.zoom_model),
      "optical (rotated towards the spot, focal length times the zoom, centred principal "
      "point: what a zoom lens does) | crop (same pose, off-centre principal point)")(
      "spot_score_fraction",
      po::value(&o.spot_score_fraction)->default_value(o.spot_score_fraction),
      "spots within this fraction of the best coverage score are candidates")(
      "jpeg_quality", po::value(&o.jpeg_quality)->default_value(o.jpeg_quality), "")(
      "exif_focal_error", po::value(&o.exif_focal_error)->default_value(o.exif_focal_error),
      "each image's EXIF focal length is its GT one times 1 + e, e uniform in +-this, drawn "
      "per image from the seed (every image carries FocalLength, the focal-plane resolution "
      "and FocalLengthIn35mmFilm)")(
      "triangulation_path", po::value(&triangulation_path),
      "where the source scene's GT-posed triangulation is cached (default: "
      "<output_path>_triangulation); used when gt/points3D has fewer than 100 points seen "
      "three times");
  if (!ParseCommandLine(argc, argv,
                        "scalesfm make_zoom_scene --scene_path DIR --output_path DIR [--seed N]",
                        desc)) {
    return 0;
  }
  Require(scene_path, "scene_path");
  Require(output_path, "output_path");
  o.zooms.clear();
  std::stringstream list(zooms);
  for (std::string item; std::getline(list, item, ',');) {
    try {
      size_t used = 0;
      o.zooms.push_back(std::stod(item, &used));
      if (used != item.size()) throw std::invalid_argument(item);
    } catch (const std::logic_error&) {
      throw Error("--zooms must be comma-separated numbers, got '" + zooms + "'");
    }
  }
  o.Check();
  for (const char* sub : {"images", "gt"}) {
    if (!fs::is_directory(fs::path(scene_path) / sub)) {
      throw Error("--scene_path " + scene_path + " has no " + sub + "/ folder");
    }
  }
  const Reconstruction gt = Reconstruction::Read((fs::path(scene_path) / "gt").string());
  if (triangulation_path.empty()) {
    triangulation_path = ZoomSceneFolder(output_path).string() + "_triangulation";
  }
  const Reconstruction point_source =
      GtPointsOrTriangulation(scene_path, gt, triangulation_path, ColmapRunner());
  const std::vector<const ModelPoint*> points = ReliablePoints(point_source);
  LogInfo(StringPrintf("%zu source points seen in >= 3 images", points.size()));
  PrintHeading1("Making zoom scene");
  const std::vector<ZoomView> views = PlanZoomScene(gt, points, o);
  WriteZoomScene(scene_path, gt, points, views, o, output_path);
  LogInfo(StringPrintf("Wrote %zu views to %s", views.size(), output_path.c_str()));
  return 0;
}

int EvaluateModel(int argc, char** argv) {
  std::string model_path, gt_path;
  PoseMetricOptions metric;
  po::options_description desc("evaluate_model options");
  desc.add_options()("model_path", po::value(&model_path),
                     "COLMAP model, or a mapper output folder (the model IMC 2020's "
                     "get_best_colmap_index picks: most images, non-finite poses skipped)")(
      "gt_path", po::value(&gt_path), "GT COLMAP model");
  AddPoseMetricOptions(&desc, &metric);
  if (!ParseCommandLine(argc, argv, "scalesfm evaluate_model --model_path DIR --gt_path DIR",
                        desc)) {
    return 0;
  }
  Require(model_path, "model_path");
  Require(gt_path, "gt_path");
  metric.Check();
  // A path that does not exist is a typo, not a failed reconstruction; a mapper output folder
  // without a model is the latter, and is scored as an empty model.
  if (!fs::is_directory(model_path)) {
    throw Error("--model_path " + model_path + " does not exist or is not a folder");
  }
  if (!fs::is_directory(gt_path)) {
    throw Error("--gt_path " + gt_path + " does not exist or is not a folder");
  }
  std::string path = model_path;
  if (!fs::exists(fs::path(path) / "cameras.bin") && !fs::exists(fs::path(path) / "cameras.txt")) {
    path = BestModelPath(path);
    if (path.empty()) {
      LogWarning("no COLMAP model in " + model_path + ": scored as an empty reconstruction");
    } else {
      LogInfo("Model: " + path);
    }
  }
  const Reconstruction estimate = path.empty() ? Reconstruction() : Reconstruction::Read(path);
  const Reconstruction gt = Reconstruction::Read(gt_path);
  PrintHeading1("Model evaluation");
  PrintReconstructionStats(estimate.ComputeStats());
  PrintPoseAccuracy(EvaluatePoses(gt, estimate, metric));
  return 0;
}

// --intrinsics of eval_eth and eval_imc (eval_eth/eth_evaluation.h).
constexpr char kIntrinsicsHelp[] =
    "gt | exif | free, the same for every method. gt: the dataset's gt/ cameras, fixed. exif: "
    "each image's EXIF focal length (every image must have one; make_zoom_scene writes it), "
    "SIMPLE_RADIAL, centred principal point, focal length and distortion refined. free: no "
    "prior, 1.2 * max(w, h), refined.";

// --Mapper.type of eval_eth and eval_imc.
constexpr char kMapperTypeHelp[] =
    "incremental (colmap mapper) or global (COLMAP 4's global_mapper; needs a COLMAP 4 binary "
    "as $SCALESFM_COLMAP), for every method";

int EvalEth(int argc, char** argv) {
  EthEvaluationOptions o;
  std::string methods;
  po::options_description desc("eval_eth options");
  desc.add_options()("dataset_path", po::value(&o.dataset_paths)->composing(),
                     "dataset folder with images/ [gt/] [match-list.txt]; repeatable")(
      "output_path", po::value(&o.output_path), "results folder")(
      "methods", po::value(&methods)->default_value("scalesfm,colmap-default"),
      (std::string("comma-separated: ") + kEthMethodNames).c_str())(
      "max_num_features", po::value(&o.max_num_features)->default_value(o.max_num_features), "")(
      "num_threads", po::value(&o.num_threads)->default_value(o.num_threads), "")(
      "repetitions", po::value(&o.repetitions)->default_value(o.repetitions), "")(
      "intrinsics", po::value(&o.intrinsics)->default_value(o.intrinsics), kIntrinsicsHelp)(
      "Mapper.type", po::value(&o.mapper_type)->default_value(o.mapper_type), kMapperTypeHelp)(
      "device", po::value(&o.device)->default_value(o.device),
      "auto | cpu | cuda: scalesfm's extraction, matching and scale estimation (stock COLMAP "
      "runs on the CPU)");
  if (!ParseCommandLine(argc, argv,
                        "scalesfm eval_eth --dataset_path DIR [--dataset_path DIR ...] "
                        "--output_path DIR",
                        desc)) {
    return 0;
  }
  o.methods = SplitCommas(methods);
  RunEthEvaluation(o, ColmapRunner());
  return 0;
}

std::vector<int> SplitInts(const std::string& s, const std::string& flag) {
  std::vector<int> out;
  for (const std::string& item : SplitCommas(s)) {
    try {
      size_t used = 0;
      out.push_back(std::stoi(item, &used));
      if (used != item.size()) throw std::invalid_argument(item);
    } catch (const std::exception&) {
      throw Error(flag + ": '" + item + "' is not an integer");
    }
  }
  return out;
}

// eval_imc's usage: each definition, whether it is IMC 2020's (with the benchmark function that
// defines it) or ours, and the flag that changes it.
constexpr const char* kEvalImcUsage =
    "scalesfm eval_imc --dataset_path DIR [--dataset_path DIR ...] --output_path DIR\n\n"
    "IMC 2020 protocol (github.com/ubc-vision/image-matching-benchmark). Definitions, by default:\n"
    "  pair error      IMC: max(rotation, translation-direction angle) of the relative pose, the\n"
    "                  translation angle folded to [0, 90] deg, zero translation a fail\n"
    "                  (evaluate_R_t). --translation_angle signed: ours before ([0, 180] deg)\n"
    "  mAA@5, mAA@10   IMC: mean over thresholds 1..5 / 1..10 deg; error < t, but <= 10 at 10\n"
    "                  (np.histogram in compute_qt_auc, compute_qt_auc_colmap).\n"
    "                  --thresholds strict: ours before (< at every threshold)\n"
    "  co-visibility   IMC: GT 3D points two images share (visibility, vis_th) and the smaller\n"
    "                  bounding-box area ratio of those points in the two images (new-vis-pairs);\n"
    "                  ours: from a triangulation with the GT poses when gt/ has no points\n"
    "  bags            IMC: co-visible subsets (README); the construction is ours: unions of\n"
    "                  triplets of co-visible images, grown connected. IMC's 100/50/25 bags of\n"
    "                  5/10/25, ours scaled to the scene. --bag_sampling uniform: ours before\n"
    "  bag matches     IMC: only pairs with visibility > --vis_th (compute_image_pairs in\n"
    "                  run_colmap_for_bag). --vis_th -1: every pair (ours before)\n"
    "  bag model       IMC: the model with the most images (get_best_colmap_index); an image it\n"
    "                  misses fails its pairs (compute_stereo_metrics_from_colmap); ours:\n"
    "                  --Mapper.min_model_size 3\n"
    "  registered      IMC: mean over bags with a model (avg_num_cameras); bags without one are\n"
    "                  counted in 'no model'. --registered_fraction all_bags: ours before (0)\n"
    "  multiview row   IMC: the mean over bag sizes (average_multiview_over_bags), plus a row\n"
    "                  per bag size\n"
    "  stereo          IMC: fails with fewer than 5 matches or inliers, else scores\n"
    "                  recoverPose's pose (eval_essential_matrix; stacked E: most points in\n"
    "                  front, geom_cv2). --stereo_failure cheirality: ours before (also fails\n"
    "                  with fewer than 5 points in front). RANSAC is ours: MAGSAC++, 1 px\n"
    "  stereo pairs    IMC: headline over pairs with co-visibility >= --covisibility_th 0.1\n"
    "                  (qt_auc_10_th_0.1); a stereo-all row over every pair";

int EvalImc(int argc, char** argv) {
  ImcEvaluationOptions o;
  std::string methods = "scalesfm,colmap-default", bag_sizes = "5,10,25", bag_counts;
  po::options_description desc("eval_imc options");
  desc.add_options()("dataset_path", po::value(&o.dataset_paths)->composing(),
                     "dataset folder with images/ and gt/; repeatable")(
      "output_path", po::value(&o.output_path), "results folder")(
      "methods", po::value(&methods)->default_value(methods), "as for eval_eth")(
      "max_num_features", po::value(&o.max_num_features)->default_value(o.max_num_features), "")(
      "num_threads", po::value(&o.num_threads)->default_value(o.num_threads), "")(
      "bag_sizes", po::value(&bag_sizes)->default_value(bag_sizes), "multiview bag sizes")(
      "bag_counts", po::value(&bag_counts)->default_value(bag_counts),
      "bags per size (default: IMC's 100/50/25 scaled by images/100)")(
      "seed", po::value(&o.seed)->default_value(o.seed), "bag sampling seed")(
      "bag_sampling", po::value(&o.bag_sampling)->default_value(o.bag_sampling),
      "covisible: bags of co-visible triplets (IMC: co-visible bags) | uniform: uniform random "
      "subsets (ours before)")(
      "vis_th", po::value(&o.vis_th)->default_value(o.vis_th),
      "co-visible pair: more shared GT points than this (IMC's vis_th); a bag's database keeps "
      "only those pairs' matches (< 0: every pair, ours before)")(
      "covisibility_th",
      po::value(&o.covisibility_th)
          ->default_value(o.covisibility_th, StringPrintf("%g", o.covisibility_th)),
      "stereo headline over pairs with GT co-visibility >= this (IMC's _th_0.1)")(
      "registered_fraction",
      po::value(&o.registered_fraction)->default_value(o.registered_fraction),
      "imc: mean over bags with a model (avg_num_cameras) | all_bags: a bag without a model "
      "counts 0 (ours before)")("stereo", po::value(&o.stereo)->default_value(o.stereo),
                                "run the stereo task")(
      "stereo_threshold_px",
      po::value(&o.stereo_threshold_px)->default_value(o.stereo_threshold_px),
      "MAGSAC threshold (pixels)")(
      "stereo_failure", po::value(&o.stereo_failure)->default_value(o.stereo_failure),
      "imc: a pair fails with fewer than 5 inliers (eval_essential_matrix) | cheirality: also "
      "with fewer than 5 points in front of both cameras (ours before)")(
      "intrinsics", po::value(&o.intrinsics)->default_value(o.intrinsics),
      (std::string(kIntrinsicsHelp) +
       " The default is IMC 2020's multiview setting; stereo always uses the GT intrinsics.")
          .c_str())("Mapper.type", po::value(&o.mapper_type)->default_value(o.mapper_type),
                    kMapperTypeHelp)(
      "device", po::value(&o.device)->default_value(o.device),
      "auto | cpu | cuda: scalesfm's extraction, matching and scale estimation "
      "(stock COLMAP runs on the CPU)");
  AddPoseMetricOptions(&desc, &o.metric);
  if (!ParseCommandLine(argc, argv, kEvalImcUsage, desc)) return 0;
  o.methods = SplitCommas(methods);
  o.bag_sizes = SplitInts(bag_sizes, "--bag_sizes");
  if (!bag_counts.empty()) o.bag_counts = SplitInts(bag_counts, "--bag_counts");
  RunImcEvaluation(o, ColmapRunner());
  return 0;
}

int EvalSdaim(int argc, char** argv) {
  SdaimMatchingOptions o;
  std::string methods = "native,sdaim,sdaim-gt,sdaim-reextract";
  po::options_description desc("eval_sdaim options");
  desc.add_options()("homography_path", po::value(&o.homography_path),
                     "folder with pairs.txt and <pair>/A.jpg, B.jpg, H.txt")(
      "output_path", po::value(&o.output_path), "results folder")(
      "methods", po::value(&methods)->default_value(methods), "comma-separated")(
      "max_num_features", po::value(&o.max_num_features)->default_value(o.max_num_features), "")(
      "threshold_px", po::value(&o.threshold_px)->default_value(o.threshold_px),
      "a match is correct within this many pixels of the GT homography");
  if (!ParseCommandLine(argc, argv, "scalesfm eval_sdaim --homography_path DIR --output_path DIR",
                        desc)) {
    return 0;
  }
  o.methods = SplitCommas(methods);
  RunSdaimMatchingEvaluation(o);
  return 0;
}

int EvalScale(int argc, char** argv) {
  ScaleEvaluationOptions o;
  std::string estimators = "dscalenet,scalenet,sift_vote";
  po::options_description desc("eval_scale options");
  desc.add_options()("homography_path", po::value(&o.homography_path),
                     "folder with pairs.txt and <pair>/A.jpg, B.jpg")(
      "scene_path", po::value(&o.scene_paths)->composing(),
      "posed scene with images/ and gt/; repeatable")(
      "estimators", po::value(&estimators)->default_value(estimators),
      "comma-separated, of: none (s = 1), sift_vote, scalenet, dscalenet, cvarm")(
      "ScaleMatching.weights", po::value(&o.weights),
      "weights for every network estimator of the run (empty: each one's default file)")(
      "output_path", po::value(&o.output_path), "results folder")(
      "device", po::value(&o.device)->default_value(o.device), "auto | cpu | cuda")(
      "min_covisible_points",
      po::value(&o.min_covisible_points)->default_value(o.min_covisible_points),
      "")("max_pairs_per_scene",
          po::value(&o.max_pairs_per_scene)->default_value(o.max_pairs_per_scene), "0: all")(
      "zoom_pairs_only", po::value(&o.zoom_pairs_only)->default_value(o.zoom_pairs_only),
      "posed scenes: only pairs with |log2 s| >= 1");
  if (!ParseCommandLine(argc, argv,
                        "scalesfm eval_scale [--homography_path DIR] [--scene_path DIR ...] "
                        "--output_path DIR",
                        desc)) {
    return 0;
  }
  o.estimators = SplitCommas(estimators);
  RunScaleEvaluation(o, ColmapRunner());
  return 0;
}

int EstimateScale(int argc, char** argv) {
  std::string image1, image2;
  bool json = false;
  int timing = 0;
  ScaleEstimatorOptions o;
  po::options_description desc("estimate_scale options");
  desc.add_options()("image1", po::value(&image1), "image A")(
      "image2", po::value(&image2), "image B")("json", po::bool_switch(&json),
                                               "print one JSON object")(
      "timing", po::value(&timing)->default_value(0), "benchmark: repeat N times, print ms");
  AddScaleOptions(&desc, &o);
  AddDeviceOption(&desc);
  if (!ParseCommandLine(argc, argv, "scalesfm estimate_scale --image1 A --image2 B", desc)) {
    return 0;
  }
  Require(image1, "image1");
  Require(image2, "image2");
  if (json) SetQuiet(true);  // the output is one JSON object; errors still go to stderr
  std::unique_ptr<ScaleEstimator> estimator = ScaleEstimator::Create(o);
  std::string error;
  const cv::Mat a = ReadImage(image1, estimator->InputChannels(), &error);
  if (a.empty()) throw Error("cannot read " + image1 + ": " + error);
  const cv::Mat b = ReadImage(image2, estimator->InputChannels(), &error);
  if (b.empty()) throw Error("cannot read " + image2 + ": " + error);
  if (timing > 0) {
    // Speed benchmark: the per-image stage and the per-pair stage (on cached codes) apart.
    estimator->Encode(a);  // warm-up
    Timer t;
    std::shared_ptr<const ImageCode> ca, cb;
    for (int i = 0; i < timing; ++i) ca = estimator->Encode(a);
    const double per_image = t.ElapsedSeconds() / timing;
    cb = estimator->Encode(b);
    t.Restart();
    for (int i = 0; i < timing; ++i) estimator->Estimate(*ca, *cb);
    const double per_pair = t.ElapsedSeconds() / timing;
    std::cout << StringPrintf(
        "%s timing over %d runs: per-image stage %.2f ms, per pair with cached codes %.2f ms\n",
        o.estimator.c_str(), timing, 1000 * per_image, 1000 * per_pair);
  }
  const ScaleEstimate e = estimator->EstimateImages(a, b);
  std::string probs;
  for (double p : e.probs) probs += (probs.empty() ? "" : ", ") + StringPrintf("%.6f", p);
  if (json) {
    std::cout << StringPrintf(
        "{\"scale\": %.6f, \"log2_scale\": %.6f, \"bin\": %d, "
        "\"probs\": [%s]}\n",
        e.scale, std::log2(e.scale), e.bin, probs.c_str());
  } else {
    std::cout << StringPrintf("s(A->B) = %.4f (log2 %.3f), bin %d (%.4f), support %zu\n", e.scale,
                              std::log2(e.scale), e.bin, ScaleBinCenter(e.bin), e.support)
              << "distribution: [" << probs << "]\n";
  }
  return 0;
}

int TrainScaleNetCommand(int argc, char** argv) {
  ScaleNetTrainOptions o;
  po::options_description desc("train_scalenet options");
  desc.add_options()("iterations", po::value(&o.iterations)->default_value(o.iterations), "")(
      "learning_rate", po::value(&o.learning_rate)->default_value(o.learning_rate), "")(
      "max_zoom_magnification",
      po::value(&o.max_zoom_magnification)->default_value(o.max_zoom_magnification),
      "largest upsampling of a pair's zoomed view; larger zooms use bigger images (0: no limit)")(
      "max_corner_jitter", po::value(&o.max_corner_jitter)->default_value(o.max_corner_jitter),
      "perspective: largest corner offset of each view, as a fraction of the canvas")(
      "max_rotation_deg", po::value(&o.max_rotation_deg)->default_value(o.max_rotation_deg),
      "largest in-plane rotation between the two views");
  AddTrainingRunOptions(&desc, &o);
  if (!ParseCommandLine(argc, argv, "scalesfm train_scalenet --data_path DIR --output_path FILE.pt",
                        desc)) {
    return 0;
  }
  o.command_line = CommandLine(argc, argv);
  TrainScaleNet(o);
  return 0;
}

int TrainCvarmCommand(int argc, char** argv) {
  CvarmTrainOptions o;
  po::options_description desc("train_cvarm options");
  desc.add_options()("iterations", po::value(&o.iterations)->default_value(o.iterations), "")(
      "learning_rate", po::value(&o.learning_rate)->default_value(o.learning_rate), "")(
      "lambda_d", po::value(&o.lambda_d)->default_value(o.lambda_d),
      "weight of the dual loss l_d (eq. 12)")("lambda_c",
                                              po::value(&o.lambda_c)->default_value(o.lambda_c),
                                              "weight of the consistent loss l_c (eq. 12)")(
      "posed_pairs", po::value(&o.posed_pairs)->composing(),
      "an eval_scale gt_pairs.csv of posed scenes, whose pairs join the synthetic ones "
      "(repeatable; never -zoom scenes)")(
      "posed_fraction", po::value(&o.posed_fraction)->default_value(o.posed_fraction),
      "fraction of each batch drawn from --posed_pairs");
  AddTrainingRunOptions(&desc, &o);
  if (!ParseCommandLine(argc, argv, "scalesfm train_cvarm --data_path DIR --output_path FILE.pt",
                        desc)) {
    return 0;
  }
  o.command_line = CommandLine(argc, argv);
  TrainCvarm(o);
  return 0;
}

int EvalFeatures(int argc, char** argv) {
  FeatureMatchingOptions o;
  o.extraction.max_image_size = 1600;
  std::string methods = "scfeat,sift,rootsift";
  po::options_description desc("eval_features options");
  desc.add_options()("homography_path", po::value(&o.homography_path),
                     "folder with pairs.txt and <pair>/{A.jpg,B.jpg,H.txt}")(
      "output_path", po::value(&o.output_path), "results folder (features.csv, features.md)")(
      "methods", po::value(&methods)->default_value(methods),
      ("comma-separated: " + PresetNames(FeatureMethodPresets())).c_str());
  AddExtractionOptions(&desc, &o.extraction);
  AddS2DNetMatchOptions(&desc, &o.s2dnet);
  AddDualRcMatchOptions(&desc, &o.dualrc);
  desc.add_options()("Matching.max_num_matches",
                     po::value(&o.max_num_matches)->default_value(o.max_num_matches),
                     "dualrc: matches kept per pair, best scores first");
  if (!ParseCommandLine(argc, argv,
                        "scalesfm eval_features --homography_path DIR --output_path DIR", desc)) {
    return 0;
  }
  o.methods = SplitCommas(methods);
  RunFeatureMatchingEvaluation(o);
  return 0;
}

int TrainScfeatCommand(int argc, char** argv) {
  ScfeatTrainOptions o;
  po::options_description desc("train_scfeat options");
  desc.add_options()("description_iterations",
                     po::value(&o.description_iterations)->default_value(o.description_iterations),
                     "stage 1: description network + bridge")(
      "detection_iterations",
      po::value(&o.detection_iterations)->default_value(o.detection_iterations),
      "stage 2: detector")("image_size", po::value(&o.image_size)->default_value(o.image_size), "")(
      "queries_per_pair", po::value(&o.queries_per_pair)->default_value(o.queries_per_pair), "")(
      "description_learning_rate",
      po::value(&o.description_learning_rate)->default_value(o.description_learning_rate),
      "")("detection_learning_rate",
          po::value(&o.detection_learning_rate)->default_value(o.detection_learning_rate), "");
  AddTrainingRunOptions(&desc, &o);
  if (!ParseCommandLine(argc, argv, "scalesfm train_scfeat --data_path DIR --output_path FILE.pt",
                        desc)) {
    return 0;
  }
  o.command_line = CommandLine(argc, argv);
  TrainScfeat(o);
  return 0;
}

int TrainS2DNetCommand(int argc, char** argv) {
  S2DNetTrainOptions o;
  po::options_description desc("train_s2dnet options");
  desc.add_options()("iterations", po::value(&o.iterations)->default_value(o.iterations), "")(
      "image_size", po::value(&o.image_size)->default_value(o.image_size), "crop size")(
      "correspondences_per_pair",
      po::value(&o.correspondences_per_pair)->default_value(o.correspondences_per_pair),
      "")("max_log2_zoom", po::value(&o.max_log2_zoom)->default_value(o.max_log2_zoom),
          "scale changes up to 2^this")(
      "curriculum_fraction",
      po::value(&o.curriculum_fraction)->default_value(o.curriculum_fraction),
      "first fraction of the iterations with zoom up to 2x")(
      "learning_rate", po::value(&o.learning_rate)->default_value(o.learning_rate), "");
  AddTrainingRunOptions(&desc, &o);
  if (!ParseCommandLine(argc, argv, "scalesfm train_s2dnet --data_path DIR --output_path FILE.pt",
                        desc)) {
    return 0;
  }
  o.command_line = CommandLine(argc, argv);
  TrainS2DNet(o);
  return 0;
}

int TrainDualRcCommand(int argc, char** argv) {
  DualRcTrainOptions o;
  po::options_description desc("train_dualrc options");
  desc.add_options()("iterations", po::value(&o.iterations)->default_value(o.iterations), "")(
      "image_size", po::value(&o.image_size)->default_value(o.image_size), "pair size")(
      "correspondences_per_pair",
      po::value(&o.correspondences_per_pair)->default_value(o.correspondences_per_pair),
      "query cells per direction")("max_log2_zoom",
                                   po::value(&o.max_log2_zoom)->default_value(o.max_log2_zoom),
                                   "scale changes up to 2^this")(
      "learning_rate", po::value(&o.learning_rate)->default_value(o.learning_rate), "")(
      "orthogonal_weight", po::value(&o.orthogonal_weight)->default_value(o.orthogonal_weight),
      "lambda of eq. 6")("backbone_weights",
                         po::value(&o.backbone_weights)->default_value(o.backbone_weights),
                         "S2DNet weights whose VGG encoder starts the compact backbone (empty: "
                         "models/s2dnet_compact.pt)");
  AddTrainingRunOptions(&desc, &o);
  if (!ParseCommandLine(argc, argv, "scalesfm train_dualrc --data_path DIR --output_path FILE.pt",
                        desc)) {
    return 0;
  }
  o.command_line = CommandLine(argc, argv);
  TrainDualRc(o);
  return 0;
}

const std::map<std::string, std::pair<std::function<int(int, char**)>, const char*>>& Commands() {
  static const std::map<std::string, std::pair<std::function<int(int, char**)>, const char*>>
      commands = {
          {"feature_extractor", {FeatureExtractor, "extract features into a COLMAP database"}},
          {"exhaustive_matcher",
           {ExhaustiveMatcher, "match all pairs (or --Matching.pair_list), then verify"}},
          {"vocab_tree_matcher",
           {VocabTreeMatcher, "match each image with its retrieval partners, then verify"}},
          {"sequential_matcher",
           {SequentialMatcher, "match images with their neighbours in name order, then verify"}},
          {"slurm_matching",
           {SlurmMatching, "match the pairs as a Slurm job array of shards, merge, verify"}},
          {"vocab_tree_builder",
           {VocabTreeBuilder, "build a visual vocabulary on a database's features"}},
          {"vocab_tree_retriever",
           {VocabTreeRetriever, "write each image's retrieval partners with scores"}},
          {"database_merger",
           {DatabaseMerger, "merge two databases (matching shards, or disjoint image sets)"}},
          {"mapper", {Mapper, "run colmap mapper on the database"}},
          {"automatic_reconstructor", {AutomaticReconstructor, "images to sparse model"}},
          {"make_synthetic_scene", {MakeSyntheticScene, "render a synthetic scene with GT"}},
          {"make_zoom_scene",
           {MakeZoomScene, "wide shots and 2x/4x/8x zoomed views of a posed scene, with GT"}},
          {"evaluate_model", {EvaluateModel, "statistics and pose accuracy vs a GT model"}},
          {"eval_eth", {EvalEth, "ETH local-feature benchmark protocol vs stock COLMAP"}},
          {"estimate_scale", {EstimateScale, "estimate s(A->B) for two images"}},
          {"eval_scale", {EvalScale, "scale-estimation error E on pairs with GT scale"}},
          {"eval_imc", {EvalImc, "Image Matching Challenge protocol: multiview bags + stereo"}},
          {"eval_sdaim",
           {EvalSdaim, "SIFT matching accuracy with and without SDAIM (homographies)"}},
          {"train_scalenet", {TrainScaleNetCommand, "train ScaleNet on synthetic pairs"}},
          {"train_cvarm",
           {TrainCvarmCommand, "train Scale-Net with CVARM on synthetic and posed pairs"}},
          {"eval_features",
           {EvalFeatures, "feature matching accuracy (MMA, eq. 24) on homography pairs"}},
          {"train_scfeat", {TrainScfeatCommand, "train SCFeat on synthetic posed plane pairs"}},
          {"train_s2dnet",
           {TrainS2DNetCommand, "train S2DNet on synthetic plane pairs with GT homographies"}},
          {"train_dualrc",
           {TrainDualRcCommand, "train DualRC-Net on synthetic plane pairs with GT homographies"}},
      };
  return commands;
}

int PrintUsage() {
  std::cout << "scalesfm -- scale-aware structure-from-motion on top of COLMAP\n\n"
            << "Usage:\n  scalesfm [command] [options]\n\nCommands:\n";
  for (const auto& [name, entry] : Commands()) {
    std::cout << "  " << name << std::string(26 - name.size(), ' ') << entry.second << "\n";
  }
  std::cout << "\nRun `scalesfm [command] -h` for the command's options.\n";
  return 0;
}

}  // namespace
}  // namespace scalesfm

int main(int argc, char** argv) {
  using namespace scalesfm;
  ReexecWithThreadEnvironment(argv);  // before any work: the thread libraries read it at load
  ApplyAllocatorPolicy(CurrentEnvironment());
  if (argc < 2 || std::string(argv[1]) == "-h" || std::string(argv[1]) == "--help" ||
      std::string(argv[1]) == "help") {
    return PrintUsage();
  }
  const std::string command = argv[1];
  auto it = Commands().find(command);
  if (it == Commands().end()) {
    std::cerr << "ERROR: unknown command '" << command << "'\n";
    PrintUsage();
    return 2;
  }
  try {
    return it->second.first(argc - 1, argv + 1);
  } catch (const std::exception& e) {
    std::cerr << "ERROR: " << e.what() << std::endl;
    return 1;
  }
}
