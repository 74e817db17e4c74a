#include "eval_scale/scale_evaluation.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include "colmap_ext/database.h"
#include "eval_common/gt_triangulation.h"
#include "feature/image_io.h"
#include "pipeline/reconstruction_pipeline.h"
#include "scale/scale_estimator.h"
#include "util/logging.h"
#include "util/progress.h"

namespace scalesfm {
namespace fs = std::filesystem;

std::vector<std::pair<bool, Eigen::Vector2d>> ProjectPoints(
    const Reconstruction& model, const ModelImage& image,
    const std::vector<Eigen::Vector3d>& points) {
  const Camera& camera = model.cameras.at(image.camera_id);
  std::vector<std::pair<bool, Eigen::Vector2d>> out;
  out.reserve(points.size());
  for (const Eigen::Vector3d& X : points) {
    Eigen::Vector2d p = Eigen::Vector2d::Zero();
    const bool in_front = ProjectWorldPoint(camera, image.q, image.t, X, &p);
    out.emplace_back(in_front && InsideImage(camera, p), p);
  }
  return out;
}

namespace {

// The 3D points of `scene`: SIFT matches triangulated with its GT poses, cached under `work`.
std::vector<Eigen::Vector3d> TriangulateScene(const std::string& scene, const std::string& work,
                                              const ColmapRunner& colmap) {
  const Reconstruction model = TriangulateWithGtPoses(scene, work, colmap);
  std::vector<Eigen::Vector3d> points;
  for (const ModelPoint* p : ReliablePoints(model)) points.push_back(p->xyz);
  LogInfo(StringPrintf("%zu triangulated points (track >= 3, error < 2 px) from %s", points.size(),
                       scene.c_str()));
  return points;
}

std::vector<ScalePairGt> ScenePairs(const std::string& scene, const ScaleEvaluationOptions& options,
                                    const ColmapRunner& colmap) {
  std::string source = scene;
  const std::string name = fs::path(scene).filename().string();
  const std::string suffix = "-zoom";
  if (name.size() > suffix.size() &&
      name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
    const fs::path base =
        fs::path(scene).parent_path() / name.substr(0, name.size() - suffix.size());
    if (fs::is_directory(base / "gt")) source = base.string();
  }
  const std::string source_name = fs::path(source).filename().string();
  const std::vector<Eigen::Vector3d> points = TriangulateScene(
      source, (fs::path(options.output_path) / "triangulation" / source_name).string(), colmap);
  const Reconstruction gt = Reconstruction::Read((fs::path(scene) / "gt").string());
  std::vector<const ModelImage*> images;
  for (const auto& [id, image] : gt.images) images.push_back(&image);
  std::vector<std::vector<std::pair<bool, Eigen::Vector2d>>> projections;
  for (const ModelImage* image : images) projections.push_back(ProjectPoints(gt, *image, points));

  std::vector<ScalePairGt> pairs;
  for (size_t i = 0; i < images.size(); ++i) {
    for (size_t j = i + 1; j < images.size(); ++j) {
      std::vector<Eigen::Vector2d> a, b;
      for (size_t k = 0; k < points.size(); ++k) {
        if (projections[i][k].first && projections[j][k].first) {
          a.push_back(projections[i][k].second);
          b.push_back(projections[j][k].second);
        }
      }
      if (a.size() < options.min_covisible_points) continue;
      ScalePairGt p;
      p.dataset = name;
      p.name1 = (fs::path(scene) / "images" / images[i]->name).string();
      p.name2 = (fs::path(scene) / "images" / images[j]->name).string();
      p.scale = ScaleFromCorrespondences(a, b, 200, static_cast<unsigned>(i * 1000 + j));
      p.support = a.size();
      if (options.zoom_pairs_only && std::abs(std::log2(p.scale)) < 1) continue;
      pairs.push_back(p);
    }
  }
  if (options.max_pairs_per_scene > 0 && pairs.size() > options.max_pairs_per_scene) {
    std::mt19937 rng(0);
    std::shuffle(pairs.begin(), pairs.end(), rng);
    pairs.resize(options.max_pairs_per_scene);
  }
  LogInfo(StringPrintf("%s: %zu pairs with >= %zu covisible points", name.c_str(), pairs.size(),
                       options.min_covisible_points));
  return pairs;
}

const char* BinName(double abs_log2) {
  if (abs_log2 < 1) return "0-1";
  if (abs_log2 < 2) return "1-2";
  if (abs_log2 < 3) return "2-3";
  return ">3";
}

}  // namespace

std::vector<ScaleEstimateRow> RunScaleEvaluation(const ScaleEvaluationOptions& options,
                                                 const ColmapRunner& colmap) {
  if (options.output_path.empty()) throw Error("eval_scale needs --output_path");
  if (options.homography_path.empty() && options.scene_paths.empty()) {
    throw Error("eval_scale needs --homography_path and/or --scene_path");
  }
  fs::create_directories(options.output_path);
  std::vector<ScalePairGt> pairs;
  if (!options.homography_path.empty()) {
    for (auto& p : ReadHomographyPairs(options.homography_path)) pairs.push_back(p);
  }
  for (const std::string& scene : options.scene_paths) {
    for (auto& p : ScenePairs(scene, options, colmap)) pairs.push_back(p);
  }
  {
    std::ofstream gt((fs::path(options.output_path) / "gt_pairs.csv").string());
    gt << "dataset,image1,image2,gt_scale,support\n";
    for (const auto& p : pairs) {
      gt << p.dataset << "," << p.name1 << "," << p.name2 << "," << p.scale << "," << p.support
         << "\n";
    }
  }

  // Each image is decoded once (per pixel format) and shared by all estimators.
  std::map<std::pair<std::string, int>, cv::Mat> cache;
  auto load = [&](const std::string& path, int channels) -> const cv::Mat& {
    auto it = cache.find({path, channels});
    if (it != cache.end()) return it->second;
    std::string error;
    cv::Mat image = ReadImage(path, channels, &error);
    if (image.empty()) throw Error("cannot read " + path + ": " + error);
    return cache[{path, channels}] = image;
  };
  std::vector<ScaleEstimateRow> rows;
  for (const std::string& name : options.estimators) {
    PrintHeading1("eval_scale: " + name);
    ScaleEstimatorOptions eo;
    eo.estimator = name;
    eo.weights = options.weights;
    eo.device = options.device;
    std::unique_ptr<ScaleEstimator> estimator = ScaleEstimator::Create(eo);
    Progress progress("pair", pairs.size());
    for (const ScalePairGt& p : pairs) {
      Timer timer;
      const int channels = estimator->InputChannels();
      const ScaleEstimate e =
          estimator->EstimateImages(load(p.name1, channels), load(p.name2, channels));
      ScaleEstimateRow row{p, name, e.scale, e.bin, timer.ElapsedSeconds()};
      rows.push_back(row);
      progress.Step(StringPrintf("%s gt %.3f est %.3f", p.dataset.c_str(), p.scale, e.scale));
    }
  }
  std::ofstream csv((fs::path(options.output_path) / "estimates.csv").string());
  csv << "dataset,image1,image2,gt_scale,estimator,estimate,bin,abs_log2_error,seconds\n";
  for (const auto& r : rows) {
    csv << r.pair.dataset << "," << r.pair.name1 << "," << r.pair.name2 << "," << r.pair.scale
        << "," << r.estimator << "," << r.estimate << "," << r.bin << ","
        << std::abs(std::log2(r.estimate) - std::log2(r.pair.scale)) << "," << r.seconds << "\n";
  }
  const std::string summary = FormatScaleSummary(rows);
  std::ofstream((fs::path(options.output_path) / "summary.md").string()) << summary;
  LogInfo("\n" + summary);
  return rows;
}

std::string FormatScaleSummary(const std::vector<ScaleEstimateRow>& rows) {
  // group -> estimator -> bin -> (sum error, count, within one bin)
  struct Acc {
    double sum = 0;
    size_t n = 0, within = 0;
  };
  std::map<std::string, std::map<std::string, std::map<std::string, Acc>>> acc;
  for (const auto& r : rows) {
    const std::string group =
        r.pair.dataset.rfind("homography/", 0) == 0
            ? "homography"
            : (r.pair.dataset.find("-zoom") != std::string::npos ? "strecha-zoom" : "strecha");
    const double gt = std::log2(r.pair.scale);
    const double err = std::abs(std::log2(r.estimate) - gt);
    const bool within = std::abs(NearestScaleBin(r.estimate) - NearestScaleBin(r.pair.scale)) <= 1;
    for (const std::string& bin : {std::string("all"), std::string(BinName(std::abs(gt))),
                                   std::string(std::abs(gt) >= 1 ? ">=1" : "<1"),
                                   std::string(std::abs(gt) >= 2 ? ">=2" : "<2")}) {
      for (const std::string& g : {group, std::string("all")}) {
        Acc& a = acc[g][r.estimator][bin];
        a.sum += err;
        ++a.n;
        a.within += within;
      }
    }
  }
  std::ostringstream out;
  const std::vector<std::string> bins = {"all", "0-1", "1-2", "2-3", ">3", ">=1", ">=2"};
  out << "E = mean |log2 s - log2 s_hat| (pairs); last column: bin of the estimate within +-1 of "
         "the GT bin, over pairs with |log2 s| >= 1\n\n";
  out << "| pairs | estimator |";
  for (const auto& b : bins) out << " E " << b << " |";
  out << " bin+-1 (>=1) |\n|---|---|";
  for (size_t i = 0; i <= bins.size(); ++i) out << "---|";
  out << "\n";
  for (const auto& [group, by_estimator] : acc) {
    for (const auto& [estimator, by_bin] : by_estimator) {
      out << "| " << group << " | " << estimator << " |";
      for (const auto& b : bins) {
        auto it = by_bin.find(b);
        if (it == by_bin.end() || it->second.n == 0) {
          out << " - |";
        } else {
          out << StringPrintf(" %.3f (%zu) |", it->second.sum / it->second.n, it->second.n);
        }
      }
      auto it = by_bin.find(">=1");
      if (it == by_bin.end() || it->second.n == 0) {
        out << " - |\n";
      } else {
        out << StringPrintf(" %.1f%% |\n", 100.0 * it->second.within / it->second.n);
      }
    }
  }
  return out.str();
}

}  // namespace scalesfm
