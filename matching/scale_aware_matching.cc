#include "matching/scale_aware_matching.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <filesystem>
#include <map>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "feature/image_io.h"
#include "feature/multilevel_extraction.h"
#include "matching/descriptor_cache.h"
#include "matching/image_scale_source.h"
#include "matching/level_selection.h"
#include "scale/sift_vote.h"
#include "util/device.h"
#include "util/logging.h"
#include "util/progress.h"

namespace scalesfm {

bool ScaleMatchingOptions::NeedsImages() const {
  const std::string& e = estimator.estimator;
  return reextract || (e != "none" && e != "sift_vote");
}

void ScaleMatchingOptions::Check() const {
  const std::string& e = estimator.estimator;
  bool known = e == "none";
  for (const std::string& name : ScaleEstimator::Names()) known |= e == name;
  if (!known) {
    std::string names = "none";
    for (const std::string& n : ScaleEstimator::Names()) names += ", " + n;
    throw Error("unknown --ScaleMatching.estimator '" + e + "' (known: " + names + ")");
  }
  if (!(min_log2_scale >= 0)) throw Error("--ScaleMatching.min_log2_scale must be >= 0");
  if (NeedsImages()) {
    if (image_path.empty()) {
      throw Error("--ScaleMatching.estimator " + e +
                  (reextract ? " with --ScaleMatching.reextract 1" : "") +
                  " reads the images: pass --image_path");
    }
    if (!std::filesystem::is_directory(image_path)) {
      throw Error("image path " + image_path + " is not a folder");
    }
  }
  if (reextract) extraction.Check();
}

namespace {

// One image's levels as the matcher sees them.
struct ImageLevels {
  std::vector<double> factors;
  std::vector<int> ids;  // scalesfm_feature_levels.level, or kDatabaseLevel
};

// Level-local matches -> merged keypoint indices.
Matches ToMergedIndices(const Matches& level_matches, const LevelDescriptors& a,
                        const LevelDescriptors& b) {
  Matches out;
  out.reserve(level_matches.size());
  for (const Match& m : level_matches) {
    out.push_back({a.index.empty() ? m.idx1 : a.index.at(m.idx1),
                   b.index.empty() ? m.idx2 : b.index.at(m.idx2)});
  }
  return out;
}

// ScaleNet's way (--ScaleMatching.reextract 1): resize both images exactly, extract, match, and
// add the new keypoints to each image's list (joining existing keypoints where they coincide).
class Reextractor {
 public:
  Reextractor(const ScaleMatchingOptions& options, const std::vector<Image>& images)
      : options_(options), extractor_(FeatureExtractor::Create(options.extraction)) {
    for (const Image& image : images) names_[image.image_id] = image.name;
  }

  // Returns matches in merged indices; appends keypoints/descriptors of both images in `db`
  // (the caller holds the transaction).
  Matches Match(Database* db, image_t a, image_t b, double scale, const NnMatchOptions& nn,
                const torch::Device& device) {
    const double fa = std::sqrt(scale), fb = 1.0 / std::sqrt(scale);
    const MultiLevelFeatures fa_features = Extract(a, fa);
    const MultiLevelFeatures fb_features = Extract(b, fb);
    const Matches local =
        MatchNearestNeighbors(ToTensor(fa_features, device), ToTensor(fb_features, device), nn);
    const std::vector<point2D_t> ia = Append(db, a, fa_features);
    const std::vector<point2D_t> ib = Append(db, b, fb_features);
    Matches out;
    out.reserve(local.size());
    for (const scalesfm::Match& m : local) out.push_back({ia[m.idx1], ib[m.idx2]});
    return out;
  }

 private:
  bool Learned() const { return options_.extraction.IsLearned(); }

  torch::Tensor ToTensor(const MultiLevelFeatures& f, const torch::Device& device) const {
    return Learned() ? DescriptorsToTensor(f.float_descriptors, device)
                     : DescriptorsToTensor(f.descriptors, device);
  }

  MultiLevelFeatures Extract(image_t id, double factor) {
    const std::string path = (std::filesystem::path(options_.image_path) / names_.at(id)).string();
    std::string error;
    const cv::Mat image = ReadImageGray(path, &error);
    if (image.empty()) throw Error("re-extraction: " + path + ": " + error);
    // Stay within max_image_size, as every level does.
    const double max_factor =
        double(options_.extraction.max_image_size) / std::max(image.cols, image.rows);
    return ExtractLevels(extractor_.get(), image, {std::min(factor, max_factor)},
                         options_.extraction.MergeOptions());
  }

  // Existing keypoints first, so they keep their indices; returns the index of every new one.
  // New keypoints bring their descriptors: COLMAP's uint8 table for SIFT, the float table for
  // learned extractors.
  std::vector<point2D_t> Append(Database* db, image_t id, const MultiLevelFeatures& features) {
    std::vector<LevelKeypoints> levels(2);
    levels[0].keypoints = db->ReadKeypoints(id);
    levels[1].keypoints = features.keypoints;
    const size_t before = levels[0].keypoints.size();
    MergedKeypoints merged = MergeLevelKeypoints(levels, options_.extraction.MergeOptions());
    if (merged.keypoints.size() > before) {
      if (Learned()) {
        db->WriteFloatDescriptors(
            id, Grown(db->ReadFloatDescriptors(id), features.float_descriptors, merged, before));
        // COLMAP's table keeps a (column-less) row per keypoint, as extraction writes it.
        db->WriteDescriptors(id,
                             DescriptorsU8(static_cast<Eigen::Index>(merged.keypoints.size()), 0));
      } else {
        db->WriteDescriptors(id,
                             Grown(db->ReadDescriptors(id), features.descriptors, merged, before));
      }
      db->WriteKeypoints(id, merged.keypoints);
    }
    return merged.index[1];
  }

  // `existing` with a row per keypoint that the merge added, taken from `fresh`.
  template <typename Descriptors>
  static Descriptors Grown(const Descriptors& existing, const Descriptors& fresh,
                           const MergedKeypoints& merged, size_t before) {
    if (existing.rows() != static_cast<Eigen::Index>(before)) {
      throw Error(StringPrintf("re-extraction: an image has %lld descriptors for %zu keypoints",
                               static_cast<long long>(existing.rows()), before));
    }
    const Eigen::Index cols = std::max(existing.cols(), fresh.cols());
    Descriptors grown(static_cast<Eigen::Index>(merged.keypoints.size()), cols);
    grown.setZero();
    grown.topLeftCorner(existing.rows(), existing.cols()) = existing;
    for (size_t k = before; k < merged.keypoints.size(); ++k) {
      grown.row(static_cast<Eigen::Index>(k)).leftCols(fresh.cols()) =
          fresh.row(merged.source[k].second);
    }
    return grown;
  }

  const ScaleMatchingOptions& options_;
  std::unique_ptr<FeatureExtractor> extractor_;
  std::unordered_map<image_t, std::string> names_;
};

}  // namespace

MatchingSummary RunScaleAwareRawMatching(const std::string& database_path, const ImagePairs& pairs,
                                         const MatchingOptions& options,
                                         const ScaleMatchingOptions& scale_options) {
  options.Check();
  scale_options.Check();
  Timer timer;
  MatchingSummary summary;
  summary.num_pairs = pairs.size();
  Database db(database_path);
  const torch::Device device = ParseDevice(options.device);
  options.ApplyThreads();

  const std::vector<Image> images = db.ReadAllImages();
  std::unordered_map<image_t, ImageLevels> levels;
  bool learned = false;  // learned (float) descriptors, e.g. SCFeat
  for (const Image& image : images) {
    if (!db.ExistsDescriptors(image.image_id)) continue;
    learned = learned || db.ExistsFloatDescriptors(image.image_id);
    ImageLevels& l = levels[image.image_id];
    for (const auto& [id, factor] : db.ReadLevelFactors(image.image_id)) {
      l.ids.push_back(id);
      l.factors.push_back(factor);
    }
    if (l.ids.empty()) {
      l.ids = {kDatabaseLevel};
      l.factors = {1.0};
    }
  }
  std::unordered_set<image_t> with_features;
  for (const auto& [id, l] : levels) with_features.insert(id);
  const ImagePairs todo = PairsToMatch(db, pairs, with_features, &summary);
  const std::string& estimator = scale_options.estimator.estimator;
  LogInfo(StringPrintf("Scale-aware matching of %zu pairs on %s (estimator %s, %s)", todo.size(),
                       device.str().c_str(), estimator.c_str(),
                       scale_options.reextract ? "exact re-extraction" : "precomputed levels"));

  // Learned keypoints (SCFeat) come from one resolution and carry no scale to vote with, so
  // sift_vote then extracts SIFT from the images itself (once per image).
  std::unique_ptr<ImageScaleSource> image_scales;
  if (estimator != "none" && (estimator != "sift_vote" || learned)) {
    if (scale_options.image_path.empty()) {
      throw Error("--ScaleMatching.estimator " + estimator +
                  " on learned features reads the images: pass --image_path");
    }
    image_scales = std::make_unique<ImageScaleSource>(scale_options.estimator,
                                                      scale_options.image_path, images);
  }
  if (scale_options.reextract && learned != scale_options.extraction.IsLearned()) {
    throw Error("--ScaleMatching.reextract: the database holds " +
                std::string(learned ? "learned" : "SIFT") + " features but --Extraction.type is " +
                scale_options.extraction.type);
  }
  std::unique_ptr<Reextractor> reextractor;
  if (scale_options.reextract) reextractor = std::make_unique<Reextractor>(scale_options, images);
  DescriptorCache cache(&db, device, 4 * options.block_size);
  std::unordered_map<image_t, Keypoints> keypoints;  // merged lists, for sift_vote
  auto merged_keypoints = [&](image_t id) -> const Keypoints& {
    auto it = keypoints.find(id);
    if (it != keypoints.end()) return it->second;
    if (keypoints.size() >= 4 * size_t(options.block_size)) keypoints.clear();
    return keypoints[id] = db.ReadKeypoints(id);
  };

  Progress progress("pairs", todo.size());
  size_t num_rescaled_total = 0;
  for (size_t start = 0; start < todo.size(); start += options.pairs_per_commit) {
    const size_t end = std::min(todo.size(), start + options.pairs_per_commit);
    std::vector<Matches> batch(end - start);
    std::vector<std::optional<PairScale>> new_scales(end - start);
    std::vector<double> reextract_scales(end - start, 0.0);
    size_t num_matches = 0, num_rescaled = 0;
    for (size_t i = start; i < end; ++i) {
      const auto [a, b] = todo[i];
      const ImageLevels& la = levels.at(a);
      const ImageLevels& lb = levels.at(b);
      const int na = NativeLevel(la.factors), nb = NativeLevel(lb.factors);
      std::optional<Matches> native;
      auto native_matches = [&]() -> const Matches& {
        if (!native) {
          const LevelDescriptors& da = cache.Get(a, la.ids[na]);
          const LevelDescriptors& db_ = cache.Get(b, lb.ids[nb]);
          native = ToMergedIndices(
              MatchNearestNeighbors(da.descriptors, db_.descriptors, options.nn), da, db_);
        }
        return *native;
      };

      // 1. s(A->B): cached, or estimated now.
      double scale = 1.0;
      if (!scale_options.Enabled()) {
        // estimator none: every pair matches its native levels, as stock matching does.
      } else if (auto cached = db.ReadPairScale(a, b, estimator)) {
        scale = cached->scale;
      } else {
        ScaleEstimate estimate =
            image_scales ? image_scales->Estimate(a, b)
                         : ScaleFromMatchedKeypoints(merged_keypoints(a), merged_keypoints(b),
                                                     native_matches());
        scale = estimate.scale;
        new_scales[i - start] = PairScale{estimator, scale, estimate.support};
      }

      // 2. SDAIM: match the levels that meet halfway, unless the scale change is small.
      Matches& matches = batch[i - start];
      if (std::abs(std::log2(scale)) < scale_options.min_log2_scale) {
        matches = native_matches();
      } else if (reextractor) {
        reextract_scales[i - start] = scale;  // done inside the write transaction below
        ++num_rescaled;
      } else {
        const LevelChoice choice = SelectLevelPair(scale, la.factors, lb.factors);
        if (choice.level_a == na && choice.level_b == nb) {
          matches = native_matches();
        } else {
          const LevelDescriptors& da = cache.Get(a, la.ids[choice.level_a]);
          const LevelDescriptors& db_ = cache.Get(b, lb.ids[choice.level_b]);
          matches = ToMergedIndices(
              MatchNearestNeighbors(da.descriptors, db_.descriptors, options.nn), da, db_);
          if (scale_options.keep_native) AppendUnmatched(native_matches(), &matches);
          ++num_rescaled;
        }
      }
    }
    Database::Transaction transaction(&db);
    for (size_t i = start; i < end; ++i) {
      const auto [a, b] = todo[i];
      if (reextract_scales[i - start] > 0) {
        batch[i - start] =
            reextractor->Match(&db, a, b, reextract_scales[i - start], options.nn, device);
        if (scale_options.keep_native) {
          const LevelDescriptors& da =
              cache.Get(a, levels.at(a).ids[NativeLevel(levels.at(a).factors)]);
          const LevelDescriptors& db_ =
              cache.Get(b, levels.at(b).ids[NativeLevel(levels.at(b).factors)]);
          AppendUnmatched(
              ToMergedIndices(MatchNearestNeighbors(da.descriptors, db_.descriptors, options.nn),
                              da, db_),
              &batch[i - start]);
        }
        keypoints.erase(a);
        keypoints.erase(b);
      }
      num_matches += batch[i - start].size();
      db.WriteMatches(a, b, batch[i - start]);
      if (new_scales[i - start]) db.WritePairScale(a, b, *new_scales[i - start]);
    }
    transaction.Commit();
    summary.num_matched += end - start;
    num_rescaled_total += num_rescaled;
    progress.Step(StringPrintf("(%.0f matches/pair, %zu rescaled)",
                               double(num_matches) / (end - start), num_rescaled),
                  end - start);
  }
  LogInfo(
      StringPrintf("%zu of %zu pairs matched at rescaled levels", num_rescaled_total, todo.size()));
  summary.matching_seconds = timer.ElapsedSeconds();
  return summary;
}

MatchingSummary RunScaleAwareMatching(const std::string& database_path,
                                      const MatchingOptions& options,
                                      const ScaleMatchingOptions& scale_options,
                                      const VerificationOptions& verification,
                                      const ColmapRunner& colmap) {
  scale_options.Check();
  return RunMatcher(
      database_path, options, verification, colmap,
      options.pair_list.empty() ? "Exhaustive feature matching" : "Feature matching from pair list",
      [&](const ImagePairs& pairs) {
        return RunScaleAwareRawMatching(database_path, pairs, options, scale_options);
      });
}

}  // namespace scalesfm
