export interface PageInput {
  title: string;
  basePath: string;
  apiPath: string;
  csrfToken: string;
  csrfHeader: string;
  principal: string;
  assetVersions: { js: string; css: string };
}

const escapeHtml = (value: string) => value.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

/**
 * The page shell. What the app needs from the server travels in `<meta>` tags, not an inline
 * script, so the Content-Security-Policy can forbid inline script outright.
 */
export function renderPage(input: PageInput): string {
  const meta = (name: string, content: string) => `<meta name="${name}" content="${escapeHtml(content)}">`;
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(input.title)}</title>`,
    // No favicon request to the host's root (which may not have one): an empty icon.
    '<link rel="icon" href="data:,">',
    meta('herald-api', input.apiPath),
    meta('herald-csrf', input.csrfToken),
    meta('herald-csrf-header', input.csrfHeader),
    meta('herald-principal', input.principal),
    `<link rel="stylesheet" href="${escapeHtml(`${input.basePath}/assets/app.css?v=${input.assetVersions.css}`)}">`,
    `<script type="module" src="${escapeHtml(`${input.basePath}/assets/app.js?v=${input.assetVersions.js}`)}"></script>`,
    '</head>',
    '<body>',
    '<div id="app"><noscript>The Herald dashboard needs JavaScript.</noscript></div>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
