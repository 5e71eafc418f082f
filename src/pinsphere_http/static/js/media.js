// Where a pin's media lives, and the elements that show it.
import { h, isVideo, pinLabel } from "./dom.js";
import { placeholderCanvas } from "./blurhash.js";

let thumbnailsServed = false;

/** Whether the service serves thumbnails (from /api/v1/config). */
export function setThumbnailsServed(value) {
  thumbnailsServed = Boolean(value);
}

// How wide a grid card is drawn: two columns or more of at least 150 px on a phone, of at
// least 220 px from 700 px up (see app.css). The browser picks the thumbnail from srcset.
const GRID_SIZES = "(min-width: 700px) 300px, 50vw";
const FULL_SIZES = "(min-width: 1000px) 60vw, 100vw";

/**
 * The URLs of a pin: the original, the best thumbnail for a grid card, and every thumbnail
 * width as a `srcset` (null when the service or the pin has none).
 * @param {any} pin
 * @param {{token?: string, visit?: string}} [link] a public link the pin is seen through
 */
export function mediaUrls(pin, link) {
  const id = encodeURIComponent(pin.id);
  const base = link ? `/api/v1/shared/${encodeURIComponent(link.token)}/pins/${id}` : `/api/v1/pins/${id}`;
  // Media elements cannot send headers: a link's visit goes in the query.
  const visit = link && link.visit ? `visit=${encodeURIComponent(link.visit)}` : "";
  const original = `${base}/media${visit ? `?${visit}` : ""}`;
  const widths = thumbnailsServed ? [...(pin.thumbnails || [])].sort((a, b) => a - b) : [];
  if (!widths.length) return { original, thumbnail: null, largest: null, srcset: null };
  const at = (w) => `${base}/thumbnail?width=${w}${visit ? `&${visit}` : ""}`;
  const width = widths.find((w) => w >= 480) || widths[widths.length - 1];
  return {
    original,
    thumbnail: at(width),
    largest: at(widths[widths.length - 1]),
    srcset: widths.map((w) => `${at(w)} ${w}w`).join(", "),
  };
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
    // Thumbnails are stills (an animation's first frame): GIFs and animations keep moving.
    const still = pin.media.mime_type !== "image/gif" && !((pin.media.frame_count || 0) > 1);
    element = h("img", {
      class: "media loading",
      alt,
      loading: "lazy",
      decoding: "async",
      src: still ? urls.thumbnail || urls.original : urls.original,
      srcset: still ? urls.srcset : null,
      sizes: still && urls.srcset ? GRID_SIZES : null,
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

/**
 * The media at full size: an image, or a video with controls (seekable: ranged requests).
 * With `previewOnly` (a public link that does not share originals) the largest thumbnail is
 * shown instead, or nothing when there is none.
 */
export function fullMedia(pin, link, { previewOnly = false } = {}) {
  const urls = mediaUrls(pin, link);
  const alt = pin.description ? `${pinLabel(pin)}: ${pin.description}` : pinLabel(pin);
  if (previewOnly) {
    if (!urls.largest) return null;
    return h("img", {
      class: "full-media",
      alt,
      src: urls.largest,
      srcset: urls.srcset,
      sizes: FULL_SIZES,
      decoding: "async",
      width: pin.media.width || null,
      height: pin.media.height || null,
    });
  }
  if (isVideo(pin)) {
    return h("video", {
      class: "full-media",
      controls: true,
      preload: "metadata",
      playsinline: true,
      src: urls.original,
      poster: urls.largest,
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
