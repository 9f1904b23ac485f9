// The experiments of the paper that are not a single training run, side by side with the
// playground: approximation error against m and the NTK regime of prefix learning.
import { ApproxPanel } from './ApproxPanel';
import { NtkRegimePanel } from './NtkRegimePanel';
import './experiments.css';

export function ExperimentsSection() {
  return (
    <section className="card exp-section" aria-labelledby="experiments-title">
      <h2 id="experiments-title">Experiments</h2>
      <p className="help">
        Each runs in the training engine, one job on the GPU at a time (after the current run), and plots its points as they come. The defaults are tiny; raise them on a real GPU.
      </p>
      <ApproxPanel />
      <NtkRegimePanel />
    </section>
  );
}
