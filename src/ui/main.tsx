import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { connectEngine } from './route';
import { loadConfigFromUrl, useApp, visibilityChanged } from './store';
import { applyTheme, storedTheme } from './theme';
import { startEngine } from './worker/client';
import './styles.css';

applyTheme(storedTheme());
loadConfigFromUrl(window.location.search);

// The worker owns the device, but navigator.gpu is checked here too: without it there is no
// point starting the engine, and the page can say so at once.
if (!('gpu' in navigator) || !navigator.gpu) {
  connectEngine(null);
  useApp.setState({ gpu: { state: 'unavailable', reason: 'no-webgpu', message: 'navigator.gpu is missing in this browser.' } });
} else {
  const engine = startEngine();
  connectEngine(engine);
  engine.send({ type: 'init' });
  document.addEventListener('visibilitychange', () => visibilityChanged(document.hidden));
  // Test and debugging hooks: lose the device, or make the running model diverge, on purpose
  // to check those paths end to end.
  (window as unknown as { __prefixLab: object }).__prefixLab = {
    loseDevice: () => engine.send({ type: 'lose-device' }),
    poisonRun: () => engine.send({ type: 'poison-run' }),
  };
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
