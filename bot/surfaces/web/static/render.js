// The model's Markdown as HTML, safely. Raw HTML in the model's text is shown as the text it
// is, never parsed (so `<img onerror=…>` or `<script>` appear as written); a link is a link
// only when its text is its own address, otherwise its text is shown and then its address as
// the link, so no label can hide where it goes (whatever Markdown made it: nested brackets,
// a label over lines, `<…>` targets, references); links lose `javascript:` and other unsafe
// addresses and open in a new tab; images are shown as their description; and everything
// passes through DOMPurify before it reaches the page.
"use strict";
(function () {
  const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
  const escape = (text) => String(text).replace(/[&<>"']/g, (c) => ESCAPES[c]);
  const markdown = new marked.Marked({ gfm: true, breaks: false, async: false });
  const bare = (address) =>
    String(address)
      .trim()
      .toLowerCase()
      .replace(/^(https?:\/\/|mailto:|tel:)/, "")
      .replace(/^www\./, "")
      .replace(/\/+$/, "");
  markdown.use({
    renderer: {
      html: ({ text }) => escape(text),
      image: ({ text }) => escape(text),
      link(token) {
        const label = this.parser.parseInline(token.tokens, this.parser.textRenderer);
        if (bare(label) === bare(token.href)) return false; // its own address: as marked shows it
        const target = `<a href="${escape(token.href)}">${escape(token.href)}</a>`;
        return `${escape(label)} <span class="link-target">(${target})</span>`;
      },
    },
  });
  DOMPurify.addHook("afterSanitizeAttributes", (node) => {
    if (node.tagName === "A" && node.hasAttribute("href")) {
      node.setAttribute("target", "_blank");
      node.setAttribute("rel", "noopener noreferrer");
    }
  });
  const PURIFY = {
    USE_PROFILES: { html: true },
    FORBID_TAGS: ["style", "img", "form", "input", "button", "textarea", "select", "iframe"],
    FORBID_ATTR: ["style", "id", "class", "srcset"],
  };

  /** Replace `element`'s content with `text` rendered as Markdown. */
  function render(element, text) {
    element.innerHTML = DOMPurify.sanitize(markdown.parse(text), PURIFY);
  }

  window.ShopMaxMarkdown = { render };
})();
