#include <gtest/gtest.h>

#include <filesystem>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "cli/options.h"
#include "tests/test_util.h"
#include "util/logging.h"

namespace scalesfm {
namespace {

TEST(Cli, HelpListsColmapStyleCommandsAndFlags) {
  std::string out;
  EXPECT_EQ(test::RunCommand(test::ScalesfmBinary() + " -h", &out), 0);
  for (const char* cmd : {"feature_extractor", "exhaustive_matcher", "mapper",
                          "automatic_reconstructor", "make_synthetic_scene", "eval_eth"}) {
    EXPECT_NE(out.find(cmd), std::string::npos) << cmd;
  }
  EXPECT_EQ(test::RunCommand(test::ScalesfmBinary() + " feature_extractor -h", &out), 0);
  EXPECT_NE(out.find("--Extraction.max_num_features"), std::string::npos) << out;
  EXPECT_NE(out.find("--ImageReader.single_camera"), std::string::npos) << out;
}

TEST(Cli, PassthroughOptionsKeepTheirValuesInBothForms) {
  // "--Mapper.x 3" (value as the next token) and "--Mapper.y=2" both reach colmap intact.
  std::vector<std::string> args = {
      "mapper", "--Mapper.min_model_size", "3", "--Mapper.y=2", "--Mapper.z", "-1"};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  po::options_description desc;
  std::vector<std::string> forwarded;
  ASSERT_TRUE(ParseCommandLine(int(argv.size()), argv.data(), "", desc, {"Mapper."}, &forwarded));
  EXPECT_EQ(forwarded, (std::vector<std::string>{"--Mapper.min_model_size", "3", "--Mapper.y", "2",
                                                 "--Mapper.z", "-1"}));
  // A stray argument is an error, not silently dropped.
  std::vector<std::string> stray = {"mapper", "oops"};
  std::vector<char*> argv2;
  for (std::string& a : stray) argv2.push_back(a.data());
  EXPECT_THROW(ParseCommandLine(int(argv2.size()), argv2.data(), "", desc, {"Mapper."}, &forwarded),
               Error);
}

TEST(Cli, UnknownCommandsAndOptionsFail) {
  std::string out;
  EXPECT_NE(test::RunCommand(test::ScalesfmBinary() + " not_a_command", &out), 0);
  EXPECT_NE(test::RunCommand(test::ScalesfmBinary() +
                                 " feature_extractor --database_path x.db --image_path . "
                                 "--Extraction.bogus 1",
                             &out),
            0);
  EXPECT_NE(out.find("Extraction.bogus"), std::string::npos) << out;
  EXPECT_NE(test::RunCommand(test::ScalesfmBinary() + " feature_extractor", &out), 0);
  EXPECT_NE(out.find("--database_path"), std::string::npos) << out;
  const std::string scene = test::MakeTempDir("cli_bad_scene") + "/scene";
  EXPECT_NE(test::RunCommand(test::ScalesfmBinary() + " make_synthetic_scene --output_path " +
                                 scene + " --texture_octave_gain 0",
                             &out),
            0);
  EXPECT_NE(out.find("--texture_octave_gain must be in (0, 2]"), std::string::npos) << out;
  EXPECT_FALSE(std::filesystem::exists(scene)) << "nothing is written on bad input";
}

TEST(Cli, EstimateScalePrintsOneJsonObject) {
  const std::string dir = test::MakeTempDir("cli");
  const cv::Mat a = cv::imread(test::SyntheticSceneDir() + "/images/0000.png");
  cv::Mat b;
  cv::resize(a(cv::Rect(a.cols / 4, a.rows / 4, a.cols / 2, a.rows / 2)), b, cv::Size(), 2, 2,
             cv::INTER_CUBIC);
  cv::imwrite(dir + "/a.png", a);
  cv::imwrite(dir + "/b.png", b);
  std::string out;
  ASSERT_EQ(test::RunCommand(test::ScalesfmBinary() + " estimate_scale --image1 " + dir +
                                 "/a.png --image2 " + dir + "/b.png --json",
                             &out),
            0)
      << out;
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out.front(), '{');
  EXPECT_EQ(out.find('\n'), out.size() - 1) << out;
  for (const char* key : {"\"scale\"", "\"log2_scale\"", "\"bin\"", "\"probs\""}) {
    EXPECT_NE(out.find(key), std::string::npos) << key;
  }
  EXPECT_NE(out.find("\"bin\": 8"), std::string::npos) << out;
}

}  // namespace
}  // namespace scalesfm
