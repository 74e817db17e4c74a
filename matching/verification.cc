#include "matching/verification.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>
#include <unordered_set>

#include "util/logging.h"
#include "util/progress.h"
#include "util/scratch_dir.h"

namespace scalesfm {

namespace {

// `colmap matches_importer` on `pairs` of `database_path`, logging to `log_path`.
void RunMatchesImporter(const std::string& database_path, const ImagePairs& pairs,
                        const std::vector<Image>& images, const VerificationOptions& options,
                        const ColmapRunner& colmap, const std::string& list_path,
                        const std::string& log_path) {
  std::vector<std::string> args = {"--database_path", database_path,  "--match_list_path",
                                   list_path,         "--match_type", "pairs"};
  const std::vector<std::string> extra = options.ToColmapArgs();
  args.insert(args.end(), extra.begin(), extra.end());
  WritePairList(list_path, pairs, images);
  std::error_code ignored;
  try {
    colmap.Run("matches_importer", args, log_path);
  } catch (...) {
    std::filesystem::remove(list_path, ignored);  // a failed run leaves no pair list behind
    throw;
  }
  std::filesystem::remove(list_path, ignored);
}

// Contiguous slices of `pairs` verified in parallel, each on its own copy of the database in the
// run's private `scratch` folder; the copies' two-view geometries are then added to
// `database_path`, one transaction per slice. The copies are removed whether or not a step
// failed.
void RunParallelMatchesImporter(const std::string& database_path, const ImagePairs& pairs,
                                const std::vector<Image>& images,
                                const VerificationOptions& options, const ColmapRunner& colmap,
                                const ScratchDir& scratch, const std::string& log_path,
                                int num_processes) {
  namespace fs = std::filesystem;
  std::vector<std::string> copies, logs;
  std::vector<ImagePairs> slices;
  for (int k = 0; k < num_processes; ++k) {
    const size_t begin = pairs.size() * k / num_processes;
    const size_t end = pairs.size() * (k + 1) / num_processes;
    slices.emplace_back(pairs.begin() + begin, pairs.begin() + end);
    const std::string stem = scratch.File(StringPrintf("verify_%d", k));
    copies.push_back(stem + ".db");
    logs.push_back(stem + ".log");
    CopyDatabaseFile(database_path, copies.back());
    fs::remove(logs.back());
  }
  std::vector<std::future<void>> jobs;
  for (int k = 0; k < num_processes; ++k) {
    jobs.push_back(std::async(std::launch::async, [&, k] {
      RunMatchesImporter(copies[k], slices[k], images, options, colmap, copies[k] + ".pairs.txt",
                         logs[k]);
    }));
  }
  std::exception_ptr failure;
  for (auto& job : jobs) {
    try {
      job.get();
    } catch (...) {
      if (!failure) failure = std::current_exception();
    }
  }
  if (!log_path.empty()) {  // the processes' logs, in slice order
    std::ofstream log(log_path, std::ios::app);
    for (const std::string& path : logs) {
      std::ifstream in(path);
      log << in.rdbuf();
    }
  }
  if (!failure) {
    // Each copy holds the geometries of its own slice (and those verified before, which
    // INSERT OR IGNORE leaves as they are). One transaction per slice: after an interruption, a
    // re-run verifies the slices that are missing. On an error the open transaction rolls back
    // and closing the connection detaches the copy.
    try {
      Database db(database_path);
      for (const std::string& copy : copies) {
        db.Attach(copy, "slice");
        Database::Transaction transaction(&db);
        db.Execute(
            "INSERT OR IGNORE INTO main.two_view_geometries SELECT * FROM "
            "slice.two_view_geometries;");
        transaction.Commit();
        db.Execute("DETACH DATABASE slice;");
      }
    } catch (...) {
      failure = std::current_exception();
    }
  }
  for (size_t k = 0; k < copies.size(); ++k) {
    fs::remove(copies[k]);
    fs::remove(logs[k]);
  }
  if (failure) std::rethrow_exception(failure);
}

}  // namespace

void RunGeometricVerification(const std::string& database_path, const ImagePairs& pairs,
                              const VerificationOptions& options, const ColmapRunner& colmap,
                              const std::string& work_dir, MatchingSummary* summary) {
  options.Check();
  Timer timer;
  ImagePairs todo;
  std::vector<Image> images;
  {
    Database db(database_path);
    images = db.ReadAllImages();
    std::unordered_set<image_pair_t> matched;
    for (image_pair_t id : db.ReadMatchedPairIds()) matched.insert(id);
    std::unordered_set<image_pair_t> verified;
    for (const auto& [id, n] : db.ReadTwoViewGeometryNumInliers()) verified.insert(id);
    for (const auto& pair : pairs) {
      const image_pair_t id = ImagePairToPairId(pair.first, pair.second);
      if (matched.count(id) && !verified.count(id)) todo.push_back(pair);
    }
  }
  PrintHeading1("Geometric verification (colmap matches_importer)");
  const int num_processes = options.ResolvedNumProcesses(todo.size());
  LogInfo(StringPrintf("Verifying %zu pairs in %d process%s", todo.size(), num_processes,
                       num_processes == 1 ? "" : "es"));
  const std::string log_path = (std::filesystem::path(work_dir) / "scalesfm_colmap.log").string();
  // Temporary files are private to this run: shards of copies of one database may be verified at
  // the same time in one folder. Creating the folder also removes those of killed runs.
  const ScratchDir scratch(database_path);
  if (!todo.empty()) {
    if (num_processes == 1) {
      RunMatchesImporter(database_path, todo, images, options, colmap,
                         scratch.File("verification_pairs.txt"), log_path);
    } else {
      RunParallelMatchesImporter(database_path, todo, images, options, colmap, scratch, log_path,
                                 num_processes);
    }
  }
  Database db(database_path);
  size_t verified = 0;
  for (const auto& [id, n] : db.ReadTwoViewGeometryNumInliers()) verified += n > 0;
  summary->num_verified = verified;
  summary->verification_seconds = timer.ElapsedSeconds();
  LogInfo(StringPrintf("%zu image pairs have a verified two-view geometry", verified));
  PrintElapsedTime(summary->verification_seconds);
}

}  // namespace scalesfm
