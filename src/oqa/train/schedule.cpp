// Cosine schedule with warm-up.
#include "oqa/train/schedule.h"

#include <algorithm>
#include <cmath>

namespace oqa::train {

double CosineSchedule::lr_at(int64_t stage_step) const {
  const int64_t step = stage_step + o_.offset_steps;
  if (o_.warmup_steps > 0 && step < o_.warmup_steps)
    return o_.base_lr * static_cast<double>(step + 1) / static_cast<double>(o_.warmup_steps);
  const int64_t decay_steps = std::max<int64_t>(1, o_.total_steps - o_.warmup_steps);
  const double t = std::clamp(static_cast<double>(step - o_.warmup_steps) / decay_steps, 0.0, 1.0);
  return o_.min_lr + 0.5 * (o_.base_lr - o_.min_lr) * (1.0 + std::cos(M_PI * t));
}

}  // namespace oqa::train
