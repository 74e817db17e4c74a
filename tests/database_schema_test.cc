// Both database schemas against real databases: one made by the colmap binary the suite runs
// (Debian's 3.8 in CI), and tests/data/colmap4/database.db, made by COLMAP 4.1.1 outside the
// repository (tests/data/colmap4/README.md).
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <map>
#include <set>

#include "colmap_ext/colmap_runner.h"
#include "colmap_ext/database.h"
#include "colmap_ext/database_check.h"
#include "tests/test_util.h"
#include "util/logging.h"

namespace scalesfm {
namespace {

namespace fs = std::filesystem;

std::string Colmap4Fixture() {
  return std::string(SCALESFM_SOURCE_DIR) + "/tests/data/colmap4/database.db";
}

// A scratch copy of the COLMAP 4 fixture.
std::string CopyOfColmap4Fixture(const std::string& tag) {
  const std::string path = test::MakeTempDir(tag) + "/database.db";
  fs::copy_file(Colmap4Fixture(), path);
  return path;
}

int64_t QueryInt(Database* db, const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db->handle(), sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sql;
  int64_t value = -999;
  if (sqlite3_step(stmt) == SQLITE_ROW) value = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  return value;
}

// Table -> its columns as "name type notnull pk", read from the file without changing it.
std::map<std::string, std::set<std::string>> Columns(const std::string& path) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  std::map<std::string, std::set<std::string>> out;
  sqlite3_stmt* tables = nullptr;
  sqlite3_prepare_v2(db,
                     "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE "
                     "'sqlite_%' AND name NOT LIKE 'scalesfm_%';",
                     -1, &tables, nullptr);
  while (sqlite3_step(tables) == SQLITE_ROW) {
    const std::string table = reinterpret_cast<const char*>(sqlite3_column_text(tables, 0));
    sqlite3_stmt* info = nullptr;
    sqlite3_prepare_v2(db, ("PRAGMA table_info(" + table + ");").c_str(), -1, &info, nullptr);
    while (sqlite3_step(info) == SQLITE_ROW) {
      out[table].insert(StringPrintf("%s %s %d %d", sqlite3_column_text(info, 1),
                                     sqlite3_column_text(info, 2), sqlite3_column_int(info, 3),
                                     sqlite3_column_int(info, 5)));
    }
    sqlite3_finalize(info);
  }
  sqlite3_finalize(tables);
  sqlite3_close(db);
  return out;
}

TEST(DatabaseSchema, Colmap4FixtureIsReadAsColmapWroteIt) {
  const std::string path = CopyOfColmap4Fixture("c4read");
  EXPECT_EQ(ReadDatabaseSchema(path), DatabaseSchema::kColmap4);
  EXPECT_FALSE(Colmap3CanReadDatabase(path));
  Database db(path);
  EXPECT_EQ(db.schema(), DatabaseSchema::kColmap4);
  CheckDatabaseConsistency(&db);
  const std::vector<Image> images = db.ReadAllImages();
  ASSERT_EQ(images.size(), 3u);
  for (const Image& image : images) {
    const Keypoints keypoints = db.ReadKeypoints(image.image_id);
    const DescriptorsU8 descriptors = db.ReadDescriptors(image.image_id);
    EXPECT_GT(keypoints.size(), 50u) << image.name;
    EXPECT_EQ(descriptors.rows(), static_cast<int>(keypoints.size()));
    EXPECT_EQ(descriptors.cols(), 128);
    EXPECT_TRUE(db.ReadCamera(image.camera_id).width > 0);
  }
  // COLMAP 4 leaves E, qvec and tvec NULL; F or H is read, and the inliers index keypoints.
  const auto inliers = db.ReadTwoViewGeometryNumInliers();
  ASSERT_FALSE(inliers.empty());
  size_t verified = 0;
  for (const auto& [pair_id, n] : inliers) {
    if (n == 0) continue;
    ++verified;
    const auto [id1, id2] = PairIdToImagePair(pair_id);
    const TwoViewGeometry tvg = db.ReadTwoViewGeometry(id1, id2);
    EXPECT_EQ(tvg.inlier_matches.size(), n);
    EXPECT_FALSE(tvg.F.isZero() && tvg.H.isZero());
  }
  EXPECT_GE(verified, 1u);
  EXPECT_GT(db.NumMatchesRows(), 0u);
}

TEST(DatabaseSchema, NewImagesInAColmap4DatabaseGetFramesAndDescriptorTypes) {
  const std::string path = CopyOfColmap4Fixture("c4write");
  Database db(path);
  const int64_t rigs_before = QueryInt(&db, "SELECT COUNT(*) FROM rigs;");
  const Image first = db.ReadAllImages().front();
  // An image of an existing camera joins that camera's rig.
  const image_t same_camera = db.WriteImage({kInvalidImageId, "new_a.jpg", first.camera_id});
  EXPECT_EQ(QueryInt(&db, "SELECT COUNT(*) FROM rigs;"), rigs_before);
  // An image of a new camera gets a rig of its own, with the camera as reference sensor.
  const camera_t camera = db.WriteCamera(MakeDefaultCamera("SIMPLE_RADIAL", 320, 240, 300, false));
  const image_t new_camera = db.WriteImage({kInvalidImageId, "new_b.jpg", camera});
  EXPECT_EQ(QueryInt(&db, "SELECT COUNT(*) FROM rigs;"), rigs_before + 1);
  EXPECT_EQ(QueryInt(&db, StringPrintf("SELECT COUNT(*) FROM rigs WHERE ref_sensor_id = %u AND "
                                       "ref_sensor_type = 0;",
                                       camera)),
            1);
  for (const auto& [image_id, camera_id] :
       {std::pair{same_camera, first.camera_id}, std::pair{new_camera, camera}}) {
    EXPECT_EQ(QueryInt(&db, StringPrintf("SELECT sensor_id FROM frame_data WHERE data_id = %u AND "
                                         "sensor_type = 0;",
                                         image_id)),
              camera_id);
  }
  // Every image has exactly one frame, as COLMAP 4's loader requires.
  EXPECT_EQ(QueryInt(&db,
                     "SELECT COUNT(*) FROM images WHERE image_id NOT IN (SELECT data_id FROM "
                     "frame_data WHERE sensor_type = 0);"),
            0);
  for (image_t id : {same_camera, new_camera}) {
    db.WriteKeypoints(id, Keypoints(4, Keypoint::FromScaleOrientation(9.f, 9.f, 2.f, 0.f)));
  }
  db.WriteDescriptors(same_camera, DescriptorsU8::Zero(4, 128));
  db.WriteDescriptors(new_camera, DescriptorsU8::Zero(4, 0));
  EXPECT_EQ(
      QueryInt(&db, StringPrintf("SELECT type FROM descriptors WHERE image_id = %u;", same_camera)),
      0);  // SIFT
  EXPECT_EQ(
      QueryInt(&db, StringPrintf("SELECT type FROM descriptors WHERE image_id = %u;", new_camera)),
      -1);  // UNDEFINED
  CheckDatabaseConsistency(&db);
}

// scalesfm's COLMAP 4 schema is COLMAP 4.1.1's, column for column; its COLMAP 3.8 schema is
// the one the colmap binary writes when that binary is 3.8 (and the 4.x one when it is 4.x).
TEST(DatabaseSchema, CreatedSchemasEqualRealColmapDatabases) {
  const std::string dir = test::MakeTempDir("schemas");
  { Database(dir + "/ours4.db", 5000, DatabaseSchema::kColmap4); }
  // A copy: opening a WAL database, even read-only, leaves -shm and -wal files beside it.
  EXPECT_EQ(Columns(dir + "/ours4.db"), Columns(CopyOfColmap4Fixture("c4columns")));
  if (!test::HaveColmap()) GTEST_SKIP() << "colmap not installed";
  const ColmapRunner colmap;
  colmap.Run("database_creator", {"--database_path", dir + "/colmap.db"});
  { Database(dir + "/ours.db", 5000, colmap.Dialect().schema()); }
  EXPECT_EQ(Columns(dir + "/ours.db"), Columns(dir + "/colmap.db"));
  EXPECT_EQ(ReadDatabaseSchema(dir + "/colmap.db"), colmap.Dialect().schema());
  // A new database gets the binary's schema by default.
  { Database(dir + "/default.db"); }
  EXPECT_EQ(ReadDatabaseSchema(dir + "/default.db"), colmap.Dialect().schema());
  sqlite3* raw = nullptr;
  sqlite3_open((dir + "/ours4.db").c_str(), &raw);
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(raw, "PRAGMA user_version;", -1, &stmt, nullptr);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_GE(sqlite3_column_int(stmt, 0), 4000000);
  sqlite3_finalize(stmt);
  sqlite3_close(raw);
}

// A COLMAP 3.8 database that COLMAP 4 opened: 4.x's tables were added, descriptors.type has a
// default, and no image has a frame (COLMAP 4 makes one per image when it loads). New images
// then get no frame either, and COLMAP 3.8 can still read it.
TEST(DatabaseSchema, AMigratedColmap3DatabaseKeepsImagesWithoutFrames) {
  const std::string path = test::MakeTempDir("migrated") + "/database.db";
  camera_t camera = 0;
  {
    Database db(path, 5000, DatabaseSchema::kColmap3);
    camera = db.WriteCamera(MakeDefaultCamera("SIMPLE_RADIAL", 320, 240, 300, false));
    db.WriteImage({kInvalidImageId, "a.jpg", camera});
    // What COLMAP 4.1.1's PostMigrateTables and CreateTables do to it.
    db.Execute("ALTER TABLE descriptors ADD COLUMN type INTEGER NOT NULL DEFAULT 0;");
    db.Execute(
        "CREATE TABLE rigs (rig_id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, ref_sensor_id "
        "INTEGER NOT NULL, ref_sensor_type INTEGER NOT NULL);");
    db.Execute(
        "CREATE TABLE frames (frame_id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, rig_id "
        "INTEGER NOT NULL);");
    db.Execute(
        "CREATE TABLE frame_data (frame_id INTEGER NOT NULL, data_id INTEGER NOT NULL, sensor_id "
        "INTEGER NOT NULL, sensor_type INTEGER NOT NULL);");
  }
  EXPECT_EQ(ReadDatabaseSchema(path), DatabaseSchema::kColmap4);
  EXPECT_TRUE(Colmap3CanReadDatabase(path));
  Database db(path);
  const image_t b = db.WriteImage({kInvalidImageId, "b.jpg", camera});
  db.WriteDescriptors(b, DescriptorsU8::Zero(2, 128));
  EXPECT_EQ(QueryInt(&db, "SELECT COUNT(*) FROM frame_data;"), 0);
  EXPECT_EQ(QueryInt(&db, "SELECT COUNT(*) FROM rigs;"), 0);
  EXPECT_EQ(QueryInt(&db, "SELECT type FROM descriptors;"), 0);
}

TEST(DatabaseSchema, CopiesIncludeWhatTheWriteAheadLogHolds) {
  const std::string dir = test::MakeTempDir("walcopy");
  Database db(dir + "/wal.db", 5000, DatabaseSchema::kColmap4);
  db.Execute("PRAGMA journal_mode = WAL;");  // as COLMAP 4 leaves its databases
  db.Execute("PRAGMA wal_autocheckpoint = 0;");
  const camera_t camera = db.WriteCamera(MakeDefaultCamera("SIMPLE_RADIAL", 320, 240, 300, false));
  db.WriteImage({kInvalidImageId, "a.jpg", camera});
  ASSERT_TRUE(fs::exists(dir + "/wal.db-wal"));
  CopyDatabaseFile(dir + "/wal.db", dir + "/copy.db");
  EXPECT_FALSE(fs::exists(dir + "/copy.db.tmp"));
  Database copy(dir + "/copy.db");
  EXPECT_EQ(copy.NumImages(), 1u);
  EXPECT_EQ(copy.schema(), DatabaseSchema::kColmap4);
  EXPECT_THROW(CopyDatabaseFile(dir + "/missing.db", dir + "/x.db"), Error);
}

// With COLMAP 3.8, a database COLMAP 4 created is refused before any work, naming the remedy;
// with COLMAP 4, scalesfm matches it, COLMAP 4 verifies, and both mappers map it.
TEST(DatabaseSchema, ScalesfmCommandsOnADatabaseColmap4Created) {
  if (!test::HaveColmap()) GTEST_SKIP() << "colmap not installed";
  const std::string path = CopyOfColmap4Fixture("c4cmd");
  const std::string dir = fs::path(path).parent_path().string();
  {
    Database db(path);
    db.Execute("DELETE FROM matches; DELETE FROM two_view_geometries;");
  }
  std::string output;
  const int rc = test::RunCommand(test::ScalesfmBinary() +
                                      " exhaustive_matcher --ScaleMatching.estimator none "
                                      "--database_path " +
                                      path,
                                  &output);
  if (!ColmapRunner().Dialect().IsColmap4()) {
    EXPECT_NE(rc, 0) << output;
    EXPECT_NE(output.find("has COLMAP 4.x's schema"), std::string::npos) << output;
    EXPECT_NE(output.find("SCALESFM_COLMAP"), std::string::npos) << output;
    EXPECT_EQ(Database(path).NumMatchesRows(), 0u);  // refused before matching
    return;
  }
  ASSERT_EQ(rc, 0) << output;
  {
    Database db(path);
    EXPECT_EQ(db.NumMatchesRows(), 3u);
    EXPECT_GE(db.ReadTwoViewGeometryNumInliers().size(), 1u);
  }
  // The images are not needed: COLMAP reads them only for the points' colours. The global
  // mapper maps the three images; the incremental one finds no initial pair in this planar
  // scene ("Failed to create any sparse model"), a result and not an error: exit code 1, no
  // ERROR.
  fs::create_directories(dir + "/images");
  const auto map = [&](const std::string& type) {
    return test::RunCommand(test::ScalesfmBinary() + " mapper --database_path " + path +
                                " --image_path " + dir + "/images --output_path " + dir +
                                "/sparse_" + type + " --Mapper.type " + type,
                            &output);
  };
  EXPECT_EQ(map("global"), 0) << output;
  EXPECT_TRUE(fs::exists(dir + "/sparse_global/0/images.bin")) << output;
  EXPECT_EQ(map("incremental"), 1) << output;
  EXPECT_EQ(output.find("ERROR"), std::string::npos) << output;
  EXPECT_NE(output.find("produced no model"), std::string::npos) << output;
}

}  // namespace
}  // namespace scalesfm
