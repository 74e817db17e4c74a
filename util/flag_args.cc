#include "util/flag_args.h"

namespace scalesfm {

std::vector<std::string> FlagArg::Words(const std::string& new_name) const {
  if (name.empty()) return {value.value_or("")};
  const std::string flag = "--" + (new_name.empty() ? name : new_name);
  if (!value) return {flag};
  if (equals_form) return {flag + "=" + *value};
  return {flag, *value};
}

std::vector<FlagArg> SplitFlagArgs(const std::vector<std::string>& args) {
  std::vector<FlagArg> out;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    FlagArg item;
    if (arg.rfind("--", 0) != 0) {
      item.value = arg;
    } else if (const size_t eq = arg.find('='); eq != std::string::npos) {
      item.name = arg.substr(2, eq - 2);
      item.value = arg.substr(eq + 1);
      item.equals_form = true;
    } else {
      item.name = arg.substr(2);
      if (i + 1 < args.size() && args[i + 1].rfind("--", 0) != 0) item.value = args[++i];
    }
    out.push_back(std::move(item));
  }
  return out;
}

std::optional<std::string> FindFlagValue(const std::vector<std::string>& args,
                                         const std::string& name) {
  std::optional<std::string> value;
  for (const FlagArg& arg : SplitFlagArgs(args)) {
    if (arg.name == name && arg.value) value = arg.value;
  }
  return value;
}

}  // namespace scalesfm
