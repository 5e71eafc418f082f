// The share dialog of a pin or board: people (viewer / editor) and public links.
import { api } from "./api.js";
import { formatDate, h, openDialog, replace, toast } from "./dom.js";

const EXPIRIES = [
  ["3600", "1 hour"],
  ["86400", "1 day"],
  ["604800", "7 days"],
  ["2592000", "30 days"],
  ["", "Never"],
];

/** Where a visitor opens a link made from a token. */
export function linkPageUrl(token) {
  return `${location.origin}/s/${encodeURIComponent(token)}`;
}

async function copy(text, input) {
  try {
    await navigator.clipboard.writeText(text);
    toast("Link copied.");
  } catch {
    input.focus();
    input.select();
    toast("Press Ctrl+C (or ⌘C) to copy the selected link.");
  }
}

function peopleSection(kind, target) {
  const base = `/api/v1/${kind === "pin" ? "pins" : "boards"}/${encodeURIComponent(target.id)}/shares`;
  const list = h("ul", { class: "share-list", "aria-label": "People with access" });
  const username = h("input", { id: "share-username", required: true, autocomplete: "off", placeholder: "username" });
  const role = h(
    "select",
    { id: "share-role", "aria-label": "Role" },
    h("option", { value: "viewer" }, "Viewer: can see"),
    h("option", { value: "editor" }, "Editor: can change details and tags"),
  );
  const error = h("p", { class: "form-error", role: "alert" });

  async function load() {
    try {
      const shares = await api(base);
      replace(
        list,
        shares.length
          ? shares.map((share) =>
              h(
                "li",
                {},
                h("span", {}, share.username),
                h("span", { class: "muted" }, share.role),
                h(
                  "button",
                  {
                    type: "button",
                    class: "button small",
                    onclick: async () => {
                      await api(`${base}/${encodeURIComponent(share.username)}`, { method: "DELETE" });
                      toast(`No longer shared with ${share.username}.`);
                      load();
                    },
                  },
                  "Remove",
                ),
              ),
            )
          : h("li", { class: "muted" }, "Not shared with anyone."),
      );
    } catch (failure) {
      replace(list, h("li", { class: "form-error" }, failure.message));
    }
  }

  const form = h(
    "form",
    {
      class: "inline-form",
      onsubmit: async (event) => {
        event.preventDefault();
        error.textContent = "";
        try {
          await api(base, { method: "POST", json: { username: username.value.trim(), role: role.value } });
          toast(`Shared with ${username.value.trim()}.`);
          username.value = "";
          load();
        } catch (failure) {
          error.textContent = failure.status === 404 ? "There is no user with that name." : failure.message;
        }
      },
    },
    h("label", { for: "share-username", class: "visually-hidden" }, "Username"),
    username,
    role,
    h("button", { type: "submit", class: "button primary" }, "Share"),
  );
  load();
  return h("section", { class: "stack" }, h("h3", {}, "People"), form, error, list);
}

function linksSection(target) {
  const list = h("ul", { class: "share-list", "aria-label": "Public links" });
  const expiry = h("select", { id: "link-expiry" }, EXPIRIES.map(([value, label]) => h("option", { value, selected: value === "604800" }, label)));
  const download = h("input", { id: "link-download", type: "checkbox", checked: true });
  const created = h("div", { class: "created-link", "aria-live": "polite" });
  const error = h("p", { class: "form-error", role: "alert" });

  async function load() {
    try {
      const links = await api(`/api/v1/links?target=${encodeURIComponent(target.id)}`);
      replace(
        list,
        links.length
          ? links.map((link) => {
              const state = link.revoked_at ? "revoked" : link.expires_at ? `expires ${formatDate(link.expires_at)}` : "never expires";
              return h(
                "li",
                { class: link.revoked_at ? "revoked" : "" },
                h("span", {}, `Made ${formatDate(link.created_at)}`),
                h("span", { class: "muted" }, `${state} · ${link.uses} ${link.uses === 1 ? "visit" : "visits"}`),
                link.revoked_at
                  ? null
                  : h(
                      "button",
                      {
                        type: "button",
                        class: "button small danger",
                        onclick: async () => {
                          await api(`/api/v1/links/${encodeURIComponent(link.id)}`, { method: "DELETE" });
                          toast("Link revoked: it no longer opens.");
                          replace(created);
                          load();
                        },
                      },
                      "Revoke",
                    ),
              );
            })
          : h("li", { class: "muted" }, "No public links."),
      );
    } catch (failure) {
      replace(list, h("li", { class: "form-error" }, failure.message));
    }
  }

  const form = h(
    "form",
    {
      class: "inline-form",
      onsubmit: async (event) => {
        event.preventDefault();
        error.textContent = "";
        try {
          const body = { target_id: target.id, allow_download: download.checked };
          if (expiry.value) body.expires_in = Number(expiry.value);
          const link = await api("/api/v1/links", { method: "POST", json: body });
          const url = linkPageUrl(link.token);
          const field = h("input", { id: "link-url", readonly: true, value: url, "aria-label": "Public link" });
          replace(
            created,
            field,
            h("button", { type: "button", class: "button", onclick: () => copy(url, field) }, "Copy"),
            h("p", { class: "muted" }, "Keep it now: the link is shown only once."),
          );
          field.select();
          load();
        } catch (failure) {
          error.textContent = failure.message;
        }
      },
    },
    h("label", { for: "link-expiry" }, "Expires after"),
    expiry,
    h("label", { class: "check" }, download, " Allow viewing the original"),
    h("button", { type: "submit", class: "button primary" }, "Create link"),
  );
  load();
  return h("section", { class: "stack" }, h("h3", {}, "Public link"), form, error, created, list);
}

/**
 * Share a pin or a board.
 * @param {"pin"|"board"} kind
 * @param {any} target the pin or board
 */
export function shareDialog(kind, target) {
  return openDialog(`Share ${kind === "pin" ? "pin" : `board “${target.name}”`}`, () =>
    h("div", { class: "stack share" }, peopleSection(kind, target), linksSection(target)),
  );
}
