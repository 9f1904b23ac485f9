import { useEffect, useState } from 'react';
import { createBrowserGpu } from '../gpu/browser';
import { describeAdapter } from '../gpu/device';
import { GpuError } from '../gpu/errors';

type Probe = { state: 'probing' } | { state: 'ok'; adapter: string } | { state: 'error'; message: string };

/** Placeholder shell until the playground lands: probes WebGPU and says what it found. */
export function App() {
  const [probe, setProbe] = useState<Probe>({ state: 'probing' });
  useEffect(() => {
    createBrowserGpu()
      .then((gpu) => {
        setProbe({ state: 'ok', adapter: describeAdapter(gpu.report) });
        gpu.destroy();
      })
      .catch((e: unknown) => setProbe({ state: 'error', message: e instanceof GpuError ? e.message : String(e) }));
  }, []);
  return (
    <main>
      <h1>Prefix Lab</h1>
      <p>Prefix attention vs NTK-Attention, trained in your browser on WebGPU.</p>
      <p role="status" aria-live="polite">
        {probe.state === 'probing' && 'Looking for a WebGPU adapter…'}
        {probe.state === 'ok' && `WebGPU adapter: ${probe.adapter}`}
        {probe.state === 'error' && `WebGPU unavailable: ${probe.message}`}
      </p>
    </main>
  );
}
