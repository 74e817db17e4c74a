#include "matching/dualrc_matcher.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>
#include <unordered_set>

#include "matching/dualrc_matching.h"
#include "matching/image_level_cache.h"
#include "matching/keypoint_creating_matcher.h"
#include "util/logging.h"

namespace scalesfm {

DualRcMaps ComputeDualRcMaps(DualRcNet& model, const cv::Mat& image, double factor,
                             const torch::Device& device) {
  const cv::Mat resized = ResizeByFactor(image, factor);
  const int w = resized.cols, h = resized.rows;
  DualRcMaps out;
  {
    torch::NoGradGuard no_grad;
    const std::vector<torch::Tensor> maps =
        model->Features(DualRcNetInput(resized, model->config()).to(device));
    out.fine = maps[0];
    out.coarse = maps[1];
  }
  out.width = w;
  out.height = h;
  out.fx = double(w) / image.cols;
  out.fy = double(h) / image.rows;
  return out;
}

std::vector<DualRcPointMatch> MatchDualRc(DualRcNet& model, const DualRcMaps& a,
                                          const DualRcMaps& b, const DualRcMatchOptions& options,
                                          int max_num_matches) {
  torch::NoGradGuard no_grad;
  const torch::Tensor corr = model->FilterCorrelation(a.coarse, b.coarse)[0][0];
  DenseMatchOptions dense;
  dense.query_fraction = options.query_fraction;
  dense.max_num_matches = max_num_matches;
  dense.chunk_size = options.chunk_size;
  dense.subpixel = options.subpixel;
  constexpr double r = DualRcNetConfig::kFineStride;
  const std::vector<DenseMatch> cells = ExtractDenseMatches(
      corr, a.fine[0], b.fine[0], a.width / r, a.height / r, b.width / r, b.height / r, dense);
  std::vector<DualRcPointMatch> out;
  out.reserve(cells.size());
  for (const DenseMatch& m : cells) {  // cell centre r (c + 0.5) at the matching size
    out.push_back({static_cast<float>(r * (m.xa + 0.5) / a.fx),
                   static_cast<float>(r * (m.ya + 0.5) / a.fy),
                   static_cast<float>(r * (m.xb + 0.5) / b.fx),
                   static_cast<float>(r * (m.yb + 0.5) / b.fy), m.score});
  }
  return out;
}

namespace {

// A matched point as a keypoint: round, half a fine cell in radius (original pixels).
Keypoint CellKeypoint(float x, float y, double f) {
  Keypoint k;
  k.x = x;
  k.y = y;
  k.a11 = k.a22 = static_cast<float>(0.5 * DualRcNetConfig::kFineStride / f);
  k.a12 = k.a21 = 0;
  return k;
}

class DualRcMatcher : public KeypointCreatingMatcher {
 public:
  explicit DualRcMatcher(const MatcherContext& context)
      : KeypointCreatingMatcher(context, context.config->matching.dualrc.snap_radius),
        options_(context.config->matching.dualrc),
        max_num_matches_(context.config->matching.max_num_matches),
        model_(LoadModel(context)),
        maps_(
            [this](const cv::Mat& image, double factor) {
              return ComputeDualRcMaps(model_, image, factor, this->context().device);
            },
            context.config->image_path, *context.images, options_.max_image_size,
            static_cast<size_t>(options_.cache_images), model_->config().in_channels,
            "DualRC-Net") {}

  Matches Match(const PairTask& task) override {
    const image_t a = task.a, b = task.b;
    BeginPair(a, b);
    KeypointSnapper& sa = Snapper(a);
    KeypointSnapper& sb = Snapper(b);
    const auto [la, lb] = task.rescale ? SdaimPairLevels(task.scale, maps_.Cap(a), maps_.Cap(b))
                                       : std::make_pair(kNativeLevel, kNativeLevel);
    const DualRcMaps& ma = maps_.Get(a, la);
    const DualRcMaps& mb = maps_.Get(b, lb);
    std::unordered_set<point2D_t> used_a, used_b;
    Matches matches;
    // Best first: a point that snaps onto a keypoint matched already in this pair is dropped.
    for (const DualRcPointMatch& m : MatchDualRc(model_, ma, mb, options_, max_num_matches_)) {
      const point2D_t ia = sa.SnapOrAppend(CellKeypoint(m.xa, m.ya, ma.fx));
      const point2D_t ib = sb.SnapOrAppend(CellKeypoint(m.xb, m.yb, mb.fx));
      if (used_a.count(ia) || used_b.count(ib)) continue;
      used_a.insert(ia);
      used_b.insert(ib);
      matches.push_back({ia, ib});
    }
    return matches;
  }

 private:
  static DualRcNet LoadModel(const MatcherContext& context) {
    DualRcNet model = LoadDualRcNet(DualRcNetWeightsPath(context.config->matching.dualrc.weights));
    model->to(context.device);
    return model;
  }

  DualRcMatchOptions options_;
  int max_num_matches_;
  DualRcNet model_;
  ImageLevelCache<DualRcMaps> maps_;
};

}  // namespace

std::unique_ptr<PairMatcher> CreateDualRcMatcher(const MatcherContext& context) {
  return std::make_unique<DualRcMatcher>(context);
}

}  // namespace scalesfm
