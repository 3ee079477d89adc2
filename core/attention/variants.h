#pragma once
// Factories of every registered variant (one per registry line). Each reads its parameters
// from `args`; masks are the '+' modifiers of the spec (empty for variants that take none).
#include <memory>

#include "core/attention/attention.h"
#include "core/attention/mask.h"
#include "core/attention/spec.h"

namespace attnlab {

using AttnFactory = std::unique_ptr<Attention> (*)(SpecArgs& args, MaskSet masks,
                                                    const AttnBuildContext& ctx);

// softmax.cpp
std::unique_ptr<Attention> make_softmax(SpecArgs&, MaskSet, const AttnBuildContext&);
std::unique_ptr<Attention> make_window(SpecArgs&, MaskSet, const AttnBuildContext&);
std::unique_ptr<Attention> make_topk(SpecArgs&, MaskSet, const AttnBuildContext&);
std::unique_ptr<Attention> make_alibi(SpecArgs&, MaskSet, const AttnBuildContext&);
// pointwise.cpp
std::unique_ptr<Attention> make_sigmoid(SpecArgs&, MaskSet, const AttnBuildContext&);
std::unique_ptr<Attention> make_relu(SpecArgs&, MaskSet, const AttnBuildContext&);
std::unique_ptr<Attention> make_elu1(SpecArgs&, MaskSet, const AttnBuildContext&);
std::unique_ptr<Attention> make_softpick(SpecArgs&, MaskSet, const AttnBuildContext&);
// sink_softmax.cpp
std::unique_ptr<Attention> make_softmax1(SpecArgs&, MaskSet, const AttnBuildContext&);
std::unique_ptr<Attention> make_sink_logit(SpecArgs&, MaskSet, const AttnBuildContext&);
std::unique_ptr<Attention> make_kv_bias(SpecArgs&, MaskSet, const AttnBuildContext&);
// fox.cpp
std::unique_ptr<Attention> make_fox(SpecArgs&, MaskSet, const AttnBuildContext&);
// gated.cpp
std::unique_ptr<Attention> make_gated(SpecArgs&, MaskSet, const AttnBuildContext&);
// diff.cpp
std::unique_ptr<Attention> make_diff(SpecArgs&, MaskSet, const AttnBuildContext&);
// linear_variants.cpp
std::unique_ptr<Attention> make_linear(SpecArgs&, MaskSet, const AttnBuildContext&);
std::unique_ptr<Attention> make_retnet(SpecArgs&, MaskSet, const AttnBuildContext&);
std::unique_ptr<Attention> make_gla(SpecArgs&, MaskSet, const AttnBuildContext&);
std::unique_ptr<Attention> make_deltanet(SpecArgs&, MaskSet, const AttnBuildContext&);
std::unique_ptr<Attention> make_gated_deltanet(SpecArgs&, MaskSet, const AttnBuildContext&);
std::unique_ptr<Attention> make_based(SpecArgs&, MaskSet, const AttnBuildContext&);

}  // namespace attnlab
