// slurm_matching on a real single-node Slurm (scripts/start_local_slurm.sh; run_tests.sh starts
// it): the merged database equals a single-process run, and a failed shard is rerun alone.
#include "cluster/slurm_matching.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "cluster/slurm_job.h"
#include "tests/test_util.h"

namespace scalesfm {
namespace {

namespace fs = std::filesystem;

// Every table a matcher command writes, as text, ordered (sqlite3's CLI).
std::string DumpPairTables(const std::string& db) {
  std::string out;
  for (const char* sql :
       {"SELECT pair_id, rows, cols, hex(data) FROM matches ORDER BY pair_id",
        "SELECT pair_id, rows, cols, hex(data), config, hex(F), hex(E), hex(H) FROM "
        "two_view_geometries ORDER BY pair_id",
        "SELECT * FROM scalesfm_pair_scales ORDER BY pair_id, estimator",
        "SELECT * FROM scalesfm_guided_pairs ORDER BY pair_id",
        "SELECT image_id, rows, hex(data) FROM keypoints ORDER BY image_id"}) {
    std::string rows;
    EXPECT_EQ(test::RunCommand("sqlite3 '" + db + "' '" + sql + "'", &rows), 0) << rows;
    out += std::string(sql) + "\n" + rows;
  }
  return out;
}

class SlurmMatching : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!test::HaveColmap()) GTEST_SKIP() << "colmap is not installed";
    const std::string reason = SlurmUnavailableReason();
    if (!reason.empty()) GTEST_SKIP() << reason << " (scripts/start_local_slurm.sh starts one)";
    dir_ = test::MakeTempDir("slurm_matching");
    const std::string bin = test::ScalesfmBinary();
    std::string log;
    ASSERT_EQ(
        test::RunCommand(bin + " feature_extractor --database_path " + dir_ +
                             "/features.db --image_path " + test::SyntheticSceneDir() + "/images",
                         &log),
        0)
        << log;
    fs::copy_file(dir_ + "/features.db", dir_ + "/single.db");
    ASSERT_EQ(
        test::RunCommand(bin + " exhaustive_matcher --database_path " + dir_ + "/single.db", &log),
        0)
        << log;
  }
  std::string dir_;
};

TEST_F(SlurmMatching, MergedShardsEqualASingleRun) {
  fs::copy_file(dir_ + "/features.db", dir_ + "/slurm.db");
  std::string log;
  ASSERT_EQ(test::RunCommand(test::ScalesfmBinary() + " slurm_matching --database_path " + dir_ +
                                 "/slurm.db --num_shards 3 --timeout 600",
                             &log),
            0)
      << log;
  EXPECT_NE(log.find("Merged"), std::string::npos) << log;
  EXPECT_EQ(DumpPairTables(dir_ + "/slurm.db"), DumpPairTables(dir_ + "/single.db"));
  EXPECT_FALSE(fs::exists(dir_ + "/slurm.db.slurm")) << "the work folder is removed";
}

TEST_F(SlurmMatching, AFailedShardFailsTheCommandAndARerunRunsOnlyIt) {
  fs::copy_file(dir_ + "/features.db", dir_ + "/slurm.db");
  // A wrapper that fails shard 2 while a flag file exists.
  const std::string wrapper = dir_ + "/wrapper.sh";
  std::ofstream(wrapper) << "#!/bin/bash\n"
                         << "if [ -e " << dir_ << "/fail ] && [ \"$SLURM_ARRAY_TASK_ID\" = 2 ]; "
                         << "then echo 'injected failure' >&2; exit 7; fi\n"
                         << "exec " << test::ScalesfmBinary() << " \"$@\"\n";
  fs::permissions(wrapper, fs::perms::owner_all);
  std::ofstream(dir_ + "/fail") << "";
  const std::string command = test::ScalesfmBinary() + " slurm_matching --database_path " + dir_ +
                              "/slurm.db --num_shards 3 --timeout 600 --binary " + wrapper;
  std::string log;
  EXPECT_NE(test::RunCommand(command, &log), 0) << log;
  EXPECT_NE(log.find("1 of 3 shards failed"), std::string::npos) << log;
  EXPECT_NE(log.find("scalesfm-matching.2.log"), std::string::npos) << log;
  {
    std::ifstream task_log(dir_ + "/slurm.db.slurm/scalesfm-matching.2.log");
    std::stringstream ss;
    ss << task_log.rdbuf();
    EXPECT_NE(ss.str().find("injected failure"), std::string::npos);
  }
  std::string count;
  test::RunCommand("sqlite3 '" + dir_ + "/slurm.db' 'SELECT count(*) FROM matches'", &count);
  EXPECT_EQ(count, "0\n") << "nothing is merged while a shard is missing";

  fs::remove(dir_ + "/fail");
  ASSERT_EQ(test::RunCommand(command, &log), 0) << log;
  EXPECT_NE(log.find("Submitting 1 of 3 shards"), std::string::npos) << log;
  EXPECT_EQ(DumpPairTables(dir_ + "/slurm.db"), DumpPairTables(dir_ + "/single.db"));
}

TEST(SlurmMatchingFlags, TasksGetTheMatcherFlagsButNotThePairSourceOrSlurmFlags) {
  const std::vector<std::string> args = {"--database_path",
                                         "db",
                                         "--num_shards",
                                         "4",
                                         "--Matching.max_ratio",
                                         "0.7",
                                         "--VocabTreeMatching.num_images",
                                         "20",
                                         "--SequentialMatching.overlap=5",
                                         "--Matching.shard",
                                         "1/2",
                                         "--Matching.num_threads",
                                         "-1",
                                         "--sbatch_args=--partition=x --time=1:00",
                                         "--ScaleMatching.estimator=none",
                                         "--device",
                                         "cpu"};
  const std::vector<std::string> expected = {"--Matching.max_ratio",
                                             "0.7",
                                             "--Matching.num_threads",
                                             "-1",
                                             "--ScaleMatching.estimator=none",
                                             "--device",
                                             "cpu"};
  EXPECT_EQ(TaskMatchingFlags(args), expected);
}

}  // namespace
}  // namespace scalesfm
