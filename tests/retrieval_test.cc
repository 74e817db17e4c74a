// Image retrieval (retrieval/) and the pair sources that use it: vocab_tree_matcher's retrieval
// pairs and sequential_matcher's overlap and loop pairs (matching/sequential_pairs.h).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <set>

#include "colmap_ext/database.h"
#include "feature/extraction_pipeline.h"
#include "matching/matching_controller.h"
#include "matching/sequential_pairs.h"
#include "retrieval/image_retrieval.h"
#include "retrieval/visual_vocabulary.h"
#include "tests/test_util.h"
#include "util/logging.h"

namespace scalesfm {
namespace {

namespace fs = std::filesystem;

// Four well-separated clusters of 100 points in 16 dimensions.
std::vector<float> ClusteredPoints(std::vector<int>* cluster) {
  std::mt19937 rng(3);
  std::normal_distribution<float> noise(0.0f, 0.05f);
  std::vector<float> points;
  for (int i = 0; i < 400; ++i) {
    const int c = i % 4;
    cluster->push_back(c);
    for (int d = 0; d < 16; ++d) points.push_back((d % 4 == c ? 1.0f : 0.0f) + noise(rng));
  }
  return points;
}

TEST(VisualVocabulary, KMeansFindsTheClustersAndRoundTrips) {
  std::vector<int> cluster;
  const std::vector<float> points = ClusteredPoints(&cluster);
  VocabularyOptions options;
  options.num_visual_words = 4;
  const VisualVocabulary vocabulary = VisualVocabulary::Build(points, 16, options);
  ASSERT_EQ(vocabulary.num_words(), 4);
  const std::vector<int> words = vocabulary.Assign(points.data(), 400);
  std::map<int, std::set<int>> words_of_cluster;
  for (int i = 0; i < 400; ++i) words_of_cluster[cluster[size_t(i)]].insert(words[size_t(i)]);
  std::set<int> distinct;
  for (const auto& [c, w] : words_of_cluster) {
    EXPECT_EQ(w.size(), 1u) << "cluster " << c << " split over words";
    distinct.insert(*w.begin());
  }
  EXPECT_EQ(distinct.size(), 4u);

  const std::string dir = test::MakeTempDir("vocabulary");
  vocabulary.Write(dir + "/v.bin");
  const VisualVocabulary read = VisualVocabulary::Read(dir + "/v.bin");
  EXPECT_EQ(read.centroids(), vocabulary.centroids());
  EXPECT_EQ(read.Assign(points.data(), 400), words);

  // Too few points for the words asked: fewer words, at least kMinPointsPerWord points each.
  options.num_visual_words = 1000;
  EXPECT_EQ(VisualVocabulary::Build(points, 16, options).num_words(),
            400 / VisualVocabulary::kMinPointsPerWord);
}

TEST(VisualVocabulary, DamagedFilesAreClearErrors) {
  std::vector<int> cluster;
  VocabularyOptions options;
  options.num_visual_words = 4;
  const std::string dir = test::MakeTempDir("vocabulary");
  VisualVocabulary::Build(ClusteredPoints(&cluster), 16, options).Write(dir + "/v.bin");
  const auto expect_error = [](const std::string& path, const std::string& what) {
    try {
      VisualVocabulary::Read(path);
      ADD_FAILURE() << path << " was read";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  };
  fs::copy_file(dir + "/v.bin", dir + "/short.bin");
  fs::resize_file(dir + "/short.bin", fs::file_size(dir + "/v.bin") - 5);
  expect_error(dir + "/short.bin", "corrupt");
  std::ofstream(dir + "/other.bin") << "not a vocabulary at all, but long enough to read a header";
  expect_error(dir + "/other.bin", "not a scalesfm vocabulary");
  expect_error(dir + "/missing.bin", "cannot open");
  EXPECT_FALSE(fs::exists(dir + "/v.bin.tmp"));
}

// COLMAP 3.8's rule: image i with i+k for k < overlap and, quadratic, i+2^k for k < overlap.
std::set<std::pair<int, int>> ExpectedOffsets(int n, int overlap, bool quadratic) {
  std::set<std::pair<int, int>> pairs;
  for (int i = 0; i < n; ++i) {
    for (int k = 1; k < overlap; ++k) {
      if (i + k < n) pairs.emplace(i, i + k);
    }
    for (int k = 0; quadratic && k < overlap && i + k < n; ++k) {
      if (i + (1 << k) < n) pairs.emplace(i, i + (1 << k));
    }
  }
  return pairs;
}

TEST(SequentialPairs, FollowNameOrderOverlapAndQuadraticOverlap) {
  // Ids in a shuffled order: the capture order is the name order.
  std::vector<Image> images;
  const int n = 40;
  for (int i = 0; i < n; ++i) {
    images.push_back({image_t((i * 17) % n + 1), StringPrintf("frame%03d.jpg", i), 1});
  }
  std::shuffle(images.begin(), images.end(), std::mt19937(5));
  const std::vector<Image> ordered = ImagesInNameOrder(images);
  std::map<image_t, int> position;
  for (int i = 0; i < n; ++i) position[ordered[size_t(i)].image_id] = i;
  for (int overlap : {1, 3, 10}) {
    for (bool quadratic : {false, true}) {
      SequentialMatchingOptions options;
      options.overlap = overlap;
      options.quadratic_overlap = quadratic;
      std::set<std::pair<int, int>> got;
      for (const auto& [a, b] : SequentialOverlapPairs(ordered, options)) {
        EXPECT_TRUE(got.emplace(position[a], position[b]).second) << "pair twice";
      }
      EXPECT_EQ(got, ExpectedOffsets(n, overlap, quadratic))
          << "overlap " << overlap << " quadratic " << quadratic;
    }
  }
}

// The 16 real image pairs of ../shared/data/homography (scale changes up to extreme zooms) in
// one database: each image's GT partner is the other image of its pair, and the other 30 images
// are distractors. (Synthetic scenes cannot serve: their fractal textures give every image nearly
// the same bag of words, 0.95 cosine across scenes.)
class RetrievalScenes : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const std::string shared = test::SharedDataDir();
    if (shared.empty() || !fs::is_directory(shared + "/homography")) return;
    dir_ = new std::string(test::MakeTempDir("retrieval"));
    for (const auto& entry : fs::directory_iterator(shared + "/homography")) {
      if (!fs::exists(entry.path() / "A.jpg")) continue;
      const fs::path scene = fs::path(*dir_) / "images" / entry.path().filename();
      fs::create_directories(scene);
      for (const char* name : {"A.jpg", "B.jpg"}) {
        fs::create_symlink(entry.path() / name, scene / name);
      }
    }
    ExtractionOptions extraction;
    extraction.max_image_size = 800;
    SetQuiet(true);
    RunFeatureExtraction(*dir_ + "/database.db", *dir_ + "/images", ImageReaderOptions(),
                         extraction);
    SetQuiet(false);
  }
  void SetUp() override {
    if (dir_ == nullptr) GTEST_SKIP() << "../shared/data/homography is not there";
  }
  static std::string Scene(const std::string& name) { return name.substr(0, name.find('/')); }
  static std::string* dir_;
};
std::string* RetrievalScenes::dir_ = nullptr;

TEST_F(RetrievalScenes, ImagesRetrieveTheirGtPartnerAmongDistractors) {
  Database db(*dir_ + "/database.db");
  const std::vector<Image> images = db.ReadAllImages();
  ASSERT_EQ(images.size(), 32u);
  std::map<image_t, Image> by_id;
  for (const Image& image : images) by_id[image.image_id] = image;
  VocabTreeMatchingOptions options;
  options.num_images = 3;
  options.vocabulary.num_visual_words = 1024;
  SetQuiet(true);
  const VisualVocabulary vocabulary = BuildVocabulary(db, true, options.vocabulary);
  const std::vector<RetrievalResult> results = RetrieveImages(db, vocabulary, options);
  SetQuiet(false);
  ASSERT_EQ(results.size(), 32u);
  std::set<std::string> found;  // scenes whose pair is among the retrieval pairs
  for (const RetrievalResult& result : results) {
    const Image& query = by_id[result.query];
    ASSERT_EQ(result.partners.size(), 3u) << query.name;
    for (size_t i = 0; i < result.partners.size(); ++i) {
      EXPECT_NE(result.partners[i].first, result.query);
      if (i > 0) {
        EXPECT_GE(result.partners[i - 1].second, result.partners[i].second);
      }
      if (Scene(by_id[result.partners[i].first].name) == Scene(query.name)) {
        found.insert(Scene(query.name));
      }
    }
  }
  // By chance 3 of 31 partners would find about 3 of the 16 pairs.
  EXPECT_GE(found.size(), 14u);
  EXPECT_TRUE(found.count("ExtremeZoom")) << "the extreme zoom pair is not retrieved";
  // The same query twice gives the same partners (deterministic), and pairs are unique.
  SetQuiet(true);
  const std::vector<RetrievalResult> again = RetrieveImages(db, vocabulary, options);
  SetQuiet(false);
  for (size_t i = 0; i < results.size(); ++i) EXPECT_EQ(again[i].partners, results[i].partners);
  const auto pairs = RetrievalPairs(results);
  const std::set<std::pair<image_t, image_t>> unique(pairs.begin(), pairs.end());
  EXPECT_EQ(unique.size(), pairs.size());
}

TEST_F(RetrievalScenes, MatchListQueriesOnlyItsImagesAndUnknownNamesAreClearErrors) {
  Database db(*dir_ + "/database.db");
  VocabTreeMatchingOptions options;
  options.num_images = 2;
  options.vocabulary.num_visual_words = 256;
  options.match_list_path = *dir_ + "/queries.txt";
  std::ofstream(options.match_list_path) << "# queries\nBoston/A.jpg\r\n\nEiffel/B.jpg\n";
  SetQuiet(true);
  const VisualVocabulary vocabulary = BuildVocabulary(db, true, options.vocabulary);
  const std::vector<RetrievalResult> results = RetrieveImages(db, vocabulary, options);
  SetQuiet(false);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].query, db.ReadImageWithName("Boston/A.jpg")->image_id);
  EXPECT_EQ(results[1].query, db.ReadImageWithName("Eiffel/B.jpg")->image_id);
  std::ofstream(options.match_list_path) << "Boston/A.jpg\nnot_there.jpg\n";
  try {
    RetrieveImages(db, vocabulary, options);
    FAIL() << "an unknown image was queried";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("queries.txt:2: image 'not_there.jpg'"), std::string::npos)
        << e.what();
  }
}

TEST_F(RetrievalScenes, SequentialLoopDetectionAddsRetrievalPairsOfEveryPeriodthImage) {
  Database db(*dir_ + "/database.db");
  PairingOptions pairing;
  pairing.source = "sequential";
  pairing.sequential.overlap = 2;
  pairing.sequential.quadratic_overlap = false;
  pairing.sequential.loop_detection = true;
  pairing.sequential.loop_detection_period = 4;
  pairing.sequential.loop_detection_num_images = 3;
  pairing.vocab_tree.vocabulary.num_visual_words = 256;
  SetQuiet(true);
  const ImagePairs pairs = SelectPairs(db, pairing);
  SetQuiet(false);
  const std::vector<Image> ordered = ImagesInNameOrder(db.ReadAllImages());
  std::map<image_t, size_t> position;
  for (size_t i = 0; i < ordered.size(); ++i) position[ordered[i].image_id] = i;
  size_t loop = 0;
  for (const auto& [a, b] : pairs) {
    const size_t pa = position[a], pb = position[b];
    if (std::max(pa, pb) - std::min(pa, pb) == 1) continue;  // overlap pair
    ++loop;
    // A loop pair has a query (every 4th image) at one end.
    EXPECT_TRUE(pa % 4 == 0 || pb % 4 == 0) << pa << " " << pb;
  }
  EXPECT_GT(loop, 0u);
  EXPECT_LE(loop, 8u * 3u);
  EXPECT_EQ(pairs.size() - loop, ordered.size() - 1);
}

TEST_F(RetrievalScenes, VocabTreeMatcherMatchesTheRetrievalPairsAndResumes) {
  if (!test::HaveColmap()) GTEST_SKIP() << "colmap is not installed";
  const std::string db_path = *dir_ + "/matched.db";
  fs::copy_file(*dir_ + "/database.db", db_path, fs::copy_options::overwrite_existing);
  const std::string vocab = *dir_ + "/vocab.bin";
  const std::string command = test::ScalesfmBinary() + " vocab_tree_matcher --database_path " +
                              db_path + " --VocabTreeMatching.num_images 3" +
                              " --VocabTreeMatching.num_visual_words 256" +
                              " --VocabTreeMatching.vocab_tree_path " + vocab;
  std::string log;
  ASSERT_EQ(test::RunCommand(command, &log), 0) << log;
  EXPECT_TRUE(fs::exists(vocab)) << "a new vocabulary path is written";
  Database db(db_path);
  VocabTreeMatchingOptions options;
  options.num_images = 3;
  SetQuiet(true);
  const auto expected = RetrievalPairs(RetrieveImages(db, VisualVocabulary::Read(vocab), options));
  SetQuiet(false);
  std::set<image_pair_t> matched;
  for (image_pair_t id : db.ReadMatchedPairIds()) matched.insert(id);
  std::set<image_pair_t> wanted;
  for (const auto& [a, b] : expected) wanted.insert(ImagePairToPairId(a, b));
  EXPECT_EQ(matched, wanted);
  EXPECT_GT(db.NumTwoViewGeometries(), 0u);
  // A second run reads the written vocabulary and finds every pair done.
  ASSERT_EQ(test::RunCommand(command, &log), 0) << log;
  EXPECT_NE(log.find("Skipping " + std::to_string(wanted.size()) + " pairs"), std::string::npos)
      << log;
}

}  // namespace
}  // namespace scalesfm
