// The COLMAP dialect table (colmap_ext/colmap_dialect.h): version banners, flag translation both
// ways, and the table checked against the help of the real colmap binary the suite runs
// ($SCALESFM_COLMAP: Debian's 3.8 in CI, or a user's COLMAP 4).
#include "colmap_ext/colmap_dialect.h"

#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "colmap_ext/colmap_runner.h"
#include "matching/matching_options.h"
#include "test_util.h"
#include "util/flag_args.h"
#include "util/logging.h"

namespace scalesfm {
namespace {

ColmapDialect Dialect(int major, int minor, int patch = 0) {
  return ColmapDialect(ColmapVersion{major, minor, patch});
}

TEST(ColmapDialect, ParsesTheBannerOfColmapHelp) {
  const auto v38 = ParseColmapVersion(
      "COLMAP 3.8 -- Structure-from-Motion and Multi-View Stereo\n"
      "              (Commit Unknown on Unknown without CUDA)\n");
  ASSERT_TRUE(v38);
  EXPECT_EQ(v38->ToString(), "3.8.0");
  EXPECT_EQ(v38->DatabaseVersionNumber(), 3080000);
  // What the COLMAP 4.1.1 built for tests/data/colmap4 prints.
  const auto v411 =
      ParseColmapVersion("COLMAP 4.1.1 (Commit a0d785fba on 2026-07-17 without CUDA)\nUsage:\n");
  ASSERT_TRUE(v411);
  EXPECT_EQ(v411->ToString(), "4.1.1");
  EXPECT_EQ(v411->DatabaseVersionNumber(), 4010100);  // COLMAP 4.1.1's PRAGMA user_version
  EXPECT_TRUE(v411->AtLeast(4, 0));
  EXPECT_FALSE(v38->AtLeast(4, 0));
  const auto dev = ParseColmapVersion("\nCOLMAP 4.2.0.dev0 -- Structure-from-Motion");
  ASSERT_TRUE(dev);
  EXPECT_EQ(dev->ToString(), "4.2.0");
  EXPECT_FALSE(ParseColmapVersion("ERROR: Command `help` not recognized."));
  EXPECT_FALSE(ParseColmapVersion(""));
}

TEST(ColmapDialect, VerificationFlagsAreWrittenInEachVersionsNames) {
  const std::vector<std::string> args = VerificationOptions().ToColmapArgs();
  const std::vector<std::string> v4 = Dialect(4, 1, 1).TranslateArgs(args);
  // planar_scene (0) is gone in 4.x; everything else is renamed, values kept in place.
  ASSERT_EQ(v4.size(), args.size() - 2);
  std::set<std::string> sections;
  for (size_t i = 0; i < v4.size(); i += 2) {
    sections.insert(v4[i].substr(2, v4[i].find('.') - 2));
    EXPECT_EQ(v4[i + 1], args[i + 1]) << v4[i];
  }
  EXPECT_EQ(sections, (std::set<std::string>{"FeatureMatching", "TwoViewGeometry"}));
  EXPECT_EQ(v4[0], "--FeatureMatching.use_gpu");
  EXPECT_EQ(v4[4], "--TwoViewGeometry.max_error");
  // COLMAP 3.8 gets them as written, and 4.x names back as 3.8's.
  EXPECT_EQ(Dialect(3, 8).TranslateArgs(args), args);
  const std::vector<std::string> back = Dialect(3, 8).TranslateArgs(v4);
  EXPECT_EQ(back, std::vector<std::string>(args.begin(), args.end() - 2));
}

TEST(FlagArgs, SplitsFlagsAsColmapsParserReadsThem) {
  const std::vector<std::string> args = {"word",    "--a", "--b",   "-1",
                                         "--c=x=y", "--d", "value", "--a=7"};
  const std::vector<FlagArg> split = SplitFlagArgs(args);
  ASSERT_EQ(split.size(), 6u);
  EXPECT_TRUE(split[0].name.empty());
  EXPECT_EQ(split[0].value, "word");
  EXPECT_EQ(split[1].name, "a");
  EXPECT_FALSE(split[1].value);  // the next word is a flag
  EXPECT_EQ(split[2].value, "-1");
  EXPECT_EQ(split[3].name, "c");
  EXPECT_EQ(split[3].value, "x=y");
  std::vector<std::string> words;
  for (const FlagArg& a : split) {
    for (const std::string& w : a.Words()) words.push_back(w);
  }
  EXPECT_EQ(words, args);
  EXPECT_EQ(split[4].Words("e"), (std::vector<std::string>{"--e", "value"}));
  EXPECT_EQ(FindFlagValue(args, "a"), "7");  // the last one wins
  EXPECT_FALSE(FindFlagValue(args, "z"));
}

TEST(ColmapDialect, KeepsOtherArgumentsAndTheEqualsForm) {
  const std::vector<std::string> args = {"--database_path",
                                         "/x/db.db",
                                         "--SiftMatching.max_error=4",
                                         "--Mapper.num_threads",
                                         "-1",
                                         "--Mapper.ba_global_images_ratio",
                                         "1.2"};
  const std::vector<std::string> v4 = Dialect(4, 0).TranslateArgs(args);
  EXPECT_EQ(v4, (std::vector<std::string>{"--database_path", "/x/db.db",
                                          "--TwoViewGeometry.max_error=4", "--Mapper.num_threads",
                                          "-1", "--Mapper.ba_global_frames_ratio", "1.2"}));
}

TEST(ColmapDialect, ARemovedOptionIsDroppedAtItsDefaultAndRefusedOtherwise) {
  const ColmapDialect v4 = Dialect(4, 1, 1);
  EXPECT_EQ(v4.TranslateArgs({"--SiftMatching.planar_scene", "0", "--x", "1"}),
            (std::vector<std::string>{"--x", "1"}));
  EXPECT_EQ(v4.TranslateArgs({"--SiftMatching.planar_scene=0"}), std::vector<std::string>{});
  try {
    v4.TranslateArgs({"--SiftMatching.planar_scene", "1"});
    FAIL() << "planar_scene 1 has no COLMAP 4 equivalent";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("COLMAP 4.1.1 has no such option"), std::string::npos)
        << e.what();
  }
  EXPECT_TRUE(v4.HasCommand("global_mapper"));
  EXPECT_FALSE(Dialect(3, 8).HasCommand("global_mapper"));
  EXPECT_EQ(v4.schema(), DatabaseSchema::kColmap4);
  EXPECT_EQ(Dialect(3, 8).schema(), DatabaseSchema::kColmap3);
}

TEST(ColmapDialect, GlobalMapperTakesTheOptionsItShares) {
  std::vector<std::string> ignored;
  const std::vector<std::string> out =
      GlobalMapperArgs({"--Mapper.num_threads", "2", "--Mapper.ba_refine_focal_length", "0",
                        "--Mapper.min_model_size=3", "--Mapper.init_image_id1", "4",
                        "--GlobalMapper.random_seed", "7", "--Mapper.ba_refine_extra_params=0"},
                       &ignored);
  EXPECT_EQ(out,
            (std::vector<std::string>{
                "--GlobalMapper.num_threads", "2", "--GlobalMapper.ba_refine_focal_length", "0",
                "--GlobalMapper.random_seed", "7", "--GlobalMapper.ba_refine_extra_params=0"}));
  EXPECT_EQ(ignored,
            (std::vector<std::string>{"--Mapper.min_model_size", "--Mapper.init_image_id1"}));
}

// The section's command, whose `-h` lists the section's options.
std::string CommandOfSection(const std::string& section) {
  if (section == "Mapper") return "mapper";
  if (section.rfind("BundleAdjustment", 0) == 0) return "bundle_adjuster";
  if (section == "SpatialMatching") return "spatial_matcher";
  if (section.find("Extraction") != std::string::npos) return "feature_extractor";
  return "exhaustive_matcher";
}

// Every flag of the table, in the dialect of the binary the suite runs, is an option that
// binary lists; the options 4.x removed are absent from COLMAP 4.
TEST(ColmapDialect, TheTableMatchesTheRealBinarysOptions) {
  if (!test::HaveColmap()) GTEST_SKIP() << "colmap not installed";
  const ColmapRunner colmap;
  const ColmapDialect& dialect = colmap.Dialect();
  std::string help;
  ASSERT_EQ(test::RunCommand(colmap.ResolveBinary() + " help", &help), 0);
  ASSERT_EQ(ParseColmapVersion(help)->ToString(), dialect.version().ToString());
  std::map<std::string, std::string> help_of;  // command -> its -h
  for (const ColmapFlagRename& r : ColmapFlagRenames()) {
    const char* name = dialect.IsColmap4() ? r.colmap4 : r.colmap3;
    const std::string probe = name ? name : r.colmap3;
    const std::string command = CommandOfSection(probe.substr(0, probe.find('.')));
    if (!help_of.count(command)) {
      test::RunCommand(colmap.ResolveBinary() + " " + command + " -h", &help_of[command]);
    }
    const bool listed = help_of[command].find("--" + probe + " ") != std::string::npos;
    if (name) {
      EXPECT_TRUE(listed) << "COLMAP " << dialect.version().ToString() << " `" << command
                          << " -h` does not list --" << probe;
    } else {
      EXPECT_FALSE(listed) << "COLMAP " << dialect.version().ToString() << " still has --" << probe;
    }
  }
}

TEST(ColmapDialect, ACommandTheBinaryLacksIsAClearErrorBeforeRunning) {
  if (!test::HaveColmap()) GTEST_SKIP() << "colmap not installed";
  const ColmapRunner colmap;
  if (colmap.Dialect().IsColmap4()) GTEST_SKIP() << "COLMAP 4 has global_mapper";
  try {
    colmap.Run("global_mapper", {"--database_path", "/nonexistent.db"});
    FAIL() << "COLMAP 3.8 has no global_mapper";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("needs COLMAP 4.0 or newer"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace scalesfm
