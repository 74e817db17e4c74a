// The shape every by-name table shares (extractors, scale estimators, matchers): a std::map from
// the name a --Section.type flag takes to the method's entry.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "util/logging.h"

namespace scalesfm {

template <typename Entry>
std::vector<std::string> RegisteredNames(const std::map<std::string, Entry>& registry) {
  std::vector<std::string> names;
  for (const auto& item : registry) names.push_back(item.first);
  return names;
}

// The entry named `name`; throws Error "unknown --<flag> '<name>' (known: ...)".
template <typename Entry>
const Entry& FindRegistered(const std::map<std::string, Entry>& registry, const std::string& name,
                            const std::string& flag) {
  auto it = registry.find(name);
  if (it == registry.end()) {
    std::string names;
    for (const std::string& n : RegisteredNames(registry)) names += (names.empty() ? "" : ", ") + n;
    throw Error("unknown --" + flag + " '" + name + "' (known: " + names + ")");
  }
  return it->second;
}

}  // namespace scalesfm
