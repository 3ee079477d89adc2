#pragma once
// Tables out of the store: the run overview `attnlab results` prints, and long-format CSV
// (one row per run x metric x step [x layer x head]) that any plotting tool reads.
#include <string>
#include <vector>

#include "experiments/store/query.h"
#include "experiments/store/store.h"

namespace attnlab::exp {

// Scalar names and head metric names are both accepted; an unknown metric is an error that
// lists what the store has.
void check_metrics(Store& store, const std::vector<std::string>& metrics);

// CSV with columns run,<varying fields>,metric,step,layer,head,value (layer/head empty for
// scalars). final_only keeps each run's last step per metric.
std::string results_csv(Store& store, const std::vector<RunRecord>& runs, const std::vector<std::string>& metrics,
                        bool final_only);

// The last value of a scalar metric for a run (NaN if absent); for a head metric, the mean
// over heads at its last step.
double final_value(Store& store, const std::string& run, const std::string& metric);

std::string csv_escape(const std::string& s);

}  // namespace attnlab::exp
