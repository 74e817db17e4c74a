// Issue 26: concurrent runs in one folder lose nothing, killed runs' temporary files are removed,
// errors in model set-up, options, devices, paths and image listings are reported before any
// work, with a clear message and a non-zero exit. Each test failed before its fix.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <torch/torch.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <opencv2/imgcodecs.hpp>
#include <set>

#include "colmap_ext/camera.h"
#include "colmap_ext/colmap_runner.h"
#include "colmap_ext/database.h"
#include "colmap_ext/database_check.h"
#include "colmap_ext/image_reader.h"
#include "feature/extraction_pipeline.h"
#include "feature/image_io.h"
#include "scale/scalenet.h"
#include "tests/test_util.h"
#include "util/logging.h"
#include "util/scratch_dir.h"
#include "util/weights_io.h"

namespace scalesfm {
namespace {
namespace fs = std::filesystem;

std::string Quote(const std::string& s) { return "'" + s + "'"; }

// A fresh database with the synthetic scene's SIFT features (500 per image).
std::string ExtractedDatabase(const std::string& dir, const std::string& name) {
  static std::string extracted;
  if (extracted.empty()) {
    extracted = test::MakeTempDir("reliability_features") + "/features.db";
    ExtractionOptions options;
    options.max_num_features = 500;
    RunFeatureExtraction(extracted, test::SyntheticSceneDir() + "/images", ImageReaderOptions(),
                         options);
  }
  const std::string path = dir + "/" + name;
  fs::copy_file(extracted, path, fs::copy_options::overwrite_existing);
  return path;
}

std::set<int64_t> GeometryPairIds(const std::string& database_path) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(database_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db, "SELECT pair_id FROM two_view_geometries;", -1, &stmt, nullptr);
  std::set<int64_t> ids;
  while (sqlite3_step(stmt) == SQLITE_ROW) ids.insert(sqlite3_column_int64(stmt, 0));
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return ids;
}

std::vector<std::string> ScratchFolders(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().string().find(".scalesfm-tmp") != std::string::npos) {
      out.push_back(entry.path().string());
    }
  }
  return out;
}

// The README's shard example, in one folder, with a colmap that sleeps 2 s before verifying so
// that the two runs overlap. Before issue 26 both runs used `scalesfm_verify_<k>.db` and
// `scalesfm_verification_pairs.txt` in the folder: shard 1 exited 0 holding shard 2's
// geometries, and the merge lacked pairs.
class ConcurrentShards : public ::testing::TestWithParam<int> {};

TEST_P(ConcurrentShards, MergeIntoTheCompleteDatabase) {
  if (!test::HaveColmap()) GTEST_SKIP() << "colmap binary not installed";
  const int num_processes = GetParam();
  const std::string dir = test::MakeTempDir("shards");
  const std::string colmap = ColmapRunner().ResolveBinary();  // honours $SCALESFM_COLMAP
  const std::string slow = dir + "/slow_colmap.sh";
  std::ofstream(slow) << "#!/bin/sh\n[ \"$1\" = matches_importer ] && sleep 2\nexec " << colmap
                      << " \"$@\"\n";
  fs::permissions(slow, fs::perms::owner_all);
  const std::string flags = " --SiftMatching.num_processes " + std::to_string(num_processes);

  const std::string whole = ExtractedDatabase(dir, "whole.db");
  std::string log;
  ASSERT_EQ(test::RunCommand(test::ScalesfmBinary() + " exhaustive_matcher --database_path " +
                                 Quote(whole) + flags,
                             &log),
            0)
      << log;
  const std::set<int64_t> expected = GeometryPairIds(whole);
  ASSERT_GT(expected.size(), 10u);

  const std::string s1 = ExtractedDatabase(dir, "s1.db"), s2 = ExtractedDatabase(dir, "s2.db");
  const std::string run = "SCALESFM_COLMAP=" + Quote(slow) + " " + test::ScalesfmBinary() +
                          " exhaustive_matcher" + flags;
  ASSERT_EQ(
      test::RunCommand("(" + run + " --database_path " + Quote(s1) + " --Matching.shard 1/2 > " +
                           Quote(dir + "/s1.log") + " 2>&1; echo $? > " + Quote(dir + "/s1.rc") +
                           ") & " + run + " --database_path " + Quote(s2) +
                           " --Matching.shard 2/2; rc=$?;" + " wait; exit $rc",
                       &log),
      0)
      << log;
  std::string rc1;
  std::ifstream(dir + "/s1.rc") >> rc1;
  std::ifstream s1_log(dir + "/s1.log");
  ASSERT_EQ(rc1, "0") << std::string(std::istreambuf_iterator<char>(s1_log), {});
  // Each shard holds exactly its own slice's geometries.
  const std::set<int64_t> g1 = GeometryPairIds(s1), g2 = GeometryPairIds(s2);
  for (int64_t id : g1) EXPECT_FALSE(g2.count(id)) << "pair " << id << " in both shards";
  const std::string merged = dir + "/merged.db";
  ASSERT_EQ(test::RunCommand(test::ScalesfmBinary() + " database_merger --database_path1 " +
                                 Quote(s1) + " --database_path2 " + Quote(s2) +
                                 " --merged_database_path " + Quote(merged),
                             &log),
            0)
      << log;
  EXPECT_EQ(GeometryPairIds(merged), expected);
  EXPECT_TRUE(ScratchFolders(dir).empty()) << ScratchFolders(dir).front();
}

INSTANTIATE_TEST_SUITE_P(Processes, ConcurrentShards, ::testing::Values(1, 2));

TEST(ScratchDir, RunsGetTheirOwnFoldersAndKilledRunsAreCleanedUp) {
  const std::string dir = test::MakeTempDir("scratch");
  const std::string anchor = dir + "/database.db";
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // A run killed with SIGKILL: no destructor runs.
    auto* scratch = new ScratchDir(anchor);
    std::ofstream(scratch->File("verify_0.db")) << "a database copy";
    const char byte = 1;
    if (write(ready[1], &byte, 1) != 1) _exit(2);
    pause();
    _exit(0);
  }
  char byte = 0;
  ASSERT_EQ(read(ready[0], &byte, 1), 1);
  close(ready[0]);
  close(ready[1]);
  const std::string root = ScratchDir::RootFor(anchor);
  ASSERT_EQ(std::distance(fs::directory_iterator(root), fs::directory_iterator()), 1);
  const std::string killed = fs::directory_iterator(root)->path().string();
  {
    // While the other run lives, its folder is left alone.
    ScratchDir alive(anchor);
    EXPECT_TRUE(fs::exists(killed + "/verify_0.db"));
    EXPECT_NE(alive.path(), killed);
    kill(child, SIGKILL);
    int status = 0;
    waitpid(child, &status, 0);
    EXPECT_TRUE(fs::exists(killed));
    {
      // Once it is dead, the next run removes it, and two live runs have two folders.
      ScratchDir next(anchor);
      EXPECT_FALSE(fs::exists(killed));
      EXPECT_TRUE(fs::is_directory(alive.path()));
      EXPECT_NE(next.path(), alive.path());
    }
  }
  EXPECT_FALSE(fs::exists(root)) << "the last run removes the shared folder";
}

TEST(Reliability, ExtractorErrorsAreClearAndCreateNoDatabase) {
  const std::string dir = test::MakeTempDir("extractor_errors");
  std::vector<std::string> cases = {"--Extraction.scfeat_weights " + dir + "/missing.pt"};
  std::ofstream(dir + "/garbage.pt") << "not a weights file";
  std::ofstream(dir + "/garbage.pt.json") << R"({"architecture": "scfeat"})";
  cases.push_back("--Extraction.scfeat_weights " + dir + "/garbage.pt");
  if (!torch::cuda::is_available()) cases.push_back("--device cuda");
  for (const std::string& flags : cases) {
    std::string output;
    const int rc =
        test::RunCommand(test::ScalesfmBinary() + " feature_extractor --database_path " + dir +
                             "/database.db --image_path " + test::SyntheticSceneDir() +
                             "/images --Extraction.type scfeat " + flags,
                         &output);
    EXPECT_EQ(rc, 1) << flags << ": " << output;  // not 134 (abort)
    EXPECT_NE(output.find("ERROR: "), std::string::npos) << flags << ": " << output;
    EXPECT_EQ(output.find("terminate called"), std::string::npos) << output;
    EXPECT_FALSE(fs::exists(dir + "/database.db")) << flags;
  }
}

// Copies a shipped weights file and its sidecar into `dir` and flips one byte near its end:
// same size, so only the sha256 in the sidecar can tell.
std::string FlippedWeights(const std::string& dir, const std::string& file_name) {
  const std::string path = dir + "/" + file_name;
  fs::copy_file(DefaultWeights(file_name), path);
  fs::copy_file(DefaultWeights(file_name) + ".json", path + ".json");
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  const auto at = static_cast<std::streamoff>(fs::file_size(path) - 1000);
  char c = 0;
  f.seekg(at);
  f.read(&c, 1);
  c = static_cast<char>(c ^ 0x01);
  f.seekp(at);
  f.write(&c, 1);
  return path;
}

TEST(Reliability, CorruptOrNonFiniteWeightsAreErrorsInTheCommands) {
  const std::string dir = test::MakeTempDir("weights_cli");
  const std::string scene = test::SyntheticSceneDir();
  const std::string pair =
      " --image1 " + scene + "/images/0000.png --image2 " + scene + "/images/0001.png";
  struct Case {
    std::string command, expected;
  };
  // NaN weights with a correct checksum, as a diverged training run would write them.
  const std::string nan_path = dir + "/diverged.pt";
  {
    ScaleNet model(ScaleNetConfig::Compact());
    torch::NoGradGuard no_grad;
    model->named_parameters()["reduce_ab.0.weight"].fill_(NAN);
    SaveWeights(*model, nan_path, ReadSidecar(DefaultWeights("scalenet_compact.pt")));
  }
  const std::vector<Case> cases = {
      {"estimate_scale --json --ScaleMatching.estimator scalenet --ScaleMatching.weights " +
           FlippedWeights(dir, "scalenet_compact.pt") + pair,
       "does not match the sha256"},
      {"estimate_scale --json --ScaleMatching.estimator scalenet --ScaleMatching.weights " +
           nan_path + pair,
       "holds NaN or infinite values"},
      {"feature_extractor --database_path " + dir + "/scfeat.db --image_path " + scene +
           "/images --Extraction.type scfeat --Extraction.scfeat_weights " +
           FlippedWeights(dir, "scfeat_compact.pt"),
       "does not match the sha256"},
  };
  for (const Case& c : cases) {
    std::string output;
    const int rc = test::RunCommand(test::ScalesfmBinary() + " " + c.command, &output);
    EXPECT_EQ(rc, 1) << c.command << ": " << output;
    EXPECT_NE(output.find("ERROR: "), std::string::npos) << output;
    EXPECT_NE(output.find(c.expected), std::string::npos) << output;
    EXPECT_EQ(output.find(": nan"), std::string::npos) << output;
  }
  EXPECT_FALSE(fs::exists(dir + "/scfeat.db"));
}

TEST(Reliability, DeviceCudaWithoutAGpuIsAnErrorInEveryCommand) {
  if (torch::cuda::is_available()) GTEST_SKIP() << "a CUDA device is present";
  const std::string dir = test::MakeTempDir("device");
  const std::string scene = test::SyntheticSceneDir();
  const std::string db = ExtractedDatabase(dir, "database.db");
  const std::vector<std::string> commands = {
      "feature_extractor --database_path " + dir + "/new.db --image_path " + scene + "/images",
      "exhaustive_matcher --database_path " + db,
      "automatic_reconstructor --image_path " + scene + "/images --workspace_path " + dir + "/ws",
      "estimate_scale --image1 " + scene + "/images/0000.png --image2 " + scene +
          "/images/0001.png",
      "eval_eth --dataset_path " + scene + " --output_path " + dir + "/eth",
      "eval_imc --dataset_path " + scene + " --output_path " + dir + "/imc",
  };
  for (const std::string& command : commands) {
    std::string output;
    const int rc =
        test::RunCommand(test::ScalesfmBinary() + " " + command + " --device cuda", &output);
    EXPECT_NE(rc, 0) << command << ": " << output;
    EXPECT_NE(output.find("--device cuda was requested"), std::string::npos)
        << command << ": " << output;
  }
  EXPECT_FALSE(fs::exists(dir + "/new.db"));
  Database after(db);
  EXPECT_EQ(after.NumMatchesRows(), 0u);
}

TEST(Reliability, EvaluateModelRefusesAPathThatDoesNotExist) {
  std::string output;
  const std::string gt = test::SyntheticSceneDir() + "/gt";
  EXPECT_NE(test::RunCommand(test::ScalesfmBinary() + " evaluate_model --model_path " +
                                 "/nonexistent/sparse --gt_path " + gt,
                             &output),
            0)
      << output;
  EXPECT_NE(output.find("ERROR: --model_path /nonexistent/sparse does not exist"),
            std::string::npos)
      << output;
  // An existing folder without a model is a failed reconstruction: scored, with a warning.
  const std::string empty = test::MakeTempDir("no_model");
  EXPECT_EQ(test::RunCommand(test::ScalesfmBinary() + " evaluate_model --model_path " + empty +
                                 " --gt_path " + gt,
                             &output),
            0)
      << output;
  EXPECT_NE(output.find("no COLMAP model in"), std::string::npos) << output;
}

TEST(Reliability, UnusableFolderEntriesAreListedAsFailedAndDoNotStopExtraction) {
  const std::string dir = test::MakeTempDir("listing");
  const std::string images = dir + "/images";
  fs::create_directories(images);
  for (const char* name : {"0000.png", "0001.png"}) {
    fs::copy_file(test::SyntheticSceneDir() + "/images/" + name, images + "/" + name);
  }
  fs::create_symlink("loop_b.jpg", images + "/loop_a.jpg");
  fs::create_symlink("loop_a.jpg", images + "/loop_b.jpg");
  fs::create_symlink("/nonexistent/photo.jpg", images + "/dangling.jpg");
  fs::create_directories(images + "/folder.jpg");
  fs::create_directories(dir + "/elsewhere");
  fs::create_symlink(dir + "/elsewhere", images + "/linked_folder");
  fs::create_symlink(images + "/0000.png", images + "/link_to_file.png");  // a usable image

  const ImageListing listing = ListImageFolder(images);
  EXPECT_EQ(listing.names, (std::vector<std::string>{"0000.png", "0001.png", "link_to_file.png"}));
  std::map<std::string, std::string> skipped(listing.skipped.begin(), listing.skipped.end());
  ASSERT_EQ(skipped.size(), 5u);
  EXPECT_EQ(skipped["loop_a.jpg"], "symbolic link loop");
  EXPECT_EQ(skipped["loop_b.jpg"], "symbolic link loop");
  EXPECT_EQ(skipped["dangling.jpg"], "dangling symbolic link to /nonexistent/photo.jpg");
  EXPECT_EQ(skipped["folder.jpg"], "a folder, not an image file");
  EXPECT_EQ(skipped["linked_folder"], "symbolic link to a folder (not followed)");

  ExtractionOptions options;
  options.max_num_features = 300;
  const ExtractionSummary summary =
      RunFeatureExtraction(dir + "/database.db", images, ImageReaderOptions(), options);
  EXPECT_EQ(summary.num_extracted, 3u);
  EXPECT_EQ(summary.num_images, 8u);
  EXPECT_EQ(summary.failed.size(), 5u);
}

TEST(Reliability, JpegCorruptedInTheMiddleIsRejected) {
  const std::string dir = test::MakeTempDir("jpeg");
  std::string error;
  const cv::Mat image = ReadImageGray(test::SyntheticSceneDir() + "/images/0000.png", &error);
  std::vector<uint8_t> jpeg;
  ASSERT_TRUE(cv::imencode(".jpg", image, jpeg));
  std::vector<uint8_t> damaged = jpeg;
  for (size_t i = damaged.size() / 2; i < damaged.size() / 2 + 64; ++i) damaged[i] ^= 0xA5;
  std::ofstream(dir + "/intact.jpg", std::ios::binary)
      .write(reinterpret_cast<const char*>(jpeg.data()), jpeg.size());
  std::ofstream(dir + "/damaged.jpg", std::ios::binary)
      .write(reinterpret_cast<const char*>(damaged.data()), damaged.size());
  EXPECT_FALSE(ReadImageGray(dir + "/intact.jpg", &error).empty()) << error;
  // OpenCV decodes it (libjpeg only warns); scalesfm refuses it.
  EXPECT_FALSE(cv::imdecode(damaged, cv::IMREAD_GRAYSCALE).empty());
  EXPECT_TRUE(ReadImageGray(dir + "/damaged.jpg", &error).empty());
  EXPECT_NE(error.find("corrupt JPEG (libjpeg: Corrupt JPEG data"), std::string::npos) << error;
}

TEST(Reliability, BadVerificationValuesAreRefusedBeforeMatching) {
  const std::string dir = test::MakeTempDir("late_options");
  const std::string db = ExtractedDatabase(dir, "database.db");
  for (const char* flags :
       {"--SiftMatching.confidence 2", "--SiftMatching.max_num_trials 0",
        "--SiftMatching.min_inlier_ratio 1.5", "--SiftMatching.min_num_inliers -1",
        "--SiftMatching.num_threads 0", "--SiftMatching.max_error nan"}) {
    std::string output;
    EXPECT_NE(test::RunCommand(test::ScalesfmBinary() + " exhaustive_matcher --database_path " +
                                   db + " " + flags,
                               &output),
              0)
        << flags;
    EXPECT_NE(output.find("ERROR: --SiftMatching."), std::string::npos) << flags << ": " << output;
    EXPECT_EQ(Database(db).NumMatchesRows(), 0u) << flags << " wrote matches first";
  }
}

// A read-only mount in a private mount namespace (needs unprivileged user namespaces or root).
TEST(Reliability, ReadOnlyMountIsFoundBeforeAnyWork) {
  if (test::RunCommand("unshare -rm true") != 0) {
    GTEST_SKIP() << "unshare -rm is not permitted here: cannot make a read-only mount";
  }
  const std::string dir = test::MakeTempDir("read_only");
  fs::create_directories(dir + "/ro");
  const std::string db = ExtractedDatabase(dir + "/ro", "database.db");
  std::string output;
  const int rc = test::RunCommand("unshare -rm sh -c 'mount --bind " + dir + "/ro " + dir +
                                      "/ro && mount -o remount,bind,ro " + dir + "/ro && " +
                                      test::ScalesfmBinary() +
                                      " exhaustive_matcher --database_path " + db + "'",
                                  &output);
  EXPECT_NE(rc, 0) << output;
  EXPECT_NE(output.find("is not writable: the file or its file system is read-only"),
            std::string::npos)
      << output;
  EXPECT_EQ(output.find("Matching "), std::string::npos) << "work started: " << output;
}

}  // namespace
}  // namespace scalesfm

namespace scalesfm {
namespace {

// Each edit damages one field of a fresh copy of an extracted database; the reader that used to
// crash (cols = 0, keypoint_index), accept it (NaN) or throw std::bad_alloc (huge rows) must now
// throw Error naming the field, and the up-front check must find it before any work.
struct BlobEdit {
  const char* name;
  const char* sql;
  const char* message;       // expected in both errors
  bool reader_finds = true;  // false: only the whole-database check can tell
};

class MalformedBlobs : public ::testing::TestWithParam<BlobEdit> {};

TEST_P(MalformedBlobs, GiveAClearErrorBeforeAnyWork) {
  const BlobEdit& edit = GetParam();
  const std::string dir = test::MakeTempDir("blob");
  const std::string path = ExtractedDatabase(dir, "database.db");
  {
    Database db(path);
    db.Execute(edit.sql);
  }
  Database db(path);
  try {
    CheckDatabaseConsistency(&db);
    ADD_FAILURE() << edit.name << ": the consistency check passed";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(edit.message), std::string::npos) << e.what();
  }
  // The readers find it too, whoever calls them without the check.
  if (edit.reader_finds) try {
      db.ReadKeypoints(2);
      db.ReadDescriptors(2);
      for (const auto& [level, factor] : db.ReadLevelFactors(2)) db.ReadFeatureLevel(2, level);
      db.ReadMatches(1, 2);
      db.ReadTwoViewGeometry(1, 2);
      ADD_FAILURE() << edit.name << ": every reader accepted it";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(edit.message), std::string::npos) << e.what();
    }
  std::string output;
  EXPECT_EQ(test::RunCommand(test::ScalesfmBinary() + " exhaustive_matcher --database_path " + path,
                             &output),
            1)
      << output;
  EXPECT_NE(output.find("ERROR: database "), std::string::npos) << output;
  EXPECT_EQ(Database(path).NumTwoViewGeometries(), 0u) << edit.name << ": work was done first";
}

INSTANTIATE_TEST_SUITE_P(
    Edits, MalformedBlobs,
    ::testing::Values(
        BlobEdit{"cols0", "UPDATE keypoints SET cols = 0, data = x'' WHERE image_id = 2;",
                 "keypoints of image 2: cols must be 2, 4 or 6, not 0"},
        BlobEdit{"huge_rows", "UPDATE keypoints SET rows = 1099511627776 WHERE image_id = 2;",
                 "keypoint"},
        BlobEdit{"negative_rows", "UPDATE descriptors SET rows = -3 WHERE image_id = 2;",
                 "descriptor"},
        BlobEdit{"nan_keypoint",
                 "UPDATE keypoints SET data = CAST(x'0000c07f' || substr(data, 5) AS BLOB) WHERE "
                 "image_id = 2;",
                 "keypoint"},
        BlobEdit{"level_index",
                 "UPDATE scalesfm_feature_levels SET keypoint_index = CAST(x'ffffff7f' || "
                 "substr(keypoint_index, 5) AS BLOB) WHERE image_id = 2;",
                 "keypoint_index"},
        BlobEdit{"descriptor_rows",
                 "UPDATE descriptors SET rows = rows - 1, data = substr(data, 129) WHERE image_id "
                 "= 2;",
                 "descriptors of image 2", false},
        BlobEdit{"match_index",
                 "INSERT INTO matches VALUES (2147483649, 1, 2, x'00000000ffffff0f');",
                 "indexes past the images'"}),
    [](const ::testing::TestParamInfo<BlobEdit>& info) { return std::string(info.param.name); });

// Damage found by reading the fuzz harness's findings and a review: each edit is refused by the
// whole-database check and by the reader a command would call (each reader accepted it before).
TEST(Reliability, ReadersCheckShapesCountsAndRanges) {
  struct Edit {
    const char* name;
    const char* sql;
    std::function<void(const Database&)> read;  // empty: only the whole-database check can tell
  };
  const std::vector<Edit> edits = {
      {"F of 8 doubles",
       "INSERT INTO two_view_geometries(pair_id, rows, cols, data, config, F) VALUES "
       "(2147483649, 0, 2, x'', 2, zeroblob(64));",
       [](const Database& db) { db.ReadTwoViewGeometry(1, 2); }},
      {"qvec of 3 doubles",
       "INSERT INTO two_view_geometries(pair_id, rows, cols, data, config, qvec) VALUES "
       "(2147483649, 0, 2, x'', 2, zeroblob(24));",
       nullptr},
      {"matches rows != blob",
       "INSERT INTO matches VALUES (2147483649, 5, 2, x'0000000001000000');",
       [](const Database& db) { db.ReadMatches(1, 2); }},
      {"negative num_detected",
       "INSERT OR REPLACE INTO scalesfm_detected_keypoints VALUES (2, -1);",
       [](const Database& db) { db.ReadNumDetectedKeypoints(2); }},
      {"infinite level factor",
       "UPDATE scalesfm_feature_levels SET factor = 1e999 WHERE image_id = 2;",
       [](const Database& db) { db.ReadLevelFactors(2); }},
      {"keypoint blob with 2 extra bytes",
       "UPDATE keypoints SET data = CAST(data || x'0000' AS BLOB) WHERE image_id = 2;",
       [](const Database& db) { db.ReadKeypoints(2); }},
      {"camera width 2^32 + 640", "UPDATE cameras SET width = 4294967936 WHERE camera_id = 1;",
       [](const Database& db) { db.ReadCamera(1); }},
  };
  const std::string dir = test::MakeTempDir("reader_checks");
  for (const Edit& edit : edits) {
    const std::string path = ExtractedDatabase(dir, "database.db");
    {
      Database db(path);
      db.Execute(edit.sql);
    }
    Database db(path);
    EXPECT_THROW(CheckDatabaseConsistency(&db), Error) << edit.name;
    if (edit.read) {
      EXPECT_THROW(edit.read(db), Error) << edit.name;
    }
  }
}

// A model that overflows must not leave NaN in the database (before: written as is, and every
// later command read them): the writers refuse non-finite values, inside the caller's
// transaction, so nothing of the image is written.
TEST(Reliability, WritersRefuseNonFiniteValues) {
  const std::string dir = test::MakeTempDir("nonfinite_writes");
  Database db(dir + "/database.db");
  Camera camera;
  camera.model_id = 1;
  camera.width = 100;
  camera.height = 100;
  camera.params = {100, 100, 50, 50};
  Image image;
  image.name = "a.jpg";
  image.camera_id = db.WriteCamera(camera);
  const image_t id1 = db.WriteImage(image);
  image.name = "b.jpg";
  const image_t id2 = db.WriteImage(image);
  Keypoints keypoints(3);
  keypoints[1].a21 = NAN;
  {
    Database::Transaction transaction(&db);
    EXPECT_THROW(
        {
          try {
            db.WriteKeypoints(id1, keypoints);
          } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find("keypoint 1 of image"), std::string::npos)
                << e.what();
            throw;
          }
        },
        Error);
  }
  EXPECT_FALSE(db.ExistsKeypoints(id1));
  DescriptorsF32 descriptors = DescriptorsF32::Zero(3, 4);
  descriptors(2, 3) = INFINITY;
  EXPECT_THROW(db.WriteFloatDescriptors(id1, descriptors), Error);
  EXPECT_FALSE(db.ExistsFloatDescriptors(id1));
  for (const double scale : {0.0, -1.0, double(NAN), 1e-320}) {
    PairScale pair_scale;
    pair_scale.estimator = "sift_vote";
    pair_scale.scale = scale;
    EXPECT_THROW(db.WritePairScale(id1, id2, pair_scale), Error) << scale;
    EXPECT_FALSE(db.ReadPairScale(id1, id2, "sift_vote").has_value());
  }
}

}  // namespace
}  // namespace scalesfm
