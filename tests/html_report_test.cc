// The HTML report: self-contained, and it renders in headless Chromium (DOM and screenshot).
#include "eval_eth/html_report.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <sstream>

#include "eval_eth/eth_evaluation.h"
#include "tests/test_util.h"
#include "util/logging.h"

namespace fs = std::filesystem;

namespace scalesfm {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Chromium() {
  for (const char* c : {"/usr/bin/chromium", "/usr/bin/chromium-browser"}) {
    if (fs::exists(c)) return c;
  }
  return "";
}

// A run on the synthetic scene: real database, real model, real pose errors.
std::vector<EthResult> SyntheticResults() {
  EthEvaluationOptions o;
  o.dataset_paths = {fs::path(test::SyntheticSceneDir()).string()};
  o.output_path = test::MakeTempDir("report_eval");
  o.methods = {"scalesfm"};
  o.max_num_features = 2048;
  return RunEthEvaluation(o, ColmapRunner());
}

TEST(HtmlReport, SvgChartHasOneLinePerSeriesAndALegend) {
  const std::string svg =
      SvgLineChart("t", "x", "y", {{"a<b", {0, 1, 2}, {0, 0.5, 1}}, {"c", {0, 2}, {1, 1}}});
  size_t lines = 0;
  for (size_t p = svg.find("<polyline"); p != std::string::npos; p = svg.find("<polyline", p + 1)) {
    ++lines;
  }
  EXPECT_EQ(lines, 2u);
  EXPECT_NE(svg.find("a&lt;b"), std::string::npos);  // labels are escaped
}

TEST(HtmlReport, GtScaleChangeOfAZoomedCameraIsItsZoom) {
  // The synthetic scene's scene.txt lists each camera's zoom; the GT scale change between a
  // wide and a zoomed camera must reflect it.
  const Reconstruction gt = Reconstruction::Read(test::SyntheticSceneDir() + "/gt");
  double max_change = 0;
  for (const auto& [key, c] : GtScaleChanges(gt)) max_change = std::max(max_change, c);
  EXPECT_GT(max_change, 0.7);  // the 2x zoomed cameras (log2 2 = 1, minus distance effects)
  EXPECT_LT(max_change, 1.6);
}

TEST(HtmlReport, RendersInHeadlessChromium) {
  if (!test::HaveColmap()) GTEST_SKIP() << "colmap binary not installed";
  const std::string chromium = Chromium();
  if (chromium.empty()) GTEST_SKIP() << "chromium not installed (scripts/install_deps.sh)";
  const std::vector<EthResult> results = SyntheticResults();
  const std::string dir = test::MakeTempDir("report");
  const std::string report = dir + "/report.html";
  WriteHtmlReport(report, results);
  const std::string html = ReadFile(report);
  // Self-contained: no outside resources.
  EXPECT_EQ(html.find("http://"), html.find("http://www.w3.org/2000/svg"));
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_NE(html.find("data:image/png;base64,"), std::string::npos);

  const std::string flags =
      " --headless --no-sandbox --disable-gpu --disable-background-networking"
      " --user-data-dir=" +
      dir + "/profile";
  std::string dom;
  ASSERT_EQ(
      test::RunCommand(chromium + flags + " --dump-dom file://" + report + " 2>/dev/null", &dom), 0)
      << dom;
  // Chromium parsed the page: the table, both charts with their curves, and the thumbnails.
  EXPECT_NE(dom.find("id=\"results\""), std::string::npos);
  size_t charts = 0, curves = 0, thumbs = 0;
  for (size_t p = dom.find("<svg"); p != std::string::npos; p = dom.find("<svg", p + 1)) ++charts;
  for (size_t p = dom.find("class=\"series\""); p != std::string::npos;
       p = dom.find("class=\"series\"", p + 1)) {
    ++curves;
  }
  for (size_t p = dom.find("class=\"thumb\""); p != std::string::npos;
       p = dom.find("class=\"thumb\"", p + 1)) {
    ++thumbs;
  }
  EXPECT_EQ(charts, 2u);
  EXPECT_EQ(curves, 2u);
  EXPECT_GE(thumbs, 1u);

  // And it paints: the screenshot is not blank.
  const std::string png = dir + "/shot.png";
  ASSERT_EQ(test::RunCommand(chromium + flags + " --window-size=1200,1600 --screenshot=" + png +
                             " file://" + report + " >/dev/null 2>&1"),
            0);
  const cv::Mat shot = cv::imread(png, cv::IMREAD_GRAYSCALE);
  ASSERT_FALSE(shot.empty());
  cv::Scalar mean, stddev;
  cv::meanStdDev(shot, mean, stddev);
  EXPECT_GT(stddev[0], 10.0);
}

TEST(EvalEthInput, GtNamingMissingImagesIsAClearError) {
  const std::string dir = test::MakeTempDir("eth_bad_gt");
  fs::create_directories(dir + "/images");
  fs::copy(test::SyntheticSceneDir() + "/gt", dir + "/gt");
  fs::copy_file(test::SyntheticSceneDir() + "/images/0000.png", dir + "/images/0000.png");
  EthEvaluationOptions o;
  o.dataset_paths = {dir};
  o.output_path = dir + "/out";
  try {
    o.Check();
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("gt/ names 7 images that are not in images/"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace scalesfm
