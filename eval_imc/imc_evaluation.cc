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
#include "eval_common/gt_triangulation.h"
#include "eval_eth/eth_evaluation.h"
#include "pipeline/mapper_restarts.h"
#include "pipeline/reconstruction_pipeline.h"
#include "util/logging.h"
#include "util/progress.h"

namespace fs = std::filesystem;

namespace scalesfm {

namespace {

void RequireOneOf(const std::string& value, const std::vector<std::string>& allowed,
                  const std::string& flag) {
  if (std::find(allowed.begin(), allowed.end(), value) != allowed.end()) return;
  std::string list;
  for (const std::string& a : allowed) list += (list.empty() ? "" : " or ") + a;
  throw Error(flag + " must be " + list + ", got '" + value + "'");
}

}  // namespace

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
  eth.intrinsics = intrinsics;
  eth.Check();  // the same method names and intrinsics modes as eval_eth
  for (int k : bag_sizes) {
    if (k < 2) throw Error("--bag_sizes must be >= 2");
  }
  if (!bag_counts.empty() && bag_counts.size() != bag_sizes.size()) {
    throw Error("--bag_counts needs one count per bag size");
  }
  if (!(stereo_threshold_px > 0)) throw Error("--stereo_threshold_px must be positive");
  metric.Check();
  RequireOneOf(bag_sampling, {"covisible", "uniform"}, "--bag_sampling");
  RequireOneOf(stereo_failure, {"imc", "cheirality"}, "--stereo_failure");
  RequireOneOf(registered_fraction, {"imc", "all_bags"}, "--registered_fraction");
  if (!std::isfinite(vis_th)) throw Error("--vis_th must be a number");
  if (!(covisibility_th >= 0 && covisibility_th <= 1)) {
    throw Error("--covisibility_th must be in [0, 1]");
  }
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

std::vector<std::vector<int>> SampleImcBags(const CovisibilityMatrix& covisible, int size,
                                            int count, const ImcEvaluationOptions& options) {
  if (options.bag_sampling == "uniform") {
    return SampleBags(static_cast<int>(covisible.size()), size, count, options.seed);
  }
  return SampleCovisibleBags(covisible, size, count, options.seed);
}

namespace {

std::vector<cv::Point2d> NormalisedPoints(const std::vector<Eigen::Vector2d>& points,
                                          const Camera& camera) {
  std::vector<cv::Point2d> normalised;
  for (const Eigen::Vector2d& p : points) {
    normalised.emplace_back((p.x() - camera.PrincipalX()) / camera.FocalX(),
                            (p.y() - camera.PrincipalY()) / camera.FocalY());
  }
  return normalised;
}

// The relative pose of an essential matrix on normalised points; false when the pair fails.
// "imc" (IMC's eval_essential_matrix and geom_cv2): fewer than 5 inliers fail; of stacked
// solutions the one with the most points in front is kept (the last of a tie), and its
// recoverPose pose is scored however few points are in front. "cheirality" (earlier): stacked
// solutions fail, and so do fewer than 5 points in front.
bool EssentialMatrixPose(const std::vector<cv::Point2d>& n1, const std::vector<cv::Point2d>& n2,
                         double threshold, const std::string& failure, Eigen::Matrix3d* r,
                         Eigen::Vector3d* t) {
  const cv::Mat identity = cv::Mat::eye(3, 3, CV_64F);
  cv::Mat inliers;
  const cv::Mat e =
      cv::findEssentialMat(n1, n2, identity, cv::USAC_MAGSAC, 0.9999, threshold, inliers);
  if (e.empty() || e.cols != 3 || e.rows % 3 != 0) return false;  // no model
  if (cv::countNonZero(inliers) < 5) return false;
  const bool imc = failure == "imc";
  if (!imc && e.rows != 3) return false;
  int best_in_front = -1;
  cv::Mat r_best, t_best;
  for (int k = 0; k < e.rows / 3; ++k) {
    cv::Mat mask = inliers.clone(), r_cv, t_cv;
    const int in_front =
        cv::recoverPose(e.rowRange(3 * k, 3 * k + 3), n1, n2, identity, r_cv, t_cv, mask);
    if (in_front >= best_in_front) {
      best_in_front = in_front;
      r_best = r_cv;
      t_best = t_cv;
    }
  }
  if (!imc && best_in_front < 5) return false;
  cv::cv2eigen(r_best, *r);
  cv::cv2eigen(t_best, *t);
  return true;
}

}  // namespace

PairPoseError StereoPoseError(const std::vector<Eigen::Vector2d>& points1,
                              const std::vector<Eigen::Vector2d>& points2, const Camera& camera1,
                              const Camera& camera2, const ModelImage& gt1, const ModelImage& gt2,
                              const ImcEvaluationOptions& options) {
  PairPoseError e;
  e.rotation_deg = e.translation_deg = e.error_deg = std::numeric_limits<double>::infinity();
  e.name1 = gt1.name;
  e.name2 = gt2.name;
  if (points1.size() < 5) return e;  // IMC's _preprocess: 5 matches at least
  // Normalised image coordinates, so one essential matrix serves two different cameras; the
  // pixel threshold is converted with the mean focal length.
  const double focal =
      0.25 * (camera1.FocalX() + camera1.FocalY() + camera2.FocalX() + camera2.FocalY());
  Eigen::Matrix3d r_est;
  Eigen::Vector3d t_est;
  if (!EssentialMatrixPose(NormalisedPoints(points1, camera1), NormalisedPoints(points2, camera2),
                           options.stereo_threshold_px / focal, options.stereo_failure, &r_est,
                           &t_est)) {
    return e;
  }
  Eigen::Matrix3d r_gt;
  Eigen::Vector3d t_gt;
  RelativePose(gt1, gt2, &r_gt, &t_gt);
  e = RelativePoseError(r_gt, t_gt, r_est, t_est, options.metric);
  e.name1 = gt1.name;
  e.name2 = gt2.name;
  return e;
}

void SummariseRegistration(const std::vector<int>& registered_per_bag, int bag_size,
                           const ImcEvaluationOptions& options, ImcResult* result) {
  double sum = 0;
  size_t counted = 0;
  result->num_bags_without_model = 0;
  for (int registered : registered_per_bag) {
    if (registered < 0) ++result->num_bags_without_model;
    if (registered < 0 && options.registered_fraction == "imc") continue;  // avg_num_cameras
    sum += static_cast<double>(std::max(registered, 0)) / bag_size;
    ++counted;
  }
  result->registered_fraction = counted ? sum / counted : 0;
}

ImcResult AverageOverBagSizes(const std::vector<ImcResult>& per_size) {
  ImcResult average;
  average.task = "multiview";
  if (per_size.empty()) return average;
  average.dataset = per_size.front().dataset;
  average.method = per_size.front().method;
  for (const ImcResult& r : per_size) {
    average.num_items += r.num_items;
    average.maa10 += r.maa10 / per_size.size();
    average.maa5 += r.maa5 / per_size.size();
    average.registered_fraction += r.registered_fraction / per_size.size();
    average.num_bags_without_model += r.num_bags_without_model;
    average.seconds += r.seconds;
  }
  return average;
}

namespace {

ImcResult StereoRow(const std::string& dataset, const std::string& method, const std::string& task,
                    const std::vector<PairPoseError>& errors, const PoseMetricOptions& metric,
                    double seconds) {
  ImcResult result;
  result.dataset = dataset;
  result.method = method;
  result.task = task;
  result.num_items = errors.size();
  result.maa10 = MeanAverageAccuracy(errors, 10, metric);
  result.maa5 = MeanAverageAccuracy(errors, 5, metric);
  result.seconds = seconds;
  return result;
}

// Every GT pair's stereo error from the method's raw matches; rows over the pairs with
// co-visibility >= covisibility_th (IMC's headline) and over all pairs.
std::vector<ImcResult> RunStereo(const std::string& dataset, const std::string& method,
                                 const std::string& database_path, const Reconstruction& gt,
                                 const CovisibilityTable& covisibility,
                                 const ImcEvaluationOptions& options) {
  Timer timer;
  Database db(database_path);
  std::unordered_map<std::string, Image> by_name;
  for (const Image& image : db.ReadAllImages()) by_name[image.name] = image;
  std::vector<const ModelImage*> images;
  for (const auto& [id, image] : gt.images) images.push_back(&image);
  std::unordered_map<image_t, Keypoints> keypoints;
  std::vector<PairPoseError> all, covisible;
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
      all.push_back(StereoPoseError(p1, p2, gt.cameras.at(g1.camera_id),
                                    gt.cameras.at(g2.camera_id), g1, g2, options));
      const double ratio = covisibility.Get(g1.name, g2.name).ratio;
      if (ratio >= options.covisibility_th) covisible.push_back(all.back());
      progress.Step(
          StringPrintf("%s-%s: %zu matches, co-visibility %.2f, error %.2f deg", g1.name.c_str(),
                       g2.name.c_str(), p1.size(), ratio, all.back().error_deg),
          1);
    }
  }
  const std::string name = fs::path(dataset).filename().string();
  const double seconds = timer.ElapsedSeconds();
  return {StereoRow(name, method, StringPrintf("stereo-covis%g", options.covisibility_th),
                    covisible, options.metric, seconds),
          StereoRow(name, method, "stereo-all", all, options.metric, seconds)};
}

// A copy of the scene database restricted to the bag's images and, of their pairs, to
// `pair_ids` (matches, geometries and scale estimates), as if the bag had been matched alone on
// the pairs IMC imports.
void WriteBagDatabase(const std::string& scene_db, const std::vector<image_t>& bag,
                      const std::vector<image_pair_t>& pair_ids, const std::string& bag_db) {
  CopyDatabaseFile(scene_db, bag_db);
  Database db(bag_db);
  std::string ids;
  for (image_t id : bag) ids += (ids.empty() ? "" : ",") + std::to_string(id);
  const std::string keep = "(" + ids + ")";
  std::string pairs;
  for (image_pair_t id : pair_ids) pairs += (pairs.empty() ? "" : ",") + std::to_string(id);
  Database::Transaction transaction(&db);
  if (db.schema() == DatabaseSchema::kColmap4) {
    // COLMAP 4 loads every frame: a frame whose image is gone would name a missing image.
    // Deleting the frame deletes its frame_data rows (ON DELETE CASCADE).
    db.Execute(
        "DELETE FROM frames WHERE frame_id IN (SELECT frame_id FROM frame_data WHERE "
        "sensor_type = 0 AND data_id NOT IN " +
        keep + ");");
  }
  db.Execute("DELETE FROM images WHERE image_id NOT IN " + keep + ";");
  db.Execute("DELETE FROM keypoints WHERE image_id NOT IN " + keep + ";");
  db.Execute("DELETE FROM descriptors WHERE image_id NOT IN " + keep + ";");
  db.Execute("DELETE FROM scalesfm_feature_levels WHERE image_id NOT IN " + keep + ";");
  for (const char* table : {"matches", "two_view_geometries", "scalesfm_pair_scales"}) {
    db.Execute(std::string("DELETE FROM ") + table +
               (pairs.empty() ? ";" : " WHERE pair_id NOT IN (" + pairs + ");"));
  }
  transaction.Commit();
}

// A scene image: its database id and GT image.
struct SceneImage {
  image_t database_id;
  const ModelImage* gt;
};

// The database pair ids of a bag's imported pairs.
std::vector<image_pair_t> BagPairIds(const std::vector<SceneImage>& scene,
                                     const std::vector<int>& bag,
                                     const CovisibilityMatrix& covisible) {
  std::vector<image_pair_t> ids;
  for (const auto& [a, b] : ImportedBagPairs(bag, covisible)) {
    ids.push_back(ImagePairToPairId(scene[bag[a]].database_id, scene[bag[b]].database_id));
  }
  return ids;
}

// Maps one bag; its estimate is the model IMC's get_best_colmap_index picks (empty: none).
Reconstruction MapBag(const MethodDatabase& prepared, const std::vector<image_t>& ids,
                      const std::vector<image_pair_t>& pair_ids, const std::string& bag_dir,
                      const ColmapRunner& colmap) {
  fs::remove_all(bag_dir);
  fs::create_directories(bag_dir);
  WriteBagDatabase(prepared.database_path, ids, pair_ids, bag_dir + "/database.db");
  // COLMAP drops a model with fewer than min(10, images with a verified pair) images, so a
  // bag with one unregistrable image would score 0 for all. IMC scores partial models (an
  // unregistered image fails its pairs): keep models of 3 or more images.
  std::vector<std::string> mapper_args = prepared.mapper_args;
  if (!prepared.mapper.IsGlobal() && !FindMapperArg(mapper_args, "min_model_size")) {
    mapper_args.insert(mapper_args.end(), {"--Mapper.min_model_size", "3"});
  }
  RunMapper(bag_dir + "/database.db", prepared.image_path, bag_dir + "/sparse", mapper_args,
            prepared.mapper, colmap, bag_dir + "/colmap.log");
  const std::string model = BestModelPath(bag_dir + "/sparse");
  return model.empty() ? Reconstruction() : Reconstruction::Read(model);
}

ImcResult RunBagSize(const std::string& dataset, const std::string& method, int size,
                     const std::vector<std::vector<int>>& bags,
                     const std::vector<SceneImage>& scene, const CovisibilityMatrix& covisible,
                     const MethodDatabase& prepared, const Reconstruction& gt,
                     const ImcEvaluationOptions& options, const std::string& work,
                     const ColmapRunner& colmap) {
  Timer timer;
  ImcResult result;
  result.dataset = fs::path(dataset).filename().string();
  result.method = method;
  result.task = "multiview-" + std::to_string(size);
  Progress progress("bag", bags.size());
  double sum10 = 0, sum5 = 0;
  std::vector<int> registered_per_bag;
  for (size_t b = 0; b < bags.size(); ++b) {
    std::vector<image_t> ids;
    Reconstruction gt_bag;
    gt_bag.cameras = gt.cameras;
    for (int k : bags[b]) {
      ids.push_back(scene[k].database_id);
      gt_bag.images[scene[k].gt->image_id] = *scene[k].gt;
    }
    const std::vector<image_pair_t> pair_ids = BagPairIds(scene, bags[b], covisible);
    const Reconstruction estimate = MapBag(prepared, ids, pair_ids, work + "/bag", colmap);
    const std::vector<PairPoseError> errors =
        ComputeRelativePoseErrors(gt_bag, estimate, options.metric);
    const double maa10 = MeanAverageAccuracy(errors, 10, options.metric);
    sum10 += maa10;
    sum5 += MeanAverageAccuracy(errors, 5, options.metric);
    int registered = 0;
    for (const auto& [id, image] : gt_bag.images) {
      registered += estimate.FindImageByName(image.name) != nullptr;
    }
    registered_per_bag.push_back(estimate.images.empty() ? -1 : registered);
    progress.Step(StringPrintf(
        "%s %s bag %zu/%zu: %zu pairs imported, %s, mAA %.3f", result.dataset.c_str(),
        result.task.c_str(), b + 1, bags.size(), pair_ids.size(),
        estimate.images.empty() ? "no model"
                                : StringPrintf("%d/%zu registered", registered, ids.size()).c_str(),
        maa10));
  }
  fs::remove_all(work + "/bag");
  result.num_items = bags.size();
  if (!bags.empty()) {
    result.maa10 = sum10 / bags.size();
    result.maa5 = sum5 / bags.size();
  }
  SummariseRegistration(registered_per_bag, size, options, &result);
  result.seconds = timer.ElapsedSeconds();
  LogInfo(StringPrintf("%s %s: %zu bags, %zu without a model, mAA@10 %.3f", result.dataset.c_str(),
                       result.task.c_str(), result.num_items, result.num_bags_without_model,
                       result.maa10));
  return result;
}

std::vector<ImcResult> RunMultiview(const std::string& dataset, const std::string& method,
                                    const MethodDatabase& prepared, const Reconstruction& gt,
                                    const CovisibilityTable& table,
                                    const ImcEvaluationOptions& options, const std::string& work,
                                    const ColmapRunner& colmap) {
  std::vector<SceneImage> scene;
  {
    Database db(prepared.database_path);
    for (const auto& [gid, image] : gt.images) {
      if (auto row = db.ReadImageWithName(image.name)) scene.push_back({row->image_id, &image});
    }
  }
  std::vector<std::string> names;
  for (const SceneImage& image : scene) names.push_back(image.gt->name);
  const CovisibilityMatrix covisible = MakeCovisibilityMatrix(names, table, options.vis_th);
  const int n = static_cast<int>(scene.size());
  std::vector<ImcResult> results, averaged;
  for (size_t s = 0; s < options.bag_sizes.size(); ++s) {
    const int size = options.bag_sizes[s];
    if (size > n) {
      LogInfo(StringPrintf("Bags of %d: skipped, the scene has %d images", size, n));
      continue;
    }
    const int count = options.bag_counts.empty() ? DefaultBagCount(n, size) : options.bag_counts[s];
    const auto bags = SampleImcBags(covisible, size, count, options);
    if (static_cast<int>(bags.size()) < count) {
      LogWarning(StringPrintf("Bags of %d: %zu of %d %s bags found", size, bags.size(), count,
                              options.bag_sampling.c_str()));
    }
    results.push_back(RunBagSize(dataset, method, size, bags, scene, covisible, prepared, gt,
                                 options, work, colmap));
    if (!bags.empty()) averaged.push_back(results.back());
  }
  if (!averaged.empty()) results.push_back(AverageOverBagSizes(averaged));
  return results;
}

void WriteResults(const std::string& dir, const ImcEvaluationOptions& options,
                  const std::vector<ImcResult>& results) {
  std::ofstream csv((fs::path(dir) / "imc_results.csv").string());
  csv << "dataset,method,task,items,maa10,maa5,registered_fraction,bags_without_model,seconds\n";
  std::ofstream json((fs::path(dir) / "imc_results.json").string());
  json << "[\n";
  for (size_t i = 0; i < results.size(); ++i) {
    const ImcResult& r = results[i];
    csv << StringPrintf("%s,%s,%s,%zu,%.4f,%.4f,%.4f,%zu,%.1f\n", r.dataset.c_str(),
                        r.method.c_str(), r.task.c_str(), r.num_items, r.maa10, r.maa5,
                        r.registered_fraction, r.num_bags_without_model, r.seconds);
    json << StringPrintf(
        "  {\"dataset\": \"%s\", \"method\": \"%s\", \"task\": \"%s\", \"items\": %zu, "
        "\"maa10\": %.6f, \"maa5\": %.6f, \"registered_fraction\": %.6f, "
        "\"bags_without_model\": %zu, \"seconds\": %.3f}%s\n",
        r.dataset.c_str(), r.method.c_str(), r.task.c_str(), r.num_items, r.maa10, r.maa5,
        r.registered_fraction, r.num_bags_without_model, r.seconds,
        i + 1 < results.size() ? "," : "");
  }
  json << "]\n";
  std::ofstream((fs::path(dir) / "imc_results.md").string())
      << FormatImcDefinitions(options) << "\n\n"
      << FormatImcMarkdownTable(results);
}

bool IsStereo(const ImcResult& r) { return r.task.rfind("stereo", 0) == 0; }

bool NeedsCovisibility(const ImcEvaluationOptions& options) {
  return options.bag_sampling == "covisible" || options.vis_th >= 0 ||
         (options.stereo && options.covisibility_th > 0);
}

}  // namespace

std::string FormatImcDefinitions(const ImcEvaluationOptions& o) {
  return StringPrintf(
      "Definitions: translation angle %s, thresholds %s, bags %s, vis_th %g, stereo failure %s, "
      "registered fraction %s, stereo headline over co-visibility >= %g; multiview intrinsics "
      "%s, %s mapper",
      o.metric.translation_angle.c_str(), o.metric.thresholds.c_str(), o.bag_sampling.c_str(),
      o.vis_th, o.stereo_failure.c_str(), o.registered_fraction.c_str(), o.covisibility_th,
      o.intrinsics.c_str(), o.mapper_type.c_str());
}

std::string FormatImcMarkdownTable(const std::vector<ImcResult>& results) {
  std::string md =
      "| dataset | method | task | items | mAA@10 | mAA@5 | registered | no model | time s |\n"
      "|---|---|---|---|---|---|---|---|---|\n";
  for (const ImcResult& r : results) {
    const bool stereo = IsStereo(r);
    md += StringPrintf("| %s | %s | %s | %zu | %.3f | %.3f | %s | %s | %.1f |\n", r.dataset.c_str(),
                       r.method.c_str(), r.task.c_str(), r.num_items, r.maa10, r.maa5,
                       stereo ? "-" : StringPrintf("%.3f", r.registered_fraction).c_str(),
                       stereo ? "-" : std::to_string(r.num_bags_without_model).c_str(), r.seconds);
  }
  return md;
}

std::vector<ImcResult> RunImcEvaluation(const ImcEvaluationOptions& options,
                                        const ColmapRunner& colmap) {
  options.Check();
  colmap.ResolveBinary();
  MapperOptions mapper;
  mapper.type = options.mapper_type;
  CheckMapperSupported(mapper, colmap);  // before any method runs
  fs::create_directories(options.output_path);
  LogInfo(FormatImcDefinitions(options));
  std::vector<ImcResult> results;
  for (const std::string& dataset : options.dataset_paths) {
    const Reconstruction gt = Reconstruction::Read((fs::path(dataset) / "gt").string());
    const fs::path scene_out = fs::path(options.output_path) / fs::path(dataset).filename();
    CovisibilityTable covisibility;
    if (NeedsCovisibility(options)) {
      PrintHeading1("GT co-visibility: " + fs::path(dataset).filename().string());
      covisibility = CovisibilityTable::Compute(
          gt,
          GtPointsOrTriangulation(dataset, gt, (scene_out / "gt_triangulation").string(), colmap));
    }
    for (const std::string& method : options.methods) {
      PrintHeading1("IMC protocol: " + fs::path(dataset).filename().string() + " / " + method);
      const std::string work = (scene_out / method).string();
      MethodDatabase prepared =
          PrepareMethodDatabase(dataset, method, options.max_num_features, options.num_threads,
                                work, colmap, options.device, options.intrinsics);
      prepared.mapper.type = options.mapper_type;
      if (options.stereo) {
        for (ImcResult& r :
             RunStereo(dataset, method, prepared.database_path, gt, covisibility, options)) {
          results.push_back(r);
        }
      }
      for (ImcResult& r :
           RunMultiview(dataset, method, prepared, gt, covisibility, options, work, colmap)) {
        results.push_back(r);
      }
      WriteResults(options.output_path, options, results);  // partial results survive
    }
  }
  std::cout << FormatImcDefinitions(options) << "\n\n" << FormatImcMarkdownTable(results);
  return results;
}

}  // namespace scalesfm
