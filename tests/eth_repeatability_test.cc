// eval_eth's repeatability summary: per (dataset, method), registration counts must agree exactly
// over the repetitions and mAA@10 must stay within kRepeatabilityTolerance (issue 3).
#include <gtest/gtest.h>

#include "eval_eth/eth_evaluation.h"

namespace scalesfm {
namespace {

EthResult MakeRun(const std::string& dataset, const std::string& method, int rep, size_t registered,
                  double maa10) {
  EthResult r;
  r.dataset = dataset;
  r.method = method;
  r.repetition = rep;
  r.num_images = 8;
  r.stats.num_images = registered;
  r.has_gt = true;
  r.pose.maa10 = maa10;
  return r;
}

TEST(EthRepeatability, GroupsRunsByDatasetAndMethod) {
  const std::vector<EthResult> results = {
      MakeRun("a", "scalesfm", 0, 8, 0.90), MakeRun("a", "colmap-default", 0, 7, 0.50),
      MakeRun("a", "scalesfm", 1, 8, 0.93), MakeRun("a", "colmap-default", 1, 8, 0.50),
      MakeRun("a", "scalesfm", 2, 8, 0.96), MakeRun("a", "colmap-default", 2, 7, 0.50)};
  const std::vector<RepeatabilityRow> rows = SummarizeRepetitions(results);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].method, "scalesfm");
  EXPECT_EQ(rows[0].runs, 3);
  EXPECT_DOUBLE_EQ(rows[0].min_maa10, 0.90);
  EXPECT_DOUBLE_EQ(rows[0].max_maa10, 0.96);
  EXPECT_NEAR(rows[0].mean_maa10, 0.93, 1e-12);
  EXPECT_EQ(rows[1].min_registered, 7u);
  EXPECT_EQ(rows[1].max_registered, 8u);
}

TEST(EthRepeatability, TableFlagsSpreadAndRegistrationChanges) {
  const std::vector<EthResult> results = {
      MakeRun("a", "steady", 0, 8, 0.900), MakeRun("a", "steady", 1, 8, 0.920),
      MakeRun("a", "noisy", 0, 8, 0.900),  MakeRun("a", "noisy", 1, 8, 0.940),
      MakeRun("a", "drops", 0, 8, 0.900),  MakeRun("a", "drops", 1, 7, 0.900)};
  const std::string table = FormatRepeatabilityTable(SummarizeRepetitions(results));
  EXPECT_NE(table.find("| a | steady | 2 | 8-8/8 | 0.910 | 0.900-0.920 | 0.020 | yes |"),
            std::string::npos)
      << table;
  EXPECT_NE(table.find("| a | noisy | 2 | 8-8/8 | 0.920 | 0.900-0.940 | 0.040 | NO |"),
            std::string::npos)
      << table;
  EXPECT_NE(table.find("| a | drops | 2 | 7-8/8 |"), std::string::npos) << table;
  EXPECT_NE(table.find("| 0.000 | NO |"), std::string::npos) << table;
}

TEST(EthRepeatability, SingleRunsGetNoRepeatabilitySection) {
  const std::string one = FormatResultsMarkdown({MakeRun("a", "m", 0, 8, 1.0)});
  EXPECT_EQ(one.find("Repeatability"), std::string::npos);
  const std::string two =
      FormatResultsMarkdown({MakeRun("a", "m", 0, 8, 1.0), MakeRun("a", "m", 1, 8, 1.0)});
  EXPECT_NE(two.find("Repeatability"), std::string::npos);
}

TEST(EthViews, ViewTypeFollowsTheZoomScenesNaming) {
  EXPECT_EQ(ViewTypeOfImage("0004_wide.jpg"), "wide");
  EXPECT_EQ(ViewTypeOfImage("0005_zoom8.jpg"), "zoom8");
  EXPECT_EQ(ViewTypeOfImage("sub/0001_zoom2.png"), "zoom2");
  EXPECT_EQ(ViewTypeOfImage("0001_zoom1p5.jpg"), "zoom1p5");
  EXPECT_EQ(ViewTypeOfImage("0001.jpg"), "");
  EXPECT_EQ(ViewTypeOfImage("my_zoom.jpg"), "");
  EXPECT_EQ(ViewTypeOfImage("IMG_zoomx.jpg"), "");
}

TEST(EthViews, TableSumsEachViewTypePerMethod) {
  EthResult a = MakeRun("s1", "scalesfm", 0, 5, 0.9), b = MakeRun("s2", "scalesfm", 0, 4, 0.8);
  a.registered_by_view = {{"wide", {3, 3}}, {"zoom8", {1, 2}}, {"zoom2", {1, 1}}};
  b.registered_by_view = {{"wide", {3, 3}}, {"zoom8", {0, 1}}};
  const std::string table = FormatViewTable({a, b});
  // Columns wide, zoom2, zoom8 (by magnification, not by name).
  EXPECT_NE(table.find("| dataset | method | run | wide | zoom2 | zoom8 |"), std::string::npos)
      << table;
  EXPECT_NE(table.find("| s1 | scalesfm | 0 | 3/3 | 1/1 | 1/2 |"), std::string::npos) << table;
  EXPECT_NE(table.find("| s2 | scalesfm | 0 | 3/3 | - | 0/1 |"), std::string::npos) << table;
  EXPECT_NE(table.find("| **all** | scalesfm | | 6/6 (100%) | 1/1 (100%) | 1/3 (33%) |"),
            std::string::npos)
      << table;
  EXPECT_EQ(FormatViewTable({MakeRun("s", "scalesfm", 0, 8, 1.0)}), "");
}

}  // namespace
}  // namespace scalesfm
