// Cross-entropy and KD loss as plain tensor formulas.
#include "oqa/train/distill_loss.h"

#include <ATen/ATen.h>

namespace oqa::train {

torch::Tensor label_smoothed_ce(const torch::Tensor& logits, const torch::Tensor& labels, double label_smoothing) {
  return at::cross_entropy_loss(logits, labels, /*weight=*/{}, at::Reduction::Mean, /*ignore_index=*/-100,
                                label_smoothing);
}

torch::Tensor kd_loss(const torch::Tensor& student_logits, const torch::Tensor& teacher_probs) {
  const auto log_student = at::log_softmax(student_logits, 1);
  const auto per_element = at::xlogy(teacher_probs, teacher_probs) - teacher_probs * log_student;
  return per_element.sum() / student_logits.size(0);
}

torch::Tensor soft_labels(const torch::Tensor& teacher_logits) { return at::softmax(teacher_logits.detach(), 1); }

}  // namespace oqa::train
