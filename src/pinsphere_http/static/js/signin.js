// Signing in (password, or Google when the service offers it) and signing up.
import { api, signIn } from "./api.js";
import { h, replace } from "./dom.js";
import { state } from "./state.js";

function message(error) {
  if (error.status === 401) return "Wrong username or password.";
  if (error.status === 429) return "Too many attempts. Wait a few minutes and try again.";
  if (error.status === 409) return "That username is taken.";
  return error.message;
}

/**
 * Show the sign-in form.
 * @param {HTMLElement} view
 * @param {(user: any) => void} done called once signed in
 */
export function renderSignIn(view, done) {
  let creating = false;
  const username = h("input", { id: "username", name: "username", autocomplete: "username", required: true });
  const password = h("input", { id: "password", name: "password", type: "password", autocomplete: "current-password", required: true });
  const error = h("p", { class: "form-error", role: "alert" });
  const submit = h("button", { type: "submit", class: "button primary wide" }, "Sign in");
  const heading = h("h1", {}, "Sign in");
  const toggle = state.config.signup
    ? h(
        "button",
        {
          type: "button",
          class: "link-button",
          onclick: () => {
            creating = !creating;
            heading.textContent = creating ? "Create an account" : "Sign in";
            submit.textContent = creating ? "Create account" : "Sign in";
            toggle.textContent = creating ? "I have an account" : "Create an account";
            password.autocomplete = creating ? "new-password" : "current-password";
          },
        },
        "Create an account",
      )
    : null;
  const form = h(
    "form",
    {
      class: "stack",
      onsubmit: async (event) => {
        event.preventDefault();
        error.textContent = "";
        submit.disabled = true;
        try {
          if (creating) {
            await api("/api/v1/auth/signup", { method: "POST", json: { username: username.value.trim(), password: password.value } });
          }
          const session = await signIn(username.value.trim(), password.value);
          done(session.user);
        } catch (failure) {
          error.textContent = message(failure);
          password.select();
        } finally {
          submit.disabled = false;
        }
      },
    },
    h("label", { for: "username" }, "Username"),
    username,
    h("label", { for: "password" }, "Password"),
    password,
    error,
    submit,
  );
  replace(
    view,
    h(
      "section",
      { class: "signin" },
      heading,
      form,
      state.config.google
        ? h("p", {}, h("a", { class: "button wide google", href: "/api/v1/auth/google/login?web=1" }, "Sign in with Google"))
        : null,
      toggle ? h("p", {}, toggle) : null,
    ),
  );
  username.focus();
}
