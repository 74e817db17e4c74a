#include "matching/guided_matching.h"

#include <Eigen/LU>
#include <unordered_map>
#include <unordered_set>

#include "matching/descriptor_cache.h"
#include "util/device.h"
#include "util/logging.h"
#include "util/progress.h"

namespace scalesfm {
namespace {

// Homogeneous [N, 3] double rows of [N, 2] positions.
torch::Tensor Homogeneous(const torch::Tensor& x) {
  const torch::Tensor xd = x.to(torch::kFloat64);
  return torch::cat({xd, torch::ones({xd.size(0), 1}, xd.options())}, 1);
}

torch::Tensor ToTensor(const Eigen::Matrix3d& m, const torch::Device& device) {
  const Eigen::Matrix<double, 3, 3, Eigen::RowMajor> r = m;
  return torch::from_blob(const_cast<double*>(r.data()), {3, 3}, torch::kFloat64)
      .clone()
      .to(device);
}

// H x1_i, dehomogenised, as [N, 2] float.
torch::Tensor Transfer(const torch::Tensor& x1, const Eigen::Matrix3d& H) {
  const torch::Tensor p = torch::matmul(Homogeneous(x1), ToTensor(H, x1.device()).t());
  return (p.slice(1, 0, 2) / p.slice(1, 2, 3)).to(torch::kFloat32);
}

// |x2_k - H x1_k|^2 for matched rows: x1, x2 [K, 2] -> [K].
torch::Tensor SquaredTransferErrorsOfPairs(const torch::Tensor& x1, const torch::Tensor& x2,
                                           const Eigen::Matrix3d& H) {
  return (Transfer(x1, H) - x2.to(torch::kFloat32)).pow(2).sum(1);
}

// The parts of the Sampson error (x2^T F x1)^2 / (a_i + b_j), with a_i = |(F x1_i)_12|^2 and
// b_j = |(F^T x2_j)_12|^2. The per-point parts are formed in double; the [N, M] part in float as
// the distances of x2_j to the unit-normal lines F x1_i / sqrt(a_i), in pixels, so that
// Sampson = distance^2 / (1 + b_j / a_i).
struct EpipolarTerms {
  torch::Tensor a, b;      // [N], [M] double
  torch::Tensor distance;  // [N, M] float
};

EpipolarTerms ComputeEpipolarTerms(const torch::Tensor& x1, const torch::Tensor& x2,
                                   const Eigen::Matrix3d& F) {
  const torch::Tensor Ft = ToTensor(F, x1.device());
  const torch::Tensor l1 = torch::matmul(Homogeneous(x1), Ft.t());  // rows F x1_i
  const torch::Tensor l2 = torch::matmul(Homogeneous(x2), Ft);      // rows F^T x2_j
  EpipolarTerms t;
  t.a = l1.slice(1, 0, 2).pow(2).sum(1).clamp_min(1e-300);
  t.b = l2.slice(1, 0, 2).pow(2).sum(1);
  const torch::Tensor unit_lines = (l1 / t.a.sqrt().unsqueeze(1)).to(torch::kFloat32);
  t.distance = torch::matmul(unit_lines, Homogeneous(x2).to(torch::kFloat32).t());
  return t;
}

}  // namespace

torch::Tensor SquaredSampsonErrors(const torch::Tensor& x1, const torch::Tensor& x2,
                                   const Eigen::Matrix3d& F) {
  EpipolarTerms t = ComputeEpipolarTerms(x1, x2, F);
  const torch::Tensor ratio =
      torch::outer((1.0 / t.a).to(torch::kFloat32), t.b.to(torch::kFloat32));
  return t.distance.square_().div_(ratio.add_(1));
}

torch::Tensor SquaredTransferErrors(const torch::Tensor& x1, const torch::Tensor& x2,
                                    const Eigen::Matrix3d& H) {
  return torch::cdist(Transfer(x1, H), x2.to(torch::kFloat32)).square_();
}

torch::Tensor KeypointPositions(const Keypoints& keypoints, const torch::Device& device) {
  torch::Tensor xy = torch::empty({static_cast<int64_t>(keypoints.size()), 2}, torch::kFloat32);
  auto a = xy.accessor<float, 2>();
  for (size_t i = 0; i < keypoints.size(); ++i) {
    a[i][0] = keypoints[i].x;
    a[i][1] = keypoints[i].y;
  }
  return xy.to(device);
}

namespace {

// The geometric test of one pair, as sparse candidate lists: for rows [start, end) of `a` against
// all of `b`, the (row - start, column) pairs within the threshold. The test is symmetric, so
// both passes of the cross check see the same candidate pairs: Sampson under F is symmetric in
// the images (F^T the other way); for H both transfer directions must be within the threshold.
class GuidedCandidates {
 public:
  GuidedCandidates(const Eigen::Matrix3d& G, bool epipolar, double max_error)
      : epipolar_(epipolar), threshold_(max_error * max_error), G_(G), G_t_(G.transpose()) {
    if (!epipolar) G_inv_ = G.inverse();
  }

  // Returns [K] rows (relative to start) and [K] columns.
  std::pair<torch::Tensor, torch::Tensor> operator()(const torch::Tensor& a, const torch::Tensor& b,
                                                     bool forward) const {
    if (epipolar_) return Epipolar(a, b, forward ? G_ : G_t_);
    const torch::Tensor there = SquaredTransferErrors(a, b, forward ? G_ : G_inv_);
    const torch::Tensor pairs = torch::nonzero(there <= threshold_);
    torch::Tensor rows = pairs.select(1, 0), cols = pairs.select(1, 1);
    // The other direction on the candidates only, pair by pair.
    const torch::Tensor back = SquaredTransferErrorsOfPairs(
        b.index_select(0, cols), a.index_select(0, rows), forward ? G_inv_ : G_);
    const torch::Tensor ok = back <= threshold_;
    return {rows.masked_select(ok), cols.masked_select(ok)};
  }

 private:
  // Sampson under F: the dense [rows, M] part is the point-to-line distance (EpipolarTerms) and
  // one comparison against the loosest bound t^2 (1 + max_j b_j / a_i); the exact test then runs
  // on those candidates only.
  std::pair<torch::Tensor, torch::Tensor> Epipolar(const torch::Tensor& x1, const torch::Tensor& x2,
                                                   const Eigen::Matrix3d& F) const {
    EpipolarTerms t = ComputeEpipolarTerms(x1, x2, F);
    const torch::Tensor bound =
        (threshold_ * (1 + t.b.max() / t.a)).to(torch::kFloat32).unsqueeze(1);
    const torch::Tensor pairs = torch::nonzero(t.distance.square_() <= bound);
    torch::Tensor rows = pairs.select(1, 0), cols = pairs.select(1, 1);
    const torch::Tensor sampson =
        t.distance.index({rows, cols}) /
        (1 + t.b.index_select(0, cols) / t.a.index_select(0, rows)).to(torch::kFloat32);
    const torch::Tensor ok = sampson <= threshold_;
    return {rows.masked_select(ok), cols.masked_select(ok)};
  }

  bool epipolar_;
  double threshold_;
  Eigen::Matrix3d G_, G_t_, G_inv_ = Eigen::Matrix3d::Zero();
};

// Best candidate of every row of d1 in d2 that passes the ratio test, else -1: similarities are
// dense products (BLAS) per block of rows; best and second best are taken among the block's
// candidates only.
torch::Tensor GuidedOneWay(const torch::Tensor& d1, const torch::Tensor& d2,
                           const torch::Tensor& x1, const torch::Tensor& x2,
                           const GuidedCandidates& candidates, bool forward,
                           const NnMatchOptions& options) {
  std::vector<torch::Tensor> parts;
  const torch::Tensor d2t = d2.t();
  const int64_t n2 = d2.size(0);
  for (int64_t start = 0; start < d1.size(0); start += options.block_rows) {
    const int64_t end = std::min(d1.size(0), start + options.block_rows);
    const auto [rows, cols] = candidates(x1.slice(0, start, end), x2, forward);
    const torch::Tensor sim =
        torch::matmul(d1.slice(0, start, end), d2t).view(-1).index_select(0, rows * n2 + cols);
    // Candidates sorted by row, then by decreasing similarity: a row's first candidate is its
    // best, the next one (if in the same row) its second best.
    const torch::Tensor order =
        (rows.to(torch::kFloat64) * 4 + (1 - sim.to(torch::kFloat64))).argsort();
    const torch::Tensor r = rows.index_select(0, order), c = cols.index_select(0, order);
    const torch::Tensor v = sim.index_select(0, order);
    const int64_t k = r.size(0);
    torch::Tensor first = torch::ones({k}, r.options().dtype(torch::kBool));
    if (k > 1) first.slice(0, 1).copy_(r.slice(0, 1) != r.slice(0, 0, k - 1));
    const torch::Tensor pos = torch::nonzero(first).squeeze(1);
    const torch::Tensor next = (pos + 1).clamp_max(std::max<int64_t>(0, k - 1));
    const torch::Tensor has_second =
        (pos + 1 < k).logical_and_(r.index_select(0, next) == r.index_select(0, pos));
    const torch::Tensor row_of = r.index_select(0, pos);
    const auto per_row = [&](const torch::Tensor& values, double fill) {
      return torch::full({end - start}, fill, values.options()).index_put_({row_of}, values);
    };
    const torch::Tensor best = per_row(v.index_select(0, pos), -2);
    const torch::Tensor best_idx = per_row(c.index_select(0, pos), -1);
    const torch::Tensor second = per_row(torch::where(has_second, v.index_select(0, next),
                                                      torch::full_like(row_of, -2, v.options())),
                                         -2);
    torch::Tensor match = ApplyRatioTest(best, second, best_idx, options);
    parts.push_back(match.masked_fill_(best < -1.5, -1));  // rows without candidates
  }
  return torch::cat(parts);
}

}  // namespace

Matches MatchGuided(const torch::Tensor& d1, const torch::Tensor& d2, const torch::Tensor& x1,
                    const torch::Tensor& x2, const TwoViewGeometry& geometry, double max_error,
                    const NnMatchOptions& options) {
  torch::NoGradGuard no_grad;
  const auto config = static_cast<TwoViewConfig>(geometry.config);
  const bool epipolar =
      config == TwoViewConfig::kCalibrated || config == TwoViewConfig::kUncalibrated;
  const bool homography = config == TwoViewConfig::kPlanar || config == TwoViewConfig::kPanoramic ||
                          config == TwoViewConfig::kPlanarOrPanoramic;
  const Eigen::Matrix3d& G = epipolar ? geometry.F : geometry.H;
  if ((!epipolar && !homography) || G.isZero() || d1.size(0) < 1 || d2.size(0) < 1) return {};
  if (homography && G.determinant() == 0) return {};
  TORCH_CHECK(d1.size(0) == x1.size(0) && d2.size(0) == x2.size(0),
              "descriptor and keypoint counts differ");
  const GuidedCandidates candidates(G, epipolar, max_error);
  const torch::Tensor m12 = GuidedOneWay(d1, d2, x1, x2, candidates, true, options);
  const torch::Tensor rows = torch::nonzero(m12 >= 0).squeeze(1);
  if (rows.size(0) == 0) return {};
  const torch::Tensor cols = m12.index_select(0, rows);
  torch::Tensor keep = torch::ones_like(rows, torch::kBool);
  if (options.cross_check) {
    // The 2 -> 1 pass only for the keypoints of image 2 that some row chose.
    const auto [targets, position, counts] =
        at::_unique2(cols, /*sorted=*/true, /*return_inverse=*/true);
    (void)counts;
    const torch::Tensor m21 =
        GuidedOneWay(d2.index_select(0, targets), d1, x2.index_select(0, targets), x1, candidates,
                     false, options);
    keep = m21.index_select(0, position) == rows;
  }
  return MatchesFromIndices(rows.masked_select(keep), cols.masked_select(keep));
}

void RunGuidedMatching(const std::string& database_path, const ImagePairs& pairs,
                       const MatchingOptions& options, double max_error, MatchingSummary* summary) {
  if (max_error <= 0) throw Error("--SiftMatching.max_error must be positive");
  Timer timer;
  PrintHeading1("Guided matching");
  Database db(database_path);
  const torch::Device device = ParseDevice(options.device);
  options.ApplyThreads();
  const auto verified = db.ReadTwoViewGeometryNumInliers();
  std::unordered_set<image_pair_t> done;
  for (image_pair_t id : db.ReadGuidedPairIds()) done.insert(id);
  ImagePairs todo;
  size_t already = 0;
  for (const auto& [a, b] : pairs) {
    const image_pair_t id = ImagePairToPairId(a, b);
    const auto it = verified.find(id);
    if (it == verified.end() || it->second == 0) continue;
    if (done.count(id)) {
      ++already;
    } else {
      todo.emplace_back(a, b);
    }
  }
  if (already > 0) LogInfo(StringPrintf("Skipping %zu pairs already extended", already));
  LogInfo(StringPrintf("Guided matching of %zu verified pairs within %.1f px on %s", todo.size(),
                       max_error, device.str().c_str()));

  DescriptorCache descriptors(&db, device, 2 * options.block_size);
  std::unordered_map<image_t, torch::Tensor> positions;
  const auto position = [&](image_t id) -> torch::Tensor {
    auto it = positions.find(id);
    if (it != positions.end()) return it->second;
    if (positions.size() >= 2 * static_cast<size_t>(options.block_size)) positions.clear();
    return positions[id] = KeypointPositions(db.ReadKeypoints(id), device);
  };
  Progress progress("pairs", todo.size());
  size_t total_added = 0;
  for (size_t start = 0; start < todo.size(); start += options.pairs_per_commit) {
    const size_t end = std::min(todo.size(), start + options.pairs_per_commit);
    std::vector<Matches> merged;
    std::vector<size_t> added;
    for (size_t i = start; i < end; ++i) {
      const auto [a, b] = todo[i];
      const TwoViewGeometry geometry = db.ReadTwoViewGeometry(a, b);
      // Tensor handles, not references: fetching b may evict a from either cache.
      const torch::Tensor da = descriptors.Get(a, kDatabaseLevel).descriptors;
      const torch::Tensor db_ = descriptors.Get(b, kDatabaseLevel).descriptors;
      const torch::Tensor xa = position(a);
      const torch::Tensor xb = position(b);
      if (da.size(0) != xa.size(0) || db_.size(0) != xb.size(0)) {
        throw Error(StringPrintf(
            "guided matching needs one descriptor per keypoint; images %u and %u have %ld/%ld "
            "and %ld/%ld (keypoints added by S2DNet have none)",
            a, b, static_cast<long>(da.size(0)), static_cast<long>(xa.size(0)),
            static_cast<long>(db_.size(0)), static_cast<long>(xb.size(0))));
      }
      const Matches guided = MatchGuided(da, db_, xa, xb, geometry, max_error, options.nn);
      merged.push_back(geometry.inlier_matches);  // verified inliers first, then the new ones
      AppendUnmatched(guided, &merged.back());
      added.push_back(merged.back().size() - geometry.inlier_matches.size());
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
