// check_lsq_inputs: one readable error per bad argument of the LSQ op.
#include <cmath>
#include <sstream>

#include <torch/torch.h>

#include "oqa/quant/lsq.h"
#include "oqa/util/error.h"

namespace oqa::quant {

namespace {

std::string shape_text(const torch::Tensor& t) {
  std::ostringstream os;
  os << t.sizes();
  return os.str();
}

// Checks a step-size or offset tensor: float32, `expected` elements (or 1 when allow_one), and values
// finite (and positive when positive is set).
void check_table(const torch::Tensor& t, const char* field, int64_t expected, bool allow_one, bool positive) {
  if (!t.defined()) throw util::input_error("tensor is undefined").field(field);
  if (t.scalar_type() != torch::kFloat)
    throw util::input_error("must be float32").field(field).value(std::string(c10::toString(t.scalar_type())));
  if (t.numel() != expected && !(allow_one && t.numel() == 1)) {
    std::string want = std::to_string(expected) + (expected == 1 ? " (per-tensor)" : " (one per channel)");
    if (allow_one && expected != 1) want += " or 1";
    throw util::input_error("has " + std::to_string(t.numel()) + " elements, expected " + want)
        .field(field)
        .value(shape_text(t));
  }
  auto v = t.detach().to(torch::kCPU).contiguous();
  const float* p = v.data_ptr<float>();
  for (int64_t i = 0; i < v.numel(); ++i) {
    if (!std::isfinite(p[i]) || (positive && !(p[i] > 0.0f))) {
      std::string where = v.numel() == 1 ? "" : " (element " + std::to_string(i) + ")";
      throw util::Error(util::ErrorKind::kNumeric,
                        std::string(positive ? "must be finite and > 0" : "must be finite") + where)
          .field(field)
          .value(std::to_string(p[i]));
    }
  }
}

}  // namespace

void check_lsq_inputs(const torch::Tensor& x, const torch::Tensor& step, const torch::Tensor& offset,
                      const QuantSpec& spec, double grad_scale) {
  spec.validate();
  if (spec.is_float()) return;
  if (!x.defined()) throw util::input_error("tensor is undefined").field("x");
  if (x.scalar_type() != torch::kFloat)
    throw util::input_error("LSQ quantization needs float32 input")
        .field("x")
        .value(std::string(c10::toString(x.scalar_type())));
  if (x.numel() == 0) throw util::input_error("cannot quantize an empty tensor").field("x").value(shape_text(x));
  int64_t channels = 1;
  if (spec.per_channel()) {
    if (spec.axis >= x.dim())
      throw util::input_error("channel axis out of range for x of shape " + shape_text(x))
          .field("axis")
          .value(std::to_string(spec.axis));
    channels = x.size(spec.axis);
  }
  check_table(step, "step_size", channels, /*allow_one=*/false, /*positive=*/true);
  if (spec.symmetric) {
    if (offset.defined())
      throw util::input_error("a symmetric spec takes no offset (pass an undefined tensor)").field("offset");
  } else {
    check_table(offset, "offset", channels, /*allow_one=*/true, /*positive=*/false);
  }
  if (!std::isfinite(grad_scale) || !(grad_scale > 0.0))
    throw util::input_error("must be finite and > 0").field("grad_scale").value(std::to_string(grad_scale));
}

}  // namespace oqa::quant
