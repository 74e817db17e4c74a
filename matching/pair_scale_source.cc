#include "matching/pair_scale_source.h"

#include <algorithm>
#include <filesystem>
#include <unordered_map>

#include "feature/image_io.h"
#include "scale/gt_scale.h"
#include "scale/sift_vote.h"
#include "util/logging.h"

namespace scalesfm {
namespace {

class TrivialSource : public PairScaleSource {
 public:
  ScaleEstimate Estimate(image_t, image_t, const std::function<const Matches&()>&) override {
    return ScaleEstimate();
  }
};

// Votes of the pair's native-level matches with the stored keypoints' scales.
class KeypointVoteSource : public PairScaleSource {
 public:
  KeypointVoteSource(const Database* db, size_t capacity)
      : db_(db), capacity_(std::max<size_t>(2, capacity)) {}

  ScaleEstimate Estimate(image_t a, image_t b,
                         const std::function<const Matches&()>& native) override {
    const Matches& matches = native();
    point2D_t max_a = 0, max_b = 0;
    for (const scalesfm::Match& m : matches) {
      max_a = std::max(max_a, m.idx1);
      max_b = std::max(max_b, m.idx2);
    }
    // Room for both lists first: clearing the cache between the two lookups would free the list
    // `ka` refers to (a use after free that crashed a 400-image vocab_tree_matcher run).
    const size_t missing = size_t(!keypoints_.count(a)) + size_t(!keypoints_.count(b));
    if (keypoints_.size() + missing > capacity_) keypoints_.clear();
    const Keypoints& ka = StoredKeypoints(a, matches.empty() ? 0 : max_a + 1);
    const Keypoints& kb = StoredKeypoints(b, matches.empty() ? 0 : max_b + 1);
    return ScaleFromMatchedKeypoints(ka, kb, matches);
  }

 private:
  // Keypoint lists only grow by appending (re-extraction, S2DNet), so a list read earlier is a
  // prefix of today's; it is read again when a match indexes past it (`min_size`).
  const Keypoints& StoredKeypoints(image_t id, size_t min_size) {
    auto it = keypoints_.find(id);
    if (it != keypoints_.end() && it->second.size() >= min_size) return it->second;
    if (it != keypoints_.end()) return it->second = db_->ReadKeypoints(id);
    return keypoints_[id] = db_->ReadKeypoints(id);
  }

  const Database* db_;
  size_t capacity_;
  std::unordered_map<image_t, Keypoints> keypoints_;
};

// The estimator's two stages on the image files; each image's code is computed once.
class ImageCodeSource : public PairScaleSource {
 public:
  ImageCodeSource(const ScaleEstimatorOptions& options, const std::vector<Image>& images,
                  const std::string& image_path)
      : estimator_(ScaleEstimator::Create(options)), image_path_(image_path) {
    for (const Image& image : images) names_[image.image_id] = image.name;
  }

  ScaleEstimate Estimate(image_t a, image_t b, const std::function<const Matches&()>&) override {
    const std::shared_ptr<const ImageCode> ca = Code(a);
    const std::shared_ptr<const ImageCode> cb = Code(b);
    return estimator_->Estimate(*ca, *cb);
  }

 private:
  std::shared_ptr<const ImageCode> Code(image_t id) {
    auto it = codes_.find(id);
    if (it != codes_.end()) return it->second;
    const std::string path = (std::filesystem::path(image_path_) / names_.at(id)).string();
    try {
      return codes_[id] = estimator_->EncodeFile(path);
    } catch (const Error& e) {
      throw Error(std::string("scale estimation: ") + e.what());
    }
  }

  std::unique_ptr<ScaleEstimator> estimator_;
  std::string image_path_;
  std::unordered_map<image_t, std::string> names_;
  std::unordered_map<image_t, std::shared_ptr<const ImageCode>> codes_;
};

// The `gt` oracle: the pair's scale from the GT model's points both images see (ScaleNet eqs.
// 4-5); s = 1 when they share fewer than 10.
class GtModelSource : public PairScaleSource {
 public:
  GtModelSource(const std::string& gt_path, const std::vector<Image>& images)
      : gt_(Reconstruction::Read(gt_path)),
        gt_images_(GtImagesByDatabaseId(gt_, images, "--ScaleMatching.gt_path " + gt_path)) {}

  ScaleEstimate Estimate(image_t a, image_t b, const std::function<const Matches&()>&) override {
    size_t support = 0;
    const double s = GtPairScale(gt_, *gt_images_.at(a), *gt_images_.at(b), 10, &support);
    ScaleEstimate e;
    if (s > 0) {
      e.scale = s;
      e.bin = NearestScaleBin(s);
      e.support = support;
    }
    e.probs.assign(kNumScaleBins, 0.0);
    e.probs[e.bin] = 1.0;
    return e;
  }

 private:
  Reconstruction gt_;
  std::unordered_map<image_t, const ModelImage*> gt_images_;
};

}  // namespace

std::unique_ptr<PairScaleSource> MakeScaleSource(const ScaleEstimatorOptions& options,
                                                 const Database* db,
                                                 const std::vector<Image>& images,
                                                 const std::string& image_path,
                                                 bool keypoints_carry_scale, size_t cache_images) {
  const ScaleEstimatorTraits& traits = ScaleEstimator::Traits(options.estimator);
  if (traits.trivial) return std::make_unique<TrivialSource>();
  if (traits.reads_gt_model) return std::make_unique<GtModelSource>(options.gt_path, images);
  if (traits.votes_on_keypoint_scales && keypoints_carry_scale) {
    return std::make_unique<KeypointVoteSource>(db, cache_images);
  }
  if (image_path.empty()) {
    throw Error("--ScaleMatching.estimator " + options.estimator +
                (traits.votes_on_keypoint_scales
                     ? " on features whose keypoints carry no scale (learned features)"
                     : "") +
                " reads the images: pass --image_path");
  }
  return std::make_unique<ImageCodeSource>(options, images, image_path);
}

}  // namespace scalesfm
