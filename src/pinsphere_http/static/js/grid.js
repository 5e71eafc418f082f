// A masonry grid of pins, filled page by page as the reader scrolls (cursor paging).
import { h, pinLabel, replace } from "./dom.js";
import { preview } from "./media.js";

const ROW = 4; // px: must match grid-auto-rows in app.css (the grid has no row gap)
const GAP = 16; // px: the space under each card

// Each card spans as many small rows as its height needs: a masonry in CSS grid, with the
// cards in reading order (so the tab order follows the page).
const spans = new ResizeObserver((entries) => {
  for (const entry of entries) {
    const card = entry.target.parentElement;
    if (!card) continue;
    const height = entry.target.getBoundingClientRect().height;
    card.style.gridRowEnd = `span ${Math.max(1, Math.ceil((height + GAP) / ROW))}`;
  }
});

/**
 * A card for a pin.
 * @param {any} pin
 * @param {{href: string, link?: any, onOpen?: (pin: any) => void}} options
 */
export function card(pin, { href, link, onOpen }) {
  const inner = h(
    "a",
    {
      class: "card-inner",
      href,
      onclick: (event) => {
        if (!onOpen || event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
        event.preventDefault();
        onOpen(pin);
      },
    },
    preview(pin, link),
    h(
      "div",
      { class: "card-text" },
      h("span", { class: "card-title" }, pinLabel(pin)),
      link ? null : h("span", { class: "card-owner" }, pin.owner),
    ),
  );
  const item = h("article", { class: "card", dataset: { pin: pin.id } }, inner);
  spans.observe(inner);
  return item;
}

/**
 * A grid that loads pages from `load(cursor)` until there are no more.
 * @param {{load: (cursor: string|null) => Promise<{items: any[], next_cursor: string|null}>,
 *          cardOptions: (pin: any) => any, empty?: string}} options
 * @returns {{element: HTMLElement, done: Promise<void>}}
 */
export function pinGrid({ load, cardOptions, empty = "No pins here yet." }) {
  const grid = h("div", { class: "grid", role: "feed", "aria-busy": "true", "aria-label": "Pins" });
  const status = h("p", { class: "grid-status", role: "status" });
  const more = h("button", { type: "button", class: "button more", hidden: true }, "Load more");
  const sentinel = h("div", { class: "sentinel", "aria-hidden": "true" });
  const element = h("section", { class: "grid-wrap" }, grid, status, more, sentinel);
  let cursor = null;
  let loading = false;
  let finished = false;
  let count = 0;

  async function next() {
    if (loading || finished) return;
    loading = true;
    grid.setAttribute("aria-busy", "true");
    status.textContent = "Loading…";
    try {
      const page = await load(cursor);
      for (const pin of page.items) grid.append(card(pin, cardOptions(pin)));
      count += page.items.length;
      cursor = page.next_cursor;
      finished = !cursor;
      status.textContent = count === 0 ? empty : "";
      more.hidden = finished;
    } catch (error) {
      status.textContent = error.message;
      finished = true;
      more.hidden = true;
      status.classList.add("error");
    } finally {
      loading = false;
      grid.setAttribute("aria-busy", "false");
    }
  }

  more.addEventListener("click", () => next());
  const observer = new IntersectionObserver(
    (entries) => {
      if (entries.some((entry) => entry.isIntersecting)) {
        next().then(() => {
          // Keep filling while the sentinel is still on screen (tall screens, small pages).
          if (!finished && sentinel.getBoundingClientRect().top < window.innerHeight + 600) next();
        });
      }
    },
    { rootMargin: "800px 0px" },
  );
  const done = next().then(() => observer.observe(sentinel));
  element.addEventListener("detached", () => observer.disconnect());
  return { element, done, clear: () => replace(grid) };
}
