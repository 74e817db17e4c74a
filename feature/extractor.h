// The feature-extractor interface. Methods register by name in one table (extractor.cc), each
// with its options mapped 1:1 to --Extraction.* flags.
#pragma once

#include <functional>
#include <memory>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "colmap_ext/types.h"
#include "feature/keypoint_merge.h"

namespace scalesfm {

struct ExtractionOptions {
  std::string type = "sift";
  int max_num_features = 8192;
  // Images are downscaled so that max(width, height) <= max_image_size (COLMAP's default).
  int max_image_size = 3200;
  int num_threads = -1;  // -1: all cores
  // SIFT (OpenCV). The contrast threshold 0.02 equals COLMAP's peak_threshold 0.02/3 once
  // OpenCV divides it by the 3 layers per octave.
  double sift_contrast_threshold = 0.02;
  double sift_edge_threshold = 10.0;
  // Descriptor normalisation, as COLMAP's SiftExtraction.normalization: "l1_root" (RootSIFT,
  // the default) or "l2" (plain SIFT). Both are quantised round(512 v), clamped to 255.
  std::string sift_normalization = "l1_root";
  std::string device = "auto";
  // SCFeat (feature/scfeat_extractor.h): weights (empty: models/scfeat_compact.pt), NMS size N
  // and score threshold epsilon_s of Sec. III-E.
  std::string scfeat_weights;
  int scfeat_nms_size = 3;
  double scfeat_score_threshold = 0.0;
  // Scale levels (feature/scale_levels.h): "auto", "1" or a list of factors; and how keypoints
  // found at several levels are merged (feature/keypoint_merge.h).
  std::string levels = "auto";
  double merge_radius = 1.5;
  double merge_max_log2_scale = 0.5;

  void Check() const;  // throws Error
  int EffectiveNumThreads() const;
  // Learned extractors run one image at a time (LibTorch threads inside) and, for now, at a
  // single level: levels "auto" means "1" for them.
  bool IsLearned() const;  // the type's traits: float descriptors
  std::vector<double> LevelFactors() const;
  KeypointMergeOptions MergeOptions() const;
};

// Keypoints in COLMAP's pixel convention on the image as passed in; descriptors one per row.
struct FeatureSet {
  Keypoints keypoints;
  DescriptorsU8 descriptors;         // SIFT
  DescriptorsF32 float_descriptors;  // learned extractors (descriptors then has 0 columns)
};

// What a feature type is, from its registry entry.
struct ExtractorTraits {
  // Keypoints carry the detector's scale in their affine shape (SIFT); learned detectors' do not.
  bool keypoints_carry_scale = true;
  // Descriptors are float rows in scalesfm_float_descriptors (learned) rather than COLMAP's uint8.
  bool float_descriptors = false;
  // Matcher flags ("Section.option", value) that suit this type, taken by every matcher command
  // unless the user sets the flag: what a database of this type is matched with by default.
  std::vector<std::pair<std::string, std::string>> matching_defaults;
};

class Database;

// The feature type of `db`'s features: from scalesfm_feature_types, or for databases written
// before that table, "the float-descriptor type" when an image has float descriptors and "sift"
// otherwise. Throws Error when images of one database have different types.
std::string ReadFeatureType(const Database& db);

class FeatureExtractor {
 public:
  virtual ~FeatureExtractor() = default;
  // The image Extract takes: 1 = 8-bit grey, 3 = 8-bit RGB (feature/image_io.h ReadImage).
  virtual int InputChannels() const { return 1; }
  // `image` is 8-bit with InputChannels() channels.
  virtual FeatureSet Extract(const cv::Mat& image) = 0;

  // Creates the extractor named by options.type; throws Error listing the known names.
  static std::unique_ptr<FeatureExtractor> Create(const ExtractionOptions& options);
  static const ExtractorTraits& Traits(const std::string& type);  // throws for unknown types
  static std::vector<std::string> Names();
};

}  // namespace scalesfm
