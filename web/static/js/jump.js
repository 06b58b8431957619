// @ts-check
// Big flows: "Find a block" (search and jump: Enter goes to the next
// match, opening collapsed branches on the way) and the buttons that fold
// the side panels away for more diagram.

import { h } from './dom.js';
import { icon } from './icons.js';
import { walk } from './model.js';
import { captionOf } from './schema.js';
import { refCaption } from './directory.js';

/** @typedef {import('./editor.js').SbEditor} SbEditor */

/**
 * The find box of an editor's toolbar.
 * @param {SbEditor} editor
 */
export function findBox(editor) {
  const input = h('input', { type: 'search', class: 'input find-input', placeholder: 'Find a block', 'aria-label': 'Find a block', autocomplete: 'off', 'data-testid': 'find-block' });
  const status = h('span', { class: 'sr-only', role: 'status' });
  let last = '';
  let index = -1;
  input.addEventListener('keydown', (e) => {
    if (e.key !== 'Enter') return;
    e.preventDefault();
    const doc = editor.doc;
    const q = input.value.trim().toLowerCase();
    if (!doc || !q) return;
    const found = walk(doc).filter(({ node, key }) => {
      const entry = editor.entryOf(node.module);
      const text = [entry ? entry.label : node.module, entry ? captionOf(entry.schema, node.data) : '', refCaption(node.module, node.data), key || '', JSON.stringify(node.data)].join(' ');
      return text.toLowerCase().includes(q);
    });
    if (!found.length) { status.textContent = `No block matches “${input.value.trim()}”.`; input.setAttribute('aria-invalid', 'true'); return; }
    input.removeAttribute('aria-invalid');
    index = q === last ? (index + (e.shiftKey ? found.length - 1 : 1)) % found.length : 0;
    last = q;
    const hit = found[index];
    // Open every collapsed branch above the match.
    const parents = new Map(walk(doc).map((l) => [l.node.uid, l.parent ? l.parent.uid : '']));
    for (let p = parents.get(hit.node.uid); p; p = parents.get(p)) editor.diagram.collapsed.delete(p);
    editor.diagram.selected = hit.node.uid;
    editor.render();
    editor.diagram.itemOf(hit.node.uid)?.querySelector(':scope > .card')?.scrollIntoView({ block: 'center', inline: 'center' });
    editor.diagram.itemOf(hit.node.uid)?.classList.add('found');
    status.textContent = `Match ${index + 1} of ${found.length}: ${editor.labelOf(hit.node.uid)}. Enter for the next, Escape to go to it.`;
  });
  input.addEventListener('keyup', (e) => {
    if (e.key === 'Escape' && editor.doc) editor.diagram.focusBlock(editor.diagram.selected);
  });
  return h('div', { class: 'find' }, icon('search', 'icon search-icon'), input, status);
}

/**
 * A button that folds a side panel away (and back).
 * @param {HTMLElement} panel
 * @param {string} name
 * @param {HTMLElement} layout the grid that gives the panel its column
 * @param {string} cls the layout's class while the panel is folded
 */
export function foldButton(panel, name, layout, cls) {
  const btn = h('button', {
    type: 'button', class: 'icon-btn fold-btn', 'aria-expanded': 'true', 'aria-controls': panel.id, title: `Hide ${name}`, 'aria-label': `Hide ${name}`, 'data-testid': `fold-${cls}`,
  }, icon('chevron_right', 'icon sm'));
  btn.addEventListener('click', () => {
    const folded = layout.classList.toggle(cls);
    btn.setAttribute('aria-expanded', folded ? 'false' : 'true');
    btn.setAttribute('aria-label', `${folded ? 'Show' : 'Hide'} ${name}`);
    btn.title = `${folded ? 'Show' : 'Hide'} ${name}`;
  });
  return btn;
}
