// byråds-GPT, the forespørgsel page: posts the member's words to /v1/inquiries/draft and shows
// the draft (addressee and why, svarfrist, numbered questions, what the archive already says,
// warnings) with its Word download; the form stays filled for an edit-and-redraft loop.
"use strict";

(function () {
  const form = document.getElementById("draft-form");
  const out = document.getElementById("draft");
  const status = document.getElementById("status");
  const button = form.querySelector("button[type=submit]");
  // A signed-in member's session token against cross-site requests (absent when anonymous).
  const csrf = (document.querySelector("meta[name=csrf-token]") || {}).content || "";

  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function row(dl, term, value) {
    dl.append(el("dt", {}, term), el("dd", {}, value));
  }

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const data = new FormData(form);
    const body = { member: data.get("member").trim(), party: data.get("party").trim(), text: data.get("text").trim() };
    if (data.get("date")) body.date = data.get("date");
    if (data.get("addressee").trim()) body.addressee = data.get("addressee").trim();
    button.disabled = true;
    status.textContent = "Skriver udkastet og søger i arkivet …";
    out.textContent = "";
    try {
      const resp = await fetch("/v1/inquiries/draft", { method: "POST", headers: Object.assign(csrf ? { "X-CSRF-Token": csrf } : {}, { "Content-Type": "application/json" }), body: JSON.stringify(body), credentials: "same-origin" });
      const r = await resp.json();
      if (!resp.ok) throw new Error((r.error && r.error.message) || resp.statusText);
      const d = r.draft;
      out.append(el("h2", { id: "udkast", tabindex: "-1" }, "Udkast: " + d.emne));
      const dl = el("dl", { class: "draft-meta" });
      row(dl, "Til", d.til);
      row(dl, "Fra", d.fra);
      row(dl, "Dato", d.dato);
      row(dl, "Svarfrist", d.svarfrist);
      out.append(dl);
      if (r.addressee && r.addressee.reason) out.append(el("p", { class: "status" }, r.addressee.reason));
      if (d.baggrund) out.append(el("h3", {}, "Baggrund"), el("p", { class: "answer" }, d.baggrund));
      out.append(el("h3", {}, "Spørgsmål"));
      const ol = el("ol", { class: "questions" });
      for (const q of d["spørgsmål"]) ol.append(el("li", {}, q.replace(/^\d+\.\s*/, "")));
      out.append(ol);
      if (r.related && r.related.length) {
        out.append(el("h3", {}, "Det siger arkivet allerede"));
        const list = el("ol", { class: "sources" });
        for (const x of r.related) {
          const li = el("li", { value: String(x.n) });
          const a = el("a", { href: "/documents/" + encodeURIComponent(x.doc_id) + "?span=" + x.span.start + "-" + x.span.end + "#passage" }, x.title);
          li.append(a, el("div", { class: "meta" }, x.why), el("blockquote", {}, x.quote));
          list.append(li);
        }
        out.append(list);
      }
      if (r.warnings && r.warnings.length) {
        out.append(el("h3", {}, "Vær opmærksom på"));
        const ul = el("ul", { class: "warnings" });
        for (const w of r.warnings) ul.append(el("li", {}, w.message));
        out.append(ul);
      }
      const download = el("p");
      download.append(el("a", { href: r.docx_url, class: "download" }, "Hent som Word-dokument"));
      out.append(download);
      status.textContent = "Udkastet er klar. Ret teksten ovenfor og skriv igen, hvis det skal ændres.";
      out.querySelector("h2").focus();
    } catch (e) {
      out.append(el("p", { class: "error", role: "alert" }, "Udkastet kunne ikke laves: " + e.message));
      status.textContent = "";
    } finally {
      button.disabled = false;
    }
  });
})();
