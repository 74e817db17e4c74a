#include "matching/guided_matching.h"

#include <ATen/Parallel.h>

#include <Eigen/Geometry>
#include <Eigen/LU>
#include <cmath>
#include <limits>
#include <unordered_map>
#include <unordered_set>

#include "feature/best_two.h"
#include "matching/descriptor_cache.h"
#include "matching/keypoint_grid.h"
#include "util/logging.h"
#include "util/progress.h"

namespace scalesfm {

double SquaredSampsonError(const Eigen::Matrix3d& F, const Eigen::Vector2d& x1,
                           const Eigen::Vector2d& x2) {
  const Eigen::Vector3d l1 = F * x1.homogeneous(), l2 = F.transpose() * x2.homogeneous();
  const double denominator = l1.head<2>().squaredNorm() + l2.head<2>().squaredNorm();
  const double residual = x2.homogeneous().dot(l1);
  return denominator > 0 ? residual * residual / denominator
                         : std::numeric_limits<double>::infinity();
}

std::vector<Eigen::Vector2d> KeypointPositions(const Keypoints& keypoints) {
  std::vector<Eigen::Vector2d> xy(keypoints.size());
  for (size_t i = 0; i < keypoints.size(); ++i) xy[i] = {keypoints[i].x, keypoints[i].y};
  return xy;
}

namespace {

// Sampson under F. With l = F x1_i, a_i = |l_12|^2 and b_j = |(F^T x2_j)_12|^2, the test
// (x2_j . l)^2 / (a_i + b_j) <= t^2 bounds x2_j's distance to the line l by
// t sqrt(1 + max_j b_j / a_i); the grid lists the keypoints in that band and the exact test
// decides.
void EpipolarCandidates(const std::vector<Eigen::Vector2d>& x1,
                        const std::vector<Eigen::Vector2d>& x2, const Eigen::Matrix3d& F,
                        double threshold, CandidatePairs* out) {
  const KeypointGrid grid(x2);
  std::vector<double> b(x2.size());
  double b_max = 0;
  for (size_t j = 0; j < x2.size(); ++j) {
    b[j] = (F.transpose() * x2[j].homogeneous()).head<2>().squaredNorm();
    if (std::isfinite(b[j])) b_max = std::max(b_max, b[j]);
  }
  for (size_t i = 0; i < x1.size(); ++i) {
    const Eigen::Vector3d l = F * x1[i].homogeneous();
    const double a = l.head<2>().squaredNorm();
    const auto test = [&](int32_t j) {
      const double r = x2[j].homogeneous().dot(l);
      if (r * r <= threshold * (a + b[j])) {
        out->idx1.push_back(static_cast<int32_t>(i));
        out->idx2.push_back(j);
      }
    };
    if (!std::isfinite(a)) continue;
    if (a > 0 && b_max / a < 1e12) {
      grid.VisitBand(l, std::sqrt(threshold * (1 + b_max / a)), test);
    } else {  // x1_i at the epipole: no line to follow, test everything
      const double inf = std::numeric_limits<double>::infinity();
      grid.VisitBox(-inf, -inf, inf, inf, test);
    }
  }
}

// Both transfer errors under H: the grid lists x2's keypoints around H x1_i, and the backward
// transfer H^-1 x2_j must land within the threshold of x1_i as well.
void HomographyCandidates(const std::vector<Eigen::Vector2d>& x1,
                          const std::vector<Eigen::Vector2d>& x2, const Eigen::Matrix3d& H,
                          double threshold, CandidatePairs* out) {
  const KeypointGrid grid(x2);
  const Eigen::Matrix3d H_inv = H.inverse();
  std::vector<Eigen::Vector2d> back(x2.size());
  for (size_t j = 0; j < x2.size(); ++j) back[j] = (H_inv * x2[j].homogeneous()).hnormalized();
  const double t = std::sqrt(threshold);
  for (size_t i = 0; i < x1.size(); ++i) {
    const Eigen::Vector2d p = (H * x1[i].homogeneous()).hnormalized();
    if (!p.allFinite()) continue;
    grid.VisitBox(p.x() - t, p.y() - t, p.x() + t, p.y() + t, [&](int32_t j) {
      if ((x2[j] - p).squaredNorm() <= threshold && (back[j] - x1[i]).squaredNorm() <= threshold) {
        out->idx1.push_back(static_cast<int32_t>(i));
        out->idx2.push_back(j);
      }
    });
  }
}

// What one pair's guided search reads.
struct GuidedInput {
  TwoViewGeometry geometry;
  torch::Tensor d1, d2;
  std::vector<Eigen::Vector2d> x1, x2;
};

}  // namespace

CandidatePairs GuidedCandidatePairs(const std::vector<Eigen::Vector2d>& x1,
                                    const std::vector<Eigen::Vector2d>& x2,
                                    const TwoViewGeometry& geometry, double max_error) {
  CandidatePairs out;
  const auto config = static_cast<TwoViewConfig>(geometry.config);
  const bool epipolar =
      config == TwoViewConfig::kCalibrated || config == TwoViewConfig::kUncalibrated;
  const bool homography = config == TwoViewConfig::kPlanar || config == TwoViewConfig::kPanoramic ||
                          config == TwoViewConfig::kPlanarOrPanoramic;
  const Eigen::Matrix3d& G = epipolar ? geometry.F : geometry.H;
  if ((!epipolar && !homography) || G.isZero() || !G.allFinite() || x1.empty() || x2.empty()) {
    return out;
  }
  const double threshold = max_error * max_error;
  if (epipolar) {
    EpipolarCandidates(x1, x2, G, threshold, &out);
  } else if (G.determinant() != 0) {
    HomographyCandidates(x1, x2, G, threshold, &out);
  }
  return out;
}

Matches MatchGuided(const torch::Tensor& d1, const torch::Tensor& d2,
                    const std::vector<Eigen::Vector2d>& x1, const std::vector<Eigen::Vector2d>& x2,
                    const TwoViewGeometry& geometry, double max_error,
                    const NnMatchOptions& options) {
  TORCH_CHECK(d1.size(0) == static_cast<int64_t>(x1.size()) &&
                  d2.size(0) == static_cast<int64_t>(x2.size()),
              "descriptor and keypoint counts differ");
  const CandidatePairs candidates = GuidedCandidatePairs(x1, x2, geometry, max_error);
  if (candidates.idx1.empty()) return {};
  TORCH_CHECK(d1.size(1) == d2.size(1), "descriptor dimensions differ");
  const torch::Tensor c1 = d1.to(torch::kCPU, torch::kFloat32).contiguous();
  const torch::Tensor c2 = d2.to(torch::kCPU, torch::kFloat32).contiguous();
  const int64_t dim = c1.size(1);
  const float* p1 = c1.data_ptr<float>();
  const float* p2 = c2.data_ptr<float>();
  // Each keypoint's best and second-best similarity among its candidates.
  std::vector<BestTwoEntry> best1(x1.size()), best2(x2.size());
  for (size_t k = 0; k < candidates.idx1.size(); ++k) {
    const int32_t i = candidates.idx1[k], j = candidates.idx2[k];
    const float similarity = Eigen::Map<const Eigen::VectorXf>(p1 + i * dim, dim)
                                 .dot(Eigen::Map<const Eigen::VectorXf>(p2 + j * dim, dim));
    best1[i].Offer(similarity, j);
    best2[j].Offer(similarity, i);
  }
  Matches matches;
  for (size_t i = 0; i < best1.size(); ++i) {
    const BestTwoEntry& forward = best1[i];
    if (forward.index < 0 || !PassesRatioTest(forward.best, forward.second, options)) continue;
    if (options.cross_check) {
      const BestTwoEntry& backward = best2[forward.index];
      if (backward.index != static_cast<int64_t>(i) ||
          !PassesRatioTest(backward.best, backward.second, options)) {
        continue;
      }
    }
    matches.push_back({static_cast<point2D_t>(i), static_cast<point2D_t>(forward.index)});
  }
  return matches;
}

std::string GuidedMatchingSkipReason(const NnMatchOptions& options) {
  if (options.max_ratio >= 1) {
    return "it needs the ratio test (--Matching.max_ratio < 1) to reject ambiguous candidates "
           "in its band";
  }
  return "";
}

void RunGuidedMatching(const std::string& database_path, const ImagePairs& pairs,
                       const MatchingOptions& options, size_t cache_images, double max_error,
                       int max_num_inliers, MatchingSummary* summary) {
  if (max_error <= 0)
    throw Error("the guided matching band (--SiftMatching.max_error) must be positive");
  Timer timer;
  PrintHeading1("Guided matching");
  Database db(database_path);
  options.ApplyThreads();
  const auto verified = db.ReadTwoViewGeometryNumInliers();
  std::unordered_set<image_pair_t> done;
  for (image_pair_t id : db.ReadGuidedPairIds()) done.insert(id);
  ImagePairs todo;
  size_t already = 0, strong = 0;
  for (const auto& [a, b] : pairs) {
    const image_pair_t id = ImagePairToPairId(a, b);
    const auto it = verified.find(id);
    if (it == verified.end() || it->second == 0) continue;
    if (done.count(id)) {
      ++already;  // its inliers now include the guided ones: not compared with the bound
    } else if (max_num_inliers > 0 && it->second > static_cast<size_t>(max_num_inliers)) {
      ++strong;
    } else {
      todo.emplace_back(a, b);
    }
  }
  if (already > 0) LogInfo(StringPrintf("Skipping %zu pairs already extended", already));
  if (strong > 0) {
    LogInfo(
        StringPrintf("Leaving %zu pairs with more than %d verified inliers as verified "
                     "(--SiftMatching.guided_max_num_inliers)",
                     strong, max_num_inliers));
  }
  // The candidate search is sparse and runs on the CPU whatever --device says.
  LogInfo(StringPrintf("Guided matching of %zu verified pairs within %.1f px on the CPU",
                       todo.size(), max_error));

  DescriptorCache descriptors(&db, torch::kCPU, cache_images);
  std::unordered_map<image_t, std::vector<Eigen::Vector2d>> positions;
  const auto position = [&](image_t id) -> std::vector<Eigen::Vector2d> {
    auto it = positions.find(id);
    if (it != positions.end()) return it->second;
    if (positions.size() >= cache_images) positions.clear();
    return positions[id] = KeypointPositions(db.ReadKeypoints(id));
  };
  Progress progress("pairs", todo.size());
  size_t total_added = 0;
  for (size_t start = 0; start < todo.size(); start += options.pairs_per_commit) {
    const size_t end = std::min(todo.size(), start + options.pairs_per_commit);
    // The database and the caches are read in order on this thread; the pairs' searches, which
    // share nothing, then run on --Matching.num_threads threads. Same matches in any order.
    std::vector<GuidedInput> inputs;
    for (size_t i = start; i < end; ++i) {
      const auto [a, b] = todo[i];
      // Tensor handles, not references: fetching b may evict a from either cache.
      GuidedInput in{db.ReadTwoViewGeometry(a, b), descriptors.Get(a, kDatabaseLevel).descriptors,
                     descriptors.Get(b, kDatabaseLevel).descriptors, position(a), position(b)};
      if (in.d1.size(0) != static_cast<int64_t>(in.x1.size()) ||
          in.d2.size(0) != static_cast<int64_t>(in.x2.size())) {
        throw Error(StringPrintf(
            "guided matching needs one descriptor per keypoint; images %u and %u have %ld/%ld "
            "and %ld/%ld (keypoints added by S2DNet have none)",
            a, b, static_cast<long>(in.d1.size(0)), static_cast<long>(in.x1.size()),
            static_cast<long>(in.d2.size(0)), static_cast<long>(in.x2.size())));
      }
      inputs.push_back(std::move(in));
    }
    std::vector<Matches> guided(inputs.size());
    at::parallel_for(0, static_cast<int64_t>(inputs.size()), 1, [&](int64_t begin, int64_t stop) {
      for (int64_t k = begin; k < stop; ++k) {
        const GuidedInput& in = inputs[k];
        guided[k] = MatchGuided(in.d1, in.d2, in.x1, in.x2, in.geometry, max_error, options.nn);
      }
    });
    std::vector<Matches> merged;
    std::vector<size_t> added;
    for (size_t k = 0; k < inputs.size(); ++k) {
      const Matches& inliers = inputs[k].geometry.inlier_matches;
      merged.push_back(inliers);  // verified inliers first, then the new ones
      AppendUnmatched(guided[k], &merged.back());
      added.push_back(merged.back().size() - inliers.size());
      total_added += added.back();
    }
    Database::Transaction transaction(&db);
    for (size_t i = start; i < end; ++i) {
      db.UpdateTwoViewGeometryInliers(todo[i].first, todo[i].second, merged[i - start]);
      db.WriteGuidedPair(todo[i].first, todo[i].second, added[i - start]);
    }
    transaction.Commit();
    progress.Step(
        StringPrintf("(%.0f inliers added/pair)", double(total_added) / std::max<size_t>(1, end)),
        end - start);
  }
  summary->num_guided = todo.size();
  summary->guided_seconds = timer.ElapsedSeconds();
  LogInfo(StringPrintf("Guided matching added %zu inlier matches to %zu pairs", total_added,
                       todo.size()));
  PrintElapsedTime(summary->guided_seconds);
}

}  // namespace scalesfm
