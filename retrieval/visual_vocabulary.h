// A flat visual vocabulary for image retrieval: k-means centroids of local descriptors (FAISS
// k-means), and the nearest-centroid assignment of descriptors to visual words (FAISS exact L2
// search). Built on the user's own collection, so retrieval needs no download.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace faiss {
struct IndexFlatL2;
}

namespace scalesfm {

// vocab_tree_builder's flags (COLMAP's names where COLMAP has the option).
struct VocabularyOptions {
  int num_visual_words = 4096;
  int num_iterations = 10;  // k-means iterations
  // Descriptors sampled for k-means, per visual word (FAISS's max_points_per_centroid).
  int max_points_per_word = 64;
  int seed = 1;

  void Check() const;
};

class VisualVocabulary {
 public:
  static constexpr int kMinPointsPerWord = 8;

  VisualVocabulary();
  ~VisualVocabulary();
  VisualVocabulary(VisualVocabulary&&) noexcept;
  VisualVocabulary& operator=(VisualVocabulary&&) noexcept;

  // k-means on the rows (`dim` floats each). A small collection gets fewer words, at least
  // kMinPointsPerWord rows per word (logged). Throws Error when there are no rows.
  static VisualVocabulary Build(const std::vector<float>& descriptors, int dim,
                                const VocabularyOptions& options);

  // The file format is scalesfm's: a header ("scalesfm-vocabulary", version, dim, words) and the
  // centroids as little-endian floats. Read throws Error naming the file when it is missing,
  // truncated, of another format or holds a non-finite centroid; Write goes through a temporary
  // file and a rename, so a failed write leaves no partial vocabulary.
  static VisualVocabulary Read(const std::string& path);
  void Write(const std::string& path) const;

  int dim() const { return dim_; }
  int num_words() const { return num_words_; }
  const std::vector<float>& centroids() const { return centroids_; }

  // The nearest word of each of `num` rows of dim() floats.
  std::vector<int> Assign(const float* descriptors, size_t num) const;

 private:
  void MakeIndex();

  int dim_ = 0;
  int num_words_ = 0;
  std::vector<float> centroids_;
  std::unique_ptr<faiss::IndexFlatL2> index_;
};

}  // namespace scalesfm
