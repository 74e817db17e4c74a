#include "training/scfeat_losses.h"

#include <algorithm>
#include <cmath>
#include <opencv2/calib3d.hpp>
#include <opencv2/core/eigen.hpp>

#include "feature/scfeat_keypoints.h"

namespace scalesfm {
namespace F = torch::nn::functional;

torch::Tensor PointLineDistance(const torch::Tensor& points, const torch::Tensor& lines) {
  const torch::Tensor a = lines.select(-1, 0), b = lines.select(-1, 1), c = lines.select(-1, 2);
  return (a * points.select(-1, 0) + b * points.select(-1, 1) + c).abs() /
         (a * a + b * b).sqrt().clamp_min(1e-12);
}

torch::Tensor EpipolarLines(const Eigen::Matrix3d& Fm, const torch::Tensor& points) {
  const torch::Tensor f = torch::tensor(
      {Fm(0, 0), Fm(0, 1), Fm(0, 2), Fm(1, 0), Fm(1, 1), Fm(1, 2), Fm(2, 0), Fm(2, 1), Fm(2, 2)},
      torch::kFloat64);
  const torch::Tensor h = torch::cat(
      {points.to(torch::kFloat64), torch::ones({points.size(0), 1}, torch::kFloat64)}, 1);
  return torch::matmul(h, f.view({3, 3}).t()).to(torch::kFloat32);
}

namespace {

// Segment of the line (a, b, c) inside [0, w-1] x [0, h-1]; false when it misses.
bool ClipLine(double a, double b, double c, double w, double h, Eigen::Vector2d* p0,
              Eigen::Vector2d* p1) {
  std::vector<Eigen::Vector2d> hits;
  const double xs[2] = {0, w - 1}, ys[2] = {0, h - 1};
  if (std::abs(b) > 1e-12) {
    for (double x : xs) {
      const double y = -(a * x + c) / b;
      if (y >= 0 && y <= h - 1) hits.emplace_back(x, y);
    }
  }
  if (std::abs(a) > 1e-12) {
    for (double y : ys) {
      const double x = -(b * y + c) / a;
      if (x >= 0 && x <= w - 1) hits.emplace_back(x, y);
    }
  }
  double best = -1;
  for (size_t i = 0; i < hits.size(); ++i) {
    for (size_t j = i + 1; j < hits.size(); ++j) {
      const double len = (hits[i] - hits[j]).norm();
      if (len > best) {
        best = len;
        *p0 = hits[i];
        *p1 = hits[j];
      }
    }
  }
  return best > 2.0;
}

torch::Tensor Normalized(const torch::Tensor& x) {
  return F::normalize(x, F::NormalizeFuncOptions().dim(-1));
}

}  // namespace

EpipolarLossResult EpipolarDescriptorLoss(const torch::Tensor& cn_a, const torch::Tensor& cn_b,
                                          const Eigen::Matrix3d& Fm, const torch::Tensor& queries,
                                          int width, int height, const EpipolarLossOptions& o,
                                          std::mt19937* rng) {
  const int64_t n = queries.size(0);
  const torch::Tensor lines = EpipolarLines(Fm, queries);
  const auto lines_a = lines.accessor<float, 2>();
  // Line samples and mask M_i (eq. 14: the epipolar line crosses B).
  std::vector<float> line_points(n * o.line_samples * 2, 0.f), mask(n, 0.f);
  for (int64_t i = 0; i < n; ++i) {
    Eigen::Vector2d p0 = Eigen::Vector2d::Zero(), p1 = Eigen::Vector2d::Zero();
    if (!ClipLine(lines_a[i][0], lines_a[i][1], lines_a[i][2], width, height, &p0, &p1)) continue;
    mask[i] = 1;
    for (int k = 0; k < o.line_samples; ++k) {
      const Eigen::Vector2d p = p0 + (p1 - p0) * (k + 0.5) / o.line_samples;
      line_points[(i * o.line_samples + k) * 2] = static_cast<float>(p.x());
      line_points[(i * o.line_samples + k) * 2 + 1] = static_cast<float>(p.y());
    }
  }
  const torch::Tensor desc_q = Normalized(SampleMap(cn_a, queries, width, height));  // [N, C]
  const torch::Tensor line_xy =
      torch::from_blob(line_points.data(), {n, o.line_samples, 2}, torch::kFloat32)
          .clone()
          .to(cn_b.device());
  // Line search (no gradient): the best line position centres the window.
  torch::Tensor centers;
  {
    torch::NoGradGuard no_grad;
    const torch::Tensor d_line = Normalized(SampleMap(cn_b, line_xy, width, height));  // [N,L,C]
    const torch::Tensor sim = (d_line * desc_q.unsqueeze(1)).sum(-1);                  // [N,L]
    const torch::Tensor best = sim.argmax(1);
    centers = line_xy.index({torch::arange(n), best}).cpu().clone();  // [N, 2]
  }
  const double side = o.window_fraction * std::max(width, height);
  std::uniform_real_distribution<float> jitter(-side / 4, side / 4);
  auto c = centers.accessor<float, 2>();
  for (int64_t i = 0; i < n; ++i) {
    c[i][0] = std::clamp<float>(c[i][0] + jitter(*rng), side / 2, width - 1 - side / 2);
    c[i][1] = std::clamp<float>(c[i][1] + jitter(*rng), side / 2, height - 1 - side / 2);
  }
  // Window grid around each centre.
  const int s = o.window_samples;
  const torch::Tensor steps = (torch::arange(s, torch::kFloat32) + 0.5) / s * side - side / 2;
  const torch::Tensor gy = steps.view({s, 1}).expand({s, s});
  const torch::Tensor gx = steps.view({1, s}).expand({s, s});
  const torch::Tensor offsets = torch::stack({gx, gy}, -1).reshape({1, s * s, 2});
  const torch::Tensor window = (centers.unsqueeze(1) + offsets).to(cn_b.device());  // [N,S2,2]
  const torch::Tensor d_win = Normalized(SampleMap(cn_b, window, width, height));   // [N,S2,C]
  const torch::Tensor prob =
      torch::softmax((d_win * desc_q.unsqueeze(1)).sum(-1) * o.temperature, 1);  // [N, S2]
  const torch::Tensor y_hat = (prob.unsqueeze(-1) * window).sum(1);              // [N, 2]
  const torch::Tensor var = (prob * (window - y_hat.unsqueeze(1)).pow(2).sum(-1)).sum(1);
  const torch::Tensor dist = PointLineDistance(y_hat, lines.to(cn_b.device()));  // eq. 15
  const torch::Tensor m =
      torch::from_blob(mask.data(), {n}, torch::kFloat32).clone().to(cn_b.device());
  const torch::Tensor w = m / var.detach().clamp_min(1e-6).sqrt();  // M_i / sigma(x_i)
  EpipolarLossResult result;
  result.valid_queries = static_cast<int>(m.sum().item<float>());
  if (result.valid_queries == 0) {
    result.loss = (y_hat.sum() * 0);
    return result;
  }
  result.loss = (w * dist).sum() / w.sum();  // eq. 14
  result.mean_distance = ((m * dist).sum() / m.sum()).item<double>();
  return result;
}

namespace {

// Score map [1, 1, H, W] -> cells [h * w, g * g] (whole cells only).
torch::Tensor Cells(const torch::Tensor& score, int g, int64_t* h, int64_t* w) {
  *h = score.size(2) / g;
  *w = score.size(3) / g;
  return score.index({0, 0, torch::indexing::Slice(0, *h * g), torch::indexing::Slice(0, *w * g)})
      .reshape({*h, g, *w, g})
      .permute({0, 2, 1, 3})
      .reshape({*h * *w, g * g});
}

// log P_kp = log(S / sum_cell S) + log(S / (1 + S)) at the given cells and positions.
torch::Tensor CellLogProb(const torch::Tensor& cells, const torch::Tensor& ids,
                          const torch::Tensor& pos) {
  const torch::Tensor c = cells + 1e-8;
  const torch::Tensor ids_d = ids.to(cells.device()), pos_d = pos.to(cells.device());
  const torch::Tensor s = c.index({ids_d, pos_d});
  return torch::log(s / c.sum(1).index({ids_d})) + torch::log(s / (1 + s));
}

}  // namespace

SampledKeypoints SampleKeypoints(const torch::Tensor& score, int g, std::mt19937* rng) {
  int64_t h = 0, w = 0;
  const torch::Tensor cells = Cells(score, g, &h, &w);
  SampledKeypoints out;
  {
    torch::NoGradGuard no_grad;
    auto gen = at::detail::createCPUGenerator((*rng)());
    const torch::Tensor c = cells.detach().cpu() + 1e-8;
    const torch::Tensor idx = torch::multinomial(c / c.sum(1, true), 1, false, gen).squeeze(1);
    const torch::Tensor s_sel = c.gather(1, idx.unsqueeze(1)).squeeze(1);
    const torch::Tensor accept = torch::rand({h * w}, gen) < s_sel / (1 + s_sel);
    out.cell_ids = torch::arange(h * w).masked_select(accept);
    out.cell_positions = idx.masked_select(accept);
  }
  out.log_prob = CellLogProb(cells, out.cell_ids, out.cell_positions);
  const torch::Tensor x = (out.cell_ids % w) * g + out.cell_positions % g;
  const torch::Tensor y =
      torch::div(out.cell_ids, w, "floor") * g + torch::div(out.cell_positions, g, "floor");
  out.points = torch::stack({x, y}, 1).to(torch::kFloat32).to(score.device());
  return out;
}

torch::Tensor KeypointLogProb(const torch::Tensor& score, int g, const SampledKeypoints& k) {
  int64_t h = 0, w = 0;
  return CellLogProb(Cells(score, g, &h, &w), k.cell_ids, k.cell_positions);
}

torch::Tensor MutualNearestNeighbours(const torch::Tensor& d1, const torch::Tensor& d2) {
  if (d1.size(0) == 0 || d2.size(0) == 0) return torch::zeros({0, 2}, torch::kLong);
  const torch::Tensor sim = torch::matmul(d1, d2.t());
  const torch::Tensor nn12 = sim.argmax(1), nn21 = sim.argmax(0);
  const torch::Tensor i = torch::arange(d1.size(0), nn12.options());
  const torch::Tensor mutual = nn21.index({nn12}) == i;
  return torch::stack({i.masked_select(mutual), nn12.masked_select(mutual)}, 1).cpu();
}

double FundamentalMatrixError(const std::vector<Eigen::Vector2d>& x1,
                              const std::vector<Eigen::Vector2d>& x2, const Eigen::Matrix3d& Fm,
                              int iterations, std::mt19937* rng) {
  if (x1.size() <= 8) return 1.0;
  const Eigen::Matrix3d f_gt = Fm / Fm.norm();
  double best = 1e9;
  std::vector<int> order(x1.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
  for (int k = 0; k < iterations; ++k) {
    // The same 8 pairs on both sides (Algorithm 1 draws N_p and N'_p; pairs must correspond).
    std::shuffle(order.begin(), order.end(), *rng);
    std::vector<cv::Point2f> p1, p2;
    for (int i = 0; i < 8; ++i) {
      p1.emplace_back(x1[order[i]].x(), x1[order[i]].y());
      p2.emplace_back(x2[order[i]].x(), x2[order[i]].y());
    }
    const cv::Mat est = cv::findFundamentalMat(p1, p2, cv::FM_8POINT);
    if (est.rows != 3 || est.cols != 3) continue;
    Eigen::Matrix3d f;
    cv::cv2eigen(est, f);
    f /= f.norm();
    if ((f - f_gt).norm() > (f + f_gt).norm()) f = -f;
    double e = 0;  // smooth L1, mean over the 9 entries
    for (int i = 0; i < 9; ++i) {
      const double d = std::abs(f.data()[i] - f_gt.data()[i]);
      e += d < 1 ? 0.5 * d * d : d - 0.5;
    }
    best = std::min(best, e / 9);
  }
  return best > 1e8 ? 1.0 : best;
}

KeypointLossResult KeypointLoss(const torch::Tensor& score_a, const torch::Tensor& score_b,
                                const torch::Tensor& desc_a, const torch::Tensor& desc_b,
                                const Eigen::Matrix3d& Fm, const KeypointLossOptions& o,
                                std::mt19937* rng) {
  const int width = static_cast<int>(score_a.size(3)), height = static_cast<int>(score_a.size(2));
  const SampledKeypoints ka = SampleKeypoints(score_a, o.grid, rng);
  const SampledKeypoints kb = SampleKeypoints(score_b, o.grid, rng);
  KeypointLossResult r;
  r.keypoints = static_cast<int>(ka.points.size(0) + kb.points.size(0));
  if (ka.points.size(0) == 0 || kb.points.size(0) == 0) {
    r.loss = score_a.sum() * 0 + score_b.sum() * 0;
    r.fme = 1;
    return r;
  }
  torch::Tensor pairs, correct;
  std::vector<Eigen::Vector2d> x1, x2;
  {
    torch::NoGradGuard no_grad;
    const torch::Tensor da = Normalized(SampleMap(desc_a, ka.points, width, height));
    const torch::Tensor db = Normalized(SampleMap(desc_b, kb.points, width, height));
    pairs = MutualNearestNeighbours(da, db);
    const torch::Tensor pa = ka.points.cpu().index({pairs.select(1, 0)});
    const torch::Tensor pb = kb.points.cpu().index({pairs.select(1, 1)});
    // Eqs. 16-18: both epipolar distances below epsilon.
    const torch::Tensor e1 = PointLineDistance(pb, EpipolarLines(Fm, pa));
    const torch::Tensor e2 = PointLineDistance(pa, EpipolarLines(Fm.transpose(), pb));
    correct = (e1 < o.epsilon).logical_and(e2 < o.epsilon);
    const auto acc_a = pa.accessor<float, 2>(), acc_b = pb.accessor<float, 2>();
    const auto ok = correct.accessor<bool, 1>();
    for (int64_t i = 0; i < pairs.size(0); ++i) {
      if (!ok[i]) continue;
      x1.emplace_back(acc_a[i][0], acc_a[i][1]);
      x2.emplace_back(acc_b[i][0], acc_b[i][1]);
    }
  }
  r.candidate_pairs = static_cast<int>(pairs.size(0));
  r.correct_pairs = static_cast<int>(x1.size());
  r.fme = FundamentalMatrixError(x1, x2, Fm, o.fme_iterations, rng);  // Algorithm 1, eq. 19
  const double t = std::tanh(r.fme);
  // Eq. 20: (1 - tanh L) for pairs in P_m, -tanh L for the others.
  const torch::Tensor reward =
      torch::where(correct, torch::full({}, 1 - t), torch::full({}, -t)).to(torch::kFloat32);
  const torch::Tensor dev_pairs = pairs.to(score_a.device());
  const torch::Tensor log_pair =
      ka.log_prob.index({dev_pairs.select(1, 0)}) + kb.log_prob.index({dev_pairs.select(1, 1)});
  const double norm = r.keypoints;
  // Eq. 21 as a loss to minimise: -(sum r log P) plus the L_fme-scaled keypoint penalty.
  r.loss = (-(reward.to(score_a.device()) * log_pair).sum() +
            o.lambda_reg * r.fme * (ka.log_prob.sum() + kb.log_prob.sum())) /
           norm;
  return r;
}

}  // namespace scalesfm
