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
  // Buttons that start slow work say so and cannot be pressed twice.
  document.querySelectorAll("form[data-busy]").forEach(function (form) {
    form.addEventListener("submit", function () {
      var b = form.querySelector("button[type=submit]");
      if (b) { b.disabled = true; b.textContent = form.getAttribute("data-busy"); }
    });
  });
  window.Workshop = window.Workshop || {};
})();
