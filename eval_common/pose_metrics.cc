#include "eval_common/pose_metrics.h"

#include <Eigen/Geometry>
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <random>

#include "util/logging.h"

namespace scalesfm {
namespace {

double AngleDeg(double cosine) { return std::acos(std::clamp(cosine, -1.0, 1.0)) * 180.0 / M_PI; }

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Angle between two translation directions. IMC's evaluate_R_t: 1 - (t . t_gt)^2 on unit
// vectors, i.e. arccos(|cos|); a zero vector (IMC: t / (|t| + eps) = 0) gives 90 deg there.
double TranslationAngleDeg(const Eigen::Vector3d& t_gt, const Eigen::Vector3d& t_est,
                           const PoseMetricOptions& options) {
  const double norms = t_gt.norm() * t_est.norm();
  if (!(norms > 0)) return options.Folded() ? 90.0 : 180.0;
  const double cosine = t_gt.dot(t_est) / norms;
  return AngleDeg(options.Folded() ? std::abs(cosine) : cosine);
}

}  // namespace

void PoseMetricOptions::Check() const {
  if (translation_angle != "folded" && translation_angle != "signed") {
    throw Error("--translation_angle must be folded or signed, got '" + translation_angle + "'");
  }
  if (thresholds != "imc" && thresholds != "strict") {
    throw Error("--thresholds must be imc or strict, got '" + thresholds + "'");
  }
}

void RelativePose(const ModelImage& a, const ModelImage& b, Eigen::Matrix3d* R,
                  Eigen::Vector3d* t) {
  *R = b.R() * a.R().transpose();
  *t = b.t - *R * a.t;
  if (t->norm() <= 1e-9 * (a.t.norm() + b.t.norm())) t->setZero();
}

PairPoseError RelativePoseError(const Eigen::Matrix3d& R_gt, const Eigen::Vector3d& t_gt,
                                const Eigen::Matrix3d& R_est, const Eigen::Vector3d& t_est,
                                const PoseMetricOptions& options) {
  PairPoseError e;
  e.rotation_deg = AngleDeg(((R_gt.transpose() * R_est).trace() - 1.0) / 2.0);
  e.translation_deg = TranslationAngleDeg(t_gt, t_est, options);
  e.error_deg = std::max(e.rotation_deg, e.translation_deg);
  return e;
}

std::vector<PairPoseError> ComputeRelativePoseErrors(const Reconstruction& gt,
                                                     const Reconstruction& estimate,
                                                     const PoseMetricOptions& options) {
  std::vector<const ModelImage*> gt_images;
  for (const auto& [id, image] : gt.images) gt_images.push_back(&image);
  std::vector<const ModelImage*> est_images;
  for (const ModelImage* g : gt_images) est_images.push_back(estimate.FindImageByName(g->name));

  std::vector<PairPoseError> errors;
  const double inf = std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < gt_images.size(); ++i) {
    for (size_t j = i + 1; j < gt_images.size(); ++j) {
      PairPoseError e;
      if (!est_images[i] || !est_images[j]) {
        e.rotation_deg = e.translation_deg = e.error_deg = inf;
      } else {
        Eigen::Matrix3d R_gt, R_est;
        Eigen::Vector3d t_gt, t_est;
        RelativePose(*gt_images[i], *gt_images[j], &R_gt, &t_gt);
        RelativePose(*est_images[i], *est_images[j], &R_est, &t_est);
        e = RelativePoseError(R_gt, t_gt, R_est, t_est, options);
      }
      e.name1 = gt_images[i]->name;
      e.name2 = gt_images[j]->name;
      errors.push_back(e);
    }
  }
  return errors;
}

bool WithinThreshold(double error_deg, int threshold_deg, const PoseMetricOptions& options) {
  if (options.thresholds == "imc" && threshold_deg == kImcMaxThresholdDeg) {
    return error_deg <= threshold_deg;
  }
  return error_deg < threshold_deg;
}

double MeanAverageAccuracy(const std::vector<PairPoseError>& errors, int max_threshold_deg,
                           const PoseMetricOptions& options) {
  if (errors.empty() || max_threshold_deg < 1) return 0;
  double sum = 0;
  for (int threshold = 1; threshold <= max_threshold_deg; ++threshold) {
    size_t within = 0;
    for (const auto& e : errors) within += WithinThreshold(e.error_deg, threshold, options);
    sum += static_cast<double>(within) / errors.size();
  }
  return sum / max_threshold_deg;
}

bool HasFinitePoses(const Reconstruction& model) {
  for (const auto& [id, image] : model.images) {
    if (!image.q.coeffs().allFinite() || !image.t.allFinite()) return false;
  }
  return true;
}

std::string BestModelPath(const std::string& sparse_path) {
  std::vector<std::string> paths = ListModels(sparse_path);
  std::sort(paths.begin(), paths.end());
  std::string best;
  size_t best_images = 0;
  for (const std::string& path : paths) {
    const Reconstruction model = Reconstruction::Read(path);
    if (!HasFinitePoses(model)) {
      LogWarning("model " + path + " has a non-finite pose: skipped, as IMC does");
      continue;
    }
    if (best.empty() || model.images.size() > best_images) {
      best = path;
      best_images = model.images.size();
    }
  }
  return best;
}

namespace {

// Robust Sim(3) from estimated to GT centres: Umeyama on random triplets, keep the hypothesis
// with the most centres within 5% of the GT scene extent, refit on its inliers. Sets the median
// centre error and the inlier count.
void AlignCenters(const std::vector<Eigen::Vector3d>& est_centers,
                  const std::vector<Eigen::Vector3d>& gt_centers, PoseAccuracy* acc) {
  const size_t n = gt_centers.size();
  if (n < 3) return;
  Eigen::Matrix3Xd src(3, n), dst(3, n);
  for (size_t i = 0; i < n; ++i) {
    src.col(i) = est_centers[i];
    dst.col(i) = gt_centers[i];
  }
  const double extent = (dst.colwise() - dst.rowwise().mean()).colwise().norm().maxCoeff();
  const double threshold = std::max(1e-9, 0.05 * extent);
  std::mt19937 rng(0);
  std::uniform_int_distribution<size_t> pick(0, n - 1);
  std::vector<size_t> best_inliers;
  for (int iter = 0; iter < 200; ++iter) {
    size_t a = pick(rng), b = pick(rng), c = pick(rng);
    if (a == b || b == c || a == c) continue;
    Eigen::Matrix3d s, d;
    s << src.col(a), src.col(b), src.col(c);
    d << dst.col(a), dst.col(b), dst.col(c);
    const Eigen::Matrix4d T = Eigen::umeyama(s, d, true);
    std::vector<size_t> inliers;
    for (size_t i = 0; i < n; ++i) {
      const Eigen::Vector3d p = T.topLeftCorner<3, 3>() * src.col(i) + T.topRightCorner<3, 1>();
      if ((p - dst.col(i)).norm() < threshold) inliers.push_back(i);
    }
    if (inliers.size() > best_inliers.size()) best_inliers = inliers;
  }
  if (best_inliers.size() < 3) return;
  Eigen::Matrix3Xd s(3, best_inliers.size()), d(3, best_inliers.size());
  for (size_t k = 0; k < best_inliers.size(); ++k) {
    s.col(k) = src.col(best_inliers[k]);
    d.col(k) = dst.col(best_inliers[k]);
  }
  const Eigen::Matrix4d T = Eigen::umeyama(s, d, true);
  std::vector<double> center_errors;
  for (size_t i = 0; i < n; ++i) {
    const Eigen::Vector3d p = T.topLeftCorner<3, 3>() * src.col(i) + T.topRightCorner<3, 1>();
    center_errors.push_back((p - dst.col(i)).norm());
    acc->num_center_inliers += center_errors.back() < threshold;
  }
  acc->median_center_error = Median(center_errors);
}

}  // namespace

PoseAccuracy EvaluatePoses(const Reconstruction& gt, const Reconstruction& estimate,
                           const PoseMetricOptions& options) {
  options.Check();
  PoseAccuracy acc;
  acc.options = options;
  acc.num_gt_images = gt.images.size();
  std::vector<Eigen::Vector3d> gt_centers, est_centers;
  for (const auto& [id, image] : gt.images) {
    if (const ModelImage* e = estimate.FindImageByName(image.name)) {
      ++acc.num_registered;
      gt_centers.push_back(image.Center());
      est_centers.push_back(e->Center());
    }
  }
  acc.errors = ComputeRelativePoseErrors(gt, estimate, options);
  acc.num_pairs = acc.errors.size();
  acc.maa5 = MeanAverageAccuracy(acc.errors, 5, options);
  acc.maa10 = MeanAverageAccuracy(acc.errors, 10, options);
  std::vector<double> rot, trans;
  for (const auto& e : acc.errors) {
    if (std::isfinite(e.error_deg)) {
      rot.push_back(e.rotation_deg);
      trans.push_back(e.translation_deg);
    }
  }
  acc.median_rotation_deg = Median(rot);
  acc.median_translation_deg = Median(trans);
  AlignCenters(est_centers, gt_centers, &acc);
  return acc;
}

void PrintPoseAccuracy(const PoseAccuracy& a) {
  LogInfo(StringPrintf("Registered GT images: %zu / %zu", a.num_registered, a.num_gt_images));
  LogInfo(StringPrintf("Relative-pose mAA@5: %.4f  mAA@10: %.4f  (%zu pairs)", a.maa5, a.maa10,
                       a.num_pairs));
  LogInfo(StringPrintf("Median rotation error: %.3f deg, translation-direction error: %.3f deg",
                       a.median_rotation_deg, a.median_translation_deg));
  LogInfo(StringPrintf("Median camera-centre error after Sim(3): %.4f (GT units), %zu inliers",
                       a.median_center_error, a.num_center_inliers));
  LogInfo("Pose-error definitions: translation angle " + a.options.translation_angle +
          ", thresholds " + a.options.thresholds +
          (a.options.Folded() && a.options.thresholds == "imc" ? " (IMC 2020's)" : ""));
}

}  // namespace scalesfm
