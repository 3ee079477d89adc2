#pragma once
// Files a user made are written atomically: into a temp file beside the target, then renamed,
// so a crash or a full disk never leaves a half-written checkpoint under the real name.
#include <functional>
#include <ostream>
#include <string>

namespace attnlab {

// Calls write(out) on a temp file next to `path`, flushes, checks the stream, and renames it over
// `path`. On any failure the temp file is removed and attnlab::Error names `path`.
void write_file_atomic(const std::string& path, const std::function<void(std::ostream&)>& write);

}  // namespace attnlab
