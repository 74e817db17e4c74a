// eval_eth's method names: which pipeline options each one sets.
#include <gtest/gtest.h>

#include "eval_eth/eth_evaluation.h"

namespace scalesfm {
namespace {

struct Method {
  ExtractionOptions extraction;
  ScaleMatchingOptions scale;
  bool guided = false;
  bool known = false;
};

Method Configure(const std::string& name) {
  Method m;
  m.guided = !VerificationOptions().guided_matching;  // must be overwritten
  m.known = ConfigureScalesfmMethod(name, &m.extraction, &m.scale, &m.guided);
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

}  // namespace
}  // namespace scalesfm
