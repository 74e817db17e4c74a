#include "retrieval/image_retrieval.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <unordered_map>

#include "util/logging.h"
#include "util/progress.h"

namespace scalesfm {
namespace {

// The rows of one bag: descriptors as unit float rows, row-major.
struct BagDescriptors {
  int level = -1;  // scalesfm_feature_levels level; -1: the image's COLMAP descriptors
  size_t rows = 0;
  int dim = 0;
  std::vector<float> data;
};

template <typename Matrix>
BagDescriptors ToUnitRows(const Matrix& m, int level, int max_rows) {
  BagDescriptors bag;
  bag.level = level;
  bag.dim = static_cast<int>(m.cols());
  const size_t n = static_cast<size_t>(m.rows());
  const size_t keep = max_rows > 0 ? std::min<size_t>(n, size_t(max_rows)) : n;
  bag.rows = keep;
  bag.data.resize(keep * size_t(bag.dim));
  for (size_t k = 0; k < keep; ++k) {
    const size_t r = keep == n ? k : k * n / keep;  // evenly over the rows
    float norm = 0;
    float* out = bag.data.data() + k * size_t(bag.dim);
    for (int c = 0; c < bag.dim; ++c) {
      out[c] = static_cast<float>(m(Eigen::Index(r), c));
      norm += out[c] * out[c];
    }
    norm = norm > 0 ? 1.0f / std::sqrt(norm) : 0.0f;
    for (int c = 0; c < bag.dim; ++c) out[c] *= norm;
  }
  return bag;
}

// The bags of one image: one per level (multi-level), or one from the native level.
std::vector<BagDescriptors> ReadBags(const Database& db, image_t image_id, bool multi_level,
                                     int max_num_features) {
  std::vector<BagDescriptors> bags;
  const std::vector<std::pair<int, double>> levels = db.ReadLevelFactors(image_id);
  if (levels.empty()) {
    if (db.ExistsFloatDescriptors(image_id)) {
      bags.push_back(ToUnitRows(db.ReadFloatDescriptors(image_id), -1, max_num_features));
    } else {
      bags.push_back(ToUnitRows(db.ReadDescriptors(image_id), -1, max_num_features));
    }
    return bags;
  }
  if (multi_level) {
    for (const auto& [level, factor] : levels) {
      bags.push_back(
          ToUnitRows(db.ReadFeatureLevel(image_id, level).descriptors, level, max_num_features));
    }
    return bags;
  }
  const auto native = std::min_element(levels.begin(), levels.end(), [](auto& a, auto& b) {
    return std::abs(std::log(a.second)) < std::abs(std::log(b.second));
  });
  bags.push_back(ToUnitRows(db.ReadFeatureLevel(image_id, native->first).descriptors, native->first,
                            max_num_features));
  return bags;
}

std::vector<image_t> ReadQueryList(const std::string& path, const Database& db) {
  std::ifstream in(path);
  if (!in) throw Error("cannot open --VocabTreeMatching.match_list_path " + path);
  std::vector<image_t> queries;
  std::string line;
  int line_number = 0;
  while (std::getline(in, line)) {
    ++line_number;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    const std::optional<Image> image = db.ReadImageWithName(line);
    if (!image) {
      throw Error(StringPrintf("%s:%d: image '%s' is not in the database", path.c_str(),
                               line_number, Printable(line).c_str()));
    }
    queries.push_back(image->image_id);
  }
  return queries;
}

}  // namespace

void VocabTreeMatchingOptions::Check() const {
  if (num_images < 1) throw Error("--VocabTreeMatching.num_images must be positive");
  if (max_num_features == 0 || max_num_features < -1) {
    throw Error("--VocabTreeMatching.max_num_features must be positive or -1 (all)");
  }
  if (min_num_features < 0) throw Error("--VocabTreeMatching.min_num_features must be >= 0");
  vocabulary.Check();
}

VisualVocabulary BuildVocabulary(const Database& db, bool multi_level,
                                 const VocabularyOptions& options) {
  options.Check();
  const std::vector<Image> images = db.ReadAllImages();
  if (images.empty()) throw Error("cannot build a visual vocabulary: the database has no images");
  const size_t target = size_t(options.num_visual_words) * size_t(options.max_points_per_word);
  const size_t per_image = (target + images.size() - 1) / images.size();
  std::vector<float> sample;
  int dim = 0;
  Progress progress("image", images.size());
  for (const Image& image : images) {
    std::vector<BagDescriptors> bags = ReadBags(db, image.image_id, multi_level, -1);
    size_t rows = 0;
    for (const BagDescriptors& bag : bags) {
      if (bag.rows == 0) continue;
      if (dim != 0 && bag.dim != dim) {
        throw Error(StringPrintf("image %s has %d-dimensional descriptors, others %d",
                                 image.name.c_str(), bag.dim, dim));
      }
      dim = bag.dim;
      rows += bag.rows;
    }
    // Every per_image-th share of the image's rows, evenly over its bags in order.
    const size_t keep = std::min(rows, per_image);
    size_t index = 0, next = 0, taken = 0;
    for (const BagDescriptors& bag : bags) {
      for (size_t r = 0; r < bag.rows && taken < keep; ++r, ++index) {
        if (index != next) continue;
        sample.insert(sample.end(), bag.data.begin() + r * size_t(dim),
                      bag.data.begin() + (r + 1) * size_t(dim));
        ++taken;
        next = taken * rows / keep;
      }
    }
    progress.Step("Sampled descriptors of " + image.name);
  }
  if (sample.empty()) throw Error("cannot build a visual vocabulary: no image has descriptors");
  Timer timer;
  VisualVocabulary vocabulary = VisualVocabulary::Build(sample, dim, options);
  LogInfo(StringPrintf("Vocabulary: %d words of %d dimensions from %zu descriptors (%.1fs)",
                       vocabulary.num_words(), dim, sample.size() / size_t(dim),
                       timer.ElapsedSeconds()));
  return vocabulary;
}

VisualVocabulary LoadOrBuildVocabulary(const Database& db,
                                       const VocabTreeMatchingOptions& options) {
  const std::string& path = options.vocab_tree_path;
  if (!path.empty() && std::filesystem::exists(path)) {
    VisualVocabulary vocabulary = VisualVocabulary::Read(path);
    LogInfo(StringPrintf("Vocabulary %s: %d words", path.c_str(), vocabulary.num_words()));
    return vocabulary;
  }
  LogInfo("Building a visual vocabulary on this collection");
  VisualVocabulary vocabulary = BuildVocabulary(db, options.multi_level, options.vocabulary);
  if (!path.empty()) {
    vocabulary.Write(path);
    LogInfo("Vocabulary written to " + path);
  }
  return vocabulary;
}

std::vector<RetrievalResult> RetrieveImages(const Database& db, const VisualVocabulary& vocabulary,
                                            const VocabTreeMatchingOptions& options,
                                            const std::vector<image_t>& queries_in) {
  options.Check();
  const std::vector<Image> images = db.ReadAllImages();
  const int num_words = vocabulary.num_words();
  // The queries first: a bad match list fails before the indexing work.
  std::vector<image_t> queries = queries_in;
  if (queries.empty() && !options.match_list_path.empty()) {
    queries = ReadQueryList(options.match_list_path, db);
  }
  if (queries.empty()) {
    for (const Image& image : images) queries.push_back(image.image_id);
  }

  // Bags of words: counts per word, then tf-idf weights, L2-normalised (cosine scores).
  std::vector<image_t> bag_image;
  std::vector<std::vector<std::pair<int, float>>> bag_words;
  std::unordered_map<image_t, std::vector<size_t>> bags_of_image;
  std::vector<float> document_frequency(size_t(num_words), 0.0f);
  {
    Progress progress("image", images.size());
    for (const Image& image : images) {
      std::vector<BagDescriptors> bags =
          ReadBags(db, image.image_id, options.multi_level, options.max_num_features);
      size_t largest = 0;
      for (size_t b = 0; b < bags.size(); ++b) {
        if (bags[b].rows > bags[largest].rows) largest = b;
      }
      for (size_t b = 0; b < bags.size(); ++b) {
        const BagDescriptors& bag = bags[b];
        if (bag.rows == 0) continue;
        if (b != largest && bag.rows < size_t(options.min_num_features)) continue;
        if (bag.dim != vocabulary.dim()) {
          throw Error(StringPrintf(
              "image %s has %d-dimensional descriptors but the vocabulary has %d: build the "
              "vocabulary on features of this type (scalesfm vocab_tree_builder)",
              image.name.c_str(), bag.dim, vocabulary.dim()));
        }
        std::map<int, float> counts;
        for (int word : vocabulary.Assign(bag.data.data(), bag.rows)) counts[word] += 1.0f;
        for (const auto& entry : counts) document_frequency[size_t(entry.first)] += 1.0f;
        bags_of_image[image.image_id].push_back(bag_words.size());
        bag_image.push_back(image.image_id);
        bag_words.emplace_back(counts.begin(), counts.end());
      }
      progress.Step("Indexed " + image.name);
    }
  }
  const size_t num_bags = bag_words.size();
  torch::Tensor weights = torch::zeros({int64_t(num_bags), num_words}, torch::kFloat32);
  {
    auto w = weights.accessor<float, 2>();
    for (size_t b = 0; b < num_bags; ++b) {
      double norm = 0;
      for (auto& [word, count] : bag_words[b]) {
        count *= std::log(float(num_bags) / document_frequency[size_t(word)]);
        norm += double(count) * count;
      }
      const float scale = norm > 0 ? float(1.0 / std::sqrt(norm)) : 0.0f;
      for (const auto& [word, value] : bag_words[b]) w[int64_t(b)][word] = value * scale;
    }
  }

  // Image score = the best bag-pair score; one matrix product per query image's bags.
  std::vector<RetrievalResult> results;
  results.reserve(queries.size());
  for (image_t query : queries) {
    RetrievalResult result;
    result.query = query;
    const auto it = bags_of_image.find(query);
    if (it != bags_of_image.end()) {
      const torch::Tensor rows =
          torch::tensor(std::vector<int64_t>(it->second.begin(), it->second.end()), torch::kInt64);
      const torch::Tensor scores =
          torch::mm(weights.index_select(0, rows), weights.t()).amax(0).contiguous();
      const float* s = scores.data_ptr<float>();
      std::unordered_map<image_t, float> best;
      for (size_t b = 0; b < num_bags; ++b) {
        if (bag_image[b] == query) continue;
        auto [entry, inserted] = best.emplace(bag_image[b], s[b]);
        if (!inserted) entry->second = std::max(entry->second, s[b]);
      }
      result.partners.assign(best.begin(), best.end());
      std::sort(result.partners.begin(), result.partners.end(), [](const auto& a, const auto& b) {
        return a.second != b.second ? a.second > b.second : a.first < b.first;
      });
      if (result.partners.size() > size_t(options.num_images)) {
        result.partners.resize(size_t(options.num_images));
      }
    }
    results.push_back(std::move(result));
  }
  return results;
}

std::vector<std::pair<image_t, image_t>> RetrievalPairs(
    const std::vector<RetrievalResult>& results) {
  std::vector<std::pair<image_t, image_t>> pairs;
  for (const RetrievalResult& result : results) {
    for (const auto& [partner, score] : result.partners) {
      pairs.emplace_back(std::min(result.query, partner), std::max(result.query, partner));
    }
  }
  std::sort(pairs.begin(), pairs.end());
  pairs.erase(std::unique(pairs.begin(), pairs.end()), pairs.end());
  return pairs;
}

}  // namespace scalesfm
