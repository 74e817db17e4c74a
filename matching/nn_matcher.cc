#include "matching/nn_matcher.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <unordered_map>

#include "feature/image_io.h"
#include "feature/multilevel_extraction.h"
#include "matching/level_selection.h"
#include "util/logging.h"

namespace scalesfm {
namespace {

// An image's keypoint list and descriptors as re-extraction grows them, written at WriteStaged.
struct GrowingImage {
  Keypoints keypoints;
  DescriptorsU8 descriptors;
  DescriptorsF32 float_descriptors;
  bool dirty = false;
};

// ScaleNet's way (--ScaleMatching.reextract 1): resize both images exactly, extract, match, and
// add the new keypoints to each image's list (joining existing keypoints where they coincide).
class Reextractor {
 public:
  Reextractor(const MatcherContext& context)
      : context_(context),
        options_(context.config->extraction),
        extractor_(FeatureExtractor::Create(options_)) {
    for (const Image& image : *context.images) names_[image.image_id] = image.name;
  }

  // Matches in merged indices; the new keypoints are staged for WriteStaged.
  Matches Match(image_t a, image_t b, double scale) {
    const double fa = std::sqrt(scale), fb = 1.0 / std::sqrt(scale);
    const MultiLevelFeatures fa_features = Extract(a, fa);
    const MultiLevelFeatures fb_features = Extract(b, fb);
    const Matches local = MatchNearestNeighbors(ToTensor(fa_features), ToTensor(fb_features),
                                                context_.config->matching.nn);
    const std::vector<point2D_t> ia = Append(a, fa_features);
    const std::vector<point2D_t> ib = Append(b, fb_features);
    Matches out;
    out.reserve(local.size());
    for (const scalesfm::Match& m : local) out.push_back({ia[m.idx1], ib[m.idx2]});
    return out;
  }

  void WriteStaged(Database* db) {
    for (auto& [id, image] : images_) {
      if (!image.dirty) continue;
      if (Learned()) {
        db->WriteFloatDescriptors(id, image.float_descriptors);
        // COLMAP's table keeps a (column-less) row per keypoint, as extraction writes it.
        db->WriteDescriptors(id,
                             DescriptorsU8(static_cast<Eigen::Index>(image.keypoints.size()), 0));
      } else {
        db->WriteDescriptors(id, image.descriptors);
      }
      db->WriteKeypoints(id, image.keypoints);
      image.dirty = false;
    }
    images_.clear();  // written: read from the database again when next needed
  }

 private:
  bool Learned() const { return options_.IsLearned(); }

  torch::Tensor ToTensor(const MultiLevelFeatures& f) const {
    return Learned() ? DescriptorsToTensor(f.float_descriptors, context_.device)
                     : DescriptorsToTensor(f.descriptors, context_.device);
  }

  MultiLevelFeatures Extract(image_t id, double factor) {
    const std::string path =
        (std::filesystem::path(context_.config->image_path) / names_.at(id)).string();
    std::string error;
    const cv::Mat image = ReadImage(path, extractor_->InputChannels(), &error);
    if (image.empty()) throw Error("re-extraction: " + path + ": " + error);
    // Stay within max_image_size, as every level does.
    const double max_factor = double(options_.max_image_size) / std::max(image.cols, image.rows);
    return ExtractLevels(extractor_.get(), image, {std::min(factor, max_factor)},
                         options_.MergeOptions());
  }

  GrowingImage& Growing(image_t id) {
    auto it = images_.find(id);
    if (it != images_.end()) return it->second;
    GrowingImage& image = images_[id];
    image.keypoints = context_.db->ReadKeypoints(id);
    if (Learned()) {
      image.float_descriptors = context_.db->ReadFloatDescriptors(id);
    } else {
      image.descriptors = context_.db->ReadDescriptors(id);
    }
    return image;
  }

  // Existing keypoints first, so they keep their indices; returns the index of every new one.
  std::vector<point2D_t> Append(image_t id, const MultiLevelFeatures& features) {
    GrowingImage& image = Growing(id);
    std::vector<LevelKeypoints> levels(2);
    levels[0].keypoints = image.keypoints;
    levels[1].keypoints = features.keypoints;
    const size_t before = image.keypoints.size();
    MergedKeypoints merged = MergeLevelKeypoints(levels, options_.MergeOptions());
    if (merged.keypoints.size() > before) {
      if (Learned()) {
        image.float_descriptors =
            Grown(image.float_descriptors, features.float_descriptors, merged, before);
      } else {
        image.descriptors = Grown(image.descriptors, features.descriptors, merged, before);
      }
      image.keypoints = std::move(merged.keypoints);
      image.dirty = true;
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

  MatcherContext context_;
  const ExtractionOptions& options_;
  std::unique_ptr<FeatureExtractor> extractor_;
  std::unordered_map<image_t, std::string> names_;
  std::map<image_t, GrowingImage> images_;
};

class NnMatcher : public PairMatcher {
 public:
  explicit NnMatcher(const MatcherContext& context) : context_(context) {
    const ScaleMatchingOptions& scale = context.config->scale;
    if (scale.reextract) reextractor_ = std::make_unique<Reextractor>(context);
  }

  Matches Match(const PairTask& task) override {
    if (!task.rescale) return task.native();
    Matches matches;
    if (reextractor_) {
      matches = reextractor_->Match(task.a, task.b, task.scale);
    } else {
      LevelMatcher& levels = *context_.levels;
      const ImageLevels& la = levels.Levels(task.a);
      const ImageLevels& lb = levels.Levels(task.b);
      const LevelChoice choice = SelectLevelPair(task.scale, la.factors, lb.factors);
      if (choice.level_a == la.native && choice.level_b == lb.native) return task.native();
      matches = levels.Match(task.a, choice.level_a, task.b, choice.level_b);
    }
    if (context_.config->scale.keep_native) AppendUnmatched(task.native(), &matches);
    ++num_rescaled_batch_;
    return matches;
  }

  void WriteStaged(Database* db) override {
    if (reextractor_) reextractor_->WriteStaged(db);
  }

  std::string BatchNote() override {
    num_rescaled_ += num_rescaled_batch_;
    const std::string note = StringPrintf("%zu rescaled", num_rescaled_batch_);
    num_rescaled_batch_ = 0;
    return note;
  }

  std::string FinalNote() override {
    return StringPrintf("%zu pairs matched at rescaled levels%s", num_rescaled_,
                        reextractor_ ? " (exact re-extraction)" : "");
  }

 private:
  MatcherContext context_;
  std::unique_ptr<Reextractor> reextractor_;
  size_t num_rescaled_batch_ = 0, num_rescaled_ = 0;
};

}  // namespace

std::unique_ptr<PairMatcher> CreateNnMatcher(const MatcherContext& context) {
  return std::make_unique<NnMatcher>(context);
}

}  // namespace scalesfm
