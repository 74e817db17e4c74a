#include "eval_imc/imc_evaluation.h"

#include <Eigen/Geometry>
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <opencv2/calib3d.hpp>
#include <opencv2/core/eigen.hpp>
#include <random>
#include <set>
#include <unordered_map>

#include "colmap_ext/database.h"
#include "eval_eth/eth_evaluation.h"
#include "pipeline/mapper_restarts.h"
#include "pipeline/reconstruction_pipeline.h"
#include "util/logging.h"
#include "util/progress.h"

namespace fs = std::filesystem;

namespace scalesfm {

void ImcEvaluationOptions::Check() const {
  if (dataset_paths.empty()) throw Error("eval_imc needs at least one --dataset_path");
  if (output_path.empty()) throw Error("eval_imc needs --output_path");
  for (const std::string& d : dataset_paths) {
    if (!fs::is_directory(fs::path(d) / "images")) {
      throw Error("dataset " + d + " has no images/ folder");
    }
    if (!fs::is_directory(fs::path(d) / "gt")) {
      throw Error("dataset " + d + " has no gt/ model; the IMC protocol needs GT poses");
    }
  }
  EthEvaluationOptions eth;
  eth.dataset_paths = dataset_paths;
  eth.output_path = output_path;
  eth.methods = methods;
  eth.device = device;
  eth.Check();  // the same method names as eval_eth
  for (int k : bag_sizes) {
    if (k < 2) throw Error("--bag_sizes must be >= 2");
  }
  if (!bag_counts.empty() && bag_counts.size() != bag_sizes.size()) {
    throw Error("--bag_counts needs one count per bag size");
  }
  if (!(stereo_threshold_px > 0)) throw Error("--stereo_threshold_px must be positive");
}

int DefaultBagCount(int n, int bag_size) {
  const int paper = bag_size <= 5 ? 100 : bag_size <= 10 ? 50 : 25;
  int count = std::max(1, static_cast<int>(std::lround(paper * n / 100.0)));
  // Never more than the number of distinct bags.
  double distinct = 1;
  for (int i = 0; i < bag_size && distinct < 1e9; ++i) distinct = distinct * (n - i) / (i + 1);
  return std::min<double>(count, distinct);
}

std::vector<std::vector<int>> SampleBags(int n, int size, int count, unsigned seed) {
  std::vector<std::vector<int>> bags;
  if (size > n || count <= 0) return bags;
  std::mt19937 rng(seed * 7919u + static_cast<unsigned>(size));
  std::set<std::vector<int>> seen;
  std::vector<int> ids(n);
  for (int i = 0; i < n; ++i) ids[i] = i;
  for (int attempt = 0; static_cast<int>(bags.size()) < count && attempt < 100 * count; ++attempt) {
    std::shuffle(ids.begin(), ids.end(), rng);
    std::vector<int> bag(ids.begin(), ids.begin() + size);
    std::sort(bag.begin(), bag.end());
    if (seen.insert(bag).second) bags.push_back(bag);
  }
  return bags;
}

namespace {

double AngleDeg(double cosine) { return std::acos(std::clamp(cosine, -1.0, 1.0)) * 180.0 / M_PI; }

}  // namespace

PairPoseError StereoPoseError(const std::vector<Eigen::Vector2d>& points1,
                              const std::vector<Eigen::Vector2d>& points2, const Camera& camera1,
                              const Camera& camera2, const ModelImage& gt1, const ModelImage& gt2,
                              double threshold_px) {
  PairPoseError e;
  e.name1 = gt1.name;
  e.name2 = gt2.name;
  e.rotation_deg = e.translation_deg = e.error_deg = std::numeric_limits<double>::infinity();
  if (points1.size() < 5) return e;
  // Normalised image coordinates, so one essential matrix serves two different cameras.
  std::vector<cv::Point2d> n1, n2;
  for (size_t i = 0; i < points1.size(); ++i) {
    n1.emplace_back((points1[i].x() - camera1.PrincipalX()) / camera1.FocalX(),
                    (points1[i].y() - camera1.PrincipalY()) / camera1.FocalY());
    n2.emplace_back((points2[i].x() - camera2.PrincipalX()) / camera2.FocalX(),
                    (points2[i].y() - camera2.PrincipalY()) / camera2.FocalY());
  }
  const double focal =
      0.25 * (camera1.FocalX() + camera1.FocalY() + camera2.FocalX() + camera2.FocalY());
  cv::Mat mask;
  const cv::Mat e_mat = cv::findEssentialMat(n1, n2, cv::Mat::eye(3, 3, CV_64F), cv::USAC_MAGSAC,
                                             0.9999, threshold_px / focal, mask);
  if (e_mat.rows != 3 || e_mat.cols != 3) return e;  // no model, or several stacked
  cv::Mat r_cv, t_cv;
  if (cv::recoverPose(e_mat, n1, n2, cv::Mat::eye(3, 3, CV_64F), r_cv, t_cv, mask) < 5) return e;
  Eigen::Matrix3d r_est;
  Eigen::Vector3d t_est;
  cv::cv2eigen(r_cv, r_est);
  cv::cv2eigen(t_cv, t_est);
  Eigen::Matrix3d r_gt;
  Eigen::Vector3d t_gt;
  RelativePose(gt1, gt2, &r_gt, &t_gt);
  e.rotation_deg = AngleDeg(((r_est.transpose() * r_gt).trace() - 1.0) / 2.0);
  e.translation_deg = t_gt.norm() > 0 && t_est.norm() > 0
                          ? AngleDeg(t_gt.normalized().dot(t_est.normalized()))
                          : std::numeric_limits<double>::infinity();
  e.error_deg = std::max(e.rotation_deg, e.translation_deg);
  return e;
}

namespace {

ImcResult RunStereo(const std::string& dataset, const std::string& method,
                    const std::string& database_path, const Reconstruction& gt,
                    double threshold_px) {
  Timer timer;
  ImcResult result;
  result.dataset = fs::path(dataset).filename().string();
  result.method = method;
  result.task = "stereo";
  Database db(database_path);
  std::unordered_map<std::string, Image> by_name;
  for (const Image& image : db.ReadAllImages()) by_name[image.name] = image;
  std::vector<const ModelImage*> images;
  for (const auto& [id, image] : gt.images) images.push_back(&image);
  std::unordered_map<image_t, Keypoints> keypoints;
  std::vector<PairPoseError> errors;
  Progress progress("pair", images.size() * (images.size() - 1) / 2);
  for (size_t i = 0; i < images.size(); ++i) {
    for (size_t j = i + 1; j < images.size(); ++j) {
      const ModelImage& g1 = *images[i];
      const ModelImage& g2 = *images[j];
      std::vector<Eigen::Vector2d> p1, p2;
      auto it1 = by_name.find(g1.name), it2 = by_name.find(g2.name);
      if (it1 != by_name.end() && it2 != by_name.end()) {
        const image_t a = it1->second.image_id, b = it2->second.image_id;
        if (!keypoints.count(a)) keypoints[a] = db.ReadKeypoints(a);
        if (!keypoints.count(b)) keypoints[b] = db.ReadKeypoints(b);
        for (const Match& m : db.ReadMatches(a, b)) {
          p1.emplace_back(keypoints[a][m.idx1].x, keypoints[a][m.idx1].y);
          p2.emplace_back(keypoints[b][m.idx2].x, keypoints[b][m.idx2].y);
        }
      }
      errors.push_back(StereoPoseError(p1, p2, gt.cameras.at(g1.camera_id),
                                       gt.cameras.at(g2.camera_id), g1, g2, threshold_px));
      progress.Step(StringPrintf("%s-%s: %zu matches, error %.2f deg", g1.name.c_str(),
                                 g2.name.c_str(), p1.size(), errors.back().error_deg),
                    1);
    }
  }
  result.num_items = errors.size();
  result.maa10 = MeanAverageAccuracy(errors, 10);
  result.maa5 = MeanAverageAccuracy(errors, 5);
  result.seconds = timer.ElapsedSeconds();
  return result;
}

// A copy of the scene database restricted to the bag's images (their matches and geometries
// among themselves only), as if the bag had been matched alone.
void WriteBagDatabase(const std::string& scene_db, const std::vector<image_t>& bag,
                      const std::string& bag_db) {
  fs::remove(bag_db);
  fs::copy_file(scene_db, bag_db);
  Database db(bag_db);
  std::string ids;
  for (image_t id : bag) ids += (ids.empty() ? "" : ",") + std::to_string(id);
  const std::string keep = "(" + ids + ")";
  const std::string m = std::to_string(kMaxNumImages);
  Database::Transaction transaction(&db);
  db.Execute("DELETE FROM images WHERE image_id NOT IN " + keep + ";");
  db.Execute("DELETE FROM keypoints WHERE image_id NOT IN " + keep + ";");
  db.Execute("DELETE FROM descriptors WHERE image_id NOT IN " + keep + ";");
  db.Execute("DELETE FROM scalesfm_feature_levels WHERE image_id NOT IN " + keep + ";");
  for (const char* table : {"matches", "two_view_geometries", "scalesfm_pair_scales"}) {
    db.Execute(std::string("DELETE FROM ") + table + " WHERE (pair_id / " + m + ") NOT IN " + keep +
               " OR (pair_id % " + m + ") NOT IN " + keep + ";");
  }
  transaction.Commit();
}

std::vector<ImcResult> RunMultiview(const std::string& dataset, const std::string& method,
                                    const MethodDatabase& prepared, const Reconstruction& gt,
                                    const ImcEvaluationOptions& options, const std::string& work,
                                    const ColmapRunner& colmap) {
  std::vector<ImcResult> results;
  std::vector<std::pair<image_t, const ModelImage*>> scene;  // database id, GT image
  {
    Database db(prepared.database_path);
    for (const auto& [gid, image] : gt.images) {
      if (auto row = db.ReadImageWithName(image.name)) scene.emplace_back(row->image_id, &image);
    }
  }
  const int n = static_cast<int>(scene.size());
  for (size_t s = 0; s < options.bag_sizes.size(); ++s) {
    const int size = options.bag_sizes[s];
    if (size > n) {
      LogInfo(StringPrintf("Bags of %d: skipped, the scene has %d images", size, n));
      continue;
    }
    const int count = options.bag_counts.empty() ? DefaultBagCount(n, size) : options.bag_counts[s];
    const auto bags = SampleBags(n, size, count, options.seed);
    Timer timer;
    ImcResult result;
    result.dataset = fs::path(dataset).filename().string();
    result.method = method;
    result.task = "multiview-" + std::to_string(size);
    Progress progress("bag", bags.size());
    double sum10 = 0, sum5 = 0, registered = 0;
    for (size_t b = 0; b < bags.size(); ++b) {
      std::vector<image_t> ids;
      Reconstruction gt_bag;
      gt_bag.cameras = gt.cameras;
      for (int k : bags[b]) {
        ids.push_back(scene[k].first);
        gt_bag.images[scene[k].second->image_id] = *scene[k].second;
      }
      const std::string bag_dir = work + "/bag";
      fs::remove_all(bag_dir);
      fs::create_directories(bag_dir);
      WriteBagDatabase(prepared.database_path, ids, bag_dir + "/database.db");
      // COLMAP drops a model with fewer than min(10, images with a verified pair) images, so a
      // bag with one unregistrable image would score 0 for all. IMC scores partial models (an
      // unregistered image fails its pairs): keep models of 3 or more images.
      std::vector<std::string> mapper_args = prepared.mapper_args;
      if (!FindMapperArg(mapper_args, "min_model_size")) {
        mapper_args.insert(mapper_args.end(), {"--Mapper.min_model_size", "3"});
      }
      const MapperResult mapper =
          RunMapper(bag_dir + "/database.db", prepared.image_path, bag_dir + "/sparse", mapper_args,
                    prepared.restarts, colmap, bag_dir + "/colmap.log");
      const Reconstruction estimate =
          mapper.model_path.empty() ? Reconstruction() : Reconstruction::Read(mapper.model_path);
      const std::vector<PairPoseError> errors = ComputeRelativePoseErrors(gt_bag, estimate);
      const double maa10 = MeanAverageAccuracy(errors, 10);
      sum10 += maa10;
      sum5 += MeanAverageAccuracy(errors, 5);
      size_t reg = 0;
      for (const auto& [id, image] : gt_bag.images)
        reg += estimate.FindImageByName(image.name) != nullptr;
      registered += double(reg) / ids.size();
      progress.Step(StringPrintf("%s %s bag %zu/%zu: %zu/%zu registered, mAA %.3f",
                                 result.dataset.c_str(), result.task.c_str(), b + 1, bags.size(),
                                 reg, ids.size(), maa10));
    }
    fs::remove_all(work + "/bag");
    result.num_items = bags.size();
    if (!bags.empty()) {
      result.maa10 = sum10 / bags.size();
      result.maa5 = sum5 / bags.size();
      result.registered_fraction = registered / bags.size();
    }
    result.seconds = timer.ElapsedSeconds();
    results.push_back(result);
  }
  return results;
}

void WriteResults(const std::string& dir, const std::vector<ImcResult>& results) {
  std::ofstream csv((fs::path(dir) / "imc_results.csv").string());
  csv << "dataset,method,task,items,maa10,maa5,registered_fraction,seconds\n";
  std::ofstream json((fs::path(dir) / "imc_results.json").string());
  json << "[\n";
  for (size_t i = 0; i < results.size(); ++i) {
    const ImcResult& r = results[i];
    csv << StringPrintf("%s,%s,%s,%zu,%.4f,%.4f,%.4f,%.1f\n", r.dataset.c_str(), r.method.c_str(),
                        r.task.c_str(), r.num_items, r.maa10, r.maa5, r.registered_fraction,
                        r.seconds);
    json << StringPrintf(
        "  {\"dataset\": \"%s\", \"method\": \"%s\", \"task\": \"%s\", \"items\": %zu, "
        "\"maa10\": %.6f, \"maa5\": %.6f, \"registered_fraction\": %.6f, \"seconds\": %.3f}%s\n",
        r.dataset.c_str(), r.method.c_str(), r.task.c_str(), r.num_items, r.maa10, r.maa5,
        r.registered_fraction, r.seconds, i + 1 < results.size() ? "," : "");
  }
  json << "]\n";
  std::ofstream((fs::path(dir) / "imc_results.md").string()) << FormatImcMarkdownTable(results);
}

}  // namespace

std::string FormatImcMarkdownTable(const std::vector<ImcResult>& results) {
  std::string md =
      "| dataset | method | task | items | mAA@10 | mAA@5 | registered | time s |\n"
      "|---|---|---|---|---|---|---|---|\n";
  for (const ImcResult& r : results) {
    md += StringPrintf(
        "| %s | %s | %s | %zu | %.3f | %.3f | %s | %.1f |\n", r.dataset.c_str(), r.method.c_str(),
        r.task.c_str(), r.num_items, r.maa10, r.maa5,
        r.task == "stereo" ? "-" : StringPrintf("%.3f", r.registered_fraction).c_str(), r.seconds);
  }
  return md;
}

std::vector<ImcResult> RunImcEvaluation(const ImcEvaluationOptions& options,
                                        const ColmapRunner& colmap) {
  options.Check();
  colmap.ResolveBinary();
  fs::create_directories(options.output_path);
  std::vector<ImcResult> results;
  for (const std::string& dataset : options.dataset_paths) {
    const Reconstruction gt = Reconstruction::Read((fs::path(dataset) / "gt").string());
    for (const std::string& method : options.methods) {
      PrintHeading1("IMC protocol: " + fs::path(dataset).filename().string() + " / " + method);
      const std::string work =
          (fs::path(options.output_path) / fs::path(dataset).filename() / method).string();
      const MethodDatabase prepared =
          PrepareMethodDatabase(dataset, method, options.max_num_features, options.num_threads,
                                work, colmap, options.device);
      if (options.stereo) {
        results.push_back(
            RunStereo(dataset, method, prepared.database_path, gt, options.stereo_threshold_px));
      }
      for (ImcResult& r : RunMultiview(dataset, method, prepared, gt, options, work, colmap)) {
        results.push_back(r);
      }
      WriteResults(options.output_path, results);  // partial results survive an interruption
    }
  }
  std::cout << FormatImcMarkdownTable(results);
  return results;
}

}  // namespace scalesfm
