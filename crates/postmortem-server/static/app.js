// Progressive enhancement for the pages; everything works without it.
// - Shows instants in the reader's own time zone (the server renders them with their offset).
// - Defaults the timeline's offset field to the browser's offset for the chosen date.
// - Follows the incident's live event stream and swaps in the parts that changed.
// - Lists blameless-language hints next to text boxes marked `data-lint` while people type.
// - Offers "Comment on the selection" for words selected in a section (read view or editor),
//   and shows in the editor's text box the passage each comment is about.
"use strict";

function localiseTimes(root) {
  for (const el of root.querySelectorAll("time.local[datetime]")) {
    const at = new Date(el.getAttribute("datetime"));
    if (isNaN(at)) continue;
    // dateStyle/timeStyle cannot be combined with timeZoneName, so the parts are named.
    el.textContent = at.toLocaleString(undefined, {
      year: "numeric", month: "short", day: "numeric",
      hour: "2-digit", minute: "2-digit", timeZoneName: "short",
    });
  }
}

function formatOffset(minutesEast) {
  const sign = minutesEast < 0 ? "-" : "+";
  const abs = Math.abs(minutesEast);
  const pad = (n) => String(n).padStart(2, "0");
  return sign + pad(Math.floor(abs / 60)) + ":" + pad(abs % 60);
}

// The offset the browser's zone has at the typed local time (it differs across DST changes).
function followBrowserOffset(fieldset) {
  const local = fieldset.querySelector("input[type=datetime-local]");
  const select = fieldset.querySelector("select.offset");
  if (!local || !select || select.dataset.userSet) return;
  const update = () => {
    if (select.dataset.userSet) return;
    const at = local.value ? new Date(local.value) : new Date();
    const offset = formatOffset(-at.getTimezoneOffset());
    if ([...select.options].some((o) => o.value === offset)) select.value = offset;
  };
  select.addEventListener("change", () => { select.dataset.userSet = "1"; });
  local.addEventListener("change", update);
  update();
}

const PARTS_BY_ENTITY = {
  timeline: ["timeline", "facts", "contributors"],
  section: ["sections", "contributors", "review"],
  postmortem: ["facts", "review"],
  factor: ["factors"],
  action: ["actions"],
  review: ["review", "contributors"],
  comment: ["review", "sections", "contributors"],
  incident: ["facts"],
};

async function refreshPart(id, part) {
  const current = document.querySelector(`[data-part="${part}"]`);
  if (!current) return;
  // A part with a control in use is not replaced under the reader's hands.
  if (current.contains(document.activeElement) && document.activeElement !== document.body) return;
  // Nor is one with a correction form open: what the reader typed there stays.
  if (current.querySelector("details.correct[open]")) {
    announce("Someone changed this part while your correction form is open; your text is kept. Reload to see their change.");
    return;
  }
  const response = await fetch(`/incidents/${id}/fragments/${part}`, { credentials: "same-origin" });
  if (!response.ok) return;
  const holder = document.createElement("div");
  holder.innerHTML = await response.text();
  const fresh = holder.firstElementChild;
  if (!fresh) return;
  current.replaceWith(fresh);
  localiseTimes(fresh);
  fresh.classList.add("flash");
}

function announce(text) {
  const status = document.getElementById("live-status");
  if (status) status.textContent = text;
}

function followIncident(root, onChange) {
  if (!window.EventSource) return;
  const id = root.dataset.incident;
  const events = new EventSource(`/incidents/${id}/events`);
  for (const entity of [...Object.keys(PARTS_BY_ENTITY), "resync"]) {
    events.addEventListener(entity, () => onChange(id, entity));
  }
}

// Blameless-language hints. The server's checker counts lines and columns in characters
// (code points); a text box indexes UTF-16 code units, so positions are converted here.
function indexOf(text, line, column) {
  let index = 0;
  for (let n = 1; n < line; n++) {
    const next = text.indexOf("\n", index);
    if (next < 0) return text.length;
    index = next + 1;
  }
  let chars = 1;
  while (chars < column && index < text.length) {
    const code = text.charCodeAt(index);
    index += code >= 0xd800 && code <= 0xdbff ? 2 : 1;
    chars++;
  }
  return Math.min(index, text.length);
}

// A copy of the text behind the (transparent) text box, with the span marked, so the span
// shows where it is without moving the writer's cursor. Built only when first needed.
function mirrorOf(field) {
  if (field.lintMirror) return field.lintMirror;
  const wrap = document.createElement("div");
  wrap.className = "lint-wrap";
  const mirror = document.createElement("div");
  mirror.className = "lint-mirror";
  mirror.setAttribute("aria-hidden", "true");
  field.parentNode.insertBefore(wrap, field);
  wrap.append(mirror, field);
  const style = getComputedStyle(field);
  for (const p of ["fontFamily", "fontSize", "fontWeight", "fontStyle", "letterSpacing", "wordSpacing",
    "lineHeight", "tabSize", "boxSizing", "paddingTop", "paddingRight", "paddingBottom", "paddingLeft",
    "borderTopWidth", "borderRightWidth", "borderBottomWidth", "borderLeftWidth", "borderStyle"]) {
    mirror.style[p] = style[p];
  }
  field.addEventListener("scroll", () => { mirror.scrollTop = field.scrollTop; });
  field.lintMirror = mirror;
  return mirror;
}

function highlight(field, start, end) {
  const mirror = mirrorOf(field);
  const text = field.value;
  const mark = document.createElement("mark");
  mark.textContent = text.slice(start, end);
  // A trailing newline would otherwise collapse and shift the last line.
  mirror.replaceChildren(text.slice(0, start), mark, text.slice(end) + "\n");
  // The box's own scroll bar narrows its text, so the copy wraps at the same width.
  const style = getComputedStyle(field);
  const borders = parseFloat(style.borderLeftWidth) + parseFloat(style.borderRightWidth);
  mirror.style.width = field.clientWidth + borders + "px";
  mirror.scrollTop = field.scrollTop;
}

function clearHighlight(field) {
  if (field.lintMirror) field.lintMirror.replaceChildren();
}

function showFindings(field, list, findings) {
  const text = field.value;
  const items = findings.map((f) => {
    const start = indexOf(text, f.line, f.column);
    const end = indexOf(text, f.end_line, f.end_column);
    const li = document.createElement("li");
    li.className = "lint-" + f.severity;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "lint-item";
    const where = document.createElement("span");
    where.className = "lint-where";
    where.textContent = `${f.line}:${f.column}`;
    const message = document.createElement("span");
    message.textContent = ` ${f.message}`;
    const suggestion = document.createElement("span");
    suggestion.className = "lint-suggestion";
    suggestion.textContent = f.suggestion;
    button.append(where, message, suggestion);
    button.addEventListener("mouseenter", () => highlight(field, start, end));
    button.addEventListener("focus", () => highlight(field, start, end));
    button.addEventListener("mouseleave", () => clearHighlight(field));
    button.addEventListener("blur", () => clearHighlight(field));
    button.addEventListener("click", () => {
      clearHighlight(field);
      field.focus();
      field.setSelectionRange(start, end);
    });
    li.append(button);
    // A rule with a rewrite of the span ("Dana failed to" -> "Dana did not") offers it as one
    // click; the text is checked again after the edit, as if typed.
    if (typeof f.replacement === "string") {
      const apply = document.createElement("button");
      apply.type = "button";
      apply.className = "lint-apply";
      apply.textContent = f.replacement === ""
        ? `Delete “${text.slice(start, end).trim()}”`
        : `Rewrite as “${f.replacement}”`;
      apply.addEventListener("click", () => {
        clearHighlight(field);
        field.setRangeText(f.replacement, start, end, "end");
        field.focus();
        field.dispatchEvent(new Event("input"));
      });
      li.append(apply);
    }
    return li;
  });
  if (!items.length) {
    list.replaceChildren();
    return;
  }
  const summary = document.createElement("p");
  summary.className = "lint-summary";
  summary.textContent = items.length === 1
    ? "1 passage may read as blame:"
    : `${items.length} passages may read as blame:`;
  const ul = document.createElement("ul");
  ul.append(...items);
  list.replaceChildren(summary, ul);
}

function lintAsYouType(field) {
  const list = document.getElementById("lint-" + field.id);
  if (!list || !window.fetch) return;
  let participants = [];
  try { participants = JSON.parse(field.dataset.lint || "[]"); } catch (_) { /* no names */ }
  let timer = null;
  let asked = 0;
  const check = async () => {
    const text = field.value;
    const ask = ++asked;
    if (!text.trim()) { list.replaceChildren(); clearHighlight(field); return; }
    let response;
    try {
      response = await fetch("/api/v1/lint", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ text, participants }),
      });
    } catch (_) { return; }
    // Answers can overtake each other; only the one for the text still in the box counts.
    if (!response.ok || ask !== asked || field.value !== text) return;
    const { findings } = await response.json();
    showFindings(field, list, findings);
  };
  field.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(check, 300);
  });
  if (field.value.trim()) check();
}

// A half-typed date is never sent as an empty field: the browser stops the form (the field
// is `badInput`), and the field says in words what is missing, beside it.
function explainHalfTypedDate(field) {
  const id = `${field.id}-incomplete`;
  const show = () => {
    let message = document.getElementById(id);
    if (!field.validity.badInput) {
      if (message) message.remove();
      field.removeAttribute("aria-invalid");
      return;
    }
    if (!message) {
      message = document.createElement("span");
      message.id = id;
      message.className = "field-error";
      field.insertAdjacentElement("afterend", message);
      field.setAttribute("aria-describedby", `${id} ${field.getAttribute("aria-describedby") || ""}`.trim());
    }
    message.textContent = field.type === "date"
      ? "This date is not complete: fill in the day, month and year, or clear it."
      : "This date and time is not complete: fill in every part, or clear it.";
    field.setAttribute("aria-invalid", "true");
  };
  field.addEventListener("invalid", show);
  field.addEventListener("change", show);
}

// Suggestions while typing a search: words that complete the last word, then incidents it
// finds. A combobox over a listbox (arrow keys move, Enter takes, Escape closes); without
// script the box is a plain search form.
function suggestWhileTyping(input) {
  const list = document.createElement("ul");
  list.id = `${input.id}-suggestions`;
  list.className = "suggestions";
  list.setAttribute("role", "listbox");
  list.setAttribute("aria-label", "Suggestions");
  list.hidden = true;
  const holder = document.createElement("span");
  holder.className = "suggest";
  input.replaceWith(holder);
  holder.append(input, list);
  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-controls", list.id);
  input.setAttribute("aria-expanded", "false");
  input.setAttribute("autocomplete", "off");
  let options = [];
  let active = -1;
  let timer = null;
  let asked = 0;

  const close = () => {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  };
  const mark = (index) => {
    active = index;
    options.forEach((option, n) => option.setAttribute("aria-selected", String(n === index)));
    if (index >= 0) {
      input.setAttribute("aria-activedescendant", options[index].id);
      options[index].scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  };
  const take = (option) => {
    close();
    if (option.dataset.href) {
      window.location.assign(option.dataset.href);
    } else {
      input.value = option.dataset.query;
      input.form.requestSubmit();
    }
  };
  const option = (text, kind, data) => {
    const item = document.createElement("li");
    item.id = `${list.id}-${options.length}`;
    item.setAttribute("role", "option");
    item.setAttribute("aria-selected", "false");
    const what = document.createElement("span");
    what.className = "muted";
    what.textContent = kind;
    item.append(document.createTextNode(text), " ", what);
    Object.assign(item.dataset, data);
    // Taken on mousedown, before the field loses focus and closes the list.
    item.addEventListener("mousedown", (event) => { event.preventDefault(); take(item); });
    options.push(item);
    return item;
  };
  const show = (found) => {
    options = [];
    const items = [
      ...found.words.map((w) => option(w.query, "search", { query: w.query })),
      ...found.incidents.map((i) => option(i.title, "incident", { href: `/incidents/${i.incident_id}` })),
    ];
    list.replaceChildren(...items);
    if (items.length === 0) { close(); return; }
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
    mark(-1);
  };
  const ask = async () => {
    const typed = input.value;
    if (!typed.trim()) { close(); return; }
    const mine = ++asked;
    try {
      const response = await fetch(`/api/v1/search/suggest?q=${encodeURIComponent(typed)}`, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      if (!response.ok || mine !== asked) return;
      show(await response.json());
    } catch {
      // Suggestions are a help; the form still searches without them.
    }
  };

  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(ask, 150);
  });
  input.addEventListener("keydown", (event) => {
    const open = !list.hidden && options.length > 0;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (options.length === 0) return;
      event.preventDefault();
      if (!open) {
        list.hidden = false;
        input.setAttribute("aria-expanded", "true");
      }
      const last = options.length - 1;
      if (event.key === "ArrowDown") mark(active >= last ? 0 : active + 1);
      else mark(active <= 0 ? last : active - 1);
    } else if (event.key === "Enter" && open && active >= 0) {
      event.preventDefault();
      take(options[active]);
    } else if (event.key === "Escape" && open) {
      event.preventDefault();
      close();
    }
  });
  input.addEventListener("blur", () => setTimeout(close, 100));
}

// Comments on a passage. The quote is kept as the W3C Web Annotation TextQuoteSelector keeps
// one: the selected words and a little of the text before and after them, which the server
// uses to find the passage again after the section changes.
const QUOTE_CONTEXT = 48;

function fillCommentForm(form, section, quote) {
  const select = form.querySelector("select[name=section]");
  if (select) select.value = section;
  form.querySelector("input[name=quote]").value = quote.exact.trim();
  form.querySelector("input[name=quote_prefix]").value = quote.prefix;
  form.querySelector("input[name=quote_suffix]").value = quote.suffix;
  form.scrollIntoView({ block: "center" });
  form.querySelector("textarea[name=body]").focus({ preventScroll: true });
}

function offerButton() {
  let button = document.getElementById("comment-on-selection");
  if (!button) {
    button = document.createElement("button");
    button.type = "button";
    button.id = "comment-on-selection";
    button.className = "comment-on-selection";
    button.textContent = "Comment on the selection";
    button.hidden = true;
    document.body.append(button);
  }
  return button;
}

function place(button, rect) {
  button.style.left = `${window.scrollX + rect.left}px`;
  button.style.top = `${window.scrollY + rect.bottom + 6}px`;
  button.hidden = false;
}

// The read view: words selected inside one section's text.
function commentOnReadSelection(form) {
  const button = offerButton();
  let pending = null;
  button.addEventListener("mousedown", (e) => e.preventDefault());
  button.addEventListener("click", () => {
    if (!pending) return;
    fillCommentForm(form, pending.section, pending.quote);
    button.hidden = true;
  });
  document.addEventListener("selectionchange", () => {
    const selection = document.getSelection();
    if (!selection || selection.isCollapsed || !selection.rangeCount) { button.hidden = true; pending = null; return; }
    const range = selection.getRangeAt(0);
    const start = range.startContainer.parentElement && range.startContainer.parentElement.closest(".section-text");
    const end = range.endContainer.parentElement && range.endContainer.parentElement.closest(".section-text");
    if (!start || start !== end || !range.toString().trim()) { button.hidden = true; pending = null; return; }
    const before = document.createRange();
    before.setStart(start, 0);
    before.setEnd(range.startContainer, range.startOffset);
    const after = document.createRange();
    after.setStart(range.endContainer, range.endOffset);
    after.setEnd(start, start.childNodes.length);
    pending = {
      section: start.dataset.section,
      quote: { exact: range.toString(), prefix: before.toString().slice(-QUOTE_CONTEXT), suffix: after.toString().slice(0, QUOTE_CONTEXT) },
    };
    place(button, range.getBoundingClientRect());
  });
}

// The editor: words selected in a section's text box.
function commentOnEditorSelection(form) {
  for (const field of document.querySelectorAll("textarea[data-section]")) {
    const offer = document.getElementById(`comment-selection-${field.dataset.section}`);
    if (!offer) continue;
    offer.hidden = false;
    offer.addEventListener("click", () => {
      const { selectionStart: from, selectionEnd: to, value } = field;
      if (from === to) {
        announce("Select the words of the section the comment is about first.");
        field.focus();
        return;
      }
      fillCommentForm(form, field.dataset.section, {
        exact: value.slice(from, to),
        prefix: value.slice(Math.max(0, from - QUOTE_CONTEXT), from),
        suffix: value.slice(to, to + QUOTE_CONTEXT),
      });
    });
  }
}

// Where a comment's words are in the text box, which holds Markdown: the words as they read,
// allowing Markdown marks and line breaks between their characters.
function findPassage(text, words) {
  const exact = text.indexOf(words);
  if (exact >= 0) return [exact, exact + words.length];
  const pattern = [...words.replace(/\s+/g, " ")].map((c) => c === " " ? "[\\s*_`~]+" : c.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("[*_`~]*");
  const found = new RegExp(pattern).exec(text);
  return found ? [found.index, found.index + found[0].length] : null;
}

function showPassagesInEditor() {
  for (const button of document.querySelectorAll("button.show-passage[data-passage]")) {
    const field = document.getElementById(`section-${button.dataset.section}`);
    if (!field) continue;
    button.hidden = false;
    const where = () => findPassage(field.value, button.dataset.passage);
    const show = () => { const at = where(); if (at) highlight(field, at[0], at[1]); };
    button.addEventListener("mouseenter", show);
    button.addEventListener("focus", show);
    button.addEventListener("mouseleave", () => clearHighlight(field));
    button.addEventListener("blur", () => clearHighlight(field));
    button.addEventListener("click", () => {
      const at = where();
      clearHighlight(field);
      if (!at) { announce("Those words are no longer in the text box."); return; }
      field.focus();
      field.setSelectionRange(at[0], at[1]);
    });
  }
}

document.addEventListener("DOMContentLoaded", () => {
  for (const input of document.querySelectorAll("input[data-suggest]")) suggestWhileTyping(input);
  localiseTimes(document);
  for (const field of document.querySelectorAll("input[type=date], input[type=datetime-local]")) explainHalfTypedDate(field);
  // A refused form is shown again where it sits on the page, with its message focused.
  const problem = document.querySelector("[role=alert][id$='-problem']");
  if (problem) {
    problem.scrollIntoView({ block: "center" });
    problem.focus({ preventScroll: true });
  }
  for (const field of document.querySelectorAll("textarea[data-lint]")) lintAsYouType(field);
  for (const fieldset of document.querySelectorAll("fieldset.instant")) followBrowserOffset(fieldset);

  const incident = document.getElementById("incident");
  if (incident) {
    followIncident(incident, (id, entity) => {
      if (entity === "resync") { announce("Some updates were missed; reload the page to see everything."); return; }
      for (const part of PARTS_BY_ENTITY[entity] || []) refreshPart(id, part);
      announce(`Updated just now: ${entity === "section" ? "the post-mortem text" : entity}.`);
    });
  }
  const commentForm = document.getElementById("comment-form");
  if (commentForm && incident) commentOnReadSelection(commentForm);
  if (commentForm && document.getElementById("editor")) commentOnEditorSelection(commentForm);
  showPassagesInEditor();
  const editor = document.getElementById("editor");
  if (editor) {
    followIncident(editor, (_id, entity) => {
      if (entity === "section") {
        announce("Someone just saved a section. If it is one you changed, saving will show both texts so you can merge them.");
      }
    });
  }
});
