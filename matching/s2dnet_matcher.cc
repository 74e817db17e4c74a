#include "matching/s2dnet_matcher.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>
#include <unordered_set>

#include "matching/image_level_cache.h"
#include "matching/keypoint_creating_matcher.h"
#include "matching/s2dnet_model.h"
#include "util/device.h"
#include "util/logging.h"
#include "util/weights_io.h"

namespace scalesfm {

std::string S2DNetWeightsPath(const S2DNetMatchOptions& options) {
  return options.weights.empty() ? DefaultWeights("s2dnet_compact.pt") : options.weights;
}

S2DNetMatchOptions ResolveConfidence(const S2DNetMatchOptions& options) {
  S2DNetMatchOptions out = options;
  if (out.search.confidence_threshold < 0) {
    const std::string weights = S2DNetWeightsPath(options);
    const nlohmann::json sidecar = ReadSidecar(weights);
    const nlohmann::json tau = sidecar.value("confidence_threshold", nlohmann::json(0.2));
    if (!tau.is_number() || !(tau.get<double>() >= 0 && tau.get<double>() <= 1)) {
      throw Error("weights sidecar " + weights +
                  ".json: \"confidence_threshold\" must be a number in [0, 1], not " +
                  Printable(tau.dump()));
    }
    out.search.confidence_threshold = tau.get<double>();
    LogInfo(StringPrintf("S2DNet confidence threshold tau = %g (from the weights' sidecar)",
                         out.search.confidence_threshold));
  }
  return out;
}

ScaledDenseMaps ComputeDenseMaps(S2DNet& model, const cv::Mat& image, double factor,
                                 const torch::Device& device) {
  const cv::Mat resized = ResizeByFactor(image, factor);
  const int w = resized.cols, h = resized.rows;
  ScaledDenseMaps out;
  {
    torch::NoGradGuard no_grad;
    out.maps.levels = model->forward(S2DNetInput(resized, model->config()).to(device));
  }
  out.maps.width = w;
  out.maps.height = h;
  out.fx = double(w) / image.cols;
  out.fy = double(h) / image.rows;
  return out;
}

std::vector<SparseToDenseMatch> MatchSparseToDense(const Keypoints& source_keypoints,
                                                   size_t num_sources,
                                                   const ScaledDenseMaps& source,
                                                   const ScaledDenseMaps& target,
                                                   const S2DNetMatchOptions& options) {
  std::vector<SparseToDenseMatch> out;
  const size_t n = std::min(num_sources, source_keypoints.size());
  if (n == 0) return out;
  std::vector<float> xy(2 * n);
  for (size_t i = 0; i < n; ++i) {  // COLMAP, original -> OpenCV, resized
    xy[2 * i] = static_cast<float>(source_keypoints[i].x * source.fx - 0.5);
    xy[2 * i + 1] = static_cast<float>(source_keypoints[i].y * source.fy - 0.5);
  }
  const torch::Device device = source.maps.levels.at(0).device();
  const torch::Tensor points =
      torch::from_blob(xy.data(), {static_cast<int64_t>(n), 2}, torch::kFloat32).to(device);
  torch::NoGradGuard no_grad;
  const Correspondences found = FindCorrespondences(SampleSparseDescriptors(source.maps, points),
                                                    target.maps, options.search);
  torch::Tensor keep = found.valid.nonzero().squeeze(1);
  if (keep.numel() > 0 && options.cyclic_radius > 0) {
    Correspondences kept{found.points.index_select(0, keep), found.confidence.index_select(0, keep),
                         found.valid.index_select(0, keep)};
    const torch::Tensor cyclic = CyclicCheck(points.index_select(0, keep), kept, source.maps,
                                             target.maps, options.search, options.cyclic_radius);
    keep = keep.index_select(0, cyclic.nonzero().squeeze(1));
  }
  const torch::Tensor kept_points = found.points.index_select(0, keep).cpu().contiguous();
  const torch::Tensor kept_conf = found.confidence.index_select(0, keep).cpu().contiguous();
  const torch::Tensor kept_index = keep.cpu().to(torch::kLong).contiguous();
  const float* p = kept_points.data_ptr<float>();
  const float* c = kept_conf.data_ptr<float>();
  const int64_t* k = kept_index.data_ptr<int64_t>();
  for (int64_t i = 0; i < kept_index.numel(); ++i) {
    SparseToDenseMatch m;
    m.source = static_cast<point2D_t>(k[i]);
    m.x = static_cast<float>((p[2 * i] + 0.5) / target.fx);  // OpenCV, resized -> COLMAP
    m.y = static_cast<float>((p[2 * i + 1] + 0.5) / target.fy);
    m.confidence = c[i];
    out.push_back(m);
  }
  return out;
}

namespace {

struct Candidate {
  bool from_a;  // source keypoint in A (A -> B) or in B (B -> A)
  SparseToDenseMatch match;
};

// Appended keypoints take their source keypoint's shape, scaled by the pair's scale change.
Keypoint FoundKeypoint(const Keypoint& source, float x, float y, double size_ratio) {
  Keypoint k = source;
  k.x = x;
  k.y = y;
  k.a11 *= size_ratio;
  k.a12 *= size_ratio;
  k.a21 *= size_ratio;
  k.a22 *= size_ratio;
  return k;
}

class S2DNetMatcher : public KeypointCreatingMatcher {
 public:
  explicit S2DNetMatcher(const MatcherContext& context)
      : KeypointCreatingMatcher(context, context.config->matching.s2dnet.snap_radius),
        options_(ResolveConfidence(context.config->matching.s2dnet)),
        model_(LoadModel(context)),
        maps_(
            [this](const cv::Mat& image, double factor) {
              return ComputeDenseMaps(model_, image, factor, this->context().device);
            },
            context.config->image_path, *context.images, options_.max_image_size,
            static_cast<size_t>(options_.cache_images), model_->config().in_channels, "S2DNet") {}

  Matches Match(const PairTask& task) override {
    const image_t a = task.a, b = task.b;
    BeginPair(a, b);
    KeypointSnapper& sa = Snapper(a);
    KeypointSnapper& sb = Snapper(b);
    const double scale = task.scale;
    const auto [la, lb] = task.rescale ? SdaimPairLevels(scale, maps_.Cap(a), maps_.Cap(b))
                                       : std::make_pair(kNativeLevel, kNativeLevel);
    const ScaledDenseMaps& ma = maps_.Get(a, la);
    const ScaledDenseMaps& mb = maps_.Get(b, lb);
    std::vector<Candidate> candidates;
    for (const SparseToDenseMatch& m :
         MatchSparseToDense(sa.keypoints(), NumDetected(a), ma, mb, options_)) {
      candidates.push_back({true, m});
    }
    for (const SparseToDenseMatch& m :
         MatchSparseToDense(sb.keypoints(), NumDetected(b), mb, ma, options_)) {
      candidates.push_back({false, m});
    }
    // One match per keypoint, most confident first; a found point snaps to the target's list.
    std::stable_sort(candidates.begin(), candidates.end(),
                     [](const Candidate& l, const Candidate& r) {
                       return l.match.confidence > r.match.confidence;
                     });
    std::unordered_set<point2D_t> used_a, used_b;
    Matches matches;
    for (const Candidate& c : candidates) {
      std::unordered_set<point2D_t>& used_source = c.from_a ? used_a : used_b;
      std::unordered_set<point2D_t>& used_target = c.from_a ? used_b : used_a;
      const SparseToDenseMatch& m = c.match;
      if (used_source.count(m.source)) continue;
      KeypointSnapper& source = c.from_a ? sa : sb;
      KeypointSnapper& target = c.from_a ? sb : sa;
      const double ratio = c.from_a ? scale : 1.0 / scale;
      const point2D_t t =
          target.SnapOrAppend(FoundKeypoint(source.keypoints()[m.source], m.x, m.y, ratio));
      if (used_target.count(t)) continue;  // snapped onto a keypoint matched already
      used_source.insert(m.source);
      used_target.insert(t);
      matches.push_back(c.from_a ? scalesfm::Match{m.source, t} : scalesfm::Match{t, m.source});
    }
    return matches;
  }

 private:
  static S2DNet LoadModel(const MatcherContext& context) {
    S2DNet model = LoadS2DNet(S2DNetWeightsPath(context.config->matching.s2dnet));
    model->to(context.device);
    return model;
  }

  S2DNetMatchOptions options_;
  S2DNet model_;
  ImageLevelCache<ScaledDenseMaps> maps_;
};

}  // namespace

std::unique_ptr<PairMatcher> CreateS2DNetMatcher(const MatcherContext& context) {
  return std::make_unique<S2DNetMatcher>(context);
}

}  // namespace scalesfm
