// Behaviour shared by every page (no inline scripts: the pages' Content-Security-Policy forbids them):
// the site menu folds on narrow screens, "copy" buttons copy a citation, facet forms apply on change,
// and every page says when it is ready (bench/views_render.py and the browser tests wait for it).
(function () {
  "use strict";
  // The site menu: open on wide screens; on a phone a "Menu" button shows and hides it.
  const nav = document.getElementById("site-nav");
  const toggle = nav && nav.querySelector(".menu-toggle");
  const groups = nav && document.getElementById("site-nav-groups");
  if (toggle && groups) {
    const narrow = window.matchMedia("(max-width: 760px)");
    const set = function (open) {
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      groups.classList.toggle("closed", !open);
    };
    const apply = function () {
      toggle.hidden = !narrow.matches;
      set(!narrow.matches);
    };
    toggle.addEventListener("click", function () { set(toggle.getAttribute("aria-expanded") !== "true"); });
    narrow.addEventListener("change", apply);
    apply();
  }

  // <details data-collapse-narrow open>: open on wide screens, folded on a phone (the filters of a list).
  if (window.matchMedia("(max-width: 900px)").matches) {
    document.querySelectorAll("details[data-collapse-narrow]").forEach(function (d) {
      if (!d.querySelector("input:checked") && !d.querySelector("input[type=search][value]:not([value=''])")) d.open = false;
    });
  }

  // <button data-copy="id">: copies the text of the element with that id.
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    button.hidden = !navigator.clipboard;
    button.addEventListener("click", function () {
      const source = document.getElementById(button.dataset.copy);
      if (!source || !navigator.clipboard) return;
      navigator.clipboard.writeText(source.innerText.replace(/\s+/g, " ").trim()).then(function () {
        const before = button.textContent;
        button.textContent = "Copied";
        setTimeout(function () { button.textContent = before; }, 1500);
      }, function () { /* the page still shows the text to copy by hand */ });
    });
  });

  // Forms marked data-autosubmit apply a changed checkbox or select at once (the Apply button stays
  // for keyboard users and for browsers without JavaScript).
  document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
    form.addEventListener("change", function (event) {
      if (event.target.matches("input[type=checkbox], select")) form.requestSubmit ? form.requestSubmit() : form.submit();
    });
  });

  // Pages without a picture to draw are ready when loaded; the views say so themselves (views/common.js).
  if (!document.getElementById("view-config")) {
    const done = function () {
      window.cowkgPageReady = { ms: performance.now() };
      document.body.dataset.pageReady = "true";
    };
    if (document.readyState === "complete") done(); else window.addEventListener("load", done);
  }
})();
