#include "matching/s2dnet_matcher.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <filesystem>
#include <map>
#include <opencv2/imgproc.hpp>
#include <unordered_map>
#include <unordered_set>

#include "feature/image_io.h"
#include "matching/keypoint_snapper.h"
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
  const int w = std::max(16, static_cast<int>(std::lround(image.cols * factor)));
  const int h = std::max(16, static_cast<int>(std::lround(image.rows * factor)));
  cv::Mat resized;
  if (w == image.cols && h == image.rows) {
    resized = image;
  } else {
    cv::resize(image, resized, cv::Size(w, h), 0, 0,
               factor < 1 ? cv::INTER_AREA : cv::INTER_LINEAR);
  }
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

constexpr int kNativeLevel = 1000;  // an image at min(1, max_image_size / longest side)

// Dense maps of (image, level), computed on demand and kept for the last `capacity` uses.
class DenseMapCache {
 public:
  DenseMapCache(S2DNet model, torch::Device device, const std::string& image_path,
                const std::vector<Image>& images, int max_image_size, size_t capacity)
      : model_(std::move(model)),
        device_(device),
        image_path_(image_path),
        max_image_size_(max_image_size),
        capacity_(capacity) {
    for (const Image& image : images) names_[image.image_id] = image.name;
  }

  // Largest factor that keeps the image within max_image_size.
  double Cap(image_t id) {
    const cv::Size size = Size(id);
    return double(max_image_size_) / std::max(size.width, size.height);
  }
  // Level k is the image resized by 2^(k/2) (the D-ScaleNet bin ratio sqrt(2)).
  static double LevelFactor(int k, double cap) {
    return k == kNativeLevel ? std::min(1.0, cap) : std::pow(2.0, 0.5 * k);
  }

  using Entry = ScaledDenseMaps;

  const Entry& Get(image_t id, int level) {
    const auto key = std::make_pair(id, level);
    auto it = cache_.find(key);
    if (it != cache_.end()) {  // most recently used goes last
      order_.erase(std::find(order_.begin(), order_.end(), key));
      order_.push_back(key);
      return it->second;
    }
    if (order_.size() >= capacity_) {
      cache_.erase(order_.front());
      order_.pop_front();
    }
    Entry entry = ComputeDenseMaps(model_, Read(id), LevelFactor(level, Cap(id)), device_);
    order_.push_back(key);
    return cache_[key] = std::move(entry);
  }

 private:
  cv::Size Size(image_t id) {
    auto it = sizes_.find(id);
    if (it != sizes_.end()) return it->second;
    const cv::Mat& image = Read(id);
    return sizes_[id] = image.size();
  }
  const cv::Mat& Read(image_t id) {
    if (last_id_ == id && !last_image_.empty()) return last_image_;
    const std::string path = (std::filesystem::path(image_path_) / names_.at(id)).string();
    std::string error;
    last_image_ = ReadImage(path, model_->config().in_channels, &error);  // RGB for `paper`
    if (last_image_.empty()) throw Error("S2DNet matching: " + error);
    last_id_ = id;
    return last_image_;
  }

  S2DNet model_;
  torch::Device device_;
  std::string image_path_;
  int max_image_size_;
  size_t capacity_;
  std::unordered_map<image_t, std::string> names_;
  std::unordered_map<image_t, cv::Size> sizes_;
  std::map<std::pair<image_t, int>, Entry> cache_;
  std::deque<std::pair<image_t, int>> order_;
  image_t last_id_ = 0;
  cv::Mat last_image_;
};

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

class S2DNetMatcher : public PairMatcher {
 public:
  explicit S2DNetMatcher(const MatcherContext& context)
      : context_(context),
        options_(ResolveConfidence(context.config->matching.s2dnet)),
        maps_(LoadModel(context), context.device, context.config->image_path, *context.images,
              options_.max_image_size, static_cast<size_t>(options_.cache_images)) {}

  Matches Match(const PairTask& task) override {
    const image_t a = task.a, b = task.b;
    KeypointSnapper& sa = Snapper(a);
    KeypointSnapper& sb = Snapper(b);
    size_before_.emplace(a, sa.keypoints().size());
    size_before_.emplace(b, sb.keypoints().size());
    const double scale = task.scale;
    const auto [la, lb] = task.rescale ? PairLevels(scale, maps_.Cap(a), maps_.Cap(b))
                                       : std::make_pair(kNativeLevel, kNativeLevel);
    const DenseMapCache::Entry& ma = maps_.Get(a, la);
    const DenseMapCache::Entry& mb = maps_.Get(b, lb);
    std::vector<Candidate> candidates;
    for (const SparseToDenseMatch& m :
         MatchSparseToDense(sa.keypoints(), num_detected_.at(a), ma, mb, options_)) {
      candidates.push_back({true, m});
    }
    for (const SparseToDenseMatch& m :
         MatchSparseToDense(sb.keypoints(), num_detected_.at(b), mb, ma, options_)) {
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

  // New keypoints are committed with the matches that made them; descriptor rows stay aligned
  // with keypoints (appended keypoints get zero rows).
  void WriteStaged(Database* db) override {
    for (const auto& [id, before] : size_before_) {
      const KeypointSnapper& s = snappers_.at(id);
      if (s.keypoints().size() == before) continue;
      total_appended_ += s.keypoints().size() - before;
      if (!db->ReadNumDetectedKeypoints(id)) {
        db->WriteNumDetectedKeypoints(id, num_detected_.at(id));
      }
      db->WriteKeypoints(id, s.keypoints());
      const auto rows = static_cast<Eigen::Index>(s.keypoints().size());
      db->WriteDescriptors(id, ZeroGrown(db->ReadDescriptors(id), rows));
      if (db->ExistsFloatDescriptors(id)) {
        db->WriteFloatDescriptors(id, ZeroGrown(db->ReadFloatDescriptors(id), rows));
      }
    }
    size_before_.clear();
  }

  std::string BatchNote() override { return StringPrintf("%zu keypoints added", total_appended_); }
  std::string FinalNote() override {
    return StringPrintf("%zu keypoints added to the images' lists", total_appended_);
  }

 private:
  static S2DNet LoadModel(const MatcherContext& context) {
    S2DNet model = LoadS2DNet(S2DNetWeightsPath(context.config->matching.s2dnet));
    model->to(context.device);
    return model;
  }

  template <typename Descriptors>
  static Descriptors ZeroGrown(const Descriptors& d, Eigen::Index rows) {
    Descriptors grown = Descriptors::Zero(rows, d.cols());
    grown.topRows(d.rows()) = d;
    return grown;
  }

  // SDAIM levels of a rescaled pair: A at ~s^0.5 and B at ~s^-0.5 (so they meet at the same
  // scale), each within its image's max size, rounded to the sqrt(2) level grid.
  static std::pair<int, int> PairLevels(double scale, double cap_a, double cap_b) {
    const double c = std::min({1.0, cap_a / std::sqrt(scale), cap_b * std::sqrt(scale)});
    auto level = [](double f, double cap) {
      int k = static_cast<int>(std::lround(2 * std::log2(f)));
      while (std::pow(2.0, 0.5 * k) > cap * 1.0001) --k;
      return k;
    };
    return {level(c * std::sqrt(scale), cap_a), level(c / std::sqrt(scale), cap_b)};
  }

  // Keypoint lists as they grow, and how many of each came from the detector.
  KeypointSnapper& Snapper(image_t id) {
    auto it = snappers_.find(id);
    if (it != snappers_.end()) return it->second;
    Keypoints k = context_.db->ReadKeypoints(id);
    num_detected_[id] = context_.db->ReadNumDetectedKeypoints(id).value_or(k.size());
    return snappers_.emplace(id, KeypointSnapper(std::move(k), options_.snap_radius)).first->second;
  }

  MatcherContext context_;
  S2DNetMatchOptions options_;
  DenseMapCache maps_;
  std::unordered_map<image_t, KeypointSnapper> snappers_;
  std::unordered_map<image_t, size_t> num_detected_;
  std::unordered_map<image_t, size_t> size_before_;  // keypoints at the batch start
  size_t total_appended_ = 0;
};

}  // namespace

std::unique_ptr<PairMatcher> CreateS2DNetMatcher(const MatcherContext& context) {
  return std::make_unique<S2DNetMatcher>(context);
}

}  // namespace scalesfm
