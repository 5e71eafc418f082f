// The app's entry point: the header, the sidebar and the router.
import { api, currentUser, signOut } from "./api.js";
import { h, replace, toast } from "./dom.js";
import { setThumbnailsServed } from "./media.js";
import { loadBoards, renderSidebar, boardDialog } from "./boards.js";
import { renderHome, searchUrl } from "./search.js";
import { navigate, setRouter, state } from "./state.js";

const view = document.getElementById("view");
const searchInput = document.getElementById("q");
const account = document.getElementById("account");
const uploadButton = document.getElementById("upload-button");
const menuToggle = document.getElementById("menu-toggle");
let currentGrid = null;
let firstRoute = true;

function renderAccount() {
  uploadButton.hidden = !state.user || state.user.role === "viewer";
  if (!state.user) {
    replace(account, h("a", { class: "button primary", href: "/signin" }, "Sign in"));
    return;
  }
  replace(
    account,
    h("span", { class: "who", title: `Signed in as ${state.user.username}` }, state.user.username),
    h(
      "button",
      {
        type: "button",
        class: "button",
        onclick: async () => {
          try {
            await signOut();
          } finally {
            state.user = null;
            state.boards = [];
            renderChrome();
            toast("Signed out.");
            navigate("/");
          }
        },
      },
      "Sign out",
    ),
  );
}

function renderChrome() {
  renderAccount();
  renderSidebar();
}

async function boardPage(boardId) {
  let board;
  try {
    board = await api(`/api/v1/boards/${encodeURIComponent(boardId)}`);
  } catch (error) {
    replace(view, h("h1", {}, "Board not found"), h("p", {}, "It does not exist, or you cannot see it."));
    return;
  }
  const own = state.user && state.user.id === board.owner_id;
  const { shareDialog } = own ? await import("./share.js") : { shareDialog: null };
  const heading = h(
    "header",
    { class: "board-head" },
    h("h1", {}, board.name),
    board.description ? h("p", {}, board.description) : null,
    h("p", { class: "muted" }, `${board.visibility} board by ${board.owner} · ${board.pin_count} pins`),
    own
      ? h(
          "div",
          { class: "actions left" },
          h("button", { type: "button", class: "button", onclick: () => boardDialog(board).then((saved) => saved && route()) }, "Rename"),
          h("button", { type: "button", class: "button primary", onclick: () => shareDialog("board", board) }, "Share"),
        )
      : null,
  );
  const { quote } = await import("./query.js");
  currentGrid = await renderHome(view, `board:${quote(board.name)}`, heading);
}

async function route() {
  const path = location.pathname;
  const params = new URLSearchParams(location.search);
  view.dispatchEvent(new Event("detached"));
  document.body.classList.toggle("public-view", path.startsWith("/s/"));
  document.body.classList.remove("menu-open");
  menuToggle.setAttribute("aria-expanded", "false");
  document.title = "Pinsphere";
  searchInput.value = path === "/" ? params.get("q") || "" : searchInput.value;
  if (currentGrid?.element) currentGrid.element.dispatchEvent(new Event("detached"));
  currentGrid = null;
  let match;
  if (path === "/") {
    currentGrid = await renderHome(view, params.get("q") || "");
  } else if ((match = /^\/pins\/([^/]+)$/.exec(path))) {
    const { renderPin } = await import("./pin.js");
    await renderPin(view, decodeURIComponent(match[1]));
  } else if ((match = /^\/boards\/([^/]+)$/.exec(path))) {
    await boardPage(decodeURIComponent(match[1]));
  } else if ((match = /^\/s\/([^/]+)$/.exec(path))) {
    const { renderShared } = await import("./shared.js");
    await renderShared(view, decodeURIComponent(match[1]));
  } else if (path === "/admin") {
    const { renderAdmin } = await import("./admin.js");
    await renderAdmin(view);
  } else if (path === "/signin") {
    const { renderSignIn } = await import("./signin.js");
    renderSignIn(view, async (user) => {
      state.user = user;
      await loadBoards();
      renderChrome();
      toast(`Welcome, ${user.username}.`);
      navigate("/", { replace: true });
    });
  } else {
    replace(view, h("h1", {}, "Not found"), h("p", {}, h("a", { href: "/" }, "Back to all pins")));
  }
  // After a navigation, focus moves to the new content (as a page load would reset it);
  // on the first page the reader starts from the top (the skip link).
  if (!firstRoute) view.focus({ preventScroll: true });
  firstRoute = false;
}

function interceptLinks(event) {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const anchor = event.target.closest("a[href]");
  if (!anchor || anchor.target || anchor.hasAttribute("download")) return;
  const url = new URL(anchor.href, location.href);
  if (url.origin !== location.origin || url.pathname.startsWith("/api/") || url.pathname.startsWith("/static/")) return;
  if (url.pathname === location.pathname && url.search === location.search && url.hash) return;
  event.preventDefault();
  navigate(url.pathname + url.search);
  window.scrollTo(0, 0);
}

async function boot() {
  setRouter(route);
  document.addEventListener("click", interceptLinks);
  window.addEventListener("popstate", route);
  window.addEventListener("session-lost", () => {
    state.user = null;
    state.boards = [];
    renderChrome();
    toast("Your session has ended. Please sign in again.", "error");
  });
  document.getElementById("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    navigate(searchUrl(searchInput.value));
  });
  uploadButton.addEventListener("click", async () => {
    const { uploadDialog } = await import("./upload.js");
    const created = await uploadDialog();
    if (created && created.length) {
      await loadBoards();
      renderSidebar();
      if (location.pathname === "/" || location.pathname.startsWith("/boards/")) route();
    }
  });
  menuToggle.addEventListener("click", () => {
    const open = document.body.classList.toggle("menu-open");
    menuToggle.setAttribute("aria-expanded", String(open));
  });
  const publicPage = location.pathname.startsWith("/s/");
  if (!publicPage) {
    const [config, user] = await Promise.all([api("/api/v1/config"), currentUser()]);
    state.config = config;
    setThumbnailsServed(config.thumbnails);
    state.user = user;
    if (user) await loadBoards();
    renderChrome();
  }
  await route();
  document.body.classList.add("ready");
}

boot().catch((error) => {
  replace(view, h("h1", {}, "Pinsphere could not start"), h("p", {}, error.message));
});
