#include "feature/descriptor_matching.h"

#include <algorithm>
#include <cmath>
#include <unordered_set>

#include "feature/best_two.h"
#include "util/logging.h"

namespace scalesfm {

void NnMatchOptions::Check() const {
  if (max_ratio <= 0 || max_ratio > 1) throw Error("--Matching.max_ratio must be in (0, 1]");
  if (max_distance <= 0) throw Error("--Matching.max_distance must be positive");
  if (block_rows <= 0) throw Error("--Matching.block_rows must be positive");
}

torch::Tensor DescriptorsToTensor(const DescriptorsU8& descriptors, const torch::Device& device) {
  const int64_t rows = descriptors.rows(), cols = descriptors.cols();
  if (rows == 0) return torch::zeros({0, cols > 0 ? cols : 128}, torch::kFloat32).to(device);
  torch::Tensor t =
      torch::from_blob(const_cast<uint8_t*>(descriptors.data()), {rows, cols}, torch::kUInt8)
          .to(torch::kFloat32)
          .div_(512.0f);
  return t.to(device);
}

torch::Tensor DescriptorsToTensor(const DescriptorsF32& descriptors, const torch::Device& device) {
  return torch::from_blob(const_cast<float*>(descriptors.data()),
                          {descriptors.rows(), descriptors.cols()}, torch::kFloat32)
      .clone()
      .to(device);
}

bool PassesRatioTest(double best, double second, const NnMatchOptions& options) {
  const double best_angle = std::acos(std::clamp(best, -1.0, 1.0));
  const double second_angle = std::acos(std::clamp(second, -1.0, 1.0));
  return best_angle <= options.max_distance && best_angle < options.max_ratio * second_angle;
}

namespace {

// PassesRatioTest on whole rows: `best`/`second` hold the two largest similarities of each row,
// `best_idx` the best's column. Returns best_idx where the tests pass, else -1.
torch::Tensor ApplyRatioTest(const torch::Tensor& best, const torch::Tensor& second,
                             const torch::Tensor& best_idx, const NnMatchOptions& options) {
  const torch::Tensor best_angle = torch::acos(best.clamp(-1.0, 1.0));
  const torch::Tensor second_angle = torch::acos(second.clamp(-1.0, 1.0));
  const torch::Tensor ok =
      (best_angle <= options.max_distance) & (best_angle < options.max_ratio * second_angle);
  return torch::where(ok, best_idx, torch::full_like(best_idx, -1));
}

// Matches from two [K] int64 index tensors (any device).
Matches MatchesFromIndices(const torch::Tensor& idx1, const torch::Tensor& idx2) {
  const torch::Tensor i1 = idx1.to(torch::kCPU, torch::kLong).contiguous();
  const torch::Tensor i2 = idx2.to(torch::kCPU, torch::kLong).contiguous();
  Matches matches(i1.size(0));
  const auto a1 = i1.accessor<int64_t, 1>();
  const auto a2 = i2.accessor<int64_t, 1>();
  for (int64_t i = 0; i < i1.size(0); ++i) {
    matches[i].idx1 = static_cast<point2D_t>(a1[i]);
    matches[i].idx2 = static_cast<point2D_t>(a2[i]);
  }
  return matches;
}

// A [rows, cols] similarity block in a buffer this thread keeps between pairs. A fresh block of
// this size (2048 x 8192 floats, 64 MB) is above malloc's mmap threshold, so every block of
// every pair was mapped, page-faulted in and unmapped again: on base Strecha images the
// matcher's system time was 30-70% of its user time.
torch::Tensor SimilarityBlock(int64_t rows, int64_t cols, const torch::TensorOptions& options) {
  // CUDA's caching allocator reuses blocks already, and a CUDA tensor must not outlive the
  // runtime in a thread_local.
  if (!options.device().is_cpu()) return torch::empty({rows, cols}, options);
  thread_local torch::Tensor buffer;
  const int64_t size = rows * cols;
  if (!buffer.defined() || buffer.numel() < size || buffer.dtype() != options.dtype()) {
    buffer = torch::Tensor();  // free the old one first
    buffer = torch::empty({size}, options);
  }
  return buffer.narrow(0, 0, size).view({rows, cols});
}

// d1[start, end) d2t into a similarity block.
torch::Tensor BlockProduct(const torch::Tensor& d1, int64_t start, int64_t end,
                           const torch::Tensor& d2t) {
  torch::Tensor sim = SimilarityBlock(end - start, d2t.size(1), d1.options());
  torch::mm_out(sim, d1.slice(0, start, end), d2t);
  return sim;
}

// Best match of every row of `d1` among the rows of `d2` that passes the ratio test, else -1.
// Works on blocks of `block_rows` rows, so at most block_rows x |d2| similarities exist at once.
torch::Tensor MatchOneWay(const torch::Tensor& d1, const torch::Tensor& d2,
                          const NnMatchOptions& options) {
  std::vector<torch::Tensor> parts;
  const torch::Tensor d2t = d2.t();
  for (int64_t start = 0; start < d1.size(0); start += options.block_rows) {
    const int64_t end = std::min(d1.size(0), start + options.block_rows);
    torch::Tensor sim = BlockProduct(d1, start, end, d2t);  // [b, n2]
    auto [best, best_idx] = sim.max(/*dim=*/1, /*keepdim=*/true);
    sim.scatter_(1, best_idx, -2.0);  // knock out the best to find the second best
    const torch::Tensor second = std::get<0>(sim.max(1));
    parts.push_back(ApplyRatioTest(best.squeeze(1), second, best_idx.squeeze(1), options));
  }
  return torch::cat(parts);
}

// Both directions from one similarity product: each block of d1's rows gives its rows' best
// and second-best (1 -> 2) and, merged over the blocks, every column's (2 -> 1). The column
// statistics are those MatchOneWay(d2, d1) would find: the same cosines (the product's entries
// do not depend on which side is transposed), the best taken at its first row; a tie between
// rows is a best equal to the second best, which the ratio test rejects either way.
struct BothWays {
  torch::Tensor m12, m21;
};
torch::Tensor FloatTensor(const std::vector<float>& v) {
  return torch::from_blob(const_cast<float*>(v.data()), {int64_t(v.size())}, torch::kFloat32)
      .clone();
}

torch::Tensor LongTensor(const std::vector<int64_t>& v) {
  return torch::from_blob(const_cast<int64_t*>(v.data()), {int64_t(v.size())}, torch::kLong)
      .clone();
}

// MatchBothWays on the CPU: the same statistics from one sweep over each block (SweepBlock).
BothWays MatchBothWaysCpu(const torch::Tensor& d1, const torch::Tensor& d2,
                          const NnMatchOptions& options) {
  BestTwo columns(d2.size(0));
  std::vector<torch::Tensor> parts;
  const torch::Tensor d2t = d2.t();
  for (int64_t start = 0; start < d1.size(0); start += options.block_rows) {
    const int64_t end = std::min(d1.size(0), start + options.block_rows);
    const torch::Tensor sim = BlockProduct(d1, start, end, d2t);  // [b, n2], contiguous
    const BlockBestTwo block = SweepBlock(sim.data_ptr<float>(), end - start, sim.size(1), start);
    columns.MergeLater(block.columns);
    parts.push_back(ApplyRatioTest(FloatTensor(block.rows.best), FloatTensor(block.rows.second),
                                   LongTensor(block.rows.index), options));
  }
  return {torch::cat(parts), ApplyRatioTest(FloatTensor(columns.best), FloatTensor(columns.second),
                                            LongTensor(columns.index), options)};
}

BothWays MatchBothWays(const torch::Tensor& d1, const torch::Tensor& d2,
                       const NnMatchOptions& options) {
  if (d1.device().is_cpu() && d1.scalar_type() == torch::kFloat32 &&
      d2.scalar_type() == torch::kFloat32) {
    return MatchBothWaysCpu(d1, d2, options);
  }
  const int64_t n2 = d2.size(0);
  const auto float_opts = d1.options();
  torch::Tensor col_best = torch::full({n2}, -3.0, float_opts);
  torch::Tensor col_second = torch::full({n2}, -3.0, float_opts);
  torch::Tensor col_idx = torch::zeros({n2}, float_opts.dtype(torch::kLong));
  std::vector<torch::Tensor> parts;
  const torch::Tensor d2t = d2.t();
  for (int64_t start = 0; start < d1.size(0); start += options.block_rows) {
    const int64_t end = std::min(d1.size(0), start + options.block_rows);
    torch::Tensor sim = BlockProduct(d1, start, end, d2t);  // [b, n2]
    // Columns first (before the row pass knocks out entries): best and second of this block.
    auto [cb, ci] = sim.max(/*dim=*/0, /*keepdim=*/true);  // [1, n2]
    sim.scatter_(0, ci, -2.0);
    const torch::Tensor cs = std::get<0>(sim.max(0));
    sim.scatter_(0, ci, cb);  // put the column bests back for the row pass
    const torch::Tensor block_best = cb.squeeze(0), block_idx = ci.squeeze(0) + start;
    const torch::Tensor better = block_best > col_best;  // strictly: the first row keeps a tie
    col_second =
        torch::where(better, torch::maximum(col_best, cs), torch::maximum(col_second, block_best));
    col_idx = torch::where(better, block_idx, col_idx);
    col_best = torch::where(better, block_best, col_best);
    // Rows, as MatchOneWay.
    auto [best, best_idx] = sim.max(/*dim=*/1, /*keepdim=*/true);
    sim.scatter_(1, best_idx, -2.0);
    const torch::Tensor second = std::get<0>(sim.max(1));
    parts.push_back(ApplyRatioTest(best.squeeze(1), second, best_idx.squeeze(1), options));
  }
  return {torch::cat(parts), ApplyRatioTest(col_best, col_second, col_idx, options)};
}

// Whether two descriptor sets can be matched (at least two rows each, for a second best); throws
// on different descriptor sizes.
bool CanMatch(const torch::Tensor& d1, const torch::Tensor& d2) {
  if (d1.size(0) < 2 || d2.size(0) < 2) return false;
  TORCH_CHECK(d1.size(1) == d2.size(1), "descriptor dimensions differ");
  return true;
}

// The 1 -> 2 matches of `m12` (-1: none) whose 2 -> 1 match in `m21` points back; every one of
// them when `m21` is undefined (no cross check).
Matches KeepMutual(const torch::Tensor& m12_any, const torch::Tensor& m21_any) {
  const torch::Tensor m12 = m12_any.to(torch::kCPU);
  torch::Tensor keep = m12 >= 0;
  if (m21_any.defined()) {
    const torch::Tensor back = m21_any.to(torch::kCPU).index_select(0, m12.clamp_min(0));
    keep = keep & (back == torch::arange(m12.size(0), torch::kLong));
  }
  const torch::Tensor idx1 = torch::nonzero(keep).squeeze(1);
  return MatchesFromIndices(idx1, m12.index_select(0, idx1));
}

}  // namespace

Matches MatchNearestNeighbors(const torch::Tensor& d1, const torch::Tensor& d2,
                              const NnMatchOptions& options) {
  torch::NoGradGuard no_grad;
  if (!CanMatch(d1, d2)) return {};
  if (!options.cross_check) return KeepMutual(MatchOneWay(d1, d2, options), torch::Tensor());
  const BothWays both = MatchBothWays(d1, d2, options);
  return KeepMutual(both.m12, both.m21);
}

Matches MatchNearestNeighborsTwoProducts(const torch::Tensor& d1, const torch::Tensor& d2,
                                         const NnMatchOptions& options) {
  torch::NoGradGuard no_grad;
  if (!CanMatch(d1, d2)) return {};
  return KeepMutual(MatchOneWay(d1, d2, options),
                    options.cross_check ? MatchOneWay(d2, d1, options) : torch::Tensor());
}

void AppendUnmatched(const Matches& extra, Matches* matches) {
  std::unordered_set<point2D_t> used1, used2;
  for (const Match& m : *matches) {
    used1.insert(m.idx1);
    used2.insert(m.idx2);
  }
  for (const Match& m : extra) {
    if (used1.count(m.idx1) || used2.count(m.idx2)) continue;
    used1.insert(m.idx1);
    used2.insert(m.idx2);
    matches->push_back(m);
  }
}

}  // namespace scalesfm
