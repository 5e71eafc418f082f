// The boards sidebar, and the dialogs to create and rename a board.
import { api } from "./api.js";
import { h, openDialog, replace, toast } from "./dom.js";
import { myBoards, navigate, state } from "./state.js";

/** Load the boards the caller can see into the shared state. */
export async function loadBoards() {
  state.boards = state.user ? await api("/api/v1/boards") : [];
  return state.boards;
}

function boardLink(board) {
  const current = location.pathname === `/boards/${board.id}`;
  return h(
    "li",
    {},
    h(
      "a",
      { href: `/boards/${encodeURIComponent(board.id)}`, "aria-current": current ? "page" : null },
      h("span", { class: "board-name" }, board.name),
      h("span", { class: "count", "aria-label": `${board.pin_count} pins` }, String(board.pin_count)),
    ),
  );
}

/** Draw the sidebar from the state. */
export function renderSidebar() {
  const sidebar = document.getElementById("sidebar");
  if (!state.user) {
    replace(
      sidebar,
      h("h2", { class: "side-title" }, "Boards"),
      h("p", { class: "muted" }, h("a", { href: "/signin" }, "Sign in"), " to make boards."),
    );
    return;
  }
  const mine = myBoards();
  const others = state.boards.filter((board) => board.owner_id !== state.user.id);
  replace(
    sidebar,
    h("h2", { class: "side-title" }, "My boards"),
    h("button", { type: "button", class: "button small", onclick: () => boardDialog() }, "+ New board"),
    mine.length ? h("ul", { class: "board-list" }, mine.map(boardLink)) : h("p", { class: "muted" }, "No boards yet."),
    others.length ? [h("h2", { class: "side-title" }, "Shared with me"), h("ul", { class: "board-list" }, others.map(boardLink))] : null,
    state.user.role === "admin" ? h("p", {}, h("a", { href: "/admin", class: "side-link" }, "Administration")) : null,
  );
}

/**
 * Create a board, or rename / change one.
 * @param {any} [board] the board to change; a new one when absent
 */
export async function boardDialog(board) {
  const saved = await openDialog(board ? "Edit board" : "New board", (close) => {
    const name = h("input", { id: "board-name", name: "name", required: true, maxlength: 200, value: board ? board.name : "" });
    const description = h("textarea", { id: "board-description", name: "description", rows: 3 }, board ? board.description : "");
    const visibility = h(
      "select",
      { id: "board-visibility", name: "visibility" },
      ["private", "internal", "public"].map((v) => h("option", { value: v, selected: board ? board.visibility === v : v === "private" }, v)),
    );
    const error = h("p", { class: "form-error", role: "alert" });
    const form = h(
      "form",
      {
        class: "stack",
        onsubmit: async (event) => {
          event.preventDefault();
          const body = { name: name.value.trim(), description: description.value, visibility: visibility.value };
          try {
            const result = board
              ? await api(`/api/v1/boards/${encodeURIComponent(board.id)}`, { method: "PATCH", json: body })
              : await api("/api/v1/boards", { method: "POST", json: body });
            close(result);
          } catch (failure) {
            error.textContent = failure.status === 409 ? "You already have a board with that name." : failure.message;
          }
        },
      },
      h("label", { for: "board-name" }, "Name"),
      name,
      h("label", { for: "board-description" }, "Description"),
      description,
      h("label", { for: "board-visibility" }, "Visibility"),
      visibility,
      error,
      h("div", { class: "actions" }, h("button", { type: "submit", class: "button primary" }, board ? "Save" : "Create board")),
    );
    queueMicrotask(() => name.focus());
    return form;
  });
  if (!saved) return null;
  toast(board ? "Board saved." : `Board “${saved.name}” created.`);
  await loadBoards();
  renderSidebar();
  if (!board) navigate(`/boards/${encodeURIComponent(saved.id)}`);
  return saved;
}
