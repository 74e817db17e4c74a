#include "matching/s2d_correspondence.h"

#include <algorithm>

#include "matching/s2dnet_model.h"
#include "util/logging.h"

namespace scalesfm {
namespace F = torch::nn::functional;

namespace {

// (x, y) OpenCV pixel coordinates -> grid_sample's [-1, 1] over the padded full-resolution
// image (align_corners = false, identical for every level since h_m * stride_m = H_pad).
torch::Tensor NormalisedGrid(const torch::Tensor& points, int padded_width, int padded_height) {
  const torch::Tensor x = (points.select(1, 0) + 0.5) / padded_width * 2 - 1;
  const torch::Tensor y = (points.select(1, 1) + 0.5) / padded_height * 2 - 1;
  return torch::stack({x, y}, 1);
}

// Per-point correlation with one level's map: [N, D] x [1, D, h, w] -> [N, h, w] (1x1 conv).
torch::Tensor Correlate(const torch::Tensor& descriptors, const torch::Tensor& map) {
  const int64_t d = map.size(1), h = map.size(2), w = map.size(3);
  return torch::matmul(descriptors, map.reshape({d, h * w})).view({-1, h, w});
}

// Bilinear resize of per-channel maps [C, h, w] -> [C, height, width] (U(.) of eq. 2).
torch::Tensor Upsample(const torch::Tensor& maps, int64_t height, int64_t width) {
  return F::interpolate(maps.unsqueeze(0), F::InterpolateFuncOptions()
                                               .size(std::vector<int64_t>{height, width})
                                               .mode(torch::kBilinear)
                                               .align_corners(false))
      .squeeze(0);
}

// Bilinear samples of one level's map [1, D, h, w] at per-point full-resolution pixels [N, K, 2]
// -> [D, N, K]: the values U(M) of eq. 2 has at those pixels.
torch::Tensor SampleLevel(const torch::Tensor& map, const torch::Tensor& pixels, int padded_width,
                          int padded_height) {
  const int64_t n = pixels.size(0), k = pixels.size(1);
  const torch::Tensor grid = NormalisedGrid(pixels.reshape({n * k, 2}), padded_width, padded_height)
                                 .view({1, 1, n * k, 2});
  return F::grid_sample(map, grid,
                        F::GridSampleFuncOptions()
                            .mode(torch::kBilinear)
                            .padding_mode(torch::kBorder)
                            .align_corners(false))
      .view({map.size(1), n, k});
}

// Sub-pixel offset of a peak from the scores at -1, 0, +1 pixels: the vertex of the parabola
// through them, in [-0.5, 0.5]; 0 where the peak is not a strict maximum or a neighbour is
// missing (`usable` false, e.g. at the image border where the window is clamped).
torch::Tensor ParabolaVertex(const torch::Tensor& before, const torch::Tensor& peak,
                             const torch::Tensor& after, const torch::Tensor& usable) {
  const torch::Tensor curvature = before - 2 * peak + after;
  const torch::Tensor ok = usable & (curvature < 0);
  const torch::Tensor offset =
      (0.5 * (before - after) / torch::where(ok, curvature, torch::ones_like(curvature)))
          .clamp(-0.5, 0.5);
  return torch::where(ok, offset, torch::zeros_like(offset));
}

// The window's argmax [k, 2] (x, y) for window scores `fine` [k, side^2] over pixels (wx, wy)
// laid out row-major (y outer), optionally refined to sub-pixel precision.
torch::Tensor WindowPeak(const torch::Tensor& fine, const torch::Tensor& wx,
                         const torch::Tensor& wy, int side, bool subpixel) {
  const torch::Tensor best = fine.argmax(1, /*keepdim=*/true);
  const torch::Tensor x = wx.gather(1, best).to(torch::kFloat32);
  const torch::Tensor y = wy.gather(1, best).to(torch::kFloat32);
  if (!subpixel) return torch::cat({x, y}, 1);
  const int64_t last = fine.size(1) - 1;
  auto at = [&](const torch::Tensor& index, const torch::Tensor& t) {
    return t.gather(1, index.clamp(0, last));
  };
  const torch::Tensor peak = at(best, fine);
  const torch::Tensor column = torch::remainder(best, side), row = torch::div(best, side, "floor");
  // A neighbour is usable when it is inside the window and one pixel away (clamping at the image
  // border repeats pixels).
  const torch::Tensor usable_x =
      (column > 0) & (column < side - 1) & (at(best + 1, wx) - at(best - 1, wx) == 2);
  const torch::Tensor usable_y =
      (row > 0) & (row < side - 1) & (at(best + side, wy) - at(best - side, wy) == 2);
  const torch::Tensor dx = ParabolaVertex(at(best - 1, fine), peak, at(best + 1, fine), usable_x);
  const torch::Tensor dy =
      ParabolaVertex(at(best - side, fine), peak, at(best + side, fine), usable_y);
  return torch::cat({x + dx, y + dy}, 1);
}

void CheckLevels(const std::vector<torch::Tensor>& descriptors, const DenseMaps& target) {
  if (descriptors.size() != size_t(S2DNetConfig::kNumLevels) ||
      target.levels.size() != size_t(S2DNetConfig::kNumLevels)) {
    throw Error("S2DNet correspondence needs three levels of descriptors and maps");
  }
}

}  // namespace

std::vector<torch::Tensor> SampleSparseDescriptors(const DenseMaps& maps,
                                                   const torch::Tensor& points) {
  const int64_t n = points.size(0);
  const torch::Tensor grid =
      NormalisedGrid(points.to(torch::kFloat32), maps.padded_width(), maps.padded_height())
          .view({1, 1, n, 2})
          .to(maps.levels.at(0).device());
  std::vector<torch::Tensor> out;
  for (const torch::Tensor& level : maps.levels) {
    out.push_back(F::grid_sample(level, grid,
                                 F::GridSampleFuncOptions()
                                     .mode(torch::kBilinear)
                                     .padding_mode(torch::kBorder)
                                     .align_corners(false))
                      .view({level.size(1), n})
                      .t());
  }
  return out;
}

torch::Tensor CorrespondenceMaps(const std::vector<torch::Tensor>& descriptors,
                                 const DenseMaps& target) {
  CheckLevels(descriptors, target);
  const int64_t hp = target.padded_height(), wp = target.padded_width();
  torch::Tensor c = Correlate(descriptors[0], target.levels[0]);  // level 1: full resolution
  for (int m = 1; m < S2DNetConfig::kNumLevels; ++m) {
    c = c + Upsample(Correlate(descriptors[m], target.levels[m]), hp, wp);  // eq. 2
  }
  return c;
}

torch::Tensor CorrespondenceLoss(const std::vector<torch::Tensor>& descriptors,
                                 const DenseMaps& target, const torch::Tensor& targets) {
  const torch::Tensor rounded = targets.round().to(torch::kLong);
  const torch::Tensor x = rounded.select(1, 0), y = rounded.select(1, 1);
  const torch::Tensor inside = (x >= 0) & (x < target.width) & (y >= 0) & (y < target.height);
  if (inside.sum().item<int64_t>() == 0) return torch::zeros({}, descriptors.at(0).options());
  const torch::Tensor keep = inside.nonzero().squeeze(1);
  std::vector<torch::Tensor> kept;
  for (const torch::Tensor& d : descriptors) kept.push_back(d.index_select(0, keep));
  const int64_t hp = target.padded_height(), wp = target.padded_width();
  torch::Tensor logits = CorrespondenceMaps(kept, target).view({keep.size(0), hp * wp});
  if (hp != target.height || wp != target.width) {  // padding is not a location of B (eq. 1)
    torch::Tensor pad = torch::ones({hp, wp}, torch::kBool);
    pad.slice(0, 0, target.height).slice(1, 0, target.width).fill_(false);
    logits = logits.masked_fill(pad.view({1, hp * wp}).to(logits.device()), -1e4);
  }
  const torch::Tensor index = (y.index_select(0, keep) * wp + x.index_select(0, keep));
  return F::cross_entropy(logits, index.to(logits.device()));
}

Correspondences FindCorrespondences(const std::vector<torch::Tensor>& descriptors,
                                    const DenseMaps& target, const SparseToDenseOptions& options) {
  CheckLevels(descriptors, target);
  const int64_t n = descriptors[0].size(0);
  const torch::Device device = target.levels[0].device();
  const int hp = target.padded_height(), wp = target.padded_width();
  const int64_t h1 = target.levels[1].size(2), w1 = target.levels[1].size(3);
  const int stride = S2DNetConfig::LevelStride(1);
  // Coarse search space: levels 2 and 3 of eq. 2 at 1/4 resolution. Correlation is linear and so
  // is bilinear upsampling, so U(d3 * M3) = d3 * U(M3): upsampling the level-3 map once and
  // stacking it under level 2 turns both levels into one [D2 + D3, cells] matmul per chunk.
  // Only cells that overlap B's real image are kept (padding is not a location of B).
  const torch::Tensor inside_cells =
      ((torch::arange(h1, device) * stride < target.height).view({h1, 1}) &
       (torch::arange(w1, device) * stride < target.width).view({1, w1}))
          .reshape({-1})
          .nonzero()
          .squeeze(1);
  const torch::Tensor coarse_map =
      torch::cat({target.levels[1][0], Upsample(target.levels[2][0], h1, w1)}, 0)
          .view({-1, h1 * w1})
          .index_select(1, inside_cells)
          .contiguous();
  const int r = options.refine_radius;
  const torch::Tensor offsets = torch::arange(-r, r + 1, torch::TensorOptions(device));
  const torch::Tensor off_y = offsets.view({-1, 1}).expand({2 * r + 1, 2 * r + 1}).reshape({-1});
  const torch::Tensor off_x = offsets.view({1, -1}).expand({2 * r + 1, 2 * r + 1}).reshape({-1});
  const torch::Tensor full0 = target.levels[0].reshape({target.levels[0].size(1), hp * wp});

  std::vector<torch::Tensor> points, confidence;
  for (int64_t start = 0; start < n; start += options.chunk_size) {
    const int64_t end = std::min<int64_t>(n, start + options.chunk_size), k = end - start;
    std::vector<torch::Tensor> d;
    for (const torch::Tensor& t : descriptors) d.push_back(t.slice(0, start, end).to(device));
    // Coarse: softmax over the cells; its peak probability exp(max - logsumexp) is the confidence.
    const torch::Tensor coarse = torch::matmul(torch::cat({d[1], d[2]}, 1), coarse_map);
    const auto [peak, peak_index] = coarse.max(1);
    const torch::Tensor prob = torch::exp(peak - coarse.logsumexp(1));
    const torch::Tensor cell = inside_cells.index_select(0, peak_index);
    // Fine: all three levels at full resolution in a window around the coarse cell's centre.
    const torch::Tensor cy = torch::div(cell, w1, "floor") * stride + stride / 2;
    const torch::Tensor cx = torch::remainder(cell, w1) * stride + stride / 2;
    const torch::Tensor wy =
        (cy.view({k, 1}) + off_y.view({1, -1})).clamp(0, std::max(0, target.height - 1));
    const torch::Tensor wx =
        (cx.view({k, 1}) + off_x.view({1, -1})).clamp(0, std::max(0, target.width - 1));
    const torch::Tensor flat = (wy * wp + wx).reshape({-1});
    const int64_t window = wy.size(1);
    const torch::Tensor f0 =
        full0.index_select(1, flat).view({full0.size(0), k, window});  // [D, k, K]
    const torch::Tensor pixels = torch::stack({wx, wy}, 2).to(torch::kFloat32);
    torch::Tensor fine = torch::einsum("nd,dnk->nk", {d[0], f0});
    for (int m = 1; m < S2DNetConfig::kNumLevels; ++m) {
      const torch::Tensor f = SampleLevel(target.levels[m], pixels, wp, hp);  // [D, k, K]
      fine = fine + torch::einsum("nd,dnk->nk", {d[m], f});                   // U(.) of eq. 2
    }
    points.push_back(WindowPeak(fine, wx, wy, 2 * r + 1, options.subpixel));
    confidence.push_back(prob);
  }
  Correspondences out;
  if (points.empty()) {
    out.points = torch::zeros({0, 2}, torch::TensorOptions(device));
    out.confidence = torch::zeros({0}, torch::TensorOptions(device));
  } else {
    out.points = torch::cat(points, 0);
    out.confidence = torch::cat(confidence, 0);
  }
  out.valid = out.confidence > options.confidence_threshold;
  return out;
}

torch::Tensor CyclicCheck(const torch::Tensor& sources, const Correspondences& forward,
                          const DenseMaps& source_maps, const DenseMaps& target_maps,
                          const SparseToDenseOptions& options, double radius) {
  const Correspondences back = FindCorrespondences(
      SampleSparseDescriptors(target_maps, forward.points), source_maps, options);
  const torch::Tensor error = (back.points - sources.to(back.points.device())).norm(2, 1);
  return error <= radius;
}

}  // namespace scalesfm
