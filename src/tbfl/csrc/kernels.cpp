// tbfl's CPU kernels (built by tbfl/cpu_kernels.py through torch.utils.cpp_extension).
#include <torch/extension.h>

#include "glu.h"
#include "gru.h"

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("glu_forward", &tbfl::glu_forward, "GLU forward: (x, weight, bias) -> out; x and out (..., C)");
  m.def("glu_backward", &tbfl::glu_backward, "GLU backward: (grad, x, weight, bias) -> [grad_x, grad_weight, grad_bias]");
  m.def("gru_forward", &tbfl::gru_forward, "GRU frame loop: (projected, w_hh_t, b_hh, states, gates_rz, candidates, recurrent), fills the last four");
  m.def("gru_backward", &tbfl::gru_backward,
        "GRU backward frame loop: (grad_states, to_candidate, to_update, to_reset, gates_rz, w_hh, grad_candidate, grad_recurrent), fills the last two");
}
