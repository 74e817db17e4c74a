#include "matching/pairs.h"

#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "tests/test_util.h"
#include "util/logging.h"

namespace scalesfm {
namespace {

std::vector<Image> MakeImages(int n) {
  std::vector<Image> images;
  for (int i = 1; i <= n; ++i) images.push_back({static_cast<image_t>(i), std::to_string(i), 1});
  return images;
}

TEST(Pairs, ExhaustiveCoversEveryPairOnceForAnyBlockSize) {
  for (size_t block : {1, 3, 4, 100}) {
    const ImagePairs pairs = ExhaustivePairs(MakeImages(10), block);
    std::set<image_pair_t> ids;
    for (const auto& [a, b] : pairs) {
      EXPECT_LT(a, b);
      ids.insert(ImagePairToPairId(a, b));
    }
    EXPECT_EQ(pairs.size(), 45u) << block;
    EXPECT_EQ(ids.size(), 45u) << block;
  }
}

TEST(Pairs, PairListResolvesNamesAndRejectsUnknownOnes) {
  const std::string dir = test::MakeTempDir("pairs");
  Database db(dir + "/database.db");
  const camera_t cam = db.WriteCamera(MakeDefaultCamera("PINHOLE", 10, 10, 12, false));
  const image_t a = db.WriteImage({kInvalidImageId, "a.png", cam});
  const image_t b = db.WriteImage({kInvalidImageId, "b.png", cam});
  std::ofstream(dir + "/good.txt") << "# comment\na.png b.png\n\nb.png a.png\n";
  const ImagePairs pairs = ReadPairList(dir + "/good.txt", db);
  ASSERT_EQ(pairs.size(), 2u);
  EXPECT_EQ(pairs[0], std::make_pair(a, b));
  std::ofstream(dir + "/bad.txt") << "a.png c.png\n";
  try {
    ReadPairList(dir + "/bad.txt", db);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("c.png"), std::string::npos);
  }
}

}  // namespace
}  // namespace scalesfm
