// @ts-check
// <sb-minimap>: the whole flow in small in a corner of the diagram, with
// the part on screen framed. Click or drag in it to move the view there.
// It shows only when the flow is bigger than the view. Drawn on a canvas
// after the diagram's layout, a frame later, so an edit's render never
// waits for it; scrolling only moves the frame.

/** The minimap's largest width, in CSS pixels; its height follows the view's. */
const MAX_W = 200;

export class SbMinimap extends HTMLElement {
  constructor() {
    super();
    /** @type {HTMLElement|null} the scrolling element that holds the diagram */
    this.view = null;
    /** @type {HTMLElement|null} the diagram's tree */
    this.tree = null;
    /** @type {Array<{x: number, y: number, w: number, h: number, cls: string}>} cards in content pixels */
    this.boxes = [];
    this.scale = 1;
    this.contentW = 0;
    this.contentH = 0;
    this.frame = 0;
    this.dragging = false;
    this.canvas = document.createElement('canvas');
    this.canvas.setAttribute('role', 'img');
    this.canvas.setAttribute('aria-label', 'Minimap of the call flow: click or drag to move the view');
    this.canvas.dataset.testid = 'minimap-canvas';
    this.canvas.addEventListener('pointerdown', (e) => {
      this.dragging = true;
      this.canvas.setPointerCapture(e.pointerId);
      this.panTo(e);
      e.preventDefault();
    });
    this.canvas.addEventListener('pointermove', (e) => { if (this.dragging) this.panTo(e); });
    const stop = () => { this.dragging = false; };
    this.canvas.addEventListener('pointerup', stop);
    this.canvas.addEventListener('pointercancel', stop);
    this.onScroll = () => this.drawFrame();
  }

  connectedCallback() {
    if (this.canvas.isConnected) return;
    // (Not in the constructor: a new element may not get attributes there.)
    this.hidden = true;
    this.append(this.canvas);
  }

  /**
   * @param {HTMLElement} view
   * @param {HTMLElement} tree
   */
  attach(view, tree) {
    this.view = view;
    this.tree = tree;
    view.addEventListener('scroll', this.onScroll, { passive: true });
    new ResizeObserver(() => this.update()).observe(view);
  }

  /** Measures the cards again, on the next frame (after an edit). */
  update() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.measure();
      this.draw();
    });
  }

  measure() {
    const view = this.view;
    const tree = this.tree;
    if (!view || !tree) return;
    this.contentW = view.scrollWidth;
    this.contentH = view.scrollHeight;
    const cards = tree.querySelectorAll('.card');
    // A big flow: it does not fit, and not just by a column of blocks.
    const overflows = this.contentW > view.clientWidth + 2 || this.contentH > view.clientHeight + 2;
    const big = overflows && (cards.length >= 30 || this.contentW * this.contentH > 2 * view.clientWidth * view.clientHeight);
    this.hidden = !big;
    if (this.hidden) return;
    const vr = view.getBoundingClientRect();
    const ox = vr.left - view.scrollLeft + view.clientLeft;
    const oy = vr.top - view.scrollTop + view.clientTop;
    this.boxes = [];
    for (const c of cards) {
      const r = c.getBoundingClientRect();
      const cls = c.classList.contains('current') ? 'current' : c.classList.contains('visited') ? 'visited'
        : c.parentElement?.getAttribute('aria-selected') === 'true' ? 'selected'
          : c.parentElement?.classList.contains('found') ? 'found' : c.classList.contains('has-error') ? 'error' : '';
      this.boxes.push({ x: r.left - ox, y: r.top - oy, w: r.width, h: r.height, cls });
    }
    const maxH = Math.min(240, Math.max(120, view.clientHeight * 0.45));
    this.scale = Math.min(MAX_W / this.contentW, maxH / this.contentH);
    this.dataset.size = `${(this.contentW * this.scale).toFixed(1)},${(this.contentH * this.scale).toFixed(1)}`;
    const w = Math.max(40, Math.round(this.contentW * this.scale));
    const hgt = Math.max(30, Math.round(this.contentH * this.scale));
    const dpr = window.devicePixelRatio || 1;
    if (this.canvas.width !== Math.round(w * dpr) || this.canvas.height !== Math.round(hgt * dpr)) {
      this.canvas.width = Math.round(w * dpr);
      this.canvas.height = Math.round(hgt * dpr);
      this.canvas.style.width = `${w}px`;
      this.canvas.style.height = `${hgt}px`;
    }
  }

  draw() {
    if (this.hidden) return;
    const ctx = this.canvas.getContext('2d');
    if (!ctx) return;
    const dpr = window.devicePixelRatio || 1;
    const s = this.scale;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    /** @type {Record<string, string>} */
    const fill = { '': '#b9c6dc', selected: '#3867d6', visited: '#2e8b57', current: '#1d7a4c', found: '#f0b429', error: '#d64545' };
    for (const b of this.boxes) {
      ctx.fillStyle = fill[b.cls] || fill[''];
      ctx.fillRect(b.x * s, b.y * s, Math.max(1.5, b.w * s), Math.max(1.5, b.h * s));
    }
    this.drawFrame(ctx);
  }

  /**
   * The part on screen, framed; kept in data-view for tests.
   * @param {CanvasRenderingContext2D|null} [given]
   */
  drawFrame(given) {
    const view = this.view;
    if (!view || this.hidden) return;
    if (!given) {
      // A scroll: redraw everything (cheap: rectangles from the last measure).
      this.draw();
      return;
    }
    const s = this.scale;
    const x = view.scrollLeft * s;
    const y = view.scrollTop * s;
    const w = view.clientWidth * s;
    const hgt = view.clientHeight * s;
    given.strokeStyle = '#1d2533';
    given.lineWidth = 1.5;
    given.fillStyle = 'rgba(56, 103, 214, 0.10)';
    given.fillRect(x, y, w, hgt);
    given.strokeRect(x + 0.75, y + 0.75, Math.max(2, w - 1.5), Math.max(2, hgt - 1.5));
    this.dataset.view = [x, y, w, hgt].map((n) => n.toFixed(1)).join(',');
    this.dataset.scale = String(s);
  }

  /**
   * Centres the view on the minimap point under the pointer.
   * @param {PointerEvent} e
   */
  panTo(e) {
    const view = this.view;
    if (!view) return;
    const r = this.canvas.getBoundingClientRect();
    const cx = (e.clientX - r.left) / this.scale;
    const cy = (e.clientY - r.top) / this.scale;
    view.scrollTo({ left: cx - view.clientWidth / 2, top: cy - view.clientHeight / 2, behavior: 'instant' });
  }
}

customElements.define('sb-minimap', SbMinimap);
