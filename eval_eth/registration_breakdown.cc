#include "eval_eth/registration_breakdown.h"

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>

#include "colmap_ext/database.h"
#include "eval_eth/eth_results.h"
#include "util/logging.h"

namespace scalesfm {

const std::vector<std::string> kLostAt = {"no covisible image",
                                          "no candidate pair",
                                          "too few raw matches",
                                          "too few inliers",
                                          "too few inliers agreeing with GT",
                                          "not registered despite inliers"};

namespace {

// Inlier matches of (a, b) whose keypoints lie within kMaxEpipolarAngle of the GT epipolar lines.
size_t CountGtConsistent(const Reconstruction& gt, const ModelImage& a, const ModelImage& b,
                         const Keypoints& ka, const Keypoints& kb, const Matches& inliers) {
  const Camera& ca = gt.cameras.at(a.camera_id);
  const Camera& cb = gt.cameras.at(b.camera_id);
  const Eigen::Matrix3d Ka = CalibrationMatrix(ca), Kb = CalibrationMatrix(cb);
  const Eigen::Matrix3d R = b.R() * a.R().transpose();
  const Eigen::Vector3d t = b.t - R * a.t;
  Eigen::Matrix3d tx;
  tx << 0, -t.z(), t.y(), t.z(), 0, -t.x(), -t.y(), t.x(), 0;
  const Eigen::Matrix3d F = Kb.inverse().transpose() * tx * R * Ka.inverse();
  size_t n = 0;
  for (const scalesfm::Match& m : inliers) {
    if (m.idx1 >= ka.size() || m.idx2 >= kb.size()) continue;
    const Eigen::Vector3d x1(ka[m.idx1].x, ka[m.idx1].y, 1), x2(kb[m.idx2].x, kb[m.idx2].y, 1);
    const Eigen::Vector3d l2 = F * x1, l1 = F.transpose() * x2;
    const double e = std::abs(x2.dot(l2));
    const double d2 = e / std::max(1e-12, l2.head<2>().norm()) / cb.FocalX();
    const double d1 = e / std::max(1e-12, l1.head<2>().norm()) / ca.FocalX();
    if (std::max(d1, d2) < kMaxEpipolarAngle) ++n;
  }
  return n;
}

bool UsableForMapping(int config) {
  switch (static_cast<TwoViewConfig>(config)) {
    case TwoViewConfig::kCalibrated:
    case TwoViewConfig::kUncalibrated:
    case TwoViewConfig::kPlanar:
    case TwoViewConfig::kPanoramic:
    case TwoViewConfig::kPlanarOrPanoramic:
      return true;
    default:
      return false;
  }
}

}  // namespace

std::vector<ImageRegistration> AnalyseRegistration(const std::string& database_path,
                                                   const Reconstruction& gt,
                                                   const Reconstruction& estimate,
                                                   size_t min_inliers) {
  const Database db(database_path);
  const std::vector<Image> images = db.ReadAllImages();
  const std::unordered_map<image_pair_t, size_t> inliers = db.ReadTwoViewGeometryNumInliers();
  // GT id -> database id, and the number of GT points each pair of GT images shares.
  std::map<image_t, image_t> db_of_gt;
  for (const Image& image : images) {
    if (const ModelImage* m = gt.FindImageByName(image.name))
      db_of_gt[m->image_id] = image.image_id;
  }
  std::map<image_pair_t, size_t> shared;
  for (const ModelPoint& p : gt.points) {
    std::set<image_t> seen;
    for (image_t id : p.track_images) {
      const auto it = db_of_gt.find(id);
      if (it != db_of_gt.end()) seen.insert(it->second);
    }
    for (auto a = seen.begin(); a != seen.end(); ++a) {
      for (auto b = std::next(a); b != seen.end(); ++b) ++shared[ImagePairToPairId(*a, *b)];
    }
  }
  const bool know_covisibility = !gt.points.empty();

  std::map<image_t, const ModelImage*> gt_of_db;
  for (const Image& image : images) gt_of_db[image.image_id] = gt.FindImageByName(image.name);
  std::map<image_t, Keypoints> keypoints;
  const auto keypoints_of = [&](image_t id) -> const Keypoints& {
    auto it = keypoints.find(id);
    if (it == keypoints.end()) it = keypoints.emplace(id, db.ReadKeypoints(id)).first;
    return it->second;
  };

  std::vector<ImageRegistration> out;
  for (const Image& image : images) {
    ImageRegistration r;
    r.name = image.name;
    r.view = ViewTypeOfImage(image.name);
    r.registered = estimate.FindImageByName(image.name) != nullptr;
    for (const Image& other : images) {
      if (other.image_id == image.image_id) continue;
      const image_pair_t pair = ImagePairToPairId(image.image_id, other.image_id);
      if (know_covisibility) {
        const auto it = shared.find(pair);
        if (it == shared.end() || it->second < kMinCovisiblePoints) continue;
      }
      ++r.covisible_partners;
      if (!db.ExistsMatches(image.image_id, other.image_id)) continue;
      ++r.matched_partners;
      r.best_raw_matches =
          std::max(r.best_raw_matches, db.ReadMatches(image.image_id, other.image_id).size());
      const auto v = inliers.find(pair);
      if (v == inliers.end() || v->second == 0) continue;
      // The mapper uses only pairs with a usable configuration (not degenerate, watermark, ...).
      const TwoViewGeometry tvg = db.ReadTwoViewGeometry(image.image_id, other.image_id);
      if (!UsableForMapping(tvg.config)) continue;
      r.best_inliers = std::max(r.best_inliers, v->second);
      const ModelImage* ga = gt_of_db.at(image.image_id);
      const ModelImage* gb = gt_of_db.at(other.image_id);
      if (ga == nullptr || gb == nullptr) continue;
      r.best_gt_inliers = std::max(
          r.best_gt_inliers, CountGtConsistent(gt, *ga, *gb, keypoints_of(image.image_id),
                                               keypoints_of(other.image_id), tvg.inlier_matches));
    }
    if (!r.registered) {
      if (r.covisible_partners == 0) {
        r.lost_at = kLostAt[0];
      } else if (r.matched_partners == 0) {
        r.lost_at = kLostAt[1];
      } else if (r.best_raw_matches < min_inliers) {
        r.lost_at = kLostAt[2];
      } else if (r.best_inliers < min_inliers) {
        r.lost_at = kLostAt[3];
      } else if (r.best_gt_inliers < min_inliers) {
        r.lost_at = kLostAt[4];
      } else {
        r.lost_at = kLostAt[5];
      }
    }
    out.push_back(r);
  }
  return out;
}

std::map<std::string, std::map<std::string, size_t>> CountLost(
    const std::vector<ImageRegistration>& images) {
  std::map<std::string, std::map<std::string, size_t>> counts;
  for (const ImageRegistration& r : images) {
    if (!r.registered) ++counts[r.view.empty() ? "other" : r.view][r.lost_at];
  }
  return counts;
}

void WriteRegistrationCsv(const std::string& path, const std::vector<ImageRegistration>& images) {
  std::ofstream out(path);
  out << "name,view,registered,covisible_partners,matched_partners,best_raw_matches,"
         "best_inliers,best_gt_inliers,lost_at\n";
  for (const ImageRegistration& r : images) {
    out << r.name << "," << r.view << "," << (r.registered ? 1 : 0) << "," << r.covisible_partners
        << "," << r.matched_partners << "," << r.best_raw_matches << "," << r.best_inliers << ","
        << r.best_gt_inliers << "," << r.lost_at << "\n";
  }
  if (!out) throw Error("cannot write " + path);
}

}  // namespace scalesfm
