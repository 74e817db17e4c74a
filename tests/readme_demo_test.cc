// README.md quotes what the bundled demo prints (scripts/demo.sh, which scripts/run_demo.sh runs
// after installing and building): this runs the demo and checks that every quoted line is in its
// output, so the README cannot drift from the demo again.
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "colmap_ext/colmap_runner.h"
#include "tests/test_util.h"

namespace scalesfm {
namespace {

// The lines of the fenced block that follows the README's demo-output marker.
std::vector<std::string> QuotedDemoOutput() {
  std::ifstream readme(std::string(SCALESFM_SOURCE_DIR) + "/README.md");
  std::vector<std::string> lines;
  bool marker = false, inside = false;
  for (std::string line; std::getline(readme, line);) {
    if (line.find("<!-- demo output") != std::string::npos) marker = true;
    if (!marker || line.rfind("```", 0) != 0) {
      if (inside) lines.push_back(line);
      continue;
    }
    if (inside) break;  // the closing fence
    inside = true;
  }
  return lines;
}

TEST(ReadmeDemo, PrintsWhatTheReadmeShows) {
  if (!test::HaveColmap()) GTEST_SKIP() << "colmap binary not installed";
  const std::vector<std::string> quoted = QuotedDemoOutput();
  ASSERT_GE(quoted.size(), 3u) << "no demo output block after the README's marker";
  const std::string workspace = test::MakeTempDir("readme_demo") + "/demo";
  std::string output;
  ASSERT_EQ(test::RunCommand(std::string(SCALESFM_SOURCE_DIR) + "/scripts/demo.sh " +
                                 test::ScalesfmBinary() + " " + workspace,
                             &output),
            0)
      << output;
  const ColmapVersion colmap = ColmapRunner().Dialect().version();
  if (colmap.ToString() != "3.8.0") {
    GTEST_SKIP() << "the demo ran; the README quotes COLMAP 3.8's output (verification and "
                    "mapping differ in detail), and this is COLMAP "
                 << colmap.ToString();
  }
  for (const std::string& line : quoted) {
    EXPECT_NE(output.find(line + "\n"), std::string::npos)
        << "README.md shows '" << line << "', the demo printed:\n"
        << output.substr(output.size() > 2000 ? output.size() - 2000 : 0);
  }
}

}  // namespace
}  // namespace scalesfm
