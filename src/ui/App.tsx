// The page as a workbench: a header (adapter, colour theme), what the paper claims, why
// WebGPU is missing and how to fix it, notices; then the settings column (run settings, the
// base model, pretraining) beside the run's status and the tabs (Workbench.tsx); on narrow
// screens the run comes first, then the tabs, then the settings.
import { useState } from 'react';
import { BasePanel } from './BasePanel';
import { Controls } from './Controls';
import { PretrainPanel } from './PretrainPanel';
import { RunPanel } from './RunPanel';
import { dismissNotice, useApp } from './store';
import { applyTheme, storedTheme, type ThemeChoice } from './theme';
import { Workbench } from './Workbench';

function WebGpuFix() {
  return (
    <>
      Use Chrome or Edge 113 or newer, Safari 26 or newer, or Firefox 141 or newer on Windows. On Linux, start Chrome with the flags{' '}
      <code className="nowrap">--enable-unsafe-webgpu --enable-features=Vulkan</code>.
    </>
  );
}

function Intro() {
  return (
    <section className="intro" aria-labelledby="intro-title">
      <h2 id="intro-title" className="visually-hidden">
        What this shows
      </h2>
      <p>
        <strong>Prefix tuning</strong> adapts a frozen transformer by giving every attention head <em>m</em> extra trainable keys and values. The paper{' '}
        <a href="https://arxiv.org/abs/2406.14036" target="_blank" rel="noreferrer">
          <cite>Towards Infinite-Long Prefix in Transformer</cite>
        </a>{' '}
        (Liang, Shi, Song, Yang) argues that longer prefixes fit better, and that attention to an <em>infinitely</em> long prefix can be replaced by{' '}
        <strong>NTK-Attention</strong>: a few parameters per head (Z and k through a feature map φ) whose cost does not grow with m.
      </p>
      <p>
        Here a small GPT trains in your browser on WebGPU, with hand-written kernels. Try prefix runs at several lengths m, then NTK-Attention and LoRA with the same
        settings, and compare the curves.
      </p>
    </section>
  );
}

function GpuStatusLine() {
  const gpu = useApp((s) => s.gpu);
  if (gpu.state === 'probing') {
    return (
      <p className="adapter" role="status">
        Looking for a WebGPU adapter…
      </p>
    );
  }
  if (gpu.state === 'ok') {
    const r = gpu.report;
    return (
      <p className="adapter" role="status" title={gpu.description}>
        WebGPU adapter: <strong>{r.vendor || 'unknown vendor'}</strong>
        {r.architecture && <> · {r.architecture}</>}
        {r.description && r.description !== r.architecture && <> · {r.description}</>} ·{' '}
        {r.isFallbackAdapter ? <span className="badge warn">software fallback (CPU): slow, keep runs small</span> : <span className="badge">hardware</span>}
      </p>
    );
  }
  return null;
}

function Unavailable() {
  const gpu = useApp((s) => s.gpu);
  if (gpu.state !== 'unavailable') return null;
  const headline =
    gpu.reason === 'no-webgpu'
      ? 'This browser does not offer WebGPU, so nothing can train here.'
      : gpu.reason === 'no-adapter'
        ? 'WebGPU is there, but the browser found no GPU adapter to run it on.'
        : 'WebGPU could not start.';
  return (
    <section className="card unavailable" role="alert" aria-labelledby="nogpu-title">
      <h2 id="nogpu-title">{headline}</h2>
      <p>
        <strong>How to fix it:</strong> <WebGpuFix />
      </p>
      {gpu.reason === 'no-adapter' && <p>If the browser is recent, its GPU may be blocklisted: chrome://gpu says why. Updating the graphics driver often helps.</p>}
      <p className="help">Details: {gpu.message}</p>
    </section>
  );
}

function Notices() {
  const notices = useApp((s) => s.notices);
  if (!notices.length) return null;
  return (
    <div className="notices">
      {notices.map((n) => (
        <div key={n.id} className={`notice ${n.kind}`} role={n.kind === 'error' ? 'alert' : 'status'}>
          <p>{n.text}</p>
          <button type="button" aria-label="Dismiss notice" onClick={() => dismissNotice(n.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}

function ThemePicker() {
  const [choice, setChoice] = useState<ThemeChoice>(storedTheme);
  return (
    <label className="theme-picker">
      Theme{' '}
      <select
        value={choice}
        onChange={(e) => {
          const c = e.target.value as ThemeChoice;
          setChoice(c);
          applyTheme(c);
        }}
      >
        <option value="system">system</option>
        <option value="light">light</option>
        <option value="dark">dark</option>
      </select>
    </label>
  );
}

export function App() {
  const gpuOk = useApp((s) => s.gpu.state !== 'unavailable');
  return (
    <div className="app">
      <header className="top">
        <h1>Prefix Lab</h1>
        <GpuStatusLine />
        <ThemePicker />
      </header>
      <Intro />
      <Unavailable />
      <Notices />
      <div className={`layout${gpuOk ? '' : ' disabled'}`}>
        <aside className="side" aria-label="Settings and base model">
          <div className="card">
            <h2 className="visually-hidden">Settings</h2>
            <Controls />
          </div>
          <BasePanel />
          <PretrainPanel />
        </aside>
        <div className="run-slot">
          <RunPanel />
        </div>
        <main className="results">
          <Workbench />
        </main>
      </div>
      <footer className="help">
        A character-level GPT, or a Hugging Face GPT-2 you open; every kernel hand-written WGSL. Settings live in the address bar, the open tab in its #: copy it to share a run.
      </footer>
    </div>
  );
}
