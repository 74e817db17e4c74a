#include "colmap_ext/database.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>

#include "colmap_ext/colmap_runner.h"
#include "tests/test_util.h"
#include "util/logging.h"

namespace scalesfm {
namespace {

TEST(PairId, FollowsColmapConvention) {
  EXPECT_EQ(ImagePairToPairId(1, 2), 2147483647ull * 1 + 2);
  EXPECT_EQ(ImagePairToPairId(2, 1), ImagePairToPairId(1, 2));
  const auto [a, b] = PairIdToImagePair(ImagePairToPairId(7, 3));
  EXPECT_EQ(a, 3u);
  EXPECT_EQ(b, 7u);
}

TEST(Database, RoundTripsEveryTable) {
  const std::string path = test::MakeTempDir("db") + "/database.db";
  image_t id1, id2;
  {
    Database db(path);
    Camera camera = MakeDefaultCamera("SIMPLE_RADIAL", 640, 480, 768.0, true);
    const camera_t cam_id = db.WriteCamera(camera);
    id1 = db.WriteImage({kInvalidImageId, "a.jpg", cam_id});
    id2 = db.WriteImage({kInvalidImageId, "sub/b.jpg", cam_id});
    Keypoints kps = {Keypoint::FromScaleOrientation(1.5f, 2.5f, 3.0f, 0.5f),
                     Keypoint::FromScaleOrientation(10.f, 20.f, 1.0f, -1.0f)};
    db.WriteKeypoints(id1, kps);
    DescriptorsU8 desc(2, 128);
    for (int i = 0; i < desc.size(); ++i) desc.data()[i] = static_cast<uint8_t>(i % 251);
    db.WriteDescriptors(id1, desc);
    // Matches index keypoints that exist (the readers check): id2 gets 7.
    db.WriteKeypoints(id2, Keypoints(7, Keypoint::FromScaleOrientation(1.f, 1.f, 1.f, 0.f)));
    // Written as (id2, id1): stored swapped, read back in the caller's order.
    db.WriteMatches(id2, id1, {{5, 1}, {6, 0}});
  }
  Database db(path);
  const Camera camera = db.ReadCamera(db.ReadImageWithName("a.jpg")->camera_id);
  EXPECT_EQ(camera.ModelName(), "SIMPLE_RADIAL");
  EXPECT_EQ(camera.width, 640);
  EXPECT_DOUBLE_EQ(camera.FocalX(), 768.0);
  EXPECT_DOUBLE_EQ(camera.PrincipalX(), 320.0);
  EXPECT_TRUE(camera.has_prior_focal_length);
  EXPECT_EQ(db.ReadAllImages().size(), 2u);
  EXPECT_EQ(db.ReadImageWithName("sub/b.jpg")->image_id, id2);
  EXPECT_FALSE(db.ReadImageWithName("missing.jpg").has_value());

  const Keypoints kps = db.ReadKeypoints(id1);
  ASSERT_EQ(kps.size(), 2u);
  EXPECT_FLOAT_EQ(kps[0].x, 1.5f);
  EXPECT_NEAR(kps[0].ComputeScale(), 3.0f, 1e-5);
  EXPECT_NEAR(kps[0].ComputeOrientation(), 0.5f, 1e-5);
  const DescriptorsU8 desc = db.ReadDescriptors(id1);
  ASSERT_EQ(desc.rows(), 2);
  EXPECT_EQ(desc(1, 3), (128 + 3) % 251);
  EXPECT_TRUE(db.ExistsKeypoints(id1));
  EXPECT_FALSE(db.ExistsKeypoints(id2 + 1));

  const Matches m21 = db.ReadMatches(id2, id1);
  ASSERT_EQ(m21.size(), 2u);
  EXPECT_EQ(m21[0].idx1, 5u);
  EXPECT_EQ(m21[0].idx2, 1u);
  const Matches m12 = db.ReadMatches(id1, id2);
  EXPECT_EQ(m12[0].idx1, 1u);
  EXPECT_EQ(m12[0].idx2, 5u);
  EXPECT_EQ(db.ReadMatchedPairIds(), std::vector<image_pair_t>{ImagePairToPairId(id1, id2)});

  TwoViewGeometry tvg;
  tvg.config = 2;
  tvg.inlier_matches = {{1, 5}};
  db.WriteTwoViewGeometry(id1, id2, tvg);
  EXPECT_EQ(db.ReadTwoViewGeometry(id2, id1).inlier_matches[0].idx1, 5u);
  EXPECT_EQ(db.ReadTwoViewGeometryNumInliers().at(ImagePairToPairId(id1, id2)), 1u);
}

TEST(Database, TransactionRollsBackUnlessCommitted) {
  const std::string path = test::MakeTempDir("db") + "/database.db";
  Database db(path);
  const camera_t cam = db.WriteCamera(MakeDefaultCamera("PINHOLE", 10, 10, 12, false));
  {
    Database::Transaction transaction(&db);
    db.WriteImage({kInvalidImageId, "x.png", cam});
  }
  EXPECT_EQ(db.NumImages(), 0u);
  {
    Database::Transaction transaction(&db);
    db.WriteImage({kInvalidImageId, "x.png", cam});
    transaction.Commit();
  }
  EXPECT_EQ(db.NumImages(), 1u);
}

std::vector<std::string> TableInfo(const std::string& path, const std::string& table) {
  sqlite3* db;
  sqlite3_open(path.c_str(), &db);
  sqlite3_stmt* stmt;
  sqlite3_prepare_v2(db, ("PRAGMA table_info(" + table + ");").c_str(), -1, &stmt, nullptr);
  std::vector<std::string> columns;
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    columns.push_back(std::string(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 1))) +
                      ":" + reinterpret_cast<const char*>(sqlite3_column_text(stmt, 2)) + ":" +
                      std::to_string(sqlite3_column_int(stmt, 3)) + ":" +
                      std::to_string(sqlite3_column_int(stmt, 5)));
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return columns;
}

TEST(Database, SchemaEqualsColmapDatabaseCreator) {
  if (!test::HaveColmap()) GTEST_SKIP() << "colmap binary not installed";
  const std::string dir = test::MakeTempDir("schema");
  ColmapRunner().Run("database_creator", {"--database_path", dir + "/colmap.db"});
  { Database ours(dir + "/ours.db"); }
  for (const char* table :
       {"cameras", "images", "keypoints", "descriptors", "matches", "two_view_geometries"}) {
    const auto theirs = TableInfo(dir + "/colmap.db", table);
    ASSERT_FALSE(theirs.empty()) << table;
    EXPECT_EQ(TableInfo(dir + "/ours.db", table), theirs) << table;
  }
}

TEST(Database, MissingFolderIsAClearError) {
  try {
    Database db("/nonexistent_scalesfm_dir/database.db");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("does not exist"), std::string::npos) << e.what();
  }
}

TEST(Database, NotADatabaseIsAClearError) {
  const std::string path = test::MakeTempDir("db") + "/garbage.db";
  std::ofstream(path) << std::string(4096, 'x');
  try {
    Database db(path);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not a valid SQLite"), std::string::npos) << e.what();
  }
}

TEST(Database, LockedDatabaseIsAClearErrorAndLosesNothing) {
  const std::string path = test::MakeTempDir("db") + "/database.db";
  {
    Database db(path);
    db.WriteCamera(MakeDefaultCamera("PINHOLE", 10, 10, 12, false));
  }
  sqlite3* holder;
  ASSERT_EQ(sqlite3_open(path.c_str(), &holder), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(holder, "BEGIN EXCLUSIVE;", nullptr, nullptr, nullptr), SQLITE_OK);
  try {
    Database db(path, /*busy_timeout_ms=*/200);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("locked"), std::string::npos) << e.what();
  }
  sqlite3_exec(holder, "ROLLBACK;", nullptr, nullptr, nullptr);
  sqlite3_close(holder);
  Database db(path);
  EXPECT_EQ(db.ReadAllCameras().size(), 1u);
}

TEST(Database, ReadOnlyDatabaseIsAClearError) {
  if (geteuid() == 0) GTEST_SKIP() << "root ignores file permissions";
  const std::string path = test::MakeTempDir("db") + "/database.db";
  { Database db(path); }
  std::filesystem::permissions(path, std::filesystem::perms::owner_read);
  EXPECT_THROW(Database db(path), Error);
}

}  // namespace
}  // namespace scalesfm
