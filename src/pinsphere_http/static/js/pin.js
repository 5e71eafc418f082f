// The page of one pin: the media at full size, its details, tags edited in place, boards,
// sharing and deletion.
import { api } from "./api.js";
import { formatBytes, formatDate, h, isVideo, openDialog, pinLabel, replace, toast } from "./dom.js";
import { fullMedia, mediaUrls } from "./media.js";
import { quote } from "./query.js";
import { searchUrl } from "./search.js";
import { shareDialog } from "./share.js";
import { myBoards, navigate, state } from "./state.js";
import { loadBoards, renderSidebar } from "./boards.js";

function kindOf(pin) {
  if (pin.media.mime_type === "image/gif") return "GIF";
  return isVideo(pin) ? "Video" : "Image";
}

function details(pin) {
  const media = pin.media;
  const rows = [
    ["Owner", h("a", { href: searchUrl(`by:${quote(pin.owner)}`) }, pin.owner)],
    ["Type", `${kindOf(pin)} (${media.mime_type})`],
    ["Size", formatBytes(media.size)],
    media.width && media.height ? ["Dimensions", `${media.width} × ${media.height}`] : null,
    media.duration ? ["Duration", `${media.duration.toFixed(1)} s`] : null,
    ["Uploaded", formatDate(pin.created_at)],
    ["Visibility", pin.visibility],
  ].filter(Boolean);
  return h("dl", { class: "details" }, rows.map(([term, value]) => [h("dt", {}, term), h("dd", {}, value)]));
}

async function patch(pin, body) {
  return api(`/api/v1/pins/${encodeURIComponent(pin.id)}`, { method: "PATCH", json: body });
}

function tagEditor(pin, canEdit, redraw) {
  const list = h(
    "ul",
    { class: "chips", "aria-label": "Tags" },
    pin.tags.map((tag) =>
      h(
        "li",
        { class: "chip" },
        h("a", { href: searchUrl(`tag:${quote(tag)}`) }, `#${tag}`),
        canEdit
          ? h(
              "button",
              {
                type: "button",
                class: "chip-remove",
                "aria-label": `Remove tag ${tag}`,
                onclick: async () => {
                  try {
                    redraw(await patch(pin, { remove_tags: [tag] }));
                  } catch (error) {
                    toast(error.message, "error");
                  }
                },
              },
              "×",
            )
          : null,
      ),
    ),
  );
  if (!canEdit) return h("div", {}, pin.tags.length ? list : h("p", { class: "muted" }, "No tags."));
  const input = h("input", { id: "add-tag", list: "pin-tag-suggestions", autocomplete: "off", placeholder: "add tags, comma-separated" });
  const suggestions = h("datalist", { id: "pin-tag-suggestions" });
  api("/api/v1/tags?limit=200")
    .then((tags) => replace(suggestions, tags.map((tag) => h("option", { value: tag.tag }))))
    .catch(() => {});
  const form = h(
    "form",
    {
      class: "inline-form",
      onsubmit: async (event) => {
        event.preventDefault();
        const added = input.value.split(",").map((tag) => tag.trim()).filter(Boolean);
        if (!added.length) return;
        try {
          redraw(await patch(pin, { add_tags: added }));
          toast("Tags saved.");
          document.getElementById("add-tag")?.focus();
        } catch (error) {
          toast(error.status === 403 ? "You cannot change this pin." : error.message, "error");
        }
      },
    },
    h("label", { for: "add-tag", class: "visually-hidden" }, "Add tags"),
    input,
    suggestions,
    h("button", { type: "submit", class: "button" }, "Add"),
  );
  return h("div", { class: "stack" }, list, form);
}

function boardsPart(pin, redraw) {
  const mine = myBoards();
  const onBoards = new Set(pin.boards.map((name) => name.toLowerCase()));
  const items = pin.boards.map((name) => {
    const own = mine.find((board) => board.name.toLowerCase() === name.toLowerCase());
    return h(
      "li",
      { class: "chip" },
      h("a", { href: searchUrl(`board:${quote(name)}`) }, name),
      own
        ? h(
            "button",
            {
              type: "button",
              class: "chip-remove",
              "aria-label": `Take off board ${name}`,
              onclick: async () => {
                await api(`/api/v1/boards/${encodeURIComponent(own.id)}/pins/${encodeURIComponent(pin.id)}`, { method: "DELETE" });
                await afterBoardChange(pin, redraw);
              },
            },
            "×",
          )
        : null,
    );
  });
  const available = mine.filter((board) => !onBoards.has(board.name.toLowerCase()));
  const select = h(
    "select",
    { id: "add-board", "aria-label": "Add to board" },
    h("option", { value: "" }, "Add to board…"),
    available.map((board) => h("option", { value: board.id }, board.name)),
  );
  select.addEventListener("change", async () => {
    if (!select.value) return;
    try {
      await api(`/api/v1/boards/${encodeURIComponent(select.value)}/pins/${encodeURIComponent(pin.id)}`, { method: "PUT" });
      await afterBoardChange(pin, redraw);
      toast("Added to the board.");
    } catch (error) {
      toast(error.message, "error");
    }
  });
  return h(
    "div",
    { class: "stack" },
    items.length ? h("ul", { class: "chips", "aria-label": "Boards" }, items) : h("p", { class: "muted" }, "On no board."),
    state.user && available.length ? select : null,
  );
}

async function afterBoardChange(pin, redraw) {
  redraw(await api(`/api/v1/pins/${encodeURIComponent(pin.id)}`));
  await loadBoards();
  renderSidebar();
}

async function confirmDelete(pin) {
  const sure = await openDialog("Delete this pin?", (close) =>
    h(
      "div",
      { class: "stack" },
      h("p", {}, `“${pinLabel(pin)}” and its file will be deleted for everyone. This cannot be undone.`),
      h(
        "div",
        { class: "actions" },
        h("button", { type: "button", class: "button", onclick: () => close(false) }, "Cancel"),
        h("button", { type: "button", class: "button danger", onclick: () => close(true) }, "Delete"),
      ),
    ),
  );
  if (!sure) return;
  await api(`/api/v1/pins/${encodeURIComponent(pin.id)}`, { method: "DELETE" });
  toast("Pin deleted.");
  navigate("/");
}

function editDialog(pin, redraw) {
  return openDialog("Edit pin", (close) => {
    const title = h("input", { id: "edit-title", value: pin.title, maxlength: 500 });
    const description = h("textarea", { id: "edit-description", rows: 4 }, pin.description);
    const visibility = h(
      "select",
      { id: "edit-visibility" },
      ["private", "internal", "public"].map((v) => h("option", { value: v, selected: pin.visibility === v }, v)),
    );
    const error = h("p", { class: "form-error", role: "alert" });
    queueMicrotask(() => title.focus());
    return h(
      "form",
      {
        class: "stack",
        onsubmit: async (event) => {
          event.preventDefault();
          try {
            const body = { title: title.value, description: description.value };
            if (pin.owner_id === state.user?.id) body.visibility = visibility.value;
            redraw(await patch(pin, body));
            close(true);
          } catch (failure) {
            error.textContent = failure.message;
          }
        },
      },
      h("label", { for: "edit-title" }, "Title"),
      title,
      h("label", { for: "edit-description" }, "Description"),
      description,
      pin.owner_id === state.user?.id ? [h("label", { for: "edit-visibility" }, "Visibility"), visibility] : null,
      error,
      h("div", { class: "actions" }, h("button", { type: "submit", class: "button primary" }, "Save")),
    );
  });
}

/** Show the pin `pinId` in `view`. */
export async function renderPin(view, pinId) {
  let pin;
  try {
    pin = await api(`/api/v1/pins/${encodeURIComponent(pinId)}`);
  } catch (error) {
    replace(
      view,
      h("h1", {}, error.status === 404 ? "Pin not found" : "Cannot show this pin"),
      h("p", {}, error.status === 404 ? "It does not exist, or you cannot see it." : error.message),
      h("p", {}, h("a", { href: "/" }, "Back to all pins")),
    );
    return;
  }
  const media = h("div", { class: "pin-media" }, fullMedia(pin));
  const side = h("div", { class: "pin-side" });

  function redraw(next) {
    pin = next;
    const owner = state.user && (state.user.id === pin.owner_id || state.user.role === "admin");
    const canEdit = Boolean(state.user && state.user.role !== "viewer");
    replace(
      side,
      h("h1", { class: "pin-title" }, pinLabel(pin)),
      pin.description ? h("p", { class: "pin-description" }, pin.description) : null,
      h(
        "div",
        { class: "actions left" },
        owner ? h("button", { type: "button", class: "button primary", onclick: () => shareDialog("pin", pin) }, "Share") : null,
        canEdit ? h("button", { type: "button", class: "button", onclick: () => editDialog(pin, redraw) }, "Edit") : null,
        h("a", { class: "button", href: mediaUrls(pin).original, download: pin.title || pin.id }, "Download"),
        owner ? h("button", { type: "button", class: "button danger", onclick: () => confirmDelete(pin) }, "Delete") : null,
      ),
      h("h2", {}, "Tags"),
      tagEditor(pin, canEdit, redraw),
      h("h2", {}, "Boards"),
      boardsPart(pin, redraw),
      h("h2", {}, "Details"),
      details(pin),
    );
    document.title = `${pinLabel(pin)} · Pinsphere`;
  }
  redraw(pin);
  replace(
    view,
    h("p", { class: "back" }, h("a", { href: "/" }, "← All pins")),
    h("article", { class: "pin-page" }, media, side),
  );
}

