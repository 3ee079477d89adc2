#pragma once
// Files a user made are written atomically: into a temp file beside the target, flushed to disk,
// then renamed, so a crash, a kill or a full disk never leaves a half-written checkpoint under the
// real name, and the previous version stays readable until the new one is complete.
#include <functional>
#include <ostream>
#include <string>

namespace attnlab {

// Calls write(out) on a temp file next to `path` (`path`.tmp.<pid>), checks every write, fsyncs
// and closes it, renames it over `path` and fsyncs the folder. On any failure the temp file is
// removed, `path` is left as it was, and attnlab::Error names `path` and the reason (e.g. "No
// space left on device").
void write_file_atomic(const std::string& path, const std::function<void(std::ostream&)>& write);

// Removes the temp files that writers of `path` killed mid-write left behind (`path`.tmp.*).
// Only for a process that owns `path` (a run resuming its own checkpoint): a concurrent writer's
// temp file would be removed too.
void remove_stale_temp_files(const std::string& path);

}  // namespace attnlab
