// The home page: the search filters (which write the query) and the grid of results.
import { api } from "./api.js";
import { h } from "./dom.js";
import { pinGrid } from "./grid.js";
import { addTerm, getKey, parseTerm, quote, removeTerm, setKey, terms } from "./query.js";
import { navigate, state } from "./state.js";

/** The URL of a search (bookmarkable). */
export function searchUrl(query) {
  const q = query.trim();
  return q ? `/?q=${encodeURIComponent(q)}` : "/";
}

function go(query) {
  navigate(searchUrl(query));
}

function chip(term, query) {
  const parsed = parseTerm(term);
  const label = parsed.key ? `${parsed.negated ? "not " : ""}${parsed.key}: ${parsed.value}` : term;
  return h(
    "li",
    { class: "chip" },
    h("span", {}, label),
    h(
      "button",
      { type: "button", class: "chip-remove", "aria-label": `Remove ${label}`, onclick: () => go(removeTerm(query, term)) },
      "×",
    ),
  );
}

function filters(query, tags) {
  const type = h(
    "select",
    { id: "filter-type", onchange: () => go(setKey(query, "type", type.value)) },
    [
      ["", "Any type"],
      ["image", "Images"],
      ["gif", "GIFs"],
      ["video", "Videos"],
    ].map(([value, label]) => h("option", { value, selected: getKey(query, "type") === value }, label)),
  );
  const boardNames = [...new Set(state.boards.map((board) => board.name))];
  const board = h(
    "select",
    { id: "filter-board", onchange: () => go(setKey(query, "board", board.value)) },
    h("option", { value: "" }, "Any board"),
    boardNames.map((name) => h("option", { value: name, selected: getKey(query, "board") === name }, name)),
  );
  const owner = h("input", {
    id: "filter-owner",
    type: "text",
    placeholder: "anyone",
    size: 10,
    value: getKey(query, "by"),
    onchange: () => go(setKey(query, "by", owner.value.trim())),
  });
  const current = terms(query);
  return h(
    "section",
    { class: "filters", "aria-label": "Filters" },
    h(
      "div",
      { class: "filter-row" },
      h("label", { for: "filter-type" }, "Type"),
      type,
      h("label", { for: "filter-board" }, "Board"),
      board,
      h("label", { for: "filter-owner" }, "Owner"),
      owner,
    ),
    current.length ? h("ul", { class: "chips", "aria-label": "Search terms" }, current.map((term) => chip(term, query))) : null,
    tags.length
      ? h(
          "div",
          { class: "tag-cloud" },
          h("span", { class: "muted" }, "Tags: "),
          tags.map((tag) =>
            h(
              "button",
              { type: "button", class: "tag", onclick: () => go(addTerm(query, `tag:${quote(tag.tag)}`)) },
              `#${tag.tag}`,
            ),
          ),
        )
      : null,
  );
}

/**
 * The home page for a query.
 * @param {HTMLElement} view
 * @param {string} query
 * @param {HTMLElement|null} [heading] shown above the filters (a board's header)
 */
export async function renderHome(view, query, heading = null) {
  let tags = [];
  try {
    tags = await api("/api/v1/tags?limit=12");
  } catch {
    tags = [];
  }
  const grid = pinGrid({
    load: (cursor) => {
      const params = new URLSearchParams({ limit: "30" });
      if (query) params.set("q", query);
      if (cursor) params.set("cursor", cursor);
      return api(`/api/v1/pins?${params}`);
    },
    cardOptions: (pin) => ({ href: `/pins/${encodeURIComponent(pin.id)}` }),
    empty: query ? "No pins match this search." : state.user ? "No pins yet: upload some!" : "No public pins yet. Sign in to see more.",
  });
  view.replaceChildren(
    heading || h("h1", { class: "visually-hidden" }, query ? `Search: ${query}` : "Pins"),
    filters(query, tags),
    grid.element,
  );
  return grid;
}
