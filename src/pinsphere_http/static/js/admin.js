// The administration page: every account, its role, and whether it is disabled.
import { api } from "./api.js";
import { formatDate, h, replace, toast } from "./dom.js";
import { state } from "./state.js";

function row(user) {
  const self = state.user && state.user.id === user.id;
  const role = h(
    "select",
    { "aria-label": `Role of ${user.username}`, disabled: self },
    ["admin", "member", "viewer"].map((value) => h("option", { value, selected: user.role === value }, value)),
  );
  const toggle = h("button", { type: "button", class: user.disabled ? "button small" : "button small danger", disabled: self }, user.disabled ? "Enable" : "Disable");
  const status = h("td", {}, user.disabled ? "disabled" : "active");
  const tr = h(
    "tr",
    { class: user.disabled ? "disabled" : "" },
    h("th", { scope: "row" }, user.username),
    h("td", {}, user.email || "—"),
    h("td", {}, role),
    status,
    h("td", {}, formatDate(user.created_at)),
    h("td", {}, toggle),
  );
  async function change(body) {
    try {
      const updated = await api(`/api/v1/admin/users/${encodeURIComponent(user.username)}`, { method: "PATCH", json: body });
      tr.replaceWith(row(updated));
      toast(`${updated.username} saved.`);
    } catch (error) {
      toast(error.message, "error");
      role.value = user.role;
    }
  }
  role.addEventListener("change", () => change({ role: role.value }));
  toggle.addEventListener("click", () => change({ disabled: !user.disabled }));
  return tr;
}

/** Show the administration page. */
export async function renderAdmin(view) {
  if (!state.user || state.user.role !== "admin") {
    replace(view, h("h1", {}, "Administration"), h("p", {}, "Only administrators can see this page."));
    return;
  }
  const body = h("tbody");
  const more = h("button", { type: "button", class: "button", hidden: true }, "More users");
  let cursor = null;
  async function load() {
    const params = new URLSearchParams({ limit: "100" });
    if (cursor) params.set("cursor", cursor);
    const page = await api(`/api/v1/admin/users?${params}`);
    body.append(...page.items.map(row));
    cursor = page.next_cursor;
    more.hidden = !cursor;
  }
  more.addEventListener("click", load);
  replace(
    view,
    h("h1", {}, "Administration"),
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { class: "users" },
        h("caption", { class: "visually-hidden" }, "Users"),
        h("thead", {}, h("tr", {}, ["User", "E-mail", "Role", "Status", "Created", ""].map((label) => h("th", { scope: "col" }, label)))),
        body,
      ),
    ),
    more,
  );
  await load();
}
