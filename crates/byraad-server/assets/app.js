// byråds-GPT, the ask page: posts the conversation to /v1/chat as a stream and renders the
// answer as it arrives, each [n] a link to the cited passage, the sources only those cited.
"use strict";

(function () {
  const form = document.getElementById("ask-form");
  const input = document.getElementById("question");
  const log = document.getElementById("conversation");
  const status = document.getElementById("status");
  const button = form.querySelector("button[type=submit]");
  const messages = [];
  // A signed-in member's session token against cross-site requests (absent when anonymous).
  const csrf = (document.querySelector("meta[name=csrf-token]") || {}).content || "";
  const headers = (extra) => Object.assign(csrf ? { "X-CSRF-Token": csrf } : {}, extra);

  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function passageUrl(c) {
    return "/documents/" + encodeURIComponent(c.doc_id) + "?span=" + c.span.start + "-" + c.span.end + "#passage";
  }

  function label(c) {
    const parts = [c.title];
    if (c.item) parts.push("punkt " + c.item);
    if (c.page) parts.push("s. " + c.page);
    return parts.join(", ");
  }

  // The answer's text with each [n] a link to citation n.
  function renderAnswer(target, text, citations) {
    target.textContent = "";
    const re = /\[(\d+)\]/g;
    let at = 0, m;
    while ((m = re.exec(text)) !== null) {
      target.append(text.slice(at, m.index));
      const c = citations.get(Number(m[1]));
      if (c) {
        const a = el("a", { href: passageUrl(c), "aria-label": "Kilde " + m[1] + ": " + label(c) }, m[0]);
        target.append(a);
      } else {
        target.append(m[0]);
      }
      at = m.index + m[0].length;
    }
    target.append(text.slice(at));
  }

  function renderSources(list, citations) {
    list.textContent = "";
    for (const c of citations.values()) {
      const li = el("li", { value: String(c.n) });
      li.append(el("a", { href: passageUrl(c) }, c.title));
      const meta = [c.body, c.date, c.item ? "punkt " + c.item : null, c.page ? "side " + c.page : null, c.ocr ? "læst fra en scanning (ord kan være fejllæst)" : null].filter(Boolean).join(" · ");
      li.append(el("div", { class: "meta" }, meta));
      li.append(el("blockquote", {}, c.quote));
      list.append(li);
    }
  }

  const REASONS = [["wrong_source", "Forkert kilde"], ["incomplete", "Ufuldstændigt"], ["not_an_answer", "Ikke et svar"], ["other", "Andet"]];

  // "Var svaret nyttigt?" (words, not emoji: not every device has the glyphs): up, or down with a reason and a comment; stored by POST /v1/feedback.
  function feedback(turn, question, answerText, citations) {
    const box = el("form", { class: "feedback", "aria-label": "Tilbagemelding på svaret" });
    const legend = el("span", {}, "Var svaret nyttigt? ");
    const up = el("button", { type: "button", class: "secondary", "aria-label": "Ja, nyttigt" }, "Ja");
    const down = el("button", { type: "button", class: "secondary", "aria-label": "Nej, ikke nyttigt" }, "Nej");
    const more = el("div", { class: "more" });
    more.hidden = true;
    const reasonId = "reason-" + Math.random().toString(36).slice(2);
    const select = el("select", { id: reasonId, name: "reason" });
    for (const [value, text] of REASONS) select.append(el("option", { value: value }, text));
    const commentId = reasonId + "-c";
    const comment = el("input", { type: "text", id: commentId, name: "comment", maxlength: "2000" });
    const send = el("button", { type: "submit" }, "Send");
    more.append(el("label", { for: reasonId }, "Hvad var galt?"), select, el("label", { for: commentId }, "Kommentar (valgfri)"), comment, send);
    const said = el("p", { class: "status", role: "status" });
    box.append(legend, up, down, more, said);
    const post = async (rating, reason, text) => {
      const body = { rating: rating, question: question, answer: answerText, cited: [...citations.values()].map((c) => c.doc_id), comment: text || "" };
      if (reason) body.reason = reason;
      const resp = await fetch("/v1/feedback", { method: "POST", headers: headers({ "Content-Type": "application/json" }), body: JSON.stringify(body), credentials: "same-origin" });
      said.textContent = resp.ok ? "Tak for din tilbagemelding." : "Tilbagemeldingen kunne ikke gemmes.";
      if (resp.ok) { up.disabled = true; down.disabled = true; more.hidden = true; }
    };
    up.addEventListener("click", () => post("up"));
    down.addEventListener("click", () => { more.hidden = false; select.focus(); });
    box.addEventListener("submit", (ev) => { ev.preventDefault(); post("down", select.value, comment.value.trim()); });
    turn.append(box);
  }

  // An abstention lists the documents nearest the question, each opened at its passage.
  function nearest(turn, after, hits) {
    const list = el("ul", { class: "nearest" });
    const seen = new Set();
    for (const h of hits) {
      if (seen.has(h.doc_id) || seen.size >= 5) continue;
      seen.add(h.doc_id);
      const li = el("li", {});
      li.append(el("a", { href: passageUrl(h) }, h.title));
      li.append(el("div", { class: "meta" }, [h.body, h.date, h.item ? "punkt " + h.item : null, h.page ? "side " + h.page : null].filter(Boolean).join(" · ")));
      list.append(li);
    }
    after.after(el("h2", { class: "sources-heading" }, "Nærmeste dokumenter"), list);
  }

  async function ask(question) {
    messages.push({ role: "user", content: question });
    const turn = el("section", { class: "turn", "aria-label": "Spørgsmål og svar" });
    turn.append(el("p", { class: "question" }, question));
    const answer = el("div", { class: "answer", "aria-live": "polite" });
    const sourcesHeading = el("h2", { class: "sources-heading" }, "Kilder");
    const sources = el("ol", { class: "sources" });
    const copy = el("button", { type: "button", class: "secondary" }, "Kopiér svar med kilder");
    sourcesHeading.hidden = true;
    copy.hidden = true;
    turn.append(answer, sourcesHeading, sources, copy);
    log.append(turn);

    const citations = new Map();
    const started = performance.now();
    const firstToken = () => { if (!turn.dataset.firstTokenMs) turn.dataset.firstTokenMs = String(Math.round(performance.now() - started)); };
    let text = "";
    button.disabled = true;
    status.textContent = "Søger i arkivet …";
    try {
      const resp = await fetch("/v1/chat", {
        method: "POST",
        headers: headers({ "Content-Type": "application/json", "Accept": "text/event-stream" }),
        body: JSON.stringify({ messages: messages, stream: true }),
        credentials: "same-origin",
      });
      if (!resp.ok) {
        const body = await resp.json().catch(() => ({}));
        throw new Error((body.error && body.error.message) || resp.statusText);
      }
      const reader = resp.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      let done = null;
      for (;;) {
        const { value, done: end } = await reader.read();
        if (end) break;
        buffer += decoder.decode(value, { stream: true });
        let cut;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          let event = "message", data = "";
          for (const line of block.split("\n")) {
            if (line.startsWith("event:")) event = line.slice(6).trim();
            else if (line.startsWith("data:")) data += line.slice(5).replace(/^ /, "");
          }
          if (!data) continue;
          const value = JSON.parse(data);
          if (event === "citation") {
            citations.set(value.n, value);
          } else if (event === "delta") {
            text += value.text;
            firstToken();
            status.textContent = "";
          } else if (event === "done") {
            done = value;
          } else if (event === "error") {
            throw new Error(value.error && value.error.message);
          }
          renderAnswer(answer, text, citations);
        }
      }
      if (done) {
        firstToken();
        text = done.answer;
        for (const c of done.citations) citations.set(c.n, c);
        renderAnswer(answer, text, citations);
        if (done.abstained) answer.classList.add("abstained");
        messages.push({ role: "assistant", content: done.answer });
      }
      renderSources(sources, citations);
      sourcesHeading.hidden = citations.size === 0;
      if (done && done.abstained && done.related && done.related.length) nearest(turn, sources, done.related);
      copy.hidden = false;
      copy.addEventListener("click", () => {
        const list = [...citations.values()].map((c) => "[" + c.n + "] " + label(c) + ": " + location.origin + passageUrl(c)).join("\n");
        navigator.clipboard.writeText(text + (list ? "\n\nKilder:\n" + list : "")).then(() => { status.textContent = "Svaret er kopieret."; });
      });
      feedback(turn, question, text, citations);
      status.textContent = "";
    } catch (e) {
      answer.append(el("p", { class: "error", role: "alert" }, "Spørgsmålet kunne ikke besvares: " + e.message));
      messages.pop();
      status.textContent = "";
    } finally {
      button.disabled = false;
      input.focus();
    }
  }

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const q = input.value.trim();
    if (!q) return;
    input.value = "";
    ask(q);
  });
})();
