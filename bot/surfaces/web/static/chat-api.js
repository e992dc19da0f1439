// How the chat signs in and calls the bot's API, kept apart from the page so the sign-in can
// change without touching the chat. Today: a bearer token typed once, kept in localStorage.
"use strict";
window.ShopMaxApi = (function () {
  const KEY = "shopmax-token";
  let token = localStorage.getItem(KEY) || "";
  const auth = () => ({ Authorization: "Bearer " + token });

  return {
    /** Whether a credential is at hand (otherwise the page shows the sign-in form). */
    signedIn: () => Boolean(token),
    signIn(value) {
      token = value.trim();
      localStorage.setItem(KEY, token);
    },
    /** GET the conversation's earlier turns; resolves to the fetch Response. */
    history: (conversation) =>
      fetch("/api/conversations/" + encodeURIComponent(conversation), { headers: auth() }),
    /** POST a question; resolves to the fetch Response whose body is the event stream. */
    ask: (body, signal) =>
      fetch("/api/chat", {
        method: "POST",
        signal,
        headers: { "Content-Type": "application/json", ...auth() },
        body: JSON.stringify(body),
      }),
  };
})();
