#include "support/text_file.hpp"

#include <fstream>
#include <sstream>

namespace cog::support {

std::string read_text_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace cog::support
