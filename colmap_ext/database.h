// COLMAP's SQLite database in either schema (COLMAP 3.8's or 4.x's, colmap_dialect.h), plus
// access to scalesfm_ side tables.
//
// Every multi-row write goes through a Transaction, so a killed process leaves either the old
// or the new state of an image or a block of pairs, never half of one.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "colmap_ext/camera.h"
#include "colmap_ext/colmap_dialect.h"
#include "colmap_ext/types.h"

struct sqlite3;
struct sqlite3_stmt;

namespace scalesfm {

struct Image {
  image_t image_id = kInvalidImageId;
  std::string name;
  camera_t camera_id = 0;
};

// COLMAP's TwoViewGeometry::ConfigurationType.
enum class TwoViewConfig : int {
  kUndefined = 0,
  kDegenerate = 1,
  kCalibrated = 2,
  kUncalibrated = 3,
  kPlanar = 4,
  kPanoramic = 5,
  kPlanarOrPanoramic = 6,
  kWatermark = 7,
  kMultiple = 8,
};

struct TwoViewGeometry {
  int config = 0;
  Matches inlier_matches;
  // COLMAP's fundamental matrix (x2^T F x1 = 0) and homography (x2 ~ H x1) in the keypoints'
  // coordinates, for image_id1 -> image_id2 as read; zero when the row has none.
  Eigen::Matrix3d F = Eigen::Matrix3d::Zero();
  Eigen::Matrix3d H = Eigen::Matrix3d::Zero();
};

// scalesfm_feature_levels: one row per (image, level) of a multi-level extraction. The level's
// descriptors (one row per level keypoint) and, per level keypoint, its index into the image's
// merged keypoint list in COLMAP's keypoints table.
struct FeatureLevel {
  int level = 0;
  double factor = 1.0;  // level image size / original image size
  DescriptorsU8 descriptors;
  std::vector<point2D_t> keypoint_index;
};

// scalesfm_pair_scales: the cached scale estimate s(image_id1 -> image_id2) of one estimator.
struct PairScale {
  std::string estimator;
  double scale = 1.0;
  size_t support = 0;
};

// Readers validate what they return: a blob whose size disagrees with its rows and cols, a
// non-finite keypoint, float descriptor, F, H or scale, a match or level keypoint index past the
// image's keypoints give an Error naming the table, the image or pair and the field. The whole
// database's structure is checked before work by CheckDatabaseConsistency
// (colmap_ext/database_check.h).
class Database {
 public:
  // Opens `path`, creating it with COLMAP's tables if needed: a new database gets `new_schema`,
  // by default the schema of the colmap binary scalesfm runs (ColmapRunner::Dialect; COLMAP
  // 3.8's when there is none, which every version reads). Throws Error with a clear message
  // when the folder does not exist, the file is not an SQLite database, it is read-only, or
  // another process holds a write lock for longer than `busy_timeout_ms`.
  explicit Database(const std::string& path, int busy_timeout_ms = 5000,
                    std::optional<DatabaseSchema> new_schema = std::nullopt);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  const std::string& path() const { return path_; }
  // kColmap4 when the database has COLMAP 4.x's tables (created by COLMAP 4 or by scalesfm for
  // it, or a COLMAP 3.8 database that COLMAP 4 opened and migrated).
  DatabaseSchema schema() const { return schema_; }

  // RAII write transaction (BEGIN IMMEDIATE ... COMMIT); rolls back unless Commit() was called.
  class Transaction {
   public:
    explicit Transaction(Database* db);
    ~Transaction();
    void Commit();

   private:
    Database* db_;
    bool done_ = false;
  };

  // Cameras.
  camera_t WriteCamera(const Camera& camera, bool use_camera_id = false);
  void UpdateCamera(const Camera& camera);
  Camera ReadCamera(camera_t camera_id) const;
  std::vector<Camera> ReadAllCameras() const;

  // Images. In a COLMAP 4.x database, a new image also gets its frame (and its camera a rig of
  // its own, unless one holds it) as `colmap feature_extractor` writes them, so that COLMAP 4
  // loads it: unless the database's images have no frames (a migrated COLMAP 3.8 database),
  // for which COLMAP 4 makes one per image itself.
  image_t WriteImage(const Image& image, bool use_image_id = false);
  std::optional<Image> ReadImageWithName(const std::string& name) const;
  std::vector<Image> ReadAllImages() const;
  size_t NumImages() const;

  // Features.
  bool ExistsKeypoints(image_t image_id) const;
  bool ExistsDescriptors(image_t image_id) const;
  void WriteKeypoints(image_t image_id, const Keypoints& keypoints);
  Keypoints ReadKeypoints(image_t image_id) const;
  // In a COLMAP 4.x database, descriptors.type is SIFT for 128-column descriptors and
  // UNDEFINED otherwise (learned extractors, whose descriptors row has 0 columns).
  void WriteDescriptors(image_t image_id, const DescriptorsU8& descriptors);
  DescriptorsU8 ReadDescriptors(image_t image_id) const;
  // keypoints.rows of the image (0 without a row), without reading the blob.
  size_t NumKeypoints(image_t image_id) const;
  size_t NumKeypointRows() const;
  // scalesfm_float_descriptors: learned extractors' float descriptors, one row per keypoint of
  // COLMAP's keypoints table (whose descriptors row then has 0 columns). Empty when absent.
  bool ExistsFloatDescriptors(image_t image_id) const;
  void WriteFloatDescriptors(image_t image_id, const DescriptorsF32& descriptors);
  DescriptorsF32 ReadFloatDescriptors(image_t image_id) const;
  // scalesfm_detected_keypoints: how many of an image's keypoints came from its detector, once
  // a matcher that creates keypoints (S2DNet) has appended to the list; nullopt before that.
  void WriteNumDetectedKeypoints(image_t image_id, size_t num_detected);
  std::optional<size_t> ReadNumDetectedKeypoints(image_t image_id) const;
  // scalesfm_feature_types: the --Extraction.type that extracted each image's features, so that
  // matchers pick that type's defaults (written by feature_extractor since it exists; older
  // databases have no rows).
  void WriteFeatureType(image_t image_id, const std::string& type);
  std::map<image_t, std::string> ReadFeatureTypes() const;

  // Raw matches; (idx1, idx2) index the keypoints of (image_id1, image_id2), swapped on the way
  // in and out when image_id1 > image_id2, as COLMAP does.
  bool ExistsMatches(image_t image_id1, image_t image_id2) const;
  void WriteMatches(image_t image_id1, image_t image_id2, const Matches& matches);
  Matches ReadMatches(image_t image_id1, image_t image_id2) const;
  std::vector<image_pair_t> ReadMatchedPairIds() const;
  size_t NumMatchesRows() const;

  // Verified geometries (written by `colmap matches_importer`; written here only by tests).
  bool ExistsTwoViewGeometry(image_t image_id1, image_t image_id2) const;
  void WriteTwoViewGeometry(image_t image_id1, image_t image_id2, const TwoViewGeometry& tvg);
  TwoViewGeometry ReadTwoViewGeometry(image_t image_id1, image_t image_id2) const;
  // Replaces a verified pair's inlier matches, keeping its configuration and F, E, H, qvec, tvec.
  void UpdateTwoViewGeometryInliers(image_t image_id1, image_t image_id2, const Matches& inliers);
  // scalesfm_guided_pairs: pairs whose inliers guided matching has already extended (resume).
  void WriteGuidedPair(image_t image_id1, image_t image_id2, size_t num_added);
  std::vector<image_pair_t> ReadGuidedPairIds() const;
  // pair_id -> number of inlier matches, for every verified pair.
  std::unordered_map<image_pair_t, size_t> ReadTwoViewGeometryNumInliers() const;
  size_t NumTwoViewGeometries() const;

  // scalesfm_feature_levels (see FeatureLevel). Levels of an image are written together, inside
  // the caller's transaction, replacing any earlier ones.
  void WriteFeatureLevels(image_t image_id, const std::vector<FeatureLevel>& levels);
  // (level, factor) of every level of the image, by level; empty for single-level extraction.
  std::vector<std::pair<int, double>> ReadLevelFactors(image_t image_id) const;
  FeatureLevel ReadFeatureLevel(image_t image_id, int level) const;

  // scalesfm_pair_scales. Stored once per unordered pair and estimator; reading with the images
  // swapped returns 1/s.
  void WritePairScale(image_t image_id1, image_t image_id2, const PairScale& scale);
  std::optional<PairScale> ReadPairScale(image_t image_id1, image_t image_id2,
                                         const std::string& estimator) const;

  // Raw SQL for scalesfm_ side tables and tests.
  void Execute(const std::string& sql);
  // ATTACH DATABASE `path` AS `alias` (outside a transaction); throws Error naming the file.
  void Attach(const std::string& path, const std::string& alias);
  sqlite3* handle() { return db_; }

 private:
  class Statement;
  void CreateTables(std::optional<DatabaseSchema> new_schema);
  void CreateColmap4Tables();
  bool HasTable(const char* table) const;
  bool HasColumn(const char* table, const char* column) const;
  // The rig whose sensor the camera is, created if there is none (COLMAP 4.x databases).
  int64_t RigOfCamera(camera_t camera_id);
  bool RowExists(const char* table, const char* key, int64_t value) const;
  size_t CountRows(const char* table) const;
  [[noreturn]] void Fail(const std::string& what, int rc) const;
  // Throws Error when a match of (id1, id2) indexes past either image's keypoints.
  void CheckMatchIndices(const char* table, image_t id1, image_t id2, const Matches& matches) const;
  void CheckMatchShape(const char* table, image_t id1, image_t id2, int64_t rows, int64_t cols,
                       size_t num_indices) const;

  std::string path_;
  sqlite3* db_ = nullptr;
  DatabaseSchema schema_ = DatabaseSchema::kColmap3;
  bool descriptors_have_type_ = false;
  // Whether new images get frames (COLMAP 4.x databases); read at the first WriteImage.
  std::optional<bool> frames_for_new_images_;
};

// The schema of the database at `path` (kColmap4 when it has COLMAP 4.x's frames table), or
// nullopt when it does not exist or holds no COLMAP tables. Reads without creating anything.
std::optional<DatabaseSchema> ReadDatabaseSchema(const std::string& path);

// Whether COLMAP 3.8 can read the database at `path`: false for a database that COLMAP 4.x
// created, whose images table has no prior_* columns. True when there is no such table yet.
bool Colmap3CanReadDatabase(const std::string& path);

// A consistent copy of the database `from` at `to` (replaced), through SQLite's backup API, so
// that what a COLMAP 4 database holds in its write-ahead log is copied too; written to a
// temporary file first, so a failed copy leaves no partial file. Throws Error naming the files.
void CopyDatabaseFile(const std::string& from, const std::string& to);

}  // namespace scalesfm
