// Choosing the initial pairs of mapper restarts, and reading COLMAP's mapper flags and log.
#include "pipeline/mapper_restarts.h"

#include <gtest/gtest.h>

#include "util/logging.h"

namespace scalesfm {
namespace {

using Graph = std::unordered_map<image_pair_t, size_t>;

void Add(Graph* graph, image_t a, image_t b, size_t inliers) {
  (*graph)[ImagePairToPairId(a, b)] = inliers;
}

// A chain 1-2-3-4-5 with a strong near side and image 6, seen by 4 and 5 (its two strongest
// partners, which share 400 inliers) and weakly by 2 (a false pair, say).
Graph ChainWithALeftOutImage() {
  Graph g;
  Add(&g, 1, 2, 3000);
  Add(&g, 2, 3, 2500);
  Add(&g, 3, 4, 900);
  Add(&g, 4, 5, 400);
  Add(&g, 2, 4, 1500);
  Add(&g, 4, 6, 120);
  Add(&g, 5, 6, 90);
  Add(&g, 2, 6, 40);
  Add(&g, 1, 7, 10);  // below min_num_matches: 7 is not registrable
  return g;
}

TEST(MapperRestarts, RegistrableImagesHaveAPairWithEnoughInliers) {
  EXPECT_EQ(RegistrableImages(ChainWithALeftOutImage(), 15), (std::set<image_t>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(RegistrableImages(ChainWithALeftOutImage(), 5).count(7), 1u);
}

TEST(MapperRestarts, StartsFromTheTwoStrongestPartnersOfTheLeftOutImage) {
  const std::vector<InitPair> pairs =
      RestartInitPairs(ChainWithALeftOutImage(), {1, 2, 3, 4, 5}, {}, 15, 100, 3);
  // Partners of 6 by inliers: 4 (120), 5 (90), 2 (40). Pairs by rank sum: (4,5) 400 inliers,
  // then (4,2) 1500, then (5,2) which has no verified pair.
  ASSERT_EQ(pairs.size(), 2u);
  EXPECT_EQ(pairs[0].image_id1, 4u);
  EXPECT_EQ(pairs[0].image_id2, 5u);
  EXPECT_EQ(pairs[0].num_inliers, 400u);
  EXPECT_EQ(pairs[1].image_id1, 2u);
  EXPECT_EQ(pairs[1].image_id2, 4u);
}

TEST(MapperRestarts, SkipsTriedAndWeakPairsAndStopsAtTheLimit) {
  const Graph g = ChainWithALeftOutImage();
  const std::set<image_t> registered = {1, 2, 3, 4, 5};
  // (4,5) was COLMAP's own initial pair: the next candidate comes first.
  std::vector<InitPair> pairs =
      RestartInitPairs(g, registered, {ImagePairToPairId(5, 4)}, 15, 100, 3);
  ASSERT_EQ(pairs.size(), 1u);
  EXPECT_EQ(pairs[0].image_id1, 2u);
  EXPECT_EQ(pairs[0].image_id2, 4u);
  // COLMAP's init_min_num_inliers above 400 leaves only (2,4).
  pairs = RestartInitPairs(g, registered, {}, 15, 1000, 3);
  ASSERT_EQ(pairs.size(), 1u);
  EXPECT_EQ(pairs[0].num_inliers, 1500u);
  EXPECT_EQ(RestartInitPairs(g, registered, {}, 15, 100, 1).size(), 1u);
  EXPECT_TRUE(RestartInitPairs(g, registered, {}, 15, 100, 0).empty());
  // Nothing left out, nothing to restart from.
  EXPECT_TRUE(RestartInitPairs(g, {1, 2, 3, 4, 5, 6}, {}, 15, 100, 3).empty());
}

TEST(MapperRestarts, LeftOutImagesTakeTurns) {
  Graph g = ChainWithALeftOutImage();
  // Image 8, with more inliers than 6, seen by 1 and 3, which share 700.
  Add(&g, 1, 8, 200);
  Add(&g, 3, 8, 150);
  Add(&g, 1, 3, 700);
  const std::vector<InitPair> pairs = RestartInitPairs(g, {1, 2, 3, 4, 5}, {}, 15, 100, 3);
  ASSERT_EQ(pairs.size(), 3u);
  EXPECT_EQ(ImagePairToPairId(pairs[0].image_id1, pairs[0].image_id2), ImagePairToPairId(1, 3));
  EXPECT_EQ(ImagePairToPairId(pairs[1].image_id1, pairs[1].image_id2), ImagePairToPairId(4, 5));
  EXPECT_EQ(ImagePairToPairId(pairs[2].image_id1, pairs[2].image_id2), ImagePairToPairId(2, 4));
}

TEST(MapperRestarts, ReadsTheInitialPairsFromColmapsLog) {
  const std::string log =
      "Loading database\n"
      "Initializing with image pair #7 and #5\n"
      "Registering image #8 (3)\n"
      "Initializing with image pair #12 and #19\n";
  EXPECT_EQ(TriedInitPairs(log),
            (std::set<image_pair_t>{ImagePairToPairId(5, 7), ImagePairToPairId(12, 19)}));
  EXPECT_TRUE(TriedInitPairs("no model\n").empty());
}

TEST(MapperRestarts, FindsMapperFlagsInBothForms) {
  const std::vector<std::string> args = {"--Mapper.num_threads",
                                         "-1",
                                         "--Mapper.init_min_num_inliers=50",
                                         "--Mapper.min_num_matches",
                                         "20",
                                         "--Mapper.min_num_matches",
                                         "30"};
  EXPECT_EQ(FindMapperArg(args, "num_threads"), "-1");
  EXPECT_EQ(FindMapperArg(args, "init_min_num_inliers"), "50");
  EXPECT_EQ(FindMapperArg(args, "min_num_matches"), "30");  // the last one, as COLMAP reads it
  EXPECT_FALSE(FindMapperArg(args, "init_image_id1").has_value());
  EXPECT_FALSE(FindMapperArg(args, "num").has_value());
}

TEST(MapperRestarts, AModelIsBetterWithMoreImagesThenMoreObservations) {
  ReconstructionStats a, b;
  a.num_images = 19;
  a.num_observations = 100;
  b.num_images = 18;
  b.num_observations = 1000;
  EXPECT_TRUE(IsBetterModel(a, b));
  EXPECT_FALSE(IsBetterModel(b, a));
  b.num_images = 19;
  EXPECT_TRUE(IsBetterModel(b, a));
  EXPECT_FALSE(IsBetterModel(a, a));  // a tie keeps the earlier model
  MapperOptions negative;
  negative.max_init_pairs = -1;
  EXPECT_THROW(negative.Check(), Error);
  MapperOptions unknown_type;
  unknown_type.type = "hierarchical";
  EXPECT_THROW(unknown_type.Check(), Error);
}

TEST(MapperRestarts, AskForSmallModelsOnlyAfterAnInitialisedRunKeptNone) {
  const std::string log = "Initializing with image pair #2 and #5\n";
  const std::vector<std::string> args = {"--Mapper.num_threads", "-1"};
  const auto small = SmallModelMapperArgs(args, log, 8);
  ASSERT_TRUE(small.has_value());
  EXPECT_EQ(FindMapperArg(*small, "min_model_size"), std::to_string(kSmallModelSize));
  EXPECT_EQ(FindMapperArg(*small, "num_threads"), "-1");
  // COLMAP found no initial pair: another run would find none either.
  EXPECT_FALSE(SmallModelMapperArgs(args, "Finding good initial image pair\n", 8).has_value());
  // The user's own min_model_size stands.
  EXPECT_FALSE(SmallModelMapperArgs({"--Mapper.min_model_size=10"}, log, 8).has_value());
  // Too few images with pairs for a model of kSmallModelSize.
  EXPECT_FALSE(SmallModelMapperArgs(args, log, kSmallModelSize - 1).has_value());
}

TEST(MapperRestarts, SmallScenesMapWithTheSmallModelFloorFromTheFirstRun) {
  const std::vector<std::string> args = {"--Mapper.num_threads", "-1"};
  // Up to COLMAP's floor of 10, a model must hold every registrable image: the floor drops to 3.
  for (const size_t n : {kSmallModelSize, size_t{9}, kColmapMinModelSize}) {
    const std::vector<std::string> first = FirstMapperArgs(args, n);
    EXPECT_EQ(FindMapperArg(first, "min_model_size"), std::to_string(kSmallModelSize)) << n;
    EXPECT_EQ(FindMapperArg(first, "num_threads"), "-1") << n;
  }
  // Larger scenes keep COLMAP's rule, too few images cannot make a small model, and the user's
  // own min_model_size stands.
  EXPECT_EQ(FirstMapperArgs(args, kColmapMinModelSize + 1), args);
  EXPECT_EQ(FirstMapperArgs(args, kSmallModelSize - 1), args);
  const std::vector<std::string> own = {"--Mapper.min_model_size", "10"};
  EXPECT_EQ(FirstMapperArgs(own, 8), own);
}

TEST(MapperRestarts, LocalBundleAdjustmentIsCappedUnlessTheUserSetTheCap) {
  const std::vector<std::string> args = {"--Mapper.num_threads", "-1"};
  const std::vector<std::string> capped = WithLocalBundleCap(args);
  EXPECT_EQ(FindMapperArg(capped, "ba_local_max_num_iterations"),
            std::to_string(kLocalBundleMaxIterations));
  EXPECT_EQ(FindMapperArg(capped, "num_threads"), "-1");
  EXPECT_EQ(FindMapperArg(capped, "ba_global_max_num_iterations"), std::nullopt);
  const std::vector<std::string> own = {"--Mapper.ba_local_max_num_iterations=25"};
  EXPECT_EQ(WithLocalBundleCap(own), own);
}

}  // namespace
}  // namespace scalesfm
