// Where a pin's media lives, and the elements that show it.
import { h, isVideo, pinLabel } from "./dom.js";
import { placeholderCanvas } from "./blurhash.js";

let thumbnailsServed = false;

/** Whether the service serves thumbnails (from /api/v1/config). */
export function setThumbnailsServed(value) {
  thumbnailsServed = Boolean(value);
}

/**
 * The URLs of a pin: the original, and the best thumbnail for a width.
 * @param {any} pin
 * @param {{token?: string, visit?: string}} [link] a public link the pin is seen through
 */
export function mediaUrls(pin, link) {
  const id = encodeURIComponent(pin.id);
  if (link) {
    const base = `/api/v1/shared/${encodeURIComponent(link.token)}/pins/${id}`;
    const visit = link.visit ? `?visit=${encodeURIComponent(link.visit)}` : "";
    return { original: `${base}/media${visit}`, thumbnail: null };
  }
  const widths = [...(pin.thumbnails || [])].sort((a, b) => a - b);
  const width = widths.find((w) => w >= 480) || widths[widths.length - 1];
  const thumbnail = thumbnailsServed && width ? `/api/v1/pins/${id}/thumbnail?width=${width}` : null;
  return { original: `/api/v1/pins/${id}/media`, thumbnail };
}

/** Width / height of a pin's media (1 when unknown). */
export function aspectOf(pin) {
  const { width, height } = pin.media;
  return width && height ? width / height : isVideo(pin) ? 16 / 9 : 1;
}

/**
 * The preview of a pin in a grid: a blurhash placeholder under a lazily loaded thumbnail
 * (or the original), a GIF that animates, or a video that shows its first frame.
 */
export function preview(pin, link) {
  const aspect = aspectOf(pin);
  const box = h("div", { class: "media-box" });
  box.style.aspectRatio = String(aspect);
  if (pin.media.blurhash) {
    const canvas = placeholderCanvas(pin.media.blurhash, aspect);
    if (canvas) box.append(canvas);
  }
  const urls = mediaUrls(pin, link);
  const alt = pin.description ? `${pinLabel(pin)}: ${pin.description}` : pinLabel(pin);
  let element;
  if (isVideo(pin)) {
    element = h("video", {
      class: "media loading",
      preload: "metadata",
      muted: true,
      playsinline: true,
      loop: true,
      "aria-label": alt,
      src: urls.thumbnail ? urls.original : `${urls.original}#t=0.1`,
      poster: urls.thumbnail,
    });
    element.muted = true;
    element.addEventListener("loadeddata", () => element.classList.remove("loading"));
    box.addEventListener("mouseenter", () => element.play().catch(() => {}));
    box.addEventListener("mouseleave", () => element.pause());
    box.append(element, h("span", { class: "badge" }, "▶ video"));
  } else {
    element = h("img", {
      class: "media loading",
      alt,
      loading: "lazy",
      decoding: "async",
      src: urls.thumbnail || urls.original,
      width: pin.media.width || null,
      height: pin.media.height || null,
    });
    element.addEventListener("load", () => element.classList.remove("loading"));
    element.addEventListener("error", () => box.classList.add("broken"));
    box.append(element);
    if (pin.media.mime_type === "image/gif") box.append(h("span", { class: "badge" }, "GIF"));
  }
  return box;
}

/** The media at full size: an image, or a video with controls (seekable: ranged requests). */
export function fullMedia(pin, link) {
  const urls = mediaUrls(pin, link);
  const alt = pin.description ? `${pinLabel(pin)}: ${pin.description}` : pinLabel(pin);
  if (isVideo(pin)) {
    return h("video", {
      class: "full-media",
      controls: true,
      preload: "metadata",
      playsinline: true,
      src: urls.original,
      poster: urls.thumbnail,
      "aria-label": alt,
      width: pin.media.width || null,
      height: pin.media.height || null,
    });
  }
  return h("img", {
    class: "full-media",
    alt,
    src: urls.original,
    decoding: "async",
    width: pin.media.width || null,
    height: pin.media.height || null,
  });
}
