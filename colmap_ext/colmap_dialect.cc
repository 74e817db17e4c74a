#include "colmap_ext/colmap_dialect.h"

#include <regex>

#include "util/flag_args.h"
#include "util/logging.h"

namespace scalesfm {

std::string ColmapVersion::ToString() const {
  return StringPrintf("%d.%d.%d", major, minor, patch);
}

std::optional<ColmapVersion> ParseColmapVersion(const std::string& help_text) {
  static const std::regex banner(R"((?:^|\n)\s*COLMAP (\d+)\.(\d+)(?:\.(\d+))?)");
  std::smatch m;
  if (!std::regex_search(help_text, m, banner)) return std::nullopt;
  ColmapVersion v;
  v.major = std::stoi(m[1].str());
  v.minor = std::stoi(m[2].str());
  v.patch = m[3].matched ? std::stoi(m[3].str()) : 0;
  return v;
}

const char* DatabaseSchemaName(DatabaseSchema schema) {
  return schema == DatabaseSchema::kColmap4 ? "COLMAP 4.x" : "COLMAP 3.8";
}

const std::vector<ColmapFlagRename>& ColmapFlagRenames() {
  // Every option of COLMAP 3.8's OptionManager whose name differs in 4.x (4.1.1's
  // controllers/option_manager.cc), and those 4.x removed.
  static const std::vector<ColmapFlagRename> table = {
      {"SiftExtraction.use_gpu", "FeatureExtraction.use_gpu", nullptr},
      {"SiftExtraction.gpu_index", "FeatureExtraction.gpu_index", nullptr},
      {"SiftExtraction.num_threads", "FeatureExtraction.num_threads", nullptr},
      {"SiftExtraction.max_image_size", "FeatureExtraction.max_image_size", nullptr},
      {"SiftMatching.use_gpu", "FeatureMatching.use_gpu", nullptr},
      {"SiftMatching.gpu_index", "FeatureMatching.gpu_index", nullptr},
      {"SiftMatching.num_threads", "FeatureMatching.num_threads", nullptr},
      {"SiftMatching.guided_matching", "FeatureMatching.guided_matching", nullptr},
      {"SiftMatching.max_num_matches", "FeatureMatching.max_num_matches", nullptr},
      {"SiftMatching.max_error", "TwoViewGeometry.max_error", nullptr},
      {"SiftMatching.confidence", "TwoViewGeometry.confidence", nullptr},
      {"SiftMatching.max_num_trials", "TwoViewGeometry.max_num_trials", nullptr},
      {"SiftMatching.min_inlier_ratio", "TwoViewGeometry.min_inlier_ratio", nullptr},
      {"SiftMatching.min_num_inliers", "TwoViewGeometry.min_num_inliers", nullptr},
      {"SiftMatching.multiple_models", "TwoViewGeometry.multiple_models", nullptr},
      {"SiftMatching.compute_relative_pose", "TwoViewGeometry.compute_relative_pose", nullptr},
      {"SiftMatching.planar_scene", nullptr, "0"},
      {"Mapper.ba_global_images_ratio", "Mapper.ba_global_frames_ratio", nullptr},
      {"Mapper.ba_global_images_freq", "Mapper.ba_global_frames_freq", nullptr},
      {"Mapper.fix_existing_images", "Mapper.fix_existing_frames", nullptr},
      {"Mapper.snapshot_images_freq", "Mapper.snapshot_frames_freq", nullptr},
      {"Mapper.local_ba_min_tri_angle", "Mapper.ba_local_min_tri_angle", nullptr},
      {"Mapper.ba_min_num_residuals_for_multi_threading",
       "Mapper.ba_min_num_residuals_for_cpu_multi_threading", nullptr},
      {"Mapper.ba_global_use_pba", nullptr, "0"},
      {"Mapper.ba_global_pba_gpu_index", nullptr, "-1"},
      {"BundleAdjustment.max_num_iterations", "BundleAdjustmentCeres.max_num_iterations", nullptr},
      {"BundleAdjustment.max_linear_solver_iterations",
       "BundleAdjustmentCeres.max_linear_solver_iterations", nullptr},
      {"BundleAdjustment.function_tolerance", "BundleAdjustmentCeres.function_tolerance", nullptr},
      {"BundleAdjustment.gradient_tolerance", "BundleAdjustmentCeres.gradient_tolerance", nullptr},
      {"BundleAdjustment.parameter_tolerance", "BundleAdjustmentCeres.parameter_tolerance",
       nullptr},
      {"BundleAdjustment.refine_extrinsics", "BundleAdjustment.refine_rig_from_world", nullptr},
      {"SpatialMatching.is_gps", nullptr, "1"},
  };
  return table;
}

std::vector<std::string> GlobalMapperArgs(const std::vector<std::string>& mapper_args,
                                          std::vector<std::string>* ignored) {
  static const char* const kShared[] = {"num_threads",
                                        "min_num_matches",
                                        "ignore_watermarks",
                                        "random_seed",
                                        "image_list_path",
                                        "ba_refine_focal_length",
                                        "ba_refine_principal_point",
                                        "ba_refine_extra_params"};
  std::vector<std::string> out;
  for (const FlagArg& arg : SplitFlagArgs(mapper_args)) {
    std::vector<std::string> words = arg.Words();
    if (arg.name.rfind("Mapper.", 0) == 0) {
      const std::string option = arg.name.substr(7);
      bool shared = false;
      for (const char* s : kShared) shared = shared || option == s;
      if (!shared) {
        if (ignored) ignored->push_back("--" + arg.name);
        continue;
      }
      words = arg.Words("GlobalMapper." + option);
    }
    out.insert(out.end(), words.begin(), words.end());
  }
  return out;
}

bool MapperLogSaysNoModel(const std::string& log) {
  return log.find("ailed to create sparse model") != std::string::npos ||
         log.find("ailed to create any sparse model") != std::string::npos;
}

bool ColmapDialect::HasCommand(const std::string& command) const {
  if (command == "global_mapper" || command == "view_graph_calibrator") return IsColmap4();
  return true;
}

std::vector<std::string> ColmapDialect::TranslateArgs(const std::vector<std::string>& args) const {
  std::vector<std::string> out;
  out.reserve(args.size());
  for (const FlagArg& arg : SplitFlagArgs(args)) {
    const ColmapFlagRename* rename = nullptr;
    for (const ColmapFlagRename& r : ColmapFlagRenames()) {
      if (arg.name == r.colmap3 || (r.colmap4 && arg.name == r.colmap4)) rename = &r;
    }
    const char* target = rename ? (IsColmap4() ? rename->colmap4 : rename->colmap3) : nullptr;
    if (rename && !target) {
      const std::string value = arg.value.value_or("");
      if (value != rename->removed_value) {
        throw Error(StringPrintf("--%s %s: COLMAP %s has no such option (COLMAP 4.0 removed it)",
                                 arg.name.c_str(), value.c_str(), version_.ToString().c_str()));
      }
      continue;  // dropped with its value
    }
    const std::vector<std::string> words = arg.Words(target ? target : "");
    out.insert(out.end(), words.begin(), words.end());
  }
  return out;
}

}  // namespace scalesfm
