// @ts-check
// A pop-up menu (WAI-ARIA menu button pattern): arrows move, Enter or
// Space picks, Escape closes and gives focus back to the button.

import { h } from './dom.js';
import { icon } from './icons.js';

/**
 * @typedef {{label: string, icon?: string, hint?: string, disabled?: boolean, danger?: boolean, testid?: string, run: () => void}} MenuItem
 */

/** @type {(() => void)|null} */
let closeOpen = null;

/**
 * Opens a menu under (or beside) an anchor element.
 * @param {HTMLElement} anchor the button that opened it (gets aria-expanded)
 * @param {MenuItem[]} items
 * @param {{label: string, align?: 'left'|'right', focusLast?: boolean}} opts
 */
export function openMenu(anchor, items, opts) {
  if (closeOpen) closeOpen();
  const buttons = items.map((it) => h('button', {
    type: 'button', role: 'menuitem', class: `menu-item${it.danger ? ' danger' : ''}`, tabindex: '-1',
    'aria-disabled': it.disabled ? 'true' : undefined, 'data-testid': it.testid,
    // The shortcut is shown, not read as part of the name.
    'aria-label': it.hint ? it.label : undefined, 'aria-keyshortcuts': it.hint ? it.hint.replace('Ctrl', 'Control').replace(/^Del$/, 'Delete') : undefined,
  }, it.icon ? icon(it.icon) : h('span', { class: 'icon' }), h('span', { class: 'menu-label' }, it.label),
  it.hint ? h('kbd', { class: 'menu-hint', 'aria-hidden': 'true' }, it.hint) : null));
  const menu = h('div', { role: 'menu', class: 'menu', 'aria-label': opts.label }, buttons);
  const enabled = () => buttons.filter((b) => b.getAttribute('aria-disabled') !== 'true');
  const close = (refocus = true) => {
    if (!menu.isConnected) return;
    menu.remove();
    anchor.setAttribute('aria-expanded', 'false');
    document.removeEventListener('mousedown', outside, true);
    window.removeEventListener('resize', onResize);
    closeOpen = null;
    if (refocus && anchor.isConnected) anchor.focus();
  };
  /** @param {MouseEvent} e */
  const outside = (e) => {
    if (!(e.target instanceof Node) || (!menu.contains(e.target) && !anchor.contains(e.target))) close(false);
  };
  const onResize = () => close(false);
  buttons.forEach((b, i) => {
    b.addEventListener('click', () => {
      if (items[i].disabled) return;
      close();
      items[i].run();
    });
  });
  menu.addEventListener('keydown', (e) => {
    const list = enabled();
    const at = list.indexOf(/** @type {HTMLButtonElement} */ (document.activeElement));
    if (e.key === 'ArrowDown') { list[(at + 1) % list.length]?.focus(); e.preventDefault(); }
    else if (e.key === 'ArrowUp') { list[(at - 1 + list.length) % list.length]?.focus(); e.preventDefault(); }
    else if (e.key === 'Home') { list[0]?.focus(); e.preventDefault(); }
    else if (e.key === 'End') { list[list.length - 1]?.focus(); e.preventDefault(); }
    else if (e.key === 'Escape') { close(); e.preventDefault(); e.stopPropagation(); }
    else if (e.key === 'Tab') { close(false); }
    else if (e.key.length === 1 && /\S/.test(e.key)) {
      const k = e.key.toLowerCase();
      const next = list.find((b, i) => i > at && (b.textContent || '').trim().toLowerCase().startsWith(k)) || list.find((b) => (b.textContent || '').trim().toLowerCase().startsWith(k));
      next?.focus();
    }
  });
  document.body.append(menu);
  const r = anchor.getBoundingClientRect();
  const mw = menu.offsetWidth;
  const mh = menu.offsetHeight;
  let left = opts.align === 'right' ? r.right - mw : r.left;
  left = Math.max(8, Math.min(left, window.innerWidth - mw - 8));
  let top = r.bottom + 4;
  if (top + mh > window.innerHeight - 8) top = Math.max(8, r.top - mh - 4);
  menu.style.left = `${left}px`;
  menu.style.top = `${top}px`;
  anchor.setAttribute('aria-expanded', 'true');
  document.addEventListener('mousedown', outside, true);
  window.addEventListener('resize', onResize);
  closeOpen = () => close(false);
  const list = enabled();
  (opts.focusLast ? list[list.length - 1] : list[0])?.focus();
}
