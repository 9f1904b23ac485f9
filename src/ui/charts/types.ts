/** One training run as the charts see it: sparse per-step metrics (train and val are often
 *  logged at different steps) and, when the run blew up, where and why. */
export interface RunSeries {
  id: string;
  name: string;
  points: { step: number; train?: number; val?: number; acc?: number | null }[];
  diverged?: { step: number; message: string };
}

/** One CSV/JSON export row: flat, primitive cells only. Undefined (an optional field left
 *  out) is accepted too and exports like null in CSV (JSON omits the key). */
export type ExportRow = Record<string, string | number | null | undefined>;
