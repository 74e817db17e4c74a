#include "colmap_ext/database_merge.h"

#include <sqlite3.h>

#include <filesystem>
#include <map>

#include "colmap_ext/database.h"
#include "colmap_ext/database_check.h"
#include "util/logging.h"

namespace fs = std::filesystem;

namespace scalesfm {
namespace {

std::map<std::string, image_t> ImageIdsByName(const Database& db) {
  std::map<std::string, image_t> out;
  for (const Image& image : db.ReadAllImages()) out[image.name] = image.image_id;
  return out;
}

bool SameKeypoints(const Keypoints& a, const Keypoints& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].x != b[i].x || a[i].y != b[i].y || a[i].a11 != b[i].a11 || a[i].a12 != b[i].a12 ||
        a[i].a21 != b[i].a21 || a[i].a22 != b[i].a22) {
      return false;
    }
  }
  return true;
}

void RequireFile(const std::string& path) {
  if (!fs::exists(path)) throw Error("database " + path + " does not exist");
}

}  // namespace

MergeKind ClassifyMerge(const std::string& database_path1, const std::string& database_path2) {
  RequireFile(database_path1);
  RequireFile(database_path2);
  Database db1(database_path1), db2(database_path2);
  CheckDatabaseConsistency(&db1);  // a merge would copy damaged rows into the merged database
  CheckDatabaseConsistency(&db2);
  const auto ids1 = ImageIdsByName(db1), ids2 = ImageIdsByName(db2);
  size_t shared = 0;
  for (const auto& [name, id] : ids1) shared += ids2.count(name);
  if (shared == 0) return MergeKind::kDisjointImages;
  if (shared != ids1.size() || shared != ids2.size()) {
    throw Error(StringPrintf(
        "cannot merge %s and %s: they share %zu images but not all (%zu and %zu). Shards of "
        "one matching run hold the same images; other databases must have no image in common",
        database_path1.c_str(), database_path2.c_str(), shared, ids1.size(), ids2.size()));
  }
  for (const auto& [name, id] : ids1) {
    if (ids2.at(name) != id) {
      throw Error("cannot merge shards: image " + name + " has different ids (" +
                  std::to_string(id) + " vs " + std::to_string(ids2.at(name)) +
                  "); shards must be copies of one database extracted once");
    }
    if (!SameKeypoints(db1.ReadKeypoints(id), db2.ReadKeypoints(id))) {
      throw Error("cannot merge shards: image " + name +
                  " has different keypoints in the two databases (extracted separately, or "
                  "matched with --ScaleMatching.reextract 1, which adds keypoints)");
    }
  }
  return MergeKind::kShards;
}

MergeKind MergeDatabases(const std::string& database_path1, const std::string& database_path2,
                         const std::string& merged_path, const ColmapRunner& colmap) {
  if (fs::exists(merged_path)) {
    throw Error("merged database " + merged_path + " already exists; choose a new path");
  }
  const MergeKind kind = ClassifyMerge(database_path1, database_path2);
  if (kind == MergeKind::kDisjointImages) {
    LogInfo("No image in common: merging with colmap database_merger");
    colmap.Run("database_merger", {"--database_path1", database_path1, "--database_path2",
                                   database_path2, "--merged_database_path", merged_path});
    return kind;
  }
  LogInfo("Same images and keypoints: merging the pairs of two matching shards");
  // Work on a temporary copy and rename at the end, so a failure leaves no half-merged file.
  const std::string tmp = merged_path + ".partial";
  CopyDatabaseFile(database_path1, tmp);
  try {
    Database merged(tmp);
    merged.Attach(database_path2, "other");
    {
      Database::Transaction transaction(&merged);
      merged.Execute("INSERT OR IGNORE INTO main.matches SELECT * FROM other.matches;");
      merged.Execute(
          "INSERT OR IGNORE INTO main.two_view_geometries SELECT * FROM "
          "other.two_view_geometries;");
      merged.Execute(
          "INSERT OR IGNORE INTO main.scalesfm_pair_scales SELECT * FROM "
          "other.scalesfm_pair_scales;");
      // Guided matching's resume record goes with the inliers it extended.
      merged.Execute(
          "INSERT OR IGNORE INTO main.scalesfm_guided_pairs SELECT * FROM "
          "other.scalesfm_guided_pairs;");
      transaction.Commit();
    }
    merged.Execute("DETACH DATABASE other;");
  } catch (...) {
    fs::remove(tmp);
    throw;
  }
  fs::rename(tmp, merged_path);
  return kind;
}

}  // namespace scalesfm
