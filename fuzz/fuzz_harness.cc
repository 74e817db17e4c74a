#include "fuzz/fuzz_harness.h"

#include <sqlite3.h>
#include <torch/csrc/jit/serialization/pickle.h>
#include <torch/torch.h>

#include <array>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>

#include "colmap_ext/camera.h"
#include "colmap_ext/database.h"
#include "colmap_ext/database_check.h"
#include "util/logging.h"
#include "util/weights_io.h"

namespace scalesfm::fuzz {
namespace fs = std::filesystem;
namespace {

// Reads the input front to back; past the end it yields zeros.
class ByteReader {
 public:
  ByteReader(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  bool done() const { return pos_ >= size_; }
  uint8_t Byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  uint16_t U16() { return static_cast<uint16_t>(Byte() << 8 | Byte()); }
  std::vector<uint8_t> Bytes(size_t n) {
    std::vector<uint8_t> out;
    while (n-- > 0 && !done()) out.push_back(Byte());
    return out;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

// `position` (0..65535) scaled to an offset in a buffer of `size` bytes.
size_t Scaled(uint16_t position, size_t size) {
  return size == 0 ? 0 : static_cast<size_t>(position) * size / 65536;
}

// Raw damage: (position, xor) records; xor 0 writes a zero byte.
void EditBytes(ByteReader* in, std::vector<char>* bytes) {
  while (!in->done() && !bytes->empty()) {
    const size_t at = Scaled(in->U16(), bytes->size());
    const uint8_t x = in->Byte();
    (*bytes)[at] = x == 0 ? 0 : static_cast<char>((*bytes)[at] ^ x);
  }
}

std::vector<char> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<char>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void WriteFile(const std::string& path, const std::vector<char>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out.flush()) throw std::runtime_error("fuzz harness: cannot write " + path);
}

void Violation(const std::string& what) {
  throw InvariantViolation("accepted but unsound: " + what);
}

// ---------------------------------------------------------------------------------------------
// Database

// The tables and columns the structured edits address (COLMAP 3.8's schema plus scalesfm's).
struct TableColumns {
  const char* table;
  std::vector<const char*> columns;
};
const std::vector<TableColumns>& EditableTables() {
  static const std::vector<TableColumns> tables = {
      {"cameras", {"camera_id", "model", "width", "height", "params", "prior_focal_length"}},
      {"images", {"image_id", "name", "camera_id"}},
      {"keypoints", {"image_id", "rows", "cols", "data"}},
      {"descriptors", {"image_id", "rows", "cols", "data"}},
      {"scalesfm_float_descriptors", {"image_id", "rows", "cols", "data"}},
      {"scalesfm_detected_keypoints", {"image_id", "num_detected"}},
      {"scalesfm_feature_types", {"image_id", "type"}},
      {"scalesfm_feature_levels",
       {"image_id", "level", "factor", "rows", "cols", "descriptors", "keypoint_index"}},
      {"matches", {"pair_id", "rows", "cols", "data"}},
      {"two_view_geometries",
       {"pair_id", "rows", "cols", "data", "config", "F", "E", "H", "qvec", "tvec"}},
      {"scalesfm_pair_scales", {"pair_id", "estimator", "scale", "support"}},
      {"scalesfm_guided_pairs", {"pair_id", "num_added"}},
  };
  return tables;
}

constexpr std::array<int64_t, 16> kSpecialIntegers = {0,
                                                      -1,
                                                      1,
                                                      2,
                                                      3,
                                                      4,
                                                      6,
                                                      8,
                                                      9,
                                                      128,
                                                      2147483647,
                                                      2147483648LL,
                                                      4294967295LL,
                                                      std::numeric_limits<int64_t>::min(),
                                                      std::numeric_limits<int64_t>::max(),
                                                      2147483647LL * 2};
const std::array<double, 8> kSpecialReals = {std::nan(""), HUGE_VAL, -HUGE_VAL, 0.0,
                                             -0.0,         1e308,    -1.0,      1e-300};

// A T from the first bytes of `bytes` (zeros past their end).
template <typename T>
T FromBytes(const std::vector<uint8_t>& bytes) {
  T value{};
  if (!bytes.empty()) std::memcpy(&value, bytes.data(), std::min(bytes.size(), sizeof(T)));
  return value;
}

// One structured edit: [table][row][column][kind][length][payload...]. Edits the database may
// refuse (constraints) are skipped: the point is what the readers do with what it accepts.
void ApplyEdit(sqlite3* db, ByteReader* in) {
  const auto& tables = EditableTables();
  const TableColumns& t = tables[in->Byte() % tables.size()];
  const uint8_t row = in->Byte();
  const std::string column = t.columns[in->Byte() % t.columns.size()];
  const uint8_t kind = in->Byte() % 12;
  const std::vector<uint8_t> payload = in->Bytes(in->Byte() % 64);
  const std::string table = t.table;

  sqlite3_stmt* stmt = nullptr;
  const std::string select = "SELECT rowid, " + column + " FROM " + table + " LIMIT 1 OFFSET " +
                             "(? % max(1, (SELECT count(*) FROM " + table + ")));";
  if (sqlite3_prepare_v2(db, select.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return;  // an earlier edit dropped the column
  }
  sqlite3_bind_int(stmt, 1, row);
  if (sqlite3_step(stmt) != SQLITE_ROW) {
    sqlite3_finalize(stmt);
    return;
  }
  const int64_t rowid = sqlite3_column_int64(stmt, 0);
  const auto* blob = static_cast<const uint8_t*>(sqlite3_column_blob(stmt, 1));
  std::vector<uint8_t> current(blob, blob + sqlite3_column_bytes(stmt, 1));
  sqlite3_finalize(stmt);

  auto run = [&](const std::string& sql, const std::function<void(sqlite3_stmt*)>& bind) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) == SQLITE_OK) {
      bind(s);
      sqlite3_step(s);  // a constraint failure leaves the row as it was
    }
    sqlite3_finalize(s);
  };
  const std::string update =
      "UPDATE OR IGNORE " + table + " SET " + column + " = ?1 WHERE rowid = ?2;";
  auto set = [&](const std::function<void(sqlite3_stmt*)>& bind_value) {
    run(update, [&](sqlite3_stmt* s) {
      bind_value(s);
      sqlite3_bind_int64(s, 2, rowid);
    });
  };
  auto set_blob = [&](const std::vector<uint8_t>& bytes) {
    set([&](sqlite3_stmt* s) {
      sqlite3_bind_blob(s, 1, bytes.empty() ? "" : static_cast<const void*>(bytes.data()),
                        static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
    });
  };
  const uint8_t first = payload.empty() ? 0 : payload[0];
  switch (kind) {
    case 0:  // an integer from the payload's bytes
      set([&](sqlite3_stmt* s) { sqlite3_bind_int64(s, 1, FromBytes<int64_t>(payload)); });
      break;
    case 1:
      set([&](sqlite3_stmt* s) {
        sqlite3_bind_int64(s, 1, kSpecialIntegers[first % kSpecialIntegers.size()]);
      });
      break;
    case 2:
      set([&](sqlite3_stmt* s) { sqlite3_bind_double(s, 1, FromBytes<double>(payload)); });
      break;
    case 3:
      set([&](sqlite3_stmt* s) {
        sqlite3_bind_double(s, 1, kSpecialReals[first % kSpecialReals.size()]);
      });
      break;
    case 4:
      set_blob(payload);
      break;
    case 5: {  // flip bytes of the current blob
      for (size_t i = 0; i + 2 < payload.size() && !current.empty(); i += 3) {
        const size_t at =
            Scaled(static_cast<uint16_t>(payload[i] << 8 | payload[i + 1]), current.size());
        current[at] ^= payload[i + 2] == 0 ? 0xFF : payload[i + 2];
      }
      set_blob(current);
      break;
    }
    case 6: {  // truncate (or extend with the payload)
      const size_t length = Scaled(static_cast<uint16_t>(first << 8), current.size() + 1);
      current.resize(length);
      for (size_t i = 1; i < payload.size(); ++i) current.push_back(payload[i]);
      set_blob(current);
      break;
    }
    case 7:
      set([](sqlite3_stmt* s) { sqlite3_bind_null(s, 1); });
      break;
    case 8:
      set([&](sqlite3_stmt* s) {
        sqlite3_bind_text(s, 1, reinterpret_cast<const char*>(payload.data()),
                          static_cast<int>(payload.size()), SQLITE_TRANSIENT);
      });
      break;
    case 9:
      run("DELETE FROM " + table + " WHERE rowid = ?1;",
          [&](sqlite3_stmt* s) { sqlite3_bind_int64(s, 1, rowid); });
      break;
    case 10:  // another row's value: a blob of another image, a count of another pair
      run(update.substr(0, update.find(" = ?1")) + " = (SELECT " + column + " FROM " + table +
              " LIMIT 1 OFFSET (?3 % max(1, (SELECT count(*) FROM " + table +
              ")))) WHERE rowid = ?2;",
          [&](sqlite3_stmt* s) {
            sqlite3_bind_int64(s, 2, rowid);
            sqlite3_bind_int(s, 3, first);
          });
      break;
    default:  // 11: the column is gone (a foreign or newer schema)
      sqlite3_exec(db, ("ALTER TABLE " + table + " DROP COLUMN " + column + ";").c_str(), nullptr,
                   nullptr, nullptr);
      break;
  }
}

Keypoints SeedKeypoints(int n, float offset) {
  Keypoints keypoints(n);
  for (int i = 0; i < n; ++i) {
    keypoints[i].x = offset + 10.5f * i;
    keypoints[i].y = 5.5f + 7.25f * i;
    keypoints[i].a11 = keypoints[i].a22 = 1.5f + 0.1f * i;
    keypoints[i].a12 = 0.2f;
    keypoints[i].a21 = -0.2f;
  }
  return keypoints;
}

// Three images with everything scalesfm writes, all consistent.
void WriteSeedDatabase(const std::string& path) {
  Database db(path);
  Database::Transaction transaction(&db);
  Camera radial;
  radial.model_id = 2;  // SIMPLE_RADIAL
  radial.width = 640;
  radial.height = 480;
  radial.params = {500, 320, 240, 0.01};
  Camera pinhole;
  pinhole.model_id = 1;  // PINHOLE
  pinhole.width = 320;
  pinhole.height = 240;
  pinhole.params = {300, 310, 160, 120};
  pinhole.has_prior_focal_length = true;
  const camera_t c1 = db.WriteCamera(radial), c2 = db.WriteCamera(pinhole);
  const int kNumKeypoints[] = {12, 10, 8};
  std::vector<image_t> ids;
  for (int i = 0; i < 3; ++i) {
    Image image;
    image.name = "image" + std::to_string(i) + ".jpg";
    image.camera_id = i == 2 ? c2 : c1;
    const image_t id = db.WriteImage(image);
    ids.push_back(id);
    const int n = kNumKeypoints[i];
    db.WriteKeypoints(id, SeedKeypoints(n, 3.5f * i));
    DescriptorsU8 descriptors(n, 128);
    for (int r = 0; r < n; ++r) {
      for (int c = 0; c < 128; ++c)
        descriptors(r, c) = static_cast<uint8_t>((r * 31 + c * 7) % 256);
    }
    db.WriteDescriptors(id, descriptors);
    db.WriteFeatureType(id, i == 1 ? "scfeat" : "sift");
    if (i == 1) {
      DescriptorsF32 floats = DescriptorsF32::Constant(n, 8, 0.35355339f);
      db.WriteFloatDescriptors(id, floats);
      db.WriteNumDetectedKeypoints(id, n - 2);
    }
    if (i == 0) {
      std::vector<FeatureLevel> levels(2);
      for (int l = 0; l < 2; ++l) {
        levels[l].level = l;
        levels[l].factor = l == 0 ? 1.0 : 0.5;
        const int m = l == 0 ? 7 : 5;
        levels[l].descriptors = descriptors.topRows(m);
        for (int k = 0; k < m; ++k) levels[l].keypoint_index.push_back(k + l * 7 - l * 2);
      }
      db.WriteFeatureLevels(id, levels);
    }
  }
  for (int a = 0; a < 3; ++a) {
    for (int b = a + 1; b < 3; ++b) {
      Matches matches;
      for (int k = 0; k < 6; ++k) {
        matches.push_back({static_cast<point2D_t>(k), static_cast<point2D_t>((k * 3) % 8)});
      }
      db.WriteMatches(ids[a], ids[b], matches);
      TwoViewGeometry geometry;
      geometry.config = a == 0 ? 2 : 5;  // CALIBRATED, PLANAR_OR_PANORAMIC
      geometry.inlier_matches.assign(matches.begin(), matches.begin() + 4);
      geometry.F << 0, -1e-4, 0.02, 1e-4, 0, -0.03, -0.02, 0.03, 1;
      geometry.H = Eigen::Matrix3d::Identity() * (a + 1.0);
      db.WriteTwoViewGeometry(ids[a], ids[b], geometry);
      PairScale scale;
      scale.estimator = a == 0 ? "sift_vote" : "scalenet";
      scale.scale = 0.5 * (b + 1);
      scale.support = 10u * (a + b);
      db.WritePairScale(ids[a], ids[b], scale);
    }
  }
  db.WriteGuidedPair(ids[0], ids[1], 3);
  transaction.Commit();
}

// Image ids and pair ids named anywhere in the database, so that orphan rows are read too.
// Throws Error when SQLite does (a damaged table), like the readers.
std::vector<int64_t> Ids(Database* db, const std::string& sql) {
  std::vector<int64_t> ids;
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db->handle(), sql.c_str(), -1, &stmt, nullptr);
  while (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    if (ids.size() < 64) ids.push_back(sqlite3_column_int64(stmt, 0));
    rc = SQLITE_OK;
  }
  sqlite3_finalize(stmt);
  if (rc != SQLITE_DONE) throw Error("fuzz harness: cannot list ids: " + sql);
  return ids;
}

// Runs each step; a scalesfm::Error marks the input rejected and the next step still runs (every
// reader must be safe on its own, whether or not the up-front check ran first).
class Steps {
 public:
  explicit Steps(std::string* error) : error_(error) {}
  bool operator()(const std::function<void()>& step) {
    try {
      step();
      return true;
    } catch (const Error& e) {
      if (!rejected_ && error_) *error_ = e.what();
      rejected_ = true;
      return false;
    }
  }
  bool rejected() const { return rejected_; }

 private:
  std::string* error_;
  bool rejected_ = false;
};

void CheckMatchesWithin(const Matches& matches, size_t n1, size_t n2, const std::string& what) {
  for (const Match& m : matches) {
    if (m.idx1 >= n1 || m.idx2 >= n2) Violation(what + " indexes past the keypoints");
  }
}

}  // namespace

DatabaseFuzzer::DatabaseFuzzer(const std::string& work_dir)
    : work_dir_(work_dir), seed_path_(work_dir + "/seed.db"), run_path_(work_dir + "/run.db") {
  fs::create_directories(work_dir_);
  fs::remove(seed_path_);
  WriteSeedDatabase(seed_path_);
}

Outcome DatabaseFuzzer::Run(const uint8_t* data, size_t size, std::string* error) {
  for (const char* suffix : {"", "-journal", "-wal", "-shm"}) fs::remove(run_path_ + suffix);
  ByteReader in(data, size);
  const uint8_t mode = in.Byte();
  if (mode % 8 == 0) {  // damage the file itself: header, pages, b-tree
    std::vector<char> bytes = ReadFile(seed_path_);
    EditBytes(&in, &bytes);
    WriteFile(run_path_, bytes);
  } else {  // damage rows, values and columns, as a buggy writer or another tool would
    fs::copy_file(seed_path_, run_path_);
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(run_path_.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
      sqlite3_close(db);
      throw std::runtime_error("fuzz harness: cannot open " + run_path_);
    }
    for (int i = 0; i < 8 && !in.done(); ++i) ApplyEdit(db, &in);
    sqlite3_close(db);
  }

  Steps step(error);
  std::unique_ptr<Database> opened;
  if (!step([&] { opened = std::make_unique<Database>(run_path_); })) return Outcome::kRejected;
  Database* db = opened.get();
  const bool consistent = step([&] { CheckDatabaseConsistency(db); });

  step([&] {
    for (const Camera& camera : db->ReadAllCameras()) db->ReadCamera(camera.camera_id);
  });
  step([&] {
    for (const Image& image : db->ReadAllImages()) db->ReadImageWithName(image.name);
  });
  step([&] { db->NumImages(), db->NumKeypointRows(), db->NumMatchesRows(); });
  step([&] { db->NumTwoViewGeometries(), db->ReadFeatureTypes(), db->ReadGuidedPairIds(); });

  // Per image: every feature table, in the orientation the matchers read them.
  // The accepted-means-sound checks need every image's keypoints read.
  std::map<image_t, size_t> num_keypoints;
  std::vector<int64_t> image_ids, pair_ids;
  bool complete = step([&] {
    image_ids = Ids(db,
                    "SELECT image_id FROM images UNION SELECT image_id FROM keypoints UNION "
                    "SELECT image_id FROM descriptors UNION SELECT image_id FROM "
                    "scalesfm_float_descriptors UNION SELECT image_id FROM "
                    "scalesfm_feature_levels;");
  });
  complete = step([&] {
               pair_ids =
                   Ids(db,
                       "SELECT pair_id FROM matches UNION SELECT pair_id FROM two_view_geometries "
                       "UNION SELECT pair_id FROM scalesfm_pair_scales;");
             }) &&
             complete;
  for (const int64_t raw : image_ids) {
    const auto id = static_cast<image_t>(raw);
    const bool read = step([&] {
      if (!db->ExistsKeypoints(id)) return;
      const Keypoints keypoints = db->ReadKeypoints(id);
      if (db->NumKeypoints(id) != keypoints.size()) Violation("NumKeypoints != ReadKeypoints");
      for (const Keypoint& k : keypoints) {
        if (consistent && !(std::isfinite(k.x) && std::isfinite(k.y) && std::isfinite(k.a11) &&
                            std::isfinite(k.a12) && std::isfinite(k.a21) && std::isfinite(k.a22))) {
          Violation("a non-finite keypoint");
        }
      }
      num_keypoints[id] = keypoints.size();
    });
    if (!read) complete = false;
    step([&] {
      if (db->ExistsDescriptors(id)) db->ReadDescriptors(id);
    });
    step([&] {
      if (db->ExistsFloatDescriptors(id)) db->ReadFloatDescriptors(id);
    });
    step([&] { db->ReadNumDetectedKeypoints(id); });
    step([&] {
      for (const auto& [level, factor] : db->ReadLevelFactors(id)) {
        const FeatureLevel read = db->ReadFeatureLevel(id, level);
        if (!consistent || !num_keypoints.count(id)) continue;
        if (!(std::isfinite(read.factor) && read.factor > 0)) Violation("a level factor");
        if (static_cast<size_t>(read.descriptors.rows()) != read.keypoint_index.size()) {
          Violation("level descriptors != keypoint indices");
        }
        for (point2D_t k : read.keypoint_index) {
          if (k >= num_keypoints[id]) Violation("a level keypoint_index past the keypoints");
        }
      }
    });
  }

  // Per pair: matches, geometries (both orientations) and pair scales.
  const auto size_of = [&](image_t id) {
    auto it = num_keypoints.find(id);
    return it == num_keypoints.end() ? size_t{0} : it->second;
  };
  for (const int64_t raw : pair_ids) {
    const auto [id1, id2] = PairIdToImagePair(static_cast<image_pair_t>(raw));
    for (const auto& [a, b] : {std::pair{id1, id2}, std::pair{id2, id1}}) {
      step([&, a = a, b = b] {
        if (!db->ExistsMatches(a, b)) return;
        const Matches matches = db->ReadMatches(a, b);
        if (consistent && complete) CheckMatchesWithin(matches, size_of(a), size_of(b), "a match");
      });
      step([&, a = a, b = b] {
        if (!db->ExistsTwoViewGeometry(a, b)) return;
        const TwoViewGeometry g = db->ReadTwoViewGeometry(a, b);
        if (!consistent || !complete) return;
        CheckMatchesWithin(g.inlier_matches, size_of(a), size_of(b), "an inlier match");
        if (!g.F.allFinite() || !g.H.allFinite()) Violation("a non-finite F or H");
      });
      for (const char* estimator : {"sift_vote", "scalenet", "none"}) {
        step([&, a = a, b = b] {
          const std::optional<PairScale> scale = db->ReadPairScale(a, b, estimator);
          if (scale && !(std::isfinite(scale->scale) && scale->scale > 0)) {
            Violation("a pair scale");
          }
        });
      }
    }
  }
  step([&] { db->ReadTwoViewGeometryNumInliers(); });
  return step.rejected() ? Outcome::kRejected : Outcome::kAccepted;
}

std::vector<uint8_t> RandomDatabaseInput(std::mt19937* rng) {
  auto byte = [&] { return static_cast<uint8_t>((*rng)() & 0xFF); };
  std::vector<uint8_t> input = {byte()};
  if (input[0] % 8 == 0) {
    const int edits = 1 + (*rng)() % 6;
    for (int i = 0; i < edits * 3; ++i) input.push_back(byte());
    return input;
  }
  const int edits = 1 + (*rng)() % 3;
  for (int i = 0; i < edits; ++i) {
    for (int k = 0; k < 4; ++k) input.push_back(byte());
    const uint8_t length = static_cast<uint8_t>((*rng)() % 25);
    input.push_back(length);
    for (int k = 0; k < length; ++k) input.push_back(byte());
  }
  return input;
}

// ---------------------------------------------------------------------------------------------
// Weights

namespace {

// A small module with what the real ones have: convolution, batch norm (with an int64 buffer)
// and a linear layer.
struct TinyNetImpl : torch::nn::Module {
  TinyNetImpl()
      : conv(register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(2, 4, 3)))),
        norm(register_module("norm", torch::nn::BatchNorm2d(4))),
        head(register_module("head", torch::nn::Linear(8, 3))) {}
  torch::nn::Conv2d conv;
  torch::nn::BatchNorm2d norm;
  torch::nn::Linear head;
};
TORCH_MODULE(TinyNet);

void WriteSidecar(const std::string& path, const nlohmann::json& sidecar) {
  std::ofstream(path + ".json", std::ios::trunc) << sidecar.dump(2) << "\n";
}

nlohmann::json SidecarWithChecksum(const std::vector<char>& bytes, const std::string& scratch) {
  WriteFile(scratch, bytes);
  return {{"architecture", "tiny"}, {"config", "fuzz"}, {"sha256", Sha256OfFile(scratch)}};
}

}  // namespace

WeightsFuzzer::WeightsFuzzer(const std::string& work_dir)
    : work_dir_(work_dir), seed_path_(work_dir + "/seed.pt"), run_path_(work_dir + "/run.pt") {
  fs::create_directories(work_dir_);
  torch::set_num_threads(1);  // tiny tensors: the intra-op pool only spins
  torch::manual_seed(3);
  TinyNet net;
  SaveWeights(*net, seed_path_, {{"architecture", "tiny"}, {"config", "fuzz"}});
  seed_bytes_ = ReadFile(seed_path_);
  // The second format LoadWeights reads: a pickled {name: tensor} dict, as torch.save() writes
  // (what scripts/convert_official_weights.py produces).
  c10::impl::GenericDict dict(c10::StringType::get(), c10::TensorType::get());
  for (const auto& p : net->named_parameters()) dict.insert(p.key(), p.value().detach());
  for (const auto& b : net->named_buffers()) dict.insert(b.key(), b.value());
  WriteFile(work_dir_ + "/seed_dict.pt", torch::pickle_save(dict));
}

Outcome WeightsFuzzer::Run(const uint8_t* data, size_t size, std::string* error) {
  ByteReader in(data, size);
  const uint8_t mode = in.Byte();
  std::vector<char> bytes = (mode & 0x80) ? ReadFile(work_dir_ + "/seed_dict.pt") : seed_bytes_;
  const std::vector<char> original = bytes;
  nlohmann::json sidecar;
  bool rehashed = true;
  std::string sidecar_text;
  switch (mode % 5) {
    case 0:  // damaged, and the sidecar's sha256 updated to match: the readers' turn
      EditBytes(&in, &bytes);
      break;
    case 1:  // truncated, then damaged
      bytes.resize(Scaled(in.U16(), bytes.size()));
      EditBytes(&in, &bytes);
      break;
    case 2:  // damaged behind the sidecar's back: must never load
      sidecar = SidecarWithChecksum(bytes, run_path_);
      EditBytes(&in, &bytes);
      rehashed = false;
      break;
    case 3: {  // a sidecar that is not what scalesfm writes
      const std::vector<uint8_t> text = in.Bytes(size);
      sidecar_text.assign(text.begin(), text.end());
      break;
    }
    default: {  // a sidecar whose sha256 has the wrong type or form
      sidecar = SidecarWithChecksum(bytes, run_path_);
      const std::string sha = sidecar["sha256"];
      const uint8_t form = in.Byte() % 7;
      if (form == 0) sidecar["sha256"] = nullptr;
      if (form == 1) sidecar["sha256"] = 42;
      if (form == 2) sidecar["sha256"] = nlohmann::json::array({sha});
      if (form == 3) sidecar["sha256"] = sha.substr(0, Scaled(in.U16(), sha.size()));
      if (form == 4) sidecar["sha256"] = nlohmann::json::object({{"sha256", sha}});
      if (form == 5) sidecar = nlohmann::json::array({sidecar});
      if (form == 6) sidecar["sha256"] = std::string(sha.rbegin(), sha.rend());
      break;
    }
  }
  if (sidecar.is_null() && sidecar_text.empty()) sidecar = SidecarWithChecksum(bytes, run_path_);
  WriteFile(run_path_, bytes);
  if (sidecar_text.empty()) {
    WriteSidecar(run_path_, sidecar);
  } else {
    std::ofstream(run_path_ + ".json", std::ios::trunc) << sidecar_text;
  }

  Steps step(error);
  TinyNet net;
  const bool loaded = step([&] { LoadWeights(net.get(), run_path_); });
  step([&] { ReadSidecar(run_path_); });
  step([&] { ReadArchitectureSidecar(run_path_, "tiny", "TinyNet", "fuzzing"); });
  if (loaded) {
    if (!rehashed && bytes != original) Violation("a weights file changed behind its sha256");
    for (const auto& p : net->named_parameters()) {
      if (!torch::isfinite(p.value()).all().item<bool>()) Violation("non-finite " + p.key());
    }
  }
  return step.rejected() ? Outcome::kRejected : Outcome::kAccepted;
}

std::vector<uint8_t> RandomWeightsInput(std::mt19937* rng) {
  auto byte = [&] { return static_cast<uint8_t>((*rng)() & 0xFF); };
  std::vector<uint8_t> input = {byte()};
  const int mode = input[0] % 5;
  if (mode == 1) {
    input.push_back(byte());
    input.push_back(byte());
  }
  if (mode == 3) {
    // Half the time a near-valid sidecar with a few bytes changed.
    std::string text = R"({"architecture": "tiny", "config": "fuzz", "sha256": "00"})";
    if (byte() & 1) {
      for (int i = 0; i < 1 + byte() % 4; ++i)
        text[byte() % text.size()] = static_cast<char>(byte());
    } else {
      text.resize(byte() % text.size());
    }
    for (char c : text) input.push_back(static_cast<uint8_t>(c));
    return input;
  }
  const int edits = 1 + (*rng)() % 4;
  for (int i = 0; i < edits * 3; ++i) input.push_back(byte());
  return input;
}

}  // namespace scalesfm::fuzz
