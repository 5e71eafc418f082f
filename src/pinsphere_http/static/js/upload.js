// The upload dialog: several files by drag-and-drop or picker, one progress bar each.
import { ApiError, api, refreshSession, uploadPin } from "./api.js";
import { formatBytes, h, openDialog, toast } from "./dom.js";
import { myBoards, state } from "./state.js";

/** Why a file cannot be uploaded, said plainly (from the service's problem or a check). */
export function rejection(error, file) {
  const limit = (error.problem && error.problem.limit) || state.config.max_upload_bytes;
  if (error.status === 413) return `${file.name} is too large: the limit is ${formatBytes(limit)}.`;
  if (error.status === 415) return `${file.name} is not a supported type (images, GIFs and MP4/WebM/QuickTime videos).`;
  if (error.status === 403) return "You are not allowed to upload.";
  return error.message;
}

function precheck(file) {
  const limit = state.config.max_upload_bytes;
  if (limit && file.size > limit) return rejection(new ApiError(413, { limit }), file);
  const allowed = state.config.allowed_types || [];
  if (file.type && allowed.length && !allowed.includes(file.type)) return rejection(new ApiError(415, {}), file);
  return "";
}

async function sendWithRetry(file, fields, onProgress) {
  try {
    return await uploadPin(file, fields, onProgress).promise;
  } catch (error) {
    if (error.status !== 401) throw error;
    await refreshSession();
    return uploadPin(file, fields, onProgress).promise;
  }
}

/** Open the upload dialog; resolves with the pins made (possibly none). */
export async function uploadDialog() {
  let tags = [];
  try {
    tags = await api("/api/v1/tags?limit=200");
  } catch {
    tags = [];
  }
  return openDialog(
    "Upload",
    (close) => {
      /** @type {{file: File, row: HTMLElement, bar: HTMLProgressElement, note: HTMLElement, error: string}[]} */
      let chosen = [];
      const created = [];
      const picker = h("input", {
        id: "upload-files",
        type: "file",
        multiple: true,
        accept: (state.config.allowed_types || ["image/*", "video/*"]).join(","),
        class: "visually-hidden",
        onchange: () => addFiles(picker.files),
      });
      const list = h("ul", { class: "upload-list", "aria-label": "Files to upload" });
      const zone = h(
        "div",
        { class: "drop-zone", tabindex: "0", role: "button", "aria-describedby": "drop-help" },
        h("strong", {}, "Drop files here"),
        h("span", { id: "drop-help" }, ` or press to choose (up to ${formatBytes(state.config.max_upload_bytes)} each)`),
      );
      zone.addEventListener("click", () => picker.click());
      zone.addEventListener("keydown", (event) => {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          picker.click();
        }
      });
      zone.addEventListener("dragover", (event) => {
        event.preventDefault();
        zone.classList.add("over");
      });
      zone.addEventListener("dragleave", () => zone.classList.remove("over"));
      zone.addEventListener("drop", (event) => {
        event.preventDefault();
        zone.classList.remove("over");
        addFiles(event.dataTransfer.files);
      });

      function addFiles(files) {
        for (const file of files) {
          const bar = h("progress", { max: 100, value: 0, "aria-label": `Upload of ${file.name}` });
          const note = h("span", { class: "upload-note" });
          const error = precheck(file);
          const remove = h("button", { type: "button", class: "icon-button", "aria-label": `Remove ${file.name}` }, "×");
          const row = h(
            "li",
            { class: error ? "upload-row rejected" : "upload-row" },
            h("span", { class: "upload-name" }, file.name),
            h("span", { class: "muted" }, formatBytes(file.size)),
            bar,
            note,
            remove,
          );
          const entry = { file, row, bar, note, error };
          remove.addEventListener("click", () => {
            chosen = chosen.filter((item) => item !== entry);
            row.remove();
          });
          if (error) note.textContent = error;
          chosen.push(entry);
          list.append(row);
        }
        picker.value = "";
      }

      const title = h("input", { id: "upload-title", name: "title", maxlength: 500 });
      const description = h("textarea", { id: "upload-description", name: "description", rows: 2 });
      const tagInput = h("input", {
        id: "upload-tags",
        name: "tags",
        list: "tag-suggestions",
        placeholder: "cats, travel/2024",
        autocomplete: "off",
      });
      const suggestions = h("datalist", { id: "tag-suggestions" }, tags.map((tag) => h("option", { value: tag.tag })));
      const board = h(
        "select",
        { id: "upload-board", name: "board" },
        h("option", { value: "" }, "No board"),
        myBoards().map((item) => h("option", { value: item.name }, item.name)),
      );
      const visibility = h(
        "select",
        { id: "upload-visibility", name: "visibility" },
        h("option", { value: "private" }, "Private: only me and people I share with"),
        h("option", { value: "internal" }, "Internal: everyone signed in"),
        h("option", { value: "public" }, "Public: anyone"),
      );
      const summary = h("p", { class: "upload-summary", role: "status" });
      const submit = h("button", { type: "submit", class: "button primary" }, "Upload");

      async function uploadAll(event) {
        event.preventDefault();
        const pending = chosen.filter((entry) => !entry.error && !entry.done);
        if (!pending.length) {
          summary.textContent = "Choose at least one supported file.";
          return;
        }
        submit.disabled = true;
        const fields = {
          title: title.value.trim(),
          description: description.value.trim(),
          tags: tagInput.value.split(",").map((tag) => tag.trim()).filter(Boolean),
          board: board.value,
          visibility: visibility.value,
        };
        let failed = 0;
        for (const entry of pending) {
          entry.row.classList.add("sending");
          entry.note.textContent = "Uploading…";
          try {
            const pin = await sendWithRetry(entry.file, fields, (sent, total) => {
              entry.bar.value = Math.round((sent / total) * 100);
            });
            entry.bar.value = 100;
            entry.done = true;
            entry.note.textContent = "Done";
            entry.row.classList.add("done");
            created.push(pin);
          } catch (error) {
            failed += 1;
            entry.error = rejection(error, entry.file);
            entry.note.textContent = entry.error;
            entry.row.classList.add("rejected");
          }
        }
        submit.disabled = false;
        summary.textContent = `${created.length} uploaded${failed ? `, ${failed} failed` : ""}.`;
        if (!failed) {
          toast(`${created.length} ${created.length === 1 ? "pin" : "pins"} uploaded.`);
          close(created);
        }
      }

      return h(
        "form",
        { class: "stack upload-form", onsubmit: uploadAll },
        picker,
        zone,
        list,
        h(
          "div",
          { class: "two-columns" },
          h("div", { class: "stack" }, h("label", { for: "upload-title" }, "Title"), title),
          h("div", { class: "stack" }, h("label", { for: "upload-tags" }, "Tags (comma-separated)"), tagInput, suggestions),
        ),
        h("label", { for: "upload-description" }, "Description"),
        description,
        h(
          "div",
          { class: "two-columns" },
          h("div", { class: "stack" }, h("label", { for: "upload-board" }, "Board"), board),
          h("div", { class: "stack" }, h("label", { for: "upload-visibility" }, "Visibility"), visibility),
        ),
        summary,
        h("div", { class: "actions" }, h("button", { type: "button", class: "button", onclick: () => close(created) }, "Close"), submit),
      );
    },
    { wide: true },
  );
}
