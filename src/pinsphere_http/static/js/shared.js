// What an anonymous visitor with a public link sees: the pin, or the board's pins. Nothing
// else of the service is shown.
import { ApiError } from "./api.js";
import { formatDate, h, openDialog, pinLabel, replace } from "./dom.js";
import { pinGrid } from "./grid.js";
import { fullMedia } from "./media.js";

async function fetchShared(path, link) {
  const headers = {};
  if (link.visit) headers["X-Link-Visit"] = link.visit;
  if (link.password) headers["X-Link-Password"] = link.password;
  // Same-origin cookies: the link's password proof (an HttpOnly cookie scoped to this link,
  // set when the password was right) is what lets <img> and <video> load its media.
  const response = await fetch(path, { headers, credentials: "same-origin" });
  const type = response.headers.get("content-type") || "";
  const body = type.includes("json") ? await response.json() : null;
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

function unavailable(view) {
  replace(
    view,
    h(
      "section",
      { class: "notice" },
      h("h1", {}, "This link does not work"),
      h("p", {}, "It does not exist, has expired, or was revoked by its owner."),
    ),
  );
}

function askPassword(view, retry, wrong) {
  const input = h("input", { id: "link-password", type: "password", required: true, autocomplete: "off" });
  replace(
    view,
    h(
      "form",
      {
        class: "notice stack",
        onsubmit: (event) => {
          event.preventDefault();
          retry(input.value);
        },
      },
      h("h1", {}, "This link is protected"),
      wrong ? h("p", { class: "form-error", role: "alert" }, "That password is not right.") : null,
      h("label", { for: "link-password" }, "Password"),
      input,
      h("button", { type: "submit", class: "button primary" }, "Open"),
    ),
  );
  input.focus();
}

function pinView(pin, link, allowDownload) {
  return h(
    "article",
    { class: "pin-page shared" },
    h(
      "div",
      { class: "pin-media" },
      allowDownload
        ? fullMedia(pin, link)
        : [
            fullMedia(pin, link, { previewOnly: true }),
            h("p", { class: "notice" }, "The owner shares the details of this pin, not its file."),
          ],
    ),
    h(
      "div",
      { class: "pin-side" },
      h("h1", { class: "pin-title" }, pinLabel(pin)),
      pin.description ? h("p", {}, pin.description) : null,
      pin.tags.length ? h("ul", { class: "chips", "aria-label": "Tags" }, pin.tags.map((tag) => h("li", { class: "chip" }, `#${tag}`))) : null,
      h("p", { class: "muted" }, `Shared by ${pin.owner}`),
    ),
  );
}

/** Show the public link `token` in `view`. */
export async function renderShared(view, token, password = "") {
  const link = { token, visit: "", password };
  const base = `/api/v1/shared/${encodeURIComponent(token)}`;
  let target;
  try {
    target = await fetchShared(base, link);
  } catch (error) {
    if (error.status === 401) askPassword(view, (value) => renderShared(view, token, value), Boolean(password));
    else unavailable(view);
    return;
  }
  link.visit = target.visit;
  const expiry = target.expires_at ? h("p", { class: "muted" }, `This link works until ${formatDate(target.expires_at)}.`) : null;
  if (target.kind === "pin") {
    document.title = `${pinLabel(target.pin)} · Pinsphere`;
    replace(view, pinView(target.pin, link, target.allow_download), expiry);
    return;
  }
  const board = target.board;
  document.title = `${board.name} · Pinsphere`;
  let first = target.pins;
  const grid = pinGrid({
    load: async (cursor) => {
      if (!cursor && first) {
        const page = first;
        first = null;
        return page;
      }
      const params = new URLSearchParams({ limit: "30" });
      if (cursor) params.set("cursor", cursor);
      const next = await fetchShared(`${base}?${params}`, link);
      return next.pins;
    },
    cardOptions: (pin) => ({
      href: `#${pin.id}`,
      link,
      onOpen: (opened) => openDialog(pinLabel(opened), () => pinView(opened, link, target.allow_download), { wide: true }),
    }),
    empty: "This board has no pins yet.",
  });
  replace(
    view,
    h("header", { class: "board-head" }, h("h1", {}, board.name), board.description ? h("p", {}, board.description) : null, h("p", { class: "muted" }, `A board by ${board.owner}`)),
    expiry,
    grid.element,
  );
}
