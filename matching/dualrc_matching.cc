#include "matching/dualrc_matching.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "util/logging.h"

namespace scalesfm {

namespace {

using torch::indexing::Slice;

// Fine cell -> coarse cell coordinate: fine centre 4 (x + 0.5) = coarse centre 16 (c + 0.5).
constexpr double kFineOffset = 1.5;
constexpr double kFinePerCoarse = 4.0;

// [H * W] bool: cells whose centre lies inside an image `valid_w` x `valid_h` cells large.
torch::Tensor ValidCells(int64_t h, int64_t w, double valid_w, double valid_h) {
  const torch::Tensor x = torch::arange(w, torch::kFloat64) + 0.5;
  const torch::Tensor y = torch::arange(h, torch::kFloat64) + 0.5;
  return (y.lt(valid_h).unsqueeze(1) & x.lt(valid_w).unsqueeze(0)).reshape({h * w});
}

// Offsets of the parabola's vertex through (left, centre, right), clamped to [-0.5, 0.5]; 0 where
// a neighbour is missing or the parabola does not open downwards.
torch::Tensor ParabolaOffset(const torch::Tensor& left, const torch::Tensor& centre,
                             const torch::Tensor& right, const torch::Tensor& usable) {
  const torch::Tensor curvature = left - 2 * centre + right;
  const torch::Tensor ok = usable & left.isfinite() & right.isfinite() & curvature.lt(0);
  const torch::Tensor offset = (0.5 * (left - right) / curvature).clamp(-0.5, 0.5);
  return torch::where(ok, offset, torch::zeros_like(offset));
}

struct Argmax {
  torch::Tensor index;   // [N] long, flat target cell
  torch::Tensor score;   // [N]
  torch::Tensor dx, dy;  // [N] sub-cell offsets (zeros without subpixel)
};

// Argmax over the valid target cells of each row of the score maps [N, Ht, Wt]. With subpixel,
// the parabolas go through `fine` (eq. 1's cosine map) at the peak and its neighbours: the
// guided map is piecewise constant in the up-sampled coarse factor, whose 4-cell steps would
// bend them.
Argmax MaskedArgmax(const torch::Tensor& scores, const torch::Tensor& fine,
                    const torch::Tensor& valid_target, bool subpixel) {
  const int64_t n = scores.size(0), ht = scores.size(1), wt = scores.size(2);
  constexpr float kInf = std::numeric_limits<float>::infinity();
  const torch::Tensor bias =
      torch::zeros({ht * wt}, scores.options()).masked_fill_(valid_target.logical_not(), -kInf);
  auto [score, index] = (scores.reshape({n, ht * wt}) + bias).max(1);
  Argmax out{index, score, torch::zeros({n}, scores.options()),
             torch::zeros({n}, scores.options())};
  if (!subpixel) return out;
  const torch::Tensor cosine = fine.reshape({n, ht * wt});
  auto at = [&](const torch::Tensor& i) {  // -inf at invalid (padding) cells
    return cosine.gather(1, i.unsqueeze(1)).squeeze(1) + bias.index_select(0, i);
  };
  const torch::Tensor x = index.remainder(wt), y = index.div(wt, "floor");
  const torch::Tensor centre = at(index);
  const torch::Tensor inner_x = x.gt(0) & x.lt(wt - 1), inner_y = y.gt(0) & y.lt(ht - 1);
  out.dx = ParabolaOffset(at(torch::where(inner_x, index - 1, index)), centre,
                          at(torch::where(inner_x, index + 1, index)), inner_x);
  out.dy = ParabolaOffset(at(torch::where(inner_y, index - wt, index)), centre,
                          at(torch::where(inner_y, index + wt, index)), inner_y);
  return out;
}

struct ScoreMaps {
  torch::Tensor fine;    // eq. 1, [N, Ht, Wt]
  torch::Tensor guided;  // eq. 3
};

ScoreMaps ComputeScoreMaps(const torch::Tensor& corr, const torch::Tensor& fine_source,
                           const torch::Tensor& fine_target, const torch::Tensor& cells,
                           bool source_is_a);

}  // namespace

torch::Tensor CoarseScoreMaps(const torch::Tensor& corr, const torch::Tensor& cells,
                              bool source_is_a) {
  const torch::Tensor c = source_is_a ? corr : corr.permute({2, 3, 0, 1});
  const int64_t hs = c.size(0), ws = c.size(1), ht = c.size(2), wt = c.size(3);
  const int64_t n = cells.size(0);
  const torch::Tensor flat = c.reshape({hs * ws, ht * wt});
  const torch::Tensor xy = (cells.to(torch::kFloat32) - kFineOffset) / kFinePerCoarse;
  const torch::Tensor x = xy.select(1, 0).clamp(0, ws - 1);
  const torch::Tensor y = xy.select(1, 1).clamp(0, hs - 1);
  const torch::Tensor x0 = x.floor(), y0 = y.floor();
  const torch::Tensor x1 = (x0 + 1).clamp_max(ws - 1), y1 = (y0 + 1).clamp_max(hs - 1);
  const torch::Tensor wx = (x - x0).unsqueeze(1), wy = (y - y0).unsqueeze(1);
  auto row = [&](const torch::Tensor& yy, const torch::Tensor& xx) {
    return flat.index_select(0, (yy * ws + xx).to(torch::kLong));
  };
  torch::Tensor s = row(y0, x0) * ((1 - wx) * (1 - wy)) + row(y0, x1) * (wx * (1 - wy)) +
                    row(y1, x0) * ((1 - wx) * wy) + row(y1, x1) * (wx * wy);
  s = s / (s.sum(1, true) + 1e-15);
  return s.reshape({n, ht, wt});
}

namespace {

ScoreMaps ComputeScoreMaps(const torch::Tensor& corr, const torch::Tensor& fine_source,
                           const torch::Tensor& fine_target, const torch::Tensor& cells,
                           bool source_is_a) {
  const int64_t d = fine_source.size(0), hs = fine_source.size(1), ws = fine_source.size(2);
  const int64_t ht = fine_target.size(1), wt = fine_target.size(2);
  const int64_t n = cells.size(0);
  const torch::Tensor cx = cells.select(1, 0).round().clamp(0, ws - 1).to(torch::kLong);
  const torch::Tensor cy = cells.select(1, 1).round().clamp(0, hs - 1).to(torch::kLong);
  const torch::Tensor query = fine_source.reshape({d, hs * ws}).index_select(1, cy * ws + cx);
  const torch::Tensor fine =  // eq. 1 (the maps are unit vectors, so this is the cosine)
      query.t().mm(fine_target.reshape({d, ht * wt})).reshape({n, ht, wt});
  const torch::Tensor coarse = CoarseScoreMaps(corr, cells, source_is_a);  // eq. 2
  // Eq. 3 with U_r as nearest up-sampling: each coarse cell scales its r x r fine cells.
  const int64_t ch = coarse.size(1), cw = coarse.size(2);
  if (ht != ch * kFinePerCoarse || wt != cw * kFinePerCoarse) {
    throw Error("DualRC-Net: the fine map must be 4x the coarse map");
  }
  const int64_t r = static_cast<int64_t>(kFinePerCoarse);
  const torch::Tensor guided =
      (fine.reshape({n, ch, r, cw, r}) * coarse.reshape({n, ch, 1, cw, 1})).reshape({n, ht, wt});
  return {fine, guided};
}

}  // namespace

torch::Tensor GuidedScoreMaps(const torch::Tensor& corr, const torch::Tensor& fine_source,
                              const torch::Tensor& fine_target, const torch::Tensor& cells,
                              bool source_is_a) {
  return ComputeScoreMaps(corr, fine_source, fine_target, cells, source_is_a).guided;
}

std::vector<DenseMatch> ExtractDenseMatches(const torch::Tensor& corr, const torch::Tensor& fine_a,
                                            const torch::Tensor& fine_b, double valid_wa,
                                            double valid_ha, double valid_wb, double valid_hb,
                                            const DenseMatchOptions& options) {
  torch::NoGradGuard no_grad;
  const int64_t ha = corr.size(0), wa = corr.size(1), hb = corr.size(2), wb = corr.size(3);
  const int64_t fha = fine_a.size(1), fwa = fine_a.size(2);
  const int64_t fhb = fine_b.size(1), fwb = fine_b.size(2);
  const torch::Tensor valid_a = ValidCells(fha, fwa, valid_wa, valid_ha).to(corr.device());
  const torch::Tensor valid_b = ValidCells(fhb, fwb, valid_wb, valid_hb).to(corr.device());

  // C_bar with B first, transposed once for the way back (eq. 2 with B as the source).
  const torch::Tensor corr_ba = corr.permute({2, 3, 0, 1}).contiguous();

  // Queries: the 4x4 fine cells of A's best coarse cells (by their maximum over B).
  const torch::Tensor best = std::get<0>(corr.reshape({ha * wa, hb * wb}).max(1)).cpu();
  std::vector<int64_t> order(static_cast<size_t>(ha * wa));
  std::iota(order.begin(), order.end(), 0);
  const float* b = best.data_ptr<float>();
  std::stable_sort(order.begin(), order.end(), [&](int64_t l, int64_t r) { return b[l] > b[r]; });
  const auto num_coarse = static_cast<size_t>(
      std::max<double>(1, std::floor(options.query_fraction * static_cast<double>(ha * wa))));
  const torch::Tensor valid_a_cpu = valid_a.cpu();
  const bool* va = valid_a_cpu.data_ptr<bool>();
  const int64_t r = fwa / wa;  // 4
  std::vector<float> query;
  for (size_t k = 0; k < std::min(num_coarse, order.size()); ++k) {
    const int64_t cy = order[k] / wa, cx = order[k] % wa;
    for (int64_t dy = 0; dy < r; ++dy) {
      for (int64_t dx = 0; dx < r; ++dx) {
        const int64_t x = cx * r + dx, y = cy * r + dy;
        if (x < fwa && y < fha && va[y * fwa + x]) {
          query.push_back(static_cast<float>(x));
          query.push_back(static_cast<float>(y));
        }
      }
    }
  }
  std::vector<DenseMatch> matches;
  const int64_t num_queries = static_cast<int64_t>(query.size() / 2);
  const int64_t chunk = std::max(1, options.chunk_size);
  for (int64_t start = 0; start < num_queries; start += chunk) {
    const int64_t n = std::min(chunk, num_queries - start);
    const torch::Tensor cells_a =
        torch::from_blob(query.data() + 2 * start, {n, 2}, torch::kFloat32).to(corr.device());
    const ScoreMaps forward = ComputeScoreMaps(corr, fine_a, fine_b, cells_a, true);
    const Argmax ab = MaskedArgmax(forward.guided, forward.fine, valid_b, options.subpixel);
    const torch::Tensor cells_b =
        torch::stack({ab.index.remainder(fwb), ab.index.div(fwb, "floor")}, 1).to(torch::kFloat32);
    // Back from each distinct B cell (many queries land on the same one).
    const auto [unique_b, inverse, counts] = torch::_unique2(ab.index, false, true, false);
    const torch::Tensor unique_cells =
        torch::stack({unique_b.remainder(fwb), unique_b.div(fwb, "floor")}, 1).to(torch::kFloat32);
    const Argmax unique_ba = MaskedArgmax(
        GuidedScoreMaps(corr_ba, fine_b, fine_a, unique_cells, true), {}, valid_a, false);
    Argmax ba{
        unique_ba.index.index_select(0, inverse), unique_ba.score.index_select(0, inverse), {}, {}};
    const torch::Tensor back =
        torch::stack({ba.index.remainder(fwa), ba.index.div(fwa, "floor")}, 1).to(torch::kFloat32);
    const torch::Tensor mutual = (back == cells_a).all(1) & ab.score.isfinite();
    const torch::Tensor keep = mutual.nonzero().squeeze(1);
    const torch::Tensor out = torch::cat({cells_a.index_select(0, keep),
                                          (cells_b.index_select(0, keep) +
                                           torch::stack({ab.dx, ab.dy}, 1).index_select(0, keep)),
                                          (ab.score + ba.score).index_select(0, keep).unsqueeze(1)},
                                         1)
                                  .cpu()
                                  .contiguous();
    const float* p = out.data_ptr<float>();
    for (int64_t i = 0; i < out.size(0); ++i, p += 5) {
      matches.push_back({p[0], p[1], p[2], p[3], p[4]});
    }
  }
  std::stable_sort(matches.begin(), matches.end(),
                   [](const DenseMatch& l, const DenseMatch& r) { return l.score > r.score; });
  if (static_cast<int64_t>(matches.size()) > options.max_num_matches) {
    matches.resize(static_cast<size_t>(std::max(0, options.max_num_matches)));
  }
  return matches;
}

}  // namespace scalesfm
