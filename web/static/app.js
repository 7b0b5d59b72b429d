// Small progressive enhancements; every page works without them.
(function () {
  "use strict";
  // Copy buttons on code blocks.
  document.querySelectorAll(".code-block").forEach(function (block) {
    var btn = block.querySelector("button.copy");
    var code = block.querySelector("pre");
    if (!btn || !code || !navigator.clipboard) return;
    btn.hidden = false;
    btn.addEventListener("click", function () {
      navigator.clipboard.writeText(code.innerText.replace(/\n$/, "")).then(function () {
        btn.textContent = "Copied";
        setTimeout(function () { btn.textContent = "Copy"; }, 1500);
      });
    });
  });
  // Actions that cannot be undone ask first (data-confirm on a form, or on
  // one of its buttons). Without JavaScript they run at once.
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (e) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { e.preventDefault(); e.stopImmediatePropagation(); }
    });
  });
  document.querySelectorAll("button[data-confirm]").forEach(function (btn) {
    btn.addEventListener("click", function (e) {
      if (!window.confirm(btn.getAttribute("data-confirm"))) e.preventDefault();
    });
  });
  // Buttons that start slow work say so and cannot be pressed twice.
  document.querySelectorAll("form[data-busy]").forEach(function (form) {
    form.addEventListener("submit", function () {
      var b = form.querySelector("button[type=submit]");
      if (b) { b.disabled = true; b.textContent = form.getAttribute("data-busy"); }
    });
  });
  window.Workshop = window.Workshop || {};
})();
