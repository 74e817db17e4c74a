#include "matching/pairs.h"

#include <fstream>
#include <sstream>
#include <unordered_map>

#include "util/logging.h"

namespace scalesfm {

ImagePairs ExhaustivePairs(const std::vector<Image>& images, size_t block_size) {
  block_size = std::max<size_t>(1, block_size);
  ImagePairs pairs;
  const size_t n = images.size();
  for (size_t start1 = 0; start1 < n; start1 += block_size) {
    for (size_t start2 = start1; start2 < n; start2 += block_size) {
      for (size_t i = start1; i < std::min(n, start1 + block_size); ++i) {
        for (size_t j = std::max(start2, i + 1); j < std::min(n, start2 + block_size); ++j) {
          pairs.emplace_back(images[i].image_id, images[j].image_id);
        }
      }
    }
  }
  return pairs;
}

ImagePairs ReadPairList(const std::string& path, const Database& db) {
  std::ifstream in(path);
  if (!in) throw Error("cannot open pair list " + path);
  std::unordered_map<std::string, image_t> ids;
  for (const Image& image : db.ReadAllImages()) ids[image.name] = image.image_id;
  ImagePairs pairs;
  std::string line;
  int line_number = 0;
  while (std::getline(in, line)) {
    ++line_number;
    if (line.empty() || line[0] == '#') continue;
    std::stringstream ss(line);
    std::string a, b;
    if (!(ss >> a >> b)) {
      throw Error(StringPrintf("%s:%d: expected two image names", path.c_str(), line_number));
    }
    for (const std::string* name : {&a, &b}) {
      if (!ids.count(*name)) {
        throw Error(StringPrintf("%s:%d: image '%s' is not in the database", path.c_str(),
                                 line_number, name->c_str()));
      }
    }
    if (ids[a] != ids[b]) pairs.emplace_back(ids[a], ids[b]);
  }
  return pairs;
}

void WritePairList(const std::string& path, const ImagePairs& pairs,
                   const std::vector<Image>& images) {
  std::unordered_map<image_t, std::string> names;
  for (const Image& image : images) names[image.image_id] = image.name;
  std::ofstream out(path);
  if (!out) throw Error("cannot write pair list " + path);
  for (const auto& [a, b] : pairs) out << names.at(a) << " " << names.at(b) << "\n";
}

std::pair<int, int> ParseShard(const std::string& shard) {
  int index = 0, count = 0;
  char slash = 0, extra = 0;
  std::istringstream in(shard);
  if (!(in >> index >> slash >> count) || slash != '/' || (in >> extra) || count < 1 || index < 1 ||
      index > count) {
    throw Error("--Matching.shard '" + shard + "' must be i/n with 1 <= i <= n, e.g. 1/4");
  }
  return {index, count};
}

ImagePairs ShardPairs(const ImagePairs& pairs, int index, int count) {
  const size_t begin = pairs.size() * size_t(index - 1) / size_t(count);
  const size_t end = pairs.size() * size_t(index) / size_t(count);
  return ImagePairs(pairs.begin() + begin, pairs.begin() + end);
}

}  // namespace scalesfm
