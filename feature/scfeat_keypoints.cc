#include "feature/scfeat_keypoints.h"

#include "util/logging.h"

namespace scalesfm {
namespace F = torch::nn::functional;

ScfeatKeypoints SelectKeypoints(const torch::Tensor& score_in, int width, int height,
                                const ScfeatKeypointOptions& o) {
  if (o.nms_size < 1 || o.nms_size % 2 == 0) throw Error("SCFeat nms_size must be odd and >= 1");
  if (o.max_keypoints < 1) throw Error("SCFeat max_keypoints must be >= 1");
  torch::NoGradGuard no_grad;
  const torch::Tensor score =
      score_in.reshape({score_in.size(-2), score_in.size(-1)})
          .index({torch::indexing::Slice(0, height), torch::indexing::Slice(0, width)})
          .to(torch::kCPU, torch::kFloat32)
          .contiguous();
  torch::Tensor candidate = score > o.score_threshold;
  if (o.nms_size > 1) {
    const torch::Tensor local_max =
        F::max_pool2d(score.unsqueeze(0).unsqueeze(0),
                      F::MaxPool2dFuncOptions(o.nms_size).stride(1).padding(o.nms_size / 2))
            .squeeze(0)
            .squeeze(0);
    candidate = candidate.logical_and(score == local_max);
  }
  const torch::Tensor flat = torch::nonzero(candidate.flatten()).squeeze(1);
  const torch::Tensor values = score.flatten().index({flat});
  const int64_t k = std::min<int64_t>(o.max_keypoints, flat.size(0));
  const auto top = torch::topk(values, k, 0, /*largest=*/true, /*sorted=*/true);
  const torch::Tensor idx = flat.index({std::get<1>(top)});
  ScfeatKeypoints out;
  out.scores = std::get<0>(top);
  torch::Tensor x = (idx % width).to(torch::kFloat32),
                y = torch::div(idx, width, "floor").to(torch::kFloat32);
  if (o.subpixel && k > 0) {
    // Quadratic fit along x and y through the 3x3 neighbourhood; offsets clamped to +-0.5.
    const auto s = score.accessor<float, 2>();
    auto xs = x.accessor<float, 1>(), ys = y.accessor<float, 1>();
    for (int64_t i = 0; i < k; ++i) {
      const int cx = static_cast<int>(xs[i]), cy = static_cast<int>(ys[i]);
      if (cx > 0 && cx + 1 < width) {
        const float l = s[cy][cx - 1], c = s[cy][cx], r = s[cy][cx + 1];
        const float den = l - 2 * c + r;
        if (den < 0) xs[i] += std::clamp(0.5f * (l - r) / den, -0.5f, 0.5f);
      }
      if (cy > 0 && cy + 1 < height) {
        const float u = s[cy - 1][cx], c = s[cy][cx], d = s[cy + 1][cx];
        const float den = u - 2 * c + d;
        if (den < 0) ys[i] += std::clamp(0.5f * (u - d) / den, -0.5f, 0.5f);
      }
    }
  }
  out.points = torch::stack({x, y}, 1);
  return out;
}

torch::Tensor SampleMap(const torch::Tensor& map, const torch::Tensor& points, int width,
                        int height, bool official_grid) {
  const auto shape = points.sizes().vec();
  const torch::Tensor p = points.reshape({1, 1, -1, 2});
  const torch::Tensor x = p.select(-1, 0), y = p.select(-1, 1);
  const torch::Tensor grid =
      (official_grid ? torch::stack({x / ((width - 1) / 2.0) - 1, y / ((height - 1) / 2.0) - 1}, -1)
                     : torch::stack({(x + 0.5) / width * 2 - 1, (y + 0.5) / height * 2 - 1}, -1))
          .to(map.dtype());
  const torch::Tensor s = F::grid_sample(
      map, grid, F::GridSampleFuncOptions().mode(torch::kBilinear).align_corners(false));
  // [1, C, 1, P] -> [P, C] -> [..., C]
  std::vector<int64_t> out(shape.begin(), shape.end() - 1);
  out.push_back(map.size(1));
  return s.squeeze(0).squeeze(1).t().reshape(out);
}

torch::Tensor SampleDescriptors(const torch::Tensor& desc, const torch::Tensor& points, int width,
                                int height, bool official_grid) {
  torch::NoGradGuard no_grad;
  if (points.size(0) == 0) return torch::zeros({0, desc.size(1)});
  const torch::Tensor d = SampleMap(desc, points.to(desc.device()), width, height, official_grid);
  return F::normalize(d, F::NormalizeFuncOptions().dim(1)).cpu();  // eq. 22
}

}  // namespace scalesfm
