// tbfl's CPU kernels (built by tbfl/cpu_kernels.py through torch.utils.cpp_extension).
#include <torch/extension.h>

#include "glu.h"
#include "gru.h"

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("glu_forward", &tbfl::glu_forward, "GLU and average pooling: (x (B, T, F, C), weight, bias, kt, kf) -> (B, T / kt, F / kf, C)");
  m.def("glu_backward", &tbfl::glu_backward, "GLU and average pooling backward: (grad, x, weight, bias, kt, kf) -> [grad_x, grad_weight, grad_bias]");
  m.def("gru_forward", &tbfl::gru_forward, "GRU layer frame loop: (projected, w_hh_t, b_hh) -> [output, states, recurrent, gates_rz, candidates]");
  m.def("gru_backward", &tbfl::gru_backward, "GRU layer backward frame loop: (grad_output, states, recurrent, gates_rz, candidates, w_hh) -> [grad_projected, grad_recurrent]");
}
