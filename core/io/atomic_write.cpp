#include "core/io/atomic_write.h"

#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "core/tensor/error.h"

namespace attnlab {

namespace fs = std::filesystem;

void write_file_atomic(const std::string& path, const std::function<void(std::ostream&)>& write) {
  fs::path target(path);
  if (target.has_parent_path() && !fs::exists(target.parent_path()))
    throw Error("cannot write " + path + ": folder " + target.parent_path().string() + " does not exist");
  std::string tmp = path + ".tmp." + std::to_string(getpid());
  try {
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      if (!out) throw Error("cannot open " + tmp + " for writing");
      write(out);
      out.flush();
      if (!out) throw Error("write failed (disk full?)");
    }
    std::error_code ec;
    fs::rename(tmp, target, ec);
    if (ec) throw Error("rename failed: " + ec.message());
  } catch (const Error& e) {
    std::error_code ec;
    fs::remove(tmp, ec);
    throw Error("cannot write " + path + ": " + e.what());
  } catch (...) {
    std::error_code ec;
    fs::remove(tmp, ec);
    throw;
  }
}

}  // namespace attnlab
