// The choices NTK-Attention's kernels are compiled for (docs/ntk-attention.md §4, §5). They
// live with the kernels, the lowest layer that uses them; train/config.ts re-exports them
// for the run settings.

/** Feature map φ: elu1 (r = d, positive) or taylor2 (r = 1 + d + d², signed). */
export type FeatureMapName = 'elu1' | 'taylor2';
/** How κ becomes the denominator's k̃: |κ|, e^κ, softplus(κ), or κ as is. */
export type KParam = 'abs' | 'exp' | 'softplus' | 'identity';
