import { html, type Raw } from '../html.ts';

export interface PageOptions {
  title: string;
  /** Nav entry to highlight. */
  section?: 'messages' | 'compose' | 'profiles' | 'numbers';
  csrfToken?: string;
  body: Raw;
}

const NAV: Array<[PageOptions['section'], string, string]> = [
  ['messages', '/dashboard', 'Messages'],
  ['compose', '/dashboard/compose', 'Compose'],
  ['profiles', '/dashboard/profiles', 'Profiles'],
  ['numbers', '/dashboard/numbers', 'Numbers'],
];

/** The page shell: one stylesheet and one script, both served by the gateway itself. */
export function page(o: PageOptions): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${o.csrfToken ? html`<meta name="csrf-token" content="${o.csrfToken}">` : ''}
<title>${o.title} · mms-gateway</title>
<link rel="stylesheet" href="/dashboard/assets/dashboard.css">
<link rel="icon" href="data:,">
<script src="/dashboard/assets/dashboard.js" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
  <span class="brand">mms-gateway</span>
  ${
    o.section
      ? html`<nav aria-label="Main">${NAV.map(
          ([key, href, label]) =>
            html`<a href="${href}"${key === o.section ? html` aria-current="page"` : ''}>${label}</a>`,
        )}</nav>
  <form method="post" action="/dashboard/logout" class="logout"><input type="hidden" name="_csrf" value="${o.csrfToken}"><button type="submit">Sign out</button></form>`
      : ''
  }
</header>
<main id="main">
${o.body}
</main>
</body>
</html>`.toString();
}

export function notice(kind: 'error' | 'ok', text: string | undefined): Raw | '' {
  return text
    ? html`<p class="notice ${kind}" role="${kind === 'error' ? 'alert' : 'status'}">${text}</p>`
    : '';
}
