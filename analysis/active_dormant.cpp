#include "analysis/active_dormant.h"

#include <cmath>
#include <limits>

#include "core/attention/attention.h"
#include "core/tensor/error.h"

namespace attnlab {

ActiveDormantStats::ActiveDormantStats(int n_layers, int n_heads, std::vector<char> is_trigger)
    : L_(n_layers),
      H_(n_heads),
      trigger_(std::move(is_trigger)),
      acc_(size_t(n_layers) * n_heads) {}

void ActiveDormantStats::set_tokens(const int32_t* tokens, int B, int T) {
  tokens_ = tokens;
  B_ = B;
  T_ = T;
}

namespace {
double norm(const float* x, int n) {
  double s = 0;
  for (int i = 0; i < n; ++i) s += double(x[i]) * x[i];
  return std::sqrt(s);
}
}  // namespace

void ActiveDormantStats::on_attention(const LayerAttentionView& view) {
  const AttnInputs& in = *view.inputs;
  const AttnShape& s = in.shape;
  if (!tokens_ || s.B != B_ || s.T != T_)
    throw Error("active-dormant stats: set_tokens() must give the forward's tokens [B, T]");
  if (view.layer < 0 || view.layer >= L_ || s.H != H_)
    throw Error("active-dormant stats: model shape mismatch");
  const bool proxy = !view.attention->normalized_rows();
  const float scale = 1.0f / std::sqrt(float(s.Dh));
  for (int b = 0; b < s.B; ++b) {
    const int32_t* tok = tokens_ + int64_t(b) * s.T;
    auto is_trig = [&](int t) {
      return tok[t] >= 0 && size_t(tok[t]) < trigger_.size() && trigger_[size_t(tok[t])];
    };
    for (int h = 0; h < s.H; ++h) {
      Acc& a = acc_[size_t(view.layer) * H_ + h];
      const int64_t base = (int64_t(b) * s.H + h) * s.head_size();
      const float* q = in.q + base;
      const float* k = in.k + base;
      const float* v = in.v + base;
      view.attention->pattern(in, b, h, [&](int t, const float* row) {
        if (t < 1) return;
        double z = 1;
        if (proxy) {
          z = 0;
          for (int j = 0; j <= t; ++j) z += row[j];
          if (!(z > 0)) return;  // an all-zero row has no distribution to read
        }
        if (is_trig(t)) {
          a.bos_tr += row[0] / z;
          a.prev_tr += row[t - 1] / z;
          ++a.n_tr;
        } else {
          a.bos_nt += row[0] / z;
          ++a.n_nt;
        }
      });
      if (s.T < 2) continue;
      double rest = 0;
      for (int j = 1; j < s.T; ++j) rest += norm(v + int64_t(j) * s.Dh, s.Dh);
      rest /= (s.T - 1);
      if (rest > 0) {
        a.vratio += norm(v, s.Dh) / rest;
        ++a.n_seq;
      }
      for (int t = 1; t < s.T; ++t) {
        const float* qt = q + int64_t(t) * s.Dh;
        auto score = [&](int j) {
          const float* kj = k + int64_t(j) * s.Dh;
          double d = 0;
          for (int i = 0; i < s.Dh; ++i) d += double(qt[i]) * kj[i];
          return d * scale;
        };
        double others = 0;
        for (int j = 1; j <= t; ++j) others += score(j);
        a.gap += score(0) - others / t;
        ++a.n_gap;
      }
    }
  }
}

HeadTable ActiveDormantStats::table() const {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  auto mean = [&](double sum, int64_t n) { return n > 0 ? sum / double(n) : nan; };
  HeadTable t(L_, H_);
  for (int l = 0; l < L_; ++l)
    for (int h = 0; h < H_; ++h) {
      const Acc& a = acc_[size_t(l) * H_ + h];
      t.set("bos_mass_nontrigger", l, h, mean(a.bos_nt, a.n_nt));
      t.set("bos_mass_trigger", l, h, mean(a.bos_tr, a.n_tr));
      t.set("prev_mass_trigger", l, h, mean(a.prev_tr, a.n_tr));
      t.set("bos_mass_contrast", l, h, mean(a.bos_nt, a.n_nt) - mean(a.bos_tr, a.n_tr));
      t.set("bos_value_ratio", l, h, mean(a.vratio, a.n_seq));
      t.set("bos_score_gap", l, h, mean(a.gap, a.n_gap));
    }
  t.set_meta("probe", "active_dormant");
  return t;
}

}  // namespace attnlab
