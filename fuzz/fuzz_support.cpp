#include "fuzz/fuzz_support.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace attnlab::fuzz {

namespace fs = std::filesystem;

const std::string& temp_dir() {
  // Never destroyed: the atexit handler below runs after function-local statics are gone.
  static const std::string* dir = [] {
    fs::path p = fs::temp_directory_path() / ("attnlab-fuzz-" + std::to_string(getpid()));
    fs::create_directories(p);
    auto* s = new std::string(p.string());
    std::atexit([] {
      std::error_code ec;
      fs::remove_all(temp_dir(), ec);
    });
    return s;
  }();
  return *dir;
}

std::string write_temp_file(const std::string& name, const uint8_t* data, size_t size) {
  std::string path = temp_dir() + "/" + name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  if (!out) {
    // The harness cannot run, which is not the loader's fault: stop loudly.
    std::fprintf(stderr, "attnlab fuzz: cannot write %s\n", path.c_str());
    std::abort();
  }
  return path;
}

}  // namespace attnlab::fuzz
