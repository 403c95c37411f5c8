import { render } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { listMonitors } from './lib/api';
import { parseRange, refreshMs, resolveRange } from './lib/timerange';
import { href } from './lib/urlstate';
import { MapPage } from './pages/map';
import { MonitorPage, MonitorsPage, NewMonitorPage } from './pages/monitors';
import { RumPage } from './pages/rum';
import { TracePage, TracesPage } from './pages/traces';
import { Empty, Loading } from './ui/components';
import { ClockContext } from './ui/data';
import { LocContext, navigate, useLocationState } from './ui/router';
import { Nav, RefreshPicker, ThemeToggle, TimePicker } from './ui/shell';

function Home() {
  // The first app monitor's overview, or the list (with its empty state) when there is none.
  useEffect(() => {
    listMonitors().then(
      (ms) => navigate(ms.length === 1 ? href({ name: 'rum', monitor: ms[0].Name, tab: 'overview' }, new URLSearchParams(location.search)) : '/monitors' + location.search, { replace: true }),
      () => navigate('/monitors' + location.search, { replace: true }),
    );
  }, []);
  return <Loading />;
}

function App() {
  const loc = useLocationState();
  const [tick, setTick] = useState(0);
  const [now, setNow] = useState(() => Date.now());
  const rangeKey = ['range', 'from', 'to'].map((k) => loc.params.get(k)).join('|');
  // A new range or a refresh re-reads "now"; everything else keeps the same window.
  const range = useMemo(() => resolveRange(parseRange(loc.params), now), [rangeKey, now]);
  useEffect(() => setNow(Date.now()), [rangeKey]);
  const refresh = () => {
    setNow(Date.now());
    setTick((t) => t + 1);
  };
  const every = refreshMs(loc.params.get('refresh'));
  useEffect(() => {
    if (!every) return;
    const id = setInterval(refresh, every);
    return () => clearInterval(id);
  }, [every]);
  useEffect(() => {
    const k = (e: KeyboardEvent) => {
      const t = (e.target as HTMLElement)?.tagName;
      if (e.key === 'r' && !e.metaKey && !e.ctrlKey && t !== 'INPUT' && t !== 'TEXTAREA' && t !== 'SELECT') refresh();
    };
    document.addEventListener('keydown', k);
    return () => document.removeEventListener('keydown', k);
  }, []);
  const r = loc.route;
  const showTime = r.name !== 'monitor' && r.name !== 'monitor-new' && r.name !== 'trace';
  return (
    <LocContext.Provider value={loc}>
      <ClockContext.Provider value={{ range, tick }}>
        <a class="skip" href="#main">
          Skip to content
        </a>
        <header class="topbar">
          <Nav />
          <div class="topbar-right">
            {showTime && <TimePicker />}
            {showTime && <RefreshPicker onRefresh={refresh} />}
            <ThemeToggle />
          </div>
        </header>
        <main id="main" tabIndex={-1}>
          {r.name === 'home' && <Home />}
          {r.name === 'monitors' && <MonitorsPage />}
          {r.name === 'monitor-new' && <NewMonitorPage />}
          {r.name === 'monitor' && <MonitorPage key={r.monitor} name={r.monitor} />}
          {r.name === 'rum' && <RumPage key={r.monitor} monitor={r.monitor} tab={r.tab} sub={r.sub} />}
          {r.name === 'map' && <MapPage />}
          {r.name === 'traces' && <TracesPage />}
          {r.name === 'trace' && <TracePage key={r.id} id={r.id} />}
          {r.name === 'notfound' && (
            <Empty title="No such page">
              <a href="/monitors">App monitors</a>
            </Empty>
          )}
        </main>
      </ClockContext.Provider>
    </LocContext.Provider>
  );
}

export function mount(el: HTMLElement) {
  render(<App />, el);
}
