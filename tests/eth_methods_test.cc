// eval_eth's method names: which pipeline options each one sets.
#include <gtest/gtest.h>

#include "eval_eth/eth_evaluation.h"

namespace scalesfm {
namespace {

struct Method {
  ExtractionOptions extraction;
  ScaleMatchingOptions scale;
  bool guided = false;
  bool restarts = false;
  bool known = false;
};

Method Configure(const std::string& name) {
  Method m;
  MethodSuffixes suffixes;
  suffixes.guided_matching = !suffixes.guided_matching;  // must be overwritten
  suffixes.mapper_restarts = !suffixes.mapper_restarts;
  m.known = ConfigureScalesfmMethod(name, &m.extraction, &m.scale, &suffixes);
  m.guided = suffixes.guided_matching;
  m.restarts = suffixes.mapper_restarts;
  return m;
}

TEST(EthMethods, GuidedMatchingIsTheDefaultAndTheSuffixesSetIt) {
  EXPECT_TRUE(VerificationOptions().guided_matching);
  const Method plain = Configure("scalesfm-plain");
  ASSERT_TRUE(plain.known);
  EXPECT_TRUE(plain.guided);
  EXPECT_EQ(plain.extraction.levels, "1");
  EXPECT_EQ(plain.scale.estimator.estimator, "none");

  const Method off = Configure("scalesfm-plain-noguided");
  ASSERT_TRUE(off.known);
  EXPECT_FALSE(off.guided);
  EXPECT_EQ(off.extraction.levels, "1");  // the suffix is removed before the method is read
  EXPECT_EQ(off.scale.estimator.estimator, "none");

  const Method on = Configure("scalesfm-guided");
  ASSERT_TRUE(on.known);
  EXPECT_TRUE(on.guided);
  EXPECT_EQ(on.extraction.levels, Configure("scalesfm").extraction.levels);
  EXPECT_FALSE(Configure("scalesfm-noguided").guided);

  EXPECT_FALSE(Configure("colmap-default").known);
  EXPECT_FALSE(Configure("scalesfm-unknown-noguided").known);
}

TEST(EthMethods, MapperRestartsAreTheDefaultAndNorestartTurnsThemOffWithAnyOtherSuffix) {
  EXPECT_GT(MapperRestartOptions().max_init_pairs, 0);
  EXPECT_TRUE(Configure("scalesfm").restarts);
  EXPECT_TRUE(Configure("scalesfm-noguided").restarts);

  const Method off = Configure("scalesfm-plain-norestart");
  ASSERT_TRUE(off.known);
  EXPECT_FALSE(off.restarts);
  EXPECT_TRUE(off.guided);
  EXPECT_EQ(off.extraction.levels, "1");

  for (const std::string name :
       {"scalesfm-plain-norestart-noguided", "scalesfm-plain-noguided-norestart"}) {
    const Method both = Configure(name);
    ASSERT_TRUE(both.known) << name;
    EXPECT_FALSE(both.restarts) << name;
    EXPECT_FALSE(both.guided) << name;
    EXPECT_EQ(both.scale.estimator.estimator, "none") << name;
  }
  EXPECT_FALSE(Configure("scalesfm-norestart-unknown").known);
}

}  // namespace
}  // namespace scalesfm
