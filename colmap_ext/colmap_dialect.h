// What a given `colmap` binary understands: its version, its flag names and its database schema.
//
// scalesfm speaks to COLMAP 3.8 (Debian 12) and COLMAP 4.x (pip, conda, brew, source builds).
// Callers write COLMAP 3.8's flag names; ColmapRunner translates them once, here, into the
// binary's own (one table of renamed flags, not conditionals at the call sites).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace scalesfm {

struct ColmapVersion {
  int major = 0;
  int minor = 0;
  int patch = 0;

  bool AtLeast(int major_, int minor_) const {
    return major != major_ ? major > major_ : minor >= minor_;
  }
  std::string ToString() const;
  // COLMAP's PRAGMA user_version number for databases this version writes
  // (major * 1000000 + minor * 10000 + patch * 100).
  int DatabaseVersionNumber() const { return major * 1000000 + minor * 10000 + patch * 100; }
};

// The version in the banner `colmap help` prints ("COLMAP 3.8 -- Structure-from-Motion ...",
// "COLMAP 4.1.1 -- ...", "COLMAP 4.2.0.dev0 -- ..."); nullopt when there is none.
std::optional<ColmapVersion> ParseColmapVersion(const std::string& help_text);

// The two database schemas. kColmap3: COLMAP 3.8's tables. kColmap4: COLMAP 4.x's, which adds
// rigs, rig_sensors, frames, frame_data and pose_priors, a NOT NULL descriptors.type, and drops
// the images.prior_* columns (COLMAP 3.8 cannot read such a database).
enum class DatabaseSchema { kColmap3, kColmap4 };
const char* DatabaseSchemaName(DatabaseSchema schema);

// One flag renamed between COLMAP 3.8 and 4.x. `colmap4` is null when 4.x removed the option:
// then only `removed_value` (3.8's default) may be passed, and it is dropped.
struct ColmapFlagRename {
  const char* colmap3;
  const char* colmap4;
  const char* removed_value;
};
const std::vector<ColmapFlagRename>& ColmapFlagRenames();

// COLMAP 4's global_mapper flags for `mapper_args` written for the incremental mapper: the
// --Mapper.* options that global_mapper also has (num_threads, min_num_matches,
// ignore_watermarks, random_seed, image_list_path and the intrinsics' ba_refine_*) become
// --GlobalMapper.*, --GlobalMapper.* flags are kept, and the incremental mapper's other options
// are left out, their names added to `ignored`.
std::vector<std::string> GlobalMapperArgs(const std::vector<std::string>& mapper_args,
                                          std::vector<std::string>* ignored);

// Whether a failed mapper's log says it found no initial pair, i.e. no model: COLMAP 3.8
// "failed to create sparse model", 4.x "Failed to create any sparse model" (incremental) and
// "Failed to create sparse model" (global). A result (nothing registered), not an error.
bool MapperLogSaysNoModel(const std::string& log);

class ColmapDialect {
 public:
  explicit ColmapDialect(ColmapVersion version) : version_(version) {}

  const ColmapVersion& version() const { return version_; }
  bool IsColmap4() const { return version_.major >= 4; }
  // The schema this binary writes (and the one scalesfm gives new databases for it).
  DatabaseSchema schema() const {
    return IsColmap4() ? DatabaseSchema::kColmap4 : DatabaseSchema::kColmap3;
  }
  // Whether the binary has the subcommand (global_mapper and view_graph_calibrator came with 4.0).
  bool HasCommand(const std::string& command) const;

  // `args` (flags "--Section.option value" or "--Section.option=value", and anything else, kept
  // as is) with every flag of the table written in this dialect: 3.8 names become 4.x names for
  // COLMAP 4, and 4.x names become 3.8 names for COLMAP 3. A flag that 4.x removed is dropped
  // when it has its 3.8 default and is an Error otherwise.
  std::vector<std::string> TranslateArgs(const std::vector<std::string>& args) const;

 private:
  ColmapVersion version_;
};

}  // namespace scalesfm
