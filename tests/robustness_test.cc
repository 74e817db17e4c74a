// Bad input gets a clear error and loses nothing: corrupt images, a locked database, a missing
// colmap binary, and a SIGKILL in the middle of extraction or matching.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <thread>

#include "colmap_ext/database.h"
#include "feature/extraction_pipeline.h"
#include "matching/matching_controller.h"
#include "tests/test_util.h"

namespace scalesfm {
namespace {
namespace fs = std::filesystem;

std::string CopySceneImages(const std::string& tag) {
  const std::string dir = test::MakeTempDir(tag);
  fs::create_directories(dir + "/images");
  for (const auto& entry : fs::directory_iterator(test::SyntheticSceneDir() + "/images")) {
    fs::copy_file(entry.path(), dir + "/images/" + entry.path().filename().string());
  }
  return dir;
}

TEST(Robustness, CorruptImagesAreSkippedNamedAndListed) {
  const std::string dir = CopySceneImages("corrupt");
  std::ofstream(dir + "/images/garbage.jpg") << "this is not an image";
  std::ofstream(dir + "/images/empty.png");
  const cv::Mat image = cv::imread(dir + "/images/0000.png");
  std::vector<uint8_t> jpeg;
  cv::imencode(".jpg", image, jpeg);
  std::ofstream(dir + "/images/truncated.jpg", std::ios::binary)
      .write(reinterpret_cast<const char*>(jpeg.data()), jpeg.size() / 2);

  ExtractionOptions options;
  options.max_num_features = 500;
  const ExtractionSummary s =
      RunFeatureExtraction(dir + "/database.db", dir + "/images", ImageReaderOptions(), options);
  EXPECT_EQ(s.num_images, 11u);
  EXPECT_EQ(s.num_extracted, 8u);
  ASSERT_EQ(s.failed.size(), 3u);
  std::set<std::string> failed;
  for (const auto& [name, reason] : s.failed) failed.insert(name);
  EXPECT_EQ(failed, (std::set<std::string>{"empty.png", "garbage.jpg", "truncated.jpg"}));
  Database db(dir + "/database.db");
  EXPECT_EQ(db.NumImages(), 8u);
  EXPECT_FALSE(db.ReadImageWithName("truncated.jpg").has_value());

  const ExtractionSummary again =
      RunFeatureExtraction(dir + "/database.db", dir + "/images", ImageReaderOptions(), options);
  EXPECT_EQ(again.num_extracted, 0u);
  EXPECT_EQ(again.num_already_done, 8u);
  EXPECT_EQ(again.failed.size(), 3u);
}

TEST(Robustness, LockedDatabaseFailsClearlyFromTheCli) {
  const std::string dir = test::MakeTempDir("locked");
  { Database db(dir + "/database.db"); }
  sqlite3* holder;
  ASSERT_EQ(sqlite3_open((dir + "/database.db").c_str(), &holder), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(holder, "BEGIN EXCLUSIVE;", nullptr, nullptr, nullptr), SQLITE_OK);
  std::string output;
  const int rc =
      test::RunCommand(test::ScalesfmBinary() + " feature_extractor --database_path " + dir +
                           "/database.db --image_path " + test::SyntheticSceneDir() + "/images",
                       &output);
  sqlite3_exec(holder, "ROLLBACK;", nullptr, nullptr, nullptr);
  sqlite3_close(holder);
  EXPECT_NE(rc, 0);
  EXPECT_NE(output.find("locked"), std::string::npos) << output;
}

TEST(Robustness, MissingColmapFailsClearlyAndWritesNothing) {
  const std::string dir = test::MakeTempDir("nocolmap");
  ExtractionOptions options;
  options.max_num_features = 300;
  RunFeatureExtraction(dir + "/database.db", test::SyntheticSceneDir() + "/images",
                       ImageReaderOptions(), options);
  std::string output;
  const int rc = test::RunCommand("SCALESFM_COLMAP=/nonexistent/colmap " + test::ScalesfmBinary() +
                                      " exhaustive_matcher --database_path " + dir + "/database.db",
                                  &output);
  EXPECT_NE(rc, 0);
  EXPECT_NE(output.find("/nonexistent/colmap"), std::string::npos) << output;
  EXPECT_NE(output.find("not found"), std::string::npos) << output;
  Database db(dir + "/database.db");
  EXPECT_EQ(db.NumMatchesRows(), 0u);
}

size_t CountRows(const std::string& db_path, const std::string& table) {
  sqlite3* db;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return 0;
  }
  sqlite3_busy_timeout(db, 1000);
  sqlite3_stmt* stmt = nullptr;
  size_t n = 0;
  if (sqlite3_prepare_v2(db, ("SELECT COUNT(*) FROM " + table).c_str(), -1, &stmt, nullptr) ==
          SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW) {
    n = sqlite3_column_int64(stmt, 0);
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return n;
}

// Starts `args` (the scalesfm binary), SIGKILLs it once `table` has at least one row, and
// returns how many rows there were just after the kill.
size_t KillWhenRowsAppear(const std::vector<std::string>& args, const std::string& db_path,
                          const std::string& table) {
  const pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    freopen("/dev/null", "w", stdout);
    execv(argv[0], argv.data());
    _exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (std::chrono::steady_clock::now() < deadline) {
    if (CountRows(db_path, table) > 0) break;
    int status;
    if (waitpid(pid, &status, WNOHANG) == pid) return CountRows(db_path, table);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  return CountRows(db_path, table);
}

bool IntegrityOk(const std::string& db_path) {
  sqlite3* db;
  sqlite3_open(db_path.c_str(), &db);
  sqlite3_stmt* stmt;
  sqlite3_prepare_v2(db, "PRAGMA integrity_check;", -1, &stmt, nullptr);
  const bool ok = sqlite3_step(stmt) == SQLITE_ROW &&
                  std::string(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0))) == "ok";
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return ok;
}

TEST(Robustness, KilledExtractionAndMatchingResumeToTheSameDatabase) {
  if (!test::HaveColmap()) GTEST_SKIP() << "colmap binary not installed";
  const std::string images = test::SyntheticSceneDir() + "/images";
  const std::string dir = test::MakeTempDir("kill");
  const std::string killed = dir + "/killed.db", clean = dir + "/clean.db";
  const std::string bin = test::ScalesfmBinary();
  const std::vector<std::string> extract = {bin,
                                            "feature_extractor",
                                            "--image_path",
                                            images,
                                            "--Extraction.num_threads",
                                            "1",
                                            "--Extraction.max_num_features",
                                            "1500",
                                            "--database_path"};
  auto with_db = [](std::vector<std::string> args, const std::string& db) {
    args.push_back(db);
    return args;
  };
  const size_t at_kill = KillWhenRowsAppear(with_db(extract, killed), killed, "descriptors");
  EXPECT_GE(at_kill, 1u);
  EXPECT_LT(at_kill, 8u) << "extraction finished before it could be killed";
  EXPECT_TRUE(IntegrityOk(killed));
  // Every image row written has its features: each image is one transaction.
  EXPECT_EQ(CountRows(killed, "images"), CountRows(killed, "keypoints"));

  std::string log;
  ASSERT_EQ(test::RunCommand(
                [&] {
                  std::string cmd;
                  for (const auto& a : with_db(extract, killed)) cmd += a + " ";
                  return cmd;
                }(),
                &log),
            0)
      << log;
  EXPECT_EQ(CountRows(killed, "keypoints"), 8u);
  EXPECT_EQ(CountRows(killed, "images"), 8u);

  const std::vector<std::string> match = {
      bin, "exhaustive_matcher", "--Matching.pairs_per_commit", "1", "--Matching.num_threads",
      "1", "--database_path"};
  const size_t matched_at_kill = KillWhenRowsAppear(with_db(match, killed), killed, "matches");
  EXPECT_GE(matched_at_kill, 1u);
  EXPECT_LT(matched_at_kill, 28u) << "matching finished before it could be killed";
  EXPECT_TRUE(IntegrityOk(killed));
  std::string cmd;
  for (const auto& a : with_db(match, killed)) cmd += a + " ";
  ASSERT_EQ(test::RunCommand(cmd, &log), 0) << log;

  // The same commands without interruption give the same database content.
  std::string clean_extract, clean_match;
  for (const auto& a : with_db(extract, clean)) clean_extract += a + " ";
  for (const auto& a : with_db(match, clean)) clean_match += a + " ";
  ASSERT_EQ(test::RunCommand(clean_extract, &log), 0) << log;
  ASSERT_EQ(test::RunCommand(clean_match, &log), 0) << log;
  Database k(killed), c(clean);
  EXPECT_EQ(k.NumMatchesRows(), 28u);
  EXPECT_EQ(k.NumTwoViewGeometries(), 28u);
  for (const Image& image : c.ReadAllImages()) {
    const auto other = k.ReadImageWithName(image.name);
    ASSERT_TRUE(other.has_value());
    EXPECT_EQ(k.ReadKeypoints(other->image_id).size(), c.ReadKeypoints(image.image_id).size());
  }
  // Image ids may differ between the two runs (parallel order); compare matches by name.
  const auto k_images = k.ReadAllImages();
  const auto c_images = c.ReadAllImages();
  for (size_t i = 0; i < c_images.size(); ++i) {
    for (size_t j = i + 1; j < c_images.size(); ++j) {
      const image_t ki = k.ReadImageWithName(c_images[i].name)->image_id;
      const image_t kj = k.ReadImageWithName(c_images[j].name)->image_id;
      EXPECT_EQ(k.ReadMatches(ki, kj).size(),
                c.ReadMatches(c_images[i].image_id, c_images[j].image_id).size());
    }
  }
}

}  // namespace
}  // namespace scalesfm
