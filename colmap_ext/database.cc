#include "colmap_ext/database.h"

#include <sqlite3.h>
#include <unistd.h>

#include <Eigen/LU>
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>

#include "colmap_ext/colmap_runner.h"
#include "colmap_ext/sqlite_blob.h"
#include "util/logging.h"

namespace scalesfm {
namespace {
// Whether a blob of `count` elements is rows x cols (both non-negative), without overflowing.
bool HoldsShape(size_t count, int64_t rows, int64_t cols) {
  if (rows < 0 || cols < 0) return false;
  if (cols == 0 || rows == 0) return count == 0;
  if (rows > std::numeric_limits<int64_t>::max() / cols) return false;
  return static_cast<uint64_t>(rows * cols) == count;
}
}  // namespace

// A prepared statement that finalizes itself and turns SQLite errors into Error.
class Database::Statement {
 public:
  Statement(const Database* db, const char* sql) : db_(db) {
    const int rc = sqlite3_prepare_v2(db_->db_, sql, -1, &stmt_, nullptr);
    if (rc != SQLITE_OK) db_->Fail(std::string("preparing '") + sql + "'", rc);
  }
  ~Statement() { sqlite3_finalize(stmt_); }

  void Bind(int i, int64_t v) { Check(sqlite3_bind_int64(stmt_, i, v)); }
  void Bind(int i, double v) { Check(sqlite3_bind_double(stmt_, i, v)); }
  void Bind(int i, const std::string& v) {
    Check(sqlite3_bind_text(stmt_, i, v.c_str(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
  }
  void BindBlob(int i, const void* data, size_t bytes) {
    Check(sqlite3_bind_blob(stmt_, i, data, static_cast<int>(bytes), SQLITE_TRANSIENT));
  }
  void BindNull(int i) { Check(sqlite3_bind_null(stmt_, i)); }

  // Returns true while rows come back.
  bool Step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    db_->Fail("executing '" + std::string(sqlite3_sql(stmt_)) + "'", rc);
  }

  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  double Double(int col) const { return sqlite3_column_double(stmt_, col); }
  std::string Text(int col) const {
    const unsigned char* t = sqlite3_column_text(stmt_, col);
    return t ? reinterpret_cast<const char*>(t) : "";
  }
  template <typename T>
  std::vector<T> Blob(int col) const {
    bool ragged = false;
    std::vector<T> out = ColumnBlob<T>(stmt_, col, &ragged);
    if (ragged) {
      throw Error(
          StringPrintf("database %s: column %d of '%s': a blob of %d bytes is not a whole "
                       "number of %zu-byte values (the database is damaged)",
                       db_->path().c_str(), col, sqlite3_sql(stmt_),
                       sqlite3_column_bytes(stmt_, col), sizeof(T)));
    }
    return out;
  }

 private:
  void Check(int rc) {
    if (rc != SQLITE_OK) db_->Fail("binding a parameter", rc);
  }
  const Database* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

void Database::Fail(const std::string& what, int rc) const {
  std::string reason = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
  const int primary = rc & 0xff;
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) {
    reason = "the database is locked by another process (" + reason + ")";
  } else if (primary == SQLITE_READONLY || primary == SQLITE_CANTOPEN || primary == SQLITE_PERM) {
    reason = "the database is not writable (" + reason + ")";
  } else if (primary == SQLITE_NOTADB || primary == SQLITE_CORRUPT) {
    reason = "the file is not a valid SQLite/COLMAP database (" + reason + ")";
  }
  throw Error("database " + path_ + ": " + what + " failed: " + reason);
}

Database::Database(const std::string& path, int busy_timeout_ms,
                   std::optional<DatabaseSchema> new_schema)
    : path_(path) {
  namespace fs = std::filesystem;
  const fs::path parent = fs::absolute(path).parent_path();
  if (!fs::is_directory(parent)) {
    throw Error("database " + path + ": folder " + parent.string() + " does not exist");
  }
  if (fs::is_directory(path)) throw Error("database " + path + " is a folder, not a file");
  const int rc =
      sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    throw Error("database " + path + " cannot be opened: " + message);
  }
  sqlite3_busy_timeout(db_, busy_timeout_ms);
  // SQLite opens a file it cannot write (a read-only mount, a read-only file) read-only without
  // an error, and its journal needs the folder to be writable: both would only fail at the
  // first write, after the work. Refuse here instead.
  std::string not_writable;
  if (sqlite3_db_readonly(db_, "main") == 1) {
    not_writable = "the file or its file system is read-only";
  } else if (access(parent.c_str(), W_OK) != 0) {
    not_writable = "its folder " + parent.string() + " is not writable (" + std::strerror(errno) +
                   "), and SQLite writes its journal there";
  }
  if (!not_writable.empty()) {
    sqlite3_close(db_);
    db_ = nullptr;
    throw Error("database " + path + " is not writable: " + not_writable);
  }
  try {
    Execute("PRAGMA foreign_keys = ON;");
    CreateTables(new_schema);
  } catch (...) {
    sqlite3_close(db_);
    db_ = nullptr;
    throw;
  }
}

Database::~Database() {
  if (db_) sqlite3_close(db_);
}

void Database::Attach(const std::string& path, const std::string& alias) {
  const std::string sql = "ATTACH DATABASE ? AS " + alias + ";";
  Statement s(this, sql.c_str());
  s.Bind(1, path);
  try {
    s.Step();
  } catch (const Error& e) {
    throw Error("cannot attach " + path + ": " + e.what());
  }
}

void Database::Execute(const std::string& sql) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    sqlite3_free(err);
    Fail("executing '" + sql.substr(0, 60) + "'", rc);
  }
}

bool Database::HasTable(const char* table) const {
  Statement s(this, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?;");
  s.Bind(1, std::string(table));
  return s.Step();
}

bool Database::HasColumn(const char* table, const char* column) const {
  Statement s(this, "SELECT 1 FROM pragma_table_info(?) WHERE name = ?;");
  s.Bind(1, std::string(table));
  s.Bind(2, std::string(column));
  return s.Step();
}

void Database::CreateColmap4Tables() {
  // COLMAP 4.x's schema (4.1.1's scene/database_sqlite.cc), column for column: its own tables,
  // and its images and descriptors; CreateTables adds the tables both versions share.
  Execute(
      "CREATE TABLE IF NOT EXISTS rigs (rig_id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, "
      "ref_sensor_id INTEGER NOT NULL, ref_sensor_type INTEGER NOT NULL);");
  Execute(
      "CREATE UNIQUE INDEX IF NOT EXISTS rig_ref_sensor_assignment ON rigs(ref_sensor_id, "
      "ref_sensor_type);");
  Execute(
      "CREATE TABLE IF NOT EXISTS rig_sensors (rig_id INTEGER NOT NULL, sensor_id INTEGER NOT "
      "NULL, sensor_type INTEGER NOT NULL, sensor_from_rig BLOB, FOREIGN KEY(rig_id) REFERENCES "
      "rigs(rig_id) ON DELETE CASCADE);");
  Execute(
      "CREATE UNIQUE INDEX IF NOT EXISTS rig_sensor_assignment ON rig_sensors(sensor_id, "
      "sensor_type);");
  Execute(
      "CREATE TABLE IF NOT EXISTS frames (frame_id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, "
      "rig_id INTEGER NOT NULL, FOREIGN KEY(rig_id) REFERENCES rigs(rig_id) ON DELETE CASCADE);");
  Execute(
      "CREATE TABLE IF NOT EXISTS frame_data (frame_id INTEGER NOT NULL, data_id INTEGER NOT "
      "NULL, sensor_id INTEGER NOT NULL, sensor_type INTEGER NOT NULL, FOREIGN KEY(frame_id) "
      "REFERENCES frames(frame_id) ON DELETE CASCADE);");
  Execute(
      "CREATE UNIQUE INDEX IF NOT EXISTS frame_sensor_assignment ON frame_data(data_id, "
      "sensor_type);");
  Execute(
      "CREATE TABLE IF NOT EXISTS images (image_id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, "
      "name TEXT NOT NULL UNIQUE, camera_id INTEGER NOT NULL, "
      "CONSTRAINT image_id_check CHECK(image_id >= 0 and image_id < 2147483647), "
      "FOREIGN KEY(camera_id) REFERENCES cameras(camera_id));");
  Execute("CREATE UNIQUE INDEX IF NOT EXISTS index_name ON images(name);");
  Execute(
      "CREATE TABLE IF NOT EXISTS pose_priors (pose_prior_id INTEGER PRIMARY KEY NOT NULL, "
      "corr_data_id INTEGER NOT NULL, corr_sensor_id INTEGER NOT NULL, corr_sensor_type INTEGER "
      "NOT NULL, position BLOB, position_covariance BLOB, gravity BLOB, coordinate_system "
      "INTEGER NOT NULL);");
  Execute(
      "CREATE UNIQUE INDEX IF NOT EXISTS pose_prior_data_assignment ON pose_priors(corr_data_id, "
      "corr_sensor_id, corr_sensor_type);");
  Execute(
      "CREATE TABLE IF NOT EXISTS descriptors (image_id INTEGER PRIMARY KEY NOT NULL, "
      "type INTEGER NOT NULL, rows INTEGER NOT NULL, cols INTEGER NOT NULL, data BLOB, "
      "FOREIGN KEY(image_id) REFERENCES images(image_id) ON DELETE CASCADE);");
}

namespace {
// The schema of a new database: the colmap binary's, or COLMAP 3.8's (which COLMAP 4 reads and
// migrates) when there is no binary to ask.
DatabaseSchema DefaultNewDatabaseSchema(ColmapVersion* version) {
  try {
    const ColmapDialect& dialect = ColmapRunner().Dialect();
    *version = dialect.version();
    return dialect.schema();
  } catch (const Error&) {
    return DatabaseSchema::kColmap3;
  }
}
}  // namespace

void Database::CreateTables(std::optional<DatabaseSchema> new_schema) {
  // A new database gets the schema of COLMAP 3.8 (src/base/database.cc) or 4.x; an existing one
  // keeps its own. BEGIN IMMEDIATE takes the write lock up front, so a locked or read-only
  // database is reported here, before any work is done.
  const bool is_new = !HasTable("images");
  ColmapVersion version{4, 0, 0};
  if (is_new && !new_schema) new_schema = DefaultNewDatabaseSchema(&version);
  Transaction transaction(this);
  if (is_new && new_schema == DatabaseSchema::kColmap4) {
    CreateColmap4Tables();
    // COLMAP 4 stamps its databases with its version and migrates older stamps.
    Execute(StringPrintf("PRAGMA user_version = %d;", version.DatabaseVersionNumber()));
  }
  Execute(
      "CREATE TABLE IF NOT EXISTS cameras (camera_id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, "
      "model INTEGER NOT NULL, width INTEGER NOT NULL, height INTEGER NOT NULL, params BLOB, "
      "prior_focal_length INTEGER NOT NULL);");
  Execute(
      "CREATE TABLE IF NOT EXISTS images (image_id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, "
      "name TEXT NOT NULL UNIQUE, camera_id INTEGER NOT NULL, prior_qw REAL, prior_qx REAL, "
      "prior_qy REAL, prior_qz REAL, prior_tx REAL, prior_ty REAL, prior_tz REAL, "
      "CONSTRAINT image_id_check CHECK(image_id >= 0 and image_id < 2147483647), "
      "FOREIGN KEY(camera_id) REFERENCES cameras(camera_id));");
  Execute("CREATE UNIQUE INDEX IF NOT EXISTS index_name ON images(name);");
  Execute(
      "CREATE TABLE IF NOT EXISTS keypoints (image_id INTEGER PRIMARY KEY NOT NULL, "
      "rows INTEGER NOT NULL, cols INTEGER NOT NULL, data BLOB, "
      "FOREIGN KEY(image_id) REFERENCES images(image_id) ON DELETE CASCADE);");
  Execute(
      "CREATE TABLE IF NOT EXISTS descriptors (image_id INTEGER PRIMARY KEY NOT NULL, "
      "rows INTEGER NOT NULL, cols INTEGER NOT NULL, data BLOB, "
      "FOREIGN KEY(image_id) REFERENCES images(image_id) ON DELETE CASCADE);");
  Execute(
      "CREATE TABLE IF NOT EXISTS matches (pair_id INTEGER PRIMARY KEY NOT NULL, "
      "rows INTEGER NOT NULL, cols INTEGER NOT NULL, data BLOB);");
  Execute(
      "CREATE TABLE IF NOT EXISTS two_view_geometries (pair_id INTEGER PRIMARY KEY NOT NULL, "
      "rows INTEGER NOT NULL, cols INTEGER NOT NULL, data BLOB, config INTEGER NOT NULL, "
      "F BLOB, E BLOB, H BLOB, qvec BLOB, tvec BLOB);");
  schema_ = HasTable("frames") ? DatabaseSchema::kColmap4 : DatabaseSchema::kColmap3;
  descriptors_have_type_ = HasColumn("descriptors", "type");
  // scalesfm's side tables. COLMAP ignores tables it does not know.
  Execute(
      "CREATE TABLE IF NOT EXISTS scalesfm_feature_levels (image_id INTEGER NOT NULL, "
      "level INTEGER NOT NULL, factor REAL NOT NULL, rows INTEGER NOT NULL, cols INTEGER NOT NULL, "
      "descriptors BLOB, keypoint_index BLOB, PRIMARY KEY(image_id, level));");
  Execute(
      "CREATE TABLE IF NOT EXISTS scalesfm_pair_scales (pair_id INTEGER NOT NULL, "
      "estimator TEXT NOT NULL, scale REAL NOT NULL, support INTEGER NOT NULL, "
      "PRIMARY KEY(pair_id, estimator));");
  Execute(
      "CREATE TABLE IF NOT EXISTS scalesfm_float_descriptors (image_id INTEGER PRIMARY KEY NOT "
      "NULL, rows INTEGER NOT NULL, cols INTEGER NOT NULL, data BLOB);");
  Execute(
      "CREATE TABLE IF NOT EXISTS scalesfm_detected_keypoints (image_id INTEGER PRIMARY KEY NOT "
      "NULL, num_detected INTEGER NOT NULL);");
  Execute(
      "CREATE TABLE IF NOT EXISTS scalesfm_feature_types (image_id INTEGER PRIMARY KEY NOT "
      "NULL, type TEXT NOT NULL);");
  Execute(
      "CREATE TABLE IF NOT EXISTS scalesfm_guided_pairs (pair_id INTEGER PRIMARY KEY NOT NULL, "
      "num_added INTEGER NOT NULL);");
  transaction.Commit();
}

Database::Transaction::Transaction(Database* db) : db_(db) { db_->Execute("BEGIN IMMEDIATE;"); }

Database::Transaction::~Transaction() {
  if (!done_) sqlite3_exec(db_->db_, "ROLLBACK;", nullptr, nullptr, nullptr);
}

void Database::Transaction::Commit() {
  db_->Execute("COMMIT;");
  done_ = true;
}

bool Database::RowExists(const char* table, const char* key, int64_t value) const {
  Statement s(this, (std::string("SELECT 1 FROM ") + table + " WHERE " + key + " = ?;").c_str());
  s.Bind(1, value);
  return s.Step();
}

size_t Database::CountRows(const char* table) const {
  Statement s(this, (std::string("SELECT COUNT(*) FROM ") + table + ";").c_str());
  s.Step();
  return static_cast<size_t>(s.Int(0));
}

camera_t Database::WriteCamera(const Camera& camera, bool use_camera_id) {
  if (camera.params.size() != CameraModelNumParams(camera.model_id)) {
    throw Error(StringPrintf("camera model %s needs %zu parameters, got %zu",
                             camera.ModelName().c_str(), CameraModelNumParams(camera.model_id),
                             camera.params.size()));
  }
  Statement s(this,
              "INSERT INTO cameras(camera_id, model, width, height, params, prior_focal_length) "
              "VALUES(?, ?, ?, ?, ?, ?);");
  if (use_camera_id) {
    s.Bind(1, static_cast<int64_t>(camera.camera_id));
  } else {
    s.BindNull(1);
  }
  s.Bind(2, static_cast<int64_t>(camera.model_id));
  s.Bind(3, static_cast<int64_t>(camera.width));
  s.Bind(4, static_cast<int64_t>(camera.height));
  s.BindBlob(5, camera.params.data(), camera.params.size() * sizeof(double));
  s.Bind(6, static_cast<int64_t>(camera.has_prior_focal_length));
  s.Step();
  return static_cast<camera_t>(sqlite3_last_insert_rowid(db_));
}

void Database::UpdateCamera(const Camera& camera) {
  Statement s(this,
              "UPDATE cameras SET model=?, width=?, height=?, params=?, prior_focal_length=? "
              "WHERE camera_id=?;");
  s.Bind(1, static_cast<int64_t>(camera.model_id));
  s.Bind(2, static_cast<int64_t>(camera.width));
  s.Bind(3, static_cast<int64_t>(camera.height));
  s.BindBlob(4, camera.params.data(), camera.params.size() * sizeof(double));
  s.Bind(5, static_cast<int64_t>(camera.has_prior_focal_length));
  s.Bind(6, static_cast<int64_t>(camera.camera_id));
  s.Step();
}

namespace {
template <typename StatementT>
Camera CameraFromRow(const StatementT& s) {
  Camera c;
  c.camera_id = static_cast<camera_t>(s.Int(0));
  // Range-checked before the narrowing casts: width 2^32 + 640 must not read as 640.
  const auto narrow = [](int64_t v) {
    return v >= 0 && v <= std::numeric_limits<int>::max() ? static_cast<int>(v) : -1;
  };
  c.model_id = narrow(s.Int(1));
  c.width = narrow(s.Int(2));
  c.height = narrow(s.Int(3));
  c.params = s.template Blob<double>(4);
  c.has_prior_focal_length = s.Int(5) != 0;
  std::string problem;
  try {
    if (c.params.size() != CameraModelNumParams(c.model_id)) {
      problem = StringPrintf("%zu parameters for model %s", c.params.size(),
                             CameraModelIdToName(c.model_id).c_str());
    }
  } catch (const Error&) {
    problem = StringPrintf("unknown camera model %d", c.model_id);
  }
  for (double p : c.params) {
    if (problem.empty() && !std::isfinite(p)) problem = "a non-finite parameter";
  }
  if (problem.empty() && (c.width <= 0 || c.height <= 0)) {
    problem = StringPrintf("size %dx%d", c.width, c.height);
  }
  if (!problem.empty()) {
    throw Error(StringPrintf("cameras row of camera %u: %s", c.camera_id, problem.c_str()));
  }
  return c;
}
}  // namespace

Camera Database::ReadCamera(camera_t camera_id) const {
  Statement s(this,
              "SELECT camera_id, model, width, height, params, prior_focal_length FROM cameras "
              "WHERE camera_id = ?;");
  s.Bind(1, static_cast<int64_t>(camera_id));
  if (!s.Step())
    throw Error(StringPrintf("database %s has no camera %u", path_.c_str(), camera_id));
  return CameraFromRow(s);
}

std::vector<Camera> Database::ReadAllCameras() const {
  Statement s(this,
              "SELECT camera_id, model, width, height, params, prior_focal_length FROM cameras "
              "ORDER BY camera_id;");
  std::vector<Camera> cameras;
  while (s.Step()) cameras.push_back(CameraFromRow(s));
  return cameras;
}

// COLMAP 4's SensorType::CAMERA.
constexpr int64_t kSensorTypeCamera = 0;

int64_t Database::RigOfCamera(camera_t camera_id) {
  {
    Statement s(this,
                "SELECT rig_id FROM rigs WHERE ref_sensor_id = ?1 AND ref_sensor_type = ?2 UNION "
                "SELECT rig_id FROM rig_sensors WHERE sensor_id = ?1 AND sensor_type = ?2;");
    s.Bind(1, static_cast<int64_t>(camera_id));
    s.Bind(2, kSensorTypeCamera);
    if (s.Step()) return s.Int(0);
  }
  Statement s(this, "INSERT INTO rigs(ref_sensor_id, ref_sensor_type) VALUES(?, ?);");
  s.Bind(1, static_cast<int64_t>(camera_id));
  s.Bind(2, kSensorTypeCamera);
  s.Step();
  return sqlite3_last_insert_rowid(db_);
}

image_t Database::WriteImage(const Image& image, bool use_image_id) {
  if (schema_ == DatabaseSchema::kColmap4 && !frames_for_new_images_) {
    // COLMAP 4 requires a frame for every image once any has one.
    Statement s(this,
                "SELECT COUNT(*) FROM images WHERE image_id NOT IN (SELECT data_id FROM "
                "frame_data WHERE sensor_type = ?);");
    s.Bind(1, kSensorTypeCamera);
    s.Step();
    frames_for_new_images_ = s.Int(0) == 0;
  }
  image_t image_id = 0;
  {
    Statement s(this, "INSERT INTO images(image_id, name, camera_id) VALUES(?, ?, ?);");
    if (use_image_id) {
      s.Bind(1, static_cast<int64_t>(image.image_id));
    } else {
      s.BindNull(1);
    }
    s.Bind(2, image.name);
    s.Bind(3, static_cast<int64_t>(image.camera_id));
    s.Step();
    image_id = static_cast<image_t>(sqlite3_last_insert_rowid(db_));
  }
  if (frames_for_new_images_.value_or(false)) {
    const int64_t rig_id = RigOfCamera(image.camera_id);
    Statement frame(this, "INSERT INTO frames(rig_id) VALUES(?);");
    frame.Bind(1, rig_id);
    frame.Step();
    const int64_t frame_id = sqlite3_last_insert_rowid(db_);
    Statement data(this,
                   "INSERT INTO frame_data(frame_id, data_id, sensor_id, sensor_type) VALUES(?, "
                   "?, ?, ?);");
    data.Bind(1, frame_id);
    data.Bind(2, static_cast<int64_t>(image_id));
    data.Bind(3, static_cast<int64_t>(image.camera_id));
    data.Bind(4, kSensorTypeCamera);
    data.Step();
  }
  return image_id;
}

std::optional<Image> Database::ReadImageWithName(const std::string& name) const {
  Statement s(this, "SELECT image_id, name, camera_id FROM images WHERE name = ?;");
  s.Bind(1, name);
  if (!s.Step()) return std::nullopt;
  return Image{static_cast<image_t>(s.Int(0)), s.Text(1), static_cast<camera_t>(s.Int(2))};
}

std::vector<Image> Database::ReadAllImages() const {
  Statement s(this, "SELECT image_id, name, camera_id FROM images ORDER BY image_id;");
  std::vector<Image> images;
  while (s.Step()) {
    images.push_back({static_cast<image_t>(s.Int(0)), s.Text(1), static_cast<camera_t>(s.Int(2))});
  }
  return images;
}

size_t Database::NumImages() const { return CountRows("images"); }
size_t Database::NumKeypointRows() const { return CountRows("keypoints"); }
size_t Database::NumMatchesRows() const { return CountRows("matches"); }
size_t Database::NumTwoViewGeometries() const { return CountRows("two_view_geometries"); }

bool Database::ExistsKeypoints(image_t image_id) const {
  return RowExists("keypoints", "image_id", image_id);
}
bool Database::ExistsDescriptors(image_t image_id) const {
  return RowExists("descriptors", "image_id", image_id);
}

void Database::WriteKeypoints(image_t image_id, const Keypoints& keypoints) {
  static_assert(sizeof(Keypoint) == 6 * sizeof(float), "Keypoint must be 6 packed floats");
  // Nothing non-finite gets in: a model that overflows is an error, not a damaged database.
  const float* values = reinterpret_cast<const float*>(keypoints.data());
  for (size_t i = 0; i < keypoints.size() * 6; ++i) {
    if (!std::isfinite(values[i])) {
      throw Error(
          StringPrintf("refusing to write keypoint %zu of image %u to %s: it has a "
                       "non-finite value (the extractor's weights or input are broken)",
                       i / 6, image_id, path_.c_str()));
    }
  }
  Statement s(this,
              "INSERT OR REPLACE INTO keypoints(image_id, rows, cols, data) VALUES(?,?,?,?);");
  s.Bind(1, static_cast<int64_t>(image_id));
  s.Bind(2, static_cast<int64_t>(keypoints.size()));
  s.Bind(3, static_cast<int64_t>(6));
  s.BindBlob(4, keypoints.data(), keypoints.size() * sizeof(Keypoint));
  s.Step();
}

Keypoints Database::ReadKeypoints(image_t image_id) const {
  Statement s(this, "SELECT rows, cols, data FROM keypoints WHERE image_id = ?;");
  s.Bind(1, static_cast<int64_t>(image_id));
  if (!s.Step()) return {};
  const int64_t rows = s.Int(0), cols = s.Int(1);
  if (cols != 2 && cols != 4 && cols != 6) {
    throw Error(StringPrintf("database %s: keypoints of image %u: cols must be 2, 4 or 6, not %ld",
                             path_.c_str(), image_id, static_cast<long>(cols)));
  }
  const std::vector<float> data = s.Blob<float>(2);
  if (!HoldsShape(data.size(), rows, cols)) {
    throw Error(StringPrintf(
        "database %s: keypoint blob of image %u is corrupt (%ld x %ld values, %zu in the blob)",
        path_.c_str(), image_id, static_cast<long>(rows), static_cast<long>(cols), data.size()));
  }
  for (size_t i = 0; i < data.size(); ++i) {
    if (!std::isfinite(data[i])) {
      throw Error(
          StringPrintf("database %s: keypoints of image %u: keypoint %zu has a non-finite "
                       "value (%g)",
                       path_.c_str(), image_id, i / cols, data[i]));
    }
  }
  Keypoints keypoints(rows);
  for (int64_t i = 0; i < rows; ++i) {
    const float* r = &data[i * cols];
    Keypoint& kp = keypoints[i];
    kp.x = r[0];
    kp.y = r[1];
    if (cols == 4) {
      kp = Keypoint::FromScaleOrientation(r[0], r[1], r[2], r[3]);
    } else if (cols == 6) {
      kp.a11 = r[2];
      kp.a12 = r[3];
      kp.a21 = r[4];
      kp.a22 = r[5];
    }
  }
  return keypoints;
}

void Database::WriteDescriptors(image_t image_id, const DescriptorsU8& descriptors) {
  Statement s(this, descriptors_have_type_
                        ? "INSERT OR REPLACE INTO descriptors(image_id, rows, cols, data, type) "
                          "VALUES(?,?,?,?,?);"
                        : "INSERT OR REPLACE INTO descriptors(image_id, rows, cols, data) "
                          "VALUES(?,?,?,?);");
  s.Bind(1, static_cast<int64_t>(image_id));
  s.Bind(2, static_cast<int64_t>(descriptors.rows()));
  s.Bind(3, static_cast<int64_t>(descriptors.cols()));
  s.BindBlob(4, descriptors.data(), descriptors.size());
  // COLMAP 4's FeatureExtractorType: UNDEFINED -1, SIFT 0.
  if (descriptors_have_type_) s.Bind(5, static_cast<int64_t>(descriptors.cols() == 128 ? 0 : -1));
  s.Step();
}

DescriptorsU8 Database::ReadDescriptors(image_t image_id) const {
  Statement s(this, "SELECT rows, cols, data FROM descriptors WHERE image_id = ?;");
  s.Bind(1, static_cast<int64_t>(image_id));
  if (!s.Step()) return {};
  const int64_t rows = s.Int(0), cols = s.Int(1);
  const std::vector<uint8_t> data = s.Blob<uint8_t>(2);
  if (!HoldsShape(data.size(), rows, cols)) {
    throw Error(StringPrintf(
        "database %s: descriptor blob of image %u is corrupt (%ld x %ld bytes, %zu in the blob)",
        path_.c_str(), image_id, static_cast<long>(rows), static_cast<long>(cols), data.size()));
  }
  DescriptorsU8 d(rows, cols);
  if (!data.empty()) std::memcpy(d.data(), data.data(), data.size());
  return d;
}

bool Database::ExistsFloatDescriptors(image_t image_id) const {
  return RowExists("scalesfm_float_descriptors", "image_id", image_id);
}

void Database::WriteFloatDescriptors(image_t image_id, const DescriptorsF32& descriptors) {
  if (!descriptors.allFinite()) {
    throw Error(
        StringPrintf("refusing to write the float descriptors of image %u to %s: they hold "
                     "NaN or infinite values (the extractor's weights or input are broken)",
                     image_id, path_.c_str()));
  }
  Statement s(this,
              "INSERT OR REPLACE INTO scalesfm_float_descriptors(image_id, rows, cols, data) "
              "VALUES(?,?,?,?);");
  s.Bind(1, static_cast<int64_t>(image_id));
  s.Bind(2, static_cast<int64_t>(descriptors.rows()));
  s.Bind(3, static_cast<int64_t>(descriptors.cols()));
  s.BindBlob(4, descriptors.data(), descriptors.size() * sizeof(float));
  s.Step();
}

void Database::WriteNumDetectedKeypoints(image_t image_id, size_t num_detected) {
  Statement s(this,
              "INSERT OR REPLACE INTO scalesfm_detected_keypoints(image_id, num_detected) "
              "VALUES(?,?);");
  s.Bind(1, static_cast<int64_t>(image_id));
  s.Bind(2, static_cast<int64_t>(num_detected));
  s.Step();
}

void Database::WriteFeatureType(image_t image_id, const std::string& type) {
  Statement s(this, "INSERT OR REPLACE INTO scalesfm_feature_types(image_id, type) VALUES(?,?);");
  s.Bind(1, static_cast<int64_t>(image_id));
  s.Bind(2, type);
  s.Step();
}

std::map<image_t, std::string> Database::ReadFeatureTypes() const {
  Statement s(this, "SELECT image_id, type FROM scalesfm_feature_types;");
  std::map<image_t, std::string> out;
  while (s.Step()) out[static_cast<image_t>(s.Int(0))] = s.Text(1);
  return out;
}

std::optional<size_t> Database::ReadNumDetectedKeypoints(image_t image_id) const {
  Statement s(this, "SELECT num_detected FROM scalesfm_detected_keypoints WHERE image_id = ?;");
  s.Bind(1, static_cast<int64_t>(image_id));
  if (!s.Step()) return std::nullopt;
  const int64_t num_detected = s.Int(0);
  const size_t num_keypoints = NumKeypoints(image_id);
  if (num_detected < 0 || static_cast<size_t>(num_detected) > num_keypoints) {
    throw Error(
        StringPrintf("database %s: scalesfm_detected_keypoints of image %u: %ld detected "
                     "keypoints, but the image has %zu (the database is damaged)",
                     path_.c_str(), image_id, static_cast<long>(num_detected), num_keypoints));
  }
  return static_cast<size_t>(num_detected);
}

DescriptorsF32 Database::ReadFloatDescriptors(image_t image_id) const {
  Statement s(this, "SELECT rows, cols, data FROM scalesfm_float_descriptors WHERE image_id = ?;");
  s.Bind(1, static_cast<int64_t>(image_id));
  if (!s.Step()) return {};
  const int64_t rows = s.Int(0), cols = s.Int(1);
  const std::vector<float> data = s.Blob<float>(2);
  if (!HoldsShape(data.size(), rows, cols)) {
    throw Error(StringPrintf(
        "database %s: float descriptor blob of image %u is corrupt (%ld x %ld "
        "values, %zu in the blob)",
        path_.c_str(), image_id, static_cast<long>(rows), static_cast<long>(cols), data.size()));
  }
  for (float v : data) {
    if (!std::isfinite(v)) {
      throw Error(StringPrintf("database %s: float descriptors of image %u hold a non-finite value",
                               path_.c_str(), image_id));
    }
  }
  DescriptorsF32 d(rows, cols);
  if (!data.empty()) std::memcpy(d.data(), data.data(), data.size() * sizeof(float));
  return d;
}

namespace {
std::vector<uint32_t> PackMatches(const Matches& matches, bool swap) {
  std::vector<uint32_t> data;
  data.reserve(matches.size() * 2);
  for (const Match& m : matches) {
    data.push_back(swap ? m.idx2 : m.idx1);
    data.push_back(swap ? m.idx1 : m.idx2);
  }
  return data;
}

Matches UnpackMatches(const std::vector<uint32_t>& data, bool swap) {
  Matches matches(data.size() / 2);
  for (size_t i = 0; i < matches.size(); ++i) {
    matches[i].idx1 = swap ? data[2 * i + 1] : data[2 * i];
    matches[i].idx2 = swap ? data[2 * i] : data[2 * i + 1];
  }
  return matches;
}
}  // namespace

bool Database::ExistsMatches(image_t id1, image_t id2) const {
  return RowExists("matches", "pair_id", static_cast<int64_t>(ImagePairToPairId(id1, id2)));
}

void Database::WriteMatches(image_t id1, image_t id2, const Matches& matches) {
  const std::vector<uint32_t> data = PackMatches(matches, id1 > id2);
  Statement s(this, "INSERT OR REPLACE INTO matches(pair_id, rows, cols, data) VALUES(?,?,?,?);");
  s.Bind(1, static_cast<int64_t>(ImagePairToPairId(id1, id2)));
  s.Bind(2, static_cast<int64_t>(matches.size()));
  s.Bind(3, static_cast<int64_t>(2));
  s.BindBlob(4, data.data(), data.size() * sizeof(uint32_t));
  s.Step();
}

size_t Database::NumKeypoints(image_t image_id) const {
  Statement s(this, "SELECT rows FROM keypoints WHERE image_id = ?;");
  s.Bind(1, static_cast<int64_t>(image_id));
  return s.Step() ? static_cast<size_t>(std::max<int64_t>(0, s.Int(0))) : 0;
}

void Database::CheckMatchIndices(const char* table, image_t id1, image_t id2,
                                 const Matches& matches) const {
  if (matches.empty()) return;
  const size_t n1 = NumKeypoints(id1), n2 = NumKeypoints(id2);
  for (size_t i = 0; i < matches.size(); ++i) {
    if (matches[i].idx1 >= n1 || matches[i].idx2 >= n2) {
      throw Error(StringPrintf(
          "database %s: %s of pair (%u, %u): match %zu (%u, %u) indexes past the images' %zu and "
          "%zu keypoints",
          path_.c_str(), table, id1, id2, i, matches[i].idx1, matches[i].idx2, n1, n2));
    }
  }
}

void Database::CheckMatchShape(const char* table, image_t id1, image_t id2, int64_t rows,
                               int64_t cols, size_t num_indices) const {
  if ((rows > 0 && cols != 2) || !HoldsShape(num_indices, rows, rows > 0 ? 2 : cols)) {
    throw Error(
        StringPrintf("database %s: %s of pair (%u, %u): %ld x %ld indices, but the blob "
                     "has %zu (the database is damaged)",
                     path_.c_str(), table, id1, id2, static_cast<long>(rows),
                     static_cast<long>(cols), num_indices));
  }
}

Matches Database::ReadMatches(image_t id1, image_t id2) const {
  Statement s(this, "SELECT data, rows, cols FROM matches WHERE pair_id = ?;");
  s.Bind(1, static_cast<int64_t>(ImagePairToPairId(id1, id2)));
  if (!s.Step()) return {};
  const std::vector<uint32_t> data = s.Blob<uint32_t>(0);
  CheckMatchShape("matches", id1, id2, s.Int(1), s.Int(2), data.size());
  Matches matches = UnpackMatches(data, id1 > id2);
  CheckMatchIndices("matches", id1, id2, matches);
  return matches;
}

std::vector<image_pair_t> Database::ReadMatchedPairIds() const {
  Statement s(this, "SELECT pair_id FROM matches;");
  std::vector<image_pair_t> ids;
  while (s.Step()) ids.push_back(static_cast<image_pair_t>(s.Int(0)));
  return ids;
}

bool Database::ExistsTwoViewGeometry(image_t id1, image_t id2) const {
  return RowExists("two_view_geometries", "pair_id",
                   static_cast<int64_t>(ImagePairToPairId(id1, id2)));
}

namespace {

// COLMAP stores F and H for (smaller id -> larger id); the other direction has F^T and H^-1.
void ReverseTwoViewDirection(Eigen::Matrix3d* F, Eigen::Matrix3d* H) {
  F->transposeInPlace();
  if (H->determinant() != 0) *H = H->inverse().eval();
}

}  // namespace

void Database::WriteTwoViewGeometry(image_t id1, image_t id2, const TwoViewGeometry& tvg) {
  const std::vector<uint32_t> data = PackMatches(tvg.inlier_matches, id1 > id2);
  Eigen::Matrix3d f = tvg.F, h = tvg.H;
  if (id1 > id2) ReverseTwoViewDirection(&f, &h);
  // Row-major blobs, as COLMAP writes them.
  const Eigen::Matrix<double, 3, 3, Eigen::RowMajor> F = f, H = h;
  Statement s(this,
              "INSERT OR REPLACE INTO two_view_geometries(pair_id, rows, cols, data, config, F, H) "
              "VALUES(?,?,?,?,?,?,?);");
  s.Bind(1, static_cast<int64_t>(ImagePairToPairId(id1, id2)));
  s.Bind(2, static_cast<int64_t>(tvg.inlier_matches.size()));
  s.Bind(3, static_cast<int64_t>(2));
  s.BindBlob(4, data.data(), data.size() * sizeof(uint32_t));
  s.Bind(5, static_cast<int64_t>(tvg.config));
  s.BindBlob(6, F.data(), 9 * sizeof(double));
  s.BindBlob(7, H.data(), 9 * sizeof(double));
  s.Step();
}

namespace {

// A 3x3 matrix blob of COLMAP's (9 doubles, row-major); zero when absent (callers refuse other
// sizes).
Eigen::Matrix3d Matrix3dFromBlob(const std::vector<double>& blob) {
  if (blob.size() != 9) return Eigen::Matrix3d::Zero();
  return Eigen::Map<const Eigen::Matrix<double, 3, 3, Eigen::RowMajor>>(blob.data());
}

}  // namespace

TwoViewGeometry Database::ReadTwoViewGeometry(image_t id1, image_t id2) const {
  Statement s(this,
              "SELECT data, config, F, H, rows, cols FROM two_view_geometries WHERE pair_id = ?;");
  s.Bind(1, static_cast<int64_t>(ImagePairToPairId(id1, id2)));
  TwoViewGeometry tvg;
  if (!s.Step()) return tvg;
  const std::vector<uint32_t> data = s.Blob<uint32_t>(0);
  CheckMatchShape("two_view_geometries", id1, id2, s.Int(4), s.Int(5), data.size());
  tvg.inlier_matches = UnpackMatches(data, id1 > id2);
  CheckMatchIndices("two_view_geometries", id1, id2, tvg.inlier_matches);
  tvg.config = static_cast<int>(s.Int(1));
  const std::vector<double> f = s.Blob<double>(2), h = s.Blob<double>(3);
  if ((!f.empty() && f.size() != 9) || (!h.empty() && h.size() != 9)) {
    throw Error(
        StringPrintf("database %s: two_view_geometries of pair (%u, %u): F or H has %zu "
                     "and %zu values, not 9 (the database is damaged)",
                     path_.c_str(), id1, id2, f.size(), h.size()));
  }
  tvg.F = Matrix3dFromBlob(f);
  tvg.H = Matrix3dFromBlob(h);
  if (!tvg.F.allFinite() || !tvg.H.allFinite() || tvg.config < 0 || tvg.config > 8) {
    throw Error(
        StringPrintf("database %s: two_view_geometries of pair (%u, %u): config %d, or a "
                     "non-finite F or H",
                     path_.c_str(), id1, id2, tvg.config));
  }
  if (id1 > id2) ReverseTwoViewDirection(&tvg.F, &tvg.H);
  return tvg;
}

void Database::UpdateTwoViewGeometryInliers(image_t id1, image_t id2, const Matches& inliers) {
  const std::vector<uint32_t> data = PackMatches(inliers, id1 > id2);
  Statement s(this,
              "UPDATE two_view_geometries SET rows = ?, cols = 2, data = ? WHERE pair_id = ?;");
  s.Bind(1, static_cast<int64_t>(inliers.size()));
  s.BindBlob(2, data.data(), data.size() * sizeof(uint32_t));
  s.Bind(3, static_cast<int64_t>(ImagePairToPairId(id1, id2)));
  s.Step();
}

void Database::WriteGuidedPair(image_t id1, image_t id2, size_t num_added) {
  Statement s(this,
              "INSERT OR REPLACE INTO scalesfm_guided_pairs(pair_id, num_added) VALUES(?,?);");
  s.Bind(1, static_cast<int64_t>(ImagePairToPairId(id1, id2)));
  s.Bind(2, static_cast<int64_t>(num_added));
  s.Step();
}

std::vector<image_pair_t> Database::ReadGuidedPairIds() const {
  Statement s(this, "SELECT pair_id FROM scalesfm_guided_pairs;");
  std::vector<image_pair_t> out;
  while (s.Step()) out.push_back(static_cast<image_pair_t>(s.Int(0)));
  return out;
}

std::unordered_map<image_pair_t, size_t> Database::ReadTwoViewGeometryNumInliers() const {
  Statement s(this, "SELECT pair_id, rows FROM two_view_geometries;");
  std::unordered_map<image_pair_t, size_t> out;
  while (s.Step()) {
    if (s.Int(1) < 0) {
      const auto [id1, id2] = PairIdToImagePair(static_cast<image_pair_t>(s.Int(0)));
      throw Error(
          StringPrintf("database %s: two_view_geometries of pair (%u, %u): %ld rows "
                       "(the database is damaged)",
                       path_.c_str(), id1, id2, static_cast<long>(s.Int(1))));
    }
    out[static_cast<image_pair_t>(s.Int(0))] = static_cast<size_t>(s.Int(1));
  }
  return out;
}

void Database::WriteFeatureLevels(image_t image_id, const std::vector<FeatureLevel>& levels) {
  {
    Statement s(this, "DELETE FROM scalesfm_feature_levels WHERE image_id = ?;");
    s.Bind(1, static_cast<int64_t>(image_id));
    s.Step();
  }
  for (const FeatureLevel& level : levels) {
    if (level.keypoint_index.size() != static_cast<size_t>(level.descriptors.rows())) {
      throw Error(
          StringPrintf("feature level %d of image %u: %zu keypoint indices for %ld "
                       "descriptors",
                       level.level, image_id, level.keypoint_index.size(),
                       static_cast<long>(level.descriptors.rows())));
    }
    Statement s(this,
                "INSERT INTO scalesfm_feature_levels(image_id, level, factor, rows, cols, "
                "descriptors, keypoint_index) VALUES(?, ?, ?, ?, ?, ?, ?);");
    s.Bind(1, static_cast<int64_t>(image_id));
    s.Bind(2, static_cast<int64_t>(level.level));
    s.Bind(3, level.factor);
    s.Bind(4, static_cast<int64_t>(level.descriptors.rows()));
    s.Bind(5, static_cast<int64_t>(level.descriptors.cols()));
    s.BindBlob(6, level.descriptors.data(), level.descriptors.size());
    s.BindBlob(7, level.keypoint_index.data(), level.keypoint_index.size() * sizeof(point2D_t));
    s.Step();
  }
}

std::vector<std::pair<int, double>> Database::ReadLevelFactors(image_t image_id) const {
  Statement s(this,
              "SELECT level, factor FROM scalesfm_feature_levels WHERE image_id = ? ORDER BY "
              "level;");
  s.Bind(1, static_cast<int64_t>(image_id));
  std::vector<std::pair<int, double>> out;
  while (s.Step()) {
    const int64_t level = s.Int(0);
    const double factor = s.Double(1);
    if (level < 0 || level > 64 || !(factor > 0 && factor < 1e6)) {
      throw Error(
          StringPrintf("database %s: scalesfm_feature_levels of image %u: level %ld with "
                       "factor %g (the database is damaged)",
                       path_.c_str(), image_id, static_cast<long>(level), factor));
    }
    out.emplace_back(static_cast<int>(level), factor);
  }
  return out;
}

FeatureLevel Database::ReadFeatureLevel(image_t image_id, int level) const {
  Statement s(this,
              "SELECT factor, rows, cols, descriptors, keypoint_index FROM "
              "scalesfm_feature_levels WHERE image_id = ? AND level = ?;");
  s.Bind(1, static_cast<int64_t>(image_id));
  s.Bind(2, static_cast<int64_t>(level));
  if (!s.Step()) throw Error(StringPrintf("image %u has no feature level %d", image_id, level));
  FeatureLevel out;
  out.level = level;
  out.factor = s.Double(0);
  const int64_t rows = s.Int(1), cols = s.Int(2);
  const std::vector<uint8_t> data = s.Blob<uint8_t>(3);
  out.keypoint_index = s.Blob<point2D_t>(4);
  if (!HoldsShape(data.size(), rows, cols) ||
      static_cast<int64_t>(out.keypoint_index.size()) != rows ||
      !(out.factor > 0 && out.factor < 1e6)) {
    throw Error(
        StringPrintf("feature level %d of image %u is corrupt (%ld x %ld descriptors, "
                     "%zu bytes, %zu indices)",
                     level, image_id, static_cast<long>(rows), static_cast<long>(cols), data.size(),
                     out.keypoint_index.size()));
  }
  // Level keypoints index the image's merged list; an index past it would be read out of bounds.
  const size_t num_keypoints = NumKeypoints(image_id);
  for (size_t i = 0; i < out.keypoint_index.size(); ++i) {
    if (out.keypoint_index[i] >= num_keypoints) {
      throw Error(StringPrintf(
          "database %s: scalesfm_feature_levels of image %u, level %d: keypoint_index[%zu] = %u, "
          "but the image has %zu keypoints",
          path_.c_str(), image_id, level, i, out.keypoint_index[i], num_keypoints));
    }
  }
  out.descriptors.resize(rows, cols);
  if (!data.empty()) std::memcpy(out.descriptors.data(), data.data(), data.size());
  return out;
}

void Database::WritePairScale(image_t image_id1, image_t image_id2, const PairScale& scale) {
  if (!(scale.scale > 0) || !std::isfinite(scale.scale) || !std::isfinite(1.0 / scale.scale)) {
    throw Error(
        StringPrintf("refusing to write scale %g of pair (%u, %u) by %s to %s: not a "
                     "positive number",
                     scale.scale, image_id1, image_id2, scale.estimator.c_str(), path_.c_str()));
  }
  Statement s(this,
              "INSERT OR REPLACE INTO scalesfm_pair_scales(pair_id, estimator, scale, support) "
              "VALUES(?, ?, ?, ?);");
  s.Bind(1, static_cast<int64_t>(ImagePairToPairId(image_id1, image_id2)));
  s.Bind(2, scale.estimator);
  s.Bind(3, image_id1 < image_id2 ? scale.scale : 1.0 / scale.scale);
  s.Bind(4, static_cast<int64_t>(scale.support));
  s.Step();
}

std::optional<PairScale> Database::ReadPairScale(image_t image_id1, image_t image_id2,
                                                 const std::string& estimator) const {
  Statement s(this,
              "SELECT scale, support FROM scalesfm_pair_scales WHERE pair_id = ? AND "
              "estimator = ?;");
  s.Bind(1, static_cast<int64_t>(ImagePairToPairId(image_id1, image_id2)));
  s.Bind(2, estimator);
  if (!s.Step()) return std::nullopt;
  PairScale out;
  out.estimator = estimator;
  const double stored = s.Double(0);
  // Read in either orientation, so 1 / scale must be finite too (a denormal's is not).
  if (!(stored > 0) || !std::isfinite(stored) || !std::isfinite(1.0 / stored) || s.Int(1) < 0) {
    throw Error(
        StringPrintf("database %s: scalesfm_pair_scales of pair (%u, %u), estimator %s: "
                     "scale %g is not a positive number",
                     path_.c_str(), image_id1, image_id2, estimator.c_str(), stored));
  }
  out.scale = image_id1 < image_id2 ? stored : 1.0 / stored;
  out.support = static_cast<size_t>(s.Int(1));
  return out;
}

namespace {

// A read-only connection to an existing database, for the schema probes; nullptr when the file
// does not exist or cannot be opened.
struct ReadOnlyConnection {
  sqlite3* db = nullptr;
  explicit ReadOnlyConnection(const std::string& path) {
    if (!std::filesystem::is_regular_file(path)) return;
    if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
      sqlite3_close(db);
      db = nullptr;
    }
  }
  ~ReadOnlyConnection() { sqlite3_close(db); }
  // Whether `sql` returns a row (false on any error, e.g. not a database).
  bool HasRow(const char* sql) const {
    sqlite3_stmt* stmt = nullptr;
    const bool row = db && sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) == SQLITE_OK &&
                     sqlite3_step(stmt) == SQLITE_ROW;
    sqlite3_finalize(stmt);
    return row;
  }
};

}  // namespace

std::optional<DatabaseSchema> ReadDatabaseSchema(const std::string& path) {
  const ReadOnlyConnection c(path);
  if (!c.HasRow("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'images';")) {
    return std::nullopt;
  }
  return c.HasRow("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'frames';")
             ? DatabaseSchema::kColmap4
             : DatabaseSchema::kColmap3;
}

bool Colmap3CanReadDatabase(const std::string& path) {
  const ReadOnlyConnection c(path);
  if (!c.HasRow("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'images';")) {
    return true;
  }
  return c.HasRow("SELECT 1 FROM pragma_table_info('images') WHERE name = 'prior_qw';");
}

void CopyDatabaseFile(const std::string& from, const std::string& to) {
  namespace fs = std::filesystem;
  if (!fs::is_regular_file(from)) throw Error("cannot copy database " + from + ": no such file");
  const std::string tmp = to + ".tmp";
  std::error_code ec;
  fs::remove(tmp, ec);
  sqlite3* src = nullptr;
  sqlite3* dst = nullptr;
  std::string problem;
  if (sqlite3_open_v2(from.c_str(), &src, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    problem = std::string("opening it: ") + sqlite3_errmsg(src);
  } else if (sqlite3_open_v2(tmp.c_str(), &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                             nullptr) != SQLITE_OK) {
    problem = std::string("creating ") + tmp + ": " + sqlite3_errmsg(dst);
  } else {
    sqlite3_busy_timeout(src, 5000);
    sqlite3_backup* backup = sqlite3_backup_init(dst, "main", src, "main");
    if (!backup) {
      problem = sqlite3_errmsg(dst);
    } else {
      int rc = SQLITE_OK;
      while ((rc = sqlite3_backup_step(backup, -1)) == SQLITE_BUSY || rc == SQLITE_LOCKED) {
        sqlite3_sleep(50);
      }
      sqlite3_backup_finish(backup);
      if (rc != SQLITE_DONE) problem = sqlite3_errmsg(dst);
    }
  }
  sqlite3_close(src);
  if (sqlite3_close(dst) != SQLITE_OK && problem.empty()) problem = "closing the copy failed";
  if (problem.empty()) fs::rename(tmp, to, ec);
  if (!problem.empty() || ec) {
    fs::remove(tmp, ec);
    throw Error("cannot copy database " + from + " to " + to + " (" +
                (problem.empty() ? "rename failed" : problem) +
                "; read-only folder or full disk?)");
  }
}

}  // namespace scalesfm
