// Command-line words as flags: "--name value", "--name=value" and a bare "--name", the way
// COLMAP's and scalesfm's parsers read them (a following word that starts with "--" is the next
// flag, not a value). Used where scalesfm rewrites the flags it forwards.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace scalesfm {

struct FlagArg {
  std::string name;  // without the leading "--"; empty for a word that is not a flag
  std::optional<std::string> value;  // the flag's value, or the word itself
  bool equals_form = false;          // written "--name=value"

  // The words as written, with `new_name` in place of the flag's name when given.
  std::vector<std::string> Words(const std::string& new_name = "") const;
};

std::vector<FlagArg> SplitFlagArgs(const std::vector<std::string>& args);

// The value of the last `--name` in `args` (the last one wins, as in COLMAP's parser).
std::optional<std::string> FindFlagValue(const std::vector<std::string>& args,
                                         const std::string& name);

}  // namespace scalesfm
