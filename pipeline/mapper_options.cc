#include "pipeline/mapper_options.h"

#include "util/logging.h"

namespace scalesfm {

void MapperOptions::Check() const {
  if (type != "incremental" && type != "global") {
    throw Error("--Mapper.type must be incremental or global, got '" + type + "'");
  }
  if (max_init_pairs < 0) {
    throw Error(StringPrintf("--Mapper.restarts must be >= 0, got %d", max_init_pairs));
  }
}

}  // namespace scalesfm
