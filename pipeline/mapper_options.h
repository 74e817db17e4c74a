// --Mapper.* options of scalesfm's own (colmap's --Mapper.* flags are forwarded as they are).
#pragma once

#include <string>

namespace scalesfm {

struct MapperOptions {
  // --Mapper.type: "incremental" (colmap mapper, with scalesfm's restarts) or "global" (COLMAP
  // 4's global_mapper, GLOMAP; needs a COLMAP 4 binary).
  std::string type = "incremental";
  // --Mapper.restarts: further incremental mapper runs, each from one initial pair, while the
  // largest model leaves registrable images out. 0 gives COLMAP's single run.
  int max_init_pairs = 2;

  bool IsGlobal() const { return type == "global"; }
  void Check() const;
};

}  // namespace scalesfm
