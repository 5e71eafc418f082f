// Small DOM helpers. Markup is never built from strings: elements are made one by one, so
// no text from the API can turn into HTML (the page also enforces Trusted Types).

/**
 * Make an element.
 * @param {string} tag
 * @param {Record<string, any>} [props] attributes; `on*` functions become listeners,
 *   `class` sets the class, booleans toggle attributes, null/undefined are skipped.
 * @param {...(Node|string|number|null|undefined|false|Array<any>)} children
 * @returns {HTMLElement}
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (key === "dataset") {
      Object.assign(el.dataset, value);
    } else if (key === "value" || key === "checked" || key === "selected") {
      el[key] = value;
    } else {
      el.setAttribute(key, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

/** Replace an element's children. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

/** A short message at the bottom of the screen, read out by screen readers. */
export function toast(message, kind = "info") {
  const box = document.getElementById("toasts");
  const item = h("div", { class: `toast toast-${kind}`, role: kind === "error" ? "alert" : "status" }, message);
  box.append(item);
  setTimeout(() => item.remove(), 5000);
}

/**
 * Open a modal dialog built by `build(close)`; resolves with the value passed to close.
 * The dialog gets focus, Escape closes it, and focus returns where it was.
 */
export function openDialog(title, build, { wide = false } = {}) {
  const previous = document.activeElement;
  return new Promise((resolve) => {
    const headingId = `dlg-${Math.random().toString(36).slice(2)}`;
    const dialog = h("dialog", { class: wide ? "dialog wide" : "dialog", "aria-labelledby": headingId });
    let result;
    const close = (value) => {
      result = value;
      dialog.close();
    };
    dialog.addEventListener("close", () => {
      dialog.remove();
      if (previous instanceof HTMLElement) previous.focus();
      resolve(result);
    });
    const header = h(
      "header",
      { class: "dialog-head" },
      h("h2", { id: headingId }, title),
      h("button", { type: "button", class: "icon-button", "aria-label": "Close", onclick: () => close(undefined) }, "×"),
    );
    dialog.append(header, build(close));
    document.body.append(dialog);
    dialog.showModal();
  });
}

/** A human size: 1.2 MB. */
export function formatBytes(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KB", "MB", "GB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** A date as the reader's locale writes it. */
export function formatDate(iso) {
  return new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/** The visible label of a pin (its title, else its kind). */
export function pinLabel(pin) {
  if (pin.title) return pin.title;
  const kind = pin.media.mime_type === "image/gif" ? "GIF" : pin.media.mime_type.startsWith("video/") ? "Video" : "Image";
  return `${kind} by ${pin.owner}`;
}

/** Whether a pin is a video. */
export function isVideo(pin) {
  return pin.media.mime_type.startsWith("video/");
}
