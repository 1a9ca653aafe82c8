import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { render } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { PRINCIPAL } from './api.js';
import { CampaignDetail } from './campaign-detail.js';
import { CampaignForm } from './campaign-form.js';
import { CampaignsList } from './campaigns-list.js';
import { href, useRoute } from './router.js';
import { Segments } from './segments.js';

function Page() {
  const route = useRoute();
  const [section = 'campaigns', id, sub] = route.path;
  const key = route.path.join('/');
  // A new screen moves focus to its heading, so keyboard and screen-reader users start at the top of
  // it; the first screen leaves focus where the browser put it, so the skip link comes first.
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    const timer = setTimeout(() => document.querySelector<HTMLElement>('main h1')?.focus(), 0);
    return () => clearTimeout(timer);
  }, [key]);
  if (section === 'segments') return <Segments />;
  if (section === 'campaigns' && id === 'new') return <CampaignForm key="new" />;
  if (section === 'campaigns' && id && sub === 'edit') return <CampaignForm key={`edit-${id}`} id={id} />;
  if (section === 'campaigns' && id) return <CampaignDetail key={id} id={id} />;
  if (section === 'campaigns') return <CampaignsList route={route} />;
  return (
    <>
      <h1 tabIndex={-1}>Not found</h1>
      <p>
        No such screen. <a href={href('/campaigns')}>Campaigns</a>
      </p>
    </>
  );
}

function App() {
  const route = useRoute();
  const section = route.path[0] ?? 'campaigns';
  return (
    <>
      {/* A button, not a link to #main: the hash is the app's route. */}
      <button type="button" class="skip-link" onClick={() => document.getElementById('main')?.focus()}>
        Skip to content
      </button>
      <header class="top">
        <span class="brand">Herald</span>
        <nav aria-label="Main">
          <a href={href('/campaigns')} aria-current={section === 'campaigns' ? 'page' : undefined}>
            Campaigns
          </a>
          <a href={href('/segments')} aria-current={section === 'segments' ? 'page' : undefined}>
            Segments
          </a>
        </nav>
        <span class="principal">Signed in as {PRINCIPAL}</span>
      </header>
      <main id="main" tabIndex={-1}>
        <Page />
      </main>
    </>
  );
}

const root = document.getElementById('app');
if (root) {
  root.textContent = '';
  render(<App />, root);
}
