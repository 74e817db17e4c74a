#include "retrieval/visual_vocabulary.h"

#include <faiss/Clustering.h>
#include <faiss/IndexFlat.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "util/logging.h"

namespace scalesfm {
namespace {

constexpr char kMagic[] = "scalesfm-vocabulary";
constexpr uint32_t kVersion = 1;

}  // namespace

void VocabularyOptions::Check() const {
  if (num_visual_words < 1) throw Error("--num_visual_words must be positive");
  if (num_iterations < 1) throw Error("--num_iterations must be positive");
  if (max_points_per_word < VisualVocabulary::kMinPointsPerWord) {
    throw Error(StringPrintf("--max_points_per_word must be at least %d",
                             VisualVocabulary::kMinPointsPerWord));
  }
}

VisualVocabulary::VisualVocabulary() = default;
VisualVocabulary::~VisualVocabulary() = default;
VisualVocabulary::VisualVocabulary(VisualVocabulary&&) noexcept = default;
VisualVocabulary& VisualVocabulary::operator=(VisualVocabulary&&) noexcept = default;

void VisualVocabulary::MakeIndex() {
  index_ = std::make_unique<faiss::IndexFlatL2>(dim_);
  index_->add(num_words_, centroids_.data());
}

VisualVocabulary VisualVocabulary::Build(const std::vector<float>& descriptors, int dim,
                                         const VocabularyOptions& options) {
  options.Check();
  if (dim <= 0 || descriptors.empty() || descriptors.size() % size_t(dim) != 0) {
    throw Error("cannot build a visual vocabulary: no descriptors");
  }
  const size_t num = descriptors.size() / size_t(dim);
  const size_t words = std::max<size_t>(
      1, std::min<size_t>(options.num_visual_words, num / size_t(kMinPointsPerWord)));
  if (words < size_t(options.num_visual_words)) {
    LogInfo(
        StringPrintf("Vocabulary: %zu descriptors give %zu words (at least %d per word), not %d",
                     num, words, kMinPointsPerWord, options.num_visual_words));
  }
  faiss::ClusteringParameters params;
  params.niter = options.num_iterations;
  params.seed = options.seed;
  params.max_points_per_centroid = options.max_points_per_word;
  params.min_points_per_centroid = 1;  // small collections are expected: no FAISS warning
  faiss::Clustering clustering(dim, words, params);
  faiss::IndexFlatL2 assigner(dim);
  clustering.train(num, descriptors.data(), assigner);

  VisualVocabulary vocabulary;
  vocabulary.dim_ = dim;
  vocabulary.num_words_ = static_cast<int>(words);
  vocabulary.centroids_ = clustering.centroids;
  vocabulary.MakeIndex();
  return vocabulary;
}

VisualVocabulary VisualVocabulary::Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot open vocabulary " + path);
  char magic[sizeof(kMagic)] = {};
  uint32_t version = 0, dim = 0, words = 0;
  in.read(magic, sizeof(magic));
  in.read(reinterpret_cast<char*>(&version), sizeof(version));
  in.read(reinterpret_cast<char*>(&dim), sizeof(dim));
  in.read(reinterpret_cast<char*>(&words), sizeof(words));
  if (!in || std::memcmp(magic, kMagic, sizeof(kMagic)) != 0) {
    throw Error("vocabulary " + path +
                " is not a scalesfm vocabulary (build one with `scalesfm vocab_tree_builder`; "
                "COLMAP's FLANN trees are not read)");
  }
  if (version != kVersion) {
    throw Error(StringPrintf("vocabulary %s has version %u; this scalesfm reads version %u",
                             path.c_str(), version, kVersion));
  }
  if (dim == 0 || dim > 4096 || words == 0 || words > (1u << 24)) {
    throw Error(StringPrintf("vocabulary %s is corrupt: %u words of %u dimensions", path.c_str(),
                             words, dim));
  }
  VisualVocabulary vocabulary;
  vocabulary.dim_ = static_cast<int>(dim);
  vocabulary.num_words_ = static_cast<int>(words);
  vocabulary.centroids_.resize(size_t(dim) * words);
  in.read(reinterpret_cast<char*>(vocabulary.centroids_.data()),
          std::streamsize(vocabulary.centroids_.size() * sizeof(float)));
  if (!in || in.peek() != std::char_traits<char>::eof()) {
    throw Error("vocabulary " + path + " is corrupt: its size does not match its header");
  }
  for (float v : vocabulary.centroids_) {
    if (!std::isfinite(v)) throw Error("vocabulary " + path + " is corrupt: non-finite centroid");
  }
  vocabulary.MakeIndex();
  return vocabulary;
}

void VisualVocabulary::Write(const std::string& path) const {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    const uint32_t header[3] = {kVersion, uint32_t(dim_), uint32_t(num_words_)};
    out.write(kMagic, sizeof(kMagic));
    out.write(reinterpret_cast<const char*>(header), sizeof(header));
    out.write(reinterpret_cast<const char*>(centroids_.data()),
              std::streamsize(centroids_.size() * sizeof(float)));
    out.flush();
    if (!out) {
      std::error_code ignored;
      std::filesystem::remove(tmp, ignored);
      throw Error("cannot write vocabulary " + path + " (read-only folder or full disk?)");
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    throw Error("cannot write vocabulary " + path);
  }
}

std::vector<int> VisualVocabulary::Assign(const float* descriptors, size_t num) const {
  if (!index_) throw Error("the visual vocabulary is empty");
  std::vector<faiss::Index::idx_t> labels(num);
  if (num > 0) index_->assign(num, descriptors, labels.data());
  return std::vector<int>(labels.begin(), labels.end());
}

}  // namespace scalesfm
