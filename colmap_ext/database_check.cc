#include "colmap_ext/database_check.h"

#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "colmap_ext/camera.h"
#include "colmap_ext/sqlite_blob.h"
#include "util/logging.h"

namespace scalesfm {
namespace {

// Runs `sql`, whose rows are problems: (id, description). Throws for the first one.
enum class Subject { kImage, kPair, kCamera };

void FailOnFirstRow(Database* db, const std::string& what, const std::string& sql,
                    Subject kind = Subject::kImage) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db->handle(), sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    const std::string message = sqlite3_errmsg(db->handle());
    sqlite3_finalize(stmt);
    throw Error("database " + db->path() + ": cannot check " + what + " (" + message +
                "): not a COLMAP database?");
  }
  const int rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW) {
    const int64_t id = sqlite3_column_int64(stmt, 0);
    const unsigned char* text = sqlite3_column_text(stmt, 1);
    std::string subject;
    if (kind == Subject::kPair) {
      const auto [id1, id2] = PairIdToImagePair(static_cast<image_pair_t>(id));
      subject = StringPrintf("pair (%u, %u)", id1, id2);
    } else {
      subject = (kind == Subject::kCamera ? "camera " : "image ") + std::to_string(id);
    }
    // Values of the damaged row are part of the message: keep it one printable line.
    const std::string problem = Printable(text ? reinterpret_cast<const char*>(text) : "", 300);
    sqlite3_finalize(stmt);
    throw Error("database " + db->path() + ": " + what + " of " + subject + ": " + problem +
                " (the database is damaged; re-extract or re-match the image)");
  }
  const std::string message = rc == SQLITE_DONE ? "" : sqlite3_errmsg(db->handle());
  sqlite3_finalize(stmt);
  if (rc != SQLITE_DONE) {
    throw Error("database " + db->path() + ": cannot check " + what + ": " + message);
  }
}

// SQL: a blob's length in bytes, 0 for NULL.
std::string Len(const std::string& column) { return "coalesce(length(" + column + "), 0)"; }

// A "rows x cols blob of `bytes`-byte elements" check shared by the feature tables.
std::string BlobShapeProblem(const std::string& table, const std::string& data, int bytes) {
  const std::string b = std::to_string(bytes);
  const std::string rows = table + "rows", cols = table + "cols";
  return "CASE WHEN typeof(" + rows + ") != 'integer' OR typeof(" + cols +
         ") != 'integer' THEN 'rows and cols must be integers' WHEN " + rows + " < 0 OR " + cols +
         " < 0 THEN 'negative rows (' || " + rows + " || ') or cols (' || " + cols +
         " || ')' WHEN " + rows + " > 2147483647 OR " + cols + " > 65536 THEN 'rows ' || " + rows +
         " || ' or cols ' || " + cols + " || ' out of range' WHEN " + Len(data) + " != " + rows +
         " * " + cols + " * " + b + " THEN " + rows + " || ' x ' || " + cols + " || ' values of " +
         b + " bytes, but the blob has ' || " + Len(data) + " || ' bytes' END";
}

// Steps through the rows of `sql`; `row` returns a problem ("" for none) and the first one is
// thrown. A statement that cannot be prepared, or a scan that SQLite ends early (busy, I/O
// error, out of memory), is an error too: it must not pass the check.
void ScanRows(Database* db, const std::string& what, const std::string& sql,
              const std::function<std::string(sqlite3_stmt*)>& row) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db->handle(), sql.c_str(), -1, &stmt, nullptr);
  std::string problem;
  while (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    problem = row(stmt);
    rc = problem.empty() ? SQLITE_OK : SQLITE_DONE;
  }
  const std::string message = sqlite3_errmsg(db->handle());
  sqlite3_finalize(stmt);
  if (!problem.empty()) {
    throw Error("database " + db->path() + ": " + problem +
                " (the database is damaged; re-extract or re-match the image)");
  }
  if (rc != SQLITE_DONE) {
    throw Error("database " + db->path() + ": cannot read " + what + " to check them (" + message +
                ")");
  }
}

// Every match index of `table` (matches or two_view_geometries) within its images' keypoints.
// Reads the index blobs (8 bytes per match: small beside the descriptors); the shapes were
// checked before, so each blob holds rows x 2 indices.
void CheckMatchIndexRanges(Database* db, const std::string& table,
                           const std::unordered_map<image_t, int64_t>& num_keypoints) {
  const auto count = [&](image_t id) {
    auto it = num_keypoints.find(id);
    return it == num_keypoints.end() ? int64_t{0} : it->second;
  };
  ScanRows(db, table, "SELECT pair_id, data FROM " + table + " WHERE rows > 0;",
           [&](sqlite3_stmt* stmt) {
             const auto [id1, id2] =
                 PairIdToImagePair(static_cast<image_pair_t>(sqlite3_column_int64(stmt, 0)));
             const std::vector<uint32_t> indices = ColumnBlob<uint32_t>(stmt, 1);
             // Stored for (smaller id, larger id): column 0 indexes id1's keypoints.
             const int64_t n1 = count(id1), n2 = count(id2);
             for (size_t i = 0; i + 1 < indices.size(); i += 2) {
               if (indices[i] >= n1 || indices[i + 1] >= n2) {
                 return StringPrintf(
                     "%s of pair (%u, %u): match %zu (%u, %u) indexes past the images' %ld and "
                     "%ld keypoints",
                     table.c_str(), id1, id2, i / 2, indices[i], indices[i + 1],
                     static_cast<long>(n1), static_cast<long>(n2));
               }
             }
             return std::string();
           });
}

// Every keypoint value finite (24 bytes per keypoint: read in a fraction of matching's time).
void CheckKeypointValues(Database* db) {
  ScanRows(db, "keypoints", "SELECT image_id, cols, data FROM keypoints;", [](sqlite3_stmt* stmt) {
    const int64_t cols = std::max<int64_t>(1, sqlite3_column_int64(stmt, 1));
    const std::vector<float> values = ColumnBlob<float>(stmt, 2);
    for (size_t i = 0; i < values.size(); ++i) {
      if (!std::isfinite(values[i])) {
        return StringPrintf("keypoints of image %ld: keypoint %ld has a non-finite value",
                            static_cast<long>(sqlite3_column_int64(stmt, 0)),
                            static_cast<long>(i / cols));
      }
    }
    return std::string();
  });
}

// Every scalesfm_feature_levels.keypoint_index within the image's keypoints (the index blobs are
// 4 bytes per level keypoint).
void CheckLevelIndexRanges(Database* db) {
  ScanRows(db, "scalesfm_feature_levels",
           "SELECT l.image_id, l.level, coalesce(k.rows, 0), l.keypoint_index FROM "
           "scalesfm_feature_levels l LEFT JOIN keypoints k USING(image_id);",
           [](sqlite3_stmt* stmt) {
             const int64_t num_keypoints = sqlite3_column_int64(stmt, 2);
             const std::vector<uint32_t> indices = ColumnBlob<uint32_t>(stmt, 3);
             for (size_t i = 0; i < indices.size(); ++i) {
               if (indices[i] >= num_keypoints) {
                 return StringPrintf(
                     "scalesfm_feature_levels of image %ld, level %ld: keypoint_index[%zu] = %u, "
                     "but the image has %ld keypoints",
                     static_cast<long>(sqlite3_column_int64(stmt, 0)),
                     static_cast<long>(sqlite3_column_int64(stmt, 1)), i, indices[i],
                     static_cast<long>(num_keypoints));
               }
             }
             return std::string();
           });
}

}  // namespace

void CheckDatabaseConsistency(Database* db) {
  // SQLite's own structure first: a damaged index answers keyed lookups differently from the
  // scans below (found by fuzz/database_fuzzer), or not at all.
  FailOnFirstRow(db, "the SQLite file",
                 "SELECT 0, integrity_check FROM pragma_integrity_check(1) WHERE "
                 "integrity_check != 'ok';");
  // Cameras: a known model, its number of parameters, a positive size.
  std::string models = "CASE model";
  std::string num_params = "CASE model";
  for (int id = 0; id < 64; ++id) {
    try {
      CameraModelIdToName(id);
    } catch (const Error&) {
      continue;
    }
    num_params +=
        " WHEN " + std::to_string(id) + " THEN " + std::to_string(CameraModelNumParams(id));
    models += " WHEN " + std::to_string(id) + " THEN 1";
  }
  models += " ELSE 0 END";
  num_params += " END";
  FailOnFirstRow(db, "cameras.params",
                 "SELECT camera_id, CASE WHEN " + models +
                     " = 0 THEN 'unknown camera model ' || "
                     "model WHEN width <= 0 OR height <= 0 OR width > 2147483647 OR height > "
                     "2147483647 THEN 'size ' || width || 'x' || height "
                     "WHEN " +
                     Len("params") + " != 8 * " + num_params + " THEN 'params blob of ' || " +
                     Len("params") + " || ' bytes for ' || " + num_params +
                     " || ' parameters' END AS "
                     "p FROM cameras WHERE p IS NOT NULL LIMIT 1;",
                 Subject::kCamera);
  FailOnFirstRow(db, "images.camera_id",
                 "SELECT image_id, 'camera ' || camera_id || ' does not exist' FROM images WHERE "
                 "camera_id NOT IN (SELECT camera_id FROM cameras) LIMIT 1;");
  FailOnFirstRow(db, "keypoints",
                 "SELECT image_id, CASE WHEN image_id NOT IN (SELECT image_id FROM images) THEN "
                 "'no such image' WHEN typeof(cols) = 'integer' AND cols NOT IN (2, 4, 6) THEN "
                 "'cols must be 2, 4 or 6, not ' || cols ELSE " +
                     BlobShapeProblem("", "data", 4) +
                     " END AS p FROM keypoints WHERE p IS NOT NULL LIMIT 1;");
  FailOnFirstRow(
      db, "scalesfm_detected_keypoints.num_detected",
      "SELECT d.image_id, d.num_detected || ' detected keypoints, but the image has ' || "
      "coalesce(k.rows, 0) FROM scalesfm_detected_keypoints d LEFT JOIN keypoints k "
      "USING(image_id) WHERE typeof(d.num_detected) != 'integer' OR d.num_detected < 0 "
      "OR d.num_detected > coalesce(k.rows, 0) LIMIT 1;");
  // Descriptors (uint8) and float descriptors: one per keypoint, or one per detected keypoint.
  for (const auto& [table, bytes] :
       {std::pair<std::string, int>{"descriptors", 1}, {"scalesfm_float_descriptors", 4}}) {
    FailOnFirstRow(db, table,
                   "SELECT t.image_id, CASE WHEN " + BlobShapeProblem("t.", "t.data", bytes) +
                       " IS NOT NULL THEN " + BlobShapeProblem("t.", "t.data", bytes) +
                       " WHEN t.rows != coalesce(k.rows, 0) AND t.rows IS NOT d.num_detected "
                       "THEN t.rows || ' rows for ' || coalesce(k.rows, 0) || ' keypoints' END "
                       "AS p FROM " +
                       table +
                       " t LEFT JOIN keypoints k USING(image_id) LEFT "
                       "JOIN scalesfm_detected_keypoints d USING(image_id) WHERE p IS NOT NULL "
                       "LIMIT 1;");
  }
  FailOnFirstRow(db, "scalesfm_feature_levels",
                 "SELECT image_id, 'level ' || level || ': ' || CASE WHEN " +
                     BlobShapeProblem("", "descriptors", 1) + " IS NOT NULL THEN " +
                     BlobShapeProblem("", "descriptors", 1) + " WHEN " + Len("keypoint_index") +
                     " != 4 * rows THEN rows || ' descriptors but ' || " + Len("keypoint_index") +
                     " || ' bytes of keypoint indices' WHEN typeof(factor) != 'real' OR NOT "
                     "(factor > 0 AND factor < 1e6) THEN 'factor ' || quote(factor) || ' is not "
                     "a positive number' END AS p FROM scalesfm_feature_levels WHERE p IS NOT "
                     "NULL LIMIT 1;");
  // Matches and verified geometries: pairs of 32-bit indices; COLMAP's configuration range.
  for (const std::string table : {"matches", "two_view_geometries"}) {
    std::string extra;
    if (table == "two_view_geometries") {
      extra =
          " WHEN typeof(config) != 'integer' OR config < 0 OR config > 8 THEN 'config ' || "
          "quote(config) || ' is not a COLMAP configuration (0-8)'";
      // COLMAP's reader CHECKs these sizes (an abort, not an error) when it loads the pair.
      for (const auto& [m, n] :
           {std::pair<const char*, int>{"F", 9}, {"E", 9}, {"H", 9}, {"qvec", 4}, {"tvec", 3}}) {
        const std::string len = Len(m);
        extra += std::string(" WHEN ") + len + " NOT IN (0, " + std::to_string(8 * n) + ") THEN '" +
                 m + " blob of ' || " + len + " || ' bytes, not " + std::to_string(n) + " doubles'";
      }
    }
    FailOnFirstRow(db, table,
                   "SELECT pair_id, CASE WHEN typeof(cols) = 'integer' AND cols != 2 AND rows > 0 "
                   "THEN 'cols must be 2, not ' || cols WHEN " +
                       BlobShapeProblem("", "data", 4) + " IS NOT NULL THEN " +
                       BlobShapeProblem("", "data", 4) + extra + " END AS p FROM " + table +
                       " WHERE p IS NOT NULL LIMIT 1;",
                   Subject::kPair);
  }
  FailOnFirstRow(db, "scalesfm_pair_scales",
                 "SELECT pair_id, estimator || ': scale ' || quote(scale) || ', support ' || "
                 "quote(support) FROM scalesfm_pair_scales WHERE typeof(scale) != 'real' OR NOT "
                 "(scale > 1e-6 AND scale < 1e6) OR typeof(support) != 'integer' OR support < 0 "
                 "LIMIT 1;",
                 Subject::kPair);
  CheckKeypointValues(db);
  CheckLevelIndexRanges(db);
  std::unordered_map<image_t, int64_t> num_keypoints;
  ScanRows(db, "keypoints", "SELECT image_id, rows FROM keypoints;", [&](sqlite3_stmt* stmt) {
    num_keypoints[static_cast<image_t>(sqlite3_column_int64(stmt, 0))] =
        sqlite3_column_int64(stmt, 1);
    return std::string();
  });
  CheckMatchIndexRanges(db, "matches", num_keypoints);
  CheckMatchIndexRanges(db, "two_view_geometries", num_keypoints);
}

}  // namespace scalesfm
