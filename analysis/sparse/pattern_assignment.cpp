#include "analysis/sparse/pattern_assignment.h"

#include <algorithm>

#include "analysis/sparse/selector.h"
#include "core/tensor/error.h"

namespace attnlab {

const std::vector<std::string>& sparse_class_names() {
  static const std::vector<std::string> names = {"local", "sink+window", "vertical-slash",
                                                 "retrieval-like", "dispersed"};
  return names;
}

std::vector<std::string> assignment_patterns(int sinks, int last_q) {
  return {"topk", "window(sinks=0)", "window(sinks=" + std::to_string(sinks) + ")",
          "vertical_slash(last_q=" + std::to_string(last_q) + ")"};
}

void assign_sparse_classes(HeadTable& t, const std::string& budget, int sinks, int last_q) {
  const Budget b = parse_budget(budget);
  std::vector<std::string> recall;
  for (const std::string& spec : assignment_patterns(sinks, last_q)) {
    const std::string m = make_selector(spec, &b)->label() + ".recall";
    if (!t.has(m))
      throw Error("pattern assignment: the table has no '" + m +
                  "'; measure assignment_patterns() at " + budget);
    recall.push_back(m);
  }
  std::string names;
  for (const std::string& n : sparse_class_names()) names += (names.empty() ? "" : ",") + n;
  t.set_meta("sparse_class_names", names);
  t.set_meta("sparse_class_budget", b.str());
  for (int l = 0; l < t.n_layers(); ++l)
    for (int h = 0; h < t.n_heads(); ++h) {
      double best = 0;
      int cls = 3;  // retrieval-like unless a shape keeps 0.9
      for (int f = 1; f <= 3; ++f) {
        const double r = t.get(recall[size_t(f)], l, h);
        best = std::max(best, r);
        if (cls == 3 && r >= 0.9) cls = f - 1;
      }
      if (t.get(recall[0], l, h) < 0.9) cls = 4;
      t.set("sparse_class", l, h, cls);
      t.set("sparse_best_recall", l, h, best);
    }
}

}  // namespace attnlab
