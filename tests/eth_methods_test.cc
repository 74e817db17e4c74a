// The evaluators' method presets (eval_common/method_presets.h): which pipeline options each
// method name sets, and the known-method lists generated from the tables.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "eval_common/method_presets.h"
#include "eval_eth/eth_evaluation.h"
#include "feature/scale_levels.h"
#include "tests/test_util.h"
#include "util/logging.h"

namespace scalesfm {
namespace {

struct Method {
  MethodConfig config;
  bool known = false;
  const ExtractionOptions& extraction() const { return config.extraction; }
  const ScaleMatchingOptions& scale() const { return config.scale; }
  bool guided() const { return config.verification.guided_matching; }
  bool restarts() const { return config.mapper_restarts; }
};

Method Configure(const std::string& name) {
  Method m;
  m.known = ConfigureScalesfmMethod(name, &m.config);
  return m;
}

TEST(EthMethods, GuidedMatchingIsTheDefaultAndTheSuffixesSetIt) {
  EXPECT_TRUE(VerificationOptions().guided_matching);
  const Method plain = Configure("scalesfm-plain");
  ASSERT_TRUE(plain.known);
  EXPECT_TRUE(plain.guided());
  EXPECT_EQ(plain.extraction().levels, "1");
  EXPECT_EQ(plain.scale().estimator.estimator, "none");

  const Method off = Configure("scalesfm-plain-noguided");
  ASSERT_TRUE(off.known);
  EXPECT_FALSE(off.guided());
  EXPECT_EQ(off.extraction().levels, "1");  // the suffix is removed before the method is read
  EXPECT_EQ(off.scale().estimator.estimator, "none");

  const Method on = Configure("scalesfm-guided");
  ASSERT_TRUE(on.known);
  EXPECT_TRUE(on.guided());
  EXPECT_EQ(on.extraction().levels, Configure("scalesfm").extraction().levels);
  EXPECT_FALSE(Configure("scalesfm-noguided").guided());

  EXPECT_FALSE(Configure("colmap-default").known);
  EXPECT_FALSE(Configure("scalesfm-unknown-noguided").known);
}

TEST(EthMethods, MapperRestartsAreTheDefaultAndNorestartTurnsThemOffWithAnyOtherSuffix) {
  EXPECT_GT(MapperOptions().max_init_pairs, 0);
  EXPECT_TRUE(Configure("scalesfm").restarts());
  EXPECT_TRUE(Configure("scalesfm-noguided").restarts());

  const Method off = Configure("scalesfm-plain-norestart");
  ASSERT_TRUE(off.known);
  EXPECT_FALSE(off.restarts());
  EXPECT_TRUE(off.guided());
  EXPECT_EQ(off.extraction().levels, "1");

  for (const std::string name :
       {"scalesfm-plain-norestart-noguided", "scalesfm-plain-noguided-norestart"}) {
    const Method both = Configure(name);
    ASSERT_TRUE(both.known) << name;
    EXPECT_FALSE(both.restarts()) << name;
    EXPECT_FALSE(both.guided()) << name;
    EXPECT_EQ(both.scale().estimator.estimator, "none") << name;
  }
  EXPECT_FALSE(Configure("scalesfm-norestart-unknown").known);
}

TEST(EthMethods, GuidedmaxSuffixSetsTheGuidedInlierBound) {
  const Method all = Configure("scalesfm-guidedmax0");
  ASSERT_TRUE(all.known);
  EXPECT_EQ(all.config.verification.guided_max_num_inliers, 0);
  const Method capped = Configure("scalesfm-plain-guidedmax300-norestart");
  ASSERT_TRUE(capped.known);
  EXPECT_EQ(capped.config.verification.guided_max_num_inliers, 300);
  EXPECT_FALSE(capped.restarts());
  EXPECT_EQ(capped.extraction().levels, "1");
  EXPECT_EQ(Configure("scalesfm-norestart-guidedmax50").config.verification.guided_max_num_inliers,
            50);
  // Without the suffix, the default.
  EXPECT_EQ(Configure("scalesfm").config.verification.guided_max_num_inliers,
            VerificationOptions().guided_max_num_inliers);
  EXPECT_FALSE(Configure("scalesfm-guidedmax").known);  // no number
  EXPECT_FALSE(Configure("scalesfm-guidedmax-5").known);
}

// Every scale estimator, and none, is a method, with any suffix.
TEST(EthMethods, EveryEstimatorIsAMethodWithAnySuffix) {
  std::vector<std::string> estimators = ScaleEstimator::Names();
  estimators.push_back("none");
  for (const std::string& estimator : estimators) {
    for (const std::string suffix : {"", "-norestart", "-noguided", "-guided-norestart"}) {
      const std::string name = "scalesfm-" + estimator + suffix;
      const Method m = Configure(name);
      ASSERT_TRUE(m.known) << name;
      EXPECT_EQ(m.scale().estimator.estimator, estimator) << name;
      EXPECT_EQ(m.extraction().levels, "auto") << name;
      EXPECT_EQ(m.restarts(), suffix.find("-norestart") == std::string::npos) << name;
      EXPECT_EQ(m.guided(), suffix.find("-noguided") == std::string::npos) << name;
    }
  }
}

// The preset sets the matcher: S2DNet for the s2dnet methods, descriptor nearest neighbours
// (mutual, no ratio test for the learned SCFeat) otherwise.
TEST(EthMethods, PresetsSetTheMatcher) {
  for (const std::string name : {"scalesfm-s2dnet", "scalesfm-s2dnet-scale-noguided"}) {
    const Method m = Configure(name);
    ASSERT_TRUE(m.known) << name;
    EXPECT_EQ(m.config.matching.type, "s2dnet") << name;
    EXPECT_EQ(m.extraction().levels, "1") << name;
  }
  EXPECT_EQ(Configure("scalesfm-s2dnet").scale().estimator.estimator, "none");
  for (const std::string name : {"scalesfm-dualrc", "scalesfm-dualrc-scale"}) {
    EXPECT_EQ(Configure(name).config.matching.type, "dualrc") << name;
    EXPECT_EQ(Configure(name).config.extraction.levels, "1") << name;
  }
  EXPECT_EQ(Configure("scalesfm-dualrc").scale().estimator.estimator, "none");
  EXPECT_EQ(Configure("scalesfm-dualrc-scale").scale().estimator.estimator,
            Configure("scalesfm").scale().estimator.estimator);
  EXPECT_EQ(Configure("scalesfm-s2dnet-scale").scale().estimator.estimator,
            ScaleMatchingOptions().estimator.estimator);
  const Method scfeat = Configure("scalesfm-scfeat-sdaim");
  EXPECT_EQ(scfeat.config.matching.type, "nn");
  EXPECT_EQ(scfeat.extraction().type, "scfeat");
  EXPECT_TRUE(scfeat.scale().reextract);
  EXPECT_EQ(scfeat.config.matching.nn.max_ratio, 1.0);
  const Method sift = Configure("scalesfm");
  EXPECT_EQ(sift.config.matching.type, "nn");
  EXPECT_EQ(sift.config.matching.nn.max_ratio, MatchingOptions().nn.max_ratio);
  EXPECT_FALSE(Configure("scalesfm-levels-only").scale().keep_native);
  // noup: the auto levels without sqrt(2), the same factors below it.
  std::vector<double> noup = ParseLevelSpec(Configure("scalesfm-noup").extraction().levels);
  std::vector<double> all = ParseLevelSpec("auto");
  ASSERT_EQ(all.front(), std::sqrt(2.0));
  all.erase(all.begin());
  EXPECT_EQ(noup, all);
}

// --methods' help and the unknown-method error list the table, each estimator family once.
TEST(EthMethods, KnownMethodsComeFromTheTable) {
  EXPECT_EQ(PresetNames(ScalesfmMethodPresets()),
            "scalesfm, scalesfm-plain, scalesfm-<estimator>, scalesfm-reextract, "
            "scalesfm-levels-only, scalesfm-gt-region, scalesfm-noup, scalesfm-scfeat, "
            "scalesfm-scfeat-sdaim, "
            "scalesfm-s2dnet, scalesfm-s2dnet-scale, scalesfm-dualrc, scalesfm-dualrc-scale");
  EXPECT_EQ(kEthMethodNames,
            "scalesfm, scalesfm-plain, scalesfm-<estimator>, scalesfm-reextract, "
            "scalesfm-levels-only, scalesfm-gt-region, scalesfm-noup, scalesfm-scfeat, "
            "scalesfm-scfeat-sdaim, "
            "scalesfm-s2dnet, scalesfm-s2dnet-scale, scalesfm-dualrc, scalesfm-dualrc-scale, "
            "colmap-default, colmap-best, "
            "colmap-small-models; any "
            "scalesfm method + "
            "\"-norestart\" (one mapper run, without restarts from other initial pairs) and/or + "
            "\"-noguided\" (without guided matching, which is on by default) or + \"-guided\" "
            "(with it: the same as the default) and/or + \"-guidedmax<N>\" "
            "(--SiftMatching.guided_max_num_inliers N; 0: guided matching of every verified pair)");
  const std::string dataset = test::MakeTempDir("eth_methods");
  std::filesystem::create_directories(dataset + "/images");
  EthEvaluationOptions o;
  o.dataset_paths = {dataset};
  o.output_path = dataset + "/out";
  o.methods = {"scalesfm-bogus"};
  try {
    o.Check();
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "unknown eval_eth method 'scalesfm-bogus' (known: " + kEthMethodNames + ")");
  }
}

// Stock presets: colmap-small-models only lowers the mapper's model floor; the others keep the
// mapper's defaults.
TEST(EthMethods, StockSmallModelsLowersOnlyTheModelFloor) {
  for (const StockColmapPreset& preset : StockColmapPresets()) {
    StockColmapConfig c;
    preset.apply(&c);
    if (preset.name == "colmap-small-models") {
      EXPECT_EQ(c.mapper_args, (std::vector<std::string>{"--Mapper.min_model_size", "3"}));
      EXPECT_TRUE(c.extraction_args.empty());
      EXPECT_TRUE(c.matching_args.empty());
    } else {
      EXPECT_TRUE(c.mapper_args.empty()) << preset.name;
    }
  }
  ASSERT_NE(FindPreset(StockColmapPresets(), "colmap-small-models"), nullptr);
}

// eval_features' methods: the extraction each one sets, on top of the command line's.
TEST(FeatureMethods, PresetsSetExtractionMatcherAndDescriber) {
  ExtractionOptions base;
  base.max_num_features = 123;
  base.levels = "auto";
  const FeatureMethodConfig sift = ConfigureFeatureMethod("sift", base);
  EXPECT_EQ(sift.extraction.type, "sift");
  EXPECT_EQ(sift.extraction.sift_normalization, "l2");
  EXPECT_EQ(sift.extraction.levels, "1");
  EXPECT_EQ(sift.extraction.max_num_features, 123);
  EXPECT_EQ(sift.matching.nn.max_ratio, 1.0);  // mutual nearest neighbours for every method
  EXPECT_FALSE(sift.describer);
  EXPECT_EQ(ConfigureFeatureMethod("scfeat", base).extraction.type, "scfeat");
  EXPECT_EQ(ConfigureFeatureMethod("rootsift", base).extraction.sift_normalization, "l1_root");
  const FeatureMethodConfig s2dnet = ConfigureFeatureMethod("s2dnet", base);
  EXPECT_EQ(s2dnet.matching.type, "s2dnet");
  EXPECT_EQ(s2dnet.extraction.type, "sift");
  for (const std::string name : {"dualrc", "dualrc-gt-scale"}) {
    const FeatureMethodConfig dualrc = ConfigureFeatureMethod(name, base);
    EXPECT_EQ(dualrc.matching.type, "dualrc");
    EXPECT_EQ(dualrc.sdaim_gt_scale, name == "dualrc-gt-scale");
  }
  const FeatureMethodConfig at_sift = ConfigureFeatureMethod("scfeat-at-sift", base);
  EXPECT_EQ(at_sift.matching.type, "nn");
  EXPECT_EQ(at_sift.extraction.type, "sift");
  EXPECT_EQ(at_sift.extraction.sift_normalization, "l1_root");
  ASSERT_TRUE(at_sift.describer);
  EXPECT_EQ(at_sift.describer->type, "scfeat");
  EXPECT_EQ(at_sift.describer->levels, "1");
  EXPECT_EQ(at_sift.describer->max_num_features, 123);

  EXPECT_EQ(PresetNames(FeatureMethodPresets()),
            "scfeat, sift, rootsift, s2dnet, dualrc, dualrc-gt-scale, scfeat-at-sift");
  try {
    ConfigureFeatureMethod("surf", base);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "unknown eval_features method 'surf' (known: scfeat, sift, rootsift, s2dnet, "
              "dualrc, dualrc-gt-scale, scfeat-at-sift)");
  }
}

}  // namespace
}  // namespace scalesfm
