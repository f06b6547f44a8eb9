// Losses of supernet training: label-smoothed cross-entropy and in-place distillation (KL to soft labels).
#pragma once

#include <torch/types.h>

namespace oqa::train {

// Mean cross-entropy of logits [N, C] against integer labels [N], with label smoothing in [0, 1).
torch::Tensor label_smoothed_ce(const torch::Tensor& logits, const torch::Tensor& labels, double label_smoothing = 0);

// In-place distillation: KL(teacher || student) = sum_c t_c (log t_c - log softmax(s)_c), averaged over the
// batch ("batchmean"). teacher_probs [N, C] must be a detached probability distribution per row (0 log 0 = 0).
torch::Tensor kd_loss(const torch::Tensor& student_logits, const torch::Tensor& teacher_probs);

// Detached soft labels of a teacher's logits: softmax over classes.
torch::Tensor soft_labels(const torch::Tensor& teacher_logits);

}  // namespace oqa::train
