// Cross-entropy of one row of logits, the parts that do not depend on where the logits
// live (a whole row in crossentropy_fused, vocabulary blocks in the LM head): the loss
// from the row's max and log Σ e^{z−max}, and one element's gradient. Shared semantics:
// an ignored row (target == ignore index) gives loss 0 and gradient 0; a target outside
// [0, V) that is not the ignore index gives NaN, so the bug is loud.

const LOWEST: f32 = -3.4028234663852886e38;

// A quiet NaN built at run time (a constant NaN is a WGSL compile error).
fn nan() -> f32 {
  var bits = 0x7fc00000u;
  return bitcast<f32>(bits);
}

fn xent_target_valid(t: i32, V: u32) -> bool {
  return t >= 0 && u32(t) < V;
}

// log Σ_j e^{z_j} − z_target with mx = max_j z_j and log_sum = log Σ_j e^{z_j − mx}: both
// terms (mx − z_target and log_sum ≥ 0) are ≥ 0, so the sum cannot cancel.
fn xent_loss(mx: f32, z_target: f32, log_sum: f32, ignored: bool, valid: bool) -> f32 {
  if (ignored) { return 0.0; }
  if (!valid) { return nan(); }
  return (mx - z_target) + log_sum;
}

// ∂(scale·mean loss)/∂z_j = (softmax_j − [j == target])·k, with prob = softmax_j and
// k = scale / count.
fn xent_grad(prob: f32, is_target: bool, ignored: bool, valid: bool, k: f32) -> f32 {
  if (ignored) { return 0.0; }
  if (!valid) { return nan(); }
  var y = prob;
  if (is_target) { y -= 1.0; }
  return y * k;
}
