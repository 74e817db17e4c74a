#include "cli/options.h"

#include <cctype>
#include <iostream>

#include "matching/pair_matcher.h"
#include "util/logging.h"

namespace scalesfm {

void AddImageReaderOptions(po::options_description* desc, ImageReaderOptions* o) {
  desc->add_options()("ImageReader.camera_model",
                      po::value(&o->camera_model)->default_value(o->camera_model),
                      "COLMAP camera model")(
      "ImageReader.single_camera", po::value(&o->single_camera)->default_value(o->single_camera),
      "one camera shared by all images")(
      "ImageReader.camera_params", po::value(&o->camera_params)->default_value(o->camera_params),
      "comma-separated camera parameters (replace EXIF and the prior)")(
      "ImageReader.default_focal_length_factor",
      po::value(&o->default_focal_length_factor)->default_value(o->default_focal_length_factor),
      "focal prior factor * max(width, height) when EXIF has none");
}

void AddExtractionOptions(po::options_description* desc, ExtractionOptions* o) {
  desc->add_options()("Extraction.type", po::value(&o->type)->default_value(o->type),
                      "feature type: sift | scfeat")(
      "Extraction.max_num_features",
      po::value(&o->max_num_features)->default_value(o->max_num_features), "features per image")(
      "Extraction.max_image_size", po::value(&o->max_image_size)->default_value(o->max_image_size),
      "downscale images larger than this (pixels, longest side)")(
      "Extraction.num_threads", po::value(&o->num_threads)->default_value(o->num_threads),
      "images extracted in parallel (-1: all cores)")(
      "Extraction.sift_contrast_threshold",
      po::value(&o->sift_contrast_threshold)->default_value(o->sift_contrast_threshold),
      "OpenCV SIFT contrast threshold")(
      "Extraction.sift_edge_threshold",
      po::value(&o->sift_edge_threshold)->default_value(o->sift_edge_threshold),
      "OpenCV SIFT edge threshold")(
      "Extraction.sift_normalization",
      po::value(&o->sift_normalization)->default_value(o->sift_normalization),
      "SIFT descriptor normalisation: l1_root (RootSIFT) | l2")(
      "Extraction.levels", po::value(&o->levels)->default_value(o->levels),
      "scale levels: auto (sqrt(2) steps from 1/8 up to sqrt(2), within max_image_size), 1 "
      "(single level, as COLMAP), or factors such as 1,0.5,0.25")(
      "Extraction.merge_radius", po::value(&o->merge_radius)->default_value(o->merge_radius),
      "keypoints of two levels closer than this (pixels of the coarser level) merge")(
      "Extraction.merge_max_log2_scale",
      po::value(&o->merge_max_log2_scale)->default_value(o->merge_max_log2_scale),
      "... if their scales differ by at most this many octaves")(
      "Extraction.scfeat_weights", po::value(&o->scfeat_weights)->default_value(o->scfeat_weights),
      "SCFeat weights (empty: models/scfeat_compact.pt)")(
      "Extraction.scfeat_nms_size",
      po::value(&o->scfeat_nms_size)->default_value(o->scfeat_nms_size),
      "SCFeat non-maximum suppression window N (odd; 1: none)")(
      "Extraction.scfeat_score_threshold",
      po::value(&o->scfeat_score_threshold)->default_value(o->scfeat_score_threshold),
      "SCFeat score threshold epsilon_s")("Extraction.device",
                                          po::value(&o->device)->default_value(o->device),
                                          "auto | cpu | cuda (learned extractors)");
}

namespace {

std::string MatcherTypeHelp() {
  std::string help = "matcher:";
  for (const std::string& name : PairMatcherNames()) {
    help += " " + name + " (" + FindPairMatcher(name).description + ")";
  }
  return help;
}

std::string EstimatorHelp() {
  std::string help = "scale estimator:";
  for (const std::string& name : ScaleEstimator::Names()) help += " " + name;
  return help;
}

}  // namespace

void AddMatchingOptions(po::options_description* desc, MatchingOptions* o) {
  desc->add_options()("Matching.type", po::value(&o->type)->default_value(o->type),
                      MatcherTypeHelp().c_str())(
      "Matching.max_ratio", po::value(&o->nn.max_ratio)->default_value(o->nn.max_ratio),
      "Lowe ratio on descriptor angles")(
      "Matching.max_distance", po::value(&o->nn.max_distance)->default_value(o->nn.max_distance),
      "maximum descriptor angle (radians)")(
      "Matching.cross_check", po::value(&o->nn.cross_check)->default_value(o->nn.cross_check),
      "keep mutual nearest neighbours only")(
      "Matching.block_rows", po::value(&o->nn.block_rows)->default_value(o->nn.block_rows),
      "descriptor rows per similarity block")(
      "Matching.max_num_matches", po::value(&o->max_num_matches)->default_value(o->max_num_matches),
      "raw matches a dense matcher (dualrc) keeps per pair, best scores first")(
      "Matching.pairs_per_commit",
      po::value(&o->pairs_per_commit)->default_value(o->pairs_per_commit),
      "pairs per database transaction")("Matching.num_threads",
                                        po::value(&o->num_threads)->default_value(o->num_threads),
                                        "LibTorch threads (-1: all cores)")(
      "Matching.device", po::value(&o->device)->default_value(o->device), "auto | cpu | cuda")(
      "Matching.raw_matches_only",
      po::value(&o->raw_matches_only)->default_value(o->raw_matches_only),
      "write raw matches only: no verification or guided pass (verify later with a run without "
      "it)");
  AddS2DNetMatchOptions(desc, &o->s2dnet);
  AddDualRcMatchOptions(desc, &o->dualrc);
}

void AddPairingOptions(po::options_description* desc, PairingOptions* o) {
  desc->add_options()("Matching.pair_list", po::value(&o->pair_list)->default_value(o->pair_list),
                      "file of 'name1 name2' lines to match instead of all pairs")(
      "Matching.shard", po::value(&o->shard)->default_value(o->shard),
      "i/n: match only the i-th of n slices of the pairs (merge with database_merger)")(
      "Matching.block_size", po::value(&o->block_size)->default_value(o->block_size),
      "images per block (2x this many descriptor sets in memory)");
}

void AddVocabularyOptions(po::options_description* desc, const std::string& prefix,
                          VocabularyOptions* o) {
  desc->add_options()((prefix + "num_visual_words").c_str(),
                      po::value(&o->num_visual_words)->default_value(o->num_visual_words),
                      "visual words of a vocabulary built on this collection (k-means)")(
      (prefix + "num_iterations").c_str(),
      po::value(&o->num_iterations)->default_value(o->num_iterations), "k-means iterations")(
      (prefix + "max_points_per_word").c_str(),
      po::value(&o->max_points_per_word)->default_value(o->max_points_per_word),
      "descriptors sampled for k-means per word");
}

void AddVocabTreeMatchingOptions(po::options_description* desc, VocabTreeMatchingOptions* o) {
  desc->add_options()("VocabTreeMatching.num_images",
                      po::value(&o->num_images)->default_value(o->num_images),
                      "partners retrieved per image")(
      "VocabTreeMatching.vocab_tree_path",
      po::value(&o->vocab_tree_path)->default_value(o->vocab_tree_path),
      "vocabulary from scalesfm vocab_tree_builder (empty: built on this collection; a new "
      "path: built and written there)")(
      "VocabTreeMatching.match_list_path",
      po::value(&o->match_list_path)->default_value(o->match_list_path),
      "only query the images named in this file (one per line)")(
      "VocabTreeMatching.max_num_features",
      po::value(&o->max_num_features)->default_value(o->max_num_features),
      "descriptors per bag of words (-1: all)")(
      "VocabTreeMatching.multi_level", po::value(&o->multi_level)->default_value(o->multi_level),
      "one bag of words per scale level; an image pair scores its best pair of levels")(
      "VocabTreeMatching.min_num_features",
      po::value(&o->min_num_features)->default_value(o->min_num_features),
      "levels with fewer features make no bag of their own");
  AddVocabularyOptions(desc, "VocabTreeMatching.", &o->vocabulary);
}

void AddSequentialMatchingOptions(po::options_description* desc, SequentialMatchingOptions* o) {
  desc->add_options()("SequentialMatching.overlap",
                      po::value(&o->overlap)->default_value(o->overlap),
                      "match each image with the next overlap-1 images (name order)")(
      "SequentialMatching.quadratic_overlap",
      po::value(&o->quadratic_overlap)->default_value(o->quadratic_overlap),
      "also the images 2^k later, k < overlap")(
      "SequentialMatching.loop_detection",
      po::value(&o->loop_detection)->default_value(o->loop_detection),
      "retrieval partners of every loop_detection_period-th image")(
      "SequentialMatching.loop_detection_period",
      po::value(&o->loop_detection_period)->default_value(o->loop_detection_period),
      "")("SequentialMatching.loop_detection_num_images",
          po::value(&o->loop_detection_num_images)->default_value(o->loop_detection_num_images),
          "")("SequentialMatching.loop_detection_max_num_features",
              po::value(&o->loop_detection_max_num_features)
                  ->default_value(o->loop_detection_max_num_features),
              "")("SequentialMatching.vocab_tree_path",
                  po::value(&o->vocab_tree_path)->default_value(o->vocab_tree_path),
                  "vocabulary for loop detection (empty: built on this collection)");
}

void AddMatchingConfigOptions(po::options_description* desc, MatchingConfig* o) {
  AddPairingOptions(desc, &o->pairing);
  AddMatchingOptions(desc, &o->matching);
  AddVerificationOptions(desc, &o->verification);
  AddScaleMatchingOptions(desc, &o->scale);
}

void AddPoseMetricOptions(po::options_description* desc, PoseMetricOptions* o) {
  desc->add_options()(
      "translation_angle", po::value(&o->translation_angle)->default_value(o->translation_angle),
      "folded: IMC 2020's evaluate_R_t, arccos(|cos|) in [0, 90] deg (a reversed baseline scores "
      "~0; zero translation 90, a fail) | signed: ours before, arccos(cos) in [0, 180] deg (zero "
      "translation 180, a fail)")(
      "thresholds", po::value(&o->thresholds)->default_value(o->thresholds),
      "imc: IMC 2020's np.histogram bins (compute_qt_auc): error < t at 1..9 deg, <= 10 at 10 deg "
      "| strict: ours before, error < t at every threshold");
}

void AddDeviceOption(po::options_description* desc) {
  desc->add_options()("device", po::value<std::string>()->default_value("auto"),
                      "auto | cpu | cuda: every stage's device, unless its own "
                      "--Extraction.device, --Matching.device or --ScaleMatching.device is given");
}

void AddS2DNetMatchOptions(po::options_description* desc, S2DNetMatchOptions* o) {
  desc->add_options()("Matching.s2dnet_weights", po::value(&o->weights)->default_value(o->weights),
                      "S2DNet weights (empty: models/s2dnet_compact.pt)")(
      "Matching.s2dnet_confidence",
      po::value(&o->search.confidence_threshold)->default_value(o->search.confidence_threshold),
      "tau of eq. 4: minimum match probability (< 0: the weights' calibrated value, else 0.2)")(
      "Matching.s2dnet_refine_radius",
      po::value(&o->search.refine_radius)->default_value(o->search.refine_radius),
      "full-resolution search window half-size around the coarse peak (px)")(
      "Matching.s2dnet_subpixel", po::value(&o->search.subpixel)->default_value(o->search.subpixel),
      "1: parabola-refined sub-pixel peak; 0: the paper's integer argmax")(
      "Matching.s2dnet_chunk_size",
      po::value(&o->search.chunk_size)->default_value(o->search.chunk_size),
      "keypoints correlated at once (bounds memory)")(
      "Matching.s2dnet_cyclic_radius",
      po::value(&o->cyclic_radius)->default_value(o->cyclic_radius),
      "cyclic check: a match must map back within this many px (<= 0: off)")(
      "Matching.s2dnet_snap_radius", po::value(&o->snap_radius)->default_value(o->snap_radius),
      "a found point joins an existing keypoint within this many px")(
      "Matching.s2dnet_max_image_size",
      po::value(&o->max_image_size)->default_value(o->max_image_size),
      "dense maps are computed at most at this size")(
      "Matching.s2dnet_cache_images", po::value(&o->cache_images)->default_value(o->cache_images),
      "dense maps (image, level) held in memory");
}

void AddDualRcMatchOptions(po::options_description* desc, DualRcMatchOptions* o) {
  desc->add_options()("Matching.dualrc_weights", po::value(&o->weights)->default_value(o->weights),
                      "DualRC-Net weights (empty: models/dualrc_compact.pt)")(
      "Matching.dualrc_max_image_size",
      po::value(&o->max_image_size)->default_value(o->max_image_size),
      "both images are matched at most at this size (4D correlation at 1/16 of it)")(
      "Matching.dualrc_query_fraction",
      po::value(&o->query_fraction)->default_value(o->query_fraction),
      "fraction of A's coarse cells whose fine cells are queried")(
      "Matching.dualrc_chunk_size", po::value(&o->chunk_size)->default_value(o->chunk_size),
      "fine-map queries scored at once (bounds memory)")(
      "Matching.dualrc_subpixel", po::value(&o->subpixel)->default_value(o->subpixel),
      "1: parabola-refined target; 0: the official integer fine cell")(
      "Matching.dualrc_snap_radius", po::value(&o->snap_radius)->default_value(o->snap_radius),
      "a matched point joins an existing keypoint within this many px")(
      "Matching.dualrc_cache_images", po::value(&o->cache_images)->default_value(o->cache_images),
      "feature maps (image, level) held in memory");
}

void AddVerificationOptions(po::options_description* desc, VerificationOptions* o) {
  desc->add_options()("SiftMatching.max_error",
                      po::value(&o->max_error)->default_value(o->max_error),
                      "RANSAC error (pixels), for colmap's verification")(
      "SiftMatching.confidence", po::value(&o->confidence)->default_value(o->confidence), "")(
      "SiftMatching.max_num_trials",
      po::value(&o->max_num_trials)->default_value(o->max_num_trials),
      "")("SiftMatching.min_inlier_ratio",
          po::value(&o->min_inlier_ratio)->default_value(o->min_inlier_ratio),
          "")("SiftMatching.min_num_inliers",
              po::value(&o->min_num_inliers)->default_value(o->min_num_inliers),
              "")("SiftMatching.multiple_models",
                  po::value(&o->multiple_models)->default_value(o->multiple_models),
                  "")("SiftMatching.guided_matching",
                      po::value(&o->guided_matching)->default_value(o->guided_matching), "")(
      "SiftMatching.guided_max_error",
      po::value(&o->guided_max_error)->default_value(o->guided_max_error),
      "scalesfm's: pixel band of guided matching (<= 0: --SiftMatching.max_error)")(
      "SiftMatching.guided_max_num_inliers",
      po::value(&o->guided_max_num_inliers)->default_value(o->guided_max_num_inliers),
      "scalesfm's: guided matching extends only verified pairs with at most this many inliers "
      "(0: every verified pair)")("SiftMatching.planar_scene",
                                  po::value(&o->planar_scene)->default_value(o->planar_scene), "")(
      "SiftMatching.num_threads", po::value(&o->num_threads)->default_value(o->num_threads),
      "threads of each colmap verification process (1: reproducible; -1: all cores, as colmap)")(
      "SiftMatching.num_processes", po::value(&o->num_processes)->default_value(o->num_processes),
      "scalesfm's: colmap verification processes on slices of the pairs, in parallel (-1: one "
      "per core)");
}

void AddMapperOptions(po::options_description* desc, MapperOptions* o) {
  desc->add_options()("Mapper.type", po::value(&o->type)->default_value(o->type),
                      "incremental (colmap mapper) or global (COLMAP 4's global_mapper, GLOMAP; "
                      "needs a COLMAP 4 binary as $SCALESFM_COLMAP)")(
      "Mapper.restarts", po::value(&o->max_init_pairs)->default_value(o->max_init_pairs),
      "further colmap mapper runs from other initial pairs while the model leaves registrable "
      "images out; the model with the most images is kept (0: one run, as colmap)");
}

void AddScaleOptions(po::options_description* desc, ScaleEstimatorOptions* o) {
  desc->add_options()("ScaleMatching.estimator",
                      po::value(&o->estimator)->default_value(o->estimator),
                      EstimatorHelp().c_str())(
      "ScaleMatching.weights", po::value(&o->weights)->default_value(o->weights),
      "network estimator weights (default: models/scalenet_compact.pt; cvarm: "
      "models/cvarm_compact.pt)")("ScaleMatching.device",
                                  po::value(&o->device)->default_value(o->device),
                                  "auto | cpu | cuda (network estimators)")(
      "ScaleMatching.gt_path", po::value(&o->gt_path)->default_value(o->gt_path),
      "GT model with 3D points, for the gt oracle estimator (evaluation only)")(
      "ScaleMatching.max_num_features",
      po::value(&o->max_num_features)->default_value(o->max_num_features),
      "")("ScaleMatching.max_image_size",
          po::value(&o->max_image_size)->default_value(o->max_image_size), "");
}

void AddScaleMatchingOptions(po::options_description* desc, ScaleMatchingOptions* o) {
  AddScaleOptions(desc, &o->estimator);
  desc->add_options()("ScaleMatching.min_log2_scale",
                      po::value(&o->min_log2_scale)->default_value(o->min_log2_scale),
                      "match native levels when |log2 s| is below this")(
      "ScaleMatching.keep_native", po::value(&o->keep_native)->default_value(o->keep_native),
      "rescaled pairs also keep their native-level matches")(
      "ScaleMatching.reextract", po::value(&o->reextract)->default_value(o->reextract),
      "resize by s^0.5 / s^-0.5 and extract again instead of picking levels")(
      "ScaleMatching.gt_region", po::value(&o->gt_region)->default_value(o->gt_region),
      "oracle (evaluation only): match only inside each pair's covisible region by the GT model "
      "at --ScaleMatching.gt_path");
}

std::set<std::string> ExplicitFlags(int argc, char** argv) {
  std::set<std::string> flags;
  for (int i = 1; i < argc; ++i) {
    const std::string token = argv[i];
    if (token.rfind("--", 0) != 0 || token.size() == 2) continue;
    flags.insert(token.substr(2, token.find('=') - 2));
  }
  return flags;
}

namespace {

// argv[1..] plus "--Section.device value" for each stage device flag of `desc` that argv does
// not give, when argv gives --device.
std::vector<std::string> WithStageDevices(int argc, char** argv,
                                          const po::options_description& desc) {
  std::vector<std::string> args(argv + 1, argv + argc);
  const std::set<std::string> given = ExplicitFlags(argc, argv);
  if (!given.count("device") || !desc.find_nothrow("device", false)) return args;
  std::string device;
  for (int i = 1; i < argc; ++i) {
    const std::string token = argv[i];
    if (token.rfind("--device=", 0) == 0) device = token.substr(9);
    if (token == "--device" && i + 1 < argc) device = argv[i + 1];
  }
  for (const char* flag : {"Extraction.device", "Matching.device", "ScaleMatching.device"}) {
    if (!given.count(flag) && desc.find_nothrow(flag, false)) {
      args.push_back(std::string("--") + flag);
      args.push_back(device);
    }
  }
  return args;
}

}  // namespace

bool ParseCommandLine(int argc, char** argv, const std::string& usage,
                      const po::options_description& desc,
                      const std::vector<std::string>& passthrough_sections,
                      std::vector<std::string>* passthrough) {
  po::options_description all(desc);
  all.add_options()("help,h", "print this help");
  // No abbreviated flags (Boost's default allows them): every flag is spelt out, so that
  // ExplicitFlags sees what the user set.
  po::parsed_options parsed =
      po::command_line_parser(WithStageDevices(argc, argv, desc))
          .options(all)
          .style(po::command_line_style::default_style & ~po::command_line_style::allow_guessing)
          .allow_unregistered()
          .run();
  std::vector<po::option>& options = parsed.options;
  for (size_t i = 0; i < options.size(); ++i) {
    const po::option& opt = options[i];
    if (opt.position_key >= 0) {
      throw Error("unexpected argument '" + (opt.value.empty() ? "" : opt.value[0]) + "' (see -h)");
    }
    if (!opt.unregistered) continue;
    bool forwarded = false;
    for (const std::string& section : passthrough_sections) {
      if (opt.string_key.rfind(section, 0) == 0 && passthrough) {
        passthrough->push_back("--" + opt.string_key);
        for (const std::string& v : opt.value) passthrough->push_back(v);
        // Boost does not know that an unregistered "--Mapper.x 3" takes a value: "3" comes
        // back as the next, positional token (and "-1" as an unknown short option). Join it to
        // its option.
        if (opt.value.empty() && i + 1 < options.size()) {
          const po::option& next = options[i + 1];
          const std::string token = next.original_tokens.empty() ? "" : next.original_tokens[0];
          const bool negative_number =
              next.unregistered && token.size() > 1 && token[0] == '-' &&
              (std::isdigit(static_cast<unsigned char>(token[1])) || token[1] == '.');
          if (next.position_key >= 0) {
            for (const std::string& v : next.value) passthrough->push_back(v);
            ++i;
          } else if (negative_number) {
            passthrough->push_back(token);
            ++i;
          }
        }
        forwarded = true;
      }
    }
    if (!forwarded) {
      const std::string name =
          opt.original_tokens.empty() ? opt.string_key : opt.original_tokens[0];
      throw Error("unknown option '" + name + "' (see -h)");
    }
  }
  po::variables_map vm;
  po::store(parsed, vm);
  if (vm.count("help")) {
    std::cout << usage << "\n\n" << all << "\n";
    return false;
  }
  po::notify(vm);
  return true;
}

void AddTrainingRunOptions(po::options_description* desc, TrainingRunOptions* o) {
  desc->add_options()("data_path", po::value(&o->data_path), "folder of training images")(
      "output_path", po::value(&o->output_path), "weights file to write (+ .json sidecar)")(
      "config", po::value(&o->config)->default_value(o->config), "compact | paper")(
      "init_weights", po::value(&o->init_weights),
      "start from these weights (fine-tuning); a checkpoint of this run takes precedence")(
      "batch_size", po::value(&o->batch_size)->default_value(o->batch_size), "pairs per step")(
      "validation_pairs", po::value(&o->validation_pairs)->default_value(o->validation_pairs),
      "held-out pairs, drawn once")("validate_every",
                                    po::value(&o->validate_every)->default_value(o->validate_every),
                                    "iterations between validations")(
      "checkpoint_every", po::value(&o->checkpoint_every)->default_value(o->checkpoint_every),
      "iterations between checkpoints (a re-run resumes from the last)")(
      "seed", po::value(&o->seed)->default_value(o->seed), "random seed")(
      "num_threads", po::value(&o->num_threads)->default_value(o->num_threads),
      "LibTorch threads (<= 0: all cores)")(
      "device", po::value(&o->device)->default_value(o->device), "auto | cpu | cuda");
}

std::string CommandLine(int argc, char** argv) {
  std::string line = "scalesfm";
  for (int i = 0; i < argc; ++i) line += std::string(" ") + argv[i];
  return line;
}

}  // namespace scalesfm
