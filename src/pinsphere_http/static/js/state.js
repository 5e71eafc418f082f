// What every view shares: the service's configuration, the signed-in user, their boards,
// and navigation.

export const state = {
  /** @type {{google: boolean, signup: boolean, max_upload_bytes: number, thumbnails: boolean}} */
  config: { google: false, signup: false, max_upload_bytes: 0, thumbnails: false },
  /** @type {any|null} */
  user: null,
  /** @type {any[]} boards the caller can see */
  boards: [],
};

let router = () => {};

/** Register the function that shows the page for the current URL. */
export function setRouter(render) {
  router = render;
}

/** Go to a path of the app (pushes a history entry unless `replace`). */
export function navigate(path, { replace = false } = {}) {
  if (replace) history.replaceState(null, "", path);
  else history.pushState(null, "", path);
  router();
}

/** Re-render the current page. */
export function refresh() {
  router();
}

/** The boards the signed-in user owns. */
export function myBoards() {
  return state.user ? state.boards.filter((board) => board.owner_id === state.user.id) : [];
}
