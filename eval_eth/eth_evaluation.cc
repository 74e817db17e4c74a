#include "eval_eth/eth_evaluation.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "colmap_ext/database.h"
#include "colmap_ext/image_reader.h"
#include "eval_common/method_presets.h"
#include "eval_eth/html_report.h"
#include "eval_eth/registration_breakdown.h"
#include "matching/matching_controller.h"
#include "scale/scale_estimator.h"
#include "util/device.h"
#include "util/logging.h"
#include "util/progress.h"

namespace scalesfm {
namespace fs = std::filesystem;

void EthEvaluationOptions::Check() const {
  if (dataset_paths.empty()) throw Error("eval_eth needs at least one --dataset_path");
  if (output_path.empty()) throw Error("eval_eth needs --output_path");
  for (const std::string& d : dataset_paths) {
    if (!fs::is_directory(fs::path(d) / "images")) {
      throw Error("dataset " + d + " has no images/ folder");
    }
    const fs::path gt = fs::path(d) / "gt";
    if (!fs::is_directory(gt)) continue;
    // A GT model naming images that are not there would silently count as failures.
    const std::vector<std::string> listed = ListImages((fs::path(d) / "images").string());
    const std::set<std::string> present(listed.begin(), listed.end());
    size_t missing = 0;
    std::string first;
    for (const auto& [id, image] : Reconstruction::Read(gt.string()).images) {
      if (!present.count(image.name)) {
        if (missing++ == 0) first = image.name;
      }
    }
    if (missing > 0) {
      throw Error(
          StringPrintf("dataset %s: gt/ names %zu images that are not in images/ (first: "
                       "%s)",
                       d.c_str(), missing, first.c_str()));
    }
  }
  for (const std::string& m : methods) {
    if (FindPreset(StockColmapPresets(), m)) continue;
    MethodConfig config;
    if (!ConfigureScalesfmMethod(m, &config)) {
      throw Error("unknown eval_eth method '" + m + "' (known: " + kEthMethodNames + ")");
    }
  }
  if (repetitions < 1) throw Error("--repetitions must be >= 1");
  ParseDevice(device);
  CheckIntrinsicsMode(intrinsics);
}

const char kIntrinsicsModes[] = "gt, exif, free";

void CheckIntrinsicsMode(const std::string& mode) {
  if (mode != "gt" && mode != "exif" && mode != "free") {
    throw Error("--intrinsics must be one of " + std::string(kIntrinsicsModes) + ", got '" + mode +
                "'");
  }
}

const std::string kEthMethodNames = PresetNames(ScalesfmMethodPresets()) + ", " +
                                    PresetNames(StockColmapPresets()) + "; " + kScalesfmSuffixHelp;

namespace {

// The matching step of a scalesfm method, on the features its extraction wrote: the matching
// controller with the method's sections (its matcher by matching.type).
void RunMethodMatching(const std::string& db_path, const std::string& image_path,
                       const MethodConfig& method, const std::string& pair_list,
                       const ColmapRunner& colmap) {
  MatchingConfig config;
  config.image_path = image_path;
  config.extraction = method.extraction;
  config.matching = method.matching;
  config.scale = method.scale;
  config.verification = method.verification;
  config.pairing.pair_list = pair_list;
  RunMatching(db_path, config, colmap);
}

// exif mode: every image states a focal length, or the mode would silently become free.
void RequireExifFocalLengths(const std::string& image_path) {
  for (const std::string& name : ListImages(image_path)) {
    if (!ReadExifFocalLengthPixels((fs::path(image_path) / name).string(), 1, 1)) {
      throw Error("--intrinsics exif: " + (fs::path(image_path) / name).string() +
                  " has no EXIF focal length (FocalLengthIn35mmFilm, or FocalLength with the "
                  "focal-plane resolution); use --intrinsics free or gt, or a scene from "
                  "make_zoom_scene, which writes EXIF");
    }
  }
}

}  // namespace

// Extraction and matching of one method into `workspace`/database.db (created afresh), with the
// cameras of the intrinsics mode.
MethodDatabase PrepareMethodDatabase(const std::string& dataset, const std::string& method,
                                     int max_num_features, int num_threads,
                                     const std::string& workspace, const ColmapRunner& colmap,
                                     const std::string& device, const std::string& intrinsics) {
  CheckIntrinsicsMode(intrinsics);
  MethodDatabase out;
  fs::remove_all(workspace);
  fs::create_directories(workspace);
  out.image_path = (fs::path(dataset) / "images").string();
  out.gt_path = (fs::path(dataset) / "gt").string();
  const std::string match_list = (fs::path(dataset) / "match-list.txt").string();
  out.database_path = (fs::path(workspace) / "database.db").string();
  out.log_path = (fs::path(workspace) / "colmap.log").string();
  out.has_gt = fs::is_directory(out.gt_path);
  out.mapper_args = {"--Mapper.num_threads", std::to_string(num_threads)};
  const std::string& db_path = out.database_path;
  const std::string& image_path = out.image_path;
  const std::string& log_path = out.log_path;
  // The same cameras for every method: imported here (gt, free), or read from EXIF by each
  // method's own image reader (exif; refined by the mapper's defaults).
  if (intrinsics == "gt" && out.has_gt) {
    ImportIntrinsicsFromModel(db_path, out.gt_path, image_path);
    const auto fixed = FixedIntrinsicsMapperArgs();
    out.mapper_args.insert(out.mapper_args.end(), fixed.begin(), fixed.end());
  } else if (intrinsics == "free") {
    const ImageReaderOptions reader;
    ImportPriorlessCameras(db_path, image_path, ListImages(image_path), reader.camera_model,
                           reader.default_focal_length_factor);
  } else if (intrinsics == "exif") {
    RequireExifFocalLengths(image_path);
  }
  const bool has_match_list = fs::exists(match_list);
  const std::string threads = std::to_string(num_threads);
  Timer timer;
  MethodConfig config;  // verification: one thread, reproducible (DESIGN_NOTES)
  if (ConfigureScalesfmMethod(method, &config)) {
    if (!config.mapper_restarts) out.mapper.max_init_pairs = 0;
    if (ScaleEstimator::Traits(config.scale.estimator.estimator).reads_gt_model ||
        config.scale.gt_region) {
      // The oracles (scalesfm-gt, scalesfm-gt-region): every pair's true scale, and its
      // covisible region, from the dataset's GT model.
      if (!out.has_gt) throw Error("eval_eth method " + method + " needs the dataset's gt/");
      config.scale.estimator.gt_path = out.gt_path;
    }
    config.extraction.max_num_features = max_num_features;
    config.extraction.num_threads = num_threads;
    config.extraction.device = config.matching.device = config.scale.estimator.device = device;
    RunFeatureExtraction(db_path, image_path, ImageReaderOptions(), config.extraction);
    out.extraction_seconds = timer.ElapsedSeconds();
    timer.Restart();
    config.matching.num_threads = num_threads;
    RunMethodMatching(db_path, image_path, config, has_match_list ? match_list : "", colmap);
    out.matching_seconds = timer.ElapsedSeconds();
  } else {
    out.mapper.max_init_pairs = 0;  // stock COLMAP: one mapper run
    const StockColmapPreset* preset = FindPreset(StockColmapPresets(), method);
    if (!preset) {
      throw Error("unknown eval_eth method '" + method + "' (known: " + kEthMethodNames + ")");
    }
    StockColmapConfig stock;
    preset->apply(&stock);
    std::vector<std::string> extract = {"--database_path",
                                        db_path,
                                        "--image_path",
                                        image_path,
                                        "--SiftExtraction.use_gpu",
                                        "0",
                                        "--SiftExtraction.num_threads",
                                        threads,
                                        "--SiftExtraction.max_num_features",
                                        std::to_string(max_num_features)};
    extract.insert(extract.end(), stock.extraction_args.begin(), stock.extraction_args.end());
    PrintHeading1("Stock COLMAP feature extraction (" + method + ")");
    colmap.Run("feature_extractor", extract, log_path);
    out.extraction_seconds = timer.ElapsedSeconds();
    timer.Restart();
    std::vector<std::string> match = {"--database_path",
                                      db_path,
                                      "--SiftMatching.use_gpu",
                                      "0",
                                      "--SiftMatching.num_threads",
                                      threads};
    match.insert(match.end(), stock.matching_args.begin(), stock.matching_args.end());
    out.mapper_args.insert(out.mapper_args.end(), stock.mapper_args.begin(),
                           stock.mapper_args.end());
    PrintHeading1("Stock COLMAP matching (" + method + ")");
    if (has_match_list) {
      match.insert(match.end(), {"--match_list_path", match_list, "--match_type", "pairs"});
      colmap.Run("matches_importer", match, log_path);
    } else {
      colmap.Run("exhaustive_matcher", match, log_path);
    }
    out.matching_seconds = timer.ElapsedSeconds();
  }
  return out;
}

namespace {

// One method on one dataset, in `workspace` (created afresh).
EthResult RunMethod(const std::string& dataset, const std::string& method,
                    const EthEvaluationOptions& options, const std::string& workspace,
                    const ColmapRunner& colmap) {
  EthResult result;
  result.dataset = fs::path(dataset).filename().string();
  result.method = method;
  const std::vector<std::string> image_names = ListImages((fs::path(dataset) / "images").string());
  result.num_images = image_names.size();
  MethodDatabase prepared =
      PrepareMethodDatabase(dataset, method, options.max_num_features, options.num_threads,
                            workspace, colmap, options.device, options.intrinsics);
  prepared.mapper.type = options.mapper_type;
  result.intrinsics = options.intrinsics;
  result.mapper = options.mapper_type;
  result.has_gt = prepared.has_gt;
  result.workspace = workspace;
  result.image_path = prepared.image_path;
  result.gt_path = prepared.gt_path;
  result.extraction_seconds = prepared.extraction_seconds;
  result.matching_seconds = prepared.matching_seconds;
  const std::string& db_path = prepared.database_path;
  const std::string& image_path = prepared.image_path;
  const std::string& gt_path = prepared.gt_path;
  const std::string& log_path = prepared.log_path;
  const std::vector<std::string>& mapper_args = prepared.mapper_args;
  const MapperResult mapper =
      RunMapper(db_path, image_path, (fs::path(workspace) / "sparse").string(), mapper_args,
                prepared.mapper, colmap, log_path);
  result.mapping_seconds = mapper.seconds;
  result.num_models = mapper.num_models;
  result.stats = mapper.stats;
  const Reconstruction estimate =
      mapper.model_path.empty() ? Reconstruction() : Reconstruction::Read(mapper.model_path);
  for (const std::string& name : image_names) {
    const std::string view = ViewTypeOfImage(name);
    if (view.empty()) continue;
    auto& [registered, images] = result.registered_by_view[view];
    ++images;
    if (estimate.FindImageByName(name) != nullptr) ++registered;
  }
  if (result.has_gt) {
    const Reconstruction gt = Reconstruction::Read(gt_path);
    const std::vector<ImageRegistration> images = AnalyseRegistration(db_path, gt, estimate);
    result.lost_by_view = CountLost(images);
    WriteRegistrationCsv((fs::path(workspace) / "registration.csv").string(), images);
    result.pose = EvaluatePoses(gt, estimate);
    PrintPoseAccuracy(result.pose);
  }
  return result;
}

void WriteJson(const std::string& path, const std::vector<EthResult>& results) {
  std::ofstream out(path);
  out << "[\n";
  for (size_t i = 0; i < results.size(); ++i) {
    const EthResult& r = results[i];
    std::string views;
    for (const auto& [view, count] : r.registered_by_view) {
      views += StringPrintf("%s\"%s\": [%zu, %zu]", views.empty() ? "" : ", ", view.c_str(),
                            count.first, count.second);
    }
    std::string lost;
    for (const auto& [view, reasons] : r.lost_by_view) {
      std::string counts;
      for (const auto& [reason, count] : reasons) {
        counts += StringPrintf("%s\"%s\": %zu", counts.empty() ? "" : ", ", reason.c_str(), count);
      }
      lost +=
          StringPrintf("%s\"%s\": {%s}", lost.empty() ? "" : ", ", view.c_str(), counts.c_str());
    }
    out << StringPrintf(
        "  {\"dataset\": \"%s\", \"method\": \"%s\", \"intrinsics\": \"%s\", "
        "\"mapper\": \"%s\", \"repetition\": %d, \"num_images\": %zu, "
        "\"registered\": %zu, \"num_models\": %zu, \"points\": %zu, \"observations\": %zu, "
        "\"mean_track_length\": %.6f, \"mean_reprojection_error\": %.6f, \"has_gt\": %s, "
        "\"maa5\": %.6f, \"maa10\": %.6f, \"median_rotation_deg\": %.6f, "
        "\"median_translation_deg\": %.6f, \"median_center_error\": %.6f, "
        "\"extraction_s\": %.3f, \"matching_s\": %.3f, \"mapping_s\": %.3f, \"total_s\": %.3f, "
        "\"views\": {%s}, \"lost\": {%s}}%s\n",
        r.dataset.c_str(), r.method.c_str(), r.intrinsics.c_str(), r.mapper.c_str(), r.repetition,
        r.num_images, r.stats.num_images, r.num_models, r.stats.num_points,
        r.stats.num_observations, r.stats.mean_track_length, r.stats.mean_reprojection_error,
        r.has_gt ? "true" : "false", r.pose.maa5, r.pose.maa10, r.pose.median_rotation_deg,
        r.pose.median_translation_deg, r.pose.median_center_error, r.extraction_seconds,
        r.matching_seconds, r.mapping_seconds, r.TotalSeconds(), views.c_str(), lost.c_str(),
        i + 1 < results.size() ? "," : "");
  }
  out << "]\n";
}

void WriteCsv(const std::string& path, const std::vector<EthResult>& results) {
  std::ofstream out(path);
  out << "dataset,method,repetition,num_images,registered,num_models,points,observations,"
         "mean_track_length,mean_reprojection_error,maa5,maa10,median_rotation_deg,"
         "median_translation_deg,extraction_s,matching_s,mapping_s,total_s\n";
  for (const EthResult& r : results) {
    out << StringPrintf(
        "%s,%s,%d,%zu,%zu,%zu,%zu,%zu,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%.2f,%.2f,"
        "%.2f,%.2f\n",
        r.dataset.c_str(), r.method.c_str(), r.repetition, r.num_images, r.stats.num_images,
        r.num_models, r.stats.num_points, r.stats.num_observations, r.stats.mean_track_length,
        r.stats.mean_reprojection_error, r.pose.maa5, r.pose.maa10, r.pose.median_rotation_deg,
        r.pose.median_translation_deg, r.extraction_seconds, r.matching_seconds, r.mapping_seconds,
        r.TotalSeconds());
  }
}

}  // namespace

std::string FormatMarkdownTable(const std::vector<EthResult>& results) {
  std::ostringstream out;
  out << "| dataset | method | run | registered | models | points | observations | track len | "
         "reproj px | mAA@5 | mAA@10 | med rot deg | med trans deg | extract s | match s | "
         "map s | total s |\n";
  out << "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const EthResult& r : results) {
    out << StringPrintf(
        "| %s | %s | %d | %zu/%zu | %zu | %zu | %zu | %.3f | %.3f | %s | %s | %s | %s | %.1f | "
        "%.1f | %.1f | %.1f |\n",
        r.dataset.c_str(), r.method.c_str(), r.repetition, r.stats.num_images, r.num_images,
        r.num_models, r.stats.num_points, r.stats.num_observations, r.stats.mean_track_length,
        r.stats.mean_reprojection_error, r.has_gt ? StringPrintf("%.3f", r.pose.maa5).c_str() : "-",
        r.has_gt ? StringPrintf("%.3f", r.pose.maa10).c_str() : "-",
        r.has_gt ? StringPrintf("%.2f", r.pose.median_rotation_deg).c_str() : "-",
        r.has_gt ? StringPrintf("%.2f", r.pose.median_translation_deg).c_str() : "-",
        r.extraction_seconds, r.matching_seconds, r.mapping_seconds, r.TotalSeconds());
  }
  return out.str();
}

std::vector<RepeatabilityRow> SummarizeRepetitions(const std::vector<EthResult>& results) {
  std::vector<RepeatabilityRow> rows;
  for (const EthResult& r : results) {
    auto it = std::find_if(rows.begin(), rows.end(), [&](const RepeatabilityRow& row) {
      return row.dataset == r.dataset && row.method == r.method;
    });
    if (it == rows.end()) {
      RepeatabilityRow row;
      row.dataset = r.dataset;
      row.method = r.method;
      row.num_images = r.num_images;
      row.min_registered = row.max_registered = r.stats.num_images;
      row.min_maa10 = row.max_maa10 = r.pose.maa10;
      row.has_gt = r.has_gt;
      rows.push_back(row);
      it = rows.end() - 1;
    }
    it->runs += 1;
    it->min_registered = std::min(it->min_registered, r.stats.num_images);
    it->max_registered = std::max(it->max_registered, r.stats.num_images);
    it->min_maa10 = std::min(it->min_maa10, r.pose.maa10);
    it->max_maa10 = std::max(it->max_maa10, r.pose.maa10);
    it->mean_maa10 += (r.pose.maa10 - it->mean_maa10) / it->runs;
  }
  return rows;
}

std::string FormatRepeatabilityTable(const std::vector<RepeatabilityRow>& rows) {
  std::ostringstream out;
  out << "| dataset | method | runs | registered min-max | mAA@10 mean | mAA@10 min-max | "
         "spread | within 0.02 |\n";
  out << "|---|---|---|---|---|---|---|---|\n";
  for (const RepeatabilityRow& row : rows) {
    const double spread = row.max_maa10 - row.min_maa10;
    // Registration counts must agree exactly; mAA to kRepeatabilityTolerance.
    const bool ok = row.min_registered == row.max_registered &&
                    (!row.has_gt || spread <= kRepeatabilityTolerance + 1e-9);
    out << StringPrintf(
        "| %s | %s | %d | %zu-%zu/%zu | %s | %s | %s | %s |\n", row.dataset.c_str(),
        row.method.c_str(), row.runs, row.min_registered, row.max_registered, row.num_images,
        row.has_gt ? StringPrintf("%.3f", row.mean_maa10).c_str() : "-",
        row.has_gt ? StringPrintf("%.3f-%.3f", row.min_maa10, row.max_maa10).c_str() : "-",
        row.has_gt ? StringPrintf("%.3f", spread).c_str() : "-", ok ? "yes" : "NO");
  }
  return out.str();
}

std::string ViewTypeOfImage(const std::string& name) {
  const std::string stem = fs::path(name).stem().string();
  const size_t underscore = stem.rfind('_');
  if (underscore == std::string::npos) return "";
  const std::string view = stem.substr(underscore + 1);
  if (view == "wide") return view;
  if (view.size() > 4 && view.compare(0, 4, "zoom") == 0 &&
      std::all_of(view.begin() + 4, view.end(),
                  [](char c) { return std::isdigit(static_cast<unsigned char>(c)) || c == 'p'; })) {
    return view;
  }
  return "";
}

namespace {

// A markdown table's header row and separator: the fixed columns, then `more`.
std::string TableHeader(const std::vector<std::string>& fixed,
                        const std::vector<std::string>& more) {
  std::string header = "|", separator = "|";
  for (const std::vector<std::string>* columns : {&fixed, &more}) {
    for (const std::string& c : *columns) {
      header += " " + c + " |";
      separator += "---|";
    }
  }
  return header + "\n" + separator + "\n";
}

// Each result's method once, in the order of first appearance.
std::vector<std::string> MethodsInOrder(const std::vector<EthResult>& results) {
  std::vector<std::string> methods;
  for (const EthResult& r : results) {
    if (std::find(methods.begin(), methods.end(), r.method) == methods.end()) {
      methods.push_back(r.method);
    }
  }
  return methods;
}

}  // namespace

std::string FormatViewTable(const std::vector<EthResult>& results) {
  std::vector<std::string> views;
  for (const EthResult& r : results) {
    for (const auto& [view, count] : r.registered_by_view) {
      if (std::find(views.begin(), views.end(), view) == views.end()) views.push_back(view);
    }
  }
  if (views.empty()) return "";
  // wide first, then zooms by magnification.
  const auto magnification = [](const std::string& v) {
    std::string number = v.substr(4);
    std::replace(number.begin(), number.end(), 'p', '.');  // zoom1p5 -> 1.5
    return v == "wide" ? 1.0 : std::atof(number.c_str());
  };
  std::sort(views.begin(), views.end(), [&](const std::string& a, const std::string& b) {
    return magnification(a) < magnification(b);
  });
  std::ostringstream out;
  out << TableHeader({"dataset", "method", "run"}, views);
  std::map<std::string, std::map<std::string, std::pair<size_t, size_t>>> totals;
  for (const EthResult& r : results) {
    out << "| " << r.dataset << " | " << r.method << " | " << r.repetition << " |";
    for (const std::string& v : views) {
      const auto it = r.registered_by_view.find(v);
      if (it == r.registered_by_view.end()) {
        out << " - |";
        continue;
      }
      out << " " << it->second.first << "/" << it->second.second << " |";
      totals[r.method][v].first += it->second.first;
      totals[r.method][v].second += it->second.second;
    }
    out << "\n";
  }
  for (const std::string& m : MethodsInOrder(results)) {
    out << "| **all** | " << m << " | |";
    for (const std::string& v : views) {
      const auto& [registered, images] = totals[m][v];
      out << StringPrintf(" %zu/%zu (%.0f%%) |", registered, images,
                          images ? 100.0 * registered / images : 0.0);
    }
    out << "\n";
  }
  return out.str();
}

std::string FormatLostTable(const std::vector<EthResult>& results) {
  // method -> view -> reason -> count, summed over datasets and runs.
  std::map<std::string, std::map<std::string, std::map<std::string, size_t>>> totals;
  for (const EthResult& r : results) {
    for (const auto& [view, reasons] : r.lost_by_view) {
      for (const auto& [reason, count] : reasons) totals[r.method][view][reason] += count;
    }
  }
  if (totals.empty()) return "";
  std::ostringstream out;
  out << TableHeader({"method", "view", "lost"}, kLostAt);
  for (const std::string& m : MethodsInOrder(results)) {
    const auto method_totals = totals.find(m);
    if (method_totals == totals.end()) continue;
    for (const auto& [view, reasons] : method_totals->second) {
      size_t lost = 0;
      for (const auto& [reason, count] : reasons) lost += count;
      out << "| " << m << " | " << view << " | " << lost << " |";
      for (const std::string& reason : kLostAt) {
        const auto it = reasons.find(reason);
        out << " " << (it == reasons.end() ? 0 : it->second) << " |";
      }
      out << "\n";
    }
  }
  return out.str();
}

std::string FormatResultsMarkdown(const std::vector<EthResult>& results) {
  std::set<std::string> modes;
  for (const EthResult& r : results) modes.insert(r.intrinsics);
  std::string md;
  for (const std::string& mode : modes) {
    md += (md.empty() ? "Intrinsics (--intrinsics): " : ", ") + mode;
  }
  std::set<std::string> mappers;
  for (const EthResult& r : results) mappers.insert(r.mapper);
  for (const std::string& mapper : mappers) {
    md += (mapper == *mappers.begin() ? "; mapper (--Mapper.type): " : ", ") + mapper;
  }
  if (!md.empty()) md += "\n\n";
  md += FormatMarkdownTable(results);
  if (const std::string views = FormatViewTable(results); !views.empty()) {
    md += "\nRegistered by view type:\n\n" + views;
  }
  if (const std::string lost = FormatLostTable(results); !lost.empty()) {
    md +=
        "\nWhere the unregistered images were lost (eval_eth/registration_breakdown.h):\n\n" + lost;
  }
  const std::vector<RepeatabilityRow> rows = SummarizeRepetitions(results);
  if (std::any_of(rows.begin(), rows.end(), [](const RepeatabilityRow& r) { return r.runs > 1; }))
    md += "\nRepeatability (registration counts equal, mAA@10 spread <= 0.02):\n\n" +
          FormatRepeatabilityTable(rows);
  return md;
}

std::vector<EthResult> RunEthEvaluation(const EthEvaluationOptions& options,
                                        const ColmapRunner& colmap) {
  options.Check();
  colmap.ResolveBinary();
  MapperOptions mapper;
  mapper.type = options.mapper_type;
  CheckMapperSupported(mapper, colmap);  // before any method runs
  fs::create_directories(options.output_path);
  std::vector<EthResult> results;
  Progress progress("run",
                    options.dataset_paths.size() * options.methods.size() * options.repetitions);
  for (const std::string& dataset : options.dataset_paths) {
    for (int rep = 0; rep < options.repetitions; ++rep) {
      for (const std::string& method : options.methods) {
        const std::string name = fs::path(dataset).filename().string();
        const std::string workspace =
            (fs::path(options.output_path) / name / (method + "-" + std::to_string(rep))).string();
        PrintHeading1("eval_eth: " + name + " / " + method);
        EthResult r = RunMethod(dataset, method, options, workspace, colmap);
        r.repetition = rep;
        results.push_back(r);
        progress.Step(name + " " + method);
        // Rewritten after every run so an interrupted evaluation keeps what it measured.
        WriteJson((fs::path(options.output_path) / "results.json").string(), results);
        WriteCsv((fs::path(options.output_path) / "results.csv").string(), results);
        std::ofstream((fs::path(options.output_path) / "results.md").string())
            << FormatResultsMarkdown(results);
      }
    }
  }
  const std::string report = (fs::path(options.output_path) / "report.html").string();
  WriteHtmlReport(report, results);
  LogInfo("HTML report: " + report);
  LogInfo("\n" + FormatResultsMarkdown(results));
  return results;
}

}  // namespace scalesfm
