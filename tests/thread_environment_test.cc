#include "util/thread_environment.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "feature/extraction_pipeline.h"
#include "tests/test_util.h"

namespace scalesfm {
namespace {

bool Has(const std::vector<std::string>& env, const std::string& entry) {
  return std::find(env.begin(), env.end(), entry) != env.end();
}

bool HasName(const std::vector<std::string>& env, const std::string& name) {
  return std::any_of(env.begin(), env.end(),
                     [&](const std::string& e) { return e.rfind(name + "=", 0) == 0; });
}

TEST(ThreadEnvironment, TheUsersOwnValuesWin) {
  auto names = [](const std::vector<EnvironmentSetting>& settings) {
    std::vector<std::string> out;
    for (const auto& s : settings) out.push_back(s.name + "=" + s.value);
    return out;
  };
  EXPECT_EQ(names(ThreadSettingsToApply({"PATH=/bin"})),
            (std::vector<std::string>{"OMP_WAIT_POLICY=PASSIVE", "OPENBLAS_THREAD_TIMEOUT=4"}));
  EXPECT_EQ(names(ThreadSettingsToApply({"OMP_WAIT_POLICY=ACTIVE", "PATH=/bin"})),
            (std::vector<std::string>{"OPENBLAS_THREAD_TIMEOUT=4"}));
  // A variable set to the empty string is the user's choice too.
  EXPECT_TRUE(ThreadSettingsToApply({"OMP_WAIT_POLICY=", "OPENBLAS_THREAD_TIMEOUT=28"}).empty());
}

TEST(ThreadEnvironment, ChildrenGetTheUsersEnvironmentBack) {
  const std::vector<std::string> env = {
      "PATH=/bin", "OMP_WAIT_POLICY=PASSIVE", "OPENBLAS_THREAD_TIMEOUT=4",
      "SCALESFM_THREAD_ENV_SET=OMP_WAIT_POLICY,OPENBLAS_THREAD_TIMEOUT"};
  EXPECT_EQ(UserEnvironment(env), (std::vector<std::string>{"PATH=/bin"}));
  // Only what scalesfm set is removed: the user's OMP_WAIT_POLICY stays.
  EXPECT_EQ(UserEnvironment({"OMP_WAIT_POLICY=ACTIVE", "OPENBLAS_THREAD_TIMEOUT=4",
                             "SCALESFM_THREAD_ENV_SET=OPENBLAS_THREAD_TIMEOUT", "HOME=/root"}),
            (std::vector<std::string>{"OMP_WAIT_POLICY=ACTIVE", "HOME=/root"}));
  EXPECT_EQ(UserEnvironment({"OMP_WAIT_POLICY=ACTIVE", "SCALESFM_THREAD_ENV_SET="}),
            (std::vector<std::string>{"OMP_WAIT_POLICY=ACTIVE"}));
  // No marker: nothing was set by scalesfm, nothing is removed.
  EXPECT_EQ(UserEnvironment({"OMP_WAIT_POLICY=PASSIVE", "A=1"}),
            (std::vector<std::string>{"OMP_WAIT_POLICY=PASSIVE", "A=1"}));
}

std::vector<std::string> ReadEntries(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The real binary: scalesfm runs with the settings (its /proc environ after the re-execution),
// and the colmap it starts sees only the user's variables.
TEST(ThreadEnvironment, TheCliSetsItsOwnAndColmapGetsTheUsers) {
  const std::string dir = test::MakeTempDir("threadenv");
  ExtractionOptions options;
  options.max_num_features = 200;
  RunFeatureExtraction(dir + "/database.db", test::SyntheticSceneDir() + "/images",
                       ImageReaderOptions(), options);
  const std::string fake = dir + "/colmap";
  {
    std::ofstream script(fake);
    script << "#!/bin/sh\n"
           << "tr '\\0' '\\n' < /proc/$PPID/environ > " << dir << "/parent_$$.env\n"
           << "env > " << dir << "/child_$$.env\n"
           << "exit 3\n";
  }
  std::filesystem::permissions(fake, std::filesystem::perms::owner_all);

  const auto run = [&](const std::string& user_env) {
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
      if (e.path().extension() == ".env") std::filesystem::remove(e.path());
    }
    std::string output;
    const int rc = test::RunCommand(
        "env -u OMP_WAIT_POLICY -u OPENBLAS_THREAD_TIMEOUT -u SCALESFM_THREAD_ENV_SET " + user_env +
            " SCALESFM_COLMAP=" + fake + " " + test::ScalesfmBinary() +
            " exhaustive_matcher --database_path " + dir + "/database.db",
        &output);
    EXPECT_NE(rc, 0) << output;  // the fake colmap fails the verification
    std::vector<std::vector<std::string>> parents, children;
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
      const std::string name = e.path().filename().string();
      if (name.rfind("parent_", 0) == 0) parents.push_back(ReadEntries(e.path().string()));
      if (name.rfind("child_", 0) == 0) children.push_back(ReadEntries(e.path().string()));
    }
    EXPECT_FALSE(children.empty()) << output;
    return std::make_pair(parents, children);
  };

  const auto [parents, children] = run("");
  for (const auto& env : parents) {
    EXPECT_TRUE(Has(env, "OMP_WAIT_POLICY=PASSIVE"));
    EXPECT_TRUE(Has(env, "OPENBLAS_THREAD_TIMEOUT=4"));
  }
  for (const auto& env : children) {
    EXPECT_FALSE(HasName(env, "OMP_WAIT_POLICY"));
    EXPECT_FALSE(HasName(env, "OPENBLAS_THREAD_TIMEOUT"));
    EXPECT_FALSE(HasName(env, kThreadEnvironmentMarker));
    EXPECT_TRUE(Has(env, "QT_QPA_PLATFORM=offscreen"));
  }

  const auto [user_parents, user_children] = run("OMP_WAIT_POLICY=ACTIVE");
  for (const auto& env : user_parents) {
    EXPECT_TRUE(Has(env, "OMP_WAIT_POLICY=ACTIVE"));
    EXPECT_TRUE(Has(env, "OPENBLAS_THREAD_TIMEOUT=4"));
  }
  for (const auto& env : user_children) {
    EXPECT_TRUE(Has(env, "OMP_WAIT_POLICY=ACTIVE"));
    EXPECT_FALSE(HasName(env, "OPENBLAS_THREAD_TIMEOUT"));
  }
}

}  // namespace
}  // namespace scalesfm
