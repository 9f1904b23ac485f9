// Y[z] = X[z]ᵀ: X[z] is [R, C] at element offset z·strideX, Y[z] is [C, R] packed at z·R·C.
// Used by src/kernels/matmul.ts on the direct (software-adapter) path to turn A·Bᵀ into
// A·B: there, 64 invocations reading 64 rows of B along k evict each other from L1 when the
// rows are a multiple of 4 KiB apart, and the copy costs N·K against the product's M·N·K.
struct Params {
  R: u32,
  C: u32,
  strideX: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;

// Consecutive invocations take consecutive rows r: eight rows read at one column, one
// contiguous run of Y written.
@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let r = gid.x;
  let c = gid.y;
  if (r < p.R && c < p.C) {
    Y[gid.z * p.R * p.C + c * p.R + r] = X[gid.z * p.strideX + r * p.C + c];
  }
}
