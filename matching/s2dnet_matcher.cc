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
#include "matching/descriptor_cache.h"
#include "matching/image_scale_source.h"
#include "matching/keypoint_snapper.h"
#include "matching/s2dnet_model.h"
#include "scale/sift_vote.h"
#include "util/device.h"
#include "util/logging.h"
#include "util/progress.h"
#include "util/weights_io.h"

namespace scalesfm {

void S2DNetMatchOptions::Check() const {
  if (!(search.confidence_threshold < 1)) {
    throw Error("--Matching.s2dnet_confidence must be < 1 (< 0: the weights' calibrated value)");
  }
  if (search.refine_radius < 1) throw Error("--Matching.s2dnet_refine_radius must be >= 1");
  if (search.chunk_size < 1) throw Error("--Matching.s2dnet_chunk_size must be >= 1");
  if (!(snap_radius > 0)) throw Error("--Matching.s2dnet_snap_radius must be > 0");
  if (max_image_size < 64) throw Error("--Matching.s2dnet_max_image_size must be >= 64");
  if (cache_images < 2) throw Error("--Matching.s2dnet_cache_images must be >= 2");
  if (image_path.empty()) throw Error("--Matching.type s2dnet reads the images: pass --image_path");
  if (!std::filesystem::is_directory(image_path)) {
    throw Error("image path " + image_path + " is not a folder");
  }
}

std::string S2DNetWeightsPath(const S2DNetMatchOptions& options) {
  return options.weights.empty() ? DefaultS2DNetWeights() : options.weights;
}

S2DNetMatchOptions ResolveConfidence(const S2DNetMatchOptions& options) {
  S2DNetMatchOptions out = options;
  if (out.search.confidence_threshold < 0) {
    out.search.confidence_threshold =
        ReadSidecar(S2DNetWeightsPath(options)).value("confidence_threshold", 0.2);
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
    last_image_ = ReadImageGray(path, &error);
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

// SDAIM levels of a pair: A at ~s^0.5 and B at ~s^-0.5 (so they meet at the same scale), each
// within its image's max size, rounded to the sqrt(2) level grid; native levels when the scale
// change is small.
std::pair<int, int> PairLevels(double scale, double min_log2_scale, double cap_a, double cap_b) {
  if (std::abs(std::log2(scale)) < min_log2_scale) return {kNativeLevel, kNativeLevel};
  const double c = std::min({1.0, cap_a / std::sqrt(scale), cap_b * std::sqrt(scale)});
  auto level = [](double f, double cap) {
    int k = static_cast<int>(std::lround(2 * std::log2(f)));
    while (std::pow(2.0, 0.5 * k) > cap * 1.0001) --k;
    return k;
  };
  return {level(c * std::sqrt(scale), cap_a), level(c / std::sqrt(scale), cap_b)};
}

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

}  // namespace

MatchingSummary RunS2DNetRawMatching(const std::string& database_path, const ImagePairs& pairs,
                                     const MatchingOptions& options,
                                     const S2DNetMatchOptions& requested_options,
                                     const ScaleMatchingOptions& scale_options) {
  options.Check();
  requested_options.Check();
  scale_options.Check();
  const std::string& estimator = scale_options.estimator.estimator;
  if (!options.shard.empty()) {
    throw Error(
        "--Matching.type s2dnet appends keypoints while it matches, so shards cannot be merged; "
        "match without --Matching.shard");
  }
  Timer timer;
  MatchingSummary summary;
  summary.num_pairs = pairs.size();
  Database db(database_path);
  const torch::Device device = ParseDevice(options.device);
  options.ApplyThreads();
  S2DNet model = LoadS2DNet(S2DNetWeightsPath(requested_options));
  model->to(device);
  const S2DNetMatchOptions s2d_options = ResolveConfidence(requested_options);

  const std::vector<Image> images = db.ReadAllImages();
  std::unordered_set<image_t> with_features;
  for (const Image& image : images) {
    if (db.ExistsKeypoints(image.image_id)) with_features.insert(image.image_id);
  }
  const ImagePairs todo = PairsToMatch(db, pairs, with_features, &summary);
  LogInfo(StringPrintf("S2DNet sparse-to-dense matching of %zu pairs on %s (estimator %s)",
                       todo.size(), device.str().c_str(), estimator.c_str()));
  std::unique_ptr<ImageScaleSource> scales;
  // sift_vote votes over descriptor matches of the detected keypoints (SIFT shapes).
  DescriptorCache descriptors(&db, device, 4);
  if (scale_options.Enabled() && estimator != "sift_vote") {
    scales = std::make_unique<ImageScaleSource>(scale_options.estimator, scale_options.image_path,
                                                images);
  }
  DenseMapCache maps(model, device, s2d_options.image_path, images, s2d_options.max_image_size,
                     static_cast<size_t>(s2d_options.cache_images));

  // Keypoint lists as they grow, and how many of each came from the detector.
  std::unordered_map<image_t, KeypointSnapper> snappers;
  std::unordered_map<image_t, size_t> num_detected;
  auto snapper = [&](image_t id) -> KeypointSnapper& {
    auto it = snappers.find(id);
    if (it != snappers.end()) return it->second;
    Keypoints k = db.ReadKeypoints(id);
    num_detected[id] = db.ReadNumDetectedKeypoints(id).value_or(k.size());
    return snappers.emplace(id, KeypointSnapper(std::move(k), s2d_options.snap_radius))
        .first->second;
  };

  Progress progress("pairs", todo.size());
  size_t total_appended = 0;
  for (size_t start = 0; start < todo.size(); start += options.pairs_per_commit) {
    const size_t end = std::min(todo.size(), start + options.pairs_per_commit);
    std::vector<Matches> batch(end - start);
    std::vector<std::optional<PairScale>> new_scales(end - start);
    std::unordered_map<image_t, size_t> size_before;  // keypoints at the batch start
    size_t num_matches = 0;
    for (size_t i = start; i < end; ++i) {
      const auto [a, b] = todo[i];
      KeypointSnapper& sa = snapper(a);
      KeypointSnapper& sb = snapper(b);
      size_before.emplace(a, sa.keypoints().size());
      size_before.emplace(b, sb.keypoints().size());
      double scale = 1.0;
      if (scale_options.Enabled()) {
        if (auto cached = db.ReadPairScale(a, b, estimator)) {
          scale = cached->scale;
        } else {
          const ScaleEstimate e =
              scales ? scales->Estimate(a, b)
                     : ScaleFromMatchedKeypoints(
                           sa.keypoints(), sb.keypoints(),
                           MatchNearestNeighbors(descriptors.Get(a, kDatabaseLevel).descriptors,
                                                 descriptors.Get(b, kDatabaseLevel).descriptors,
                                                 options.nn));
          scale = e.scale;
          new_scales[i - start] = PairScale{estimator, scale, e.support};
        }
      }
      const auto [la, lb] =
          PairLevels(scale, scale_options.min_log2_scale, maps.Cap(a), maps.Cap(b));
      const DenseMapCache::Entry& ma = maps.Get(a, la);
      const DenseMapCache::Entry& mb = maps.Get(b, lb);
      std::vector<Candidate> candidates;
      for (const SparseToDenseMatch& m :
           MatchSparseToDense(sa.keypoints(), num_detected.at(a), ma, mb, s2d_options)) {
        candidates.push_back({true, m});
      }
      for (const SparseToDenseMatch& m :
           MatchSparseToDense(sb.keypoints(), num_detected.at(b), mb, ma, s2d_options)) {
        candidates.push_back({false, m});
      }
      // One match per keypoint, most confident first; a found point snaps to the target's list.
      std::stable_sort(candidates.begin(), candidates.end(),
                       [](const Candidate& l, const Candidate& r) {
                         return l.match.confidence > r.match.confidence;
                       });
      std::unordered_set<point2D_t> used_a, used_b;
      Matches& matches = batch[i - start];
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
        matches.push_back(c.from_a ? Match{m.source, t} : Match{t, m.source});
      }
      num_matches += matches.size();
    }
    Database::Transaction transaction(&db);
    for (const auto& [id, before] : size_before) {
      const KeypointSnapper& s = snappers.at(id);
      if (s.keypoints().size() == before) continue;
      const size_t added = s.keypoints().size() - before;
      total_appended += added;
      if (!db.ReadNumDetectedKeypoints(id)) db.WriteNumDetectedKeypoints(id, num_detected.at(id));
      db.WriteKeypoints(id, s.keypoints());
      // Descriptor rows stay aligned with keypoints: appended keypoints get zero rows.
      DescriptorsU8 d = db.ReadDescriptors(id);
      DescriptorsU8 grown =
          DescriptorsU8::Zero(static_cast<Eigen::Index>(s.keypoints().size()), d.cols());
      grown.topRows(d.rows()) = d;
      db.WriteDescriptors(id, grown);
      if (db.ExistsFloatDescriptors(id)) {
        DescriptorsF32 f = db.ReadFloatDescriptors(id);
        DescriptorsF32 fg =
            DescriptorsF32::Zero(static_cast<Eigen::Index>(s.keypoints().size()), f.cols());
        fg.topRows(f.rows()) = f;
        db.WriteFloatDescriptors(id, fg);
      }
    }
    for (size_t i = start; i < end; ++i) {
      const auto [a, b] = todo[i];
      db.WriteMatches(a, b, batch[i - start]);
      if (new_scales[i - start]) db.WritePairScale(a, b, *new_scales[i - start]);
    }
    transaction.Commit();
    summary.num_matched += end - start;
    progress.Step(StringPrintf("(%.0f matches/pair, %zu keypoints added)",
                               double(num_matches) / (end - start), total_appended),
                  end - start);
  }
  LogInfo(StringPrintf("%zu keypoints added to the images' lists", total_appended));
  summary.matching_seconds = timer.ElapsedSeconds();
  return summary;
}

MatchingSummary RunS2DNetMatching(const std::string& database_path, const MatchingOptions& options,
                                  const S2DNetMatchOptions& s2d_options,
                                  const ScaleMatchingOptions& scale_options,
                                  const VerificationOptions& verification,
                                  const ColmapRunner& colmap) {
  s2d_options.Check();
  return RunMatcher(
      database_path, options, verification, colmap,
      options.pair_list.empty() ? "Exhaustive S2DNet matching" : "S2DNet matching from pair list",
      [&](const ImagePairs& pairs) {
        return RunS2DNetRawMatching(database_path, pairs, options, s2d_options, scale_options);
      });
}

}  // namespace scalesfm
