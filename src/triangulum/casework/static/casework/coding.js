// The coding reader: measures a text selection in UTF-16 code units (what the DOM counts)
// and sends those offsets; the server converts them to code points. Also the keyboard
// caret, the code palette (ARIA combobox + multi-select listbox) and the live status.
(function () {
  "use strict";

  let lastSelection = null; // {start16, end16, text}

  const $ = (selector, root) => (root || document).querySelector(selector);
  const $$ = (selector, root) => Array.from((root || document).querySelectorAll(selector));

  function sourceText() { return $("#source-text"); }
  function blocks() { return $$(".block-text", sourceText() || document); }

  function utf16Within(block, node, offset) {
    const range = document.createRange();
    range.setStart(block, 0);
    range.setEnd(node, offset);
    return range.toString().length; // JavaScript strings count UTF-16 code units
  }

  function blockLength16(block) { return block.textContent.length; }

  // The UTF-16 offset of a DOM point, or null. A point outside every block (a speaker
  // line, the margin) moves to the nearest block edge in the direction that keeps the
  // selection inside: forward for a start, backward for an end.
  function offsetOf(node, offset, isStart) {
    const list = blocks();
    for (const block of list) {
      if (block.contains(node)) return Number(block.dataset.u16) + utf16Within(block, node, offset);
    }
    const point = document.createRange();
    point.setStart(node, offset);
    if (isStart) {
      for (const block of list) {
        const whole = document.createRange();
        whole.selectNodeContents(block);
        if (whole.compareBoundaryPoints(Range.START_TO_START, point) >= 0) return Number(block.dataset.u16);
      }
      return null;
    }
    for (let i = list.length - 1; i >= 0; i -= 1) {
      const whole = document.createRange();
      whole.selectNodeContents(list[i]);
      if (whole.compareBoundaryPoints(Range.END_TO_END, point) <= 0) {
        return Number(list[i].dataset.u16) + blockLength16(list[i]);
      }
    }
    return null;
  }

  function measure() {
    const container = sourceText();
    const selection = window.getSelection();
    if (!container || !selection || selection.rangeCount === 0 || selection.isCollapsed) return null;
    const range = selection.getRangeAt(0);
    if (!container.contains(range.commonAncestorContainer) && range.commonAncestorContainer !== container) return null;
    const start16 = offsetOf(range.startContainer, range.startOffset, true);
    const end16 = offsetOf(range.endContainer, range.endOffset, false);
    if (start16 === null || end16 === null || end16 <= start16) return null;
    return { start16, end16, text: range.toString() };
  }

  function shorten(text, length) {
    const flat = text.replace(/\s+/g, " ").trim();
    return flat.length > length ? flat.slice(0, length - 1) + "…" : flat;
  }

  function showSelection() {
    const info = $("#selection-info");
    if (!info) return;
    info.textContent = lastSelection
      ? `Selected: “${shorten(lastSelection.text, 80)}” — press C or “Code selection”.`
      : "No text selected.";
  }

  document.addEventListener("selectionchange", () => {
    const measured = measure();
    if (measured) {
      lastSelection = measured;
      showSelection();
    }
  });

  function announce(message, isError) {
    const region = $("#coding-status");
    if (!region) return;
    region.classList.toggle("is-error", Boolean(isError));
    region.textContent = "";
    // A fresh text node makes screen readers announce the change.
    window.setTimeout(() => { region.textContent = message; }, 30);
  }

  // --- keyboard caret in the (non-editable) text --------------------------------------
  const ARROWS = { ArrowLeft: ["backward", "character"], ArrowRight: ["forward", "character"],
    ArrowUp: ["backward", "line"], ArrowDown: ["forward", "line"],
    Home: ["backward", "lineboundary"], End: ["forward", "lineboundary"] };

  function placeCaretIfOutside(container) {
    const selection = window.getSelection();
    if (selection.rangeCount && container.contains(selection.anchorNode)) return;
    const target = $("#at .block-text", container) || blocks()[0];
    if (!target) return;
    const range = document.createRange();
    range.setStart(target.firstChild || target, 0);
    range.collapse(true);
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function onTextKey(event) {
    const container = sourceText();
    if (!container || event.target !== container) return;
    const arrow = ARROWS[event.key];
    if (arrow && !event.altKey && !event.metaKey) {
      placeCaretIfOutside(container);
      const granularity = event.ctrlKey && arrow[1] === "character" ? "word" : arrow[1];
      window.getSelection().modify(event.shiftKey ? "extend" : "move", arrow[0], granularity);
      const focusNode = window.getSelection().focusNode;
      const element = focusNode && (focusNode.nodeType === 1 ? focusNode : focusNode.parentElement);
      if (element) element.scrollIntoView({ block: "nearest" });
      event.preventDefault();
      return;
    }
    if ((event.key === "c" || event.key === "C") && !event.ctrlKey && !event.metaKey && !event.altKey) {
      event.preventDefault();
      openPalette();
    }
  }

  // --- palette -------------------------------------------------------------------------
  let returnFocus = null;

  function paletteOptions() { return $$("#palette-list [role=option][data-code-id]"); }
  function visibleOptions() { return paletteOptions().filter((o) => !o.hidden); }

  function setCurrent(option) {
    const input = $("#palette-input");
    paletteOptions().forEach((o) => o.classList.remove("is-current"));
    if (option) {
      option.classList.add("is-current");
      input.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  function current() { return $("#palette-list .is-current"); }

  function chosenOptions() { return paletteOptions().filter((o) => o.getAttribute("aria-selected") === "true"); }

  function describeChosen() {
    const chosen = chosenOptions();
    $("#palette-chosen").textContent = chosen.length
      ? `Chosen: ${chosen.map((o) => o.dataset.name).join("; ")}. Enter applies them.`
      : "No codes chosen: Enter applies the highlighted one.";
  }

  function toggle(option) {
    if (!option) return;
    const on = option.getAttribute("aria-selected") !== "true";
    option.setAttribute("aria-selected", on ? "true" : "false");
    describeChosen();
  }

  function filter() {
    const words = $("#palette-input").value.toLowerCase().split(/\s+/).filter(Boolean);
    paletteOptions().forEach((option) => {
      const name = option.dataset.name.toLowerCase();
      option.hidden = !words.every((w) => name.includes(w));
    });
    const first = visibleOptions()[0];
    setCurrent(first || null);
  }

  function openPalette() {
    const palette = $("#palette");
    if (!palette) return;
    if (!lastSelection) {
      announce("Select some text first, then press C.", true);
      return;
    }
    returnFocus = document.activeElement;
    $("#palette-selection").textContent = `Selection: “${shorten(lastSelection.text, 120)}”`;
    paletteOptions().forEach((o) => o.setAttribute("aria-selected", "false"));
    describeChosen();
    palette.hidden = false;
    const input = $("#palette-input");
    input.value = "";
    filter();
    input.focus();
  }

  function closePalette() {
    const palette = $("#palette");
    if (!palette || palette.hidden) return;
    palette.hidden = true;
    const target = returnFocus && document.contains(returnFocus) ? returnFocus : sourceText();
    if (target) target.focus();
  }

  function applyPalette() {
    let chosen = chosenOptions();
    if (!chosen.length && current()) chosen = [current()];
    if (!chosen.length) {
      announce("Choose a code first.", true);
      return;
    }
    const holder = $("#palette-chosen-inputs");
    holder.textContent = "";
    chosen.forEach((option) => {
      const input = document.createElement("input");
      input.type = "hidden";
      input.name = "code";
      input.value = option.dataset.codeId;
      holder.appendChild(input);
    });
    $("#apply-form").requestSubmit();
  }

  function onPaletteKey(event) {
    const options = visibleOptions();
    const index = options.indexOf(current());
    if (event.key === "ArrowDown") {
      setCurrent(options[Math.min(options.length - 1, index + 1)] || options[0] || null);
      event.preventDefault();
    } else if (event.key === "ArrowUp") {
      setCurrent(options[Math.max(0, index - 1)] || null);
      event.preventDefault();
    } else if ((event.key === "Enter" && event.shiftKey) || (event.key === " " && event.ctrlKey)) {
      // Space itself types a space: filters may have several words.
      toggle(current());
      event.preventDefault();
    } else if (event.key === "Enter") {
      event.preventDefault();
      applyPalette();
    } else if (event.key === "Escape") {
      event.preventDefault();
      closePalette();
    }
  }

  // --- forms that carry the selection --------------------------------------------------
  // Runs in the capture phase, before htmx sees the submit: fills in the offsets, or
  // stops the request when nothing is selected.
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!form.matches || !form.matches("[data-needs-selection]")) return;
    if (!lastSelection) {
      event.preventDefault();
      event.stopPropagation();
      announce("Select some text first.", true);
      return;
    }
    form.querySelector("[name=start16]").value = lastSelection.start16;
    form.querySelector("[name=end16]").value = lastSelection.end16;
  }, true);

  // --- after the server answers --------------------------------------------------------
  function readStatus(root) {
    const template = root && root.querySelector("template[data-status]");
    if (!template) return;
    const isError = template.dataset.status === "error";
    announce(template.content.textContent.trim(), isError);
    if (!isError) {
      lastSelection = null;
      window.getSelection().removeAllRanges();
      showSelection();
    }
  }

  function highlightCoding(id) {
    $$("mark.seg.is-active").forEach((m) => m.classList.remove("is-active"));
    $$(".coding.is-active").forEach((m) => m.classList.remove("is-active"));
    if (!id) return;
    $$("mark.seg").forEach((mark) => {
      if (mark.dataset.codings.split(" ").includes(String(id))) mark.classList.add("is-active");
    });
    const entry = document.getElementById(`coding-${id}`);
    if (entry) entry.classList.add("is-active");
  }

  function wire() {
    const container = sourceText();
    if (container && !container.dataset.wired) {
      container.dataset.wired = "1";
      container.addEventListener("keydown", onTextKey);
      container.addEventListener("focusin", (event) => {
        const entry = event.target.closest && event.target.closest(".coding");
        if (entry) highlightCoding(entry.dataset.codingId);
      });
    }
    const match = window.location.hash.match(/^#coding-(\d+)$/);
    if (match) highlightCoding(match[1]);
  }

  document.addEventListener("DOMContentLoaded", () => {
    wire();
    const open = $("#open-palette");
    if (open) open.addEventListener("click", openPalette);
    const input = $("#palette-input");
    if (input) {
      input.addEventListener("input", filter);
      input.addEventListener("keydown", onPaletteKey);
    }
    const list = $("#palette-list");
    if (list) {
      list.addEventListener("mousedown", (event) => event.preventDefault()); // keep focus in the input
      list.addEventListener("click", (event) => {
        const option = event.target.closest("[role=option][data-code-id]");
        if (option) { setCurrent(option); toggle(option); }
      });
    }
    const cancel = $("#palette-cancel");
    if (cancel) cancel.addEventListener("click", closePalette);
    const palette = $("#palette");
    if (palette) palette.addEventListener("keydown", (e) => { if (e.key === "Escape") closePalette(); });
    const applyForm = $("#apply-form");
    if (applyForm) {
      applyForm.addEventListener("submit", (event) => {
        // A click on Apply (rather than Enter) still needs the chosen codes as inputs.
        if (!$("#palette-chosen-inputs").children.length) {
          event.preventDefault();
          event.stopImmediatePropagation();
          applyPalette();
        }
      }, true);
    }
  });

  document.addEventListener("htmx:afterSwap", (event) => {
    const body = $("#reader-body");
    if (!body || event.detail.target.id !== "reader-body") return;
    wire();
    readStatus(body);
    const palette = $("#palette");
    if (palette && !palette.hidden) {
      palette.hidden = true;
      $("#palette-chosen-inputs").textContent = "";
    }
    const container = sourceText();
    if (container) container.focus({ preventScroll: true });
  });
})();
