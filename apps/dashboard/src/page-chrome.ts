import type { Session } from './access-guard.ts';
import { ADMIN_PATH, XSRF_COOKIE } from './cookies.ts';
import { escapeHtml } from './render-page.ts';

/** The bar above our pages: where to go, who is signed in, in which mode, until when. */
export function pageHeader({ principal, canWrite }: Session): string {
  const until = new Date(principal.exp * 1000).toISOString();
  return `<header>
<strong>Ticketflow ops</strong>
<a href="${ADMIN_PATH}/queues">Queues</a>
<a href="${ADMIN_PATH}/dead-letters">Dead letters</a>
<span class="who">${escapeHtml(principal.sub)} · ${canWrite ? 'ops:write' : 'read-only'} · until <time datetime="${until}">${until}</time></span>
<button type="button" data-post="${ADMIN_PATH}/logout" data-then="${ADMIN_PATH}/login">Log out</button>
</header>`;
}

/**
 * Our pages change things only through buttons with `data-post`: each sends a POST carrying the
 * `XSRF-TOKEN` cookie's value as `X-XSRF-TOKEN` (the double submit bull-board's axios does), then
 * goes to `data-then`, or reports the answer in `#status` and marks the button's row done.
 */
export const ACTION_SCRIPT = `
const xsrf = () => {
  const cookie = document.cookie.split('; ').find((c) => c.startsWith('${XSRF_COOKIE}='));
  return cookie ? decodeURIComponent(cookie.slice(${XSRF_COOKIE.length + 1})) : '';
};
const status = document.getElementById('status');
for (const button of document.querySelectorAll('button[data-post]')) {
  button.addEventListener('click', async () => {
    button.disabled = true;
    const res = await fetch(button.dataset.post, { method: 'POST', headers: { 'X-XSRF-TOKEN': xsrf() } });
    const body = res.status === 204 ? {} : await res.json().catch(() => ({}));
    if (res.ok && button.dataset.then) return location.assign(button.dataset.then);
    if (status) {
      status.textContent = body.message ?? 'HTTP ' + res.status;
      status.className = res.ok ? 'status' : 'status error';
    }
    const done = res.ok && button.closest('tr')?.querySelector('.replayed');
    if (done) {
      done.textContent = body.replayedAt ?? '';
      button.remove();
    } else {
      button.disabled = false;
    }
  });
}
`;
