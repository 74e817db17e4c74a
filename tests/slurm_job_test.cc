#include "cluster/slurm_job.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "util/logging.h"

namespace scalesfm {
namespace {

namespace fs = std::filesystem;

const char kSbatchMissing[] =
    "Slurm's sbatch was not found: install slurm-wlm or load the cluster's slurm module";

// A fresh folder under the working directory: on a real cluster that is a shared file system
// (ctest runs in the build folder), which /tmp on the compute nodes is not.
class TempDir {
 public:
  explicit TempDir(const std::string& tag) {
    path_ = fs::absolute("slurm_job_test." + tag + "." + std::to_string(getpid()));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// Sets $PATH for one test and puts the old value back.
class ScopedPath {
 public:
  explicit ScopedPath(const std::string& path) {
    const char* old = std::getenv("PATH");
    had_ = old != nullptr;
    if (had_) old_ = old;
    setenv("PATH", path.c_str(), 1);
  }
  ~ScopedPath() {
    if (had_) {
      setenv("PATH", old_.c_str(), 1);
    } else {
      unsetenv("PATH");
    }
  }

 private:
  bool had_ = false;
  std::string old_;
};

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The message of the Error that `run` throws; fails the test when it throws none.
template <typename Run>
std::string ErrorOf(Run run) {
  try {
    run();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no Error thrown";
  return "";
}

SlurmArrayJob ArrayJob(const fs::path& dir) {
  SlurmArrayJob job;
  job.name = "shards";
  job.work_dir = dir.string();
  job.task_ids = {1, 2, 3};
  job.task_command = "echo \"shard $SLURM_ARRAY_TASK_ID\"";
  job.timeout_seconds = 300;
  return job;
}

TEST(SlurmJob, ArraySpecJoinsRuns) {
  EXPECT_EQ(SlurmArraySpec({3, 1, 2, 2, 7, 9, 8, 5}), "1-3,5,7-9");
  EXPECT_EQ(SlurmArraySpec({4}), "4");
  EXPECT_THROW(SlurmArraySpec({}), Error);
  EXPECT_THROW(SlurmArraySpec({-1, 2}), Error);
}

TEST(SlurmJob, MissingSbatchGivesAClearError) {
  TempDir empty("nopath");
  const ScopedPath path(empty.path().string());
  EXPECT_EQ(SlurmUnavailableReason(), kSbatchMissing);
  const std::string message = ErrorOf([&] { RunSlurmArray(ArrayJob(empty.path() / "work")); });
  EXPECT_EQ(message, kSbatchMissing);
  EXPECT_FALSE(fs::exists(empty.path() / "work")) << "nothing is written before sbatch is found";
}

// What happens before submission is checked against a stand-in sbatch, so it runs without Slurm.
class FakeSbatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(dir_.path() / "bin");
    const fs::path sbatch = dir_.path() / "bin" / "sbatch";
    std::ofstream(sbatch) << "#!/bin/sh\n"
                          << "echo 'sbatch: error: invalid partition specified: nope' >&2\n"
                          << "exit 1\n";
    fs::permissions(sbatch, fs::perms::owner_all);
  }
  TempDir dir_{"fake"};
  ScopedPath path_{(dir_.path() / "bin").string()};
};

TEST_F(FakeSbatchTest, SbatchsReasonIsQuoted) {
  SlurmArrayJob job = ArrayJob(dir_.path() / "work");
  job.sbatch_args = {"--partition=nope"};
  const std::string message = ErrorOf([&] { RunSlurmArray(job); });
  EXPECT_NE(message.find("sbatch refused Slurm job 'shards' (exit code 1)"), std::string::npos)
      << message;
  EXPECT_NE(message.find("invalid partition specified: nope"), std::string::npos) << message;
}

TEST_F(FakeSbatchTest, UnwritableWorkFolderIsNamed) {
  std::ofstream(dir_.path() / "file") << "not a folder";
  const fs::path work = dir_.path() / "file" / "work";
  const std::string message = ErrorOf([&] { RunSlurmArray(ArrayJob(work)); });
  EXPECT_NE(message.find("cannot create the Slurm work folder '" + work.string() + "'"),
            std::string::npos)
      << message;
}

TEST_F(FakeSbatchTest, InvalidBashIsRefusedBeforeSubmission) {
  SlurmArrayJob job = ArrayJob(dir_.path() / "work");
  job.task_command = "if then fi (";
  const std::string message = ErrorOf([&] { RunSlurmArray(job); });
  EXPECT_NE(message.find("is not valid bash"), std::string::npos) << message;
}

TEST_F(FakeSbatchTest, OptionsThatScalesfmSetsAreRefused) {
  for (const std::string arg : {"--array=1-3", "-a1", "--output=x", "-o", "--wait", "-J", "-W"}) {
    SlurmArrayJob job = ArrayJob(dir_.path() / "work");
    job.sbatch_args = {"--partition=p", arg};
    EXPECT_NE(ErrorOf([&] { RunSlurmArray(job); }).find("is set by scalesfm itself"),
              std::string::npos)
        << arg;
  }
  SlurmArrayJob job = ArrayJob(dir_.path() / "work");
  job.name = "no spaces";
  EXPECT_NE(ErrorOf([&] { RunSlurmArray(job); }).find("not usable as a file name prefix"),
            std::string::npos);
}

// Against a real Slurm: scripts/run_tests.sh starts one (scripts/start_local_slurm.sh); without
// one these skip with the reason.
class RealSlurmTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Asked once per process: with Slurm installed but down, sinfo takes ~10 s to give up.
    static const std::string reason = SlurmUnavailableReason();
    if (!reason.empty()) GTEST_SKIP() << "no usable Slurm: " << reason;
  }
  TempDir dir_{"real"};
};

TEST_F(RealSlurmTest, FailedTaskIsReportedAndRerunAlone) {
  SlurmArrayJob job = ArrayJob(dir_.path());
  job.task_command =
      "echo \"shard $SLURM_ARRAY_TASK_ID\"\n"
      "if [ \"$SLURM_ARRAY_TASK_ID\" = 2 ]; then echo 'shard 2 breaks' >&2; exit 3; fi";
  const SlurmArrayResult first = RunSlurmArray(job);
  EXPECT_FALSE(first.job_id.empty());
  EXPECT_EQ(first.succeeded, (std::vector<int>{1, 3}));
  EXPECT_EQ(first.failed, (std::vector<int>{2}));
  for (const int id : {1, 2, 3}) {
    const fs::path log = SlurmTaskLogPath(job, id);
    ASSERT_TRUE(fs::exists(log)) << log;
    EXPECT_NE(ReadFile(log).find("shard " + std::to_string(id)), std::string::npos) << log;
  }
  EXPECT_NE(ReadFile(SlurmTaskLogPath(job, 2)).find("shard 2 breaks"), std::string::npos)
      << "stderr goes to the task's log";
  EXPECT_NE(ReadFile(SlurmTaskLogPath(job, 2)).find("exit status 3"), std::string::npos);

  // Only the failed shard again, with the bug fixed.
  job.task_ids = first.failed;
  job.task_command = "echo \"shard $SLURM_ARRAY_TASK_ID fixed\"";
  const SlurmArrayResult second = RunSlurmArray(job);
  EXPECT_NE(second.job_id, first.job_id);
  EXPECT_EQ(second.succeeded, (std::vector<int>{2}));
  EXPECT_TRUE(second.failed.empty());
  const std::string log = ReadFile(SlurmTaskLogPath(job, 2));
  EXPECT_NE(log.find("shard 2 breaks"), std::string::npos) << "a rerun appends to the log";
  EXPECT_NE(log.find("shard 2 fixed"), std::string::npos);
}

TEST_F(RealSlurmTest, SbatchsRefusalIsQuoted) {
  SlurmArrayJob job = ArrayJob(dir_.path());
  job.sbatch_args = {"--partition=scalesfm_no_such_partition"};
  const std::string message = ErrorOf([&] { RunSlurmArray(job); });
  EXPECT_NE(message.find("sbatch refused"), std::string::npos) << message;
  EXPECT_NE(message.find("scalesfm_no_such_partition"), std::string::npos) << message;
}

}  // namespace
}  // namespace scalesfm
