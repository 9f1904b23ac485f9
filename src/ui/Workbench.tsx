// The workbench's tabs (WAI-ARIA tabs pattern): Adapt, Experiments, Compare & export and
// Generate. The chosen tab lives in the URL's hash, so a link or a reload opens it again;
// arrow keys, Home and End move between tabs, which follow focus. Panels stay mounted while
// hidden (their forms keep what was typed), except the charts, which one tab at a time shows.
import { useEffect, useRef, useState, type KeyboardEvent, type ReactNode } from 'react';
import { ExchangePanel } from './ExchangePanel';
import { ExperimentsSection } from './experiments/ExperimentsSection';
import { SweepPanel } from './experiments/SweepPanel';
import { GeneratePanel } from './GeneratePanel';
import { Results } from './Results';
import { hashOfTab, TABS, tabAfterKey, tabFromHash, type TabId } from './tabs';

function useTabInUrl(): [TabId, (t: TabId) => void] {
  const [tab, setTab] = useState<TabId>(() => tabFromHash(window.location.hash));
  useEffect(() => {
    const onHash = () => setTab(tabFromHash(window.location.hash));
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  const choose = (t: TabId) => {
    setTab(t);
    // replaceState: switching tabs is not a page to go back to (and fires no hashchange).
    history.replaceState(history.state, '', `${window.location.pathname}${window.location.search}${hashOfTab(t)}`);
  };
  return [tab, choose];
}

function Panel({ id, tab, children }: { id: TabId; tab: TabId; children: ReactNode }) {
  return (
    <div role="tabpanel" id={`panel-${id}`} aria-labelledby={`tab-${id}`} className="tabpanel" hidden={tab !== id}>
      {children}
    </div>
  );
}

export function Workbench() {
  const [tab, choose] = useTabInUrl();
  const refs = useRef(new Map<TabId, HTMLButtonElement>());
  const onKeyDown = (e: KeyboardEvent<HTMLButtonElement>) => {
    const next = tabAfterKey(tab, e.key);
    if (!next) return;
    e.preventDefault();
    choose(next);
    refs.current.get(next)?.focus();
  };
  return (
    <>
      <div role="tablist" aria-label="Workbench" className="tabs">
        {TABS.map((t) => (
          <button
            key={t.id}
            ref={(el) => {
              if (el) refs.current.set(t.id, el);
              else refs.current.delete(t.id);
            }}
            type="button"
            role="tab"
            id={`tab-${t.id}`}
            aria-selected={tab === t.id}
            aria-controls={`panel-${t.id}`}
            tabIndex={tab === t.id ? 0 : -1}
            className="tab"
            onClick={() => choose(t.id)}
            onKeyDown={onKeyDown}
          >
            {t.label}
          </button>
        ))}
      </div>
      <Panel id="adapt" tab={tab}>
        {tab === 'adapt' && <Results />}
        <SweepPanel />
      </Panel>
      <Panel id="experiments" tab={tab}>
        <ExperimentsSection />
      </Panel>
      <Panel id="compare" tab={tab}>
        <ExchangePanel />
        {tab === 'compare' && <Results />}
      </Panel>
      <Panel id="generate" tab={tab}>
        <GeneratePanel />
      </Panel>
    </>
  );
}
